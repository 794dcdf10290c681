//! [`Plan`]: the ordered steps that take the system from what exists to the spec.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Serialize;

use crate::inventory::{same_meaning, Inventory, JOURNAL};
use crate::spec::{parse_size, Spec, Topology};

/// Pool properties that name a dataset, so they can only be set once the datasets exist
/// (`zpool create -o bootfs=...` is refused): the plan sets them after the datasets.
pub const SET_AFTER_DATASETS: &[&str] = &["bootfs"];

/// Properties fixed when a dataset is created: a difference is a conflict even with adopt.
pub const SET_AT_CREATION: &[&str] = &[
    "casesensitivity",
    "encryption",
    "keyformat",
    "normalization",
    "pbkdf2iters",
    "utf8only",
    "volblocksize",
];

/// Below this, a dataset counts as empty (a new filesystem references a few dozen KiB).
pub const EMPTY_REFERENCED: u64 = 1 << 20;

/// One step, in the order it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Step {
    /// Create a sparse file vdev.
    CreateVdevFile {
        /// Path.
        path: PathBuf,
        /// Bytes.
        size: u64,
    },
    /// Create the pool (with the journal marker on its root dataset).
    CreatePool {
        /// Pool name.
        name: String,
        /// Devices (boxed: the largest step by far).
        topology: Box<Topology>,
        /// `-o` properties.
        properties: IndexMap<String, String>,
        /// `-O` properties.
        root_properties: IndexMap<String, String>,
        /// `-f`: the spec's `force`.
        force: bool,
    },
    /// Set a property on an existing dataset.
    SetProperty {
        /// Full dataset name.
        dataset: String,
        /// Property.
        property: String,
        /// Value.
        value: String,
    },
    /// Set a pool property on an existing pool.
    SetPoolProperty {
        /// Pool.
        pool: String,
        /// Property.
        property: String,
        /// Value.
        value: String,
    },
    /// Create a filesystem.
    CreateDataset {
        /// Full name.
        name: String,
        /// `-o` properties.
        properties: IndexMap<String, String>,
    },
    /// Create a volume (zvol).
    CreateVolume {
        /// Full name.
        name: String,
        /// `-V`: bytes.
        size: u64,
        /// `-b`: bytes, or the default.
        block_size: Option<u64>,
        /// `-s`: no reservation.
        sparse: bool,
        /// `-o` properties.
        properties: IndexMap<String, String>,
    },
    /// Clear a device's ZFS labels (`--wipe`). Not undone if a later step fails.
    ClearLabel {
        /// The device.
        device: PathBuf,
    },
    /// Import the spec's pool, found exported (`zpool import -N [-R ROOT] [-d DIR]... NAME`).
    ImportPool {
        /// Its name.
        name: String,
        /// Its GUID, so that only the pool found is imported.
        guid: u64,
        /// Directories to search for its devices (empty: the system's disks).
        dirs: Vec<PathBuf>,
        /// The altroot (`--mount-root`), if any.
        altroot: Option<PathBuf>,
    },
    /// Take a snapshot.
    Snapshot {
        /// Full name.
        name: String,
    },
    /// Mount a filesystem at a path.
    Mount {
        /// Full dataset name.
        dataset: String,
        /// Where.
        path: PathBuf,
        /// `mount -o` options (none: the defaults).
        options: Vec<String>,
    },
}

/// What to do, and what stands in the way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Plan {
    /// The steps, in order. Empty means the layout is already there.
    pub steps: Vec<Step>,
    /// Differences between what exists and the spec that the plan will not change on its own.
    /// Non-empty means `apply` refuses, unless the caller adopts the existing objects.
    pub conflicts: Vec<String>,
    /// Whether an earlier run was interrupted and this plan completes it.
    pub resumes: bool,
    /// The plan only imports the exported pool: once it is applied, read the system and plan
    /// again to settle the pool against the spec.
    pub replan_after: bool,
    /// Existing encryption roots whose keys are not loaded and that the plan mounts
    /// filesystems under: their keys are needed too (see [`Plan::keys_needed`]).
    pub unlocks: Vec<crate::EncryptionRoot>,
}

/// Options of [`Plan::new`]: the CLI's `--adopt` and `--mount-root`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanOptions {
    adopt: bool,
    mount_root: Option<PathBuf>,
    wipe: bool,
}

