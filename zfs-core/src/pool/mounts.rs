//! Every filesystem of a pool mounted or unmounted at once, in the order `zfs mount -a`
//! uses (parents before children, however the mountpoints nest).

use libzfs_sys as sys;

use super::Pool;
use crate::dataset::MountOptions;
use crate::Result;

impl Pool<'_> {
    /// Mounts every filesystem of the pool that has a mountpoint and `canmount=on`, parents
    /// before children (what `zfs mount -a` does for one pool, and `zpool import` without
    /// `-N`), with `opts` for each. With [`MountOptions::load_key`], the keys of its
    /// encryption roots are loaded first from their `keylocation`; without it, filesystems
    /// whose key is not loaded are left unmounted. Those already mounted are left as they are.
    ///
    /// # Errors
    /// The first filesystem that fails to mount (the others are still tried); key loading
    /// errors as [`Dataset::load_key_from_location`](crate::Dataset::load_key_from_location).
    #[doc(alias = "zpool_enable_datasets")]
    pub fn mount_all(&self, opts: &MountOptions) -> Result<()> {
        let op = "mount filesystems of";
        let pool = self.name.as_str();
        if opts.load_key {
            self.zfs.load_pool_keys(&self.name)?;
        }
        let (flags, options) = opts.raw(op, pool)?;
        let options = options.as_ref().map_or(std::ptr::null(), |o| o.as_ptr());
        self.zfs.check(op, pool, || {
            // SAFETY: live pool handle; NULL or NUL-terminated options.
            unsafe { enable_datasets(self.raw().ptr(), options, flags) }
        })
    }

    /// Unmounts every filesystem of the pool, children before parents (what `zpool export`
    /// does first); `force` unmounts those with files open (`-f`).
    ///
    /// # Errors
    /// [`ErrorKind::Busy`](crate::ErrorKind::Busy) for a filesystem in use, without
    /// `force`; what was unmounted before it stays unmounted.
    #[doc(alias = "zpool_disable_datasets")]
    pub fn unmount_all(&self, force: bool) -> Result<()> {
        self.zfs
            .check("unmount filesystems of", self.name.as_str(), || {
                // SAFETY: live pool handle.
                unsafe {
                    sys::zpool_disable_datasets(self.raw().ptr(), crate::handle::boolean(force))
                }
            })
    }
}

/// `zpool_enable_datasets`, which takes the number of mounting threads from OpenZFS 2.3 (0: its
/// own choice, as before).
#[cfg(zfs_2_3)]
unsafe fn enable_datasets(
    zhp: *mut sys::zpool_handle_t,
    options: *const std::ffi::c_char,
    flags: std::ffi::c_int,
) -> std::ffi::c_int {
    // SAFETY: the caller passes a live pool handle and NULL or NUL-terminated options.
    unsafe { sys::zpool_enable_datasets(zhp, options, flags, 0) }
}

/// `zpool_enable_datasets` before OpenZFS 2.3.
#[cfg(not(zfs_2_3))]
unsafe fn enable_datasets(
    zhp: *mut sys::zpool_handle_t,
    options: *const std::ffi::c_char,
    flags: std::ffi::c_int,
) -> std::ffi::c_int {
    // SAFETY: the caller passes a live pool handle and NULL or NUL-terminated options.
    unsafe { sys::zpool_enable_datasets(zhp, options, flags) }
}
