//! Datasets: filesystems, volumes and snapshots, opened as [`Dataset`] handles.

mod batch;
mod create;
mod default_quota;
mod delegation;
mod destroy;
mod destroy_program;
mod list;
mod mount;
mod props;
mod share;
mod user_props;
mod userspace;

use std::ffi::CString;
use std::ptr::NonNull;

use bitflags::bitflags;
use libzfs_sys as sys;

pub use batch::MAX_BATCH_THREADS;
pub use create::CreateDataset;
pub use default_quota::DefaultQuota;
pub use delegation::{Delegation, DelegationScope, Grantee};
pub(crate) use destroy::snapshot_refusal;
pub use destroy_program::MAX_PROGRAM_DESTROY_OBJECTS;
pub use list::Listed;
pub use mount::MountOptions;
pub(crate) use props::unknown_value;
pub use props::{CanMount, Mountpoint};
pub use share::ShareProtocol;
pub use user_props::{
    UserPropertyChange, MAX_CHANGES_PER_PROGRAM, MAX_USER_PROPERTY_NAME, MAX_USER_PROPERTY_VALUE,
};
pub use userspace::{SpaceOwner, SpaceUsage};

use crate::handle::Zfs;
use crate::name::{AnyName, OpenableName, ZfsName};
use crate::{Error, ErrorKind, Result};

bitflags! {
    /// A set of dataset types, for opening and listing (`zfs list -t filesystem,volume,...`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct DatasetTypes: u32 {
        /// Filesystems.
        const FILESYSTEM = sys::zfs_type_t::ZFS_TYPE_FILESYSTEM.0;
        /// Volumes (zvols).
        const VOLUME = sys::zfs_type_t::ZFS_TYPE_VOLUME.0;
        /// Snapshots.
        const SNAPSHOT = sys::zfs_type_t::ZFS_TYPE_SNAPSHOT.0;
        /// Bookmarks.
        const BOOKMARK = sys::zfs_type_t::ZFS_TYPE_BOOKMARK.0;
    }
}

/// What a dataset is: its `type` property (`zfs get type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum DatasetType {
    /// A filesystem.
    Filesystem,
    /// A volume.
    Volume,
    /// A snapshot.
    Snapshot,
    /// A bookmark.
    Bookmark,
}

impl DatasetType {
    /// The type libzfs reports for `name`; a type zfs-core does not know is an error (never
    /// read as another type).
    fn from_raw(op: &'static str, name: &str, t: sys::zfs_type_t) -> Result<DatasetType> {
        Ok(match t {
            sys::zfs_type_t::ZFS_TYPE_FILESYSTEM => DatasetType::Filesystem,
            sys::zfs_type_t::ZFS_TYPE_VOLUME => DatasetType::Volume,
            sys::zfs_type_t::ZFS_TYPE_SNAPSHOT => DatasetType::Snapshot,
            sys::zfs_type_t::ZFS_TYPE_BOOKMARK => DatasetType::Bookmark,
            _ => {
                return Err(Error::new(
                    ErrorKind::NotSupported,
                    op,
                    name,
                    format!("'{name}' is of a type zfs-core does not know ({})", t.0),
                ))
            }
        })
    }

    /// The one-type set.
    pub fn as_set(self) -> DatasetTypes {
        match self {
            DatasetType::Filesystem => DatasetTypes::FILESYSTEM,
            DatasetType::Volume => DatasetTypes::VOLUME,
            DatasetType::Snapshot => DatasetTypes::SNAPSHOT,
            DatasetType::Bookmark => DatasetTypes::BOOKMARK,
        }
    }
}

/// An open filesystem, volume or snapshot. Closed on drop; borrows its [`Zfs`] handle.
pub struct Dataset<'z> {
    zfs: &'z Zfs,
    raw: NonNull<sys::zfs_handle_t>,
    name: AnyName,
    kind: DatasetType,
}

impl std::fmt::Debug for Dataset<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dataset").field("name", &self.name).finish()
    }
}

impl Drop for Dataset<'_> {
    fn drop(&mut self) {
        // SAFETY: we own the handle and close it exactly once.
        unsafe { sys::zfs_close(self.raw.as_ptr()) }
    }
}

