//! `import-disko`: a disko configuration (github.com/nix-community/disko) read as a spec.
//!
//! The file is evaluated by Nix's own evaluator (`nix-instantiate --eval --strict --json`), so
//! any Nix it holds is understood as Nix understands it; its `disko.devices` is then mapped by
//! the rules disko's own types follow (`lib/types/*.nix`):
//! - partitions are created in `priority` order (EF02 first, `size = "100%"` last, the rest in
//!   name order), each named `disk-DISK-PARTITION` unless it gives a `label`, of type 8300
//!   unless it says (8200 for swap);
//! - a pool takes every device whose content is `zfs` with its name, in disk-name order, and a
//!   topology member that is not a path is `/dev/disk/by-partlabel/disk-NAME-zfs`;
//! - a dataset's `mountpoint` is its `mountpoint` property unless `options` sets one
//!   (`legacy` then mounts it there), the pool's `mountpoint` that of its root.
//!
//! What a spec cannot say is refused by name (LUKS, LVM, mdadm, btrfs, hooks other than the
//! `zfs snapshot POOL@blank` idiom), never dropped. Several pools become one spec with
//! `[[pools]]`, in disko's order (by name).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::spec::{
    BootSpec, DatasetSpec, DiskSpec, FilesystemFormat, FilesystemSpec, MountSpec, PartitionKind,
    PartitionSpec, SnapshotSpec, Spec, SpecErrors, Topology, VdevEntry, VdevGroup, VdevLayout,
};

/// Reads the disko configuration at `path` (a `.nix` file: an attribute set, or a function
/// called with its defaults) and maps it to a spec; `disks` replaces the devices of disks by
/// their disko name (`main=/dev/disk/by-id/nvme-...`), as installers pass the target disks.
///
/// # Errors
/// [`SpecErrors`] naming every part of the configuration a spec cannot express, or why Nix
/// could not evaluate it.
pub fn import_disko(path: &Path, disks: &[(String, PathBuf)]) -> Result<Spec, SpecErrors> {
    let value = evaluate(path).map_err(|e| SpecErrors(vec![e]))?;
    from_disko_json(&value, disks)
}

/// `nix-instantiate --eval --strict --json` of the file (called with `{}` if it is a
/// function, so that defaults like `disks ? [ "/dev/vda" ]` apply).
fn evaluate(path: &Path) -> Result<Value, String> {
    let abs = std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let expr = format!(
        "let f = import {}; in if builtins.isFunction f then f {{ }} else f",
        nix_path(&abs)
    );
    // Evaluation needs no store: `dummy://` keeps Nix from opening (and remounting) the
    // local one, which fails where /nix/store is read-only.
    let out = std::process::Command::new("nix-instantiate")
        .args([
            "--eval", "--strict", "--json", "--store", "dummy://", "-E", &expr,
        ])
        .output()
        .map_err(|e| format!("cannot run nix-instantiate (package nix-bin): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "nix-instantiate could not evaluate {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("nix-instantiate's JSON: {e}"))
}

/// A path as a Nix path literal (`/a/b`), or a string turned into one where it holds
/// characters a literal cannot.
fn nix_path(p: &Path) -> String {
    let s = p.display().to_string();
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c))
    {
        s
    } else {
        format!(
            "(/. + \"{}\")",
            s.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace("${", "\\${")
        )
    }
}

/// The mapping's state: what is read so far and every refusal.
struct Import {
    spec: Spec,
    problems: Vec<String>,
    /// The devices of each pool, in disk-name order: (pool, device).
    members: Vec<(String, PathBuf)>,
}

fn obj(v: &Value) -> Option<&Map<String, Value>> {
    v.as_object()
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The string-valued attributes of `v[key]` (`options`, `rootFsOptions`) as properties.
fn props(v: &Value, key: &str, at: &str, problems: &mut Vec<String>) -> Vec<(String, String)> {
    let Some(map) = v.get(key).and_then(Value::as_object) else {
        return Vec::new();
    };
    map.iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k.clone(), s.clone())),
            other => {
                problems.push(format!("{at}: {key}.{k} = {other} is not a string"));
                None
            }
        })
        .collect()
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Mount options as disko gives them, `defaults` (its default) left out.
fn mount_options(v: &Value) -> Vec<String> {
    strings(v, "mountOptions")
        .into_iter()
        .filter(|o| o != "defaults")
        .collect()
}

