//! [`Plan`]: the ordered steps that take the system from what exists to the spec.
//!
//! One file per kind of object, each adding its steps to one [`Draft`] in the order they
//! run: `partitions.rs` (GPT on the spec's disks), `filesystems.rs` (on their partitions),
//! `pool.rs` (create, import, settle), `datasets.rs`, `volumes.rs` (their filesystems),
//! `snapshots.rs`, `mounts.rs`; `several.rs` puts the plans of several pools together;
//! `command.rs` prints each step as the command a person would type.

mod command;
mod datasets;
mod filesystems;
mod mounts;
mod partitions;
mod pool;
mod several;
mod snapshots;
mod volumes;

use std::path::PathBuf;

use indexmap::IndexMap;
use serde::Serialize;

use crate::inventory::{Inventory, JOURNAL};
use crate::spec::{Spec, Topology};

use self::mounts::depth;
pub(crate) use self::mounts::install_mounts;
pub use self::volumes::volume_device;
pub(crate) use self::volumes::volume_filesystems;

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

/// Pool properties an import sets by design (`zpool import -R` makes `cachefile=none`): what
/// the spec says of them holds when the pool is created, and is no conflict afterwards.
pub const SET_BY_IMPORT: &[&str] = &["altroot", "cachefile"];

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
        /// `-R`: the mount root (`--mount-root`), if any.
        altroot: Option<PathBuf>,
        /// `false`: `-d`, no feature but those named (the spec's `enable_features`).
        enable_features: bool,
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
    /// Give a whole disk a new GPT partition table (`--wipe` where it held anything). Not
    /// undone if a later step fails: the one change an undo cannot take back, as the printed
    /// command says.
    PartitionDisk {
        /// The disk.
        disk: PathBuf,
        /// Its logical sector size.
        sector: u64,
        /// The partitions, where they go.
        partitions: Vec<crate::partition_table::PlacedPartition>,
    },
    /// Make a filesystem (or swap) on a partition or volume.
    Format {
        /// The device (`/dev/disk/by-partlabel/ESP`, `/dev/zvol/zroot/swap`).
        device: PathBuf,
        /// What to make.
        format: crate::spec::FilesystemFormat,
        /// Its label, if any.
        label: Option<String>,
    },
    /// Mount a partition's filesystem (`mount -t TYPE`).
    MountDevice {
        /// The device.
        device: PathBuf,
        /// Where.
        path: PathBuf,
        /// Its type (`vfat`).
        fstype: String,
        /// `mount -o` options.
        options: Vec<String>,
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

    /// `--mount-root DIR`: create (or import) the pool with `dir` as its altroot, and mount
    /// the layout under it by mountpoint at the end (as an installer does under `/mnt`); what
    /// is mounted there already is left alone.
    pub fn mount_root(mut self, dir: impl Into<PathBuf>) -> PlanOptions {
        self.mount_root = Some(dir.into());
        self
    }
}

/// The plan being built: each kind of object's file adds its steps and conflicts.
struct Draft<'a> {
    spec: &'a Spec,
    inv: &'a Inventory,
    opts: &'a PlanOptions,
    steps: Vec<Step>,
    conflicts: Vec<String>,
    /// Pool properties set once the datasets exist.
    late: Vec<Step>,
    /// An earlier run was interrupted: its changes are completed, not refused.
    resumes: bool,
    /// The disks this plan gives a new partition table.
    partitioned: Vec<PathBuf>,
}

impl Draft<'_> {
    /// Whether `device` is a partition this plan makes (on a disk it partitions): what is on
    /// it now goes with the old table.
    fn makes(&self, device: &std::path::Path) -> bool {
        self.spec
            .partitions()
            .any(|(disk, p)| p.device() == device && self.partitioned.contains(&disk.device))
    }

    /// Whether a difference from the spec is set right (`--adopt`, or completing an
    /// interrupted run) rather than refused.
    fn settles(&self) -> bool {
        self.opts.adopt || self.resumes
    }
}

impl Plan {
    /// Computes the plan from the spec and what exists: for a spec with several pools, one
    /// plan that lays down all of them (see `several.rs`).
    pub fn new(spec: &Spec, inv: &Inventory, opts: &PlanOptions) -> Plan {
        if spec.has_several_pools() {
            return several::plan(spec, inv, opts);
        }
        Plan::one(spec, inv, opts)
    }

    /// The plan of a one-pool spec.
    fn one(spec: &Spec, inv: &Inventory, opts: &PlanOptions) -> Plan {
        // Before anything else (an exported pool found through a link that names another
        // disk's partition would be imported): a label that names two partitions.
        if !inv.label_clashes.is_empty() {
            return Plan {
                steps: Vec::new(),
                conflicts: inv.label_clashes.clone(),
                resumes: false,
                replan_after: false,
                unlocks: Vec::new(),
            };
        }
        if let Some(found) = inv
            .exported
            .as_ref()
            .filter(|_| inv.pool.is_none() && !opts.wipe)
        {
            return pool::import(spec, found, opts.mount_root.as_deref());
        }
        let mut d = Draft {
            spec,
            inv,
            opts,
            steps: Vec::new(),
            conflicts: Vec::new(),
            late: Vec::new(),
            resumes: false,
            partitioned: Vec::new(),
        };
        partitions::plan(&mut d);
        filesystems::plan(&mut d);
        match &inv.pool {
            None => pool::create(&mut d),
            Some(state) => pool::settle(&mut d, state),
        }
        datasets::plan(&mut d);
        volumes::plan(&mut d);
        snapshots::plan(&mut d);
        let late = std::mem::take(&mut d.late);
        d.steps.extend(late);
        mounts::plan(&mut d);
        let Draft {
            mut steps,
            conflicts,
            resumes,
            ..
        } = d;
        let pool = &spec.pool.name;
        let changes = steps.iter().any(|s| !matches!(s, Step::Mount { .. }));
        if changes || resumes {
            // In an existing pool, mark the run before changing anything (a new pool is created
            // with the mark), and mark it done at the end.
            if inv.pool.is_some() && !resumes {
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
        let unlocks = unlocks(spec, inv, &steps);
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

/// The existing encryption roots whose keys are not loaded and that `steps` mount
/// filesystems under.
fn unlocks(spec: &Spec, inv: &Inventory, steps: &[Step]) -> Vec<crate::EncryptionRoot> {
    let mut out: Vec<crate::EncryptionRoot> = Vec::new();
    let Some(state) = inv.pool.as_ref() else {
        return out;
    };
    for step in steps {
        // A filesystem on a volume is mounted through the volume's node, there once its key is.
        let volume = |device: &std::path::Path| {
            device
                .strip_prefix("/dev/zvol")
                .ok()
                .map(|v| v.display().to_string())
        };
        let dataset = match step {
            Step::Mount { dataset, .. } => dataset.clone(),
            Step::MountDevice { device, .. } => match volume(device) {
                Some(v) => v,
                None => continue,
            },
            _ => continue,
        };
        let dataset = &dataset;
        let root = spec
            .encryption_roots()
            .into_iter()
            .filter(|r| *dataset == r.name || dataset.starts_with(&format!("{}/", r.name)))
            .max_by_key(|r| r.name.len());
        if let Some(r) = root.filter(|r| state.locked.contains(&r.name)) {
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod disk_tests;
