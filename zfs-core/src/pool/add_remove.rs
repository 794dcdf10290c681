//! Growing and shrinking a pool: `zpool add` and `zpool remove`.

use std::mem::offset_of;
use std::path::Path;

use libzfs_sys as sys;

use super::Pool;
use crate::nvlist::NvListRef;
use crate::property::PropSource;
use crate::vdev::VdevSpec;
use crate::{Error, ErrorKind, Result};

/// Options of [`Pool::add`]: `zpool add [-f] [-o ashift=N] [--allow-...]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddOptions {
    ashift: Option<u64>,
    allow_in_use: bool,
    allow_replication_mismatch: bool,
    allow_ashift_mismatch: bool,
}

impl AddOptions {
    /// Every check of `zpool add`; new devices get the pool's `ashift` property if it was set.
    pub fn new() -> AddOptions {
        AddOptions::default()
    }

    /// `-o ashift=N`: the new devices' ashift (9 to 16), instead of the pool's property.
    pub fn ashift(mut self, ashift: u64) -> AddOptions {
        self.ashift = Some(ashift);
        self
    }

    /// `-f`: all three `allow_*` at once.
    pub fn force(self, yes: bool) -> AddOptions {
        self.allow_in_use(yes)
            .allow_replication_mismatch(yes)
            .allow_ashift_mismatch(yes)
    }

    /// `--allow-in-use`: take devices that carry another pool's label.
    pub fn allow_in_use(mut self, yes: bool) -> AddOptions {
        self.allow_in_use = yes;
        self
    }

    /// `--allow-replication-mismatch`: add a vdev less (or more) redundant than the pool's.
    pub fn allow_replication_mismatch(mut self, yes: bool) -> AddOptions {
        self.allow_replication_mismatch = yes;
        self
    }

    /// `--allow-ashift-mismatch`: add a vdev whose ashift differs from the pool's.
    pub fn allow_ashift_mismatch(mut self, yes: bool) -> AddOptions {
        self.allow_ashift_mismatch = yes;
        self
    }
}

/// Progress of a device removal: the `remove:` line of `zpool status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RemovalProgress {
    /// Running, finished or canceled.
    pub state: RemovalState,
    /// The index of the top-level vdev being (or last) removed.
    pub vdev: u64,
    /// Start, in seconds since the epoch.
    pub start_time: u64,
    /// End, in seconds since the epoch (0 while running).
    pub end_time: u64,
    /// Bytes to copy off the device.
    pub to_copy: u64,
    /// Bytes copied so far.
    pub copied: u64,
    /// Memory the mappings of every removed device take.
    pub mapping_memory: u64,
}

/// The state of a device removal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RemovalState {
    /// Copying the device's data to the other vdevs.
    Running,
    /// Done: the device is gone from the pool.
    Finished,
    /// Stopped by [`Pool::stop_remove`]; the device stays.
    Canceled,
}

impl RemovalProgress {
    /// From the root vdev's `removal_stats` (`pool_removal_stat_t`); `None` if no removal ran.
    pub(crate) fn from_tree(tree: &NvListRef) -> Option<RemovalProgress> {
        let s = tree.get_u64_array("removal_stats")?;
        let at = |offset: usize| s.get(offset / 8).copied().unwrap_or(0);
        let state =
            match sys::dsl_scan_state_t(at(offset_of!(sys::pool_removal_stat_t, prs_state)) as _) {
                sys::dsl_scan_state_t::DSS_SCANNING => RemovalState::Running,
                sys::dsl_scan_state_t::DSS_FINISHED => RemovalState::Finished,
                sys::dsl_scan_state_t::DSS_CANCELED => RemovalState::Canceled,
                _ => return None,
            };
        Some(RemovalProgress {
            state,
            vdev: at(offset_of!(sys::pool_removal_stat_t, prs_removing_vdev)),
            start_time: at(offset_of!(sys::pool_removal_stat_t, prs_start_time)),
            end_time: at(offset_of!(sys::pool_removal_stat_t, prs_end_time)),
            to_copy: at(offset_of!(sys::pool_removal_stat_t, prs_to_copy)),
            copied: at(offset_of!(sys::pool_removal_stat_t, prs_copied)),
            mapping_memory: at(offset_of!(sys::pool_removal_stat_t, prs_mapping_memory)),
        })
    }
}