impl Zfs {
    /// Opens a filesystem, volume or snapshot by name (`tank/a`, `tank/a@snap`), for the calls
    /// on [`Dataset`] (no command of its own).
    ///
    /// A bookmark has no handle, so a [`BookmarkName`](crate::BookmarkName) does not compile:
    ///
    /// ```compile_fail
    /// # fn open(zfs: &zfs_core::Zfs, mark: &zfs_core::BookmarkName) {
    /// let _ = zfs.dataset(mark);
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if it does not exist; [`ErrorKind::InvalidArgument`] for an
    /// [`AnyName`] that is a bookmark (see [`Zfs::bookmarks`]).
    #[doc(alias = "zfs_open")]
    pub fn dataset(&self, name: &impl OpenableName) -> Result<Dataset<'_>> {
        self.dataset_of(&name.to_any())
    }

    /// One copy of the body above, whatever the argument types.
    fn dataset_of(&self, name: &AnyName) -> Result<Dataset<'_>> {
        if let AnyName::Bookmark(mark) = name.clone() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "open",
                mark.as_str(),
                "a bookmark cannot be opened",
            ));
        }
        self.open_dataset(
            name.name(),
            DatasetTypes::FILESYSTEM | DatasetTypes::VOLUME | DatasetTypes::SNAPSHOT,
        )
    }

    /// Opens `name`, a name already validated (every caller holds a typed name).
    pub(crate) fn open_dataset(&self, name: &str, types: DatasetTypes) -> Result<Dataset<'_>> {
        let c = CString::new(name).expect("validated names have no NUL");
        crate::handle::clear_errno();
        // SAFETY: live handle, NUL-terminated name; NULL on failure with the error recorded.
        let raw = unsafe { sys::zfs_open(self.raw().ptr(), c.as_ptr(), types.bits() as i32) };
        match NonNull::new(raw) {
            Some(raw) => {
                // SAFETY: a live handle, just opened.
                let t = unsafe { sys::zfs_get_type(raw.as_ptr()) };
                let kind = DatasetType::from_raw("open", name, t).inspect_err(|_| {
                    // SAFETY: just opened, closed once here.
                    unsafe { sys::zfs_close(raw.as_ptr()) };
                })?;
                Ok(Dataset {
                    zfs: self,
                    raw,
                    name: AnyName::trusted(name.to_owned()),
                    kind,
                })
            }
            None => {
                let e = self.last_error("open", name);
                if e.kind() != ErrorKind::NotFound {
                    return Err(e);
                }
                let missing = if name.contains('@') {
                    crate::Reason::SnapshotNotFound
                } else {
                    crate::Reason::DatasetNotFound
                };
                Err(e.with_reason(missing))
            }
        }
    }

    /// Whether a filesystem, volume, snapshot or bookmark of that name exists (whether
    /// `zfs list -t all NAME` succeeds).
    #[doc(alias = "lzc_exists")]
    pub fn exists(&self, name: &impl ZfsName) -> bool {
        self.exists_any(&name.to_any())
    }

    /// One copy of the body above, whatever the argument types.
    fn exists_any(&self, name: &AnyName) -> bool {
        if let AnyName::Bookmark(mark) = name.clone() {
            // lzc_exists does not see bookmarks.
            return self
                .bookmarks(&mark.dataset())
                .is_ok_and(|all| all.contains(&mark));
        }
        let name = name.name();
        let c = CString::new(name).expect("validated names have no NUL");
        if name.contains('@') {
            // A snapshot's hold list is a cheaper question than its statistics (1.5 ms
            // against 2.4 ms under emulation, zfs-breakdown): ENOENT means it is not there.
            let mut holds: *mut sys::nvlist_t = std::ptr::null_mut();
            // SAFETY: NUL-terminated name; on success `holds` is a list we own.
            match unsafe { sys::lzc_get_holds(c.as_ptr(), &mut holds) } {
                0 => {
                    if !holds.is_null() {
                        // SAFETY: handed to us by the call above; freed once.
                        drop(unsafe { crate::nvlist::NvList::from_raw(holds) });
                    }
                    return true;
                }
                libc::ENOENT => return false,
                _ => {} // anything else: ask lzc_exists
            }
        }
        // SAFETY: NUL-terminated name; libzfs_core is initialised by `Zfs::open`.
        unsafe { sys::lzc_exists(c.as_ptr()) != sys::boolean_t::B_FALSE }
    }
}

impl<'z> Dataset<'z> {
    /// The full name: a filesystem or volume, or a snapshot.
    pub fn name(&self) -> &AnyName {
        &self.name
    }

    /// What it is (`zfs get type`).
    pub fn kind(&self) -> DatasetType {
        self.kind
    }

    /// The handle, for one libzfs call (see [`Guarded`](crate::handle::Guarded)).
    pub(crate) fn raw(&self) -> crate::handle::Guarded<sys::zfs_handle_t> {
        crate::handle::Guarded::new(self.raw.as_ptr())
    }

    /// Reloads the properties libzfs caches in the handle, so that every read says what the
    /// kernel says now, as `zfs get` would, whoever changed the dataset since.
    ///
    /// libzfs keeps the old values when the reload fails, so a dataset that is gone
    /// (destroyed or renamed elsewhere) is asked about by name and reported as `NotFound`
    /// instead of read from the cache.
    pub(crate) fn refresh(&self) -> Result<()> {
        // SAFETY: live handle.
        unsafe { sys::zfs_refresh_properties(self.raw().ptr()) }
        if self.zfs.exists_any(&self.name) {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::NotFound,
            "get property",
            self.name.as_str(),
            "the dataset no longer exists (destroyed or renamed since it was opened)",
        ))
    }

    /// The handle it was opened from.
    pub fn zfs(&self) -> &'z Zfs {
        self.zfs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dataset_type_is_read_and_no_other() {
        use sys::zfs_type_t as T;
        for (t, kind) in [
            (T::ZFS_TYPE_FILESYSTEM, DatasetType::Filesystem),
            (T::ZFS_TYPE_VOLUME, DatasetType::Volume),
            (T::ZFS_TYPE_SNAPSHOT, DatasetType::Snapshot),
            (T::ZFS_TYPE_BOOKMARK, DatasetType::Bookmark),
        ] {
            assert_eq!(DatasetType::from_raw("open", "p/x", t).unwrap(), kind);
        }
        // A pool, a vdev, or a type a newer OpenZFS adds: refused, never guessed.
        for t in [T::ZFS_TYPE_POOL, T(1 << 5), T(1 << 20)] {
            let e = DatasetType::from_raw("list", "p/x", t).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::NotSupported);
            assert_eq!(e.operation(), "list");
            assert!(
                e.to_string()
                    .contains("'p/x' is of a type zfs-core does not know"),
                "{e}"
            );
        }
    }
}
