//! A pool's export or destroy refused for a moment because some process is reading the pool.
//!
//! While any process reads a pool's state (`zpool list`, `zpool status`, `zfs list` of every
//! pool, another program's libzfs iterating pools), the kernel holds a reference on the pool,
//! and `ZFS_IOC_POOL_EXPORT` / `ZFS_IOC_POOL_DESTROY` refuse with `EBUSY` while any is held
//! (`spa_export_common`; so do they while a zinject handler is on the pool). `zpool export`
//! fails then; an installer whose host runs a monitor or a second `zpool` should not. The
//! refusal leaves the pool imported, so the call is made again for a few seconds; a hold that
//! stays (a zinject handler) is reported [`Busy`](crate::ErrorKind::Busy) after that. Each
//! refused attempt has already unmounted the pool's datasets and taken away its volumes'
//! device nodes (the kernel does that before it looks at the holds), as a refused
//! `zpool export` does.

use std::ffi::{c_char, CStr};

use crate::Result;
use libzfs_sys as sys;

/// Calls `ioctl` (one export or destroy ioctl, nothing before it) again while libzfs says the
/// pool is busy (`EZFS_BUSY`, which these two calls give for EBUSY alone), for up to
/// [`PASSING_WAIT`](crate::passing::PASSING_WAIT). `ioctl` gets the line for the pool's
/// history on its first attempt and null (no line) after, so that one call leaves one line.
/// Other refusals are returned at once: a shared spare in use (`EZFS_ACTIVE_SPARE`) stays until
/// forced, and another export under way (`EZFS_EXPORT_IN_PROGRESS`) is the caller's to know.
pub(super) fn while_referenced(
    history: &CStr,
    mut ioctl: impl FnMut(*const c_char) -> Result<()>,
) -> Result<()> {
    crate::passing::retry(
        |first| {
            ioctl(if first {
                history.as_ptr()
            } else {
                std::ptr::null()
            })
        },
        |outcome| matches!(outcome, Err(e) if passing_hold(e)),
    )
}

/// The refusal a passing hold gives.
fn passing_hold(e: &crate::Error) -> bool {
    e.libzfs_code() == Some(sys::zfs_error_t::EZFS_BUSY.0 as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Error, ErrorKind};

    fn libzfs(code: sys::zfs_error_t, errno: i32) -> Error {
        Error::from_libzfs("export pool", "tank", code, "pool is busy".into(), errno)
    }

    #[test]
    fn a_passing_refusal_is_retried_until_the_call_succeeds() {
        let mut firsts = Vec::new();
        let r = while_referenced(c"zfs-core export", |log| {
            firsts.push(!log.is_null());
            if firsts.len() < 3 {
                Err(libzfs(sys::zfs_error_t::EZFS_BUSY, libc::EBUSY))
            } else {
                Ok(())
            }
        });
        assert!(r.is_ok());
        assert_eq!(firsts, [true, false, false]);
    }

    #[test]
    fn other_errors_are_returned_at_once() {
        for (e, kind) in [
            (
                Error::from_errno("export pool", "tank", libc::ENOENT),
                ErrorKind::NotFound,
            ),
            (
                libzfs(sys::zfs_error_t::EZFS_ACTIVE_SPARE, libc::EXDEV),
                ErrorKind::Busy,
            ),
            (
                libzfs(sys::zfs_error_t::EZFS_EXPORT_IN_PROGRESS, 0),
                ErrorKind::Busy,
            ),
        ] {
            let mut calls = 0;
            let r = while_referenced(c"x", |_| {
                calls += 1;
                Err(e.clone())
            });
            assert_eq!(r.unwrap_err().kind(), kind);
            assert_eq!(calls, 1);
        }
    }
}
