//! Mounting and unmounting filesystems, including `legacy` ones at a given path.

use crate::options::UnmountOptions;
use std::ffi::{c_char, c_int, CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::ptr;

use libzfs_sys as sys;

use super::Dataset;
use crate::handle::Zfs;
use crate::name::DatasetName;
use crate::{Error, ErrorKind, Result};

/// Options of [`Dataset::mount_with`] and [`Pool::mount_all`](crate::Pool::mount_all):
/// `zfs mount [-O] [-l] [-o OPTIONS]`. Off by default, as the command without options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountOptions {
    pub(crate) options: Option<String>,
    pub(crate) overlay: bool,
    pub(crate) load_key: bool,
}

impl MountOptions {
    /// No options, as `zfs mount`.
    pub fn new() -> MountOptions {
        MountOptions::default()
    }

    /// `-o OPTIONS`: temporary mount options, comma-separated as `mount -o` takes them
    /// (`ro`, `noexec`, `noatime`, ...); they last until unmounted and show with source
    /// `temporary`.
    pub fn options(mut self, options: &str) -> MountOptions {
        self.options = Some(options.to_owned());
        self
    }

    /// `-O`: mount over a directory that is not empty.
    pub fn overlay(mut self, yes: bool) -> MountOptions {
        self.overlay = yes;
        self
    }

    /// `-l`: load the key of an encrypted filesystem first, from its encryption root's
    /// `keylocation` (never by prompting: a `prompt` location is an error).
    pub fn load_key(mut self, yes: bool) -> MountOptions {
        self.load_key = yes;
        self
    }

    /// The `zfs_mount` flags and options for these options.
    pub(crate) fn raw(&self, op: &'static str, object: &str) -> Result<(c_int, Option<CString>)> {
        // MS_OVERLAY, from libspl's sys/mount.h (not an installed header).
        const MS_OVERLAY: c_int = 0x4;
        let flags = if self.overlay { MS_OVERLAY } else { 0 };
        let options = self
            .options
            .as_deref()
            .map(|o| {
                CString::new(o).map_err(|_| {
                    Error::new(
                        ErrorKind::InvalidArgument,
                        op,
                        object,
                        "mount options contain a NUL byte",
                    )
                })
            })
            .transpose()?;
        Ok((flags, options))
    }
}

/// The `mount(2)` flags of the generic options in a `mount -o` list; other words are left to
/// the file system.
fn mount_flags(options: &str) -> libc::c_ulong {
    let mut flags: libc::c_ulong = 0;
    for word in options.split(',') {
        let (set, clear) = match word {
            "ro" => (libc::MS_RDONLY, 0),
            "rw" => (0, libc::MS_RDONLY),
            "noexec" => (libc::MS_NOEXEC, 0),
            "exec" => (0, libc::MS_NOEXEC),
            "nosuid" => (libc::MS_NOSUID, 0),
            "suid" => (0, libc::MS_NOSUID),
            "nodev" => (libc::MS_NODEV, 0),
            "dev" => (0, libc::MS_NODEV),
            "noatime" => (libc::MS_NOATIME, libc::MS_RELATIME | libc::MS_STRICTATIME),
            "atime" => (0, libc::MS_NOATIME),
            "relatime" => (libc::MS_RELATIME, libc::MS_NOATIME | libc::MS_STRICTATIME),
            "strictatime" => (libc::MS_STRICTATIME, libc::MS_NOATIME | libc::MS_RELATIME),
            "nodiratime" => (libc::MS_NODIRATIME, 0),
            "diratime" => (0, libc::MS_NODIRATIME),
            "sync" => (libc::MS_SYNCHRONOUS, 0),
            "async" => (0, libc::MS_SYNCHRONOUS),
            "dirsync" => (libc::MS_DIRSYNC, 0),
            _ => (0, 0),
        };
        flags = (flags & !clear) | set;
    }
    flags
}

