//! The VM's scratch disks, held by one test at a time and emptied for it.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::Command;

/// The lock every holder of the scratch disks takes.
const LOCK_FILE: &str = "/tmp/zfs-test-scratch-disks.lock";

/// The VM's scratch disks (`ci/vm` and `cargo zfs-test` attach two of 512 MiB,
/// `/dev/disk/by-id/virtio-zfs-scratch0` and `...1`), held by one test of the whole machine at
/// a time: test binaries run side by side, and their threads too, so a test that writes a
/// scratch disk takes this first and keeps it to its end. It is a `flock` on
/// `/tmp/zfs-test-scratch-disks.lock`, taken through a descriptor of its own: it excludes
/// other processes and the other threads of this one alike, and a test that dies lets go.
///
/// ```no_run
/// use zfs_core::testing::ScratchDisks;
///
/// let disks = ScratchDisks::take().unwrap();
/// let disk = disks.blank(0).unwrap(); // emptied, ours until `disks` is dropped
/// # let _ = disk;
/// ```
#[derive(Debug)]
pub struct ScratchDisks {
    _lock: File,
}

impl ScratchDisks {
    /// Waits until no other test holds the scratch disks, then holds them.
    ///
    /// # Errors
    /// The lock file's, where it cannot be opened or locked.
    pub fn take() -> io::Result<ScratchDisks> {
        // One path for the machine, whatever TMPDIR says; read-only (flock needs no more), so
        // that one user's lock file serves another; made writable by all where we create it.
        let path = std::path::Path::new(LOCK_FILE);
        let lock = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                use std::os::unix::fs::PermissionsExt;
                let f = File::options()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(path)?;
                let _ = f.set_permissions(std::fs::Permissions::from_mode(0o666));
                f
            }
            Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
        };
        loop {
            // SAFETY: flock on a descriptor `lock` owns; no memory is involved.
            if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } == 0 {
                break;
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(io::Error::new(
                    err.kind(),
                    format!("locking {}: {err}", path.display()),
                ));
            }
        }
        Ok(ScratchDisks { _lock: lock })
    }

    /// Scratch disk `n`, by its stable name, emptied: what an earlier test left in its
    /// partitions goes first (a partition still mounted, as a test that failed halfway leaves
    /// an ESP, is unmounted; a pool's labels are cleared; every signature is wiped), then the
    /// partition table.
    ///
    /// # Errors
    /// [`io::ErrorKind::NotFound`] where there is no such disk (not under `ci/vm`); the
    /// failing tool's words otherwise.
    pub fn blank(&self, n: u32) -> io::Result<PathBuf> {
        blank_scratch_disk(n)
    }
}

/// `cmd args`, which must succeed; its standard output.
fn run(cmd: &str, args: &[&str]) -> io::Result<String> {
    let out = Command::new(cmd).args(args).output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{cmd} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Empties scratch disk `n` (see [`ScratchDisks::blank`]); the caller holds the disks.
fn blank_scratch_disk(n: u32) -> io::Result<PathBuf> {
    let disk = PathBuf::from(format!("/dev/disk/by-id/virtio-zfs-scratch{n}"));
    if !disk.exists() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no scratch disk {} (run under ci/vm)", disk.display()),
        ));
    }
    let d = disk.to_str().expect("a UTF-8 path");
    let listed = run("lsblk", &["-ln", "-o", "PATH,TYPE", d])?;
    let parts: Vec<&str> = listed
        .lines()
        .filter(|l| l.ends_with(" part"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    // Every mount on any partition, deepest first (an ESP mounted inside a root on another
    // partition of the same disk goes before the root).
    let mut targets = Vec::new();
    for path in &parts {
        // findmnt exits 1 when nothing is mounted: not an error here.
        let found = Command::new("findmnt")
            .args(["-rn", "-o", "TARGET", "-S", path])
            .output()?;
        targets.extend(
            String::from_utf8_lossy(&found.stdout)
                .lines()
                .map(str::to_owned),
        );
    }
    targets.sort_by_key(|t| std::cmp::Reverse(t.matches('/').count()));
    for target in &targets {
        run("umount", &[target])?;
    }
    for path in parts {
        // Fails where there is no label: nothing to clear.
        let _ = Command::new("zpool")
            .args(["labelclear", "-f", path])
            .output();
        run("wipefs", &["-a", "-q", path])?;
    }
    run("wipefs", &["-a", "-q", d])?;
    run("blockdev", &["--rereadpt", d])?;
    run("udevadm", &["settle"])?;
    Ok(disk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn one_holder_at_a_time_even_among_threads_of_one_process() {
        let held = ScratchDisks::take().unwrap();
        let got = Arc::new(AtomicBool::new(false));
        let waiter = {
            let got = got.clone();
            std::thread::spawn(move || {
                let _second = ScratchDisks::take().unwrap();
                got.store(true, Ordering::SeqCst);
            })
        };
        std::thread::sleep(Duration::from_millis(300));
        assert!(!got.load(Ordering::SeqCst), "taken twice at once");
        drop(held);
        waiter.join().unwrap();
        assert!(got.load(Ordering::SeqCst));
    }
}
