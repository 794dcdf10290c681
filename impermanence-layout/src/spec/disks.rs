//! Disks, their GPT partitions, and the filesystems on partitions: what every real install
//! starts with (an EFI system partition, the pool's partition, swap).

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A whole disk given a new GPT partition table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DiskSpec {
    /// The disk (`/dev/disk/by-id/nvme-...`: a name that survives reboots).
    pub device: PathBuf,
    /// Its partitions, in order.
    pub partitions: Vec<PartitionSpec>,
}

/// One GPT partition. Its device is `/dev/disk/by-partlabel/LABEL`, which is how the pool's
/// vdevs and the mounts name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PartitionSpec {
    /// Its GPT name (`PARTLABEL`), unique on the system.
    pub label: String,
    /// Its size (`1G`), exactly (the next partition starts on a MiB boundary); unset: the rest
    /// of the disk up to its last MiB boundary (the last partition only), as disko's
    /// `sgdisk --align-end` places them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// What it is for (the GPT type).
    #[serde(rename = "type")]
    pub kind: PartitionKind,
    /// The filesystem made on it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filesystem: Option<FilesystemSpec>,
}

/// A partition's GPT type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PartitionKind {
    /// EFI system partition (`EF00`).
    Esp,
    /// A ZFS vdev (`BF01`, as `zpool create` types its partitions).
    Zfs,
    /// Linux swap (`8200`).
    Swap,
    /// A Linux filesystem (`8300`).
    Linux,
    /// BIOS boot partition for GRUB on a GPT disk (`EF02`), 1 MiB, no filesystem.
    BiosBoot,
}

impl PartitionKind {
    /// The GPT partition type GUID.
    pub fn type_guid(self) -> &'static str {
        match self {
            PartitionKind::Esp => "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
            PartitionKind::Zfs => "6A898CC3-1DD2-11B2-99A6-080020736631",
            PartitionKind::Swap => "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F",
            PartitionKind::Linux => "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
            PartitionKind::BiosBoot => "21686148-6449-6E6F-744E-656564454649",
        }
    }

    /// Its name in a spec (`esp`, `bios-boot`).
    pub fn name(self) -> &'static str {
        match self {
            PartitionKind::Esp => "esp",
            PartitionKind::Zfs => "zfs",
            PartitionKind::Swap => "swap",
            PartitionKind::Linux => "linux",
            PartitionKind::BiosBoot => "bios-boot",
        }
    }

    /// sgdisk's short code (`-t N:CODE`).
    pub fn sgdisk_code(self) -> &'static str {
        match self {
            PartitionKind::Esp => "EF00",
            PartitionKind::Zfs => "BF01",
            PartitionKind::Swap => "8200",
            PartitionKind::Linux => "8300",
            PartitionKind::BiosBoot => "EF02",
        }
    }

    /// The kind of a type GUID, if it is one of these.
    pub fn from_type_guid(guid: &str) -> Option<PartitionKind> {
        [
            PartitionKind::Esp,
            PartitionKind::Zfs,
            PartitionKind::Swap,
            PartitionKind::Linux,
            PartitionKind::BiosBoot,
        ]
        .into_iter()
        .find(|k| k.type_guid().eq_ignore_ascii_case(guid))
    }
}

/// A filesystem on a partition (or swap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FilesystemSpec {
    /// What to make (`mkfs.vfat -F 32`, `mkfs.ext4`, `mkfs.xfs`, `mkswap`).
    pub format: FilesystemFormat,
    /// Where the installed system mounts it (`/boot`); none for swap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mountpoint: Option<String>,
    /// Mount options (`umask=0077`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// The filesystem's label (`mkfs -L`/`-n`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A filesystem type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum FilesystemFormat {
    /// FAT32, for an ESP.
    Vfat,
    /// ext4.
    Ext4,
    /// XFS.
    Xfs,
    /// Swap space.
    Swap,
}

