//! Resumable replication: a receive that is cut off keeps what it got and says where it
//! stopped (`receive_resume_token`); a send picks up from there (`zfs send -t`), or the
//! partial state is thrown away (`zfs receive -A`).

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd};

use libzfs_sys as sys;

use super::SendFlags;
use crate::dataset::{Dataset, DatasetTypes};
use crate::handle::Zfs;
use crate::name::{DatasetName, SnapshotName};
use crate::nvlist::NvList;
use crate::{Error, ErrorKind, Result};

/// A resume token decoded: which snapshot was being sent, from where, and how far the
/// receiver got (what `zfs send -nv -t TOKEN` prints as "resume token contents").
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResumeToken {
    /// The token as the receiver's `receive_resume_token` property gives it.
    pub token: String,
    /// The snapshot being sent, by its name on the sending side.
    pub to_name: SnapshotName,
    /// That snapshot's GUID: a resumed send is refused if the name now means another one.
    pub to_guid: u64,
    /// For an incremental stream, the GUID of its source snapshot or bookmark.
    pub from_guid: Option<u64>,
    /// Bytes the receiver has.
    pub bytes: u64,
    /// The object and offset the stream resumes at.
    pub object: u64,
    /// See `object`.
    pub offset: u64,
    /// The stream options the original send used; a resumed send uses them too.
    pub flags: SendFlags,
}

impl Zfs {
    /// Decodes a resume token (the `receive_resume_token` property of a dataset whose
    /// resumable receive was interrupted).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for text that is not a token (libzfs says why: bad
    /// version, checksum or length).
    #[doc(alias = "zfs_send_resume_token_to_nvlist")]
    pub fn resume_token(&self, token: &str) -> Result<ResumeToken> {
        let op = "decode resume token";
        let bad = |why: String| Error::new(ErrorKind::InvalidArgument, op, token, why);
        let c = CString::new(token).map_err(|_| bad("the token contains a NUL byte".into()))?;
        crate::handle::clear_errno();
        // SAFETY: live handle; a NUL-terminated token; the result is a list we own or NULL.
        let raw = unsafe { sys::zfs_send_resume_token_to_nvlist(self.raw().ptr(), c.as_ptr()) };
        if raw.is_null() {
            // libzfs explains in the handle's description, without an error code.
            let e = self.last_error(op, token);
            return Err(bad(e.message().to_owned()));
        }
        // SAFETY: handed to us by libzfs; freed once when dropped.
        let list = unsafe { NvList::from_raw(raw) };
        let field = |key: &str| {
            list.get_u64(key)
                .ok_or_else(|| bad(format!("the token has no '{key}'")))
        };
        let mut flags = SendFlags::empty();
        for (key, flag) in [
            ("embedok", SendFlags::EMBED_DATA),
            ("largeblockok", SendFlags::LARGE_BLOCK),
            ("compressok", SendFlags::COMPRESS),
            ("rawok", SendFlags::RAW),
        ] {
            if list.contains(key) {
                flags |= flag;
            }
        }
        Ok(ResumeToken {
            token: token.to_owned(),
            to_name: list
                .get_str("toname")
                .and_then(|n| SnapshotName::new(n).ok())
                .ok_or_else(|| bad("the token names no snapshot".into()))?,
            to_guid: field("toguid")?,
            from_guid: list.get_u64("fromguid"),
            bytes: field("bytes")?,
            object: field("object")?,
            offset: field("offset")?,
            flags,
        })
    }

    /// Sends the rest of the stream that `token` describes to `fd` (`zfs send -t TOKEN`):
    /// received with [`ReceiveOptions::resumable`](crate::ReceiveOptions::resumable) into the
    /// same target, it completes the interrupted receive. The snapshot (and the incremental
    /// source) must still exist on this side.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the token's snapshot or source is gone or is now another
    /// snapshot of the same name; errors of the descriptor as for [`Zfs::send`].
    #[doc(alias = "zfs_send_resume")]
    #[doc(alias = "lzc_send_resume")]
    pub fn send_resume(&self, token: &ResumeToken, fd: impl AsFd) -> Result<()> {
        let op = "resume send of";
        let fd = fd.as_fd();
        let c = CString::new(token.token.as_str()).expect("decoded tokens have no NUL");
        // Nothing printed: no verbosity, no dry run, no progress thread.
        let mut flags = sys::sendflags_t::default();
        self.check(op, token.to_name.as_str(), || {
            // SAFETY: live handle; flags live for the call; a NUL-terminated token; the
            // descriptor is borrowed and open for the call.
            unsafe {
                sys::zfs_send_resume(self.raw().ptr(), &mut flags, fd.as_raw_fd(), c.as_ptr())
            }
        })
        .map_err(|e| match e.libzfs_code() {
            Some(code) if code == sys::zfs_error_t::EZFS_BADPATH.0 as i32 => {
                e.with_kind(ErrorKind::NotFound)
            }
            _ => e,
        })
    }

