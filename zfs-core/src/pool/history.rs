//! A pool's history (`zpool history -il`), and zfs-core's own changes written into it the way
//! the `zpool` command writes its command lines.

use std::ffi::{c_int, CString};

use libzfs_sys as sys;

use super::Pool;
use crate::handle::Zfs;
use crate::nvlist::{NvList, NvListRef};
use crate::Result;

/// One record of a pool's history: a command someone ran (`command`), or an internal event
/// the kernel logged (`event`, with the transaction group and dataset it concerns).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HistoryRecord {
    /// When, in seconds since the epoch.
    pub time: u64,
    /// The command line, for the records `zpool history` shows without `-i`.
    pub command: Option<String>,
    /// The internal event (`create`, `set`, `snapshot`, `destroy`, ...), for `-i` records.
    pub event: Option<String>,
    /// The ioctl of an `-i` record logged for one (`ioctl ...` lines).
    pub ioctl: Option<String>,
    /// The transaction group of an internal event.
    pub txg: Option<u64>,
    /// The dataset an internal event concerns.
    pub dataset: Option<String>,
    /// The event's details (`compression=zstd`, ...).
    pub detail: Option<String>,
    /// The user id that ran it (`-l`).
    pub user: Option<u64>,
    /// The host it ran on (`-l`).
    pub host: Option<String>,
}

impl HistoryRecord {
    fn from_list(r: &NvListRef) -> HistoryRecord {
        HistoryRecord {
            time: r.get_u64("history time").unwrap_or(0),
            command: r.get_str("history command"),
            event: r.get_str("internal_name"),
            ioctl: r.get_str("ioctl"),
            txg: r.get_u64("history txg"),
            dataset: r.get_str("dsname"),
            detail: r.get_str("history internal str"),
            user: r.get_u64("history who"),
            host: r.get_str("history hostname"),
        }
    }
}

impl Pool<'_> {
    /// Every record of the pool's history, oldest first (`zpool history -il POOL`): the
    /// commands run against it (by the CLI, and by programs using zfs-core, which log what
    /// they change as `PROGRAM (zfs-core): zpool ...`) and the kernel's internal events.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) if the pool is gone.
    #[doc(alias = "zpool_get_history")]
    pub fn history(&self) -> Result<Vec<HistoryRecord>> {
        let op = "read history of";
        let mut out = Vec::new();
        let mut offset: u64 = 0;
        let mut eof = sys::boolean_t::B_FALSE;
        while eof == sys::boolean_t::B_FALSE {
            let mut raw: *mut sys::nvlist_t = std::ptr::null_mut();
            self.zfs.check(op, self.name.as_str(), || {
                // SAFETY: live pool handle; the out-parameters live for the call; `raw` is a
                // list we own when set.
                unsafe { sys::zpool_get_history(self.raw().ptr(), &mut raw, &mut offset, &mut eof) }
            })?;
            if raw.is_null() {
                continue;
            }
            // SAFETY: handed to us by zpool_get_history; freed once when dropped.
            let chunk = unsafe { NvList::from_raw(raw) };
            let records = chunk.get_list_array("history record").unwrap_or_default();
            out.extend(records.into_iter().map(HistoryRecord::from_list));
        }
        Ok(out)
    }
}

impl Zfs {
    /// Writes `command` into the history of the pool that the last successful call on this
    /// thread changed, as the `zpool` command writes its command line after it succeeds:
    /// `PROGRAM (zfs-core): COMMAND`. Best effort: a change is never undone because its
    /// history line could not be written.
    pub(crate) fn log_history(&self, command: &str) {
        let program = std::env::args_os()
            .next()
            .map(std::path::PathBuf::from)
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "unknown".into());
        let Ok(message) = CString::new(format!("{program} (zfs-core): {command}")) else {
            return;
        };
        // SAFETY: live handle; a NUL-terminated message the call copies.
        let _: c_int = unsafe { sys::zpool_log_history(self.raw().ptr(), message.as_ptr()) };
    }

    /// [`Zfs::check`], and on success [`Zfs::log_history`] of the command it amounts to.
    pub(crate) fn check_logged(
        &self,
        operation: &'static str,
        object: &str,
        command: impl FnOnce() -> String,
        call: impl FnOnce() -> c_int,
    ) -> Result<()> {
        self.check(operation, object, call)?;
        self.log_history(&command());
        Ok(())
    }
}
