//! What already exists on the system, read once so that planning is a pure function.

mod disks;

pub(crate) use self::disks::mounts;
pub use self::disks::{ExistingDisk, ExistingPartition};

use std::collections::HashSet;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Serialize;
use zfs_core::{DatasetName, DatasetType, DatasetTypes, Zfs};

use crate::spec::{Spec, Topology};

/// The user property that records an apply in progress (`applying`) or done (`complete`).
pub const JOURNAL: &str = "impermanence-layout:state";

/// One property as read: its value and whether it is set locally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Seen {
    /// The value.
    pub value: String,
    /// Set on this dataset (not inherited or default).
    pub local: bool,
}

/// An existing dataset named by the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExistingDataset {
    /// Filesystem (`true`) or something else.
    pub is_filesystem: bool,
    /// Volume (`true`) or something else.
    pub is_volume: bool,
    /// The spec's properties as they are now.
    pub properties: IndexMap<String, Seen>,
    /// Bytes referenced (an empty filesystem references a few dozen KiB).
    pub referenced: u64,
    /// For a volume the spec makes a filesystem (or swap) on: the signature on it (`swap`,
    /// `ext4`), as `blkid -p` reads it; `None` when blank.
    pub signature: Option<String>,
    /// For such a volume: where its filesystem is mounted (everywhere it is).
    pub device_mounted_at: Vec<PathBuf>,
    /// Encrypted and its key not loaded: what is on it cannot be read (a volume has no device
    /// node to read until then).
    pub locked: bool,
}

/// The spec's pool as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExistingPool {
    /// The spec's pool properties, as they are now.
    pub properties: IndexMap<String, String>,
    /// The spec's root filesystem properties, as they are now.
    pub root_properties: IndexMap<String, Seen>,
    /// The spec's datasets that exist, by full name.
    pub datasets: IndexMap<String, ExistingDataset>,
    /// The pool's snapshots, by full name.
    pub snapshots: HashSet<String>,
    /// The journal property on the root dataset, if set.
    pub journal: Option<String>,
    /// Its devices, as `zpool status` shows them.
    pub topology: Topology,
    /// The spec's encryption roots that exist with their key not loaded, by full name.
    pub locked: HashSet<String>,
    /// The pool's root and the spec's filesystems that are mounted, by full name: where.
    pub mounted: IndexMap<String, PathBuf>,
}

/// The ashift of the pool's top-level data vdevs (a log device added later may differ without
/// saying anything about the layout): one number when they agree, `9,12`-style when they do
/// not; `None` if the configuration names none.
fn disk_ashift(status: &zfs_core::PoolStatus) -> Option<String> {
    let mut seen: Vec<u64> = status
        .root
        .children
        .iter()
        .filter(|v| !v.is_log)
        .filter_map(|v| v.ashift)
        .collect();
    seen.sort_unstable();
    seen.dedup();
    (!seen.is_empty()).then(|| {
        seen.iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// Everything planning needs to know about the system.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Inventory {
    /// The pool, if it is imported.
    pub pool: Option<ExistingPool>,
    /// Vdev paths of the spec that exist.
    pub existing_vdevs: HashSet<PathBuf>,
    /// Why existing vdevs cannot make a new pool (too small, part of another pool).
    pub vdev_problems: Vec<String>,
    /// The spec's pool, found exported (not imported) on the spec's devices or, for a spec
    /// without devices, on the system's disks: the plan imports it.
    pub exported: Option<ExportedPool>,
    /// Spec devices that hold what a new pool must not overwrite unless told to (`--wipe`):
    /// another pool's label, or partitions on a whole disk.
    pub in_the_way: Vec<InTheWay>,
    /// The spec's disks that exist, by device.
    pub disks: std::collections::HashMap<PathBuf, ExistingDisk>,
    /// The spec's partition labels that partitions of other disks carry.
    pub label_clashes: Vec<String>,
    /// For a spec with several pools: what exists of each of its `[[pools]]`, in order (the
    /// fields above are the first pool's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub more_pools: Vec<Inventory>,
}

/// A spec device holding something a new pool would overwrite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct InTheWay {
    /// The device.
    pub device: PathBuf,
    /// What is on it.
    pub holds: Holds,
}

/// What is on a device in the way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Holds {
    /// The label of a pool that is not imported (exported, destroyed-but-live, or one
    /// imported elsewhere).
    PoolLabel {
        /// That pool's name.
        pool: String,
        /// Its state as the label says it (`exported`, `active`, ...).
        state: String,
    },
    /// A partition table with these partitions, on a whole disk.
    Partitions {
        /// Their kernel names (`sda1`).
        names: Vec<String>,
    },
}

