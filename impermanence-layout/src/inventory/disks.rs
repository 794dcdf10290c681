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
    /// Where it is mounted (everywhere it is).
    pub mounted_at: Vec<PathBuf>,
    /// Where the kernel has it, in bytes: (start, size); after a new table the kernel's view
    /// can lag until it reads the table again.
    pub span: Option<(u64, u64)>,
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

/// Where each block device is mounted, by device number (`major:minor`): every mount of the
/// device itself, not bind mounts of a directory in it (whose root is not `/`).
pub(crate) fn mounts() -> HashMap<String, Vec<PathBuf>> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut out: HashMap<String, Vec<PathBuf>> = HashMap::new();
    for l in text.lines() {
        // ID PARENT MAJ:MIN ROOT TARGET ...
        let f: Vec<&str> = l.splitn(6, ' ').collect();
        if let [_, _, devnum, "/", target, ..] = f.as_slice() {
            out.entry((*devnum).to_owned())
                .or_default()
                .push(PathBuf::from(unescape(target)));
        }
    }
    out
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

/// The spec's disks that exist, as they are. What cannot be read counts as in use: a disk is
/// never taken for blank because blkid failed.
pub(crate) fn read(spec: &Spec) -> HashMap<PathBuf, ExistingDisk> {
    let mounted = mounts();
    let swapped = swaps();
    let mut out = HashMap::new();
    for d in &spec.disks {
        let Some((bytes, sector)) = crate::disk::geometry(&d.device) else {
            continue;
        };
        let mut in_use = Vec::new();
        let use_of = |node: &Path, what: &str, in_use: &mut Vec<String>| {
            let devnum = crate::disk::dev_number(node);
            let at = devnum
                .as_ref()
                .and_then(|n| mounted.get(n))
                .cloned()
                .unwrap_or_default();
            for m in &at {
                in_use.push(format!("{what} is mounted at {}", m.display()));
            }
            if devnum.as_ref().is_some_and(|n| swapped.contains(n)) {
                in_use.push(format!("{what} is in use as swap"));
            }
            let holders = crate::disk::holders(node);
            if !holders.is_empty() {
                in_use.push(format!(
                    "{what} is held by {} (a LUKS mapping, LVM or md)",
                    holders.join(", ")
                ));
            }
            at
        };
        let signature = match probe(&d.device) {
            Ok(seen) => seen.get("PTTYPE").or_else(|| seen.get("TYPE")).cloned(),
            Err(e) => {
                in_use.push(format!("it cannot be read: {e}"));
                None
            }
        };
        use_of(&d.device, "it", &mut in_use);
        let mut partitions = Vec::new();
        for (number, node) in crate::disk::numbered_partitions(&d.device) {
            let shown = node.display().to_string();
            let mounted_at = use_of(&node, &shown, &mut in_use);
            let fs = probe(&node).unwrap_or_else(|e| {
                in_use.push(format!("{shown} cannot be read: {e}"));
                Default::default()
            });
            partitions.push(ExistingPartition {
                number,
                span: crate::disk::kernel_span(&node),
                node,
                signature: fs.get("TYPE").cloned(),
                fs_label: fs.get("LABEL").cloned(),
                mounted_at,
            });
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

/// The spec's partition labels that partitions of other disks carry: udev's
/// `/dev/disk/by-partlabel` link would name one of two partitions.
pub(crate) fn label_clashes(spec: &Spec) -> Vec<String> {
    let mut out = Vec::new();
    for (disk, p) in spec.partitions() {
        let ours = crate::disk::dev_number(&disk.device);
        for (node, parent) in crate::disk::partitions_labelled(&p.label) {
            if ours.is_none() || parent != ours {
                out.push(format!(
                    "{} already names a partition of another disk ({}): partition labels \
                     must be unique on the system (rename that one, or choose another)",
                    p.label,
                    node.display()
                ));
            }
        }
    }
    out
}

/// Adds to each disk's `in_use` the partitions that belong to an imported pool (their label
/// says `active` and the pool is there).
pub(crate) fn pools_using(zfs: &zfs_core::Zfs, disks: &mut HashMap<PathBuf, ExistingDisk>) {
    for (device, disk) in disks.iter_mut() {
        let nodes =
            std::iter::once(device.clone()).chain(disk.partitions.iter().map(|p| p.node.clone()));
        for node in nodes.collect::<Vec<_>>() {
            let Ok(Some(label)) = zfs.device_label(&node) else {
                continue;
            };
            if label.state == zfs_core::PoolState::Active && zfs.pool_exists(&label.pool) {
                disk.in_use.push(format!(
                    "{} belongs to the imported pool '{}'",
                    node.display(),
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
