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
    /// an ESP, is unmounted; a pool still imported on the disk is destroyed; a pool's labels
    /// are cleared; every signature is wiped), then the
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
    let out = match cmd {
        "zpool" => super::zpool(args)?,
        _ => Command::new(cmd).args(args).output()?,
    };
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
    // A pool still imported on the disk, as a test that failed before its own cleanup leaves
    // one, keeps its partitions busy: it goes too. Only a pool with a device on this disk:
    // the others belong to tests running beside this one.
    let ours: Vec<PathBuf> = std::iter::once(d)
        .chain(parts.iter().copied())
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    let leftovers = pools_on(&ours)?;
    // Every mount on any partition and of any of those pools' datasets, deepest first, each
    // with whatever is mounted inside it (`umount -R`: the other disk's ESP inside a pool's
    // root, a pool's dataset inside an ext4 root), and again while something is still
    // mounted there (mounts stacked on one directory).
    let mut targets = Vec::new();
    for path in &parts {
        targets.extend(findmnt(&["-S", path])?);
    }
    for pool in &leftovers {
        targets.extend(
            findmnt(&["-t", "zfs", "-o", "TARGET,SOURCE"])?
                .iter()
                .filter_map(|l| l.rsplit_once(' '))
                .map(|(target, src)| (target, unescape(src)))
                .filter(|(_, src)| src == pool || src.starts_with(&format!("{pool}/")))
                .map(|(target, _)| target.to_owned()),
        );
    }
    let mut targets: Vec<String> = targets.iter().map(|t| unescape(t)).collect();
    let depth = |t: &String| t.matches('/').count();
    targets.sort_by(|a, b| depth(b).cmp(&depth(a)).then(a.cmp(b)));
    targets.dedup();
    for target in &targets {
        for _ in 0..8 {
            if findmnt(&["-M", target])?.is_empty() {
                break;
            }
            run("umount", &["-R", target])?;
        }
    }
    for pool in &leftovers {
        run("zpool", &["destroy", "-f", pool])?;
    }
    if !leftovers.is_empty() {
        run("udevadm", &["settle"])?;
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

/// A field of `findmnt -r`'s output as it is: that output writes a space, a tab, a backslash
/// and other such bytes as `\xHH`.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 2..i + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], bytes.get(i + 1), hex) {
            (b'\\', Some(b'x'), Some(b)) => {
                out.push(b);
                i += 4;
            }
            (b, ..) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `findmnt -rn ARGS`'s lines (its first column the target, unless ARGS say otherwise);
/// none when nothing matches (findmnt's exit 1).
fn findmnt(args: &[&str]) -> io::Result<Vec<String>> {
    let mut all = vec!["-rn"];
    if !args.contains(&"-o") {
        all.extend(["-o", "TARGET"]);
    }
    all.extend_from_slice(args);
    let found = Command::new("findmnt").args(&all).output()?;
    Ok(String::from_utf8_lossy(&found.stdout)
        .lines()
        .map(str::to_owned)
        .collect())
}

/// The imported pools with a device among `devices` (canonical paths), as `zpool list -v -P`
/// names their devices.
fn pools_on(devices: &[PathBuf]) -> io::Result<Vec<String>> {
    let listed = run("zpool", &["list", "-H", "-v", "-P", "-o", "name"])?;
    Ok(pools_using(&listed, |dev| {
        std::fs::canonicalize(dev).is_ok_and(|c| devices.contains(&c))
    }))
}

/// The pools of `zpool list -H -v -P -o name`'s output that have a device `is_ours` accepts.
/// A pool's line is its name alone; its vdevs' lines start with a tab; a class of vdevs
/// (`logs`, `cache`, `spare`, ...) has a line of its own, the class's name and a dash in
/// each column, and its vdevs still belong to the pool above.
fn pools_using(listed: &str, is_ours: impl Fn(&str) -> bool) -> Vec<String> {
    const CLASSES: [&str; 6] = ["logs", "cache", "spare", "spares", "dedup", "special"];
    let mut pools: Vec<String> = Vec::new();
    let mut current: Option<&str> = None;
    for line in listed.lines() {
        if let Some(rest) = line.strip_prefix('\t') {
            let dev = rest.split('\t').next().unwrap_or("").trim();
            if let Some(pool) = current {
                if dev.starts_with('/') && is_ours(dev) && !pools.iter().any(|p| p == pool) {
                    pools.push(pool.to_owned());
                }
            }
        } else {
            // A class's line: its name, then dashes only. A pool's name may hold spaces.
            let mut fields = line.split_whitespace();
            let first = fields.next().unwrap_or("");
            let rest: Vec<&str> = fields.collect();
            let class_header =
                CLASSES.contains(&first) && !rest.is_empty() && rest.iter().all(|f| *f == "-");
            if !class_header && !line.is_empty() {
                current = Some(line.trim_end_matches('\t'));
            }
        }
    }
    pools
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn the_pools_on_a_disk_are_found_in_zpool_lists_output() {
        // As `zpool list -H -v -P -o name` printed it (OpenZFS 2.3), a class line included.
        let listed = "p1\n\tmirror-0\t112M\t152K\n\t/tmp/a\t128M\t-\n\t/tmp/b\t128M\t-\n\
                      logs            -      -      -\n\t/dev/vda2\t128M\t0\n\
                      cache      -      -\n\t/dev/vdc1\t64M\t0\n\
                      spare      -      -\n\t/dev/vdc2\t64M\t-\n\
                      logs\n\t/dev/vdb1\t128M\t-\n\
                      cache x\n\t/dev/vdb2\t128M\t-\n";
        let on =
            |devs: &'static [&'static str]| pools_using(listed, move |d: &str| devs.contains(&d));
        assert_eq!(on(&["/dev/vda2"]), ["p1"], "a log device is the pool's");
        assert_eq!(on(&["/tmp/b", "/dev/vda2"]), ["p1"], "each pool once");
        assert_eq!(on(&["/dev/vdb1"]), ["logs"], "a pool named like a class");
        assert_eq!(on(&["/dev/vdc1"]), ["p1"], "a cache device is the pool's");
        assert_eq!(on(&["/dev/vdc2"]), ["p1"], "a spare is the pool's");
        assert_eq!(
            on(&["/dev/vdb2"]),
            ["cache x"],
            "a pool's name with a space"
        );
        assert!(on(&["/dev/vdc"]).is_empty());
    }

    #[test]
    fn findmnts_escapes_are_read_back() {
        assert_eq!(unescape("/tmp/a\\x20b/mnt"), "/tmp/a b/mnt");
        assert_eq!(unescape("tank/with\\x20space"), "tank/with space");
        assert_eq!(unescape("/plain\\xZZ\\x"), "/plain\\xZZ\\x");
    }

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
