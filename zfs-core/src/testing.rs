//! Throwaway pools on sparse file vdevs, for integration tests (feature `testing`).
//!
//! ```no_run
//! use zfs_core::testing::FilePool;
//! use zfs_core::{Health, Zfs};
//!
//! # fn main() -> zfs_core::Result<()> {
//! let fixture = FilePool::builder().fs_property("compression", "zstd").create()?;
//! let zfs = Zfs::open()?;
//! let pool = zfs.pool(fixture.name())?;
//! assert_eq!(pool.health()?, Health::Online);
//! drop(pool);
//! // Dropping `fixture` destroys the pool and deletes its file, even after a panic.
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{CreatePool, ErrorKind, ImportOptions, PoolName, Result, VdevSpec, Zfs};

/// A pool on one sparse file in its own temporary directory, destroyed with the file on drop.
///
/// The pool has a unique name, `mountpoint=none` and `cachefile=none` unless told otherwise,
/// so it touches nothing outside its directory. It holds no [`Zfs`] handle: open your own.
#[derive(Debug)]
pub struct FilePool {
    name: PoolName,
    dir: tempfile::TempDir,
    vdev: PathBuf,
}

/// Options for a [`FilePool`].
#[derive(Debug, Clone)]
pub struct FilePoolBuilder {
    prefix: String,
    size: u64,
    pool_props: Vec<(String, String)>,
    fs_props: Vec<(String, String)>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl FilePool {
    /// Options, starting from a 256 MiB vdev.
    pub fn builder() -> FilePoolBuilder {
        FilePoolBuilder {
            prefix: "zfstest".into(),
            size: 256 << 20,
            pool_props: Vec::new(),
            fs_props: Vec::new(),
        }
    }

    /// A pool with the default options.
    ///
    /// # Errors
    /// As [`Zfs::create_pool`].
    pub fn new() -> Result<FilePool> {
        FilePool::builder().create()
    }

    /// The pool's name.
    pub fn name(&self) -> &PoolName {
        &self.name
    }

    /// The vdev file.
    pub fn vdev(&self) -> &Path {
        &self.vdev
    }

    /// The temporary directory holding the vdev (for `ImportOptions::dir`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Tells the fixture the pool was renamed (e.g. imported under a new name), so that drop
    /// destroys the right pool.
    pub fn renamed(&mut self, name: PoolName) {
        self.name = name;
    }
}

impl FilePoolBuilder {
    /// The start of the pool's name (a unique suffix is added).
    pub fn prefix(mut self, prefix: &str) -> FilePoolBuilder {
        prefix.clone_into(&mut self.prefix);
        self
    }

    /// The vdev's size in bytes (at least 64 MiB for a pool to be created).
    pub fn size(mut self, bytes: u64) -> FilePoolBuilder {
        self.size = bytes;
        self
    }

    /// A pool property (`zpool create -o`).
    pub fn pool_property(mut self, name: &str, value: &str) -> FilePoolBuilder {
        self.pool_props.push((name.into(), value.into()));
        self
    }

    /// A root filesystem property (`zpool create -O`).
    pub fn fs_property(mut self, name: &str, value: &str) -> FilePoolBuilder {
        self.fs_props.push((name.into(), value.into()));
        self
    }

    /// Creates the file and the pool.
    ///
    /// # Errors
    /// As [`Zfs::create_pool`]; the file is removed again on failure.
    pub fn create(self) -> Result<FilePool> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = PoolName::new(format!("{}{}x{n}", self.prefix, std::process::id()))?;
        let io = |e: std::io::Error| {
            crate::Error::from_errno(
                "create vdev file for",
                name.as_str(),
                e.raw_os_error().unwrap_or(libc::EIO),
            )
        };
        let dir = tempfile::Builder::new()
            .prefix("zfs-core-filepool")
            .tempdir()
            .map_err(io)?;
        let vdev = dir.path().join("vdev0");
        std::fs::File::create(&vdev)
            .and_then(|f| f.set_len(self.size))
            .map_err(io)?;
        let mut opts = CreatePool::new(name.clone(), VdevSpec::new().file(&vdev));
        if !self.pool_props.iter().any(|(k, _)| k == "cachefile") {
            opts = opts.pool_property("cachefile", "none");
        }
        if !self.fs_props.iter().any(|(k, _)| k == "mountpoint") {
            opts = opts.mountpoint("none");
        }
        for (k, v) in &self.pool_props {
            opts = opts.pool_property(k, v);
        }
        for (k, v) in &self.fs_props {
            opts = opts.fs_property(k, v);
        }
        let zfs = Zfs::open()?;
        opts.create(&zfs)?;
        Ok(FilePool { name, dir, vdev })
    }
}

impl Drop for FilePool {
    fn drop(&mut self) {
        let Ok(zfs) = Zfs::open() else { return };
        if zfs.pool(&self.name).is_ok() {
            // A mount can stay busy for a moment after a test closed its files (a child spawned
            // by another test thread holds copies of open descriptors until its exec).
            for attempt in 0..6 {
                match zfs.destroy_pool(&self.name) {
                    Err(e) if e.kind() == ErrorKind::Busy && attempt < 5 => {
                        std::thread::sleep(std::time::Duration::from_millis(50 << attempt));
                    }
                    _ => return,
                }
            }
        }
        // Exported (or renamed without telling us): import whatever lives on our file and
        // destroy it, so no test leaves a pool behind.
        let opts = ImportOptions::new().dir(self.dir.path());
        if let Ok(found) = zfs.importable_pools(&opts) {
            for p in found {
                if zfs.import_pool(&p.name, &opts).is_ok() {
                    let _ = zfs.destroy_pool(&p.name);
                }
            }
        }
    }
}

/// The `ashift` values in the labels OpenZFS's own `zdb -l` reads off a device, sorted and
/// deduplicated: what the disk was really labelled with, whatever the `ashift` pool property
/// says. Empty if `zdb` finds none (a spare's label carries none).
///
/// # Panics
/// If `zdb` cannot be run or prints an ashift that is not a number.
pub fn label_ashifts(device: &Path) -> Vec<u64> {
    let out = std::process::Command::new("zdb")
        .arg("-l")
        .arg(device)
        .output()
        .expect("run zdb (zfsutils)");
    let mut found: Vec<u64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("ashift: "))
        .map(|v| v.trim().parse().expect("zdb prints ashift as a number"))
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}
