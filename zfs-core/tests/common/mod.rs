//! Helpers shared by the integration tests that need ZFS.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use zfs_core::{AnyName, DatasetName, DatasetTypes, PoolName, SnapshotName, Zfs};
#[allow(unused_imports)]
pub use zfs_core::{
    DestroyOptions, DestroySnapshotsOptions, ExportOptions, InheritOptions, ReceiveOptions,
    ReceiveSnapshotOptions, RenameOptions, RollbackOptions, UnmountOptions,
};

/// Runs a `zpool`/`zfs` command and returns its trimmed stdout; panics if it fails.
pub fn cli(cmd: &str, args: &[&str]) -> String {
    let out = match cmd {
        "zpool" => zfs_core::testing::zpool(args),
        _ => Command::new(cmd).args(args).output(),
    }
    .unwrap_or_else(|e| panic!("cannot run {cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Runs a command that must fail; its standard error.
/// A command's `-j` output, parsed.
pub fn cli_json(cmd: &str, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&cli(cmd, args)).unwrap_or_else(|e| panic!("{cmd} {args:?}: {e}"))
}

pub fn cli_fails(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd}: {e}"));
    assert!(!out.status.success(), "{cmd} {args:?} succeeded");
    String::from_utf8(out.stderr).unwrap().trim().to_owned()
}

/// `zpool status -P POOL`: the pool as OpenZFS's own tool shows it, devices by full path.
pub fn zpool_status(pool: &str) -> String {
    cli("zpool", &["status", "-P", pool])
}

/// `zpool get -Hp -o value,source PROP POOL` -> (value, source).
pub fn zpool_get(pool: &str, prop: &str) -> (String, String) {
    let line = cli("zpool", &["get", "-Hp", "-o", "value,source", prop, pool]);
    let mut it = line.split('\t');
    (
        it.next().unwrap().to_owned(),
        it.next().unwrap_or("").to_owned(),
    )
}

/// `zfs get -Hp -o value,source PROP DATASET` -> (value, source).
pub fn zfs_get(dataset: &str, prop: &str) -> (String, String) {
    let line = cli("zfs", &["get", "-Hp", "-o", "value,source", prop, dataset]);
    let mut it = line.split('\t');
    (
        it.next().unwrap().to_owned(),
        it.next().unwrap_or("").to_owned(),
    )
}

/// Every imported pool, as `zpool list` sees it.
pub fn cli_pools() -> Vec<String> {
    let out = cli("zpool", &["list", "-H", "-o", "name"]);
    out.lines().map(str::to_owned).collect()
}

/// A sparse file of `size` bytes.
pub fn sparse(dir: &Path, name: &str, size: u64) -> PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p).unwrap().set_len(size).unwrap();
    p
}

