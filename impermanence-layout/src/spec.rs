//! [`Spec`]: the layout as data. `Spec::default()` is the guide's layout; a TOML file can
//! describe another. Checked as a whole before anything touches a disk.

mod builder;
mod disks;
pub(crate) mod pools;
mod topology;
mod validate;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use zfs_core::PoolName;

pub use self::builder::SpecBuilder;
pub use self::disks::{
    partlabel_path, DiskSpec, FilesystemFormat, FilesystemSpec, PartitionKind, PartitionSpec,
};
pub use self::topology::{Topology, VdevEntry, VdevGroup};

/// Properties in the order given (the order commands are printed in).
pub type Properties = IndexMap<String, String>;

/// The whole layout: pool, datasets, snapshots, and the boot-side facts for NixOS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Spec {
    /// Disks given a new GPT partition table, with their partitions and the filesystems on
    /// them (an ESP at `/boot`, swap); the pool's vdevs name a partition by its device,
    /// `/dev/disk/by-partlabel/LABEL`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disks: Vec<DiskSpec>,
    /// The pool (the first, when there are several).
    pub pool: PoolSpec,
    /// The first pool's datasets, by name relative to it (`nix` is `zroot/nix`), parents
    /// before children.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<DatasetSpec>,
    /// The first pool's snapshots, taken once the datasets exist (while they are still empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snapshots: Vec<SnapshotSpec>,
    /// More pools (`[[pools]]`), each with its own `datasets` and `snapshots`, laid down with
    /// the first in one all-or-nothing step: a boot pool with `compatibility = "grub2"` next to
    /// the root pool. See [`Spec::pool_specs`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pools: Vec<PoolSpec>,
    /// What the installed system mounts and keeps (the NixOS module's facts); none when the
    /// section is left out.
    #[serde(default = "BootSpec::none", skip_serializing_if = "BootSpec::is_none")]
    pub boot: BootSpec,
}

/// The pool and its devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PoolSpec {
    /// Its name (`zroot`).
    pub name: String,
    /// Its devices, the short way: one group of `layout`. The guide's is `/dev/sda2`; none is
    /// assumed, so a device is never overwritten by default: give them in the spec or with
    /// `--vdev`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vdevs: Vec<VdevEntry>,
    /// How `vdevs` are combined.
    #[serde(default, skip_serializing_if = "is_stripe")]
    pub layout: VdevLayout,
    /// Its devices, the long way: several groups, log, special, dedup, cache, spares. Instead
    /// of `vdevs` and `layout`, not with them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology: Option<Topology>,
    /// Pool properties (`zpool create -o`).
    #[serde(default, skip_serializing_if = "Properties::is_empty")]
    pub properties: Properties,
    /// Root filesystem properties (`zpool create -O`).
    #[serde(default, skip_serializing_if = "Properties::is_empty")]
    pub root_properties: Properties,
    /// Create the pool as `zpool create -f` does: with vdevs that differ in redundancy (a
    /// mirror next to a single device), and on devices that hold another filesystem or an
    /// exported pool, which are refused without it. Off by default.
    #[serde(default, skip_serializing_if = "is_false")]
    pub force: bool,
    /// Start the pool with every feature the module supports (the default), or with none but
    /// those named as `feature@NAME = "enabled"` (`false`: `zpool create -d`). A
    /// `compatibility` property limits them either way, as `zpool create` does.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enable_features: bool,
    /// For a pool of `[[pools]]`: its datasets, relative to it (the first pool's are the
    /// spec's top-level `datasets`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<DatasetSpec>,
    /// For a pool of `[[pools]]`: its snapshots (the first pool's are the spec's top-level
    /// `snapshots`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snapshots: Vec<SnapshotSpec>,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

impl DatasetSpec {
    /// A dataset by name relative to the pool, without properties.
    pub fn new(name: &str) -> DatasetSpec {
        DatasetSpec {
            name: name.to_owned(),
            properties: Properties::new(),
            volume: None,
        }
    }

    /// A volume (zvol) of `size` (`4G`), e.g. for swap: `zfs create -V`.
    pub fn volume(name: &str, size: &str) -> DatasetSpec {
        DatasetSpec {
            volume: Some(VolumeSpec {
                size: size.to_owned(),
                block_size: None,
                sparse: false,
                filesystem: None,
            }),
            ..DatasetSpec::new(name)
        }
    }

    /// For a volume: its block size (`-b`, `volblocksize`: `4K`, `16K`).
    pub fn block_size(mut self, size: &str) -> DatasetSpec {
        if let Some(v) = &mut self.volume {
            v.block_size = Some(size.to_owned());
        }
        self
    }

