//! Whole disks: partitioned as `zpool create sdX` partitions them, before the pool uses them.

use std::ffi::CString;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use libzfs_sys as sys;

use super::Pool;
use crate::handle::Zfs;
use crate::vdev::{Leaf, VdevSpec};
use crate::{Error, ErrorKind, Result};

/// What is zeroed at each end of a new partition, more than the two 256 KiB ZFS labels each
/// end holds: no label of an old pool that lived there is ever read.
const LABELS_SIZE: u64 = 1 << 20;

impl Zfs {
    /// `spec` with each whole disk ([`Leaf::whole_disk`]) partitioned and replaced by its
    /// partition 1, as `zpool create`, `add`, `attach` and `replace` do; `pool` is the pool it
    /// joins, `None` for a new one. Other leaves are left as they are.
    ///
    /// # Errors
    /// [`ErrorKind::Busy`] if a disk is in use (mounted, or open by another program);
    /// [`ErrorKind::InvalidArgument`] for a path that is not a whole disk under `/dev`.
    pub(crate) fn partition_whole_disks(
        &self,
        op: &'static str,
        pool: Option<&Pool<'_>>,
        spec: &VdevSpec,
    ) -> Result<VdevSpec> {
        spec.map_leaves(|leaf| {
            if !leaf.is_whole_disk() {
                return Ok(leaf.clone());
            }
            self.partition(op, pool, leaf)?;
            Ok(leaf.partition_of_whole_disk())
        })
    }

    fn partition(&self, op: &'static str, pool: Option<&Pool<'_>>, leaf: &Leaf) -> Result<()> {
        let shown = leaf.path().display().to_string();
        let bad = |why: &str| Error::new(ErrorKind::InvalidArgument, op, &shown, why);
        let io = |e: std::io::Error| Error::from_errno(op, &shown, e.raw_os_error().unwrap_or(0));
        // libzfs takes the disk's name under /dev (`sda`), as the CLI's device resolution
        // leaves it: follow /dev/disk/by-id links to the node.
        let node = std::fs::canonicalize(leaf.path()).map_err(io)?;
        let name = node
            .strip_prefix("/dev")
            .ok()
            .and_then(Path::to_str)
            .ok_or_else(|| bad("a whole disk must be a device under /dev"))?;
        let cname = CString::new(name).map_err(|_| bad("path contains a NUL byte"))?;
        let zhp = pool.map_or(std::ptr::null_mut(), |p| p.raw().ptr());
        self.check(op, &shown, || {
            // SAFETY: live handle; `zhp` is NULL or a live pool handle; a NUL-terminated name.
            // Writes the partition table and waits for the partition's device to appear.
            unsafe { sys::zpool_label_disk(self.raw().ptr(), zhp, cname.as_ptr()) }
        })?;
        // The pool goes on partition 1 by the name `zpool create` gives it; before a byte is
        // written there, the kernel must say that this name is partition 1 of this disk (a
        // name made from text can be another device: `/dev/zvol/P/disk1`), once udev has
        // made or moved the link.
        let part = leaf.partition_of_whole_disk();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !crate::pool::in_use::is_partition_of(part.path(), 1, &node) {
            if Instant::now() >= deadline {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    op,
                    &shown,
                    format!(
                        "{} is not partition 1 of {} (its link is missing or points elsewhere); \
                         nothing was written to it",
                        part.path().display(),
                        node.display()
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        zero_labels(part.path()).map_err(io)
    }
}

/// Zeroes both ends of the new partition at `part`.
fn zero_labels(part: &Path) -> std::io::Result<()> {
    let mut dev = std::fs::OpenOptions::new().write(true).open(part)?;
    let size = dev.seek(SeekFrom::End(0))?;
    let zeros = vec![0u8; LABELS_SIZE as usize];
    for at in [0, size.saturating_sub(LABELS_SIZE)] {
        dev.seek(SeekFrom::Start(at))?;
        dev.write_all(&zeros)?;
    }
    dev.sync_all()
}