pub fn unique(prefix: &str) -> PoolName {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    PoolName::new(format!(
        "{prefix}{}y{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
    .unwrap()
}

pub fn zfs() -> Zfs {
    Zfs::open().expect("open /dev/zfs (these tests need root and the zfs module)")
}

/// Unmounts `fs`, retrying for a few seconds while the mount is busy.
///
/// The test harness runs tests on several threads, and some of them spawn `zfs`/`zpool`. A child
/// spawned while another thread has a file open on a mount holds a copy of that descriptor until
/// its `exec`, which under software emulation can take long enough to make a plain unmount fail
/// with EBUSY although the test itself has closed everything.
pub fn unmount(fs: &zfs_core::Dataset<'_>) {
    let mut delay = std::time::Duration::from_millis(20);
    for _ in 0..8 {
        match fs.unmount(&UnmountOptions::new()) {
            Err(e) if e.kind() == zfs_core::ErrorKind::Busy => std::thread::sleep(delay),
            other => return other.unwrap(),
        }
        delay *= 2;
    }
    fs.unmount(&UnmountOptions::new()).unwrap();
}

/// `f()`, retried for a few seconds while it fails with `Busy`, for the reason
/// [`unmount`] gives (a child of another test thread holds a copy of a descriptor until its
/// `exec`); panics on any other error or when it stays busy.
pub fn when_not_busy<T>(mut f: impl FnMut() -> zfs_core::Result<T>) -> T {
    let mut delay = std::time::Duration::from_millis(20);
    for _ in 0..8 {
        match f() {
            Err(e) if e.kind() == zfs_core::ErrorKind::Busy => std::thread::sleep(delay),
            other => return other.unwrap(),
        }
        delay *= 2;
    }
    f().unwrap()
}

/// Creates a tree a level at a time, parents before children: each level in one
/// `create_datasets` call, so that its creations share transaction groups (with one sync per
/// creation, the tests that build trees spent most of their time waiting under emulation).
/// `alone` items (encrypted roots, which a batch does not take) are created one by one after
/// their level.
pub fn create_levels(zfs: &Zfs, items: Vec<(zfs_core::CreateDataset, bool)>) {
    let depth = |c: &zfs_core::CreateDataset| c.name().as_str().matches('/').count();
    let mut levels: Vec<usize> = items.iter().map(|(c, _)| depth(c)).collect();
    levels.sort_unstable();
    levels.dedup();
    for level in levels {
        let (alone, batch): (Vec<_>, Vec<_>) = items
            .iter()
            .filter(|(c, _)| depth(c) == level)
            .partition(|(_, alone)| *alone);
        let batch: Vec<_> = batch.into_iter().map(|(c, _)| c.clone()).collect();
        if !batch.is_empty() {
            zfs.create_datasets(&batch).unwrap();
        }
        for (c, _) in alone {
            c.clone().create(zfs).unwrap();
        }
    }
}

/// A dataset name that the test knows is valid.
pub fn ds(name: impl AsRef<str>) -> DatasetName {
    DatasetName::new(name.as_ref()).unwrap()
}

/// The start of an incremental stream: a snapshot, or a bookmark (with `#`).
pub fn inc(name: impl AsRef<str>) -> zfs_core::IncrementalSource {
    let name = name.as_ref();
    if name.contains('#') {
        zfs_core::BookmarkName::new(name).unwrap().into()
    } else {
        snap(name).into()
    }
}

/// A filesystem, snapshot or bookmark name that the test knows is valid.
pub fn any(name: impl AsRef<str>) -> AnyName {
    AnyName::new(name.as_ref()).unwrap()
}

/// A snapshot name that the test knows is valid.
pub fn snap(name: impl AsRef<str>) -> SnapshotName {
    SnapshotName::new(name.as_ref()).unwrap()
}

/// Every object under `root` (itself included), by name.
pub fn all(zfs: &Zfs, root: &str) -> Vec<String> {
    zfs.list(&ds(root), DatasetTypes::all())
        .unwrap()
        .into_iter()
        .map(|l| l.name.to_string())
        .collect()
}

/// Creates the filesystem `name` (`mountpoint=legacy`, `compression=off`, and `props`),
/// mounts it at a temporary directory, lets `write` put files there, then unmounts it and
/// syncs its pool: data on disk for a test to scrub, copy or damage.
pub fn with_data(zfs: &Zfs, name: &str, props: &[(&str, &str)], write: impl FnOnce(&Path)) {
    let mut create = zfs_core::CreateDataset::filesystem(ds(name))
        .property("mountpoint", "legacy")
        .property("compression", "off");
    for (k, v) in props {
        create = create.property(k, v);
    }
    create.create(zfs).unwrap();
    let fs = zfs.dataset(&any(name)).unwrap();
    let mnt = tempfile::tempdir().unwrap();
    fs.mount_at(mnt.path()).unwrap();
    write(mnt.path());
    unmount(&fs);
    let pool = PoolName::new(name.split('/').next().unwrap()).unwrap();
    zfs.pool(&pool).unwrap().sync().unwrap();
}

/// `mib` MiB of bytes that do not compress (xorshift64).
pub fn incompressible(mib: usize) -> Vec<u8> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut out = vec![0u8; mib << 20];
    for word in out.chunks_exact_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        word.copy_from_slice(&state.to_le_bytes());
    }
    out
}

/// A pipe: (read end, write end). libc's, as std's pipe is newer than our MSRV.
#[allow(dead_code)]
pub fn pipe() -> (std::fs::File, std::fs::File) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two new descriptors into the array.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both descriptors are new and owned by nobody else.
    unsafe {
        use std::os::fd::FromRawFd;
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    }
}

/// A small deterministic generator (xorshift), so that a failing seed can be replayed; the
/// state must not be 0.
pub struct Rng(pub u64);

impl Rng {
    /// The next number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The VM's scratch disks, held until the result is dropped (test binaries run side by side):
/// `.blank(n)` empties disk `n`.
pub fn hold_scratch_disks() -> zfs_core::testing::ScratchDisks {
    zfs_core::testing::ScratchDisks::take().unwrap()
}

/// The seeds of the random trees a test draws in this run: `per_run` of them in a row (or
/// `ZFS_TEST_SEEDS=N`), from a first seed drawn anew for each run (or `ZFS_TEST_SEED=S`).
///
/// Drawing new trees each run rather than the same few every time covers more shapes for the
/// same time: a tree is a few dozen objects made and destroyed under emulation, and the code
/// paths are the same in every tree. A failure names its seed, and the test's output (shown
/// when it fails) says how to draw the same trees again. `ci/test` draws two per test on the
/// installed release and one on the second release it checks; `cargo zfs-test` hands every
/// `ZFS_TEST_*` variable to the guest.
pub fn seeds(per_run: u64) -> std::ops::Range<u64> {
    let count = |name: &str| -> Option<u64> {
        let v = std::env::var(name).ok().filter(|v| !v.is_empty())?;
        Some(
            v.parse::<u64>()
                .ok()
                .filter(|n| *n >= 1)
                .unwrap_or_else(|| panic!("{name}={v:?} is not a number of at least 1")),
        )
    };
    let n = count("ZFS_TEST_SEEDS").unwrap_or(per_run);
    // Seeds stay below a million: they are part of the trees' dataset names.
    let first = count("ZFS_TEST_SEED").unwrap_or_else(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let mixed = (t.as_nanos() as u64 ^ u64::from(std::process::id()) << 32)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        1 + (mixed >> 32) % 999_000
    });
    eprintln!(
        "random trees: seeds {first} to {} (ZFS_TEST_SEED={first} ZFS_TEST_SEEDS={n} draws them again)",
        first + n - 1
    );
    first..first + n
}
