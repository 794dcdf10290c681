//! [`Spec`]: the layout as data. `Spec::default()` is the guide's layout; a TOML file can
//! describe another. Checked as a whole before anything touches a disk.

mod topology;

use std::collections::HashSet;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use zfs_core::{DatasetName, PoolName};

pub use self::topology::{Topology, VdevEntry, VdevGroup};

/// Properties in the order given (the order commands are printed in).
pub type Properties = IndexMap<String, String>;

/// The whole layout: pool, datasets, snapshots, and the boot-side facts for NixOS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Spec {
    /// The pool.
    pub pool: PoolSpec,
    /// Datasets, by name relative to the pool (`nix` is `zroot/nix`), parents before children.
    #[serde(default)]
    pub datasets: Vec<DatasetSpec>,
    /// Snapshots taken once the datasets exist (while they are still empty).
    #[serde(default)]
    pub snapshots: Vec<SnapshotSpec>,
    /// What the NixOS configuration mounts and keeps.
    #[serde(default)]
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
    #[serde(default)]
    pub properties: Properties,
    /// Root filesystem properties (`zpool create -O`).
    #[serde(default)]
    pub root_properties: Properties,
}

impl DatasetSpec {
    /// A dataset by name relative to the pool, without properties.
    pub fn new(name: &str) -> DatasetSpec {
        DatasetSpec {
            name: name.to_owned(),
            properties: Properties::new(),
        }
    }

    /// A property (`zfs create -o name=value`).
    pub fn property(mut self, name: &str, value: &str) -> DatasetSpec {
        self.properties.insert(name.to_owned(), value.to_owned());
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
            needed_for_boot: false,
        }
    }

    /// `neededForBoot`: mounted in the initrd, before the system starts (`/persist`).
    pub fn needed_for_boot(mut self, yes: bool) -> MountSpec {
        self.needed_for_boot = yes;
        self
    }
}

fn is_stripe(l: &VdevLayout) -> bool {
    *l == VdevLayout::Stripe
}

impl PoolSpec {
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
    /// One raidz1 group.
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
    #[serde(default)]
    pub properties: Properties,
}

/// A snapshot of one of the spec's datasets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SnapshotSpec {
    /// The dataset, relative to the pool.
    pub dataset: String,
    /// The snapshot's short name (`blank`).
    pub name: String,
}

/// The NixOS side: tmpfs root, which datasets mount where, what sanoid keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct BootSpec {
    /// `size=` of the tmpfs root.
    pub root_tmpfs_size: String,
    /// `mode=` of the tmpfs root.
    pub root_tmpfs_mode: String,
    /// `boot.tmp.cleanOnBoot`.
    pub clean_tmp_on_boot: bool,
    /// ZFS mounts, in mount order.
    pub mounts: Vec<MountSpec>,
    /// Datasets sanoid snapshots.
    pub sanoid: Vec<SanoidSpec>,
    /// `networking.hostId` (8 hex digits); a placeholder is emitted when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_id: Option<String>,
}

/// A ZFS mount of the NixOS configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MountSpec {
    /// Where (`/nix`).
    pub path: String,
    /// What, relative to the pool (`nix`).
    pub dataset: String,
    /// `neededForBoot`.
    #[serde(default)]
    pub needed_for_boot: bool,
}

/// sanoid's retention for one dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SanoidSpec {
    /// The dataset, relative to the pool.
    pub dataset: String,
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
    fn default() -> BootSpec {
        let mount = |path: &str, dataset: &str, needed_for_boot| MountSpec {
            path: path.into(),
            dataset: dataset.into(),
            needed_for_boot,
        };
        BootSpec {
            root_tmpfs_size: "1G".into(),
            root_tmpfs_mode: "755".into(),
            clean_tmp_on_boot: true,
            mounts: vec![
                mount("/nix", "nix", false),
                mount("/tmp", "tmp", false),
                mount("/cache", "cache", true),
                mount("/persist", "persist", true),
            ],
            sanoid: vec![SanoidSpec {
                dataset: "persist".into(),
                hourly: 50,
                daily: 15,
                weekly: 3,
                monthly: 1,
                autosnap: true,
                autoprune: true,
            }],
            host_id: None,
        }
    }
}

