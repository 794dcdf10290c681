//! What changed between a snapshot and a later snapshot or the live filesystem (`zfs diff`).

use std::ffi::CString;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use libzfs_sys as sys;

use crate::dataset::DatasetTypes;
use crate::handle::Zfs;
use crate::name::SnapshotName;
use crate::{Error, ErrorKind, Result};

/// How a path changed: the first column of `zfs diff`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Change {
    /// Created (`+`).
    Added,
    /// Removed (`-`).
    Removed,
    /// Contents or metadata changed (`M`); for a link-count change, by how much.
    Modified {
        /// The change of the number of hard links, when that is what changed.
        links: Option<i64>,
    },
    /// Renamed (`R`) to this path.
    Renamed {
        /// The new path.
        to: PathBuf,
    },
}

/// One changed path, as `zfs diff -F` reports it. Paths are absolute, under the filesystem's
/// mountpoint at the time of the call.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DiffEntry {
    /// What happened.
    pub change: Change,
    /// The file type letter of `zfs diff -F`: `F` file, `/` directory, `@` symlink, `|` FIFO,
    /// `=` socket, `B` block device, `C` character device, `>` door, `P` event port.
    pub file_type: char,
    /// The path (the old path for a rename).
    pub path: PathBuf,
}

impl Zfs {
    /// The paths that changed from snapshot `from` to `to`: another snapshot of the same
    /// filesystem, or the live filesystem when `None` (`zfs diff -F -H FROM [TO]`). The
    /// filesystem must be mounted: paths are resolved through it, as `zfs diff` does.
    ///
    /// Both snapshots are checked before libzfs is called (a diff that fails inside libzfs
    /// leaks the descriptors of libzfs's own pipe). A diff against the live filesystem takes a
    /// temporary snapshot named after the process (`fs@zfs-diff-PID`), so such diffs run one
    /// at a time in a process; diffs between two snapshots run in parallel.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] for a missing snapshot; [`ErrorKind::InvalidArgument`] when the filesystem is not mounted or
    /// `to` is not a later snapshot of the same filesystem.
    #[doc(alias = "zfs_show_diffs")]
    pub fn diff(&self, from: &SnapshotName, to: Option<&SnapshotName>) -> Result<Vec<DiffEntry>> {
        let op = "diff";
        let fs = self
            .open_dataset(from.dataset().as_str(), DatasetTypes::FILESYSTEM)
            .map_err(|e| e.with_operation(op))?;
        let from_txg = self.createtxg(op, from)?;
        let to = match to {
            None => None,
            Some(to) => {
                if to.dataset() != from.dataset() {
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        op,
                        to.as_str(),
                        format!("not a snapshot of '{}'", from.dataset()),
                    ));
                }
                if self.createtxg(op, to)? <= from_txg {
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        op,
                        to.as_str(),
                        format!("not a later snapshot than '{from}'"),
                    ));
                }
                Some(to)
            }
        };
        let from_c = CString::new(from.as_str()).expect("no NUL");
        let to_c = to
            .as_ref()
            .map(|t| CString::new(t.as_str()).expect("valid names have no NUL"));
        // libzfs names its temporary snapshot of the live filesystem after the process.
        let _live = to
            .is_none()
            .then(|| LIVE_DIFF.lock().unwrap_or_else(|p| p.into_inner()));
        let (mut reader, writer) = pipe().map_err(|e| Error::io(op, "pipe", &e))?;
        let pipe_id = fd_identity(writer.as_raw_fd());
        // libzfs's differ thread fdopen()s and fcloses the descriptor it is given, so it gets
        // its own; it may also fail before taking it, which is checked after the call.
        let out_fd = writer.into_raw_fd();
        let collected = std::thread::scope(|s| {
            let drain = s.spawn(move || {
                let mut text = Vec::new();
                reader.read_to_end(&mut text).map(|_| text)
            });
            let flags =
                sys::diff_flags_t::ZFS_DIFF_PARSEABLE.0 | sys::diff_flags_t::ZFS_DIFF_CLASSIFY.0;
            let result = self.check(op, from.as_str(), || {
                // SAFETY: live dataset handle; NUL-terminated names; out_fd is an open pipe.
                unsafe {
                    sys::zfs_show_diffs(
                        fs.raw().ptr(),
                        out_fd,
                        from_c.as_ptr(),
                        to_c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
                        flags as i32,
                    )
                }
            });
            if pipe_id.is_some() && fd_identity(out_fd) == pipe_id {
                // Still our pipe: libzfs failed before taking it. Close it so the drain ends.
                // SAFETY: the descriptor is ours and open.
                unsafe { libc::close(out_fd) };
            }
            (result, drain.join().expect("diff reader thread panicked"))
        });
        let (result, text) = collected;
        result.map_err(|e| {
            if e.kind() == ErrorKind::Other || e.kind() == ErrorKind::NotSupported {
                e.with_kind(ErrorKind::InvalidArgument)
            } else {
                e
            }
        })?;
        let text = text.map_err(|e| Error::io(op, "diff output", &e))?;
        parse(&text).map_err(|line| {
            Error::new(
                ErrorKind::Other,
                op,
                from.as_str(),
                format!("unexpected line from libzfs: {line:?}"),
            )
        })
    }
}

