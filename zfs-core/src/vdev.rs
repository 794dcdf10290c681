//! [`VdevSpec`]: the devices a pool is made of, checked in Rust and turned into the vdev tree
//! (`nvroot`) that `zpool_create` takes.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::nvlist::{NvList, NvValue};
use crate::{Error, ErrorKind, Result};

/// The smallest device OpenZFS accepts (`SPA_MINDEVSIZE`); `zpool create` refuses smaller
/// ones.
pub const MIN_DEVICE_SIZE: u64 = 64 << 20;

/// One device: a file or a block device, by absolute path (a device on the `zpool create`
/// command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    path: PathBuf,
    kind: LeafKind,
}

/// How a [`Leaf`] is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LeafKind {
    File,
    /// A block device or partition, used as it is.
    Disk,
    /// A whole disk, to be partitioned before use.
    WholeDisk,
    /// The ZFS partition of a whole disk zfs-core has just partitioned.
    WholeDiskPartition,
    /// A dRAID vdev's distributed spare, by name (`draid2-0-0`).
    DistributedSpare,
}

impl Leaf {
    /// A file vdev: a regular file of at least 64 MiB (sparse is fine), given by its absolute
    /// path as `zpool create` takes it.
    pub fn file(path: impl Into<PathBuf>) -> Leaf {
        Leaf {
            path: path.into(),
            kind: LeafKind::File,
        }
    }

    /// A block device (or partition), used as it is: no partitioning, unlike `zpool create`
    /// given a whole disk.
    pub fn disk(path: impl Into<PathBuf>) -> Leaf {
        Leaf {
            path: path.into(),
            kind: LeafKind::Disk,
        }
    }

    /// A whole disk, partitioned as `zpool create sdX` does before it is used: a GPT with the
    /// pool's partition from 1 MiB to 8 MiB before the end, and an 8 MiB reserved partition
    /// 9; the pool uses partition 1 (`/dev/sdX1`, `/dev/nvme0n1p1`, or `...-part1` under
    /// `/dev/disk/` and `/dev/zvol/`) and knows it owns the whole disk (`whole_disk=1`, so it
    /// can grow with `zpool online -e`). Everything on the disk is lost: without `force`, a
    /// disk any of whose partitions holds a pool that is not destroyed, or another
    /// filesystem's signature, is refused first, as `zpool create` refuses it.
    pub fn whole_disk(path: impl Into<PathBuf>) -> Leaf {
        Leaf {
            path: path.into(),
            kind: LeafKind::WholeDisk,
        }
    }

    /// A distributed spare of a dRAID vdev, by the name `zpool status` lists it under
    /// (`draidP-T-S`: parity, top-level vdev index, spare index): the new device to give
    /// [`Pool::replace`](crate::Pool::replace) for a failed device of that dRAID, which is
    /// then rebuilt onto spare space spread over all its devices. Not a path: usable only
    /// there.
    pub fn distributed_spare(name: &str) -> Leaf {
        Leaf {
            path: PathBuf::from(name),
            kind: LeafKind::DistributedSpare,
        }
    }

    /// Whether this is a dRAID distributed spare ([`Leaf::distributed_spare`]).
    pub fn is_distributed_spare(&self) -> bool {
        self.kind == LeafKind::DistributedSpare
    }

    /// The device's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this is a file vdev.
    pub fn is_file(&self) -> bool {
        self.kind == LeafKind::File
    }

    /// Whether this is a whole disk to partition ([`Leaf::whole_disk`]).
    pub fn is_whole_disk(&self) -> bool {
        self.kind == LeafKind::WholeDisk
    }

    /// The leaf that stands for this whole disk once partitioned: its partition 1.
    pub(crate) fn partition_of_whole_disk(&self) -> Leaf {
        Leaf {
            path: partition_path(&self.path),
            kind: LeafKind::WholeDiskPartition,
        }
    }

