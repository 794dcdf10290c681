//! Bookmarks (`zfs bookmark`): a snapshot's place in history, kept after the snapshot goes,
//! usable as the source of an incremental send.

use std::ffi::CString;
use std::ptr;

use libzfs_sys as sys;

use super::batch;
use crate::handle::{lzc, Zfs};
use crate::name::{BookmarkName, DatasetName, IncrementalSource};
use crate::nvlist::NvList;
use crate::Result;

/// What a bookmark records of the snapshot it was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BookmarkInfo {
    /// The bookmark.
    pub name: BookmarkName,
    /// The snapshot's GUID (an incremental stream from the bookmark starts at it).
    pub guid: u64,
    /// The transaction group the snapshot was taken in.
    pub createtxg: u64,
    /// The snapshot's creation time, seconds since the epoch.
    pub creation: u64,
    /// For a redaction bookmark (`zfs redact`), the GUIDs of the redaction snapshots.
    pub redact_snaps: Option<Vec<u64>>,
}

impl Zfs {
    /// Creates bookmarks in one atomic call, each pair `(source, bookmark)` in the order of
    /// `zfs bookmark SOURCE BOOKMARK`: the source is a snapshot, or another bookmark of the
    /// same dataset to copy (a [`SnapshotName`](crate::SnapshotName), a [`BookmarkName`] or an
    /// [`IncrementalSource`]). An empty list does nothing.
    ///
    /// # Errors
    /// [`ErrorKind::AlreadyExists`](crate::ErrorKind::AlreadyExists),
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) (missing source snapshot) and others
    /// per bookmark in [`Error::failures`](crate::Error::failures).
    #[doc(alias = "lzc_bookmark")]
    pub fn bookmark<S>(&self, bookmarks: &[(S, BookmarkName)]) -> Result<()>
    where
        S: Clone + Into<IncrementalSource>,
    {
        if bookmarks.is_empty() {
            return Ok(());
        }
        let mut list = NvList::new();
        for (source, mark) in bookmarks {
            list.insert_str(mark.as_str(), source.clone().into().as_str())?;
        }
        batch::run("bookmark", bookmarks[0].1.as_str(), |errs| {
            // SAFETY: live list.
            unsafe { sys::lzc_bookmark(list.as_ptr(), errs) }
        })
        .map_err(|e| {
            e.with_reasons(|errno| match errno {
                libc::EEXIST => Some(crate::Reason::BookmarkExists),
                // pyzfs says SnapshotNotFound for a missing source, as we do.
                libc::ENOENT => Some(crate::Reason::SnapshotNotFound),
                libc::EINVAL => Some(crate::Reason::BookmarkSourceInvalid),
                libc::EXDEV => Some(crate::Reason::PoolsDiffer),
                libc::ENOTSUP => Some(crate::Reason::FeatureNotEnabled),
                _ => None,
            })
        })
    }

    /// The bookmarks of a dataset, sorted (`zfs list -t bookmark -d 1 DATASET`).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) if the dataset does not exist.
    #[doc(alias = "lzc_get_bookmarks")]
    pub fn bookmarks(&self, dataset: &DatasetName) -> Result<Vec<BookmarkName>> {
        let mut marks: Vec<BookmarkName> = self
            .bookmarks_with_txg(dataset)?
            .into_iter()
            .map(|(mark, _)| mark)
            .collect();
        marks.sort();
        Ok(marks)
    }

    /// The bookmarks of a dataset with the transaction group of the snapshot each was made
    /// from (what orders them against snapshots).
    pub(crate) fn bookmarks_with_txg(
        &self,
        dataset: &DatasetName,
    ) -> Result<Vec<(BookmarkName, u64)>> {
        let name = CString::new(dataset.as_str()).expect("no NUL");
        let mut props = NvList::new();
        props.insert_flag("createtxg")?;
        let mut out: *mut sys::nvlist_t = ptr::null_mut();
        // SAFETY: NUL-terminated name, live property request, owned result.
        lzc("list bookmarks of", dataset.as_str(), unsafe {
            sys::lzc_get_bookmarks(name.as_ptr(), props.as_ptr(), &mut out)
        })?;
        // SAFETY: the call succeeded and handed us the list: short name -> {createtxg ->
        // {value}}.
        let list = unsafe { NvList::from_raw(out) };
        Ok(list
            .iter()
            .map(|p| {
                let txg = p
                    .as_list()
                    .and_then(|props| props.get_list("createtxg"))
                    .and_then(|v| v.get_u64("value"))
                    .unwrap_or(0);
                (
                    BookmarkName::trusted(format!("{dataset}#{}", p.name())),
                    txg,
                )
            })
            .collect())
    }

    /// Every bookmark of a dataset with what it records, in one call, sorted by name
    /// (`zfs list -t bookmark -d 1 -o name,guid,createtxg,creation DATASET`): what
    /// [`Zfs::bookmark_info`] reads for one, without a read per bookmark.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) if the dataset does not exist.
    #[doc(alias = "lzc_get_bookmarks")]
    pub fn bookmarks_info(&self, dataset: &DatasetName) -> Result<Vec<BookmarkInfo>> {
        let mut all = self.bookmarks_with_props("list bookmarks of", dataset, dataset.as_str())?;
        all.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(all)
    }

    /// A bookmark's properties (`zfs get guid,createtxg,creation,redact_snaps BOOKMARK`):
    /// what identifies the snapshot it was made from.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) if there is no such bookmark.
    #[doc(alias = "lzc_get_bookmarks")]
    pub fn bookmark_info(&self, bookmark: &BookmarkName) -> Result<BookmarkInfo> {
        let op = "get properties of";
        self.bookmarks_with_props(op, &bookmark.dataset(), bookmark.as_str())?
            .into_iter()
            .find(|b| b.name == *bookmark)
            .ok_or_else(|| {
                crate::Error::new(
                    crate::ErrorKind::NotFound,
                    op,
                    bookmark.as_str(),
                    "no such bookmark",
                )
                .with_reason(crate::Reason::BookmarkNotFound)
            })
    }

    /// The bookmarks of `dataset` with their properties, in the kernel's order.
    fn bookmarks_with_props(
        &self,
        op: &'static str,
        dataset: &DatasetName,
        object: &str,
    ) -> Result<Vec<BookmarkInfo>> {
        // lzc_get_bookmark_props never returns `redact_snaps` (the kernel adds it only when
        // asked by name): list the dataset's bookmarks with the properties named.
        let name = CString::new(dataset.as_str()).expect("no NUL");
        let mut props = NvList::new();
        for p in ["guid", "createtxg", "creation", "redact_snaps"] {
            props.insert_flag(p)?;
        }
        let mut out: *mut sys::nvlist_t = ptr::null_mut();
        // SAFETY: NUL-terminated name, live property request, owned result.
        lzc(op, object, unsafe {
            sys::lzc_get_bookmarks(name.as_ptr(), props.as_ptr(), &mut out)
        })?;
        // SAFETY: the call succeeded and handed us the list: short name -> property ->
        // {value}.
        let list = unsafe { NvList::from_raw(out) };
        Ok(list
            .iter()
            .filter_map(|p| {
                let found = p.as_list()?;
                let value = |key: &str| found.get_list(key).and_then(|v| v.get_u64("value"));
                Some(BookmarkInfo {
                    name: BookmarkName::trusted(format!("{dataset}#{}", p.name())),
                    guid: value("guid").unwrap_or(0),
                    createtxg: value("createtxg").unwrap_or(0),
                    creation: value("creation").unwrap_or(0),
                    redact_snaps: found
                        .get_list("redact_snaps")
                        .and_then(|v| v.get_u64_array("value")),
                })
            })
            .collect())
    }

    /// Destroys bookmarks in one call (`zfs destroy fs#mark`).
    ///
    /// Unlike libzfs_core, which skips names that do not exist, this refuses the call if any
    /// bookmark is missing (as [`Zfs::destroy_snapshots`] does), so a typo is never a silent
    /// success. An empty list does nothing.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) listing the missing ones in
    /// [`Error::failures`](crate::Error::failures) (nothing destroyed); other failures per
    /// bookmark there too.
    #[doc(alias = "lzc_destroy_bookmarks")]
    pub fn destroy_bookmarks(&self, bookmarks: &[BookmarkName]) -> Result<()> {
        if bookmarks.is_empty() {
            return Ok(());
        }
        let missing: Vec<&BookmarkName> = bookmarks.iter().filter(|b| !self.exists(*b)).collect();
        if let Some(first) = missing.first() {
            let failures = missing
                .iter()
                .map(|m| (m.to_string(), libc::ENOENT))
                .collect();
            return Err(crate::Error::from_batch(
                "destroy",
                first.as_str(),
                libc::ENOENT,
                failures,
            )
            .with_reason(crate::Reason::BookmarkNotFound));
        }
        let list = super::names_list(bookmarks)?;
        batch::run("destroy", bookmarks[0].as_str(), |errs| {
            // SAFETY: live list.
            unsafe { sys::lzc_destroy_bookmarks(list.as_ptr(), errs) }
        })
    }
}
