//! Mounting and unmounting filesystems, including `legacy` ones at a given path.

use crate::options::UnmountOptions;
use std::ffi::{c_char, CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::ptr;

use libzfs_sys as sys;

use super::Dataset;
use crate::{Error, ErrorKind, Result};

impl Dataset<'_> {
    /// Where the filesystem is mounted, if it is (as `zfs mount` without arguments lists it).
    #[doc(alias = "zfs_is_mounted")]
    pub fn mounted_at(&self) -> Option<PathBuf> {
        let mut at: *mut c_char = ptr::null_mut();
        // SAFETY: live handle; `at` receives a malloc'd path or stays NULL.
        let mounted =
            unsafe { sys::zfs_is_mounted(self.raw().ptr(), &mut at) } != sys::boolean_t::B_FALSE;
        if at.is_null() {
            return None;
        }
        // SAFETY: a malloc'd NUL-terminated string we copy and free once. The bytes are kept
        // as they are (a path need not be UTF-8), so unmount passes the kernel the same path.
        let path = PathBuf::from(std::ffi::OsStr::from_bytes(
            unsafe { CStr::from_ptr(at) }.to_bytes(),
        ));
        // SAFETY: as above.
        unsafe { libc::free(at.cast()) };
        mounted.then_some(path)
    }

    /// Mounts the filesystem at its `mountpoint` (under the pool's altroot, if any), like
    /// `zfs mount`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for `mountpoint=legacy` or `none` (use
    /// [`Dataset::mount_at`]); [`ErrorKind::Busy`] if something is mounted there.
    #[doc(alias = "zfs_mount")]
    pub fn mount(&self) -> Result<()> {
        match self.mountpoint()? {
            super::Mountpoint::Path(_) => {}
            other => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    "mount",
                    self.name.as_str(),
                    format!("mountpoint is {other}; mount it at a path with mount_at"),
                ))
            }
        }
        self.zfs.check("mount", self.name.as_str(), || {
            // SAFETY: live handle; default options.
            unsafe { sys::zfs_mount(self.raw().ptr(), ptr::null(), 0) }
        })
    }

    /// Mounts the filesystem at `path`, creating the directory if needed: what
    /// `mount -t zfs DATASET PATH` does for `legacy` datasets (and works for others too).
    ///
    /// # Errors
    /// [`ErrorKind::Busy`] if it is mounted already; errors from `mount(2)` otherwise.
    pub fn mount_at(&self, path: &Path) -> Result<()> {
        let op = "mount";
        if let Some(at) = self.mounted_at() {
            return Err(Error::new(
                ErrorKind::Busy,
                op,
                self.name.as_str(),
                format!("already mounted at {}", at.display()),
            ));
        }
        // A NUL byte is refused before anything touches the file system (std would report
        // it as an I/O error from create_dir_all).
        let dst = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| {
            Error::new(
                ErrorKind::InvalidArgument,
                op,
                self.name.as_str(),
                "mount path contains a NUL byte",
            )
        })?;
        std::fs::create_dir_all(path).map_err(|e| {
            Error::from_errno(
                op,
                path.display().to_string(),
                e.raw_os_error().unwrap_or(libc::EIO),
            )
        })?;
        let src = CString::new(self.name.as_str()).expect("no NUL");
        let fstype = CString::new("zfs").expect("no NUL");
        // SAFETY: NUL-terminated strings; no data options.
        let rc =
            unsafe { libc::mount(src.as_ptr(), dst.as_ptr(), fstype.as_ptr(), 0, ptr::null()) };
        if rc != 0 {
            let errno = crate::handle::last_errno();
            return Err(Error::from_errno(op, self.name.as_str(), errno));
        }
        Ok(())
    }

    /// Unmounts the filesystem wherever it is mounted (`zfs unmount`).
    ///
    /// # Errors
    /// [`ErrorKind::Busy`] if it is in use; [`ErrorKind::InvalidArgument`] if it is not
    /// mounted.
    #[doc(alias = "zfs_unmount")]
    pub fn unmount(&self, opts: &UnmountOptions) -> Result<()> {
        let op = "unmount";
        let Some(at) = self.mounted_at() else {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                self.name.as_str(),
                "not currently mounted",
            ));
        };
        let flags = if opts.force { libc::MNT_FORCE } else { 0 };
        let dir = CString::new(at.as_os_str().as_encoded_bytes())
            .expect("paths from the mount table have no NUL");
        // SAFETY: NUL-terminated path.
        let rc = unsafe { libc::umount2(dir.as_ptr(), flags) };
        if rc != 0 {
            return Err(Error::from_errno(
                op,
                self.name.as_str(),
                crate::handle::last_errno(),
            ));
        }
        // libzfs caches the mount table; tell it.
        // SAFETY: live library handle and NUL-terminated name.
        unsafe {
            sys::libzfs_mnttab_remove(
                self.zfs.raw().ptr(),
                CString::new(self.name.as_str()).expect("no NUL").as_ptr(),
            )
        };
        Ok(())
    }
}