impl InTheWay {
    /// Why a new pool is refused the device without `--wipe`.
    pub fn refusal(&self) -> String {
        let dev = self.device.display();
        match &self.holds {
            Holds::PoolLabel { pool, state } => format!(
                "{dev} belongs to {state} pool '{pool}'; refusing to overwrite it (destroy that \
                 pool, name another device, or --wipe to clear its labels)"
            ),
            Holds::Partitions { names } => format!(
                "{dev} is a whole disk that holds partitions ({}): refusing to repartition it \
                 (name the partition for the pool, or --wipe to give zpool the whole disk)",
                names.join(", ")
            ),
        }
    }
}

/// An exported pool of the spec's name, and where it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExportedPool {
    /// Its GUID (`zpool import` lists it as `id`).
    pub guid: u64,
    /// Directories searched for its devices (empty: the system's disks).
    pub dirs: Vec<PathBuf>,
}

impl Inventory {
    /// Nothing exists yet, except the vdev paths found on disk (works without ZFS).
    pub fn without_zfs(spec: &Spec) -> Inventory {
        Inventory::of_each_pool(spec, |view| Ok(Inventory::without_zfs_one(view)))
            .expect("reading without ZFS does not fail")
    }

    /// Reads the live system.
    ///
    /// # Errors
    /// Whatever zfs-core reports while reading.
    pub fn read(zfs: &Zfs, spec: &Spec) -> zfs_core::Result<Inventory> {
        Inventory::of_each_pool(spec, |view| Inventory::read_one(zfs, view))
    }

    /// This inventory and those of [`Inventory::more_pools`]: one per pool of the spec, in
    /// the order of [`Spec::pool_specs`].
    pub fn per_pool(&self) -> Vec<&Inventory> {
        std::iter::once(self).chain(&self.more_pools).collect()
    }

    /// `read` applied to each pool's view of the spec, the first's holding the others'.
    fn of_each_pool(
        spec: &Spec,
        mut read: impl FnMut(&Spec) -> zfs_core::Result<Inventory>,
    ) -> zfs_core::Result<Inventory> {
        if !spec.has_several_pools() {
            return read(spec);
        }
        let mut views = spec.pool_specs().into_iter();
        let first = views.next().expect("a spec has a pool");
        let mut inv = read(&first)?;
        for view in views {
            inv.more_pools.push(read(&view)?);
        }
        Ok(inv)
    }

    fn without_zfs_one(spec: &Spec) -> Inventory {
        let existing_vdevs = existing_vdevs(spec);
        let mut vdev_problems = Vec::new();
        let mut in_the_way = Vec::new();
        let topology = spec.pool.topology();
        for v in topology
            .devices()
            .filter(|v| existing_vdevs.contains(&v.path))
        {
            if crate::disk::kind(&v.path) == crate::disk::DeviceKind::WholeDisk {
                let names = crate::disk::partitions(&v.path);
                if !names.is_empty() {
                    in_the_way.push(InTheWay {
                        device: v.path.clone(),
                        holds: Holds::Partitions { names },
                    });
                    continue;
                }
            }
            let Ok(meta) = std::fs::metadata(&v.path) else {
                continue;
            };
            if meta.is_file() && meta.len() < zfs_core::MIN_DEVICE_SIZE {
                vdev_problems.push(format!(
                    "{} is {} bytes, and a vdev needs at least 64 MiB: grow it \
                     (truncate -s 1G {}) or name a new file with --vdev-size",
                    v.path.display(),
                    meta.len(),
                    v.path.display()
                ));
            } else if !meta.is_file() && !meta.file_type().is_block_device() {
                vdev_problems.push(format!(
                    "{} is neither a regular file nor a block device",
                    v.path.display()
                ));
            }
        }
        Inventory {
            pool: None,
            existing_vdevs,
            vdev_problems,
            exported: None,
            in_the_way,
            disks: disks::read(spec),
            label_clashes: disks::label_clashes(spec),
            more_pools: Vec::new(),
        }
    }

