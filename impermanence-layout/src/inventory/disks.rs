//! The spec's disks as they are: size, partition table, what each partition holds, and whether
//! anything uses them (mounted, swapped on, a live pool's).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::filesystem::probe;
use crate::partition_table::PlacedPartition;
use crate::spec::Spec;

/// A disk of the spec as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExistingDisk {
    /// Its size in bytes.
    pub bytes: u64,
    /// Its logical sector size.
    pub sector: u64,
    /// Its GPT, if it has a valid one.
    pub table: Option<Vec<PlacedPartition>>,
    /// What `blkid -p` finds on the disk itself: a partition table (`PTTYPE`: `gpt`, `dos`)
    /// or a filesystem (`TYPE`).
    pub signature: Option<String>,
    /// Its partitions as the kernel sees them.
    pub partitions: Vec<ExistingPartition>,
    /// What uses it now: a reason for each (mounted, swap, a live pool's).
    pub in_use: Vec<String>,
}

/// A partition of a disk of the spec, as the kernel sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExistingPartition {
    /// Its number.
    pub number: u32,
    /// Its device node (`/dev/sda1`).
    pub node: PathBuf,
    /// The filesystem on it (`blkid -p`'s `TYPE`).
    pub signature: Option<String>,
    /// That filesystem's label.
    pub fs_label: Option<String>,
    /// Where it is mounted, if it is.
    pub mounted_at: Option<PathBuf>,
}

impl ExistingDisk {
    /// Whether it holds nothing: no partition, no partition table, no filesystem.
    pub fn is_blank(&self) -> bool {
        self.partitions.is_empty() && self.table.is_none() && self.signature.is_none()
    }

    /// Its partition `number`, if the kernel has it.
    pub fn partition(&self, number: u32) -> Option<&ExistingPartition> {
        self.partitions.iter().find(|p| p.number == number)
    }
}

/// Where each block device is mounted, by device number (`major:minor`).
fn mounts() -> HashMap<String, PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(' ');
            let devnum = f.nth(2)?;
            let target = f.nth(1)?;
            Some((devnum.to_owned(), PathBuf::from(unescape(target))))
        })
        .collect()
}

/// mountinfo's octal escapes (`\040` is a space).
fn unescape(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 4], 8) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The devices swapped on now, by device number.
fn swaps() -> Vec<String> {
    let text = std::fs::read_to_string("/proc/swaps").unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|dev| crate::disk::dev_number(Path::new(dev)))
        .collect()
}

/// The spec's disks that exist, as they are.
pub(crate) fn read(spec: &Spec) -> HashMap<PathBuf, ExistingDisk> {
    let mounted = mounts();
    let swapped = swaps();
    let mut out = HashMap::new();
    for d in &spec.disks {
        let Some((bytes, sector)) = crate::disk::geometry(&d.device) else {
            continue;
        };
        let seen = probe(&d.device).unwrap_or_default();
        let signature = seen.get("PTTYPE").or_else(|| seen.get("TYPE")).cloned();
        let mut in_use = Vec::new();
        let whole = crate::disk::dev_number(&d.device);
        let mut partitions = Vec::new();
        for (number, node) in crate::disk::numbered_partitions(&d.device) {
            let devnum = crate::disk::dev_number(&node);
            let fs = probe(&node).unwrap_or_default();
            let mounted_at = devnum.as_ref().and_then(|n| mounted.get(n)).cloned();
            if let Some(at) = &mounted_at {
                in_use.push(format!("{} is mounted at {}", node.display(), at.display()));
            }
            if devnum.as_ref().is_some_and(|n| swapped.contains(n)) {
                in_use.push(format!("{} is in use as swap", node.display()));
            }
            partitions.push(ExistingPartition {
                number,
                node,
                signature: fs.get("TYPE").cloned(),
                fs_label: fs.get("LABEL").cloned(),
                mounted_at,
            });
        }
        if let Some(at) = whole.as_ref().and_then(|n| mounted.get(n)) {
            in_use.push(format!("it is mounted at {}", at.display()));
        }
        if whole.as_ref().is_some_and(|n| swapped.contains(n)) {
            in_use.push("it is in use as swap".into());
        }
        out.insert(
            d.device.clone(),
            ExistingDisk {
                bytes,
                sector,
                table: crate::partition_table::read(&d.device, sector),
                signature,
                partitions,
                in_use,
            },
        );
    }
    out
}

/// Adds to each disk's `in_use` the partitions that belong to an imported pool (their label
/// says `active` and the pool is there).
pub(crate) fn pools_using(zfs: &zfs_core::Zfs, disks: &mut HashMap<PathBuf, ExistingDisk>) {
    for disk in disks.values_mut() {
        for p in &disk.partitions {
            let Ok(Some(label)) = zfs.device_label(&p.node) else {
                continue;
            };
            if label.state == zfs_core::PoolState::Active && zfs.pool_exists(&label.pool) {
                disk.in_use.push(format!(
                    "{} belongs to the imported pool '{}'",
                    p.node.display(),
                    label.pool
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn mountinfo_escapes_are_read() {
        assert_eq!(super::unescape("/mnt/a\\040b"), "/mnt/a b");
        assert_eq!(super::unescape("/plain"), "/plain");
        assert_eq!(super::unescape("/end\\"), "/end\\");
    }
}