    /// The leaf's config. `ashift` goes on the leaf itself: the kernel takes a new vdev's
    /// ashift from its leaves, never from the pool property (which only labels).
    fn to_nvlist(&self, is_log: bool, ashift: Option<u64>) -> Result<NvList> {
        let mut l = NvList::new();
        let whole_disk = match self.kind {
            LeafKind::File | LeafKind::DistributedSpare => None,
            LeafKind::Disk => Some(0),
            LeafKind::WholeDiskPartition => Some(1),
            LeafKind::WholeDisk => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    "use vdev",
                    self.path.display().to_string(),
                    "a whole disk must be partitioned before use",
                ))
            }
        };
        let kind = match self.kind {
            LeafKind::File => "file",
            LeafKind::DistributedSpare => "dspare",
            _ => "disk",
        };
        l.insert_str("type", kind)?;
        l.insert_str("path", path_str(&self.path)?)?;
        if let Some(whole) = whole_disk {
            l.insert_u64("whole_disk", whole)?;
        }
        l.insert_u64("is_log", is_log as u64)?;
        // A distributed spare's sector size is its dRAID's.
        if let Some(ashift) = ashift.filter(|_| !self.is_distributed_spare()) {
            l.insert_u64("ashift", ashift)?;
        }
        Ok(l)
    }
}

/// Whether `name` is a distributed spare's name, `draidP-T-S` in decimal: libzfs's own test
/// (`zpool_is_draid_spare`).
fn is_distributed_spare_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("draid") else {
        return false;
    };
    let parts: Vec<&str> = rest.split('-').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 19 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The disk whose partition 1 is at `partition`, the inverse of [`partition_path`]; `None`
/// for a path that does not end like partition 1.
pub(crate) fn disk_of_partition(partition: &Path) -> Option<PathBuf> {
    let text = partition.to_str()?;
    let disk = if text.starts_with("/dev/disk/") || text.starts_with("/dev/zvol/") {
        text.strip_suffix("-part1")?
    } else if let Some(d) = text
        .strip_suffix("p1")
        .filter(|d| d.ends_with(|c: char| c.is_ascii_digit()))
    {
        d
    } else {
        text.strip_suffix('1')
            .filter(|d| !d.ends_with(|c: char| c.is_ascii_digit()))?
    };
    let disk = PathBuf::from(disk);
    (partition_path(&disk) == partition).then_some(disk)
}

/// The path of partition 1 of the disk at `disk`, as `zpool create` names it: `-part1` under
/// `/dev/disk/` and `/dev/zvol/` (udev's links), `p1` after a name ending in a digit
/// (`nvme0n1p1`, `loop0p1`), `1` otherwise (`sda1`, `vda1`).
///
/// Only a name: `/dev/zvol/P/disk` + `1` would be another volume, `P/disk1`. Whoever writes
/// there checks first that it is partition 1 of that disk (`is_partition_of`).
pub(crate) fn partition_path(disk: &Path) -> PathBuf {
    let text = disk.as_os_str().to_string_lossy();
    let suffix = if text.starts_with("/dev/disk/") || text.starts_with("/dev/zvol/") {
        "-part1"
    } else if text.ends_with(|c: char| c.is_ascii_digit()) {
        "p1"
    } else {
        "1"
    };
    PathBuf::from(format!("{text}{suffix}"))
}

/// A top-level vdev: one device, a mirror, or a raidz group (`DEV`, `mirror DEV...`,
/// `raidzN DEV...` on the `zpool create` command line).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TopLevel {
    /// A single device (no redundancy).
    Single(Leaf),
    /// An n-way mirror (two devices or more).
    Mirror(Vec<Leaf>),
    /// raidz1, raidz2 or raidz3: `parity` + 1 devices or more.
    Raidz {
        /// 1, 2 or 3.
        parity: u8,
        /// The devices.
        devices: Vec<Leaf>,
    },
    /// dRAID (`draidP:Dd:Cc:Ss`): raidz-like redundancy groups of `data` + `parity` blocks
    /// spread over all `devices`, with `spares` distributed spares that rebuild fast.
    Draid {
        /// 1, 2 or 3.
        parity: u8,
        /// Data blocks per group; `None` for the CLI's default, the smaller of 8 and
        /// devices − spares − parity.
        data: Option<u64>,
        /// Distributed spares (0 to 100).
        spares: u64,
        /// The devices (up to 255).
        devices: Vec<Leaf>,
    },
}

