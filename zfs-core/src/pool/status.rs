//! `zpool status`: the vdev tree with states and error counters.

use std::ffi::CStr;
use std::mem::offset_of;
use std::ptr;

use libzfs_sys as sys;

use super::add_remove::RemovalProgress;
use super::condition::StatusCode;
use super::health::{Health, VdevKind};
use super::initialize_trim::DeviceProgress;
use super::maintenance::ScanProgress;
use super::Pool;
use crate::nvlist::NvListRef;
use crate::Result;

/// One vdev in the tree, as a line of `zpool status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VdevStatus {
    /// `/tmp/vdev0`, `mirror-0`, or the pool's name for the root.
    pub name: String,
    /// What it is: file, disk, mirror, raidz, the root, ...
    pub kind: VdevKind,
    /// Its GUID, unique in the pool, the same across renames of its device (`zpool status
    /// -g`); for the root, the pool's GUID.
    pub guid: u64,
    /// Its state as `zpool status` says it; for hot spares in [`PoolStatus::spares`],
    /// [`Health::Available`] (ready) or [`Health::InUse`] (replacing a device).
    pub state: Health,
    /// Read errors.
    pub read_errors: u64,
    /// Write errors.
    pub write_errors: u64,
    /// Checksum errors.
    pub checksum_errors: u64,
    /// Whether this is a separate log device.
    pub is_log: bool,
    /// The allocation class of a top-level vdev outside the normal one (`special`,
    /// `dedup` in `zpool status`); `None` for normal data vdevs, logs and leaves.
    pub allocation_class: Option<AllocationClass>,
    /// The vdev's allocation ashift (log2 of its smallest block) as the kernel uses it, on
    /// top-level vdevs (`None` on leaves of mirrors and raidz, on cache devices and spares).
    /// This, not the `ashift` pool property, is what the disks were labelled with.
    pub ashift: Option<u64>,
    /// Slow I/Os (`zpool status -s`): I/Os that took longer than `zio_slow_io_ms`.
    pub slow_ios: u64,
    /// Initializing, on a leaf where it ran ([`Pool::initialize`], `zpool status -i`).
    pub initialize: Option<DeviceProgress>,
    /// Trimming, on a leaf where it ran ([`Pool::trim`], `zpool status -t`).
    pub trim: Option<DeviceProgress>,
    /// Children (for mirrors, raidz and the root).
    pub children: Vec<VdevStatus>,
}

/// The allocation class a vdev serves, besides normal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AllocationClass {
    /// Metadata and small blocks (`special`).
    Special,
    /// The deduplication table (`dedup`).
    Dedup,
}

/// A pool's status: its vdevs, cache devices, spares and last scan (`zpool status`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStatus {
    /// The root of the vdev tree; its state is the pool's health.
    pub root: VdevStatus,
    /// L2ARC cache devices.
    pub cache: Vec<VdevStatus>,
    /// Hot spares.
    pub spares: Vec<VdevStatus>,
    /// The last or current scrub or resilver, if any ran.
    pub scan: Option<ScanProgress>,
    /// The last or current device removal, if any ran ([`Pool::remove`]).
    pub removal: Option<RemovalProgress>,
    /// The pool's most serious problem (`status:` and `action:`), [`StatusCode::Ok`] if none.
    pub code: StatusCode,
    /// The id of the problem's documentation page (`ZFS-8000-xx`; `see:` in `zpool status`).
    pub message_id: Option<String>,
    /// Roughly how many data errors the kernel has logged (0 when there are none): list them
    /// with [`Pool::errors`].
    pub error_count: u64,
}

impl Pool<'_> {
    /// The pool's current status, read fresh from the kernel (`zpool status POOL`).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) if the pool is gone.
    pub fn status(&self) -> Result<PoolStatus> {
        self.refresh()?;
        let (code, message_id) = self.condition();
        let tree = self.vdev_tree()?;
        let group = |key, spare| {
            tree.get_list_array(key)
                .unwrap_or_default()
                .into_iter()
                .map(|v| vdev(v, None, spare))
                .collect()
        };
        Ok(PoolStatus {
            root: vdev(tree, Some(self.name.as_str()), false),
            cache: group("l2cache", false),
            spares: group("spares", true),
            scan: ScanProgress::from_tree(tree),
            removal: RemovalProgress::from_tree(tree),
            code,
            message_id,
            error_count: self.config()?.get_u64("error_count").unwrap_or(0),
        })
    }

    /// The pool's cached configuration (call `refresh` first for fresh statistics).
    ///
    /// Crate-internal on purpose: the list is owned by the handle and replaced by the next
    /// refresh, so every caller copies what it needs before refreshing again.
    pub(crate) fn config(&self) -> Result<&NvListRef> {
        // SAFETY: live pool handle; the config is owned by it.
        let config = unsafe { sys::zpool_get_config(self.raw().ptr(), ptr::null_mut()) };
        if config.is_null() {
            let name = self.name.as_str();
            return Err(self.zfs.last_error("read configuration of", name));
        }
        // SAFETY: `config` is live until the handle's next refresh; see above.
        Ok(unsafe { NvListRef::from_ptr(config) })
    }

    /// The vdev tree from the cached configuration; same rules as [`Pool::config`].
    pub(crate) fn vdev_tree(&self) -> Result<&NvListRef> {
        self.config()?.get_list("vdev_tree").ok_or_else(|| {
            let name = self.name.as_str();
            crate::Error::new(
                crate::ErrorKind::Other,
                "read configuration of",
                name,
                "no vdev tree",
            )
        })
    }
}