impl PlanOptions {
    /// Refuse conflicts; mount nothing.
    pub fn new() -> PlanOptions {
        PlanOptions::default()
    }

    /// `--adopt`: settle conflicting properties of existing objects by setting them, instead
    /// of refusing.
    pub fn adopt(mut self, yes: bool) -> PlanOptions {
        self.adopt = yes;
        self
    }

    /// `--wipe`: clear old ZFS labels off the spec's devices (`zpool labelclear -f`) and
    /// repartition whole disks that hold partitions, instead of refusing them; an exported
    /// pool of the same name is wiped, not imported. Never the default: wiped labels are the
    /// one change an undo cannot take back (they are cleared only after every other check,
    /// right before the pool is created).
    pub fn wipe(mut self, yes: bool) -> PlanOptions {
        self.wipe = yes;
        self
    }

    /// `--mount-root DIR`: mount the layout under `dir` at the end (as an installer does
    /// under `/mnt`).
    pub fn mount_root(mut self, dir: impl Into<PathBuf>) -> PlanOptions {
        self.mount_root = Some(dir.into());
        self
    }
}

impl Plan {
    /// Computes the plan from the spec and what exists.
    pub fn new(spec: &Spec, inv: &Inventory, opts: &PlanOptions) -> Plan {
        let (adopt, mount_root) = (opts.adopt, opts.mount_root.as_deref());
        let wipe = opts.wipe;
        if let Some(found) = inv
            .exported
            .as_ref()
            .filter(|_| inv.pool.is_none() && !wipe)
        {
            return Plan {
                steps: vec![Step::ImportPool {
                    name: spec.pool.name.clone(),
                    guid: found.guid,
                    dirs: found.dirs.clone(),
                    altroot: mount_root.map(Path::to_path_buf),
                }],
                conflicts: Vec::new(),
                resumes: false,
                replan_after: true,
                unlocks: Vec::new(),
            };
        }
        let mut steps = Vec::new();
        let mut conflicts = Vec::new();
        let pool = &spec.pool.name;
        let mut resumes = false;
        // Pool properties set once the datasets exist.
        let mut late = Vec::new();
        // Labels cleared with --wipe, right before the pool is created.
        let mut wiped = Vec::new();
        let set_pool = |property: &str, value: &str| Step::SetPoolProperty {
            pool: pool.clone(),
            property: property.to_owned(),
            value: value.to_owned(),
        };
        match &inv.pool {
            None => {
                conflicts.extend(inv.vdev_problems.iter().cloned());
                for w in &inv.in_the_way {
                    match (&w.holds, wipe) {
                        (_, false) => conflicts.push(w.refusal()),
                        (crate::inventory::Holds::PoolLabel { .. }, true) => {
                            wiped.push(Step::ClearLabel {
                                device: w.device.clone(),
                            })
                        }
                        // zpool's partitioning replaces the table.
                        (crate::inventory::Holds::Partitions { .. }, true) => {}
                    }
                }
                let topology = spec.pool.topology();
                // What apply's `zpool create` refuses without -f, refused here, by the same
                // check on the same device tree.
                let name = zfs_core::PoolName::new(pool.as_str());
                if let (false, Ok(name)) = (spec.pool.force, name) {
                    if let Err(e) = crate::apply::vdev_spec(&topology).check_replication(&name) {
                        conflicts.push(format!(
                            "pool {pool}: {}: give force = true in the spec's [pool] (or \
                             --force) to create it as zpool create -f does",
                            e.message()
                        ));
                    }
                }
                for v in topology.devices() {
                    if !inv.existing_vdevs.contains(&v.path) {
                        match v.size.as_deref().and_then(parse_size) {
                            Some(size) => steps.push(Step::CreateVdevFile { path: v.path.clone(), size }),
                            None => conflicts.push(format!(
                                "device {} does not exist (give a size to create it as a sparse file)",
                                v.path.display()
                            )),
                        }
                    }
                }
                steps.extend(wiped);
                let mut root = spec.pool.root_properties.clone();
                root.insert(JOURNAL.into(), "applying".into());
                steps.push(Step::CreatePool {
                    name: pool.clone(),
                    topology: Box::new(topology),
                    properties: spec
                        .pool
                        .properties
                        .iter()
                        .filter(|(k, _)| !SET_AFTER_DATASETS.contains(&k.as_str()))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    root_properties: root,
                    force: spec.pool.force,
                });
                for (k, v) in &spec.pool.properties {
                    if SET_AFTER_DATASETS.contains(&k.as_str()) {
                        late.push(set_pool(k, v));
                    }
                }
            }
            Some(state) => {
                resumes = state.journal.as_deref() == Some("applying");
                // Devices are never added or moved: a pool built otherwise is the user's to
                // change (`zpool add`, `attach`).
                let want = spec.pool.topology();
                if !want.is_empty() {
                    for what in crate::live_topology::differences(&want, &state.topology) {
                        conflicts.push(format!("pool {pool}: {what}"));
                    }
                }
                let mut fixes = Vec::new();
                for (k, want) in &spec.pool.properties {
                    match state.properties.get(k) {
                        Some(have) if same_meaning(k, have, want) => {}
                        have => {
                            let have = have.map_or("unset", String::as_str);
                            if k == "ashift" {
                                // Fixed when a vdev is made: `zpool set` would change only the
                                // property, never the disks (the inventory reads the disks').
                                conflicts.push(format!(
                                    "pool {pool}: its disks have ashift {have}, the spec says \
                                     {want}; ashift cannot change after a vdev is created \
                                     (recreate the pool)"
                                ));
                            } else if adopt || resumes {
                                if SET_AFTER_DATASETS.contains(&k.as_str()) {
                                    late.push(set_pool(k, want));
                                } else {
                                    fixes.push(set_pool(k, want));
                                }
                            } else {
                                conflicts.push(format!(
                                    "pool {pool}: {k} is {have}, the spec says {want}"
                                ));
                            }
                        }
                    }
                }
                for (k, want) in &spec.pool.root_properties {
                    match state.root_properties.get(k) {
                        Some(have) if same_meaning(k, &have.value, want) => {}
                        have => {
                            let have = have.map_or("unset", |h| h.value.as_str());
                            if SET_AT_CREATION.contains(&k.as_str()) {
                                conflicts.push(format!("{pool}: {k} is {have}, the spec says {want}, and it can only be set when the pool is created"));
                            } else if adopt || resumes {
                                fixes.push(Step::SetProperty {
                                    dataset: pool.clone(),
                                    property: k.clone(),
                                    value: want.clone(),
                                });
                            } else {
                                conflicts
                                    .push(format!("{pool}: {k} is {have}, the spec says {want}"));
                            }
                        }
                    }
                }
                steps.extend(fixes);
            }
        }

        let state = inv.pool.as_ref();
        for d in &spec.datasets {
            let full = spec.full_name(&d.name);
            let volume = d.volume.as_ref();
            match state.and_then(|s| s.datasets.get(&full)) {
                None => steps.push(match volume {
                    None => Step::CreateDataset {
                        name: full,
                        properties: d.properties.clone(),
                    },
                    Some(v) => Step::CreateVolume {
                        name: full,
                        size: v.size_bytes().unwrap_or(0),
                        block_size: v.block_size_bytes(),
                        sparse: v.sparse,
                        properties: d.properties.clone(),
                    },
                }),
                Some(ds) if volume.is_none() && !ds.is_filesystem => {
                    conflicts.push(format!("{full} exists but is not a filesystem"))
                }
                Some(ds) if volume.is_some() && !ds.is_volume => {
                    conflicts.push(format!("{full} exists but is not a volume"))
                }
                Some(ds) => {
                    if let Some(v) = volume {
                        let have = |k: &str| {
                            ds.properties
                                .get(k)
                                .and_then(|h| h.value.parse::<u64>().ok())
                        };
                        if let (Some(want), Some(have)) =
                            (v.block_size_bytes(), have("volblocksize"))
                        {
                            if want != have {
                                conflicts.push(format!(
                                    "{full}: volblocksize is {have}, the spec says {want}, and it \
                                     can only be set when the volume is created"
                                ));
                            }
                        }
                        match (v.size_bytes(), have("volsize")) {
                            (Some(want), Some(have)) if want != have => {
                                if adopt || resumes {
                                    steps.push(Step::SetProperty {
                                        dataset: full.clone(),
                                        property: "volsize".into(),
                                        value: want.to_string(),
                                    });
                                } else {
                                    conflicts.push(format!(
                                        "{full}: volsize is {have}, the spec says {want}"
                                    ));
                                }
                            }
                            _ => {}
                        }
                    }
                    for (k, want) in &d.properties {
                        let have = ds.properties.get(k);
                        // Properties fixed at creation have no source to compare (`-`).
                        let fixed = SET_AT_CREATION.contains(&k.as_str());
                        let ok = have
                            .is_some_and(|h| (h.local || fixed) && same_meaning(k, &h.value, want));
                        if ok {
                            continue;
                        }
                        if SET_AT_CREATION.contains(&k.as_str()) {
                            let have = have.map_or("unset", |h| h.value.as_str());
                            conflicts.push(format!(
                                "{full}: {k} is {have}, the spec says {want}, and it can only \
                                 be set when the dataset is created"
                            ));
                        } else if adopt || resumes {
                            steps.push(Step::SetProperty {
                                dataset: full.clone(),
                                property: k.clone(),
                                value: want.clone(),
                            });
                        } else {
                            let have = have.map_or("unset".to_owned(), |h| {
                                format!(
                                    "{}{}",
                                    h.value,
                                    if h.local { "" } else { " (not set locally)" }
                                )
                            });
                            conflicts.push(format!("{full}: {k} is {have}, the spec says {want}"));
                        }
                    }
                }
            }
        }
        for s in &spec.snapshots {
            let full_ds = spec.full_name(&s.dataset);
            let full = format!("{full_ds}@{}", s.name);
            if state.is_some_and(|st| st.snapshots.contains(&full)) {
                continue;
            }
            if let Some(ds) = state.and_then(|st| st.datasets.get(&full_ds)) {
                if ds.referenced > EMPTY_REFERENCED && !adopt {
                    conflicts.push(format!(
                        "{full_ds} already holds data ({} bytes) but has no @{}: a snapshot taken now would not be blank",
                        ds.referenced, s.name
                    ));
                    continue;
                }
            }
            steps.push(Step::Snapshot { name: full });
        }
        steps.extend(late);
        if let Some(root) = mount_root {
            if spec.datasets.iter().any(|d| d.name == "root") {
                steps.push(Step::Mount {
                    dataset: spec.full_name("root"),
                    path: root.to_owned(),
                    options: zfs_mount_options(spec, "root", &[]),
                });
            }
            for m in &spec.boot.mounts {
                let path = root.join(m.path.trim_start_matches('/'));
                steps.push(Step::Mount {
                    dataset: spec.full_name(&m.dataset),
                    path,
                    options: mount_options(spec, m),
                });
            }
        }
        let changes = steps.iter().any(|s| !matches!(s, Step::Mount { .. }));
        if changes || resumes {
            // In an existing pool, mark the run before changing anything (a new pool is created
            // with the mark), and mark it done at the end.
            let pool_existed = inv.pool.is_some();
            if pool_existed && !resumes {
                steps.insert(
                    0,
                    Step::SetProperty {
                        dataset: pool.clone(),
                        property: JOURNAL.into(),
                        value: "applying".into(),
                    },
                );
            }
            steps.push(Step::SetProperty {
                dataset: pool.clone(),
                property: JOURNAL.into(),
                value: "complete".into(),
            });
        }
        let mut unlocks: Vec<crate::EncryptionRoot> = Vec::new();
        if let Some(state) = inv.pool.as_ref() {
            for step in &steps {
                let Step::Mount { dataset, .. } = step else {
                    continue;
                };
                let root = spec
                    .encryption_roots()
                    .into_iter()
                    .filter(|r| *dataset == r.name || dataset.starts_with(&format!("{}/", r.name)))
                    .max_by_key(|r| r.name.len());
                if let Some(r) = root.filter(|r| state.locked.contains(&r.name)) {
                    if !unlocks.contains(&r) {
                        unlocks.push(r);
                    }
                }
            }
        }
        Plan {
            steps,
            conflicts,
            resumes,
            replan_after: false,
            unlocks,
        }
    }

