//! What a device holds before a pool takes it, as `zpool create` checks without `-f`: the
//! label of a pool that is not destroyed, or another filesystem's signature (libblkid's), on
//! the device itself and, for a whole disk, on every partition of it: a whole-disk pool keeps
//! its labels in partition 1, where a look at the disk alone finds nothing.
//!
//! Also which partition belongs to which disk, from sysfs: a partition's path is made from the
//! disk's text, and a name like `/dev/zvol/P/disk1` can be another disk entirely.

use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use libzfs_sys::blkid;

use crate::error::Reason;
use crate::handle::Zfs;
use crate::vdev::Leaf;
use crate::{Error, ErrorKind, Result};

/// The sysfs directory of the block device whose node is `/dev/NAME` (after links).
fn sys_block(node: &Path) -> Option<PathBuf> {
    let name = node.file_name()?;
    let dir = Path::new("/sys/class/block").join(name);
    dir.exists().then_some(dir)
}

/// The partitions of the disk at `disk` (any path to its node), as (number, node), by number.
pub(crate) fn partitions_of(disk: &Path) -> std::io::Result<Vec<(u32, PathBuf)>> {
    let node = std::fs::canonicalize(disk)?;
    let Some(dir) = sys_block(&node) else {
        return Ok(Vec::new());
    };
    let mut parts = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(number) = std::fs::read_to_string(entry.path().join("partition")) else {
            continue;
        };
        if let Ok(n) = number.trim().parse() {
            parts.push((n, Path::new("/dev").join(entry.file_name())));
        }
    }
    parts.sort();
    Ok(parts)
}

/// Whether `part` (any path to a node) is partition `number` of the disk at `disk`, as the
/// kernel says in sysfs.
pub(crate) fn is_partition_of(part: &Path, number: u32, disk: &Path) -> bool {
    let (Ok(part), Ok(disk)) = (std::fs::canonicalize(part), std::fs::canonicalize(disk)) else {
        return false;
    };
    let (Some(part_dir), Some(disk_dir)) = (sys_block(&part), sys_block(&disk)) else {
        return false;
    };
    let said = std::fs::read_to_string(part_dir.join("partition"));
    said.is_ok_and(|n| n.trim() == number.to_string())
        && std::fs::canonicalize(part_dir.join(".."))
            .ok()
            .zip(std::fs::canonicalize(disk_dir).ok())
            .is_some_and(|(parent, disk)| parent == disk)
}

/// What libblkid finds on `dev`: a filesystem's `TYPE` as `blkid -p` prints it, or
/// [`SEVERAL`] for signatures of more than one (an ext4 made over an old pool's labels).
fn signature(op: &'static str, dev: &Path) -> Result<Option<String>> {
    let shown = dev.display().to_string();
    let path = CString::new(dev.as_os_str().as_bytes()).map_err(|_| {
        Error::new(
            ErrorKind::InvalidArgument,
            op,
            &shown,
            "path contains a NUL byte",
        )
    })?;
    // SAFETY: a NUL-terminated path; the probe is freed below on every path.
    let probe = unsafe { blkid::blkid_new_probe_from_filename(path.as_ptr()) };
    if probe.is_null() {
        let errno = crate::handle::last_errno();
        return Err(Error::from_errno(
            op,
            &shown,
            if errno == 0 { libc::EIO } else { errno },
        ));
    }
    // SAFETY: a live probe.
    let rc = unsafe { blkid::blkid_do_safeprobe(probe) };
    let found = match rc {
        0 => {
            let mut data: *const std::ffi::c_char = std::ptr::null();
            let mut len = 0usize;
            // SAFETY: a live probe and a NUL-terminated key; `data` stays valid until the
            // probe is freed, and is copied before that.
            let got = unsafe {
                blkid::blkid_probe_lookup_value(probe, c"TYPE".as_ptr(), &mut data, &mut len)
            };
            (got == 0 && !data.is_null()).then(|| {
                // SAFETY: as above: a NUL-terminated value owned by the live probe.
                let value = unsafe { CStr::from_ptr(data) };
                value.to_string_lossy().into_owned()
            })
        }
        -2 => Some(SEVERAL.to_owned()),
        _ => None,
    };
    // SAFETY: the probe is live and freed once.
    unsafe { blkid::blkid_free_probe(probe) };
    if rc == -1 {
        return Err(Error::new(
            ErrorKind::Io,
            op,
            &shown,
            "libblkid cannot probe the device",
        ));
    }
    Ok(found)
}

/// [`signature`]'s answer for a device with several signatures.
const SEVERAL: &str = "(several)";

impl Zfs {
    /// Refuses a leaf whose device, or a partition of whose whole disk, holds a pool that is
    /// not destroyed or another filesystem: what `zpool create` refuses without `-f`.
    ///
    /// # Errors
    /// [`ErrorKind::Busy`] with [`Reason::DeviceInUse`], naming the device or partition and
    /// what it holds; errors reading labels or probing.
    pub(crate) fn refuse_in_use(&self, op: &'static str, object: &str, leaf: &Leaf) -> Result<()> {
        if leaf.is_distributed_spare() {
            return Ok(());
        }
        // The kernel reads a disk's partition table again when a pool opens or closes a
        // whole-disk vdev: its partitions' nodes and links vanish for a moment and come back.
        // A partition missing then is looked for again, never taken as free.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.refuse_in_use_once(op, object, leaf) {
                Err(e)
                    if leaf.is_whole_disk()
                        && e.kind() == ErrorKind::NotFound
                        && Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(100));
                }
                other => return other,
            }
        }
    }

    fn refuse_in_use_once(&self, op: &'static str, object: &str, leaf: &Leaf) -> Result<()> {
        let mut devices = vec![leaf.path().to_path_buf()];
        if leaf.is_whole_disk() {
            // Not a disk at all (a file given as a whole disk) is refused later, before
            // anything is written, with its own message.
            let parts = partitions_of(leaf.path()).unwrap_or_default();
            devices.extend(
                parts
                    .into_iter()
                    .map(|(n, node)| partition_shown(leaf.path(), n, node)),
            );
        }
        for dev in &devices {
            self.refuse_labelled(op, object, dev)?;
            if leaf.is_file() {
                continue;
            }
            match signature(op, dev)? {
                Some(kind) if kind != "zfs_member" => {
                    let what = if kind == SEVERAL {
                        "signatures of several filesystems".to_owned()
                    } else {
                        format!("a filesystem of type '{kind}'")
                    };
                    return Err(Error::new(
                        ErrorKind::Busy,
                        op,
                        object,
                        format!("{} contains {what} (use force to override)", dev.display()),
                    )
                    .with_reason(Reason::DeviceInUse));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Partition `n` of `disk`, by the name a reader knows the disk by: `-partN` after a udev link
/// (`/dev/disk/...`, `/dev/zvol/...`), the kernel's node otherwise.
fn partition_shown(disk: &Path, n: u32, node: PathBuf) -> PathBuf {
    let text = disk.to_string_lossy();
    let linked = format!("{text}-part{n}");
    if (text.starts_with("/dev/disk/") || text.starts_with("/dev/zvol/"))
        && is_partition_of(Path::new(&linked), n, disk)
    {
        PathBuf::from(linked)
    } else {
        node
    }
}
