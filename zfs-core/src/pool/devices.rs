//! Changing a pool's devices: `zpool attach`, `zpool detach` and `zpool replace`.

use std::ffi::CString;
use std::path::Path;

use libzfs_sys as sys;

use super::Pool;
use crate::vdev::{Leaf, TopLevel, VdevSpec};
use crate::{Error, ErrorKind, Result};

/// Options of [`Pool::attach`] and [`Pool::replace`]: `zpool attach [-f] [-s]`,
/// `zpool replace [-f] [-s]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AttachOptions {
    force: bool,
    sequential: bool,
}

impl AttachOptions {
    /// Refuse a device that belongs to another pool; heal by a full resilver.
    pub fn new() -> AttachOptions {
        AttachOptions::default()
    }

    /// `-f`: use the device even if its label says it belongs to an exported pool.
    pub fn force(mut self, yes: bool) -> AttachOptions {
        self.force = yes;
        self
    }

    /// `-s`: rebuild the new device sequentially (faster; a scrub verifies it afterwards).
    pub fn sequential(mut self, yes: bool) -> AttachOptions {
        self.sequential = yes;
        self
    }
}

/// Options of [`Pool::replace`]: the same flags as `zpool attach`.
pub type ReplaceOptions = AttachOptions;

pub(super) fn path_text(op: &'static str, pool: &str, path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| {
        Error::new(
            ErrorKind::InvalidArgument,
            op,
            pool,
            format!("device path {} contains a NUL byte", path.display()),
        )
    })
}