/// Serializes diffs against a live filesystem: libzfs's temporary snapshot
/// (`fs@zfs-diff-PID`) would collide between two at once in one process.
static LIVE_DIFF: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Zfs {
    /// A snapshot's `createtxg`, or NotFound.
    fn createtxg(&self, op: &'static str, snapshot: &SnapshotName) -> Result<u64> {
        self.open_dataset(snapshot.as_str(), DatasetTypes::SNAPSHOT)
            .and_then(|s| s.property_u64("createtxg"))
            .map_err(|e| e.with_operation(op))
    }
}

/// A close-on-exec pipe: (read end, write end).
fn pipe() -> std::io::Result<(std::fs::File, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array on success.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors are new and owned by nobody else.
    Ok(unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            OwnedFd::from_raw_fd(fds[1]),
        )
    })
}

/// (device, inode) of an open descriptor, to tell whether a descriptor number still names the
/// same pipe.
fn fd_identity(fd: i32) -> Option<(u64, u64)> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes a whole stat on success; a closed fd just fails.
    if unsafe { libc::fstat(fd, st.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: initialized by the successful fstat.
    let st = unsafe { st.assume_init() };
    Some((st.st_dev, st.st_ino))
}

/// Parses `zfs diff -H -F` output.
pub(crate) fn parse(text: &[u8]) -> std::result::Result<Vec<DiffEntry>, String> {
    let mut out = Vec::new();
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let bad = || String::from_utf8_lossy(line).into_owned();
        let fields: Vec<&[u8]> = line.split(|&b| b == b'\t').collect();
        let (&[change], &[kind]) = (
            fields.first().ok_or_else(bad)?,
            fields.get(1).ok_or_else(bad)?,
        ) else {
            return Err(bad());
        };
        let path = unescape(fields.get(2).ok_or_else(bad)?).ok_or_else(bad)?;
        let extra = fields.get(3);
        let change = match (*change, extra) {
            (b'+', None) => Change::Added,
            (b'-', None) => Change::Removed,
            (b'M', None) => Change::Modified { links: None },
            (b'M', Some(delta)) | (b'-', Some(delta)) | (b'+', Some(delta)) => {
                let d = std::str::from_utf8(delta).map_err(|_| bad())?;
                let n = d
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .parse::<i64>()
                    .map_err(|_| bad())?;
                Change::Modified { links: Some(n) }
            }
            (b'R', Some(to)) => Change::Renamed {
                to: unescape(to).ok_or_else(bad)?,
            },
            _ => return Err(bad()),
        };
        out.push(DiffEntry {
            change,
            file_type: char::from(*kind),
            path,
        });
    }
    Ok(out)
}

/// Undoes libzfs's escaping: a byte outside printable ASCII, a space or a backslash is
/// written as `\` and four octal digits.
fn unescape(field: &[u8]) -> Option<PathBuf> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        if field[i] == b'\\' {
            let digits = std::str::from_utf8(field.get(i + 1..i + 5)?).ok()?;
            out.push(u8::try_from(u32::from_str_radix(digits, 8).ok()?).ok()?);
            i += 5;
        } else {
            out.push(field[i]);
            i += 1;
        }
    }
    Some(PathBuf::from(std::ffi::OsString::from_vec(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_of_line() {
        let text =
            b"+\tF\t/m/new\n-\t/\t/m/gone\nM\t/\t/m/\nR\tF\t/m/a\\0040b\t/m/c\nM\tF\t/m/x\t(+1)\n";
        let got = parse(text).unwrap();
        assert_eq!(got.len(), 5);
        assert_eq!(got[0].change, Change::Added);
        assert_eq!(got[0].file_type, 'F');
        assert_eq!(got[1].change, Change::Removed);
        assert_eq!(got[1].file_type, '/');
        assert_eq!(got[2].change, Change::Modified { links: None });
        assert_eq!(got[3].path, PathBuf::from("/m/a b"));
        assert_eq!(
            got[3].change,
            Change::Renamed {
                to: PathBuf::from("/m/c")
            }
        );
        assert_eq!(got[4].change, Change::Modified { links: Some(1) });
    }

    #[test]
    fn rejects_garbage_and_keeps_non_utf8_paths() {
        assert!(parse(b"?\tF\t/x\n").is_err());
        assert!(parse(b"+\n").is_err());
        assert!(parse(b"+\tF\t/x\\12\n").is_err());
        let got = parse(b"+\tF\t/x\\0377\n").unwrap();
        assert_eq!(got[0].path.as_os_str().as_encoded_bytes(), b"/x\xff");
    }
}