impl TopLevel {
    /// Its devices.
    pub(crate) fn leaves(&self) -> &[Leaf] {
        match self {
            TopLevel::Single(l) => std::slice::from_ref(l),
            TopLevel::Mirror(d)
            | TopLevel::Raidz { devices: d, .. }
            | TopLevel::Draid { devices: d, .. } => d,
        }
    }

    /// A dRAID's data blocks per group and number of groups, as `zpool create` works them
    /// out; `None` for any other vdev.
    pub(crate) fn draid_geometry(&self) -> Option<(u64, u64)> {
        let TopLevel::Draid {
            parity,
            data,
            spares,
            devices,
        } = self
        else {
            return None;
        };
        let (parity, children) = (u64::from(*parity), devices.len() as u64);
        let usable = children.saturating_sub(*spares);
        let data = data.unwrap_or_else(|| usable.saturating_sub(parity).min(8));
        // The fewest groups that fill whole rows of the usable devices.
        let width = data + parity;
        let groups = (1..=usable.max(1))
            .find(|n| usable > 0 && (n * width) % usable == 0)
            .unwrap_or(1);
        Some((data, groups))
    }

    fn validate(&self) -> Result<()> {
        let bad = |msg: String| {
            Err(Error::new(
                ErrorKind::InvalidArgument,
                "use vdev",
                self.describe(),
                msg,
            ))
        };
        match self {
            TopLevel::Single(_) => Ok(()),
            TopLevel::Mirror(d) if d.len() < 2 => bad(format!(
                "a mirror needs at least 2 devices, got {}",
                d.len()
            )),
            TopLevel::Raidz { parity, .. } if !(1..=3).contains(parity) => {
                bad(format!("raidz parity must be 1, 2 or 3, got {parity}"))
            }
            TopLevel::Raidz { parity, devices } if devices.len() < usize::from(*parity) + 1 => {
                bad(format!(
                    "raidz{parity} needs at least {} devices, got {}",
                    usize::from(*parity) + 1,
                    devices.len()
                ))
            }
            TopLevel::Draid {
                parity,
                data,
                spares,
                devices,
            } => {
                let children = devices.len() as u64;
                let (ndata, _) = self.draid_geometry().expect("a dRAID");
                if !(1..=3).contains(parity) {
                    bad(format!("draid parity must be 1, 2 or 3, got {parity}"))
                } else if children > 255 {
                    bad(format!("a draid has at most 255 devices, got {children}"))
                } else if *spares > 100 {
                    bad(format!("a draid has at most 100 spares, got {spares}"))
                } else if data == &Some(0) || ndata == 0 {
                    bad("a draid needs at least one data device per group".to_owned())
                } else if children < ndata + u64::from(*parity) + spares {
                    bad(format!(
                        "draid{parity} with {ndata} data and {spares} spares needs at least {} \
                         devices, got {children}",
                        ndata + u64::from(*parity) + spares
                    ))
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    fn describe(&self) -> String {
        let paths: Vec<String> = self
            .leaves()
            .iter()
            .map(|l| l.path.display().to_string())
            .collect();
        match self {
            TopLevel::Single(_) => paths.join(" "),
            TopLevel::Mirror(_) => format!("mirror {}", paths.join(" ")),
            TopLevel::Raidz { parity, .. } => format!("raidz{parity} {}", paths.join(" ")),
            TopLevel::Draid { parity, spares, .. } => {
                let (data, _) = self.draid_geometry().expect("a dRAID");
                let children = paths.len();
                format!(
                    "draid{parity}:{data}d:{children}c:{spares}s {}",
                    paths.join(" ")
                )
            }
        }
    }

    fn to_nvlist(&self, is_log: bool, bias: Option<&str>, ashift: Option<u64>) -> Result<NvList> {
        let mut l = match self {
            TopLevel::Single(leaf) => leaf.to_nvlist(is_log, ashift)?,
            TopLevel::Mirror(devices)
            | TopLevel::Raidz { devices, .. }
            | TopLevel::Draid { devices, .. } => {
                let mut l = NvList::new();
                let children = devices
                    .iter()
                    .map(|d| d.to_nvlist(false, ashift))
                    .collect::<Result<Vec<_>>>()?;
                let refs: Vec<_> = children.iter().map(|c| &**c).collect();
                match self {
                    TopLevel::Raidz { parity, .. } => {
                        l.insert_str("type", "raidz")?;
                        l.insert_u64("nparity", u64::from(*parity))?;
                    }
                    TopLevel::Draid { parity, spares, .. } => {
                        let (data, groups) = self.draid_geometry().expect("a dRAID");
                        l.insert_str("type", "draid")?;
                        l.insert_u64("nparity", u64::from(*parity))?;
                        l.insert_u64("draid_ndata", data)?;
                        l.insert_u64("draid_nspares", *spares)?;
                        l.insert_u64("draid_ngroups", groups)?;
                    }
                    _ => l.insert_str("type", "mirror")?,
                }
                l.insert_list_array("children", &refs)?;
                l.insert_u64("is_log", is_log as u64)?;
                l
            }
        };
        if let Some(bias) = bias {
            l.insert_str("alloc_bias", bias)?;
        }
        Ok(l)
    }
}

/// The devices of a new pool, built up the way a `zpool create` command line reads.
///
/// ```
/// use zfs_core::VdevSpec;
/// let spec = VdevSpec::new()
///     .mirror(["/var/tmp/a", "/var/tmp/b"])
///     .log_file("/var/tmp/slog")
///     .cache_file("/var/tmp/l2arc");
/// assert_eq!(spec.to_string(), "mirror /var/tmp/a /var/tmp/b log /var/tmp/slog cache /var/tmp/l2arc");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VdevSpec {
    data: Vec<TopLevel>,
    special: Vec<TopLevel>,
    dedup: Vec<TopLevel>,
    log: Vec<TopLevel>,
    cache: Vec<Leaf>,
    spares: Vec<Leaf>,
}

impl VdevSpec {
    /// No devices yet.
    pub fn new() -> VdevSpec {
        VdevSpec::default()
    }

    /// Adds a top-level data vdev (its words on the `zpool create` command line).
    pub fn vdev(mut self, vdev: TopLevel) -> VdevSpec {
        self.data.push(vdev);
        self
    }

    /// Adds one file as a top-level data vdev (`zpool create POOL /path/to/file`).
    pub fn file(self, path: impl Into<PathBuf>) -> VdevSpec {
        self.vdev(TopLevel::Single(Leaf::file(path)))
    }

    /// Adds one block device as a top-level data vdev (`zpool create POOL /dev/sdX`).
    pub fn disk(self, path: impl Into<PathBuf>) -> VdevSpec {
        self.vdev(TopLevel::Single(Leaf::disk(path)))
    }

    /// Adds a mirror of files (`mirror FILE FILE...`).
    pub fn mirror<P: Into<PathBuf>>(self, files: impl IntoIterator<Item = P>) -> VdevSpec {
        self.vdev(TopLevel::Mirror(
            files.into_iter().map(Leaf::file).collect(),
        ))
    }

    /// Adds a raidz group of files with `parity` 1, 2 or 3 (`raidzN FILE FILE...`).
    pub fn raidz<P: Into<PathBuf>>(
        self,
        parity: u8,
        files: impl IntoIterator<Item = P>,
    ) -> VdevSpec {
        self.vdev(TopLevel::Raidz {
            parity,
            devices: files.into_iter().map(Leaf::file).collect(),
        })
    }

    /// Adds a separate intent-log vdev (`log`).
    pub fn log(mut self, vdev: TopLevel) -> VdevSpec {
        self.log.push(vdev);
        self
    }

    /// Adds one file as a log device (`log FILE`).
    pub fn log_file(self, path: impl Into<PathBuf>) -> VdevSpec {
        self.log(TopLevel::Single(Leaf::file(path)))
    }

    /// Adds a special-allocation-class vdev (`special`), for metadata and small blocks.
    pub fn special(mut self, vdev: TopLevel) -> VdevSpec {
        self.special.push(vdev);
        self
    }

    /// Adds one file as a special vdev (`special FILE`).
    pub fn special_file(self, path: impl Into<PathBuf>) -> VdevSpec {
        self.special(TopLevel::Single(Leaf::file(path)))
    }

    /// Adds a dedup-allocation-class vdev (`dedup`), for the deduplication table.
    pub fn dedup(mut self, vdev: TopLevel) -> VdevSpec {
        self.dedup.push(vdev);
        self
    }

    /// Adds one file as a dedup vdev (`dedup FILE`).
    pub fn dedup_file(self, path: impl Into<PathBuf>) -> VdevSpec {
        self.dedup(TopLevel::Single(Leaf::file(path)))
    }

    /// Adds an L2ARC cache device (`cache`).
    pub fn cache(mut self, leaf: Leaf) -> VdevSpec {
        self.cache.push(leaf);
        self
    }

    /// Adds one file as a cache device (`cache FILE`).
    pub fn cache_file(self, path: impl Into<PathBuf>) -> VdevSpec {
        self.cache(Leaf::file(path))
    }

    /// Adds a hot spare (`spare`).
    pub fn spare(mut self, leaf: Leaf) -> VdevSpec {
        self.spares.push(leaf);
        self
    }

    /// Adds one file as a hot spare (`spare FILE`): every class has its `_file` shorthand.
    pub fn spare_file(self, path: impl Into<PathBuf>) -> VdevSpec {
        self.spare(Leaf::file(path))
    }

    /// The same layout with every leaf passed through `f` (to partition whole disks).
    pub(crate) fn map_leaves(&self, mut f: impl FnMut(&Leaf) -> Result<Leaf>) -> Result<VdevSpec> {
        let mut top = |t: &TopLevel| -> Result<TopLevel> {
            let mut all = |d: &[Leaf]| d.iter().map(&mut f).collect::<Result<Vec<_>>>();
            Ok(match t {
                TopLevel::Single(l) => TopLevel::Single(all(std::slice::from_ref(l))?.remove(0)),
                TopLevel::Mirror(d) => TopLevel::Mirror(all(d)?),
                TopLevel::Raidz { parity, devices } => TopLevel::Raidz {
                    parity: *parity,
                    devices: all(devices)?,
                },
                TopLevel::Draid {
                    parity,
                    data,
                    spares,
                    devices,
                } => TopLevel::Draid {
                    parity: *parity,
                    data: *data,
                    spares: *spares,
                    devices: all(devices)?,
                },
            })
        };
        let mut tops = |v: &[TopLevel]| v.iter().map(&mut top).collect::<Result<Vec<_>>>();
        Ok(VdevSpec {
            data: tops(&self.data)?,
            special: tops(&self.special)?,
            dedup: tops(&self.dedup)?,
            log: tops(&self.log)?,
            cache: self.cache.iter().map(&mut f).collect::<Result<_>>()?,
            spares: self.spares.iter().map(&mut f).collect::<Result<_>>()?,
        })
    }

    /// The vdevs whose redundancy the pool's must match: data and special (not logs).
    pub(crate) fn redundant_groups(&self) -> impl Iterator<Item = &TopLevel> {
        self.data.iter().chain(&self.special).chain(&self.dedup)
    }

    /// Every device, in order.
    pub fn leaves(&self) -> impl Iterator<Item = &Leaf> {
        let groups = self
            .data
            .iter()
            .chain(&self.special)
            .chain(&self.dedup)
            .chain(&self.log);
        groups
            .flat_map(|g| g.leaves())
            .chain(&self.cache)
            .chain(&self.spares)
    }

    /// Checks the layout and every device, touching nothing: paths absolute and distinct,
    /// groups of the right size, files present, regular and at least [`MIN_DEVICE_SIZE`].
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for the layout or a relative or repeated path,
    /// [`ErrorKind::NotFound`] for a missing device, [`ErrorKind::DeviceTooSmall`] for a file
    /// under 64 MiB.
    pub fn validate(&self) -> Result<()> {
        if self.data.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "use vdevs",
                self.to_string(),
                "no data vdevs given",
            ));
        }
        self.validate_devices()
    }

