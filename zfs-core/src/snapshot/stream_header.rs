//! A send stream's first record (its BEGIN record, as `zstream dump` shows it): read before the
//! receive, so that a caller can decide where a stream goes from what it says it is.

use std::os::fd::{AsFd, AsRawFd, RawFd};

use bitflags::bitflags;

use crate::{DatasetType, Error, ErrorKind, Result};

/// The size of a stream's begin record (`dmu_replay_record_t`, fixed by the stream format).
pub(crate) const BEGIN_RECORD_LEN: usize = 312;

/// `DMU_BACKUP_MAGIC`: the first word of every BEGIN record's payload.
const MAGIC: u64 = 0x2_f5ba_cbac;

/// `DRR_BEGIN`: the record type of the first record.
const DRR_BEGIN: u32 = 0;

bitflags! {
    /// What a stream needs of the receiving pool (the stream's feature flags,
    /// `DMU_BACKUP_FEATURE_*`): compressed or raw blocks, large blocks, embedded data, and so
    /// on. Bits this version does not name are kept.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct StreamFeatures: u64 {
        /// Deduplicated stream (an old format; receive refuses it since OpenZFS 2.2).
        const DEDUP = 1 << 0;
        /// Deduplicated stream with properties.
        const DEDUP_PROPS = 1 << 1;
        /// System-attribute spill blocks.
        const SA_SPILL = 1 << 2;
        /// Embedded-data block pointers (`zfs send -e`).
        const EMBED_DATA = 1 << 16;
        /// LZ4-compressed blocks.
        const LZ4 = 1 << 17;
        /// Blocks larger than 128 KiB (`zfs send -L`).
        const LARGE_BLOCKS = 1 << 19;
        /// A resumed stream (`zfs send -t`).
        const RESUMING = 1 << 20;
        /// A redacted stream (`zfs send --redact`).
        const REDACTED = 1 << 21;
        /// Compressed blocks as stored (`zfs send -c`).
        const COMPRESSED = 1 << 22;
        /// Large dnodes.
        const LARGE_DNODE = 1 << 23;
        /// Raw, still-encrypted blocks (`zfs send -w`).
        const RAW = 1 << 24;
        /// Zstd-compressed blocks.
        const ZSTD = 1 << 25;
        /// The snapshot's holds travel with it (`zfs send --holds`).
        const HOLDS = 1 << 26;
        /// An incremental stream that switches to large blocks.
        const SWITCH_TO_LARGE_BLOCKS = 1 << 27;
        /// File names longer than 255 bytes (OpenZFS 2.3 and later).
        const LONGNAME = 1 << 28;
        /// Large microzap objects (OpenZFS 2.3 and later).
        const LARGE_MICROZAP = 1 << 29;
        // The stream keeps 56 bits of feature flags.
        const _ = (1 << 56) - 1;
    }
}

/// What kind of stream it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StreamKind {
    /// One snapshot, full or incremental (`zfs send` without `-p`/`-R`): what
    /// [`Zfs::receive_snapshot`](crate::Zfs::receive_snapshot) takes.
    Snapshot,
    /// A package of several streams with properties (`zfs send -p`, `-R`, `-I`): received
    /// with [`Zfs::receive`](crate::Zfs::receive) only.
    Package,
}

/// A send stream's first record, read with [`StreamHeader::read`]; hand it to
/// [`Zfs::receive_snapshot_with_header`](crate::Zfs::receive_snapshot_with_header) to receive
/// the rest of the stream (`lzc_receive_with_header`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamHeader {
    kind: StreamKind,
    snapshot: String,
    guid: u64,
    from_guid: u64,
    creation: u64,
    dataset_type: Option<DatasetType>,
    features: StreamFeatures,
    clone: bool,
    record: Record,
}

/// The record as read, aligned as the C struct it is read as (`dmu_replay_record_t`, whose
/// fields are 8-byte words): libzfs_core copies it as that struct.
#[derive(Clone, PartialEq, Eq)]
#[repr(C, align(8))]
struct Record([u8; BEGIN_RECORD_LEN]);

impl std::fmt::Debug for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{BEGIN_RECORD_LEN} bytes>")
    }
}

