//! Space accounting: what a range of snapshots uses, and how big a send stream would be.

use std::ffi::CString;

use libzfs_sys as sys;

use super::SendFlags;
use crate::handle::{lzc, Zfs};
use crate::name::{IncrementalSource, SnapshotName};
use crate::{Error, ErrorKind, Result};

impl Zfs {
    /// Bytes that destroying the snapshots from `first` through `last` (of one dataset) would
    /// free, as `zfs destroy -nv FS@FIRST%LAST` reports it.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] naming the missing snapshot; [`ErrorKind::InvalidArgument`] when
    /// `first` is not older than `last` in the same lineage.
    #[doc(alias = "lzc_snaprange_space")]
    pub fn reclaimable_space(&self, first: &SnapshotName, last: &SnapshotName) -> Result<u64> {
        let (a, b) = (
            CString::new(first.as_str()).expect("no NUL"),
            CString::new(last.as_str()).expect("no NUL"),
        );
        let mut used = 0u64;
        // SAFETY: NUL-terminated names, an out-parameter that lives for the call.
        lzc("measure space of", first.as_str(), unsafe {
            sys::lzc_snaprange_space(a.as_ptr(), b.as_ptr(), &mut used)
        })
        .map_err(order_error)
        .map_err(|e| match e.errno().map(|n| n.0) {
            // Either end may be the missing one: name it.
            Some(libc::ENOENT) => {
                let missing = if self.exists(first) { last } else { first };
                e.with_object(missing.as_str())
                    .with_message("no such snapshot")
                    .with_reason(crate::Reason::SnapshotNotFound)
            }
            _ => e,
        })?;
        Ok(used)
    }

    /// The estimated size in bytes of a send stream of `snapshot` (incremental from `from`),
    /// as `zfs send -n -P` prints it for a plain stream.
    ///
    /// # Errors
    /// As [`Zfs::send`]; [`ErrorKind::NotSupported`] with [`SendFlags::PROPERTIES`],
    /// [`SendFlags::REPLICATE`], [`SendFlags::INTERMEDIATES`] or [`SendFlags::HOLDS`], whose
    /// package streams the kernel's estimate does not cover.
    #[doc(alias = "lzc_send_space")]
    pub fn send_space(
        &self,
        snapshot: &SnapshotName,
        from: Option<&IncrementalSource>,
        flags: SendFlags,
    ) -> Result<u64> {
        let op = "estimate send size of";
        if !SendFlags::LZC.contains(flags) {
            return Err(Error::new(
                ErrorKind::NotSupported,
                op,
                snapshot.as_str(),
                "the estimate covers plain streams only, not -p/-R package streams",
            ));
        }
        let snap = CString::new(snapshot.as_str()).expect("no NUL");
        let from_name = from;
        let from = super::send::source_name(from);
        let mut space = 0u64;
        // SAFETY: NUL-terminated names (or NULL), an out-parameter that lives for the call.
        let rc = unsafe {
            sys::lzc_send_space(
                snap.as_ptr(),
                from.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
                sys::lzc_send_flags(flags.bits()),
                &mut space,
            )
        };
        lzc(op, snapshot.as_str(), rc)
            .map_err(order_error)
            .map_err(|e| match (e.errno().map(|n| n.0), from_name) {
                // The snapshot, or the source it starts from, is the missing one: name it (a
                // missing bookmark is ESRCH).
                (Some(libc::ENOENT | libc::ESRCH), Some(source)) if self.exists(snapshot) => {
                    let reason = match source {
                        IncrementalSource::Bookmark(_) => crate::Reason::BookmarkNotFound,
                        _ => crate::Reason::SnapshotNotFound,
                    };
                    e.with_object(source.as_str())
                        .with_message("the incremental source does not exist")
                        .with_reason(reason)
                }
                (Some(libc::ENOENT), _) => e
                    .with_message("no such snapshot")
                    .with_reason(crate::Reason::SnapshotNotFound),
                _ => e,
            })?;
        Ok(space)
    }
}

/// EXDEV (unrelated snapshots) reads as a cross-device error; it is an argument problem here.
fn order_error(e: Error) -> Error {
    match e.errno().map(|e| e.0) {
        Some(libc::EXDEV) | Some(libc::EOVERFLOW) => e.with_kind(ErrorKind::InvalidArgument),
        _ => e,
    }
}
