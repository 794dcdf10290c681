//! [`Reason`]: exactly why a call failed, finer than [`ErrorKind`](super::ErrorKind).

use std::fmt;

/// Exactly why a call failed, where ZFS or zfs-core can tell: each is a case a caller may act on
/// differently (pick another name, roll back first, release a hold, retry later, upgrade).
/// [`Error::reason`](super::Error::reason) gives it; [`Error::kind`](super::Error::kind) stays
/// the broad class each falls under.
///
/// OpenZFS's own Python binding (pyzfs) raises one exception class per case; here is each of its
/// classes with the reason (and kind) zfs-core gives for the same failure:
///
/// | pyzfs | zfs-core reason | kind |
/// | --- | --- | --- |
/// | `DatasetNotFound`, `FilesystemNotFound` | `DatasetNotFound` | `NotFound` |
/// | `SnapshotNotFound` | `SnapshotNotFound` (also a bookmark's missing source) | `NotFound` |
/// | `BookmarkNotFound` | `BookmarkNotFound` | `NotFound` |
/// | `PoolNotFound` | `PoolNotFound` | `NotFound` |
/// | `ParentNotFound` | `ParentNotFound` | `NotFound` |
/// | `HoldNotFound` | `HoldNotFound` | `NotFound` |
/// | `DatasetExists`, `FilesystemExists` | `DatasetExists` | `AlreadyExists` |
/// | `SnapshotExists` | `SnapshotExists` | `AlreadyExists` |
/// | `BookmarkExists` | `BookmarkExists` | `AlreadyExists` |
/// | `HoldExists` | `HoldExists` | `AlreadyExists` |
/// | `WrongParent` | `WrongParent` | `InvalidArgument` |
/// | `NotClone` | `NotClone` | `InvalidArgument` |
/// | `SnapshotNotLatest` | `SnapshotNotLatest` | `Busy` |
/// | `SnapshotIsCloned` | `SnapshotIsCloned` | `Busy` |
/// | `SnapshotIsHeld` | `SnapshotIsHeld` | `Busy` |
/// | `DatasetBusy` | `DatasetBusy` | `Busy` |
/// | `DuplicateSnapshots` | `DuplicateSnapshots` | `InvalidArgument` |
/// | `PoolsDiffer` | `PoolsDiffer` | `InvalidArgument` |
/// | `BookmarkMismatch` | `BookmarkSourceNotAncestor` | `InvalidArgument` |
/// | `BookmarkSourceInvalid` | `BookmarkSourceInvalid` | `InvalidArgument` |
/// | `BookmarkNotSupported`, `FeatureNotSupported`, `PropertyNotSupported` | `FeatureNotEnabled` | `NotSupported` |
/// | `SnapshotMismatch`, `StreamMismatch` | `StreamMismatch` | `InvalidArgument` |
/// | `DestinationModified` | `DestinationModified` | `AlreadyExists` |
/// | `BadStream` | `BadStream` | `InvalidArgument` |
/// | `StreamTruncated` | `StreamTruncated` | `InvalidArgument` |
/// | `StreamFeatureNotSupported`, `UnknownStreamFeature`, `StreamFeatureInvalid`, `StreamFeatureIncompatible` | `StreamFeatureNotSupported` | `NotSupported` |
/// | `StreamIOError` | `StreamIo` | `Io` (`InvalidArgument` for a closed or read-only descriptor) |
/// | `ZIOError` | `IoError` | `Io` |
/// | `NoSpace` | `NoSpace` | `NoSpace` |
/// | `QuotaExceeded` | `QuotaExceeded` | `NoSpace` |
/// | `NameTooLong` | `NameTooLong` | `InvalidName` |
/// | `NameInvalid`, `SnapshotNameInvalid`, `FilesystemNameInvalid`, `BookmarkNameInvalid` | (kind only: [`Error::name_rule`](super::Error::name_rule) says which rule) | `InvalidName` |
/// | `ReadOnlyPool` | `ReadOnlyPool` | `ReadOnly` |
/// | `SuspendedPool` | `PoolSuspended` | `Busy` |
/// | `PropertyInvalid` | `PropertyInvalid` | `InvalidProperty` |
/// | `DatasetTypeInvalid`, `UnknownCryptCommand` | (cannot happen: typed arguments) | – |
/// | `EncryptionKeyNotLoaded` | `KeyNotLoaded` | `PermissionDenied` (creating under it), `InvalidArgument` (unloading it) |
/// | `EncryptionKeyAlreadyLoaded` | `KeyAlreadyLoaded` | `AlreadyExists` |
/// | `EncryptionKeyInvalid` | `WrongKey` | `WrongKey` |
/// | `ZCPSyntaxError`, `ZCPRuntimeError`, `ZCPTimeout`, `ZCPSpaceError`, `ZCPMemoryError` | (kinds: `ProgramSyntax`, `ProgramRuntime`, `InstructionLimit`, `MemoryLimit`) | those |
/// | `ZCPLimitInvalid` | (kind only) | `InvalidArgument` |
/// | `ZCPPermissionError` | (kind only) | `PermissionDenied` |
/// | `CheckpointExists` | `CheckpointExists` | `AlreadyExists` |
/// | `CheckpointNotFound` | `CheckpointNotFound` | `NotFound` |
/// | `CheckpointDiscarding` | `CheckpointDiscarding` | `Busy` |
/// | `DeviceRemovalRunning` | `DeviceRemovalRunning` | `Busy` |
/// | `DeviceTooBig` | `DeviceTooBig` | `InvalidArgument` |
/// | `RaidzExpansionRunning` | `RaidzExpansionRunning` | `Busy` |
/// | `BadHoldCleanupFD` | (cannot happen: holds are placed without one) | – |
/// | `ZFSInitializationFailed` | (kinds: `ModuleNotLoaded`, `PermissionDenied`, `VersionMismatch`) | those |
/// | `MultipleOperationsFailure` and its `*Failure` subclasses | [`Error::failures`](super::Error::failures): every item, its errno and its reason | the first item's |
/// | `ZFSGenericError` | (kind and errno) | – |
///
/// Reasons pyzfs has no class for: `IvsetGuidMissing`, `IvsetGuidMismatch`,
/// `StreamLargeBlockMismatch`, `ResumableReceiveExists`, `ExportRunning`, `ResilverRunning`,
/// `DeviceNotSupported`, `NotUserNamespace`, `EncryptionNotSupported`, `AshiftMismatch`,
/// `ModuleTooOld`: every `ZFS_ERR_*` number the kernel has has a reason. `DeviceInUse` and
/// `ReplicationMismatch` are zfs-core's own checks before it writes to a device, as the
/// `zpool` command's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// No such filesystem or volume.
    DatasetNotFound,
    /// No such snapshot.
    SnapshotNotFound,
    /// No such bookmark.
    BookmarkNotFound,
    /// No such pool (imported).
    PoolNotFound,
    /// The parent of the dataset to create does not exist.
    ParentNotFound,
    /// That tag is not held on that snapshot.
    HoldNotFound,
    /// A filesystem or volume of that name exists.
    DatasetExists,
    /// A snapshot of that name exists.
    SnapshotExists,
    /// A bookmark of that name exists.
    BookmarkExists,
    /// That tag is already held on that snapshot.
    HoldExists,
    /// The parent is a volume (or a snapshot): only filesystems have children.
    WrongParent,
    /// Only a clone can be promoted.
    NotClone,
    /// Rollback: later snapshots exist (destroy them, or roll back recursively).
    SnapshotNotLatest,
    /// The snapshot has clones (destroy or promote them first).
    SnapshotIsCloned,
    /// The snapshot has holds (release them first).
    SnapshotIsHeld,
    /// The dataset is in use (mounted and busy, open, or being changed).
    DatasetBusy,
    /// Two snapshots of one dataset in one atomic call.
    DuplicateSnapshots,
    /// The objects of one call are in different pools.
    PoolsDiffer,
    /// A bookmark's source snapshot or bookmark is not an ancestor of the new bookmark's
    /// dataset.
    BookmarkSourceNotAncestor,
    /// A bookmark's source is not an existing snapshot or bookmark.
    BookmarkSourceInvalid,
    /// A pool feature the call needs is not enabled (or not supported).
    FeatureNotEnabled,
    /// The stream does not fit the destination (an incremental stream whose source the
    /// destination lacks, or a full stream into an existing dataset's lineage).
    StreamMismatch,
    /// The destination changed since its last snapshot: receive with `force` to roll it back.
    DestinationModified,
    /// The stream is damaged or is no send stream.
    BadStream,
    /// The stream ends early.
    StreamTruncated,
    /// The stream uses a feature the module or pool does not support.
    StreamFeatureNotSupported,
    /// Reading or writing the stream's descriptor failed.
    StreamIo,
    /// The stream's large blocks need the large-block flag on receive.
    StreamLargeBlockMismatch,
    /// Raw incremental send: the source has no IV set GUID.
    IvsetGuidMissing,
    /// Raw incremental send: the source's IV set GUID differs.
    IvsetGuidMismatch,
    /// A resumable receive of the destination exists: resume or abort it first.
    ResumableReceiveExists,
    /// An I/O error in the pool.
    IoError,
    /// Out of space in the pool.
    NoSpace,
    /// A quota is exceeded.
    QuotaExceeded,
    /// A name is longer than ZFS allows.
    NameTooLong,
    /// The pool is read-only.
    ReadOnlyPool,
    /// The pool is suspended (I/O failures): clear it with `zpool clear` first.
    PoolSuspended,
    /// A property or value is invalid.
    PropertyInvalid,
    /// The encryption key is not loaded.
    KeyNotLoaded,
    /// The encryption key is already loaded.
    KeyAlreadyLoaded,
    /// The key given is not the dataset's.
    WrongKey,
    /// The pool already has a checkpoint.
    CheckpointExists,
    /// The pool has no checkpoint.
    CheckpointNotFound,
    /// The pool's checkpoint is being discarded.
    CheckpointDiscarding,
    /// A device removal is in progress.
    DeviceRemovalRunning,
    /// A device is larger than a vdev may be.
    DeviceTooBig,
    /// A raidz expansion is in progress.
    RaidzExpansionRunning,
    /// A resilver or rebuild is in progress.
    ResilverRunning,
    /// The pool is being exported.
    ExportRunning,
    /// The operation does not apply to this kind of device.
    DeviceNotSupported,
    /// The process is not in the dataset's user namespace.
    NotUserNamespace,
    /// This kind of encryption is not supported here.
    EncryptionNotSupported,
    /// The device's ashift does not match the pool's.
    AshiftMismatch,
    /// The kernel module is older than the call needs.
    ModuleTooOld,
    /// The device carries the label of a live pool (this one or another).
    DeviceInUse,
    /// The new vdev's redundancy differs from the pool's (`zpool add` without `-f`).
    ReplicationMismatch,
}