impl Default for Spec {
    /// The guide's layout (`impermanence-guide.txt`), without a device.
    fn default() -> Spec {
        let legacy = || props(&[("mountpoint", "legacy")]);
        Spec {
            pool: PoolSpec {
                name: "zroot".into(),
                vdevs: Vec::new(),
                layout: VdevLayout::Stripe,
                topology: None,
                properties: props(&[("ashift", "12"), ("autotrim", "on")]),
                root_properties: props(&[
                    ("compression", "zstd"),
                    ("acltype", "posixacl"),
                    ("atime", "off"),
                    ("xattr", "sa"),
                    ("normalization", "formD"),
                    ("mountpoint", "none"),
                ]),
            },
            datasets: ["root", "nix", "tmp", "cache", "persist"]
                .iter()
                .map(|n| DatasetSpec {
                    name: (*n).into(),
                    properties: legacy(),
                })
                .collect(),
            snapshots: vec![SnapshotSpec {
                dataset: "persist".into(),
                name: "blank".into(),
            }],
            boot: BootSpec::default(),
        }
    }
}

/// Every problem found in a spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the layout spec has {} problem(s):\n  - {}", .0.len(), .0.join("\n  - "))]
pub struct SpecErrors(pub Vec<String>);

/// Properties OpenZFS knows for datasets, plus any `module:name` user property.
fn known_fs_property(name: &str) -> bool {
    const KNOWN: &[&str] = &[
        "aclinherit",
        "aclmode",
        "acltype",
        "atime",
        "canmount",
        "casesensitivity",
        "checksum",
        "compression",
        "context",
        "copies",
        "dedup",
        "defcontext",
        "devices",
        "dnodesize",
        "encryption",
        "exec",
        "filesystem_limit",
        "fscontext",
        "keyformat",
        "keylocation",
        "logbias",
        "mountpoint",
        "nbmand",
        "normalization",
        "overlay",
        "pbkdf2iters",
        "primarycache",
        "quota",
        "readonly",
        "recordsize",
        "redundant_metadata",
        "refquota",
        "refreservation",
        "relatime",
        "reservation",
        "rootcontext",
        "secondarycache",
        "setuid",
        "sharenfs",
        "sharesmb",
        "snapdev",
        "snapdir",
        "snapshot_limit",
        "special_small_blocks",
        "sync",
        "utf8only",
        "version",
        "volmode",
        "vscan",
        "xattr",
        "zoned",
        "direct",
        "longname",
    ];
    KNOWN.contains(&name) || name.contains(':')
}