/// Refuses what disko runs as shell (hooks): a spec holds no shell. The one hook understood is
/// a blank snapshot, `zfs snapshot NAME@SNAP` (with or without the `zfs list ... ||` guard),
/// returned as (dataset, snapshot).
fn hooks(v: &Value, at: &str, problems: &mut Vec<String>) -> Vec<(String, String)> {
    let mut snapshots = Vec::new();
    for hook in [
        "preCreateHook",
        "postCreateHook",
        "preMountHook",
        "postMountHook",
    ] {
        let Some(script) = text(v, hook).map(str::trim).filter(|s| !s.is_empty()) else {
            continue;
        };
        match (hook, snapshot_hook(script)) {
            ("postCreateHook", Some(snap)) => snapshots.push(snap),
            _ => problems.push(format!(
                "{at}: {hook} runs shell, which a spec cannot hold ({script:?}); only a \
                 postCreateHook that takes a snapshot (zfs snapshot POOL@NAME) is read"
            )),
        }
    }
    snapshots
}

/// `zfs snapshot A@B`, alone or after `... ||`, as (A, B).
fn snapshot_hook(script: &str) -> Option<(String, String)> {
    let (guard, last) = match script.rsplit_once("||") {
        Some((guard, last)) => (Some(guard.trim()), last.trim()),
        None => (None, script.trim()),
    };
    if guard.is_some_and(|g| !g.starts_with("zfs list")) || script.lines().count() > 1 {
        return None;
    }
    let words: Vec<&str> = last.split_whitespace().collect();
    let ["zfs", "snapshot", name] = words.as_slice() else {
        return None;
    };
    let (ds, snap) = name.trim_matches(['\'', '"']).split_once('@')?;
    Some((ds.to_owned(), snap.to_owned()))
}

impl Import {
    fn refuse(&mut self, what: String) {
        self.problems.push(what);
    }

    /// A filesystem (or swap) content, or `None` for content the spec holds otherwise (zfs).
    fn filesystem(&mut self, content: &Value, at: &str) -> Option<FilesystemSpec> {
        match text(content, "type") {
            Some("filesystem") => {
                let format = match text(content, "format") {
                    Some("vfat") => FilesystemFormat::Vfat,
                    Some("ext4") => FilesystemFormat::Ext4,
                    Some("xfs") => FilesystemFormat::Xfs,
                    other => {
                        self.refuse(format!(
                            "{at}: filesystem format '{}' (vfat, ext4 and xfs are supported)",
                            other.unwrap_or("none")
                        ));
                        return None;
                    }
                };
                if !strings(content, "extraArgs").is_empty() {
                    self.refuse(format!("{at}: extraArgs for mkfs are not supported"));
                }
                hooks(content, at, &mut self.problems);
                Some(FilesystemSpec {
                    format,
                    mountpoint: text(content, "mountpoint").map(str::to_owned),
                    options: mount_options(content),
                    label: None,
                })
            }
            Some("swap") => {
                if content.get("randomEncryption").and_then(Value::as_bool) == Some(true) {
                    self.refuse(format!("{at}: swap with randomEncryption is not supported"));
                }
                Some(FilesystemSpec::new(FilesystemFormat::Swap, None))
            }
            Some(other) => {
                self.refuse(format!(
                    "{at}: content type '{other}' cannot be expressed (LUKS, LVM, mdadm, btrfs \
                     and bcachefs are not supported)"
                ));
                None
            }
            None => {
                self.refuse(format!("{at}: content without a type"));
                None
            }
        }
    }