impl StreamHeader {
    /// Reads the first record of the stream on `fd` (exactly its 312 bytes: the rest stays
    /// to be read by the receive), as `zfs receive` does before it decides anything.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] (reason [`BadStream`](crate::Reason::BadStream)) if the
    /// stream ends first or does not start with a BEGIN record; the descriptor's own error if
    /// the read fails.
    pub fn read(fd: impl AsFd) -> Result<StreamHeader> {
        let fd = fd.as_fd().as_raw_fd();
        let record = read_record(fd).map_err(|errno| {
            let e = Error::from_errno("read stream header", "stream", errno);
            if errno == libc::EINVAL {
                e.with_kind(ErrorKind::InvalidArgument)
                    .with_message("the stream ends before its first record")
                    .with_reason(crate::Reason::BadStream)
            } else {
                e
            }
        })?;
        StreamHeader::parse(record)
    }

    /// The header a begin record says, or why it is none.
    pub(crate) fn parse(record: [u8; BEGIN_RECORD_LEN]) -> Result<StreamHeader> {
        let bad = |why: &str| {
            Error::new(
                ErrorKind::InvalidArgument,
                "read stream header",
                "stream",
                why.to_owned(),
            )
            .with_reason(crate::Reason::BadStream)
        };
        let u32_at = |at: usize, swap: bool| {
            let v = u32::from_ne_bytes(record[at..at + 4].try_into().expect("4 bytes"));
            if swap {
                v.swap_bytes()
            } else {
                v
            }
        };
        let u64_at = |at: usize, swap: bool| {
            let v = u64::from_ne_bytes(record[at..at + 8].try_into().expect("8 bytes"));
            if swap {
                v.swap_bytes()
            } else {
                v
            }
        };
        // A stream written on a machine of the other byte order reads swapped; the receive
        // swaps it back, and so does this.
        let swap = match u64_at(8, false) {
            MAGIC => false,
            m if m.swap_bytes() == MAGIC => true,
            _ => {
                return Err(bad(
                    "not a send stream: its first record has no stream magic",
                ))
            }
        };
        if u32_at(0, swap) != DRR_BEGIN {
            return Err(bad(
                "not a send stream: its first record is not a BEGIN record",
            ));
        }
        let versioninfo = u64_at(16, swap);
        let kind = match versioninfo & 0b11 {
            1 => StreamKind::Snapshot,
            2 => StreamKind::Package,
            other => return Err(bad(&format!("unknown stream header type {other}"))),
        };
        let name = &record[56..BEGIN_RECORD_LEN];
        let len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        Ok(StreamHeader {
            kind,
            snapshot: String::from_utf8_lossy(&name[..len]).into_owned(),
            guid: u64_at(40, swap),
            from_guid: u64_at(48, swap),
            creation: u64_at(24, swap),
            // dmu_objset_type_t: DMU_OST_ZFS 2, DMU_OST_ZVOL 3.
            dataset_type: match u32_at(32, swap) {
                2 => Some(DatasetType::Filesystem),
                3 => Some(DatasetType::Volume),
                _ => None,
            },
            features: StreamFeatures::from_bits_retain((versioninfo >> 2) & ((1 << 56) - 1)),
            clone: u32_at(36, swap) & 1 != 0,
            record: Record(record),
        })
    }

    /// One snapshot's stream, or a package of several.
    pub fn kind(&self) -> StreamKind {
        self.kind
    }

    /// The snapshot the sender sent (`pool/fs@snap`, the sender's name: the receiving side
    /// may put it anywhere).
    pub fn snapshot(&self) -> &str {
        &self.snapshot
    }

    /// The sent snapshot's GUID.
    pub fn guid(&self) -> u64 {
        self.guid
    }

    /// For an incremental stream, the GUID of the snapshot it starts from (which the target
    /// must have); `None` for a full stream.
    pub fn from_guid(&self) -> Option<u64> {
        (self.from_guid != 0).then_some(self.from_guid)
    }

    /// The sent snapshot's creation time, seconds since the epoch.
    pub fn creation(&self) -> u64 {
        self.creation
    }

    /// A filesystem's stream or a volume's; `None` for a package (its own header names
    /// neither).
    pub fn dataset_type(&self) -> Option<DatasetType> {
        self.dataset_type
    }

    /// What the stream needs of the receiving pool.
    pub fn features(&self) -> StreamFeatures {
        self.features
    }

    /// Whether the stream was sent from a clone and is received as one (`DRR_FLAG_CLONE`).
    pub fn is_clone(&self) -> bool {
        self.clone
    }

    /// The record as read, for the receive.
    pub(crate) fn record(&self) -> &[u8; BEGIN_RECORD_LEN] {
        &self.record.0
    }
}

