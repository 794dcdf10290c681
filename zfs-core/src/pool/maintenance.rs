//! Scrubs, sync, checkpoints and reguid.

use std::ffi::CString;
use std::mem::offset_of;
use std::ptr;

use libzfs_sys as sys;

use super::Pool;
use crate::handle::lzc;
use crate::nvlist::{NvList, NvListRef};
use crate::Result;

/// Where a scrub or resilver stands, as the `scan:` line of `zpool status` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScanState {
    /// Running.
    Scanning,
    /// Running, but paused (`zpool scrub -p`); [`Pool::scrub`] resumes it.
    Paused,
    /// Ran to the end.
    Finished,
    /// Stopped before the end.
    Canceled,
    /// No scan has run.
    None,
}

/// Progress of the last or current scrub or resilver: the `scan:` line of `zpool status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScanProgress {
    /// `true` for a resilver, `false` for a scrub.
    pub is_resilver: bool,
    /// Its state.
    pub state: ScanState,
    /// Bytes to examine in all.
    pub to_examine: u64,
    /// Bytes examined so far.
    pub examined: u64,
    /// Errors found.
    pub errors: u64,
    /// Start, in seconds since the epoch.
    pub start_time: u64,
    /// End, in seconds since the epoch (0 while running).
    pub end_time: u64,
    /// Bytes skipped (already known good, e.g. by a sequential rebuild).
    pub skipped: u64,
    /// Bytes read and verified so far (the `issued` of `zpool status`).
    pub issued: u64,
    /// Bytes repaired (`repaired` in `zpool status`).
    pub repaired: u64,
    /// Start of the current pass (it restarts on import), in seconds since the epoch.
    pub pass_start: u64,
    /// Bytes issued in the current pass.
    pub pass_issued: u64,
    /// Seconds the current pass spent paused.
    pub pass_paused_seconds: u64,
}

impl ScanProgress {
    /// How much is done, from 0 to 1, as `zpool status` counts it (issued bytes of those
    /// to issue).
    pub fn fraction_done(&self) -> f64 {
        if self.state == ScanState::Finished {
            return 1.0;
        }
        let total = self.to_examine.saturating_sub(self.skipped);
        if total == 0 {
            return 0.0;
        }
        (self.issued as f64 / total as f64).min(1.0)
    }

    /// Bytes issued per second in the current pass, as of `now` (seconds since the epoch);
    /// `None` while paused or finished, where `zpool status` shows no rate.
    pub fn issue_rate(&self, now: u64) -> Option<u64> {
        if self.state != ScanState::Scanning {
            return None;
        }
        let elapsed = now
            .saturating_sub(self.pass_start)
            .saturating_sub(self.pass_paused_seconds)
            .max(1);
        Some(self.pass_issued / elapsed)
    }

    /// Seconds left at the current rate, as of `now`; `None` when `zpool status` says "no
    /// estimated completion time" (paused, just started, or slower than 10 MiB/s).
    pub fn seconds_left(&self, now: u64) -> Option<u64> {
        let rate = self.issue_rate(now)?;
        let total = self.to_examine.saturating_sub(self.skipped);
        if rate < 10 << 20 || self.issued == 0 || self.issued > total {
            return None;
        }
        Some((total - self.issued) / rate)
    }

    pub(crate) fn from_tree(tree: &NvListRef) -> Option<ScanProgress> {
        let s = tree.get_u64_array("scan_stats")?;
        let at = |offset: usize| s.get(offset / 8).copied().unwrap_or(0);
        let func = at(offset_of!(sys::pool_scan_stat_t, pss_func));
        // When the current pass was paused; 0 while it runs.
        let paused = at(offset_of!(sys::pool_scan_stat_t, pss_pass_scrub_pause)) != 0;
        let state =
            match sys::dsl_scan_state_t(at(offset_of!(sys::pool_scan_stat_t, pss_state)) as _) {
                sys::dsl_scan_state_t::DSS_SCANNING if paused => ScanState::Paused,
                sys::dsl_scan_state_t::DSS_SCANNING => ScanState::Scanning,
                sys::dsl_scan_state_t::DSS_FINISHED => ScanState::Finished,
                sys::dsl_scan_state_t::DSS_CANCELED => ScanState::Canceled,
                _ => ScanState::None,
            };
        Some(ScanProgress {
            is_resilver: func == u64::from(sys::pool_scan_func_t::POOL_SCAN_RESILVER.0),
            state,
            to_examine: at(offset_of!(sys::pool_scan_stat_t, pss_to_examine)),
            examined: at(offset_of!(sys::pool_scan_stat_t, pss_examined)),
            errors: at(offset_of!(sys::pool_scan_stat_t, pss_errors)),
            start_time: at(offset_of!(sys::pool_scan_stat_t, pss_start_time)),
            end_time: at(offset_of!(sys::pool_scan_stat_t, pss_end_time)),
            // Counted from OpenZFS 2.2 on.
            #[cfg(zfs_2_2)]
            skipped: at(offset_of!(sys::pool_scan_stat_t, pss_skipped)),
            #[cfg(not(zfs_2_2))]
            skipped: 0,
            issued: at(offset_of!(sys::pool_scan_stat_t, pss_issued)),
            repaired: at(offset_of!(sys::pool_scan_stat_t, pss_processed)),
            pass_start: at(offset_of!(sys::pool_scan_stat_t, pss_pass_start)),
            pass_issued: at(offset_of!(sys::pool_scan_stat_t, pss_pass_issued)),
            pass_paused_seconds: at(offset_of!(
                sys::pool_scan_stat_t,
                pss_pass_scrub_spent_paused
            )),
        })
    }
}