impl Reason {
    /// One line saying what it means.
    pub fn description(self) -> &'static str {
        use Reason as R;
        match self {
            R::DatasetNotFound => "dataset does not exist",
            R::SnapshotNotFound => "snapshot does not exist",
            R::BookmarkNotFound => "bookmark does not exist",
            R::PoolNotFound => "no such pool",
            R::ParentNotFound => "parent does not exist",
            R::HoldNotFound => "no such hold on the snapshot",
            R::DatasetExists => "dataset already exists",
            R::SnapshotExists => "snapshot already exists",
            R::BookmarkExists => "bookmark already exists",
            R::HoldExists => "the tag is already held on the snapshot",
            R::WrongParent => "the parent is not a filesystem",
            R::NotClone => "not a clone",
            R::SnapshotNotLatest => "more recent snapshots exist",
            R::SnapshotIsCloned => "the snapshot has clones",
            R::SnapshotIsHeld => "the snapshot is held",
            R::DatasetBusy => "the dataset is busy",
            R::DuplicateSnapshots => "two snapshots of one dataset in one call",
            R::PoolsDiffer => "the objects are in different pools",
            R::BookmarkSourceNotAncestor => {
                "the bookmark's source is not an ancestor of its dataset"
            }
            R::BookmarkSourceInvalid => "the bookmark's source is not a snapshot or bookmark",
            R::FeatureNotEnabled => "a pool feature it needs is not enabled",
            R::StreamMismatch => "the stream does not fit the destination",
            R::DestinationModified => "the destination has been modified since its last snapshot",
            R::BadStream => "the stream is damaged or not a send stream",
            R::StreamTruncated => "the stream ends early",
            R::StreamFeatureNotSupported => "the stream uses an unsupported feature",
            R::StreamIo => "reading or writing the stream failed",
            R::StreamLargeBlockMismatch => "the stream's large blocks need the large-block flag",
            R::IvsetGuidMissing => "the raw incremental source has no IV set GUID",
            R::IvsetGuidMismatch => "the raw incremental source's IV set GUID differs",
            R::ResumableReceiveExists => "a resumable receive exists",
            R::IoError => "I/O error in the pool",
            R::NoSpace => "out of space",
            R::QuotaExceeded => "quota exceeded",
            R::NameTooLong => "name is too long",
            R::ReadOnlyPool => "the pool is read-only",
            R::PoolSuspended => "the pool is suspended",
            R::PropertyInvalid => "invalid property or value",
            R::KeyNotLoaded => "the encryption key is not loaded",
            R::KeyAlreadyLoaded => "the encryption key is already loaded",
            R::WrongKey => "the key is not the dataset's",
            R::CheckpointExists => "the pool already has a checkpoint",
            R::CheckpointNotFound => "the pool has no checkpoint",
            R::CheckpointDiscarding => "the pool's checkpoint is being discarded",
            R::DeviceRemovalRunning => "a device removal is in progress",
            R::DeviceTooBig => "a device is too big",
            R::RaidzExpansionRunning => "a raidz expansion is in progress",
            R::ResilverRunning => "a resilver is in progress",
            R::ExportRunning => "the pool is being exported",
            R::DeviceNotSupported => "not supported for this kind of device",
            R::NotUserNamespace => "not in the dataset's user namespace",
            R::EncryptionNotSupported => "this encryption is not supported",
            R::AshiftMismatch => "the device's ashift does not match the pool's",
            R::ModuleTooOld => "the kernel module is too old for this call",
            R::DeviceInUse => "the device belongs to a pool",
            R::ReplicationMismatch => "the new vdev's redundancy differs from the pool's",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

#[cfg(test)]
mod tests {
    use super::Reason as R;

    #[test]
    fn descriptions_are_distinct_lines() {
        let all = [
            R::DatasetNotFound,
            R::SnapshotNotFound,
            R::BookmarkNotFound,
            R::PoolNotFound,
            R::ParentNotFound,
            R::HoldNotFound,
            R::DatasetExists,
            R::SnapshotExists,
            R::BookmarkExists,
            R::HoldExists,
            R::WrongParent,
            R::NotClone,
            R::SnapshotNotLatest,
            R::SnapshotIsCloned,
            R::SnapshotIsHeld,
            R::DatasetBusy,
            R::DuplicateSnapshots,
            R::PoolsDiffer,
            R::BookmarkSourceNotAncestor,
            R::BookmarkSourceInvalid,
            R::FeatureNotEnabled,
            R::StreamMismatch,
            R::DestinationModified,
            R::BadStream,
            R::StreamTruncated,
            R::StreamFeatureNotSupported,
            R::StreamIo,
            R::StreamLargeBlockMismatch,
            R::IvsetGuidMissing,
            R::IvsetGuidMismatch,
            R::ResumableReceiveExists,
            R::IoError,
            R::NoSpace,
            R::QuotaExceeded,
            R::NameTooLong,
            R::ReadOnlyPool,
            R::PoolSuspended,
            R::PropertyInvalid,
            R::KeyNotLoaded,
            R::KeyAlreadyLoaded,
            R::WrongKey,
            R::CheckpointExists,
            R::CheckpointNotFound,
            R::CheckpointDiscarding,
            R::DeviceRemovalRunning,
            R::DeviceTooBig,
            R::RaidzExpansionRunning,
            R::ResilverRunning,
            R::ExportRunning,
            R::DeviceNotSupported,
            R::NotUserNamespace,
            R::EncryptionNotSupported,
            R::AshiftMismatch,
            R::ModuleTooOld,
            R::DeviceInUse,
            R::ReplicationMismatch,
        ];
        let texts: std::collections::HashSet<String> = all.iter().map(R::to_string).collect();
        assert_eq!(texts.len(), all.len(), "two reasons read alike");
        assert!(texts.iter().all(|t| !t.is_empty() && !t.ends_with('.')));
    }
}
