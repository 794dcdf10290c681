//! Scrubs of part of a pool's history: blocks written since the last scrub (`zpool scrub -C`),
//! or between two dates (`zpool scrub -S DATE -E DATE`): a routine check of what is new
//! without reading every block again.

use std::time::{SystemTime, UNIX_EPOCH};

#[cfg(zfs_2_3)]
use libzfs_sys as sys;

use super::Pool;
use crate::{Error, ErrorKind, Result};

impl Pool<'_> {
    /// Scrubs only the blocks written since the last scrub ended (`zpool scrub -C`,
    /// OpenZFS 2.3 and later): the pool's `last_scrubbed_txg` property says where that is (0,
    /// the pool's start, if it was never scrubbed). Follow and wait for it as for
    /// [`Pool::scrub`].
    ///
    /// # Errors
    /// [`ErrorKind::Busy`] if a scrub is already running; [`ErrorKind::NotSupported`] before
    /// OpenZFS 2.3.
    pub fn scrub_since_last_scrub(&self) -> Result<()> {
        #[cfg(zfs_2_3)]
        return self.scan(
            "scrub",
            sys::pool_scan_func_t::POOL_SCAN_SCRUB,
            sys::pool_scrub_cmd_t::POOL_SCRUB_FROM_LAST_TXG,
        );
        #[cfg(not(zfs_2_3))]
        Err(Error::new(
            ErrorKind::NotSupported,
            "scrub",
            self.name.as_str(),
            "a scrub from the last scrubbed txg needs OpenZFS 2.3 or later",
        ))
    }

    /// Scrubs only the blocks written between `from` and `to` (`zpool scrub -S FROM -E TO`,
    /// OpenZFS 2.4 and later); `None` is the pool's start, or now. The kernel finds the
    /// transaction groups of those times in its record of when each was written (kept at a
    /// coarse grain: the range read is at least the one asked for).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] if `from` is after `to` or a time is before 1970;
    /// [`ErrorKind::Busy`] if a scrub is already running; [`ErrorKind::NotSupported`] before
    /// OpenZFS 2.4.
    #[doc(alias = "zpool_scan_range")]
    pub fn scrub_written_between(
        &self,
        from: Option<SystemTime>,
        to: Option<SystemTime>,
    ) -> Result<()> {
        let op = "scrub";
        let seconds = |t: Option<SystemTime>| -> Result<i64> {
            let Some(t) = t else { return Ok(0) };
            let secs = t
                .duration_since(UNIX_EPOCH)
                .ok()
                .and_then(|d| i64::try_from(d.as_secs()).ok())
                .filter(|&s| s > 0);
            secs.ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    op,
                    self.name.as_str(),
                    "a scrub's dates are after 1970-01-01",
                )
            })
        };
        let (start, end) = (seconds(from)?, seconds(to)?);
        if start != 0 && end != 0 && start > end {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                self.name.as_str(),
                "the range's start is after its end",
            ));
        }
        self.scan_range(start, end)
    }

    #[cfg(zfs_2_4)]
    fn scan_range(&self, start: i64, end: i64) -> Result<()> {
        // The CLI takes dates; the history says what was asked, in seconds since the epoch.
        let command = || {
            let mut flags = String::new();
            if start != 0 {
                flags += &format!(" -S @{start}");
            }
            if end != 0 {
                flags += &format!(" -E @{end}");
            }
            format!("zpool scrub{flags} {}", self.name)
        };
        self.zfs
            .check_logged("scrub", self.name.as_str(), command, || {
                // SAFETY: live pool handle; plain enum and integer arguments.
                unsafe {
                    sys::zpool_scan_range(
                        self.raw().ptr(),
                        sys::pool_scan_func_t::POOL_SCAN_SCRUB,
                        sys::pool_scrub_cmd_t::POOL_SCRUB_NORMAL,
                        start as _,
                        end as _,
                    )
                }
            })
    }

    #[cfg(not(zfs_2_4))]
    fn scan_range(&self, _start: i64, _end: i64) -> Result<()> {
        Err(Error::new(
            ErrorKind::NotSupported,
            "scrub",
            self.name.as_str(),
            "a scrub of a range of dates needs OpenZFS 2.4 or later",
        ))
    }
}