/// One vdev's status; `spare` for the pool's list of hot spares, whose healthy members read
/// `AVAIL` and whose active ones `INUSE`, as in `zpool status`.
fn vdev(tree: &NvListRef, root_name: Option<&str>, spare: bool) -> VdevStatus {
    let kind = VdevKind::from_config(
        &tree.get_str("type").unwrap_or_default(),
        tree.get_u64("nparity"),
    );
    let name = match (root_name, tree.get_str("path")) {
        (Some(n), _) => n.to_owned(),
        (None, Some(path)) => path,
        (None, None) => {
            let base = match &kind {
                VdevKind::Raidz(p) => format!("raidz{p}"),
                // As `zpool status` names it: draidP:Dd:Cc:Ss.
                VdevKind::Draid => format!(
                    "draid{}:{}d:{}c:{}s",
                    tree.get_u64("nparity").unwrap_or(0),
                    tree.get_u64("draid_ndata").unwrap_or(0),
                    tree.get_list_array("children").map_or(0, |c| c.len()),
                    tree.get_u64("draid_nspares").unwrap_or(0),
                ),
                k => k.as_str().to_owned(),
            };
            format!("{base}-{}", tree.get_u64("id").unwrap_or(0))
        }
    };
    let stats = tree.get_u64_array("vdev_stats").unwrap_or_default();
    let stat = |offset: usize| stats.get(offset / 8).copied().unwrap_or(0);
    let (state, aux) = (
        stat(offset_of!(sys::vdev_stat_t, vs_state)),
        stat(offset_of!(sys::vdev_stat_t, vs_aux)),
    );
    // SAFETY: zpool_state_to_name returns a static string for any pair of values.
    let state_name = unsafe {
        CStr::from_ptr(sys::zpool_state_to_name(
            sys::vdev_state_t(state as _),
            sys::vdev_aux_t(aux as _),
        ))
    };
    let state_name = if spare && aux == u64::from(sys::vdev_aux_t::VDEV_AUX_SPARED.0) {
        Health::InUse
    } else if spare && state == u64::from(sys::vdev_state_t::VDEV_STATE_HEALTHY.0) {
        Health::Available
    } else {
        Health::from_libzfs(&state_name.to_string_lossy())
    };
    VdevStatus {
        name,
        kind,
        guid: tree.get_u64("guid").unwrap_or(0),
        state: state_name,
        read_errors: stat(offset_of!(sys::vdev_stat_t, vs_read_errors)),
        write_errors: stat(offset_of!(sys::vdev_stat_t, vs_write_errors)),
        checksum_errors: stat(offset_of!(sys::vdev_stat_t, vs_checksum_errors)),
        is_log: tree.get_u64("is_log") == Some(1),
        allocation_class: match tree.get_str("alloc_bias").as_deref() {
            Some("special") => Some(AllocationClass::Special),
            Some("dedup") => Some(AllocationClass::Dedup),
            _ => None,
        },
        ashift: tree.get_u64("ashift"),
        slow_ios: stat(offset_of!(sys::vdev_stat_t, vs_slow_ios)),
        initialize: DeviceProgress::from_stats(
            stat(offset_of!(sys::vdev_stat_t, vs_initialize_state)),
            [
                stat(offset_of!(sys::vdev_stat_t, vs_initialize_bytes_done)),
                stat(offset_of!(sys::vdev_stat_t, vs_initialize_bytes_est)),
                stat(offset_of!(sys::vdev_stat_t, vs_initialize_action_time)),
                stat(offset_of!(sys::vdev_stat_t, vs_initialize_errors)),
            ],
        ),
        trim: DeviceProgress::from_stats(
            stat(offset_of!(sys::vdev_stat_t, vs_trim_state)),
            [
                stat(offset_of!(sys::vdev_stat_t, vs_trim_bytes_done)),
                stat(offset_of!(sys::vdev_stat_t, vs_trim_bytes_est)),
                stat(offset_of!(sys::vdev_stat_t, vs_trim_action_time)),
                stat(offset_of!(sys::vdev_stat_t, vs_trim_errors)),
            ],
        ),
        // A removed log device leaves a hole in the configuration, and a removed data vdev an
        // indirect vdev that maps its old blocks; `zpool status` shows neither.
        children: tree
            .get_list_array("children")
            .unwrap_or_default()
            .into_iter()
            .filter(|c| {
                c.get_u64("is_hole") != Some(1)
                    && !matches!(c.get_str("type").as_deref(), Some("hole" | "indirect"))
            })
            .map(|c| vdev(c, None, false))
            .collect(),
    }
}
