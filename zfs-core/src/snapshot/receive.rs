//! Receiving send streams (`zfs receive`): any stream the CLI takes, or one plain stream into
//! one snapshot through libzfs_core.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use libzfs_sys as sys;

use crate::handle::{lzc, Zfs};
use crate::name::{AnyName, SnapshotName, ZfsName};
use crate::nvlist::NvList;
use crate::{Error, ErrorKind, Result};

/// Options of [`Zfs::receive`]: `zfs receive [-F] [-u] [-o origin=SNAP] [-o PROP=VALUE]`.
/// Off by default, as the command without options: received filesystems are mounted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiveOptions {
    pub(crate) force: bool,
    pub(crate) no_mount: bool,
    pub(crate) origin: Option<SnapshotName>,
    pub(crate) props: Vec<(String, String)>,
    pub(crate) resumable: bool,
}

impl ReceiveOptions {
    /// No options, as `zfs receive TARGET`.
    pub fn new() -> ReceiveOptions {
        ReceiveOptions::default()
    }

    /// `-F`: roll the target back to its latest snapshot first (and, for `-R` streams,
    /// destroy what the sender no longer has).
    pub fn force(mut self, yes: bool) -> ReceiveOptions {
        self.force = yes;
        self
    }

    /// `-s`: if the stream is cut off, keep what was received and record where it stopped
    /// (the target's [`receive_resume_token`](crate::Dataset::receive_resume_token)), so that
    /// [`Zfs::send_resume`] can send the rest; [`Zfs::abort_receive`] throws it away.
    pub fn resumable(mut self, yes: bool) -> ReceiveOptions {
        self.resumable = yes;
        self
    }

    /// `-u`: leave received filesystems unmounted.
    pub fn no_mount(mut self, yes: bool) -> ReceiveOptions {
        self.no_mount = yes;
        self
    }

    /// `-o origin=SNAP`: receive a full stream as a clone of `snapshot`.
    pub fn origin(mut self, snapshot: SnapshotName) -> ReceiveOptions {
        self.origin = Some(snapshot);
        self
    }

    /// `-o PROP=VALUE`: set a property on the received dataset (locally, overriding the
    /// stream's).
    pub fn property(mut self, name: &str, value: &str) -> ReceiveOptions {
        self.props.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// Options of [`Zfs::receive_snapshot`] (`lzc_receive`): the few `zfs receive` options a
/// plain stream into one snapshot takes. Off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiveSnapshotOptions {
    pub(crate) force: bool,
    pub(crate) raw: bool,
    pub(crate) origin: Option<SnapshotName>,
    pub(crate) props: Vec<(String, String)>,
    pub(crate) resumable: bool,
}

impl ReceiveSnapshotOptions {
    /// No options, as `zfs receive SNAPSHOT`.
    pub fn new() -> ReceiveSnapshotOptions {
        ReceiveSnapshotOptions::default()
    }

    /// `-F`: roll the target back to its latest snapshot first.
    pub fn force(mut self, yes: bool) -> ReceiveSnapshotOptions {
        self.force = yes;
        self
    }

    /// `-s`: keep a cut-off stream's data and a resume token (see
    /// [`ReceiveOptions::resumable`]).
    pub fn resumable(mut self, yes: bool) -> ReceiveSnapshotOptions {
        self.resumable = yes;
        self
    }

    /// The stream is raw (`zfs send -w`): encrypted blocks stay encrypted.
    pub fn raw(mut self, yes: bool) -> ReceiveSnapshotOptions {
        self.raw = yes;
        self
    }

    /// For a full stream: receive it as a clone of `snapshot` (`-o origin=SNAP`).
    pub fn origin(mut self, snapshot: SnapshotName) -> ReceiveSnapshotOptions {
        self.origin = Some(snapshot);
        self
    }

    /// A property set on the received dataset as a received value (source `received`),
    /// checked and converted by libzfs as `zfs receive -o` does.
    pub fn property(mut self, name: &str, value: &str) -> ReceiveSnapshotOptions {
        self.props.push((name.to_owned(), value.to_owned()));
        self
    }
}

impl Zfs {
    /// Reads one plain send stream (`zfs send` without `-p`/`-R`) from `fd` into exactly
    /// `snapshot`, through libzfs_core (the dataset is created for a full stream): like
    /// `zfs receive -u SNAPSHOT`, nothing is mounted. Properties given are set as received
    /// ones. A stream that ends early or is corrupt fails cleanly:
    /// no partial dataset or snapshot is left visible. [`Zfs::receive`] takes any stream.
    ///
    /// # Errors
    /// [`ErrorKind::AlreadyExists`] if the target exists (full stream) or has changed
    /// (incremental, without `force`); [`ErrorKind::InvalidArgument`] for a bad stream;
    /// [`ErrorKind::Io`] / others from the descriptor.
    #[doc(alias = "lzc_receive")]
    pub fn receive_snapshot(
        &self,
        snapshot: &SnapshotName,
        fd: impl AsFd,
        opts: &ReceiveSnapshotOptions,
    ) -> Result<()> {
        self.receive_snapshot_from(snapshot, fd.as_fd(), opts)
    }

