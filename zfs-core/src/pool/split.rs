//! `zpool split`: a new pool from one side of each mirror.

use std::ffi::CString;
use std::path::PathBuf;

use libzfs_sys as sys;

use super::Pool;
use crate::name::PoolName;
use crate::nvlist::NvList;
use crate::vdev::{Leaf, TopLevel, VdevSpec};
use crate::{Error, ErrorKind, Result};

/// Options of [`Pool::split`]: `zpool split [-R ROOT] POOL NEWPOOL [DEVICE...]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SplitOptions {
    devices: Vec<PathBuf>,
    import: bool,
}

impl SplitOptions {
    /// The last device of each mirror goes to the new pool, which is left exported.
    pub fn new() -> SplitOptions {
        SplitOptions::default()
    }

    /// Take this device (one per mirror at most) for the new pool instead of the mirror's
    /// last; may be given once per mirror.
    pub fn device(mut self, path: impl Into<PathBuf>) -> SplitOptions {
        self.devices.push(path.into());
        self
    }

    /// Leave the new pool imported (without mounting its datasets) instead of exported.
    pub fn import(mut self, yes: bool) -> SplitOptions {
        self.import = yes;
        self
    }
}

impl Pool<'_> {
    /// Splits a pool made only of mirrors (`zpool split POOL NEWPOOL`): one device of each
    /// mirror leaves it and becomes the pool `new`, with the same data as of the split. The
    /// new pool is exported (import it with [`Zfs::import_pool`](crate::Zfs::import_pool))
    /// unless [`SplitOptions::import`]. Log devices stay behind.
    ///
    /// # Errors
    /// [`ErrorKind::AlreadyExists`] if a pool named `new` is imported;
    /// [`ErrorKind::InvalidArgument`] for a pool that is not all mirrors, or devices that
    /// are not one per mirror; [`ErrorKind::Busy`] while a resilver runs.
    #[doc(alias = "zpool_vdev_split")]
    pub fn split(&self, new: &PoolName, opts: &SplitOptions) -> Result<()> {
        let op = "split";
        let pool = self.name.as_str();
        if self.zfs.pool_exists(new) {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                op,
                new.as_str(),
                "a pool with that name is imported",
            ));
        }
        self.fresh(op)?;
        let cname = CString::new(new.as_str()).expect("pool names have no NUL");
        // NULL: libzfs picks the last device of each mirror.
        let mut root = if opts.devices.is_empty() {
            std::ptr::null_mut()
        } else {
            let mut spec = VdevSpec::new();
            for d in &opts.devices {
                spec = spec.vdev(TopLevel::Single(if d.is_file() {
                    Leaf::file(d)
                } else {
                    Leaf::disk(d)
                }));
            }
            spec.to_nvlist()?.into_raw()
        };
        let props = NvList::new();
        // SAFETY: splitflags_t is a plain C struct (bit fields and an int); zero is "none".
        let mut flags: sys::splitflags_t = unsafe { std::mem::zeroed() };
        flags.set_import(u32::from(opts.import));
        let command = || format!("zpool split {pool} {new}");
        let result = self.zfs.check_logged(op, pool, command, || {
            // SAFETY: live pool handle; a NUL-terminated name libzfs only reads; `root` is
            // NULL or a list we own, which libzfs may replace with one of its own.
            unsafe {
                sys::zpool_vdev_split(
                    self.raw().ptr(),
                    cname.as_ptr().cast_mut(),
                    &mut root,
                    props.as_ptr(),
                    flags,
                )
            }
        });
        if !root.is_null() {
            // SAFETY: ours or handed back by libzfs; freed once here.
            drop(unsafe { NvList::from_raw(root) });
        }
        result
    }
}