impl Dataset<'_> {
    /// Loads the key of an encrypted filesystem from its encryption root's `keylocation`,
    /// if it is not loaded (`zfs mount -l`).
    fn load_key_for_mount(&self) -> Result<()> {
        if self.key_status()? != crate::KeyStatus::Unavailable {
            return Ok(());
        }
        let root = self
            .encryption_root()?
            .expect("an encrypted dataset has a root");
        let root = self.zfs.open_dataset(
            &root,
            super::DatasetTypes::FILESYSTEM | super::DatasetTypes::VOLUME,
        )?;
        root.load_key_from_location()
    }

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
        self.mount_with(&MountOptions::new())
    }

    /// Mounts the filesystem at its `mountpoint` as [`Dataset::mount`] does, with options
    /// (`zfs mount [-O] [-l] [-o OPTIONS] DATASET`).
    ///
    /// # Errors
    /// As [`Dataset::mount`]; [`ErrorKind::PermissionDenied`] (libzfs's "encryption key
    /// not loaded") for an encrypted filesystem whose key is not loaded, without `load_key`;
    /// errors of [`Dataset::load_key_from_location`] with it.
    #[doc(alias = "zfs_mount")]
    pub fn mount_with(&self, opts: &MountOptions) -> Result<()> {
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
        if opts.load_key {
            self.load_key_for_mount()?;
        }
        let (flags, options) = opts.raw("mount", self.name.as_str())?;
        self.zfs.check("mount", self.name.as_str(), || {
            // SAFETY: live handle; NULL or NUL-terminated options.
            unsafe {
                sys::zfs_mount(
                    self.raw().ptr(),
                    options.as_ref().map_or(ptr::null(), |o| o.as_ptr()),
                    flags,
                )
            }
        })
    }

    /// Mounts the filesystem at `path`, creating the directory if needed: what
    /// `mount -t zfs DATASET PATH` does for `legacy` datasets (and works for others too).
    ///
    /// # Errors
    /// [`ErrorKind::Busy`] if it is mounted already; errors from `mount(2)` otherwise.
    pub fn mount_at(&self, path: &Path) -> Result<()> {
        self.mount_at_with(path, &MountOptions::new())
    }

    /// [`Dataset::mount_at`] with options, as `mount -t zfs -o OPTIONS DATASET PATH`: the
    /// generic ones (`ro`, `noexec`, `nosuid`, `nodev`, `noatime`, `relatime`, `sync`, ...)
    /// become mount flags, and the whole list also goes to ZFS, which reads its own
    /// (`xattr`, `nbmand`, `zfsutil`...) and ignores the rest. `load_key` loads an encrypted
    /// filesystem's key first; `overlay` does not apply to a path mount.
    ///
    /// # Errors
    /// As [`Dataset::mount_at`]; [`ErrorKind::InvalidArgument`] for a NUL byte; errors of
    /// [`Dataset::load_key_from_location`] with `load_key`.
    pub fn mount_at_with(&self, path: &Path, opts: &MountOptions) -> Result<()> {
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
        let (_, data) = opts.raw(op, self.name.as_str())?;
        let flags = mount_flags(opts.options.as_deref().unwrap_or(""));
        if opts.load_key {
            self.load_key_for_mount()?;
        }
        std::fs::create_dir_all(path).map_err(|e| {
            Error::from_errno(
                op,
                path.display().to_string(),
                e.raw_os_error().unwrap_or(libc::EIO),
            )
        })?;
        let src = CString::new(self.name.as_str()).expect("no NUL");
        let fstype = CString::new("zfs").expect("no NUL");
        let data_ptr = data.as_ref().map_or(ptr::null(), |d| d.as_ptr().cast());
        // SAFETY: NUL-terminated strings; `data` is NULL or a NUL-terminated option list
        // that outlives the call.
        let rc =
            unsafe { libc::mount(src.as_ptr(), dst.as_ptr(), fstype.as_ptr(), flags, data_ptr) };
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

impl Zfs {
    /// Mounts the new filesystem `name` as `zfs create` and `zpool create` do, when a
    /// creation asked for it: only a filesystem with `canmount=on` and a path mountpoint (a
    /// volume, `canmount=off|noauto`, `mountpoint=none|legacy` stay unmounted, as the CLI
    /// leaves them). If the mount fails, `undo` takes the creation back and the mount's error
    /// is returned, so a failed call leaves nothing.
    pub(crate) fn mount_created(
        &self,
        name: &DatasetName,
        undo: impl FnOnce(&Zfs) -> Result<()>,
    ) -> Result<()> {
        let mounted = self.dataset(name).and_then(|ds| {
            if ds.kind() != super::DatasetType::Filesystem
                || ds.canmount()? != super::CanMount::On
                || !matches!(ds.mountpoint()?, super::Mountpoint::Path(_))
            {
                return Ok(());
            }
            ds.mount()
        });
        mounted.map_err(|e| {
            let said = e.message().to_owned();
            match undo(self) {
                Ok(()) => e.with_message(format!("{said}; the creation was taken back")),
                Err(u) => e.with_message(format!("{said}; undoing the creation failed: {u}")),
            }
        })
    }
}
