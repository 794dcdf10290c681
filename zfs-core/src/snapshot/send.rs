//! Send and receive streams through any file descriptor (`zfs send`, `zfs receive`).

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd};

use bitflags::bitflags;
use libzfs_sys as sys;

use crate::dataset::DatasetTypes;
use crate::handle::{lzc, Zfs};
use crate::name::{AnyName, IncrementalSource, SnapshotName, ZfsName};
use crate::nvlist::NvList;
use crate::{Error, ErrorKind, Result};

bitflags! {
    /// Stream options for [`Zfs::send`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct SendFlags: u32 {
        /// `-e`: embedded-data records (needs `embedded_data`).
        const EMBED_DATA = sys::lzc_send_flags::LZC_SEND_FLAG_EMBED_DATA.0;
        /// `-L`: blocks over 128 KiB as they are.
        const LARGE_BLOCK = sys::lzc_send_flags::LZC_SEND_FLAG_LARGE_BLOCK.0;
        /// `-c`: compressed blocks as they are on disk.
        const COMPRESS = sys::lzc_send_flags::LZC_SEND_FLAG_COMPRESS.0;
        /// `-w`: raw (encrypted datasets stay encrypted).
        const RAW = sys::lzc_send_flags::LZC_SEND_FLAG_RAW.0;
        /// `-p`: the dataset's properties travel with the stream. Receive such a stream with
        /// [`Zfs::receive_stream`].
        const PROPERTIES = 1 << 16;
        /// `-R`: the dataset, its descendants, their snapshots (up to this one) and properties.
        /// Receive such a stream with [`Zfs::receive_stream`].
        const REPLICATE = 1 << 17;
    }
}

impl SendFlags {
    /// The flags `libzfs_core`'s plain stream understands.
    pub(crate) const LZC: SendFlags = SendFlags::EMBED_DATA
        .union(SendFlags::LARGE_BLOCK)
        .union(SendFlags::COMPRESS)
        .union(SendFlags::RAW);
}

/// Options for [`Zfs::receive`].
#[derive(Debug, Clone, Default)]
pub struct ReceiveOptions {
    /// Roll the target back to its latest snapshot first (`-F`).
    pub force: bool,
    /// The stream is raw (`zfs send -w`).
    pub raw: bool,
    /// For a full stream into a new clone: its origin.
    pub origin: Option<SnapshotName>,
    /// Properties to set on the received dataset (`-o`).
    pub props: Vec<(String, String)>,
    /// For [`Zfs::receive_stream`]: mount received filesystems (the CLI's default). Off, they
    /// are left unmounted (`-u`).
    pub mount: bool,
}

/// Refuses a descriptor that is not open for writing (closed, or read-only): libzfs's
/// package send would fail with the text "no error".
fn writable(
    op: &'static str,
    snapshot: &SnapshotName,
    fd: std::os::fd::BorrowedFd<'_>,
) -> Result<()> {
    // SAFETY: F_GETFL only reads the descriptor's flags.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    if flags < 0 {
        return Err(Error::from_errno(
            op,
            snapshot.as_str(),
            crate::handle::last_errno(),
        ));
    }
    if flags & libc::O_ACCMODE == libc::O_RDONLY {
        return Err(Error::from_errno(op, snapshot.as_str(), libc::EBADF)
            .with_message("the stream's descriptor is not open for writing"));
    }
    Ok(())
}

/// The optional source of an incremental stream as a C string.
pub(super) fn source_name(from: Option<&IncrementalSource>) -> Option<CString> {
    from.map(|f| CString::new(f.as_str()).expect("valid names have no NUL"))
}

