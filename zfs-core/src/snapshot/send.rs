//! Send and receive streams through any file descriptor (`zfs send`, `zfs receive`).

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd};

use bitflags::bitflags;
use libzfs_sys as sys;

use crate::handle::{lzc, Zfs};
use crate::name::SnapshotName;
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
    }
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
}

/// The optional source (`from`) of an incremental stream, as a C string.
pub(super) fn source_name(op: &'static str, from: Option<&str>) -> Result<Option<CString>> {
    from.map(|f| {
        CString::new(f)
            .map_err(|_| Error::new(ErrorKind::InvalidName, op, f, "name contains a NUL byte"))
    })
    .transpose()
}

impl Zfs {
    /// Writes a send stream of `snapshot` to `fd`: full, or incremental from `from` (an earlier
    /// snapshot or a bookmark of the same dataset).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] for a missing snapshot; [`ErrorKind::InvalidArgument`] when
    /// `from` is not an earlier snapshot of the same lineage; an I/O error (e.g. `EPIPE`) from
    /// the descriptor.
    #[doc(alias = "lzc_send")]
    pub fn send(
        &self,
        snapshot: &SnapshotName,
        from: Option<&str>,
        fd: impl AsFd,
        flags: SendFlags,
    ) -> Result<()> {
        let op = "send";
        let snap = CString::new(snapshot.as_str()).expect("no NUL");
        let from = source_name(op, from)?;
        let from_ptr = from.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
        let raw_fd = fd.as_fd().as_raw_fd();
        // SAFETY: NUL-terminated names; the descriptor is borrowed and open for the call.
        let rc = unsafe {
            sys::lzc_send(
                snap.as_ptr(),
                from_ptr,
                raw_fd,
                sys::lzc_send_flags(flags.bits()),
            )
        };
        lzc(op, snapshot.as_str(), rc).map_err(|e| {
            if e.kind() == ErrorKind::DeviceTooSmall {
                e.with_kind(ErrorKind::InvalidArgument)
            } else {
                e
            }
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
        let mut props = NvList::new();
        for (k, v) in &opts.props {
            props.insert_str(k, v)?;
        }
        let b = |v: bool| {
            if v {
                sys::boolean_t::B_TRUE
            } else {
                sys::boolean_t::B_FALSE
            }
        };
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
        lzc(op, snapshot.as_str(), rc)
    }
}