    fn read_one(zfs: &Zfs, spec: &Spec) -> zfs_core::Result<Inventory> {
        let mut inv = Inventory::without_zfs_one(spec);
        disks::pools_using(zfs, &mut inv.disks);
        let Some(name) = spec.pool_name() else {
            return Ok(inv);
        };
        let Ok(pool) = zfs.pool(&name) else {
            // A new pool: its devices must not belong to another one. Or the pool itself,
            // exported: then it is imported and settled against.
            let mut seen_exported = false;
            let topology = spec.pool.topology();
            for v in topology
                .devices()
                .filter(|v| inv.existing_vdevs.contains(&v.path))
            {
                if let Ok(Some(label)) = zfs.device_label(&v.path) {
                    let (owner, state) = (label.pool, label.state);
                    seen_exported |= owner == name && state == zfs_core::PoolState::Exported;
                    inv.in_the_way.push(InTheWay {
                        device: v.path.clone(),
                        holds: Holds::PoolLabel {
                            pool: owner.to_string(),
                            state: state.as_str().to_owned(),
                        },
                    });
                }
            }
            if seen_exported || topology.is_empty() {
                inv.exported = find_exported(zfs, &name, &topology)?;
            }
            return Ok(inv);
        };
        let mut state = ExistingPool {
            properties: IndexMap::new(),
            root_properties: IndexMap::new(),
            datasets: IndexMap::new(),
            snapshots: HashSet::new(),
            journal: None,
            topology: Topology::new(),
            locked: HashSet::new(),
            mounted: IndexMap::new(),
        };
        // Imported under an altroot (`zpool import -R`), mountpoints read with it in front.
        let altroot = pool
            .property("altroot")
            .ok()
            .map(|v| v.value)
            .filter(|v| v.starts_with('/') && v != "/");
        let status = pool.status()?;
        state.topology = crate::live_topology::from_status(&status);
        for k in spec.pool.properties.keys() {
            if let Ok(v) = pool.property(k) {
                state.properties.insert(k.clone(), v.value);
            }
        }
        // `zpool get ashift` reads the pool property, which says nothing of the disks: a pool
        // created with the property alone has disks at their sector size's ashift. The
        // top-level vdevs' own ashift is the truth.
        // `ashift=0` asks the kernel to choose: any value on the disks matches it.
        if spec.pool.properties.get("ashift").is_some_and(|a| a != "0") {
            if let Some(on_disk) = disk_ashift(&status) {
                state.properties.insert("ashift".into(), on_disk);
            }
        }
        let root = zfs.dataset(&name.root_dataset())?;
        if let Some(at) = root.mounted_at() {
            state.mounted.insert(name.to_string(), at);
        }
        // Each dataset's values are read in one refresh (`Dataset::properties`): under
        // software emulation a refresh costs tens of milliseconds, and a plan reads a dozen
        // values of each dataset.
        let mut asked: Vec<&str> = spec
            .pool
            .root_properties
            .keys()
            .map(String::as_str)
            .collect();
        asked.push(JOURNAL);
        let mut values = root.properties(&asked)?.into_iter();
        for k in spec.pool.root_properties.keys() {
            if let Some(Ok(v)) = values.next() {
                state
                    .root_properties
                    .insert(k.clone(), seen(k, v, altroot.as_deref()));
            }
        }
        let journal = values.next().expect("one value per name")?;
        state.journal = (journal.value != "-").then_some(journal.value);
        // Every snapshot of the pool, the root's included (`zfs list -r -t snapshot POOL`).
        for s in zfs.list(&name.root_dataset(), DatasetTypes::SNAPSHOT)? {
            state.snapshots.insert(s.name.to_string());
        }
        for r in spec.encryption_roots() {
            let locked = DatasetName::new(r.name.as_str())
                .and_then(|n| zfs.dataset(&n))
                .and_then(|d| d.key_status())
                .is_ok_and(|k| k == zfs_core::KeyStatus::Unavailable);
            if locked {
                state.locked.insert(r.name);
            }
        }
        let volume_filesystems = crate::plan::volume_filesystems(spec);
        let device_mounts = disks::mounts();
        for d in &spec.datasets {
            let full = spec.full_name(&d.name);
            let Ok(full_name) = DatasetName::new(full.as_str()) else {
                continue;
            };
            let Ok(ds) = zfs.dataset(&full_name) else {
                continue;
            };
            let mut props = IndexMap::new();
            let shape: &[&str] = if d.is_volume() {
                &["volsize", "volblocksize"]
            } else {
                &[]
            };
            let mut asked: Vec<&str> = d
                .properties
                .keys()
                .map(String::as_str)
                .chain(shape.iter().copied())
                .collect();
            let own = asked.len();
            asked.extend(["referenced", "encryption", "keystatus"]);
            // A dataset gone since it was opened reads as one with nothing set.
            let values: Vec<Option<zfs_core::PropValue>> = match ds.properties(&asked) {
                Ok(values) => values.into_iter().map(Result::ok).collect(),
                Err(_) => vec![None; asked.len()],
            };
            for (k, v) in asked[..own].iter().zip(&values) {
                if let Some(v) = v {
                    props.insert((*k).to_owned(), seen(k, v.clone(), altroot.as_deref()));
                }
            }
            let value = |i: usize| values[own + i].as_ref().map(|v| v.value.as_str());
            let referenced = value(0).and_then(|v| v.parse().ok()).unwrap_or(0);
            // The key is not loaded (`zfs get keystatus`: unavailable) of an encrypted dataset.
            let locked = value(1).is_some_and(|e| e != "off") && value(2) == Some("unavailable");
            let is_filesystem = ds.kind() == DatasetType::Filesystem;
            let is_volume = ds.kind() == DatasetType::Volume;
            if let Some(at) = ds.mounted_at() {
                state.mounted.insert(full.clone(), at);
            }
            let formatted = volume_filesystems.iter().any(|(name, ..)| *name == full);
            let (signature, device_mounted_at) = match is_volume && formatted && !locked {
                true => volume_signature(&full, &device_mounts)?,
                false => (None, Vec::new()),
            };
            state.datasets.insert(
                full.clone(),
                ExistingDataset {
                    is_filesystem,
                    is_volume,
                    properties: props,
                    referenced,
                    signature,
                    device_mounted_at,
                    locked,
                },
            );
        }
        inv.pool = Some(state);
        Ok(inv)
    }
}