impl FilesystemFormat {
    /// The name `blkid` reports (`TYPE`) and `mount -t` takes.
    pub fn blkid_type(self) -> &'static str {
        match self {
            FilesystemFormat::Vfat => "vfat",
            FilesystemFormat::Ext4 => "ext4",
            FilesystemFormat::Xfs => "xfs",
            FilesystemFormat::Swap => "swap",
        }
    }

    /// The longest label it takes, in bytes.
    pub fn max_label(self) -> usize {
        match self {
            FilesystemFormat::Vfat => 11,
            FilesystemFormat::Ext4 | FilesystemFormat::Swap => 16,
            FilesystemFormat::Xfs => 12,
        }
    }
}

impl DiskSpec {
    /// A disk to partition.
    pub fn new(device: impl Into<PathBuf>) -> DiskSpec {
        DiskSpec {
            device: device.into(),
            partitions: Vec::new(),
        }
    }

    /// With one more partition.
    pub fn partition(mut self, p: PartitionSpec) -> DiskSpec {
        self.partitions.push(p);
        self
    }
}

impl PartitionSpec {
    /// A partition of `kind` named `label`, of `size` (`None`: the rest of the disk).
    pub fn new(label: &str, kind: PartitionKind, size: Option<&str>) -> PartitionSpec {
        PartitionSpec {
            label: label.to_owned(),
            size: size.map(str::to_owned),
            kind,
            filesystem: None,
        }
    }

    /// With a filesystem.
    pub fn filesystem(mut self, fs: FilesystemSpec) -> PartitionSpec {
        self.filesystem = Some(fs);
        self
    }

    /// Its device node, as udev names it: `/dev/disk/by-partlabel/LABEL`.
    pub fn device(&self) -> PathBuf {
        partlabel_path(&self.label)
    }
}

/// `/dev/disk/by-partlabel/LABEL`.
pub fn partlabel_path(label: &str) -> PathBuf {
    Path::new("/dev/disk/by-partlabel").join(label)
}

impl FilesystemSpec {
    /// A filesystem of `format` mounted at `mountpoint` (none for swap).
    pub fn new(format: FilesystemFormat, mountpoint: Option<&str>) -> FilesystemSpec {
        FilesystemSpec {
            format,
            mountpoint: mountpoint.map(str::to_owned),
            options: Vec::new(),
            label: None,
        }
    }

    /// With a mount option.
    pub fn option(mut self, o: &str) -> FilesystemSpec {
        self.options.push(o.to_owned());
        self
    }

    /// With a label.
    pub fn label(mut self, l: &str) -> FilesystemSpec {
        self.label = Some(l.to_owned());
        self
    }
}

