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

mod cli;
mod scratch_disk;

pub use cli::zpool;
pub use scratch_disk::ScratchDisks;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{
    CreatePool, ErrorKind, ImportOptions, Leaf, PoolName, Result, TopLevel, VdevSpec, Zfs,
};

/// A pool on sparse files in its own temporary directory, destroyed with the files on drop:
/// one file by default, or a mirror or raidz of several, with log, cache and spare files, so a
/// test can take devices offline, fault, replace and resilver them.
///
/// The pool has a unique name, `mountpoint=none` and `cachefile=none` unless told otherwise,
/// so it touches nothing outside its directory. It holds no [`Zfs`] handle: open your own.
///
/// ```no_run
/// use zfs_core::testing::FilePool;
/// use zfs_core::{OfflineOptions, Zfs};
///
/// # fn main() -> zfs_core::Result<()> {
/// let fixture = FilePool::builder().mirror(2).spare().create()?;
/// let zfs = Zfs::open()?;
/// let pool = zfs.pool(fixture.name())?;
/// pool.offline(&fixture.data_files()[0], &OfflineOptions::new())?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct FilePool {
    name: PoolName,
    dir: tempfile::TempDir,
    size: u64,
    data: Vec<PathBuf>,
    logs: Vec<PathBuf>,
    caches: Vec<PathBuf>,
    spares: Vec<PathBuf>,
}

/// How a [`FilePool`]'s data files are arranged.
#[derive(Debug, Clone, Copy)]
enum Layout {
    Single,
    Mirror(usize),
    Raidz(u8, usize),
    /// parity, data per group, distributed spares, devices.
    Draid(u8, Option<u64>, u64, usize),
}

/// Options for a [`FilePool`].
#[derive(Debug, Clone)]
pub struct FilePoolBuilder {
    prefix: String,
    size: u64,
    pool_props: Vec<(String, String)>,
    fs_props: Vec<(String, String)>,
    layout: Layout,
    logs: usize,
    caches: usize,
    spares: usize,
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
            layout: Layout::Single,
            logs: 0,
            caches: 0,
            spares: 0,
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

    /// The (first) data file.
    pub fn vdev(&self) -> &Path {
        &self.data[0]
    }

    /// The data files, in the order of the mirror or raidz.
    pub fn data_files(&self) -> &[PathBuf] {
        &self.data
    }

    /// The log device files.
    pub fn log_files(&self) -> &[PathBuf] {
        &self.logs
    }

    /// The cache device files.
    pub fn cache_files(&self) -> &[PathBuf] {
        &self.caches
    }

    /// The hot spare files.
    pub fn spare_files(&self) -> &[PathBuf] {
        &self.spares
    }

    /// A new sparse file `name` as large as the pool's files, in the fixture's directory (and
    /// deleted with it): a device to attach, add or replace with.
    ///
    /// # Errors
    /// [`ErrorKind::AlreadyExists`] and the like from creating the file.
    pub fn new_file(&self, name: &str) -> Result<PathBuf> {
        let path = self.dir.path().join(name);
        sparse_file(&path, self.size)
            .map_err(|e| io_error("create vdev file", path.display(), &e))?;
        Ok(path)
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

    /// `n` files in a mirror instead of one file.
    pub fn mirror(mut self, n: usize) -> FilePoolBuilder {
        self.layout = Layout::Mirror(n);
        self
    }

    /// `n` files in a raidz group of `parity` 1, 2 or 3 instead of one file.
    pub fn raidz(mut self, parity: u8, n: usize) -> FilePoolBuilder {
        self.layout = Layout::Raidz(parity, n);
        self
    }

    /// `n` files in one dRAID vdev of `parity` 1, 2 or 3 with `spares` distributed spares
    /// (`draidP:Dd:Nc:Ss`; `data` per group, or `None` for the CLI's default).
    pub fn draid(
        mut self,
        parity: u8,
        data: Option<u64>,
        spares: u64,
        n: usize,
    ) -> FilePoolBuilder {
        self.layout = Layout::Draid(parity, data, spares, n);
        self
    }

    /// One more file as a log device.
    pub fn log(mut self) -> FilePoolBuilder {
        self.logs += 1;
        self
    }

    /// One more file as a cache device.
    pub fn cache(mut self) -> FilePoolBuilder {
        self.caches += 1;
        self
    }

    /// One more file as a hot spare.
    pub fn spare(mut self) -> FilePoolBuilder {
        self.spares += 1;
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

    /// Creates the files and the pool.
    ///
    /// # Errors
    /// As [`Zfs::create_pool`]; the files are removed again on failure.
    pub fn create(self) -> Result<FilePool> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = PoolName::new(format!("{}{}x{n}", self.prefix, std::process::id()))?;
        let dir = tempfile::Builder::new()
            .prefix("zfs-core-filepool")
            .tempdir()
            .map_err(|e| io_error("create vdev directory for", name.as_str(), &e))?;
        let files = |stem: &str, count: usize| -> Result<Vec<PathBuf>> {
            (0..count)
                .map(|i| {
                    let path = dir.path().join(format!("{stem}{i}"));
                    sparse_file(&path, self.size)
                        .map_err(|e| io_error("create vdev file for", name.as_str(), &e))?;
                    Ok(path)
                })
                .collect()
        };
        let data = files(
            "vdev",
            match self.layout {
                Layout::Single => 1,
                Layout::Mirror(n) | Layout::Raidz(_, n) | Layout::Draid(_, _, _, n) => n,
            },
        )?;
        let (logs, caches, spares) = (
            files("log", self.logs)?,
            files("cache", self.caches)?,
            files("spare", self.spares)?,
        );
        let leaves = |paths: &[PathBuf]| paths.iter().map(Leaf::file).collect::<Vec<_>>();
        let mut spec = VdevSpec::new().vdev(match self.layout {
            Layout::Single => TopLevel::Single(Leaf::file(&data[0])),
            Layout::Mirror(_) => TopLevel::Mirror(leaves(&data)),
            Layout::Raidz(parity, _) => TopLevel::Raidz {
                parity,
                devices: leaves(&data),
            },
            Layout::Draid(parity, data_per_group, spares, _) => TopLevel::Draid {
                parity,
                data: data_per_group,
                spares,
                devices: leaves(&data),
            },
        });
        for l in leaves(&logs) {
            spec = spec.log(TopLevel::Single(l));
        }
        for l in leaves(&caches) {
            spec = spec.cache(l);
        }
        for l in leaves(&spares) {
            spec = spec.spare(l);
        }
        let mut opts = CreatePool::new(name.clone(), spec);
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
        Ok(FilePool {
            name,
            dir,
            size: self.size,
            data,
            logs,
            caches,
            spares,
        })
    }
}

fn sparse_file(path: &Path, size: u64) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|f| f.set_len(size))
}

fn io_error(op: &'static str, object: impl std::fmt::Display, e: &std::io::Error) -> crate::Error {
    crate::Error::from_errno(
        op,
        object.to_string(),
        e.raw_os_error().unwrap_or(libc::EIO),
    )
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