    /// The encryption roots whose keys the caller gives (`keylocation=prompt`) that this plan
    /// creates, in the order it creates them, then those it unlocks to mount: what
    /// [`ApplyOptions::key`](crate::ApplyOptions::key) must be called for.
    pub fn keys_needed(&self) -> Vec<crate::EncryptionRoot> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::CreatePool {
                    name,
                    root_properties,
                    ..
                } => crate::EncryptionRoot::from_props(name, root_properties),
                Step::CreateDataset { name, properties }
                | Step::CreateVolume {
                    name, properties, ..
                } => crate::EncryptionRoot::from_props(name, properties),
                _ => None,
            })
            .chain(self.unlocks.iter().cloned())
            .filter(crate::EncryptionRoot::prompts)
            .collect()
    }

    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The plan as the shell commands the guide would have you type.
    pub fn to_commands(&self) -> Vec<String> {
        self.steps.iter().map(Step::to_command).collect()
    }

    /// The plan as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan always serialises")
    }
}

/// The options a mount of the spec gets: its own, and `zfsutil` where the dataset's
/// mountpoint is not `legacy` (mount(8) of such a dataset needs it, as NixOS documents).
pub fn mount_options(spec: &Spec, mount: &crate::spec::MountSpec) -> Vec<String> {
    zfs_mount_options(spec, &mount.dataset, &mount.options)
}

