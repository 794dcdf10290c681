//! Safe, idiomatic control of OpenZFS from Rust: pools, datasets, properties, snapshots.
//!
//! Everything goes through a [`Zfs`] handle (one `libzfs_handle_t`). Objects opened through it
//! borrow it, so none outlives it; every C handle has exactly one owner and is freed on drop.
//! Names are validated in Rust before any call ([`name`]); failures are one [`Error`] type
//! carrying the operation, the object, libzfs's own words, errno and a matchable
//! [`ErrorKind`].
//!
//! ```no_run
//! use zfs_core::{CreatePool, Health, PoolName, VdevSpec, Zfs};
//!
//! # fn main() -> zfs_core::Result<()> {
//! // A sparse 256 MiB file as the only vdev (file vdevs need 64 MiB or more).
//! std::fs::File::create("/var/tmp/tank.img").unwrap().set_len(256 << 20).unwrap();
//!
//! let zfs = Zfs::open()?; // needs root and the zfs kernel module
//! let pool = CreatePool::new(PoolName::new("tank")?, VdevSpec::new().file("/var/tmp/tank.img"))
//!     .pool_property("ashift", "12")
//!     .fs_property("compression", "zstd")
//!     .mountpoint("none")
//!     .create(&zfs)?;
//! assert_eq!(pool.health()?, Health::Online);
//! println!("{} is {}", pool.name(), pool.property("size")?.value);
//! zfs.destroy_pool(pool.name())?;
//! # Ok(()) }
//! ```
//!
//! Each call names the `zfs` or `zpool` command or flag it corresponds to. One example per
//! area sits on the item to start from: [`CreatePool`] (pools), [`CreateDataset`]
//! (datasets), [`Zfs::snapshot`] (snapshots, holds, bookmarks, clones), [`Zfs::send`] (send
//! and receive), [`Key`] (encryption keys) and [`Zfs::program`] (channel programs).
//!
//! Building needs the OpenZFS headers (see the `libzfs-sys` crate); the kernel module must be
//! the OpenZFS release the crate was built against ([`Versions`]).
//!
//! With the `testing` feature, [`testing::FilePool`] gives integration tests throwaway pools
//! on sparse files.
#![deny(missing_docs)]

mod crypto;
mod dataset;
mod error;
mod events;
mod handle;
pub mod name;
pub mod nvlist;
mod options;
mod passing;
mod pool;
mod program;
mod property;
mod size;
mod snapshot;
#[cfg(feature = "testing")]
pub mod testing;
mod text;
mod vdev;
mod version;

pub use crypto::{
    ChangeKeyOptions, Key, KeyFormat, KeyStatus, DEFAULT_PBKDF2_ITERATIONS, KEY_LEN,
    MAX_PBKDF2_ITERATIONS, MIN_PBKDF2_ITERATIONS, PASSPHRASE_LEN,
};
pub use dataset::{
    CanMount, CreateDataset, Dataset, DatasetType, DatasetTypes, DefaultQuota, Delegation,
    DelegationScope, Grantee, Listed, MountOptions, Mountpoint, ShareProtocol, SpaceOwner,
    SpaceUsage, UserPropertyChange, MAX_BATCH_THREADS, MAX_CHANGES_PER_PROGRAM,
    MAX_PROGRAM_DESTROY_OBJECTS, MAX_USER_PROPERTY_NAME, MAX_USER_PROPERTY_VALUE,
};
pub use error::{Errno, Error, ErrorKind, Reason, Result};
pub use events::{Event, Events};
pub use handle::Zfs;
pub use name::{
    AnyName, BookmarkName, DatasetName, IncrementalSource, NameRule, OpenableName, PoolName,
    SnapshotName, ZfsName,
};
pub use options::{
    DestroyOptions, DestroySnapshotsOptions, ExportOptions, InheritOptions, PropertyBatchOptions,
    RenameOptions, RollbackOptions, UnmountOptions,
};
pub use pool::{
    AddOptions, AllocationClass, AttachOptions, BootEnv, CacheFile, CreatePool, DataError,
    DdtPrune, DeviceLabel, DeviceProgress, DeviceWorkState, FailMode, FsWaitActivity, Health,
    HistoryRecord, ImportOptions, ImportablePool, LabelClearOptions, OfflineOptions, OnlineOptions,
    Pool, PoolProperties, PoolState, PoolStatus, RemovalProgress, RemovalState, ReopenOptions,
    ReplaceOptions, Rewind, ScanProgress, ScanState, SplitOptions, StatusCode, TrimOptions,
    VdevKind, VdevStatus, WaitActivity, BOOTENV_MAX,
};
pub use program::{ProgramOptions, ProgramTable, ProgramValue, TableKey};
pub use property::{PropSource, PropValue};
pub use size::parse_size;
pub use snapshot::{
    BookmarkInfo, Change, DiffEntry, ReceiveOptions, ReceiveSnapshotOptions, ReceiveStats,
    ResumeToken, SendFlags, SendProgress, SnapshotInfo, StreamFeatures, StreamHeader, StreamKind,
    TemporaryHolds, MAX_TAG_LEN,
};
pub use vdev::{Leaf, TopLevel, VdevSpec, MIN_DEVICE_SIZE};
pub use version::Versions;

/// The OpenZFS release this crate was built against.
pub const BUILT_FOR_VERSION: &str = libzfs_sys::BUILT_FOR_VERSION;
