//! A pool's export or destroy refused for a moment because some process is reading the pool.
//!
//! While any process reads a pool's state (`zpool list`, `zpool status`, `zfs list` of every
//! pool, another program's libzfs iterating pools), the kernel holds a reference on the pool,
//! and `ZFS_IOC_POOL_EXPORT` / `ZFS_IOC_POOL_DESTROY` refuse with `EBUSY` while any is held
//! (`spa_export_common`). `zpool export` fails then; an installer whose host runs a monitor or
//! a second `zpool` should not. The refusal leaves the pool as it was, so the call is made
//! again for a few seconds; a pool that stays in use (an open volume, a send still running)
//! is reported [`Busy`](crate::ErrorKind::Busy) after that, as before.

use std::time::{Duration, Instant};

use crate::{ErrorKind, Result};

/// How long a refused export or destroy is retried.
pub(super) const BUSY_WAIT: Duration = Duration::from_secs(5);

/// Calls `ioctl` (one export or destroy ioctl, nothing before it) again while it fails busy
/// (`EBUSY`, or another export of the pool under way), for up to [`BUSY_WAIT`].
pub(super) fn while_referenced(mut ioctl: impl FnMut() -> Result<()>) -> Result<()> {
    let start = Instant::now();
    let mut delay = Duration::from_millis(10);
    loop {
        match ioctl() {
            Err(e) if e.kind() == ErrorKind::Busy && start.elapsed() < BUSY_WAIT => {
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_millis(500));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn refused() -> Error {
        Error::from_errno("export pool", "tank", libc::EBUSY)
    }

    #[test]
    fn a_passing_refusal_is_retried_until_the_call_succeeds() {
        let mut calls = 0;
        let r = while_referenced(|| {
            calls += 1;
            if calls < 3 {
                Err(refused())
            } else {
                Ok(())
            }
        });
        assert!(r.is_ok());
        assert_eq!(calls, 3);
    }

    #[test]
    fn other_errors_are_returned_at_once() {
        let mut calls = 0;
        let r = while_referenced(|| {
            calls += 1;
            Err(Error::from_errno("export pool", "tank", libc::ENOENT))
        });
        assert_eq!(r.unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(calls, 1);
    }
}
