//! Send and receive streams through any file descriptor (`zfs send`, `zfs receive`).

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use bitflags::bitflags;
use libzfs_sys as sys;

use crate::dataset::DatasetTypes;
use crate::handle::{lzc, Zfs};
use crate::name::{IncrementalSource, SnapshotName};
use crate::{Error, ErrorKind, Result};

bitflags! {
    /// Stream options for [`Zfs::send`], each a flag of `zfs send`.
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
        /// [`Zfs::receive`].
        const PROPERTIES = 1 << 16;
        /// `-R`: the dataset, its descendants, their snapshots (up to this one) and properties.
        /// Receive such a stream with [`Zfs::receive`].
        const REPLICATE = 1 << 17;
        /// `-I`: with an incremental source, every snapshot between it and the one sent, not
        /// only the last (a package stream; receive it with [`Zfs::receive`]).
        const INTERMEDIATES = 1 << 18;
        /// `-h`: the snapshots' holds travel with the stream and are placed again on the
        /// receiving side (a package stream; receive it with [`Zfs::receive`]).
        const HOLDS = 1 << 19;
    }
}

/// How far a running send has got (`zfs send -v` prints it every second).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SendProgress {
    /// Bytes written to the stream so far.
    pub bytes: u64,
    /// Blocks visited so far.
    pub blocks: u64,
}

impl SendFlags {
    /// The flags that make a package stream (libzfs's `zfs_send`).
    pub(crate) const PACKAGE: SendFlags = SendFlags::PROPERTIES
        .union(SendFlags::REPLICATE)
        .union(SendFlags::INTERMEDIATES)
        .union(SendFlags::HOLDS);

    /// The flags `libzfs_core`'s plain stream understands.
    pub(crate) const LZC: SendFlags = SendFlags::EMBED_DATA
        .union(SendFlags::LARGE_BLOCK)
        .union(SendFlags::COMPRESS)
        .union(SendFlags::RAW);
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
    /// snapshot or a bookmark of the same dataset): `zfs send [-i FROM] SNAPSHOT > FILE`.
    ///
    /// Plain streams come from `libzfs_core` and can be received with [`Zfs::receive_snapshot`] or [`Zfs::receive`]. With
    /// [`SendFlags::PROPERTIES`] or [`SendFlags::REPLICATE`] the stream is the CLI's package
    /// format (`zfs send -p`/`-R`), made by libzfs; receive it with [`Zfs::receive`].
    ///
    /// Send and receive through files: a full stream, then an incremental one.
    ///
    /// ```no_run
    /// use std::fs::File;
    /// use zfs_core::{DatasetName, IncrementalSource, ReceiveOptions, SendFlags};
    /// use zfs_core::{SnapshotName, Zfs};
    ///
    /// # fn main() -> zfs_core::Result<()> {
    /// let zfs = Zfs::open()?;
    /// let (a, b) = (SnapshotName::new("tank/home@a")?, SnapshotName::new("tank/home@b")?);
    /// // zfs send -c tank/home@a > /var/tmp/full.zfs
    /// let full = File::create("/var/tmp/full.zfs").unwrap();
    /// zfs.send(&a, None, &full, SendFlags::COMPRESS)?;
    /// // zfs send -c -i tank/home@a tank/home@b > /var/tmp/incr.zfs
    /// let incr = File::create("/var/tmp/incr.zfs").unwrap();
    /// zfs.send(&b, Some(&IncrementalSource::from(a)), &incr, SendFlags::COMPRESS)?;
    /// // zfs receive -u backup/home < /var/tmp/full.zfs; the same with incr.zfs
    /// let target = DatasetName::new("backup/home")?;
    /// let opts = ReceiveOptions::new().no_mount(true);
    /// zfs.receive(&target, File::open("/var/tmp/full.zfs").unwrap(), &opts)?;
    /// zfs.receive(&target, File::open("/var/tmp/incr.zfs").unwrap(), &opts)?;
    /// # Ok(()) }
    /// ```
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
        self.send_to(snapshot, from, fd.as_fd(), flags)
    }

    /// One copy of the body above, whatever the argument types.
    fn send_to(
        &self,
        snapshot: &SnapshotName,
        from: Option<&IncrementalSource>,
        fd: BorrowedFd<'_>,
        flags: SendFlags,
    ) -> Result<()> {
        let op = "send";
        writable(op, snapshot, fd)?;
        if flags.intersects(SendFlags::PACKAGE) {
            return self.send_package(snapshot, from, fd.as_raw_fd(), flags);
        }
        let snap = CString::new(snapshot.as_str()).expect("no NUL");
        let from = source_name(from);
        let from_ptr = from.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
        let raw_fd = fd.as_raw_fd();
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

    /// How far the send of `snapshot` that this process is writing to `fd` has got: call it
    /// from another thread while [`Zfs::send`] runs (with that thread's own [`Zfs`]), as
    /// `zfs send -v` does. `fd` must be a pipe: libzfs_core relays a send to a file or socket
    /// through a pipe of its own, and the kernel knows a send only by the descriptor it
    /// writes to.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if no send of `snapshot` to `fd` is running in this process.
    #[doc(alias = "zfs_send_progress")]
    pub fn send_progress(&self, snapshot: &SnapshotName, fd: impl AsFd) -> Result<SendProgress> {
        let op = "read send progress of";
        let snap = self
            .open_dataset(snapshot.as_str(), DatasetTypes::SNAPSHOT)
            .map_err(|e| e.with_operation(op))?;
        let mut progress = SendProgress::default();
        let raw_fd = fd.as_fd().as_raw_fd();
        self.check(op, snapshot.as_str(), || {
            // SAFETY: live snapshot handle; the out-parameters live for the call.
            unsafe {
                sys::zfs_send_progress(
                    snap.raw().ptr(),
                    raw_fd,
                    &mut progress.bytes,
                    &mut progress.blocks,
                )
            }
        })
        .map_err(|e| match e.errno().map(|n| n.0) {
            Some(libc::ENOENT) => e.with_kind(ErrorKind::NotFound),
            _ => e,
        })?;
        Ok(progress)
    }

    /// `zfs send -p`/`-R`/`-I`/`-h` through libzfs.
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
                    "with properties, replication, intermediates or holds, the source must be \
                     a snapshot",
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
            doall: b(flags.contains(SendFlags::INTERMEDIATES)),
            holds: b(flags.contains(SendFlags::HOLDS)),
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
}