impl Pool<'_> {
    /// Adds the vdevs of `spec` to the pool (`zpool add POOL SPEC`): data vdevs widen it,
    /// and log, special, cache and spare devices are added as such. As `zpool add`, it first
    /// refuses devices that belong to a pool, a vdev whose redundancy differs from the pool's,
    /// and a vdev whose ashift differs from the pool's; [`AddOptions`] lifts each check.
    ///
    /// New devices get the pool's `ashift` property when it was set (at creation, say), so a
    /// pool created with `ashift=12` is widened with 4 KiB sectors too; check with
    /// `testing::label_ashifts` (feature `testing`) or `zdb -l`.
    ///
    /// ```no_run
    /// use zfs_core::{AddOptions, Leaf, PoolName, TopLevel, VdevSpec, Zfs};
    ///
    /// # fn main() -> zfs_core::Result<()> {
    /// let zfs = Zfs::open()?;
    /// let tank = zfs.pool(&PoolName::new("tank")?)?;
    /// // zpool add tank mirror /dev/sdc /dev/sdd log /dev/nvme0n1p1
    /// let spec = VdevSpec::new()
    ///     .vdev(TopLevel::Mirror(vec![Leaf::disk("/dev/sdc"), Leaf::disk("/dev/sdd")]))
    ///     .log(TopLevel::Single(Leaf::disk("/dev/nvme0n1p1")));
    /// tank.add(&spec, &AddOptions::new())?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// - [`ErrorKind::InvalidArgument`] with [`Reason::ReplicationMismatch`](crate::Reason)
    ///   for a redundancy mismatch, and for the layout or paths (see [`VdevSpec::validate`]).
    /// - [`ErrorKind::Busy`] with [`Reason::DeviceInUse`](crate::Reason) for a device of a
    ///   pool.
    /// - [`Reason::AshiftMismatch`](crate::Reason) from the kernel for a different ashift.
    /// - [`ErrorKind::NotFound`], [`ErrorKind::DeviceTooSmall`] for missing or small devices.
    ///
    /// Nothing is added when any check fails.
    #[doc(alias = "zpool_add")]
    pub fn add(&self, spec: &VdevSpec, opts: &AddOptions) -> Result<()> {
        let op = "add to";
        let pool = self.name.as_str();
        spec.validate_devices().map_err(|e| e.with_operation(op))?;
        if let Some(a) = opts.ashift {
            if !(9..=16).contains(&a) {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    op,
                    pool,
                    format!("invalid ashift {a}: only values between 9 and 16 are allowed"),
                ));
            }
        }
        if !opts.allow_in_use {
            for leaf in spec.leaves() {
                self.zfs.refuse_in_use(op, pool, leaf)?;
            }
        }
        if !opts.allow_replication_mismatch {
            self.refresh().map_err(|e| e.with_operation(op))?;
            super::replication::check(pool, self.vdev_tree()?, spec)?;
        }
        let ashift = match opts.ashift {
            Some(a) => Some(a),
            None => self.set_ashift(op)?,
        };
        let partitioned = self.zfs.partition_whole_disks(op, Some(self), spec)?;
        let root = partitioned.to_nvlist_with_ashift(ashift)?;
        let command = || format!("zpool add {pool} {spec}");
        self.zfs.check_logged(op, pool, command, || {
            // SAFETY: live pool handle; a live vdev tree.
            unsafe { zpool_add(self.raw().ptr(), root.as_ptr(), !opts.allow_ashift_mismatch) }
        })
    }

    /// The pool's `ashift` property if it was set (not its default 0), which `zpool add`,
    /// `attach` and `replace` put on new devices: the kernel takes a new vdev's ashift from
    /// its devices only, so without it a pool created with `ashift=12` would grow 512-byte
    /// vdevs on devices that report 512-byte sectors.
    pub(super) fn set_ashift(&self, op: &'static str) -> Result<Option<u64>> {
        let prop = self.property("ashift").map_err(|e| e.with_operation(op))?;
        let value = prop.require_u64("ashift")?;
        Ok((prop.source != PropSource::Default && value != 0).then_some(value))
    }

    /// Removes the device at `device` (`zpool remove POOL DEVICE`). A log, cache or spare
    /// device goes at once; a data vdev (single device or mirror, on a pool without raidz)
    /// is evacuated first, in the background: follow it in [`PoolStatus::removal`] and wait
    /// for it with [`Zfs::wait`](crate::Zfs::wait) and
    /// [`WaitActivity::Remove`](crate::WaitActivity::Remove).
    ///
    /// [`PoolStatus::removal`]: crate::PoolStatus::removal
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the pool has no such device; libzfs's refusal for a vdev
    /// that cannot be removed (a raidz pool, different sector sizes, the last data vdev, not
    /// enough space elsewhere) or while another removal runs.
    #[doc(alias = "zpool_vdev_remove")]
    pub fn remove(&self, device: &Path) -> Result<()> {
        let op = "remove from";
        let pool = self.name.as_str();
        self.fresh(op)?;
        let path = super::devices::path_text(op, pool, device)?;
        let command = || format!("zpool remove {pool} {}", device.display());
        self.zfs.check_logged(op, pool, command, || {
            // SAFETY: live pool handle; NUL-terminated path.
            unsafe { sys::zpool_vdev_remove(self.raw().ptr(), path.as_ptr()) }
        })
    }

    /// Stops the running device removal (`zpool remove -s POOL`); the device stays in the
    /// pool, and what was copied is freed again.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] (or libzfs's refusal) when no removal is running.
    #[doc(alias = "zpool_vdev_remove_cancel")]
    pub fn stop_remove(&self) -> Result<()> {
        let op = "stop removal in";
        let command = || format!("zpool remove -s {}", self.name);
        self.zfs.check_logged(op, self.name.as_str(), command, || {
            // SAFETY: live pool handle.
            unsafe { sys::zpool_vdev_remove_cancel(self.raw().ptr()) }
        })
    }
}

/// `zpool_add`, whose ashift check can be lifted from OpenZFS 2.2.4 on; before, the kernel
/// always checks, as if `allow_ashift_mismatch` were off.
///
/// # Safety
/// A live pool handle and vdev tree.
unsafe fn zpool_add(zhp: *mut sys::zpool_handle_t, root: *mut sys::nvlist_t, check: bool) -> i32 {
    #[cfg(zfs_add_check_ashift)]
    // SAFETY: as the caller promised.
    return unsafe { sys::zpool_add(zhp, root, crate::handle::boolean(check)) };
    #[cfg(not(zfs_add_check_ashift))]
    {
        let _ = check;
        // SAFETY: as the caller promised.
        unsafe { sys::zpool_add(zhp, root) }
    }
}
