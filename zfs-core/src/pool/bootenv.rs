//! The boot environment block in a pool's labels (what `libzfsbootenv` reads and writes): a
//! few kilobytes per device, outside any dataset, that a boot loader can read and write
//! before the pool is imported: GRUB's environment, FreeBSD's and illumos' "boot once".

use libzfs_sys as sys;

use super::Pool;
use crate::nvlist::{NvList, NvValue};
use crate::{ErrorKind, Result};

/// `vbe_vers`: the two layouts of the block (`sys/vdev_impl.h`, not an installed header).
const VB_RAW: u64 = 0;
const VB_NVLIST: u64 = 1;

/// The most bytes the environment takes once packed (XDR) with its version: the label's
/// 8 KiB pad, less its version word and checksum. GRUB's raw text has a little less room.
pub const BOOTENV_MAX: usize = 8192 - 8 - 40 - 1;

/// A pool's boot environment, in one of the two forms the labels hold.
#[derive(Debug)]
#[non_exhaustive]
pub enum BootEnv {
    /// Version 0: one text block, GRUB's environment map (`grub:envmap`). A pool whose
    /// environment was never written reads as an empty one.
    Raw(String),
    /// Version 1: name/value pairs, by convention `VENDOR:NAME` (`freebsd:bootonce`,
    /// `linux:...`); at most about 8 KiB once packed.
    Pairs(NvList),
}

impl Pool<'_> {
    /// The pool's boot environment, as the first readable label holds it.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the pool is gone.
    #[doc(alias = "zpool_get_bootenv")]
    #[doc(alias = "lzbe_nvlist_get")]
    pub fn bootenv(&self) -> Result<BootEnv> {
        let op = "read boot environment of";
        let mut raw: *mut sys::nvlist_t = std::ptr::null_mut();
        self.zfs.check(op, self.name.as_str(), || {
            // SAFETY: live pool handle; `raw` receives a list we own.
            unsafe { sys::zpool_get_bootenv(self.raw().ptr(), &mut raw) }
        })?;
        if raw.is_null() {
            return Ok(BootEnv::Raw(String::new()));
        }
        // SAFETY: handed to us by zpool_get_bootenv; freed once when dropped.
        let mut env = unsafe { NvList::from_raw(raw) };
        match env.get_u64("version") {
            Some(VB_NVLIST) => {
                env.remove("version");
                Ok(BootEnv::Pairs(env))
            }
            _ => Ok(BootEnv::Raw(env.get_str("grub:envmap").unwrap_or_default())),
        }
    }

    /// Writes the pool's boot environment into every label of every device it can write.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for an environment larger than [`BOOTENV_MAX`] bytes
    /// once packed (nothing is written then), or raw text that holds a NUL.
    #[doc(alias = "zpool_set_bootenv")]
    #[doc(alias = "lzbe_nvlist_set")]
    pub fn set_bootenv(&self, env: &BootEnv) -> Result<()> {
        let op = "write boot environment of";
        let pool = self.name.as_str();
        let mut list = NvList::new();
        match env {
            BootEnv::Raw(text) => {
                list.insert("version", &NvValue::U64(VB_RAW))?;
                list.insert_str("grub:envmap", text)?;
            }
            BootEnv::Pairs(pairs) => {
                list = pairs.to_owned();
                list.insert("version", &NvValue::U64(VB_NVLIST))?;
            }
        }
        let command = || format!("zpool_set_bootenv {pool}");
        self.zfs
            .check_logged(op, pool, command, || {
                // SAFETY: live pool handle; a live list the call only reads.
                unsafe { sys::zpool_set_bootenv(self.raw().ptr(), list.as_ptr()) }
            })
            .map_err(|e| match e.errno() {
                Some(crate::Errno(libc::E2BIG)) => e
                    .with_kind(ErrorKind::InvalidArgument)
                    .with_message(format!(
                        "the environment takes more than {BOOTENV_MAX} bytes once packed"
                    )),
                _ => e,
            })
    }
}
