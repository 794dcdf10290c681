//! The pool's devices: vdev groups and the special classes, as `zpool create`'s grammar and
//! disko's `topology` describe them.

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{parse_size, VdevLayout};

/// One device: a path, or a table with the size to create a file vdev with.
///
/// In a spec either `"/dev/disk/by-id/nvme-A-part2"` or
/// `{ path = "/var/tmp/zroot.img", size = "2G" }`. A block device that is a whole disk (not a
/// partition) is partitioned as `zpool create` partitions it; one that already holds
/// partitions is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VdevEntry {
    /// Absolute path of a file or block device.
    pub path: PathBuf,
    /// For files: create it sparse with this size (`2G`, `512M`) if it does not exist.
    pub size: Option<String>,
}

impl VdevEntry {
    /// An existing device or file.
    pub fn new(path: impl Into<PathBuf>) -> VdevEntry {
        VdevEntry {
            path: path.into(),
            size: None,
        }
    }

    /// A file created sparse with this size (`2G`, `512M`) if it does not exist.
    pub fn size(mut self, size: &str) -> VdevEntry {
        self.size = Some(size.to_owned());
        self
    }
}

impl From<&str> for VdevEntry {
    fn from(path: &str) -> VdevEntry {
        VdevEntry::new(path)
    }
}

impl From<PathBuf> for VdevEntry {
    fn from(path: PathBuf) -> VdevEntry {
        VdevEntry::new(path)
    }
}

impl From<&std::path::Path> for VdevEntry {
    fn from(path: &std::path::Path) -> VdevEntry {
        VdevEntry::new(path)
    }
}

/// The table form of [`VdevEntry`].
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct EntryTable {
    /// Absolute path of a file or block device.
    path: PathBuf,
    /// For files: create it sparse with this size (`2G`, `512M`) if it does not exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size: Option<String>,
}

impl JsonSchema for VdevEntry {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "VdevEntry".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let table = generator.subschema_for::<EntryTable>();
        schemars::json_schema!({
            "description": "A device: its absolute path, or a table with the size to create a file vdev with.",
            "oneOf": [
                { "type": "string", "description": "Absolute path of a file or block device." },
                table
            ]
        })
    }
}

impl Serialize for VdevEntry {
    /// The bare path when there is no size, so a written spec reads as it was typed.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.size {
            None => self.path.serialize(s),
            Some(_) => EntryTable {
                path: self.path.clone(),
                size: self.size.clone(),
            }
            .serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for VdevEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<VdevEntry, D::Error> {
        struct Entry;
        impl<'de> Visitor<'de> for Entry {
            type Value = VdevEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a device path, or a table { path, size }")
            }
            fn visit_str<E: de::Error>(self, path: &str) -> Result<VdevEntry, E> {
                Ok(VdevEntry::new(path))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<VdevEntry, A::Error> {
                let t = EntryTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(VdevEntry {
                    path: t.path,
                    size: t.size,
                })
            }
        }
        d.deserialize_any(Entry)
    }
}

/// A group of devices: a mirror, a raidz group, or (`stripe`) each device its own top-level
/// vdev.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct VdevGroup {
    /// How the members are combined (`stripe` by default).
    #[serde(default)]
    pub mode: VdevLayout,
    /// The devices.
    pub members: Vec<VdevEntry>,
}

impl VdevGroup {
    /// A group of `mode` over `members`.
    pub fn new<E: Into<VdevEntry>>(
        mode: VdevLayout,
        members: impl IntoIterator<Item = E>,
    ) -> VdevGroup {
        VdevGroup {
            mode,
            members: members.into_iter().map(Into::into).collect(),
        }
    }

    /// The fewest members `mode` takes.
    fn min_members(&self) -> usize {
        match self.mode {
            VdevLayout::Stripe => 1,
            VdevLayout::Mirror | VdevLayout::Raidz1 => 2,
            VdevLayout::Raidz2 => 3,
            VdevLayout::Raidz3 => 4,
        }
    }
}

/// Every device of the pool by role: `zpool create POOL VDEV... log VDEV... special VDEV...
/// dedup VDEV... cache DEV... spare DEV...`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Topology {
    /// Data vdevs (at least one group).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vdev: Vec<VdevGroup>,
    /// Separate intent log (`log`): single devices or mirrors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<VdevGroup>,
    /// Metadata and small blocks (`special`): single devices or mirrors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub special: Vec<VdevGroup>,
    /// Deduplication tables (`dedup`): single devices or mirrors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dedup: Vec<VdevGroup>,
    /// Level-2 read cache devices (`cache`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cache: Vec<VdevEntry>,
    /// Hot spares (`spare`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spare: Vec<VdevEntry>,
}

impl Topology {
    /// No devices.
    pub fn new() -> Topology {
        Topology::default()
    }

    /// Adds a data group.
    pub fn vdev(mut self, group: VdevGroup) -> Topology {
        self.vdev.push(group);
        self
    }

    /// Adds a log group.
    pub fn log(mut self, group: VdevGroup) -> Topology {
        self.log.push(group);
        self
    }

    /// Adds a special-class group.
    pub fn special(mut self, group: VdevGroup) -> Topology {
        self.special.push(group);
        self
    }

    /// Adds a dedup-class group.
    pub fn dedup(mut self, group: VdevGroup) -> Topology {
        self.dedup.push(group);
        self
    }

