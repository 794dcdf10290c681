//! Bookmarks (`zfs bookmark`): a snapshot's place in history, kept after the snapshot goes,
//! usable as the source of an incremental send.

use std::ffi::CString;
use std::ptr;

use libzfs_sys as sys;

use super::batch;
use crate::handle::{lzc, Zfs};
use crate::name::{BookmarkName, DatasetName, SnapshotName};
use crate::nvlist::NvList;
use crate::Result;

impl Zfs {
    /// Creates bookmarks of snapshots in one atomic call, each pair `(snapshot, bookmark)` in
    /// the order of `zfs bookmark SNAPSHOT BOOKMARK`. An empty list does nothing.
    ///
    /// # Errors
    /// [`ErrorKind::AlreadyExists`](crate::ErrorKind::AlreadyExists),
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) (missing source snapshot) and others
    /// per bookmark in [`Error::failures`](crate::Error::failures).
    #[doc(alias = "lzc_bookmark")]
    pub fn bookmark(&self, bookmarks: &[(SnapshotName, BookmarkName)]) -> Result<()> {
        if bookmarks.is_empty() {
            return Ok(());
        }
        let mut list = NvList::new();
        for (snap, mark) in bookmarks {
            list.insert_str(mark.as_str(), snap.as_str())?;
        }
        batch::run("bookmark", bookmarks[0].1.as_str(), |errs| {
            // SAFETY: live list.
            unsafe { sys::lzc_bookmark(list.as_ptr(), errs) }
        })
        .map_err(|e| match e.errno().map(|n| n.0) {
            Some(libc::EEXIST) => e.with_reason(crate::Reason::BookmarkExists),
            // pyzfs says SnapshotNotFound for a missing source, as we do.
            Some(libc::ENOENT) => e.with_reason(crate::Reason::SnapshotNotFound),
            Some(libc::EINVAL) => e.with_reason(crate::Reason::BookmarkSourceInvalid),
            Some(libc::EXDEV) => e.with_reason(crate::Reason::PoolsDiffer),
            Some(libc::ENOTSUP) => e.with_reason(crate::Reason::FeatureNotEnabled),
            _ => e,
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