    /// For a volume: sparse (`-s`, no reservation for its size).
    pub fn sparse(mut self, yes: bool) -> DatasetSpec {
        if let Some(v) = &mut self.volume {
            v.sparse = yes;
        }
        self
    }

    /// For a volume: the filesystem (or swap) made on it (`ext4` at `/srv`).
    pub fn filesystem(mut self, fs: FilesystemSpec) -> DatasetSpec {
        if let Some(v) = &mut self.volume {
            v.filesystem = Some(fs);
        }
        self
    }

    /// Whether it is a volume.
    pub fn is_volume(&self) -> bool {
        self.volume.is_some()
    }

    /// A property (`zfs create -o name=value`).
    pub fn property(mut self, name: &str, value: &str) -> DatasetSpec {
        self.properties.insert(name.to_owned(), value.to_owned());
        self
    }
}

impl SanoidSpec {
    /// Snapshots of `dataset` (relative to the pool) kept `hourly`, `daily`, `weekly`,
    /// `monthly`; taken and pruned by sanoid.
    pub fn new(dataset: &str, hourly: u32, daily: u32, weekly: u32, monthly: u32) -> SanoidSpec {
        SanoidSpec {
            dataset: dataset.to_owned(),
            pool: None,
            hourly,
            daily,
            weekly,
            monthly,
            autosnap: true,
            autoprune: true,
        }
    }

    /// Of a dataset of `pool`, one of the spec's `[[pools]]` (not the first).
    pub fn in_pool(mut self, pool: &str) -> SanoidSpec {
        self.pool = Some(pool.to_owned());
        self
    }
}

impl SnapshotSpec {
    /// Snapshot `name` of `dataset` (relative to the pool).
    pub fn new(dataset: &str, name: &str) -> SnapshotSpec {
        SnapshotSpec {
            dataset: dataset.to_owned(),
            name: name.to_owned(),
        }
    }
}

impl MountSpec {
    /// `dataset` (relative to the pool) mounted at `path`, not needed for boot.
    pub fn new(path: &str, dataset: &str) -> MountSpec {
        MountSpec {
            path: path.to_owned(),
            dataset: dataset.to_owned(),
            pool: None,
            needed_for_boot: false,
            options: Vec::new(),
        }
    }

    /// Of a dataset of `pool`, one of the spec's `[[pools]]` (not the first).
    pub fn in_pool(mut self, pool: &str) -> MountSpec {
        self.pool = Some(pool.to_owned());
        self
    }

    /// A mount option (`noexec`).
    pub fn option(mut self, option: &str) -> MountSpec {
        self.options.push(option.to_owned());
        self
    }

    /// `neededForBoot`: mounted in the initrd, before the system starts (`/persist`).
    pub fn needed_for_boot(mut self, yes: bool) -> MountSpec {
        self.needed_for_boot = yes;
        self
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_stripe(l: &VdevLayout) -> bool {
    *l == VdevLayout::Stripe
}

impl PoolSpec {
    /// A pool of this name with no devices, properties or datasets yet, every feature
    /// enabled: for [`SpecBuilder::and_pool`] or `Spec::pools`.
    pub fn new(name: &str) -> PoolSpec {
        PoolSpec {
            name: name.to_owned(),
            vdevs: Vec::new(),
            layout: VdevLayout::Stripe,
            topology: None,
            properties: Properties::new(),
            root_properties: Properties::new(),
            force: false,
            enable_features: true,
            datasets: Vec::new(),
            snapshots: Vec::new(),
        }
    }

    /// The devices as one topology, whichever way the spec gave them.
    pub fn topology(&self) -> Topology {
        match &self.topology {
            Some(t) => t.clone(),
            None if self.vdevs.is_empty() => Topology::new(),
            None => Topology::new().vdev(VdevGroup::new(self.layout, self.vdevs.clone())),
        }
    }

    /// Every device, to change in place.
    pub fn devices_mut(&mut self) -> Box<dyn Iterator<Item = &mut VdevEntry> + '_> {
        match &mut self.topology {
            Some(t) => Box::new(t.devices_mut()),
            None => Box::new(self.vdevs.iter_mut()),
        }
    }
}

/// How the devices form the pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum VdevLayout {
    /// Each device its own top-level vdev (one device: the guide's case).
    #[default]
    Stripe,
    /// One mirror of all devices.
    Mirror,
    /// One raidz1 group (`raidz` is read as this, as `zpool create` reads it).
    #[serde(alias = "raidz")]
    Raidz1,
    /// One raidz2 group.
    Raidz2,
    /// One raidz3 group.
    Raidz3,
}