/// Every problem with the spec's disks, partitions and their filesystems.
pub(super) fn problems(spec: &super::Spec) -> Vec<String> {
    let mut out = Vec::new();
    let mut devices = std::collections::HashSet::new();
    let mut labels = std::collections::HashSet::new();
    let views = spec.pool_specs();
    let vdevs: Vec<PathBuf> = views
        .iter()
        .flat_map(|v| {
            v.pool
                .topology()
                .devices()
                .map(|d| d.path.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    for disk in &spec.disks {
        let name = disk.device.display();
        if !disk.device.is_absolute() {
            out.push(format!(
                "disk {name}: give an absolute path (/dev/disk/by-id/...)"
            ));
        }
        if !devices.insert(&disk.device) {
            out.push(format!("disk {name} is listed twice"));
        }
        if vdevs.contains(&disk.device) {
            out.push(format!(
                "disk {name} is partitioned by the spec and also a vdev of the pool: name its \
                 partition, /dev/disk/by-partlabel/LABEL"
            ));
        }
        if disk.partitions.is_empty() {
            out.push(format!("disk {name} has no partitions"));
        }
        let last = disk.partitions.len().saturating_sub(1);
        for (i, p) in disk.partitions.iter().enumerate() {
            let at = format!("disk {name}, partition {} ({})", i + 1, p.label);
            out.extend(partition_problems(&at, p, i == last));
            if !labels.insert(&p.label) {
                out.push(format!("{at}: the label '{}' is used twice", p.label));
            }
            // disko types its pools' partitions 8300 unless told: both are taken.
            let pool_type = matches!(p.kind, PartitionKind::Zfs | PartitionKind::Linux);
            if vdevs.contains(&p.device()) && (!pool_type || p.filesystem.is_some()) {
                out.push(format!(
                    "{at} is a vdev of the pool: give it type = \"zfs\" and no filesystem"
                ));
            }
        }
    }
    for (view, d) in views
        .iter()
        .flat_map(|v| v.datasets.iter().map(move |d| (v, d)))
    {
        let Some(fs) = d.volume.as_ref().and_then(|v| v.filesystem.as_ref()) else {
            continue;
        };
        let at = match views.len() {
            1 => format!("volume {}", d.name),
            _ => format!("volume {}", view.full_name(&d.name)),
        };
        out.extend(filesystem_problems(&at, fs));
        if view.boot.swap.contains(&d.name) && fs.format != FilesystemFormat::Swap {
            out.push(format!(
                "{at} is in boot.swap but its filesystem is {}",
                fs.format.blkid_type()
            ));
        }
    }
    out
}

fn partition_problems(at: &str, p: &PartitionSpec, last: bool) -> Vec<String> {
    let mut out = Vec::new();
    // By-partlabel links escape other characters; GPT names hold 36 UTF-16 units.
    let label_ok = !p.label.is_empty()
        && p.label.len() <= 36
        && p.label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !label_ok {
        out.push(format!(
            "{at}: the label must be 1 to 36 of A-Z a-z 0-9 - _ . (it names the partition's \
             device, /dev/disk/by-partlabel/LABEL)"
        ));
    }
    match p.size.as_deref() {
        None if !last => out.push(format!(
            "{at}: only the last partition can take the rest of the disk (give a size)"
        )),
        Some(s) if super::parse_size(s).is_none_or(|b| b == 0) => {
            out.push(format!("{at}: size '{s}' is not a size"))
        }
        _ => {}
    }
    let Some(fs) = &p.filesystem else {
        return out;
    };
    let fits = matches!(
        (p.kind, fs.format),
        (PartitionKind::Esp, FilesystemFormat::Vfat)
            | (PartitionKind::Swap, FilesystemFormat::Swap)
            | (
                PartitionKind::Linux,
                FilesystemFormat::Vfat | FilesystemFormat::Ext4 | FilesystemFormat::Xfs
            )
    );
    if !fits {
        out.push(format!(
            "{at}: {} {} partition does not take {} (esp: vfat; swap: swap; linux: ext4, \
             xfs, vfat; zfs and bios-boot: none)",
            if p.kind == PartitionKind::Esp {
                "an"
            } else {
                "a"
            },
            p.kind.name(),
            fs.format.blkid_type()
        ));
    }
    out.extend(filesystem_problems(at, fs));
    out
}

/// What is wrong with a filesystem of the spec, wherever it is made.
fn filesystem_problems(at: &str, fs: &FilesystemSpec) -> Vec<String> {
    let mut out = Vec::new();
    match (&fs.mountpoint, fs.format) {
        (Some(_), FilesystemFormat::Swap) => {
            out.push(format!("{at}: swap has no mountpoint"));
        }
        (Some(m), _) if !m.starts_with('/') => {
            out.push(format!("{at}: mountpoint '{m}' must be absolute"));
        }
        _ => {}
    }
    if let Some(l) = &fs.label {
        if l.is_empty() || l.len() > fs.format.max_label() {
            out.push(format!(
                "{at}: a {} label holds 1 to {} bytes",
                fs.format.blkid_type(),
                fs.format.max_label()
            ));
        }
    }
    for o in &fs.options {
        if o.is_empty() || o.contains(|c: char| c == ',' || c.is_whitespace()) {
            out.push(format!("{at}: option '{o}' must be one word"));
        }
    }
    out
}