/// `own`, with `zfsutil` first where the spec's dataset `relative` has a mountpoint other
/// than `legacy`: the options of every mount the plan makes, so that its printed `mount`
/// runs as printed.
fn zfs_mount_options(spec: &Spec, relative: &str, own: &[String]) -> Vec<String> {
    let mut out = own.to_vec();
    let legacy = spec.effective_property(relative, "mountpoint") == Some("legacy");
    if !legacy && !out.iter().any(|o| o == "zfsutil") {
        out.insert(0, "zfsutil".into());
    }
    out
}

fn opts(flag: &str, props: &IndexMap<String, String>) -> String {
    props
        .iter()
        .map(|(k, v)| format!(" {flag} {k}={}", shell(v)))
        .collect()
}

fn shell(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

impl Step {
    /// The equivalent command.
    pub fn to_command(&self) -> String {
        match self {
            Step::CreateVdevFile { path, size } => {
                format!("truncate -s {size} {}", shell(&path.display().to_string()))
            }
            Step::CreatePool {
                name,
                topology,
                properties,
                root_properties,
                force,
            } => {
                let devs: String = topology
                    .to_args()
                    .iter()
                    .map(|a| format!(" {}", shell(a)))
                    .collect();
                format!(
                    "zpool create{}{}{} {name}{devs}",
                    if *force { " -f" } else { "" },
                    opts("-o", properties),
                    opts("-O", root_properties)
                )
            }
            Step::SetProperty {
                dataset,
                property,
                value,
            } => format!("zfs set {property}={} {dataset}", shell(value)),
            Step::SetPoolProperty {
                pool,
                property,
                value,
            } => format!("zpool set {property}={} {pool}", shell(value)),
            Step::CreateDataset { name, properties } => {
                format!("zfs create{} {name}", opts("-o", properties))
            }
            Step::CreateVolume {
                name,
                size,
                block_size,
                sparse,
                properties,
            } => format!(
                "zfs create -V {size}{}{}{} {name}",
                if *sparse { " -s" } else { "" },
                block_size.map_or(String::new(), |b| format!(" -b {b}")),
                opts("-o", properties)
            ),
            Step::ClearLabel { device } => format!(
                "zpool labelclear -f {}",
                shell(&device.display().to_string())
            ),
            Step::ImportPool {
                name,
                dirs,
                altroot,
                ..
            } => {
                let mut cmd = "zpool import -N".to_owned();
                if let Some(root) = altroot {
                    cmd.push_str(&format!(" -R {}", shell(&root.display().to_string())));
                }
                for d in dirs {
                    cmd.push_str(&format!(" -d {}", shell(&d.display().to_string())));
                }
                format!("{cmd} {name}")
            }
            Step::Snapshot { name } => format!("zfs snapshot {name}"),
            Step::Mount {
                dataset,
                path,
                options,
            } => format!(
                "mount --mkdir -t zfs{} {dataset} {}",
                if options.is_empty() {
                    String::new()
                } else {
                    format!(" -o {}", shell(&options.join(",")))
                },
                shell(&path.display().to_string())
            ),
        }
    }
}