impl VdevLayout {
    /// The raidz parity, for raidz layouts.
    pub fn raidz_parity(self) -> Option<u8> {
        match self {
            VdevLayout::Raidz1 => Some(1),
            VdevLayout::Raidz2 => Some(2),
            VdevLayout::Raidz3 => Some(3),
            VdevLayout::Stripe | VdevLayout::Mirror => None,
        }
    }
}

/// A dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DatasetSpec {
    /// Name relative to the pool.
    pub name: String,
    /// Properties (`zfs create -o`).
    #[serde(default, skip_serializing_if = "Properties::is_empty")]
    pub properties: Properties,
    /// Present for a volume (zvol) instead of a filesystem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<VolumeSpec>,
}

/// A volume's shape: `zfs create -V SIZE [-b BLOCK_SIZE] [-s]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct VolumeSpec {
    /// Its size (`volsize`): `4G`; a multiple of the block size.
    pub size: String,
    /// Its block size (`volblocksize`): a power of two from 512 to 128K (`16K` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_size: Option<String>,
    /// No reservation for its size (`-s`): it may run out of space before it is full.
    #[serde(default)]
    pub sparse: bool,
    /// The filesystem (or swap) made on it once it exists, mounted like a partition's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filesystem: Option<FilesystemSpec>,
}

impl VolumeSpec {
    /// The size in bytes, when valid.
    pub fn size_bytes(&self) -> Option<u64> {
        parse_size(&self.size)
    }

    /// The block size in bytes, when given and valid.
    pub fn block_size_bytes(&self) -> Option<u64> {
        self.block_size.as_deref().and_then(parse_size)
    }
}

/// A snapshot of one of the spec's datasets, or of the pool's root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SnapshotSpec {
    /// The dataset, relative to the pool; `""` for the pool's root (`zroot@blank`).
    pub dataset: String,
    /// The snapshot's short name (`blank`).
    pub name: String,
}

/// What the installed system mounts and keeps: the NixOS module's facts. Every field is
/// optional, and a spec without `[boot]` is a layout with none of them (a Debian, Arch or
/// Fedora root on ZFS needs none): its filesystems mount where ZFS mounts them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct BootSpec {
    /// `size=` of a tmpfs root (the guide's impermanence): `/` is a tmpfs of this size, and
    /// no dataset is mounted there. Unset: `/` is the dataset whose mountpoint is `/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_tmpfs_size: Option<String>,
    /// `mode=` of the tmpfs root (`755` when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_tmpfs_mode: Option<String>,
    /// `boot.tmp.cleanOnBoot`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub clean_tmp_on_boot: bool,
    /// Mounts of `legacy` datasets (and options or `neededForBoot` for others), in mount
    /// order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<MountSpec>,
    /// Datasets sanoid snapshots.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sanoid: Vec<SanoidSpec>,
    /// `networking.hostId` (8 hex digits); a placeholder is emitted when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_id: Option<String>,
    /// Volumes used as swap (`swapDevices`), relative to the pool (`swap`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub swap: Vec<String>,
}

impl BootSpec {
    /// Nothing: no tmpfs root, no mounts besides ZFS's own, no sanoid, no swap.
    pub fn none() -> BootSpec {
        BootSpec {
            root_tmpfs_size: None,
            root_tmpfs_mode: None,
            clean_tmp_on_boot: false,
            mounts: Vec::new(),
            sanoid: Vec::new(),
            host_id: None,
            swap: Vec::new(),
        }
    }

    /// Whether it says nothing ([`BootSpec::none`]).
    pub fn is_none(&self) -> bool {
        *self == BootSpec::none()
    }

    /// The tmpfs root's `mode=`, when there is a tmpfs root.
    pub fn root_tmpfs_mode(&self) -> Option<&str> {
        self.root_tmpfs_size
            .as_ref()
            .map(|_| self.root_tmpfs_mode.as_deref().unwrap_or("755"))
    }
}

/// A ZFS mount of the NixOS configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MountSpec {
    /// Where (`/nix`).
    pub path: String,
    /// What, relative to its pool (`nix`).
    pub dataset: String,
    /// Its pool, when not the first (a dataset of `[[pools]]`: `bpool`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    /// `neededForBoot`.
    #[serde(default)]
    pub needed_for_boot: bool,
    /// Mount options (`noatime`, `noexec`), for the NixOS entry and `--mount-root`; `zfsutil`
    /// is added where the dataset's mountpoint is not `legacy`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