    /// One copy of the body above, whatever the argument types.
    fn receive_snapshot_from(
        &self,
        snapshot: &SnapshotName,
        fd: BorrowedFd<'_>,
        opts: &ReceiveSnapshotOptions,
    ) -> Result<()> {
        let op = "receive";
        let snap = CString::new(snapshot.as_str()).expect("no NUL");
        let origin = opts
            .origin
            .as_ref()
            .map(|o| CString::new(o.as_str()).expect("no NUL"));
        let props = self.received_props(snapshot, &opts.props)?;
        let b = crate::handle::boolean;
        let raw_fd = fd.as_raw_fd();
        // The two take the same arguments; the resumable one keeps a cut-off stream's data.
        let receive = if opts.resumable {
            sys::lzc_receive_resumable
        } else {
            sys::lzc_receive
        };
        // SAFETY: NUL-terminated names, a live property list, a borrowed open descriptor.
        let rc = unsafe {
            receive(
                snap.as_ptr(),
                props.as_ptr(),
                origin.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
                b(opts.force),
                b(opts.raw),
                raw_fd,
            )
        };
        lzc(op, snapshot.as_str(), rc).map_err(|e| match e.errno().map(|n| n.0) {
            Some(libc::ENODEV) => e
                .with_kind(ErrorKind::InvalidArgument)
                .with_message("the target does not have the incremental stream's source snapshot")
                .with_reason(crate::Reason::StreamMismatch),
            Some(libc::ETXTBSY) => e
                .with_message("the destination has been modified since its most recent snapshot")
                .with_reason(crate::Reason::DestinationModified),
            Some(libc::EEXIST) => e.with_reason(if self.exists(snapshot) {
                crate::Reason::SnapshotExists
            } else {
                crate::Reason::DatasetExists
            }),
            Some(libc::EINVAL) => e.with_reason(crate::Reason::BadStream),
            Some(libc::ENOENT) => e.with_reason(crate::Reason::DatasetNotFound),
            _ => e,
        })
    }

    /// `props` for `lzc_receive`, checked and converted by libzfs as `zfs receive -o` does
    /// (numbers and index values as integers). The stream's type is not known before it is
    /// read: filesystem properties are tried first, then a volume's.
    fn received_props(
        &self,
        snapshot: &SnapshotName,
        props: &[(String, String)],
    ) -> Result<NvList> {
        let mut strings = NvList::new();
        for (k, v) in props {
            strings.insert_str(k, v)?;
        }
        if strings.is_empty() {
            return Ok(strings);
        }
        let target = snapshot.dataset();
        let as_fs = self.validate_props(&target, sys::zfs_type_t::ZFS_TYPE_FILESYSTEM, &strings);
        match as_fs {
            Ok(typed) => Ok(typed),
            Err(e) => self
                .validate_props(&target, sys::zfs_type_t::ZFS_TYPE_VOLUME, &strings)
                .map_err(|_| e.with_operation("receive")),
        }
    }

    /// Receives any send stream as `zfs receive` does, including the package streams of
    /// `zfs send -p`/`-R` (properties, descendants, several snapshots). `target` is a dataset
    /// (the snapshot keeps the sender's name) or a snapshot name. Received properties read
    /// back with source `received`. Nothing half-received stays visible after a failure.
    ///
    /// # Errors
    /// [`ErrorKind::AlreadyExists`] if the target exists (full stream, without `force`);
    /// [`ErrorKind::InvalidArgument`] / [`ErrorKind::Io`] for a bad or truncated stream.
    #[doc(alias = "zfs_receive")]
    pub fn receive(
        &self,
        target: &impl ZfsName,
        fd: impl AsFd,
        opts: &ReceiveOptions,
    ) -> Result<()> {
        self.receive_from(&target.to_any(), fd.as_fd(), opts)
    }

    /// One copy of the body above, whatever the argument types.
    fn receive_from(
        &self,
        target: &AnyName,
        fd: BorrowedFd<'_>,
        opts: &ReceiveOptions,
    ) -> Result<()> {
        let op = "receive";
        if let AnyName::Bookmark(mark) = target {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                mark.as_str(),
                "a stream is received into a filesystem, volume or snapshot",
            ));
        }
        let target = target.as_str();
        let t = CString::new(target).expect("valid names have no NUL");
        let mut props = NvList::new();
        for (k, v) in &opts.props {
            props.insert_str(k, v)?;
        }
        if let Some(o) = &opts.origin {
            props.insert_str("origin", o.as_str())?;
        }
        let b = crate::handle::boolean;
        let mut rf = sys::recvflags_t {
            force: b(opts.force),
            nomount: b(opts.no_mount),
            resumable: b(opts.resumable),
            ..Default::default()
        };
        let raw_fd = fd.as_raw_fd();
        self.check(op, target, || {
            // SAFETY: live handle; NUL-terminated target; live property list and flags; the
            // descriptor is borrowed and open; no stream AVL (libzfs builds its own).
            unsafe {
                sys::zfs_receive(
                    self.raw().ptr(),
                    t.as_ptr(),
                    props.as_ptr(),
                    &mut rf,
                    raw_fd,
                    std::ptr::null_mut(),
                )
            }
        })
    }
}
