//! What a device path is, read from sysfs: a whole disk is partitioned by `zpool create`, a
//! partition or a file is used as it is.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// How `zpool create` treats a device path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceKind {
    /// A regular file (or one still to be created).
    File,
    /// A disk with hardware behind it (`sda`, `vda`, `nvme0n1`): given a GPT and used through
    /// its partition 1.
    WholeDisk,
    /// A partition, or a virtual block device (device-mapper, md, loop, zvol): used as it is.
    Partition,
}

/// The device's directory in sysfs (`/sys/dev/block/MAJ:MIN`), for a block device.
fn sysfs_dir(p: &Path) -> Option<PathBuf> {
    let meta = std::fs::metadata(p).ok()?;
    if !meta.file_type().is_block_device() {
        return None;
    }
    let rdev = meta.rdev();
    let (major, minor) = (libc::major(rdev), libc::minor(rdev));
    Some(PathBuf::from(format!("/sys/dev/block/{major}:{minor}")))
}

/// What `p` is.
pub(crate) fn kind(p: &Path) -> DeviceKind {
    match sysfs_dir(p) {
        None => DeviceKind::File,
        Some(dir) if !dir.join("partition").exists() && dir.join("device").exists() => {
            DeviceKind::WholeDisk
        }
        Some(_) => DeviceKind::Partition,
    }
}

/// The partitions a whole disk holds now (`sda1`, `sda2`), by kernel name.
pub(crate) fn partitions(p: &Path) -> Vec<String> {
    let Some(dir) = sysfs_dir(p) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().join("partition").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
