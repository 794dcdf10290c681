//! One apply per pool at a time: an advisory lock held from reading the system to the last
//! step, so two runs never interleave their steps (and undo each other's work).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::PathBuf;

use crate::error::LayoutError;

/// Holds the lock for one pool's layout until dropped (the kernel also drops it if the process
/// dies, so a killed run never leaves it stale).
///
/// Take it before [`Inventory::read`](crate::Inventory::read) and keep it through
/// [`apply`](crate::apply): a plan made without it may be stale by the time it runs.
#[derive(Debug)]
pub struct ApplyLock {
    _file: File,
    path: PathBuf,
}

impl ApplyLock {
    /// Takes the lock for `pool` without waiting.
    ///
    /// # Errors
    /// [`LayoutError::Locked`] if another process holds it; [`LayoutError::Zfs`] (an I/O
    /// error) if the lock file cannot be opened.
    pub fn acquire(pool: &str) -> Result<ApplyLock, LayoutError> {
        let dir = ["/run/lock", "/var/lock"]
            .into_iter()
            .map(PathBuf::from)
            .find(|d| d.is_dir())
            .unwrap_or_else(std::env::temp_dir);
        let path = dir.join(format!("impermanence-layout.{pool}.lock"));
        let io = |e: std::io::Error| {
            LayoutError::Zfs(zfs_core::Error::io("lock", &path.display().to_string(), &e))
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        // SAFETY: an open descriptor; flock does not touch memory.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Err(LayoutError::Locked {
                pool: pool.to_owned(),
                holder: text.trim().parse().ok(),
            });
        }
        // Say who holds it, for the message the next run prints.
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = write!(file, "{}", std::process::id());
        Ok(ApplyLock { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_is_told_who_holds_it_and_bad_names_are_io_errors() {
        let pool = format!("locktest{}", std::process::id());
        let first = ApplyLock::acquire(&pool).unwrap();
        assert!(first
            .path()
            .ends_with(format!("impermanence-layout.{pool}.lock")));
        match ApplyLock::acquire(&pool) {
            Err(LayoutError::Locked { pool: p, holder }) => {
                assert_eq!(p, pool);
                assert_eq!(holder, Some(std::process::id()));
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        let path = first.path().to_owned();
        drop(first);
        let again = ApplyLock::acquire(&pool).unwrap();
        drop(again);
        let _ = std::fs::remove_file(path);
        // A name that is no file name cannot be locked (pool names never look like this).
        assert!(matches!(
            ApplyLock::acquire("no/such/dir"),
            Err(LayoutError::Zfs(_))
        ));
    }
}