    fn disk(&mut self, name: &str, v: &Value, overrides: &[(String, PathBuf)]) {
        let at = format!("disk {name}");
        hooks(v, &at, &mut self.problems);
        let device = overrides
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.clone())
            .or_else(|| text(v, "device").map(PathBuf::from));
        let Some(device) = device else {
            self.refuse(format!(
                "{at}: no device (give one with --disk {name}=/dev/...)"
            ));
            return;
        };
        let Some(content) = v.get("content").filter(|c| !c.is_null()) else {
            return;
        };
        match text(content, "type") {
            Some("gpt") => self.gpt(name, &device, content),
            Some("zfs") => match text(content, "pool") {
                Some(pool) => self.members.push((pool.to_owned(), device)),
                None => self.refuse(format!("{at}: zfs content without a pool")),
            },
            Some(other) => self.refuse(format!(
                "{at}: content type '{other}' on a whole disk cannot be expressed (give it a \
                 gpt with partitions)"
            )),
            None => self.refuse(format!("{at}: content without a type")),
        }
    }

    fn gpt(&mut self, disk: &str, device: &Path, content: &Value) {
        let empty = Map::new();
        let parts = content.get("partitions").and_then(obj).unwrap_or(&empty);
        // disko's order: priority (EF02 100, 100% 9001, else 1000), then name (JSON keys of a
        // Nix attribute set come sorted).
        let mut ordered: Vec<(&String, &Value)> = parts.iter().collect();
        let priority = |p: &Value| -> i64 {
            p.get("priority")
                .and_then(Value::as_i64)
                .unwrap_or_else(|| {
                    if text(p, "size") == Some("100%") {
                        9001
                    } else if text(p, "type") == Some("EF02") {
                        100
                    } else {
                        1000
                    }
                })
        };
        ordered.sort_by_key(|(_, p)| priority(p));
        let mut spec_disk = DiskSpec::new(device);
        for (name, p) in ordered {
            let at = format!("disk {disk}, partition {name}");
            hooks(p, &at, &mut self.problems);
            for unsupported in ["start", "end", "uuid", "hybrid", "alignment"] {
                let set = p.get(unsupported).filter(|v| !v.is_null());
                let default = matches!(
                    (unsupported, set.and_then(Value::as_str)),
                    ("start", Some("0"))
                );
                if set.is_some() && !default {
                    self.refuse(format!(
                        "{at}: '{unsupported}' is not supported (give a size)"
                    ));
                }
            }
            if p.get("attributes")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
            {
                self.refuse(format!("{at}: GPT attributes are not supported"));
            }
            let label = text(p, "label").map(str::to_owned).unwrap_or_else(|| {
                let l = format!("disk-{disk}-{name}");
                if l.len() > 36 {
                    self.refuse(format!(
                        "{at}: its label '{l}' is longer than 36 characters, which disko hashes; \
                         give a label"
                    ));
                }
                l
            });
            let size = match text(p, "size") {
                Some("100%") => None,
                Some(s) => Some(s.to_owned()),
                None => {
                    self.refuse(format!("{at}: no size"));
                    None
                }
            };
            let content = p.get("content").filter(|c| !c.is_null());
            let swap = content.is_some_and(|c| text(c, "type") == Some("swap"));
            let kind = match text(p, "type") {
                None if swap => PartitionKind::Swap,
                None => PartitionKind::Linux,
                Some(code) => match code.to_ascii_uppercase().as_str() {
                    "EF00" => PartitionKind::Esp,
                    "EF02" => PartitionKind::BiosBoot,
                    "8200" => PartitionKind::Swap,
                    "8300" => PartitionKind::Linux,
                    "BF01" | "BF00" => PartitionKind::Zfs,
                    guid => match PartitionKind::from_type_guid(guid) {
                        Some(k) => k,
                        None => {
                            self.refuse(format!("{at}: partition type '{code}' is not supported"));
                            PartitionKind::Linux
                        }
                    },
                },
            };
            let mut part = PartitionSpec::new(&label, kind, size.as_deref());
            if let Some(c) = content {
                if text(c, "type") == Some("zfs") {
                    match text(c, "pool") {
                        Some(pool) => self.members.push((pool.to_owned(), part.device())),
                        None => self.refuse(format!("{at}: zfs content without a pool")),
                    }
                } else {
                    part.filesystem = self.filesystem(c, &at);
                }
            }
            spec_disk.partitions.push(part);
        }
        self.spec.disks.push(spec_disk);
    }

    fn pool(&mut self, name: &str, v: &Value) {
        let at = format!("zpool {name}");
        self.spec.pool.name = name.to_owned();
        self.spec.pool.properties = props(v, "options", &at, &mut self.problems)
            .into_iter()
            .collect();
        self.spec.pool.root_properties = props(v, "rootFsOptions", &at, &mut self.problems)
            .into_iter()
            .collect();
        let devices: Vec<PathBuf> = self
            .members
            .iter()
            .filter(|(p, _)| p == name)
            .map(|(_, d)| d.clone())
            .collect();
        match v.get("mode") {
            None | Some(Value::Null) => self.stripe(&devices),
            Some(Value::String(m)) => match layout(m) {
                Some(VdevLayout::Stripe) => self.stripe(&devices),
                Some(l) => {
                    self.spec.pool.topology = Some(
                        Topology::new().vdev(VdevGroup::new(l, devices.iter().map(VdevEntry::new))),
                    )
                }
                None => self.refuse(format!("{at}: mode '{m}'")),
            },
            Some(mode) => self.topology(&at, mode, &devices),
        }
        // The root: `mountpoint` is its mountpoint property unless rootFsOptions sets one.
        if let Some(m) = text(v, "mountpoint") {
            let props = &mut self.spec.pool.root_properties;
            match props.get("mountpoint").map(String::as_str) {
                None => {
                    props.insert("mountpoint".into(), m.to_owned());
                }
                Some("legacy") => self.refuse(format!(
                    "{at}: a legacy pool root mounted at {m} cannot be expressed (give the \
                     mount to a dataset)"
                )),
                Some(_) => {}
            }
        }
        for (ds, snap) in hooks(v, &at, &mut self.problems) {
            self.snapshot(name, &ds, &snap, &at);
        }
        let empty = Map::new();
        let datasets = v.get("datasets").and_then(obj).unwrap_or(&empty);
        let mut names: Vec<&String> = datasets.keys().collect();
        // Parents first (disko creates them with -p).
        names.sort_by_key(|n| (n.matches('/').count(), n.as_str()));
        for n in names {
            self.dataset(name, n, &datasets[n]);
        }
    }

    fn stripe(&mut self, devices: &[PathBuf]) {
        self.spec.pool.topology = None;
        self.spec.pool.layout = VdevLayout::Stripe;
        self.spec.pool.vdevs = devices.iter().map(VdevEntry::new).collect();
    }

    /// `mode = { topology = { vdev = [ { mode; members } ]; log; special; dedup; cache; spare } }`.
    fn topology(&mut self, at: &str, mode: &Value, devices: &[PathBuf]) {
        let Some(t) = mode.get("topology") else {
            self.refuse(format!(
                "{at}: mode must be a string or {{ topology = ... }}"
            ));
            return;
        };
        let member = |m: &str| -> PathBuf {
            if m.starts_with('/') {
                PathBuf::from(m)
            } else {
                crate::spec::partlabel_path(&format!("disk-{m}-zfs"))
            }
        };
        let groups = |key: &str, problems: &mut Vec<String>| -> Vec<VdevGroup> {
            let list = match t.get(key) {
                Some(Value::Array(a)) => a.clone(),
                Some(Value::Object(_)) => vec![t[key].clone()],
                _ => Vec::new(),
            };
            let mut out: Vec<VdevGroup> = Vec::new();
            for g in list {
                let m = text(&g, "mode").unwrap_or("");
                let members: Vec<PathBuf> =
                    strings(&g, "members").iter().map(|s| member(s)).collect();
                match layout(m) {
                    Some(l) => out.push(VdevGroup::new(l, members.iter().map(VdevEntry::new))),
                    None => problems.push(format!("{at}: {key} mode '{m}'")),
                }
            }
            out
        };
        let mut topo = Topology::new();
        topo.vdev = groups("vdev", &mut self.problems);
        topo.log = groups("log", &mut self.problems);
        topo.special = groups("special", &mut self.problems);
        topo.dedup = groups("dedup", &mut self.problems);
        topo.cache = strings(t, "cache")
            .iter()
            .map(|m| VdevEntry::new(member(m)))
            .collect();
        topo.spare = strings(t, "spare")
            .iter()
            .map(|m| VdevEntry::new(member(m)))
            .collect();
        let mut named: Vec<PathBuf> = topo.devices().map(|d| d.path.clone()).collect();
        let mut all = devices.to_vec();
        named.sort();
        all.sort();
        if named != all {
            self.refuse(format!(
                "{at}: the topology names {} device(s), the disks give it {}: every device \
                 whose content is this pool must be in the topology, once",
                named.len(),
                all.len()
            ));
        }
        self.spec.pool.topology = Some(topo);
    }

    fn snapshot(&mut self, pool: &str, dataset: &str, snap: &str, at: &str) {
        let relative = if dataset == pool {
            Some(String::new())
        } else {
            dataset.strip_prefix(&format!("{pool}/")).map(str::to_owned)
        };
        match relative {
            Some(r) => self.spec.snapshots.push(SnapshotSpec::new(&r, snap)),
            None => self.refuse(format!("{at}: a snapshot of {dataset}, outside the pool")),
        }
    }

    fn dataset(&mut self, pool: &str, name: &str, v: &Value) {
        let at = format!("dataset {pool}/{name}");
        // Parents disko's `zfs create -p` makes.
        let mut parent = String::new();
        for part in name
            .split('/')
            .collect::<Vec<_>>()
            .iter()
            .rev()
            .skip(1)
            .rev()
        {
            parent = if parent.is_empty() {
                (*part).to_owned()
            } else {
                format!("{parent}/{part}")
            };
            if self.spec.dataset(&parent).is_none() {
                self.spec.datasets.push(DatasetSpec::new(&parent));
            }
        }
        let mut options = props(v, "options", &at, &mut self.problems);
        for (ds, snap) in hooks(v, &at, &mut self.problems) {
            self.snapshot(pool, &ds, &snap, &at);
        }
        match text(v, "type") {
            Some("zfs_fs") => {
                let mountpoint = text(v, "mountpoint");
                let own = options
                    .iter()
                    .find(|(k, _)| k == "mountpoint")
                    .map(|(_, v)| v.clone());
                match (mountpoint, own.as_deref()) {
                    (Some(m), None) => options.insert(0, ("mountpoint".into(), m.to_owned())),
                    (Some(m), Some("legacy")) => {
                        let mut mount = MountSpec::new(m, name);
                        mount.options = mount_options(v);
                        self.spec.boot.mounts.push(mount);
                    }
                    _ => {}
                }
                let opts = mount_options(v);
                if !opts.is_empty() && own.as_deref() != Some("legacy") {
                    if let Some(m) = mountpoint {
                        let mut mount = MountSpec::new(m, name);
                        mount.options = opts;
                        self.spec.boot.mounts.push(mount);
                    }
                }
                let mut ds = DatasetSpec::new(name);
                ds.properties = options.into_iter().collect();
                self.spec.datasets.push(ds);
            }
            Some("zfs_volume") => {
                let Some(size) = text(v, "size") else {
                    self.refuse(format!("{at}: a volume without a size"));
                    return;
                };
                let mut ds = DatasetSpec::volume(name, size);
                if let Some(i) = options.iter().position(|(k, _)| k == "volblocksize") {
                    let (_, b) = options.remove(i);
                    ds = ds.block_size(&b);
                }
                ds.properties = options.into_iter().collect();
                if let Some(c) = v.get("content").filter(|c| !c.is_null()) {
                    if let Some(fs) = self.filesystem(c, &at) {
                        ds = ds.filesystem(fs);
                    }
                }
                self.spec.datasets.push(ds);
            }
            other => self.refuse(format!("{at}: type {other:?} (zfs_fs or zfs_volume)")),
        }
    }
}