    /// [`VdevSpec::validate`] without requiring data vdevs: what `zpool add` checks (it may
    /// add only a log, cache or spare).
    pub(crate) fn validate_devices(&self) -> Result<()> {
        if self.leaves().next().is_none() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "use vdevs",
                self.to_string(),
                "no devices given",
            ));
        }
        for group in self.redundant_groups().chain(&self.log) {
            group.validate()?;
        }
        let mut seen = HashSet::new();
        for leaf in self.leaves() {
            let shown = leaf.path.display().to_string();
            if leaf.is_distributed_spare() {
                if !is_distributed_spare_name(&shown) {
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        "use vdev",
                        shown,
                        "a distributed spare is named draidP-T-S (as `zpool status` lists it)",
                    ));
                }
                continue;
            }
            if !leaf.path.is_absolute() {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    "use vdev",
                    shown,
                    "device path must be absolute",
                ));
            }
            if !seen.insert(&leaf.path) {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    "use vdev",
                    shown,
                    "device is listed more than once",
                ));
            }
            let meta = std::fs::metadata(&leaf.path).map_err(|e| {
                Error::from_errno(
                    "use vdev",
                    shown.clone(),
                    e.raw_os_error().unwrap_or(libc::EIO),
                )
            })?;
            if leaf.is_file() {
                if !meta.is_file() {
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        "use vdev",
                        shown,
                        "not a regular file",
                    ));
                }
                if meta.len() < MIN_DEVICE_SIZE {
                    return Err(Error::new(
                        ErrorKind::DeviceTooSmall,
                        "use vdev",
                        shown,
                        format!(
                            "device is {} bytes, smaller than the minimum of 64 MiB",
                            meta.len()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The vdev tree `zpool_create` takes, with no ashift given: the kernel picks each
    /// vdev's from its devices' sector size.
    pub fn to_nvlist(&self) -> Result<NvList> {
        self.to_nvlist_with_ashift(None)
    }

    /// The vdev tree with `ashift` on every leaf (data, special, log, cache and spare devices),
    /// which is how `zpool create -o ashift=N` passes it: the kernel reads a new vdev's ashift
    /// from its leaves only, and the pool property alone would leave the disks at their
    /// sector size's ashift while `zpool get ashift` showed N.
    pub fn to_nvlist_with_ashift(&self, ashift: Option<u64>) -> Result<NvList> {
        let mut children = Vec::new();
        for g in &self.data {
            children.push(g.to_nvlist(false, None, ashift)?);
        }
        for g in &self.special {
            children.push(g.to_nvlist(false, Some("special"), ashift)?);
        }
        for g in &self.dedup {
            children.push(g.to_nvlist(false, Some("dedup"), ashift)?);
        }
        for g in &self.log {
            children.push(g.to_nvlist(true, None, ashift)?);
        }
        let mut root = NvList::new();
        root.insert("type", &NvValue::from("root"))?;
        let refs: Vec<_> = children.iter().map(|c| &**c).collect();
        root.insert_list_array("children", &refs)?;
        for (key, leaves) in [("l2cache", &self.cache), ("spares", &self.spares)] {
            if !leaves.is_empty() {
                let lists = leaves
                    .iter()
                    .map(|l| l.to_nvlist(false, ashift))
                    .collect::<Result<Vec<_>>>()?;
                let refs: Vec<_> = lists.iter().map(|c| &**c).collect();
                root.insert_list_array(key, &refs)?;
            }
        }
        Ok(root)
    }
}

/// As on the `zpool create` command line: `mirror /a /b`.
impl std::fmt::Display for TopLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl std::fmt::Display for VdevSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut words: Vec<String> = self.data.iter().map(TopLevel::describe).collect();
        for (word, groups) in [
            ("special", &self.special),
            ("dedup", &self.dedup),
            ("log", &self.log),
        ] {
            if !groups.is_empty() {
                words.push(word.to_owned());
                words.extend(groups.iter().map(TopLevel::describe));
            }
        }
        for (word, leaves) in [("cache", &self.cache), ("spare", &self.spares)] {
            if !leaves.is_empty() {
                words.push(word.to_owned());
                words.extend(leaves.iter().map(|l| l.path.display().to_string()));
            }
        }
        f.write_str(&words.join(" "))
    }
}

fn path_str(p: &Path) -> Result<&str> {
    p.to_str().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidArgument,
            "use vdev",
            p.display().to_string(),
            "path is not UTF-8",
        )
    })
}

#[cfg(test)]
mod tests;
