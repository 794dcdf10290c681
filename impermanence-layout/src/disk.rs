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
        // A device still to be made (a partition of the spec's disks).
        None if !p.exists() && p.starts_with("/dev") => DeviceKind::Partition,
        None => DeviceKind::File,
        Some(dir) if !dir.join("partition").exists() && dir.join("device").exists() => {
            DeviceKind::WholeDisk
        }
        Some(_) => DeviceKind::Partition,
    }
}

/// A number a block device's sysfs directory holds in `file`.
fn sysfs_number(dir: &Path, file: &str) -> Option<u64> {
    std::fs::read_to_string(dir.join(file))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// A block device's size in bytes and logical sector size, from sysfs.
pub(crate) fn geometry(p: &Path) -> Option<(u64, u64)> {
    let dir = sysfs_dir(p)?;
    // `size` counts 512-byte units whatever the sector size.
    Some((
        sysfs_number(&dir, "size")? * 512,
        sysfs_number(&dir, "queue/logical_block_size")?,
    ))
}

/// The device number (`major:minor`, as in /proc/self/mountinfo) of a block device.
pub(crate) fn dev_number(p: &Path) -> Option<String> {
    let meta = std::fs::metadata(p).ok()?;
    meta.file_type().is_block_device().then(|| {
        let rdev = meta.rdev();
        format!("{}:{}", libc::major(rdev), libc::minor(rdev))
    })
}

/// The partitions a whole disk holds now: number and device node (`/dev/sda1`).
pub(crate) fn numbered_partitions(p: &Path) -> Vec<(u32, PathBuf)> {
    let Some(Ok(entries)) = sysfs_dir(p).map(std::fs::read_dir) else {
        return Vec::new();
    };
    let mut out: Vec<(u32, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let n = std::fs::read_to_string(e.path().join("partition")).ok()?;
            Some((
                n.trim().parse().ok()?,
                Path::new("/dev").join(e.file_name()),
            ))
        })
        .collect();
    out.sort();
    out
}

/// Whether `part` (any path to a node, a udev link included) is partition `number` of `disk`,
/// as the kernel says: a `by-partlabel` link can name another disk's partition.
pub(crate) fn is_partition_of(part: &Path, number: u32, disk: &Path) -> bool {
    let want = numbered_partitions(disk)
        .into_iter()
        .find(|(n, _)| *n == number)
        .and_then(|(_, node)| dev_number(&node));
    want.is_some() && want == dev_number(part)
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

/// A partition's span as the kernel has it, in bytes: (start, size).
pub(crate) fn kernel_span(node: &Path) -> Option<(u64, u64)> {
    let dir = sysfs_dir(node)?;
    // sysfs counts 512-byte units whatever the sector size.
    Some((
        sysfs_number(&dir, "start")? * 512,
        sysfs_number(&dir, "size")? * 512,
    ))
}

/// What holds a block device (device-mapper, md: a LUKS mapping, an LVM volume, a RAID), by
/// kernel name; empty when nothing does.
pub(crate) fn holders(node: &Path) -> Vec<String> {
    let Some(Ok(entries)) = sysfs_dir(node).map(|d| std::fs::read_dir(d.join("holders"))) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// Every partition on the system whose GPT name is `label`: its node and its disk's device
/// number. udev points `/dev/disk/by-partlabel/LABEL` at one of them, whichever it saw last.
pub(crate) fn partitions_labelled(label: &str) -> Vec<(PathBuf, Option<String>)> {
    let Ok(entries) = std::fs::read_dir("/sys/class/block") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let uevent = std::fs::read_to_string(e.path().join("uevent")).ok()?;
            let named = uevent
                .lines()
                .any(|l| l.strip_prefix("PARTNAME=") == Some(label));
            if !named {
                return None;
            }
            let parent = std::fs::canonicalize(e.path()).ok()?.join("..");
            let disk = std::fs::read_to_string(parent.join("dev"))
                .ok()
                .map(|d| d.trim().to_owned());
            Some((Path::new("/dev").join(e.file_name()), disk))
        })
        .collect()
}

/// For a `/dev/disk/by-partlabel/LABEL` path: that exactly one partition on the system has the
/// label and the link leads to it, checked right before anything is written or mounted there.
/// Other paths pass.
pub(crate) fn check_partlabel(device: &Path) -> std::io::Result<()> {
    let Ok(label) = device.strip_prefix("/dev/disk/by-partlabel") else {
        return Ok(());
    };
    let label = label.to_string_lossy();
    let owners = partitions_labelled(&label);
    match owners.as_slice() {
        [(node, _)] if dev_number(node).is_some() && dev_number(node) == dev_number(device) => {
            Ok(())
        }
        [] | [_] => Err(std::io::Error::other(format!(
            "{} does not lead to the partition named '{label}'",
            device.display()
        ))),
        several => Err(std::io::Error::other(format!(
            "{} partitions are named '{label}' ({}): refusing to guess which one {} means",
            several.len(),
            several
                .iter()
                .map(|(n, _)| n.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            device.display()
        ))),
    }
}