impl Pool<'_> {
    /// Attaches `new` to the device at `device` (`zpool attach POOL DEVICE NEW`): a single
    /// device becomes a two-way mirror, a mirror gains a side. The new device is resilvered in
    /// the background: wait for it with [`Zfs::wait`](crate::Zfs::wait) and
    /// [`WaitActivity::Resilver`](crate::WaitActivity::Resilver).
    ///
    /// ```no_run
    /// use zfs_core::{AttachOptions, Leaf, PoolName, WaitActivity, Zfs};
    ///
    /// # fn main() -> zfs_core::Result<()> {
    /// let zfs = Zfs::open()?;
    /// let tank = PoolName::new("tank")?;
    /// // zpool attach tank /dev/sda2 /dev/sdb2, then zpool wait -t resilver tank
    /// zfs.pool(&tank)?.attach(
    ///     "/dev/sda2".as_ref(),
    ///     &Leaf::disk("/dev/sdb2"),
    ///     &AttachOptions::new(),
    /// )?;
    /// zfs.wait(&tank, WaitActivity::Resilver)?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// - [`ErrorKind::NotFound`]: no device `device` in the pool, or `new` does not exist.
    /// - [`ErrorKind::DeviceTooSmall`] and [`ErrorKind::InvalidArgument`]: see
    ///   [`VdevSpec::validate`]; the kernel also refuses a device smaller than `device`.
    /// - [`ErrorKind::Busy`]: `new` belongs to another pool (exported ones only without
    ///   `force`), or is already in this one.
    #[doc(alias = "zpool_vdev_attach")]
    pub fn attach(&self, device: &Path, new: &Leaf, opts: &AttachOptions) -> Result<()> {
        self.attach_leaf("attach to", device, new, opts, false)
    }

    /// Replaces the device at `device` with `new` (`zpool replace POOL DEVICE NEW`), or with
    /// a fresh disk at the same path when `new` is `None` (`zpool replace POOL DEVICE`, after
    /// swapping the disk). `new` is resilvered in the background and `device` leaves the pool
    /// when that is done: wait for it with [`Zfs::wait`](crate::Zfs::wait) and
    /// [`WaitActivity::Replace`](crate::WaitActivity::Replace). The new device gets the pool's
    /// `ashift` property when it was set, as with [`Pool::add`].
    ///
    /// `new` may be one of the pool's hot spares (`Leaf::file` or `Leaf::disk` of its path):
    /// it stands in (`INUSE`) until `device` is replaced for good or detached, and goes back
    /// to the spares when it is detached itself. For a device of a dRAID, `new` may be one
    /// of its distributed spares ([`Leaf::distributed_spare`]), rebuilt sequentially.
    ///
    /// # Errors
    /// As [`Pool::attach`]; also libzfs's refusal for a device smaller than `device`, or
    /// for a distributed spare of another dRAID.
    #[doc(alias = "zpool_vdev_attach")]
    pub fn replace(&self, device: &Path, new: Option<&Leaf>, opts: &ReplaceOptions) -> Result<()> {
        let op = "replace in";
        let in_place;
        let new = match new {
            Some(leaf) => leaf,
            None => {
                in_place = self.same_slot(op, device)?;
                &in_place
            }
        };
        self.attach_leaf(op, device, new, opts, true)
    }

    /// `zpool_vdev_attach` for both: checks, the pool's ashift, the call.
    fn attach_leaf(
        &self,
        op: &'static str,
        device: &Path,
        new: &Leaf,
        opts: &AttachOptions,
        replacing: bool,
    ) -> Result<()> {
        let pool = self.name.as_str();
        let spec = VdevSpec::new().vdev(TopLevel::Single(new.clone()));
        spec.validate().map_err(|e| e.with_operation(op))?;
        // As `zpool replace`: the device itself (replaced in place), a distributed spare and
        // one of the pool's own hot spares carry no foreign label to protect.
        let in_place = replacing
            && (new.path() == device
                || (new.is_whole_disk() && new.partition_of_whole_disk().path() == device));
        let spare = new.is_distributed_spare() || (replacing && self.has_hot_spare(new.path())?);
        if !opts.force && !in_place && !spare {
            self.zfs.refuse_in_use(op, pool, new)?;
        }
        self.fresh(op)?;
        let old = path_text(op, pool, device)?;
        let spec = self.zfs.partition_whole_disks(op, Some(self), &spec)?;
        let new_path = path_text(op, pool, spec.leaves().next().expect("one leaf").path())?;
        let root = spec.to_nvlist_with_ashift(self.set_ashift(op)?)?;
        let command = || {
            let verb = if replacing { "replace" } else { "attach" };
            let flags = match (opts.force, opts.sequential) {
                (false, false) => "",
                (true, false) => " -f",
                (false, true) => " -s",
                (true, true) => " -f -s",
            };
            let (old, new) = (device.display(), new.path().display());
            format!("zpool {verb}{flags} {pool} {old} {new}")
        };
        self.zfs.check_logged(op, pool, command, || {
            // SAFETY: live pool handle; NUL-terminated paths; a live vdev tree.
            unsafe {
                sys::zpool_vdev_attach(
                    self.raw().ptr(),
                    old.as_ptr(),
                    new_path.as_ptr(),
                    root.as_ptr(),
                    i32::from(replacing),
                    crate::handle::boolean(opts.sequential),
                )
            }
        })
    }

    /// The new device for a replacement in place of `device` (a new disk in the old one's
    /// slot): the same file or device; for a whole disk the pool partitioned (`whole_disk`
    /// in its configuration), that disk, to be partitioned again as `zpool replace` does.
    fn same_slot(&self, op: &'static str, device: &Path) -> Result<Leaf> {
        let path = path_text(op, self.name.as_str(), device)?;
        let config = self.device_config(op, device, &path)?;
        if config.get_str("type").as_deref() == Some("file") {
            return Ok(Leaf::file(device));
        }
        if config.get_u64("whole_disk") == Some(1) {
            if let Some(disk) = crate::vdev::disk_of_partition(device) {
                return Ok(Leaf::whole_disk(disk));
            }
        }
        Ok(Leaf::disk(device))
    }

    /// Whether `path` is one of the pool's hot spares.
    fn has_hot_spare(&self, path: &Path) -> Result<bool> {
        let status = self.status()?;
        Ok(status.spares.iter().any(|s| Path::new(&s.name) == path))
    }

    /// Detaches the device at `device` from its mirror (`zpool detach POOL DEVICE`); a
    /// two-way mirror becomes a single device.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the pool has no such device; libzfs's refusal (kind
    /// [`ErrorKind::InvalidArgument`] or [`ErrorKind::Busy`]) for a device that is not in a
    /// mirror or is the only valid copy of its data.
    #[doc(alias = "zpool_vdev_detach")]
    pub fn detach(&self, device: &Path) -> Result<()> {
        let op = "detach from";
        let pool = self.name.as_str();
        self.fresh(op)?;
        let path = path_text(op, pool, device)?;
        let command = || format!("zpool detach {pool} {}", device.display());
        self.zfs.check_logged(op, pool, command, || {
            // SAFETY: live pool handle; NUL-terminated path.
            unsafe { sys::zpool_vdev_detach(self.raw().ptr(), path.as_ptr()) }
        })
    }
}