fn known_pool_property(name: &str) -> bool {
    const KNOWN: &[&str] = &[
        "altroot",
        "ashift",
        "autoexpand",
        "autoreplace",
        "autotrim",
        "bootfs",
        "cachefile",
        "comment",
        "compatibility",
        "delegation",
        "failmode",
        "listsnapshots",
        "multihost",
        "readonly",
        "version",
    ];
    KNOWN.contains(&name) || name.starts_with("feature@")
}

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

    /// A dataset's full name.
    pub fn full_name(&self, relative: &str) -> String {
        format!("{}/{relative}", self.pool.name)
    }

    /// Checks everything that can be checked without a disk, and lists every problem.
    ///
    /// # Errors
    /// [`SpecErrors`] with one line per problem.
    pub fn validate(&self) -> Result<(), SpecErrors> {
        self.check(true)
    }

    /// [`Spec::validate`] without the device checks: for what needs no disk, like the NixOS
    /// module.
    ///
    /// # Errors
    /// [`SpecErrors`] with one line per problem.
    pub fn validate_without_devices(&self) -> Result<(), SpecErrors> {
        self.check(false)
    }

    /// [`Spec::validate`] for a run against what exists: a pool that exists needs no devices
    /// (`plan` or `verify` on an installed system reads the pool, not its disks).
    ///
    /// # Errors
    /// [`SpecErrors`] with one line per problem.
    pub fn validate_for(&self, inv: &crate::Inventory) -> Result<(), SpecErrors> {
        self.check(inv.pool.is_none())
    }

    fn check(&self, devices: bool) -> Result<(), SpecErrors> {
        let mut problems = Vec::new();
        if let Err(e) = PoolName::new(self.pool.name.as_str()) {
            problems.push(format!("pool name '{}': {}", self.pool.name, e.message()));
        }
        if self.pool.topology.is_some()
            && (!self.pool.vdevs.is_empty() || self.pool.layout != VdevLayout::Stripe)
        {
            problems.push(
                "give the devices either as vdevs (with layout) or as topology, not both".into(),
            );
        }
        problems.extend(self.pool.topology().problems(devices));
        for k in self.pool.properties.keys() {
            if !known_pool_property(k) {
                problems.push(format!("unknown pool property '{k}'"));
            }
        }
        if let Some(bootfs) = self.pool.properties.get("bootfs") {
            let in_spec = bootfs
                .strip_prefix(&format!("{}/", self.pool.name))
                .is_some_and(|rel| self.datasets.iter().any(|d| d.name == rel));
            if !in_spec && *bootfs != self.pool.name {
                problems.push(format!(
                    "pool property bootfs '{bootfs}' must name the pool or one of the spec's \
                     datasets (e.g. {}/root)",
                    self.pool.name
                ));
            }
        }
        for k in self.pool.root_properties.keys() {
            if !known_fs_property(k) {
                problems.push(format!(
                    "unknown filesystem property '{k}' (root_properties)"
                ));
            }
        }
        let mut names = HashSet::new();
        for d in &self.datasets {
            let full = self.full_name(&d.name);
            if let Err(e) = DatasetName::new(full.as_str()) {
                problems.push(format!("dataset '{}': {}", d.name, e.message()));
            }
            if !names.insert(d.name.as_str()) {
                problems.push(format!("dataset '{}' is listed twice", d.name));
            }
            if let Some((parent, _)) = d.name.rsplit_once('/') {
                if !names.contains(parent) {
                    problems.push(format!(
                        "dataset '{}' comes before its parent '{parent}' (list parents first)",
                        d.name
                    ));
                }
            }
            for k in d.properties.keys() {
                if !known_fs_property(k) {
                    problems.push(format!("dataset '{}': unknown property '{k}'", d.name));
                }
            }
        }
        let mut snaps = HashSet::new();
        for s in &self.snapshots {
            if !names.contains(s.dataset.as_str()) {
                problems.push(format!(
                    "snapshot '{}@{}': dataset '{}' is not in the spec",
                    s.dataset, s.name, s.dataset
                ));
            }
            if let Err(e) =
                zfs_core::SnapshotName::new(format!("{}@{}", self.full_name(&s.dataset), s.name))
            {
                problems.push(format!(
                    "snapshot '{}@{}': {}",
                    s.dataset,
                    s.name,
                    e.message()
                ));
            }
            if !snaps.insert((&s.dataset, &s.name)) {
                problems.push(format!(
                    "snapshot '{}@{}' is listed twice",
                    s.dataset, s.name
                ));
            }
        }
        for m in &self.boot.mounts {
            if !names.contains(m.dataset.as_str()) {
                problems.push(format!(
                    "mount '{}': dataset '{}' is not in the spec",
                    m.path, m.dataset
                ));
            }
            if !m.path.starts_with('/') {
                problems.push(format!("mount '{}': path must be absolute", m.path));
            }
        }
        for s in &self.boot.sanoid {
            if !names.contains(s.dataset.as_str()) {
                problems.push(format!(
                    "sanoid: dataset '{}' is not in the spec",
                    s.dataset
                ));
            }
        }
        if let Some(id) = &self.boot.host_id {
            if id.len() != 8 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
                problems.push(format!("host_id '{id}' must be 8 hex digits"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SpecErrors(problems))
        }
    }
}

#[cfg(test)]
mod tests;