fn layout(mode: &str) -> Option<VdevLayout> {
    Some(match mode {
        "" => VdevLayout::Stripe,
        "mirror" => VdevLayout::Mirror,
        "raidz" | "raidz1" => VdevLayout::Raidz1,
        "raidz2" => VdevLayout::Raidz2,
        "raidz3" => VdevLayout::Raidz3,
        _ => return None,
    })
}

/// A spec with nothing in it yet, its pool to be named.
fn empty_spec() -> Spec {
    let mut spec = Spec::default();
    spec.pool.properties.clear();
    spec.pool.root_properties.clear();
    spec.datasets.clear();
    spec.snapshots.clear();
    spec.boot = BootSpec::none();
    spec
}

/// Maps an evaluated disko configuration (`{ disko.devices = ...; }`, as JSON) to a spec.
///
/// # Errors
/// [`SpecErrors`] naming everything it cannot express.
pub fn from_disko_json(v: &Value, disks: &[(String, PathBuf)]) -> Result<Spec, SpecErrors> {
    let Some(devices) = v.pointer("/disko/devices") else {
        return Err(SpecErrors(vec![
            "no disko.devices in the configuration".into()
        ]));
    };
    let mut im = Import {
        spec: empty_spec(),
        problems: Vec::new(),
        members: Vec::new(),
    };
    for section in ["mdadm", "lvm_vg", "nodev"] {
        if devices
            .get(section)
            .and_then(obj)
            .is_some_and(|m| !m.is_empty())
        {
            im.refuse(format!(
                "disko.devices.{section} cannot be expressed (mdadm, LVM and tmpfs mounts are \
                 not supported)"
            ));
        }
    }
    let empty = Map::new();
    for (name, d) in devices.get("disk").and_then(obj).unwrap_or(&empty) {
        im.disk(name, d, disks);
    }
    for (name, _) in disks {
        if !devices
            .get("disk")
            .and_then(obj)
            .is_some_and(|d| d.contains_key(name))
        {
            im.refuse(format!(
                "--disk {name}: the configuration has no disk of that name"
            ));
        }
    }
    let pools = devices.get("zpool").and_then(obj).unwrap_or(&empty);
    if pools.is_empty() {
        im.refuse("the configuration has no zpool".into());
    }
    // In disko's order (by name); each pool after the first is read into a spec of its own,
    // then added to the first's.
    for (i, (name, p)) in pools.iter().enumerate() {
        if i == 0 {
            im.pool(name, p);
            continue;
        }
        let first = std::mem::replace(&mut im.spec, empty_spec());
        im.pool(name, p);
        let other = std::mem::replace(&mut im.spec, first);
        if let Err(e) = im.spec.add_pool(other) {
            im.problems.extend(e.0);
        }
    }
    if im.problems.is_empty() {
        Ok(im.spec)
    } else {
        Err(SpecErrors(im.problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_blank_snapshot_idiom_is_read_from_hooks() {
        let snap = |s: &str| snapshot_hook(s);
        assert_eq!(
            snap("zfs snapshot zroot@blank"),
            Some(("zroot".into(), "blank".into()))
        );
        assert_eq!(
            snap(
                "zfs list -t snapshot -H -o name | grep -E '^zroot/a@b$' || zfs snapshot zroot/a@b"
            ),
            Some(("zroot/a".into(), "b".into()))
        );
        assert_eq!(snap("rm -rf / || zfs snapshot zroot@blank"), None);
        assert_eq!(snap("zfs snapshot zroot@blank\nrm -rf /"), None);
        assert_eq!(snap("zfs snapshot -r zroot@blank"), None);
        assert_eq!(snap("zfs snapshot zroot"), None);
    }

    #[test]
    fn a_missing_pool_and_an_unknown_disk_are_refused() {
        let v = serde_json::json!({ "disko": { "devices": {
            "disk": { "a": { "type": "disk", "device": "/dev/vda" } },
            "zpool": { "p": { "type": "zpool" } }
        }}});
        let e = from_disko_json(&v, &[("b".into(), "/dev/vdb".into())])
            .unwrap_err()
            .0;
        assert_eq!(e, ["--disk b: the configuration has no disk of that name"]);
        let v = serde_json::json!({ "disko": { "devices": {
            "disk": { "a": { "type": "disk", "device": "/dev/vda" } },
        }}});
        let e = from_disko_json(&v, &[]).unwrap_err().0;
        assert_eq!(e, ["the configuration has no zpool"]);
        let e = from_disko_json(&serde_json::json!({}), &[]).unwrap_err().0;
        assert_eq!(e, ["no disko.devices in the configuration"]);
    }

    /// Two zpools (a boot pool and a root pool on partitions of one disk): one spec, the
    /// first by name its `[pool]`, the other a `[[pools]]` entry with its own datasets, and
    /// its mounts naming it.
    #[test]
    fn several_pools_become_one_spec_with_pools() {
        let part = |pool: &str, size: &str| serde_json::json!({ "size": size, "content": { "type": "zfs", "pool": pool } });
        let v = serde_json::json!({ "disko": { "devices": {
            "disk": { "a": { "type": "disk", "device": "/dev/vda", "content": {
                "type": "gpt",
                "partitions": { "b": part("bpool", "1G"), "r": part("rpool", "100%") }
            } } },
            "zpool": {
                "rpool": { "type": "zpool", "datasets": {
                    "root": { "type": "zfs_fs", "mountpoint": "/" }
                } },
                "bpool": { "type": "zpool", "options": { "compatibility": "grub2" }, "datasets": {
                    "boot": { "type": "zfs_fs", "mountpoint": "/boot",
                              "options": { "mountpoint": "legacy" } }
                } }
            }
        }}});
        let spec = from_disko_json(&v, &[]).unwrap();
        spec.validate().unwrap();
        assert_eq!(spec.pool_names(), ["bpool", "rpool"]);
        assert_eq!(spec.pool.properties["compatibility"], "grub2");
        assert_eq!(spec.datasets[0].name, "boot");
        let rpool = &spec.pools[0];
        assert_eq!(rpool.datasets[0].name, "root");
        assert_eq!(rpool.datasets[0].properties["mountpoint"], "/");
        let devices = |p: &crate::PoolSpec| -> Vec<PathBuf> {
            p.topology().devices().map(|d| d.path.clone()).collect()
        };
        assert_eq!(
            devices(&spec.pool),
            [crate::spec::partlabel_path("disk-a-b")]
        );
        assert_eq!(devices(rpool), [crate::spec::partlabel_path("disk-a-r")]);
        assert_eq!(spec.boot.mounts.len(), 1);
        assert_eq!(spec.boot.mounts[0].path, "/boot");
        assert_eq!(spec.boot.mounts[0].pool, None, "bpool is the first pool");
        // Read back as it is printed.
        assert_eq!(Spec::from_toml(&spec.to_toml()).unwrap(), spec);
    }

    /// A whole disk given to a pool (disko's `content.type = "zfs"` on the disk) is a vdev as
    /// it is, which `zpool create` partitions; topology members by name are the disks' `zfs`
    /// partitions.
    #[test]
    fn whole_disks_and_topology_members_are_the_devices_disko_gives() {
        let v = serde_json::json!({ "disko": { "devices": {
            "disk": {
                "a": { "type": "disk", "device": "/dev/vda",
                       "content": { "type": "zfs", "pool": "p" } },
                "l": { "type": "disk", "device": "/dev/vdb",
                       "content": { "type": "gpt", "partitions": {
                           "zfs": { "size": "100%", "content": { "type": "zfs", "pool": "p" } } } } }
            },
            "zpool": { "p": { "type": "zpool", "mode": { "topology": {
                "type": "topology",
                "vdev": [ { "members": [ "/dev/vda" ] } ],
                "log": [ { "members": [ "l" ] } ]
            } } } }
        }}});
        let spec = from_disko_json(&v, &[]).unwrap();
        let t = spec.pool.topology();
        assert_eq!(t.vdev[0].members[0].path, Path::new("/dev/vda"));
        assert_eq!(
            t.log[0].members[0].path,
            Path::new("/dev/disk/by-partlabel/disk-l-zfs")
        );
    }
}