/// sanoid's retention for one dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SanoidSpec {
    /// The dataset, relative to its pool.
    pub dataset: String,
    /// Its pool, when not the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    /// Hourly snapshots kept.
    pub hourly: u32,
    /// Daily snapshots kept.
    pub daily: u32,
    /// Weekly snapshots kept.
    pub weekly: u32,
    /// Monthly snapshots kept.
    pub monthly: u32,
    /// Take snapshots.
    pub autosnap: bool,
    /// Prune old ones.
    pub autoprune: bool,
}

fn props(pairs: &[(&str, &str)]) -> Properties {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

impl Default for BootSpec {
    /// The guide's: a 1G tmpfs root, its four mounts, sanoid on `persist`.
    fn default() -> BootSpec {
        let mount = |path: &str, dataset: &str, needed_for_boot| MountSpec {
            path: path.into(),
            dataset: dataset.into(),
            pool: None,
            needed_for_boot,
            options: Vec::new(),
        };
        BootSpec {
            root_tmpfs_size: Some("1G".into()),
            root_tmpfs_mode: Some("755".into()),
            clean_tmp_on_boot: true,
            mounts: vec![
                mount("/nix", "nix", false),
                mount("/tmp", "tmp", false),
                mount("/cache", "cache", true),
                mount("/persist", "persist", true),
            ],
            sanoid: vec![SanoidSpec {
                dataset: "persist".into(),
                pool: None,
                hourly: 50,
                daily: 15,
                weekly: 3,
                monthly: 1,
                autosnap: true,
                autoprune: true,
            }],
            host_id: None,
            swap: Vec::new(),
        }
    }
}

impl Default for Spec {
    /// The guide's layout (`impermanence-guide.txt`), without a device.
    fn default() -> Spec {
        let legacy = || props(&[("mountpoint", "legacy")]);
        Spec {
            disks: Vec::new(),
            pool: PoolSpec {
                properties: props(&[("ashift", "12"), ("autotrim", "on")]),
                root_properties: props(&[
                    ("compression", "zstd"),
                    ("acltype", "posixacl"),
                    ("atime", "off"),
                    ("xattr", "sa"),
                    ("normalization", "formD"),
                    ("mountpoint", "none"),
                ]),
                ..PoolSpec::new("zroot")
            },
            datasets: ["root", "nix", "tmp", "cache", "persist"]
                .iter()
                .map(|n| DatasetSpec {
                    name: (*n).into(),
                    properties: legacy(),
                    volume: None,
                })
                .collect(),
            snapshots: vec![SnapshotSpec {
                dataset: "persist".into(),
                name: "blank".into(),
            }],
            boot: BootSpec::default(),
            pools: Vec::new(),
        }
    }
}

/// Every problem found in a spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the layout spec has {} problem(s):\n  - {}", .0.len(), .0.join("\n  - "))]
pub struct SpecErrors(pub Vec<String>);

pub use zfs_core::parse_size;

impl Spec {
    /// Reads a spec from TOML text.
    ///
    /// # Errors
    /// A [`SpecErrors`] with the parser's message.
    pub fn from_toml(text: &str) -> Result<Spec, SpecErrors> {
        toml::from_str(text).map_err(|e| SpecErrors(vec![format!("cannot read the spec: {e}")]))
    }

    /// The spec as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a spec always serialises")
    }

    /// Reads a spec from JSON text (what installers in other languages generate; the same
    /// fields as the TOML, described by [`Spec::json_schema`]).
    ///
    /// # Errors
    /// A [`SpecErrors`] with the parser's message, line and column.
    pub fn from_json(text: &str) -> Result<Spec, SpecErrors> {
        serde_json::from_str(text)
            .map_err(|e| SpecErrors(vec![format!("cannot read the spec: {e}")]))
    }

    /// The spec as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a spec always serialises")
    }

    /// Reads a spec from TOML or JSON, told apart by the text: JSON is an object, `{...}`.
    ///
    /// # Errors
    /// A [`SpecErrors`] with the parser's message.
    pub fn parse(text: &str) -> Result<Spec, SpecErrors> {
        if text.trim_start().starts_with('{') {
            Spec::from_json(text)
        } else {
            Spec::from_toml(text)
        }
    }

    /// The JSON Schema (draft 2020-12) of a spec, generated from these types: what an
    /// installer's generator can check its output against before running anything.
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(Spec)).expect("a schema serialises")
    }

    /// The pool's name, validated.
    pub fn pool_name(&self) -> Option<PoolName> {
        PoolName::new(self.pool.name.as_str()).ok()
    }

    /// A dataset's full name; `""` is the pool's root.
    pub fn full_name(&self, relative: &str) -> String {
        if relative.is_empty() {
            self.pool.name.clone()
        } else {
            format!("{}/{relative}", self.pool.name)
        }
    }

    /// Every filesystem made on a block device: on the spec's partitions and volumes, with the
    /// device (`/dev/disk/by-partlabel/ESP`, `/dev/zvol/zroot/data`).
    pub fn block_filesystems(&self) -> Vec<(std::path::PathBuf, &FilesystemSpec)> {
        let more = self.pools.iter().flat_map(|p| {
            p.datasets.iter().filter_map(|d| {
                let fs = d.volume.as_ref()?.filesystem.as_ref()?;
                Some((
                    crate::plan::volume_device(&format!("{}/{}", p.name, d.name)),
                    fs,
                ))
            })
        });
        let partitions = self
            .partitions()
            .filter_map(|(_, p)| Some((p.device(), p.filesystem.as_ref()?)));
        let volumes = self.datasets.iter().filter_map(|d| {
            let fs = d.volume.as_ref()?.filesystem.as_ref()?;
            Some((crate::plan::volume_device(&self.full_name(&d.name)), fs))
        });
        partitions.chain(volumes).chain(more).collect()
    }

    /// Every partition of the spec's disks, with its disk.
    pub fn partitions(&self) -> impl Iterator<Item = (&DiskSpec, &PartitionSpec)> {
        self.disks
            .iter()
            .flat_map(|d| d.partitions.iter().map(move |p| (d, p)))
    }

    /// The spec's partition whose device is `path` (`/dev/disk/by-partlabel/LABEL`), if any:
    /// a device the plan makes rather than one that must exist.
    pub fn partition_at(&self, path: &std::path::Path) -> Option<&PartitionSpec> {
        self.partitions()
            .map(|(_, p)| p)
            .find(|p| p.device() == path)
    }

    /// The spec's dataset of this relative name.
    pub fn dataset(&self, relative: &str) -> Option<&DatasetSpec> {
        self.datasets.iter().find(|d| d.name == relative)
    }

    /// The value `property` will have on a dataset of the spec (relative name): set on it,
    /// or inherited from the nearest parent in the spec that sets it, or from the pool's root.
    pub fn effective_property(&self, relative: &str, property: &str) -> Option<&str> {
        let mut name = Some(relative);
        while let Some(n) = name {
            if let Some(v) = self.dataset(n).and_then(|d| d.properties.get(property)) {
                return Some(v);
            }
            name = n.rsplit_once('/').map(|(parent, _)| parent);
        }
        self.pool.root_properties.get(property).map(String::as_str)
    }

    /// Where ZFS mounts a filesystem of the spec (relative name; `""` is the pool's root):
    /// its `mountpoint` as set on it or inherited, with the path below the dataset that sets it
    /// appended as ZFS does (`/srv` on `data` gives `data/www` `/srv/www`), or the default
    /// `/POOL/NAME`; `none` and `legacy` as they are.
    pub fn mountpoint(&self, relative: &str) -> String {
        let mut name = relative;
        let mut below: Vec<&str> = Vec::new();
        loop {
            let set = if name.is_empty() {
                self.pool.root_properties.get("mountpoint")
            } else {
                self.dataset(name)
                    .and_then(|d| d.properties.get("mountpoint"))
            };
            let base = match set {
                Some(v) if v == "none" || v == "legacy" => return v.clone(),
                Some(v) => v.trim_end_matches('/').to_owned(),
                None if name.is_empty() => format!("/{}", self.pool.name),
                None => {
                    let (parent, last) = name.rsplit_once('/').unwrap_or(("", name));
                    below.push(last);
                    name = parent;
                    continue;
                }
            };
            let path: String = below.iter().rev().map(|c| format!("/{c}")).collect();
            return match (base.is_empty(), path.is_empty()) {
                (true, true) => "/".to_owned(),
                _ => format!("{base}{path}"),
            };
        }
    }

    /// A filesystem's `canmount` (relative name; `""` is the pool's root): set on it, or `on`
    /// (it is never inherited).
    pub fn canmount(&self, relative: &str) -> &str {
        let set = if relative.is_empty() {
            self.pool.root_properties.get("canmount")
        } else {
            self.dataset(relative)
                .and_then(|d| d.properties.get("canmount"))
        };
        set.map_or("on", String::as_str)
    }
}

#[cfg(test)]
mod tests;
