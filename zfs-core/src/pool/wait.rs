//! Waiting for a pool's background activity to end (`zpool wait`).

use std::ffi::CString;
use std::path::Path;

use libzfs_sys as sys;

use crate::handle::{lzc, Zfs};
use crate::name::PoolName;
use crate::pool::Pool;
use crate::{Error, ErrorKind, Result};

/// A background activity of a pool that [`Zfs::wait`] can wait for (`zpool wait -t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WaitActivity {
    /// `discard`: a checkpoint being discarded.
    CheckpointDiscard,
    /// `free`: space of destroyed datasets being freed.
    Free,
    /// `initialize`: devices being initialized.
    Initialize,
    /// `replace`: a device being replaced.
    Replace,
    /// `remove`: a device being removed (its data copied elsewhere).
    Remove,
    /// `resilver`: a resilver.
    Resilver,
    /// `scrub`: a scrub (a paused scrub counts as running).
    Scrub,
    /// `trim`: devices being trimmed.
    Trim,
    /// `raidz_expand`: a raidz vdev being widened (OpenZFS 2.3 and later).
    #[cfg(zfs_2_3)]
    RaidzExpand,
}

impl WaitActivity {
    fn raw(self) -> sys::zpool_wait_activity_t {
        use sys::zpool_wait_activity_t as W;
        match self {
            WaitActivity::CheckpointDiscard => W::ZPOOL_WAIT_CKPT_DISCARD,
            WaitActivity::Free => W::ZPOOL_WAIT_FREE,
            WaitActivity::Initialize => W::ZPOOL_WAIT_INITIALIZE,
            WaitActivity::Replace => W::ZPOOL_WAIT_REPLACE,
            WaitActivity::Remove => W::ZPOOL_WAIT_REMOVE,
            WaitActivity::Resilver => W::ZPOOL_WAIT_RESILVER,
            WaitActivity::Scrub => W::ZPOOL_WAIT_SCRUB,
            WaitActivity::Trim => W::ZPOOL_WAIT_TRIM,
            #[cfg(zfs_2_3)]
            WaitActivity::RaidzExpand => W::ZPOOL_WAIT_RAIDZ_EXPAND,
        }
    }
}

impl Zfs {
    /// Blocks until `activity` is no longer running on `pool` (`zpool wait -t ACTIVITY`), and
    /// says whether there was anything to wait for. Waiting on a pool is done in the kernel:
    /// no polling, and other threads' calls go on meanwhile (with their own [`Zfs`]).
    ///
    /// ```no_run
    /// use zfs_core::{PoolName, WaitActivity, Zfs};
    ///
    /// # fn main() -> zfs_core::Result<()> {
    /// let zfs = Zfs::open()?;
    /// let tank = PoolName::new("tank")?;
    /// zfs.pool(&tank)?.scrub()?; // zpool scrub tank
    /// zfs.wait(&tank, WaitActivity::Scrub)?; // zpool wait -t scrub tank
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) if the pool is not imported.
    #[doc(alias = "lzc_wait")]
    pub fn wait(&self, pool: &PoolName, activity: WaitActivity) -> Result<bool> {
        let name = CString::new(pool.as_str()).expect("valid names have no NUL");
        let mut waited = sys::boolean_t::B_FALSE;
        // SAFETY: NUL-terminated name; `waited` lives for the call, which blocks until done.
        let rc = unsafe { sys::lzc_wait(name.as_ptr(), activity.raw(), &mut waited) };
        lzc("wait for", pool.as_str(), rc)?;
        Ok(waited != sys::boolean_t::B_FALSE)
    }
}

impl Pool<'_> {
    /// Blocks until `activity` ([`WaitActivity::Initialize`] or [`WaitActivity::Trim`], the
    /// two that run per device) is no longer running on the device at `device`, and says
    /// whether there was anything to wait for; what `zpool initialize -w POOL DEVICE` waits
    /// for. Work on the pool's other devices goes on.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for any other activity, [`ErrorKind::NotFound`] if the
    /// pool has no such device.
    #[doc(alias = "lzc_wait_tag")]
    pub fn wait_device(&self, device: &Path, activity: WaitActivity) -> Result<bool> {
        let op = "wait for";
        let pool = self.name.as_str();
        if !matches!(activity, WaitActivity::Initialize | WaitActivity::Trim) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                device.display().to_string(),
                format!("{activity:?} runs on the whole pool, not one device: use Zfs::wait"),
            ));
        }
        self.fresh(op)?;
        let path = super::devices::path_text(op, pool, device)?;
        let guid = self.device_guid(op, device, &path)?;
        let name = CString::new(pool).expect("valid names have no NUL");
        let mut waited = sys::boolean_t::B_FALSE;
        // SAFETY: NUL-terminated name; `waited` lives for the call, which blocks until done.
        let rc = unsafe { sys::lzc_wait_tag(name.as_ptr(), activity.raw(), guid, &mut waited) };
        lzc(op, pool, rc)?;
        Ok(waited != sys::boolean_t::B_FALSE)
    }
}

/// Background work of one filesystem that [`Zfs::wait_fs`] can wait for (`zfs wait -t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FsWaitActivity {
    /// `deleteq`: files unlinked while open, whose space is freed in the background.
    DeleteQueue,
}

impl Zfs {
    /// Blocks until `activity` is done on the filesystem `fs` (`zfs wait -t ACTIVITY FS`),
    /// and says whether there was anything to wait for.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) if there is no such filesystem.
    #[doc(alias = "lzc_wait_fs")]
    pub fn wait_fs(&self, fs: &crate::DatasetName, activity: FsWaitActivity) -> Result<bool> {
        let name = CString::new(fs.as_str()).expect("valid names have no NUL");
        let raw = match activity {
            FsWaitActivity::DeleteQueue => sys::zfs_wait_activity_t::ZFS_WAIT_DELETEQ,
        };
        let mut waited = sys::boolean_t::B_FALSE;
        // SAFETY: NUL-terminated name; `waited` lives for the call, which blocks until done.
        let rc = unsafe { sys::lzc_wait_fs(name.as_ptr(), raw, &mut waited) };
        lzc("wait for", fs.as_str(), rc)?;
        Ok(waited != sys::boolean_t::B_FALSE)
    }
}