/// Reads one begin record from `fd`; an errno if the stream ends first (`EINVAL`) or the read
/// fails.
pub(crate) fn read_record(fd: RawFd) -> std::result::Result<[u8; BEGIN_RECORD_LEN], i32> {
    let mut header = [0u8; BEGIN_RECORD_LEN];
    let mut got = 0;
    while got < BEGIN_RECORD_LEN {
        // SAFETY: `header[got..]` is writable for the length given; the descriptor is open.
        let n = unsafe {
            libc::read(
                fd,
                header[got..].as_mut_ptr().cast(),
                BEGIN_RECORD_LEN - got,
            )
        };
        match n {
            0 => return Err(libc::EINVAL),
            n if n < 0 => {
                let errno = crate::handle::last_errno();
                if errno != libc::EINTR {
                    return Err(errno);
                }
            }
            n => got += n as usize,
        }
    }
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A begin record as the sender writes it, in this machine's byte order or swapped.
    fn record(swap: bool, versioninfo: u64, from: u64, name: &str) -> [u8; BEGIN_RECORD_LEN] {
        let mut r = [0u8; BEGIN_RECORD_LEN];
        let w64 = |r: &mut [u8; BEGIN_RECORD_LEN], at: usize, v: u64| {
            let v = if swap { v.swap_bytes() } else { v };
            r[at..at + 8].copy_from_slice(&v.to_ne_bytes());
        };
        let w32 = |r: &mut [u8; BEGIN_RECORD_LEN], at: usize, v: u32| {
            let v = if swap { v.swap_bytes() } else { v };
            r[at..at + 4].copy_from_slice(&v.to_ne_bytes());
        };
        w32(&mut r, 0, DRR_BEGIN);
        w64(&mut r, 8, MAGIC);
        w64(&mut r, 16, versioninfo);
        w64(&mut r, 24, 1_700_000_000);
        w32(&mut r, 32, 3);
        w32(&mut r, 36, 1);
        w64(&mut r, 40, 0xabcdef);
        w64(&mut r, 48, from);
        r[56..56 + name.len()].copy_from_slice(name.as_bytes());
        r
    }

    #[test]
    fn a_begin_record_reads_the_same_in_either_byte_order() {
        let vi = 1 | (StreamFeatures::LARGE_BLOCKS | StreamFeatures::RAW).bits() << 2;
        for swap in [false, true] {
            let h = StreamHeader::parse(record(swap, vi, 7, "tank/vol@now")).unwrap();
            assert_eq!(h.kind(), StreamKind::Snapshot);
            assert_eq!(h.snapshot(), "tank/vol@now");
            assert_eq!((h.guid(), h.from_guid()), (0xabcdef, Some(7)));
            assert_eq!(h.creation(), 1_700_000_000);
            assert_eq!(h.dataset_type(), Some(DatasetType::Volume));
            assert_eq!(
                h.features(),
                StreamFeatures::LARGE_BLOCKS | StreamFeatures::RAW
            );
            assert!(h.is_clone());
        }
        let package = StreamHeader::parse(record(false, 2, 0, "tank@x")).unwrap();
        assert_eq!(package.kind(), StreamKind::Package);
        assert_eq!(package.from_guid(), None);
        // Feature bits this version does not name are kept, not dropped.
        let unknown = StreamHeader::parse(record(false, 1 | (1 << 40), 0, "a@b")).unwrap();
        assert_eq!(unknown.features().bits(), 1 << 38);
    }

    #[test]
    fn what_is_not_a_begin_record_is_a_bad_stream() {
        let mut not_magic = record(false, 1, 0, "a@b");
        not_magic[8] ^= 0xff;
        let mut not_begin = record(false, 1, 0, "a@b");
        not_begin[0] = 5;
        for r in [not_magic, not_begin, record(false, 3, 0, "a@b"), [0; 312]] {
            let e = StreamHeader::parse(r).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
            assert_eq!(e.reason(), Some(crate::Reason::BadStream), "{e}");
        }
    }

    #[test]
    fn a_stream_that_ends_early_is_a_bad_stream() {
        let short = tempfile_with(&[0u8; 100]);
        let e = StreamHeader::read(&short).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        assert_eq!(e.reason(), Some(crate::Reason::BadStream), "{e}");
    }

    fn tempfile_with(bytes: &[u8]) -> std::fs::File {
        use std::io::{Seek, Write};
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(bytes).unwrap();
        f.rewind().unwrap();
        f
    }
}