    /// Adds a cache device.
    pub fn cache(mut self, device: impl Into<VdevEntry>) -> Topology {
        self.cache.push(device.into());
        self
    }

    /// Adds a hot spare.
    pub fn spare(mut self, device: impl Into<VdevEntry>) -> Topology {
        self.spare.push(device.into());
        self
    }

    /// The group classes with their `zpool create` keyword (`""` for data).
    pub fn classes(&self) -> [(&'static str, &[VdevGroup]); 4] {
        [
            ("", &self.vdev),
            ("log", &self.log),
            ("special", &self.special),
            ("dedup", &self.dedup),
        ]
    }

    /// Every device, in `zpool create` order.
    pub fn devices(&self) -> impl Iterator<Item = &VdevEntry> {
        self.classes()
            .into_iter()
            .flat_map(|(_, groups)| groups.iter().flat_map(|g| &g.members))
            .chain(&self.cache)
            .chain(&self.spare)
    }

    /// Every device, to change in place (the CLI's `--vdev-size`).
    pub fn devices_mut(&mut self) -> impl Iterator<Item = &mut VdevEntry> {
        self.vdev
            .iter_mut()
            .chain(&mut self.log)
            .chain(&mut self.special)
            .chain(&mut self.dedup)
            .flat_map(|g| &mut g.members)
            .chain(&mut self.cache)
            .chain(&mut self.spare)
    }

    /// Whether it names no device at all.
    pub fn is_empty(&self) -> bool {
        self.devices().next().is_none()
    }

    /// A class's top-level vdevs, in the order the pool gets them: the single devices (each
    /// member of a `stripe` group), then the mirrors and raidz groups, each with its layout
    /// (`Stripe` for a single device).
    ///
    /// `zpool create` gives a grouping word every device up to the next keyword, and takes
    /// `log` only once, so a single device after a mirror cannot be said; before the groups it
    /// can (`log c mirror a b`). Apply builds this order and the printed command says it, so
    /// both make one tree.
    pub(crate) fn top_levels(groups: &[VdevGroup]) -> Vec<(VdevLayout, &[VdevEntry])> {
        let mut out: Vec<(VdevLayout, &[VdevEntry])> = groups
            .iter()
            .filter(|g| g.mode == VdevLayout::Stripe)
            .flat_map(|g| g.members.iter())
            .map(|m| (VdevLayout::Stripe, std::slice::from_ref(m)))
            .collect();
        out.extend(
            groups
                .iter()
                .filter(|g| g.mode != VdevLayout::Stripe)
                .map(|g| (g.mode, g.members.as_slice())),
        );
        out
    }

    /// The device words of `zpool create`: `mirror a b log c cache d`. A class's single
    /// devices come before its groups (`log c mirror a b`), the order apply builds.
    pub fn to_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        for (class, groups) in self.classes() {
            if groups.is_empty() {
                continue;
            }
            if !class.is_empty() {
                args.push(class.to_owned());
            }
            for (mode, members) in Topology::top_levels(groups) {
                match (mode, mode.raidz_parity()) {
                    (_, Some(p)) => args.push(format!("raidz{p}")),
                    (VdevLayout::Mirror, None) => args.push("mirror".into()),
                    _ => {}
                }
                args.extend(members.iter().map(|m| m.path.display().to_string()));
            }
        }
        for (class, devices) in [("cache", &self.cache), ("spare", &self.spare)] {
            if !devices.is_empty() {
                args.push(class.to_owned());
                args.extend(devices.iter().map(|m| m.path.display().to_string()));
            }
        }
        args
    }

    /// Problems with the devices themselves (none with the disks: those need the system).
    /// `need_data`: a pool still to be created needs at least one data device.
    pub(crate) fn problems(&self, need_data: bool) -> Vec<String> {
        let mut out = Vec::new();
        if need_data && self.vdev.iter().all(|g| g.members.is_empty()) {
            out.push("no devices: give at least one vdev (in the spec, or with --vdev)".into());
        }
        for (class, groups) in self.classes() {
            let what = if class.is_empty() { "data" } else { class };
            for g in groups {
                if g.members.is_empty() {
                    out.push(format!("a {what} group has no members"));
                } else if g.members.len() < g.min_members() {
                    out.push(format!(
                        "layout {:?} needs at least {} devices, got {}",
                        g.mode,
                        g.min_members(),
                        g.members.len()
                    ));
                }
                if !class.is_empty() && g.mode.raidz_parity().is_some() {
                    out.push(format!(
                        "{class} devices can be single devices or mirrors, not {:?}",
                        g.mode
                    ));
                }
            }
        }
        let mut seen = HashSet::new();
        for v in self.devices() {
            let shown = v.path.display();
            if !v.path.is_absolute() {
                out.push(format!("device '{shown}': path must be absolute"));
            }
            if !seen.insert(&v.path) {
                out.push(format!("device '{shown}' is listed twice"));
            }
            if let Some(size) = &v.size {
                match parse_size(size) {
                    None => out.push(format!(
                        "device '{shown}': size '{size}' is not a size like 2G"
                    )),
                    Some(n) if n < zfs_core::MIN_DEVICE_SIZE => out.push(format!(
                        "device '{shown}': size {size} is below the 64M minimum"
                    )),
                    Some(_) => {}
                }
            }
        }
        out
    }
}