    /// Sends what an interrupted resumable receive into `dataset` has kept so far (`zfs send
    /// -S DATASET`): a stream that, received with
    /// [`ReceiveOptions::resumable`](crate::ReceiveOptions::resumable) elsewhere, leaves the
    /// same partial state there, which [`Zfs::send_resume`] from the original sender can then
    /// complete. For moving a half-done transfer to another machine.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if `dataset` holds no partial receive.
    #[doc(alias = "zfs_send_saved")]
    pub fn send_saved(&self, dataset: &DatasetName, fd: impl AsFd) -> Result<()> {
        let op = "send saved state of";
        let types = DatasetTypes::FILESYSTEM | DatasetTypes::VOLUME;
        let ds = self
            .open_dataset(dataset.as_str(), types)
            .map_err(|e| e.with_operation(op))?;
        // libzfs fails without saying why when there is nothing saved.
        if ds.receive_resume_token()?.is_none() {
            return Err(Error::new(
                ErrorKind::NotFound,
                op,
                dataset.as_str(),
                "it holds no partially received state",
            ));
        }
        let fd = fd.as_fd();
        let mut flags = sys::sendflags_t {
            saved: sys::boolean_t::B_TRUE,
            ..Default::default()
        };
        self.check(op, dataset.as_str(), || {
            // SAFETY: live dataset handle; flags live for the call; the descriptor is
            // borrowed and open; no resume token (from the start).
            unsafe {
                sys::zfs_send_saved(ds.raw().ptr(), &mut flags, fd.as_raw_fd(), std::ptr::null())
            }
        })
    }

    /// Throws away the partial state of an interrupted resumable receive into `target`
    /// (`zfs receive -A TARGET`): a partly received new dataset is destroyed; for an
    /// incremental stream into an existing one, its hidden `TARGET/%recv` clone is, and
    /// `target` stays as it was before the receive.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if `target` does not exist or holds no resumable state.
    #[doc(alias = "zfs_destroy")]
    pub fn abort_receive(&self, target: &DatasetName) -> Result<()> {
        let op = "abort receive into";
        let types = DatasetTypes::FILESYSTEM | DatasetTypes::VOLUME;
        let partial = format!("{target}/%recv");
        let doomed = match self.open_dataset(&partial, types) {
            Ok(clone) => clone,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                let ds = self
                    .open_dataset(target.as_str(), types)
                    .map_err(|e| e.with_operation(op))?;
                if ds.property("inconsistent")?.value != "1" || ds.receive_resume_token()?.is_none()
                {
                    return Err(Error::new(
                        ErrorKind::NotFound,
                        op,
                        target.as_str(),
                        "it holds no resumable receive state to abort",
                    ));
                }
                ds
            }
            Err(e) => return Err(e.with_operation(op)),
        };
        self.check(op, target.as_str(), || {
            // SAFETY: live dataset handle; not deferred.
            unsafe { sys::zfs_destroy(doomed.raw().ptr(), sys::boolean_t::B_FALSE) }
        })
    }
}

impl Dataset<'_> {
    /// Where an interrupted resumable receive into this dataset stopped (its
    /// `receive_resume_token`, decoded), or `None` if there is none.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the dataset is gone.
    pub fn receive_resume_token(&self) -> Result<Option<ResumeToken>> {
        // libzfs has no value to give (rather than `-`) when there is no token.
        let value = match self.property("receive_resume_token") {
            Ok(v) => v.value,
            Err(e) if e.kind() == ErrorKind::InvalidProperty => return Ok(None),
            Err(e) => return Err(e),
        };
        if value == "-" || value.is_empty() {
            return Ok(None);
        }
        self.zfs().resume_token(&value).map(Some)
    }
}