impl Pool<'_> {
    pub(super) fn scan(
        &self,
        op: &'static str,
        func: sys::pool_scan_func_t,
        cmd: sys::pool_scrub_cmd_t,
    ) -> Result<()> {
        let command = || {
            let flag = match (func, cmd) {
                (sys::pool_scan_func_t::POOL_SCAN_NONE, _) => " -s",
                (_, sys::pool_scrub_cmd_t::POOL_SCRUB_PAUSE) => " -p",
                #[cfg(zfs_2_3)]
                (_, sys::pool_scrub_cmd_t::POOL_SCRUB_FROM_LAST_TXG) => " -C",
                _ => "",
            };
            format!("zpool scrub{flag} {}", self.name)
        };
        self.zfs.check_logged(op, self.name.as_str(), command, || {
            // SAFETY: live pool handle; plain enum arguments.
            unsafe { sys::zpool_scan(self.raw().ptr(), func, cmd) }
        })
    }

    /// Starts a scrub, or resumes a paused one (`zpool scrub`).
    ///
    /// # Errors
    /// [`ErrorKind::Busy`](crate::ErrorKind::Busy) if a scrub is already running.
    #[doc(alias = "zpool_scan")]
    pub fn scrub(&self) -> Result<()> {
        self.scan(
            "scrub",
            sys::pool_scan_func_t::POOL_SCAN_SCRUB,
            sys::pool_scrub_cmd_t::POOL_SCRUB_NORMAL,
        )
    }

    /// Pauses a running scrub (`zpool scrub -p`). With no scrub running it does nothing and
    /// succeeds, as `zpool scrub -p` does: libzfs takes the kernel's "no scrub" as done
    /// (OpenZFS 2.3, tested; an older libzfs may report
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) instead).
    ///
    /// # Errors
    /// What libzfs reports otherwise, e.g. [`ErrorKind::NotFound`](crate::ErrorKind::NotFound)
    /// if the pool is gone.
    pub fn pause_scrub(&self) -> Result<()> {
        self.scan(
            "pause scrub",
            sys::pool_scan_func_t::POOL_SCAN_SCRUB,
            sys::pool_scrub_cmd_t::POOL_SCRUB_PAUSE,
        )
    }

    /// Cancels a running scrub (`zpool scrub -s`).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) if no scrub is running.
    pub fn stop_scrub(&self) -> Result<()> {
        self.scan(
            "cancel scrub",
            sys::pool_scan_func_t::POOL_SCAN_NONE,
            sys::pool_scrub_cmd_t::POOL_SCRUB_NORMAL,
        )
    }

    /// The last or current scrub or resilver, `None` if none ever ran (the `scan:` line of
    /// `zpool status`).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) if the pool is gone.
    pub fn scan_progress(&self) -> Result<Option<ScanProgress>> {
        self.refresh()?;
        Ok(ScanProgress::from_tree(self.vdev_tree()?))
    }

    /// Forces the pool's pending changes to disk (`zpool sync`).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) if the pool is gone.
    #[doc(alias = "lzc_sync")]
    pub fn sync(&self) -> Result<()> {
        self.sync_txg(false)
    }

    /// `force` also rewrites the vdev labels, which is when a new GUID becomes visible.
    fn sync_txg(&self, force: bool) -> Result<()> {
        let mut args = NvList::new();
        args.insert_bool("force", force)?;
        let name = CString::new(self.name.as_str()).expect("no NUL");
        // SAFETY: NUL-terminated name, live list; no output list is requested.
        lzc("sync pool", self.name.as_str(), unsafe {
            sys::lzc_sync(name.as_ptr(), args.as_ptr(), ptr::null_mut())
        })
    }

    /// Takes a pool checkpoint (`zpool checkpoint`).
    ///
    /// # Errors
    /// [`ErrorKind::AlreadyExists`](crate::ErrorKind::AlreadyExists) if the pool has one.
    #[doc(alias = "lzc_pool_checkpoint")]
    pub fn checkpoint(&self) -> Result<()> {
        let name = CString::new(self.name.as_str()).expect("no NUL");
        // SAFETY: NUL-terminated name.
        lzc("checkpoint pool", self.name.as_str(), unsafe {
            sys::lzc_pool_checkpoint(name.as_ptr())
        })
    }

    /// Discards the pool's checkpoint (`zpool checkpoint -d`).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) if the pool has none.
    #[doc(alias = "lzc_pool_checkpoint_discard")]
    pub fn discard_checkpoint(&self) -> Result<()> {
        let name = CString::new(self.name.as_str()).expect("no NUL");
        // SAFETY: NUL-terminated name.
        lzc("discard checkpoint of", self.name.as_str(), unsafe {
            sys::lzc_pool_checkpoint_discard(name.as_ptr())
        })
    }

    /// Gives the pool a new random GUID (`zpool reguid`), and waits until it is on disk.
    ///
    /// # Errors
    /// Whatever libzfs reports.
    #[doc(alias = "zpool_reguid")]
    pub fn reguid(&self) -> Result<()> {
        let command = || format!("zpool reguid {}", self.name);
        self.zfs
            .check_logged("reguid", self.name.as_str(), command, || {
                // SAFETY: live pool handle.
                unsafe { sys::zpool_reguid(self.raw().ptr()) }
            })?;
        // The kernel reports the last *synced* GUID: sync, then re-read, so the new GUID is
        // what callers see from now on.
        self.sync_txg(true)?;
        self.refresh()
    }
}
