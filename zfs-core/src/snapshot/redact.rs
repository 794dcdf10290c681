//! Redacted replication (`zfs redact`, `zfs send --redact`): a stream of a snapshot without
//! the blocks that its redaction snapshots changed or removed (a clone with the secrets
//! deleted), so a copy can be shared without them.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd};

use libzfs_sys as sys;

use super::SendFlags;
use crate::handle::{lzc, Zfs};
use crate::name::{BookmarkName, IncrementalSource, SnapshotName};
use crate::nvlist::NvList;
use crate::{Error, ErrorKind, Result};

impl Zfs {
    /// Makes the redaction bookmark `bookmark` of `snapshot` (`zfs redact SNAPSHOT BOOKMARK
    /// REDACTION_SNAPSHOT...`): it records which blocks of `snapshot` each of
    /// `redaction_snapshots` (snapshots of clones of it) changed or freed. Returns the
    /// bookmark's full name.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for no redaction snapshots or one that does not descend
    /// from `snapshot`; [`ErrorKind::AlreadyExists`] for an existing bookmark;
    /// [`ErrorKind::NotSupported`] without the `redaction_bookmarks` feature.
    #[doc(alias = "lzc_redact")]
    pub fn redact(
        &self,
        snapshot: &SnapshotName,
        bookmark: &str,
        redaction_snapshots: &[SnapshotName],
    ) -> Result<BookmarkName> {
        let op = "redact";
        let mark = snapshot.dataset().bookmark(bookmark)?;
        if redaction_snapshots.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                snapshot.as_str(),
                "no redaction snapshots given",
            ));
        }
        let mut snaps = NvList::new();
        for s in redaction_snapshots {
            snaps.insert_flag(s.as_str())?;
        }
        let snap = CString::new(snapshot.as_str()).expect("no NUL");
        let short = CString::new(bookmark).expect("a valid bookmark name has no NUL");
        // SAFETY: NUL-terminated names; a live list the call only reads.
        let rc = unsafe { sys::lzc_redact(snap.as_ptr(), short.as_ptr(), snaps.as_ptr()) };
        lzc(op, snapshot.as_str(), rc).map_err(|e| match e.errno().map(|n| n.0) {
            Some(libc::EEXIST) => e.with_reason(crate::Reason::BookmarkExists),
            Some(libc::ENOTSUP) => e.with_reason(crate::Reason::FeatureNotEnabled),
            _ => e,
        })?;
        Ok(mark)
    }

    /// Writes the stream of `snapshot` redacted by the redaction bookmark `redaction` to
    /// `fd` (`zfs send --redact BOOKMARK [-i FROM] SNAPSHOT`): the blocks the bookmark's
    /// redaction snapshots changed are left out. Received, the copy is a redacted dataset
    /// (it cannot be mounted until a later stream fills it in). Only the flags of a plain
    /// stream apply.
    ///
    /// # Errors
    /// As [`Zfs::send`]; [`ErrorKind::InvalidArgument`] for a bookmark that is not a
    /// redaction bookmark of `snapshot`, or package flags.
    #[doc(alias = "lzc_send_redacted")]
    pub fn send_redacted(
        &self,
        snapshot: &SnapshotName,
        from: Option<&IncrementalSource>,
        fd: impl AsFd,
        flags: SendFlags,
        redaction: &BookmarkName,
    ) -> Result<()> {
        let op = "send";
        if !SendFlags::LZC.contains(flags) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                snapshot.as_str(),
                "a redacted stream is a plain one: no -p, -R, -I or -h",
            ));
        }
        let snap = CString::new(snapshot.as_str()).expect("no NUL");
        let from = super::send::source_name(from);
        // The kernel wants the bookmark's short name, on `snapshot`'s dataset.
        if redaction.dataset() != snapshot.dataset() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                redaction.as_str(),
                format!("not a bookmark of '{}'", snapshot.dataset()),
            ));
        }
        let short = redaction.as_str().rsplit('#').next().unwrap_or_default();
        let book = CString::new(short).expect("no NUL");
        let fd = fd.as_fd();
        // SAFETY: NUL-terminated names; the descriptor is borrowed and open for the call.
        let rc = unsafe {
            sys::lzc_send_redacted(
                snap.as_ptr(),
                from.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
                fd.as_raw_fd(),
                sys::lzc_send_flags(flags.bits()),
                book.as_ptr(),
            )
        };
        lzc(op, snapshot.as_str(), rc).map_err(|e| match e.errno().map(|n| n.0) {
            Some(libc::ENOENT) => e.with_reason(crate::Reason::BookmarkNotFound),
            _ => e,
        })
    }
}