impl Zfs {
    /// Writes a send stream of `snapshot` to `fd`: full, or incremental from `from` (an earlier
    /// snapshot or a bookmark of the same dataset).
    ///
    /// Plain streams come from `libzfs_core` and can be received with [`Zfs::receive`]. With
    /// [`SendFlags::PROPERTIES`] or [`SendFlags::REPLICATE`] the stream is the CLI's package
    /// format (`zfs send -p`/`-R`), made by libzfs; receive it with [`Zfs::receive_stream`].
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] for a missing snapshot; [`ErrorKind::InvalidArgument`] when
    /// `from` is not an earlier snapshot of the same lineage; an I/O error (e.g. `EPIPE`) from
    /// the descriptor.
    #[doc(alias = "lzc_send")]
    pub fn send(
        &self,
        snapshot: &SnapshotName,
        from: Option<&IncrementalSource>,
        fd: impl AsFd,
        flags: SendFlags,
    ) -> Result<()> {
        let op = "send";
        writable(op, snapshot, fd.as_fd())?;
        if flags.intersects(SendFlags::PROPERTIES | SendFlags::REPLICATE) {
            return self.send_package(snapshot, from, fd.as_fd().as_raw_fd(), flags);
        }
        let snap = CString::new(snapshot.as_str()).expect("no NUL");
        let from = source_name(from);
        let from_ptr = from.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
        let raw_fd = fd.as_fd().as_raw_fd();
        // SAFETY: NUL-terminated names; the descriptor is borrowed and open for the call.
        let rc = unsafe {
            sys::lzc_send(
                snap.as_ptr(),
                from_ptr,
                raw_fd,
                sys::lzc_send_flags((flags & SendFlags::LZC).bits()),
            )
        };
        lzc(op, snapshot.as_str(), rc).map_err(|e| match e.errno().map(|n| n.0) {
            Some(libc::EOVERFLOW) => e.with_kind(ErrorKind::InvalidArgument),
            Some(libc::ENOENT) => e.with_reason(crate::Reason::SnapshotNotFound),
            // `from` is in another pool, or no earlier snapshot of the same lineage.
            Some(libc::EXDEV) => {
                let other_pool = from
                    .as_ref()
                    .and_then(|f| f.to_str().ok())
                    .is_some_and(|f| {
                        !f.starts_with(&format!("{}/", snapshot.dataset().pool()))
                            && !f.starts_with(&format!("{}@", snapshot.dataset().pool()))
                            && !f.starts_with(&format!("{}#", snapshot.dataset().pool()))
                    });
                e.with_reason(if other_pool {
                    crate::Reason::PoolsDiffer
                } else {
                    crate::Reason::StreamMismatch
                })
            }
            Some(libc::EPIPE) | Some(libc::EIO) | Some(libc::EBADF) => {
                e.with_reason(crate::Reason::StreamIo)
            }
            _ => e,
        })
    }

    /// Reads a send stream from `fd` into `snapshot` (the dataset is created for a full
    /// stream). A stream that ends early or is corrupt fails cleanly: no partial dataset or
    /// snapshot is left visible.
    ///
    /// # Errors
    /// [`ErrorKind::AlreadyExists`] if the target exists (full stream) or has changed
    /// (incremental, without `force`); [`ErrorKind::InvalidArgument`] for a bad stream;
    /// [`ErrorKind::Io`] / others from the descriptor.
    #[doc(alias = "lzc_receive")]
    pub fn receive(
        &self,
        snapshot: &SnapshotName,
        fd: impl AsFd,
        opts: &ReceiveOptions,
    ) -> Result<()> {
        let op = "receive";
        let snap = CString::new(snapshot.as_str()).expect("no NUL");
        let origin = opts
            .origin
            .as_ref()
            .map(|o| CString::new(o.as_str()).expect("no NUL"));
        let props = self.received_props(snapshot, &opts.props)?;
        let b = crate::handle::boolean;
        let raw_fd = fd.as_fd().as_raw_fd();
        // SAFETY: NUL-terminated names, a live property list, a borrowed open descriptor.
        let rc = unsafe {
            sys::lzc_receive(
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

    /// `zfs send -p`/`-R` through libzfs.
    fn send_package(
        &self,
        snapshot: &SnapshotName,
        from: Option<&IncrementalSource>,
        raw_fd: i32,
        flags: SendFlags,
    ) -> Result<()> {
        let op = "send";
        let fs = self
            .open_dataset(
                snapshot.dataset().as_str(),
                DatasetTypes::FILESYSTEM | DatasetTypes::VOLUME,
            )
            .map_err(|e| e.with_operation(op))?;
        let to_short = CString::new(snapshot.short_name()).expect("no NUL");
        // libzfs wants the short name of the source snapshot.
        let from_short = match from {
            None => None,
            Some(IncrementalSource::Bookmark(mark)) => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    op,
                    mark.as_str(),
                    "with properties or replication, the source must be a snapshot",
                ))
            }
            Some(IncrementalSource::Snapshot(f)) => {
                if f.dataset() != snapshot.dataset() {
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        op,
                        f.as_str(),
                        format!("not a snapshot of '{}'", snapshot.dataset()),
                    ));
                }
                Some(CString::new(f.short_name()).expect("valid names have no NUL"))
            }
        };
        let b = crate::handle::boolean;
        let mut sf = sys::sendflags_t {
            replicate: b(flags.contains(SendFlags::REPLICATE)),
            props: b(flags.contains(SendFlags::PROPERTIES)),
            largeblock: b(flags.contains(SendFlags::LARGE_BLOCK)),
            embed_data: b(flags.contains(SendFlags::EMBED_DATA)),
            compress: b(flags.contains(SendFlags::COMPRESS)),
            raw: b(flags.contains(SendFlags::RAW)),
            ..Default::default()
        };
        self.check(op, snapshot.as_str(), || {
            // SAFETY: live dataset handle; NUL-terminated short names; flags live for the
            // call; no filter callback or debug list; the descriptor is borrowed and open.
            unsafe {
                sys::zfs_send(
                    fs.raw().ptr(),
                    from_short.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
                    to_short.as_ptr(),
                    &mut sf,
                    raw_fd,
                    None,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            }
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
    pub fn receive_stream(
        &self,
        target: &impl ZfsName,
        fd: impl AsFd,
        opts: &ReceiveOptions,
    ) -> Result<()> {
        let op = "receive";
        if let AnyName::Bookmark(mark) = target.to_any() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                mark.as_str(),
                "a stream is received into a filesystem, volume or snapshot",
            ));
        }
        let target = target.name();
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
            nomount: b(!opts.mount),
            ..Default::default()
        };
        let raw_fd = fd.as_fd().as_raw_fd();
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