/// The signature on a volume, read once its device node is there (a pool just imported
/// gets its `/dev/zvol` links from udev a moment later).
/// Returns it with where the volume is mounted, if it is.
fn volume_signature(
    full: &str,
    mounts: &std::collections::HashMap<String, Vec<PathBuf>>,
) -> zfs_core::Result<(Option<String>, Vec<PathBuf>)> {
    let device = crate::plan::volume_device(full);
    let io = |e: std::io::Error| zfs_core::Error::io("read the signature of", full, &e);
    crate::filesystem::wait_for_device(&device, crate::filesystem::DEVICE_WAIT).map_err(io)?;
    let signature = crate::filesystem::signature(&device).map_err(io)?;
    let at = crate::disk::dev_number(&device)
        .and_then(|n| mounts.get(&n).cloned())
        .unwrap_or_default();
    Ok((signature, at))
}

/// The exported pool `name`, searched for in the directories of the spec's file devices, or
/// on the system's disks when the spec names none.
fn find_exported(
    zfs: &Zfs,
    name: &zfs_core::PoolName,
    topology: &Topology,
) -> zfs_core::Result<Option<ExportedPool>> {
    let mut dirs: Vec<PathBuf> = topology
        .devices()
        .filter(|v| crate::disk::kind(&v.path) == crate::disk::DeviceKind::File)
        .filter_map(|v| v.path.parent().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.dedup();
    let opts = dirs
        .iter()
        .fold(zfs_core::ImportOptions::new(), |o, d| o.dir(d));
    let found = zfs.importable_pools(&opts)?;
    let mut same: Vec<_> = found.into_iter().filter(|p| p.name == *name).collect();
    Ok(match same.len() {
        1 => same.pop().map(|p| ExportedPool { guid: p.guid, dirs }),
        // None, or several of one name: nothing to import without asking which.
        _ => None,
    })
}

/// A property as read, with a pool's altroot taken off a mountpoint (`/mnt/home` under
/// altroot `/mnt` is the `/home` the spec says).
fn seen(property: &str, v: zfs_core::PropValue, altroot: Option<&str>) -> Seen {
    let value = match altroot.and_then(|root| v.value.strip_prefix(root)) {
        Some(rest) if property == "mountpoint" && (rest.is_empty() || rest.starts_with('/')) => {
            if rest.is_empty() {
                "/".to_owned()
            } else {
                rest.to_owned()
            }
        }
        _ => v.value,
    };
    Seen {
        local: v.source == zfs_core::PropSource::Local,
        value,
    }
}

fn existing_vdevs(spec: &Spec) -> HashSet<PathBuf> {
    spec.pool
        .topology()
        .devices()
        .filter(|v| v.path.exists())
        .map(|v| v.path.clone())
        .collect()
}

/// Whether two values of `property` mean the same (`posixacl` is `posix`; on OpenZFS 2.3
/// `xattr=sa` reads back as `on`; sizes in any unit).
pub fn same_meaning(property: &str, a: &str, b: &str) -> bool {
    let norm = |v: &str| -> String {
        let v = v.trim().to_ascii_lowercase();
        match (property, v.as_str()) {
            ("acltype", "posixacl") => "posix".into(),
            ("xattr", "sa") => "on".into(),
            ("compression", "zstd-3") => "zstd".into(),
            ("encryption", "on") => "aes-256-gcm".into(),
            ("normalization", _) => v,
            // A feature the spec enables is `active` once something uses it.
            (p, "active") if p.starts_with("feature@") => "enabled".into(),
            _ => match crate::spec::parse_size(&v) {
                Some(n) if v.chars().any(|c| c.is_ascii_alphabetic()) => n.to_string(),
                _ => v.trim_end_matches('/').to_owned(),
            },
        }
    };
    norm(a) == norm(b)
}
