//! Carrying out a [`Plan`] all or nothing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use zfs_core::{
    CreateDataset, CreatePool, DatasetName, DestroyOptions, DestroySnapshotsOptions,
    InheritOptions, Leaf, PoolName, SnapshotName, TopLevel, UnmountOptions, VdevSpec, Zfs,
};

use crate::disk::DeviceKind;
use crate::error::LayoutError;
use crate::plan::{Plan, Step};
use crate::spec::{Topology, VdevGroup, VdevLayout};

/// A progress callback, called once per finished step.
pub type OnStep<'a> = &'a mut dyn FnMut(&StepDone<'_>);

/// One finished step, as reported to [`ApplyOptions::on_step`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StepDone<'p> {
    /// Its number, 1-based.
    pub number: usize,
    /// The step.
    pub step: &'p Step,
    /// How long it took; for a step done in a batch, how long the whole batch took.
    pub took: Duration,
    /// The numbers of the first and last steps of the batch it was done in (dataset
    /// creations run together), or `None` for a step done on its own.
    pub batch: Option<(usize, usize)>,
}

/// Options for [`apply`].
#[derive(Default)]
pub struct ApplyOptions<'a> {
    on_step: Option<OnStep<'a>>,
    fail_at: Option<usize>,
}

impl<'a> ApplyOptions<'a> {
    /// No progress reports.
    pub fn new() -> ApplyOptions<'a> {
        ApplyOptions::default()
    }

    /// Called after each step with its number, the step and how long it took.
    pub fn on_step(mut self, f: OnStep<'a>) -> ApplyOptions<'a> {
        self.on_step = Some(f);
        self
    }

    /// Test hook (feature `testing`): step `k` (1-based) fails as if ZFS had refused it.
    #[cfg(feature = "testing")]
    pub fn fail_at(mut self, k: usize) -> ApplyOptions<'a> {
        self.fail_at = Some(k);
        self
    }
}

impl std::fmt::Debug for ApplyOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplyOptions")
            .field("on_step", &self.on_step.is_some())
            .field("fail_at", &self.fail_at)
            .finish()
    }
}

/// How to take back one step.
enum Undo {
    RemoveFile(PathBuf),
    DestroyPool(String),
    DestroyDataset(String),
    DestroySnapshot(String),
    Unmount(String),
    Restore {
        dataset: String,
        property: String,
        old: Option<String>,
    },
    RestorePool {
        pool: String,
        property: String,
        old: String,
    },
}

/// Carries out `plan`. If a step fails, every step this call did is undone, newest first, and
/// the error says whether the undo was complete. Refuses a plan with conflicts.
///
/// Consecutive dataset creations run as one [`Zfs::create_datasets`] batch (siblings share
/// transaction groups); each of them is reported to `on_step` when the batch is done, with the
/// batch's duration.
///
/// # Errors
/// [`LayoutError::Conflict`] before doing anything; [`LayoutError::Step`] after undoing.
pub fn apply(zfs: &Zfs, plan: &Plan, mut opts: ApplyOptions<'_>) -> Result<(), LayoutError> {
    if !plan.conflicts.is_empty() {
        return Err(LayoutError::Conflict(plan.conflicts.clone()));
    }
    let steps = &plan.steps;
    let mut undo: Vec<Undo> = Vec::new();
    let mut i = 0;
    while i < steps.len() {
        let started = Instant::now();
        let mut end = group_end(steps, i);
        // An injected failure inside a group: the steps before it run, then it fails.
        let injected = opts
            .fail_at
            .and_then(|k| k.checked_sub(1))
            .filter(|k| (i..end).contains(k));
        if let Some(k) = injected {
            end = k;
        }
        let result = match &steps[i..end] {
            [] => Ok(()),
            [one] => run(zfs, one, &mut undo).map_err(|e| (i, e)),
            group => create_group(zfs, group, &mut undo).map_err(|(j, e)| (i + j, e)),
        };
        let result = match (result, injected) {
            (Ok(()), Some(k)) => Err((k, injected_failure(&steps[k]))),
            (other, _) => other,
        };
        if let Err((k, e)) = result {
            let failures = roll_back(zfs, undo);
            return Err(LayoutError::step(k + 1, &steps[k], e, failures));
        }
        if let Some(cb) = opts.on_step.as_mut() {
            let took = started.elapsed();
            let batch = (end - i > 1).then_some((i + 1, end));
            for (j, step) in steps.iter().enumerate().take(end).skip(i) {
                cb(&StepDone {
                    number: j + 1,
                    step,
                    took,
                    batch,
                });
            }
        }
        i = end;
    }
    Ok(())
}

/// The end (exclusive) of the group of steps starting at `i`: a run of dataset creations, or
/// the one step.
fn group_end(steps: &[Step], i: usize) -> usize {
    let is_create = |s: &Step| creation(s).is_some();
    if !is_create(&steps[i]) {
        return i + 1;
    }
    i + steps[i..].iter().take_while(|s| is_create(s)).count()
}

/// The zfs-core creation a `CreateDataset` or `CreateVolume` step stands for, if it is one
/// (a bad name is an error to report).
fn creation(step: &Step) -> Option<zfs_core::Result<CreateDataset>> {
    let (name, properties) = match step {
        Step::CreateDataset { name, properties }
        | Step::CreateVolume {
            name, properties, ..
        } => (name, properties),
        _ => return None,
    };
    Some(DatasetName::new(name.as_str()).map(|n| {
        let mut create = match step {
            Step::CreateVolume {
                size,
                block_size,
                sparse,
                ..
            } => {
                let v = CreateDataset::volume(n, *size).sparse(*sparse);
                match block_size {
                    Some(b) => v.block_size(*b),
                    None => v,
                }
            }
            _ => CreateDataset::filesystem(n),
        };
        for (k, v) in properties {
            create = create.property(k, v);
        }
        create
    }))
}

/// Creates the datasets of `group` (all creation steps) in one batch, all or none.
/// On failure, the index in `group` of the step to blame.
fn create_group(
    zfs: &Zfs,
    group: &[Step],
    undo: &mut Vec<Undo>,
) -> Result<(), (usize, zfs_core::Error)> {
    let mut batch = Vec::with_capacity(group.len());
    for (j, step) in group.iter().enumerate() {
        let create = creation(step).expect("group_end groups dataset creations only");
        batch.push(create.map_err(|e| (j, e))?);
    }
    zfs.create_datasets(&batch).map_err(|e| {
        let blamed = group
            .iter()
            .position(|s| {
                matches!(s, Step::CreateDataset { name, .. } | Step::CreateVolume { name, .. }
                    if *name == e.object())
            })
            .unwrap_or(0);
        (blamed, e)
    })?;
    // Children after parents, so the undo (newest first) destroys children first.
    let mut names: Vec<&str> = batch.iter().map(|c| c.name().as_str()).collect();
    names.sort_by_key(|n| n.matches('/').count());
    undo.extend(
        names
            .into_iter()
            .map(|n| Undo::DestroyDataset(n.to_owned())),
    );
    Ok(())
}

fn io(op: &'static str, path: &std::path::Path, e: &std::io::Error) -> zfs_core::Error {
    zfs_core::Error::io(op, &path.display().to_string(), e)
}

fn run(zfs: &Zfs, step: &Step, undo: &mut Vec<Undo>) -> zfs_core::Result<()> {
    match step {
        Step::CreateVdevFile { path, size } => {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(|e| io("create", path, &e))?;
            undo.push(Undo::RemoveFile(path.clone()));
            file.set_len(*size).map_err(|e| io("size", path, &e))?;
        }
        Step::CreatePool {
            name,
            topology,
            properties,
            root_properties,
        } => {
            let mut create = CreatePool::new(PoolName::new(name.as_str())?, vdev_spec(topology));
            for (k, v) in properties {
                create = create.pool_property(k, v);
            }
            for (k, v) in root_properties {
                create = create.fs_property(k, v);
            }
            create.create(zfs)?;
            undo.push(Undo::DestroyPool(name.clone()));
        }
        Step::SetPoolProperty {
            pool,
            property,
            value,
        } => {
            let p = zfs.pool(&PoolName::new(pool.as_str())?)?;
            let old = p.property(property)?.value;
            p.set_property(property, value)?;
            undo.push(Undo::RestorePool {
                pool: pool.clone(),
                property: property.clone(),
                old,
            });
        }
        Step::SetProperty {
            dataset,
            property,
            value,
        } => {
            let ds = zfs.dataset(&DatasetName::new(dataset.as_str())?)?;
            let before = ds.property(property)?;
            let old = (before.source == zfs_core::PropSource::Local).then_some(before.value);
            ds.set_property(property, value)?;
            undo.push(Undo::Restore {
                dataset: dataset.clone(),
                property: property.clone(),
                old,
            });
        }
        Step::CreateDataset { name, .. } | Step::CreateVolume { name, .. } => {
            creation(step).expect("a creation step")?.create(zfs)?;
            undo.push(Undo::DestroyDataset(name.clone()));
        }
        Step::Snapshot { name } => {
            zfs.snapshot(&[SnapshotName::new(name.as_str())?], &[])?;
            undo.push(Undo::DestroySnapshot(name.clone()));
        }
        Step::Mount {
            dataset,
            path,
            options,
        } => {
            let opts = zfs_core::MountOptions::new()
                .options(&options.join(","))
                .load_key(true);
            zfs.dataset(&DatasetName::new(dataset.as_str())?)?
                .mount_at_with(path, &opts)?;
            undo.push(Undo::Unmount(dataset.clone()));
        }
    }
    Ok(())
}

/// The topology as zfs-core's device tree.
fn vdev_spec(t: &Topology) -> VdevSpec {
    let tops = |g: &VdevGroup| -> Vec<TopLevel> {
        let leaves = || g.members.iter().map(|m| leaf(&m.path)).collect::<Vec<_>>();
        match (g.mode, g.mode.raidz_parity()) {
            (_, Some(parity)) => vec![TopLevel::Raidz {
                parity,
                devices: leaves(),
            }],
            (VdevLayout::Mirror, None) => vec![TopLevel::Mirror(leaves())],
            _ => leaves().into_iter().map(TopLevel::Single).collect(),
        }
    };
    let mut spec = VdevSpec::new();
    for top in t.vdev.iter().flat_map(tops) {
        spec = spec.vdev(top);
    }
    for top in t.log.iter().flat_map(tops) {
        spec = spec.log(top);
    }
    for top in t.special.iter().flat_map(tops) {
        spec = spec.special(top);
    }
    for top in t.dedup.iter().flat_map(tops) {
        spec = spec.dedup(top);
    }
    for d in &t.cache {
        spec = spec.cache(leaf(&d.path));
    }
    for d in &t.spare {
        spec = spec.spare(leaf(&d.path));
    }
    spec
}

/// A file, a whole disk (partitioned as `zpool create` does) or a partition.
fn leaf(p: &Path) -> Leaf {
    match crate::disk::kind(p) {
        DeviceKind::WholeDisk => Leaf::whole_disk(p),
        DeviceKind::Partition => Leaf::disk(p),
        DeviceKind::File => Leaf::file(p),
    }
}

/// Undoes, newest first; returns what could not be undone.
fn roll_back(zfs: &Zfs, undo: Vec<Undo>) -> Vec<String> {
    let mut failures = Vec::new();
    for u in undo.into_iter().rev() {
        if let Err(e) = retry_while_busy(|| undo_one(zfs, &u)) {
            failures.push(e.to_string());
        }
    }
    failures
}

/// Runs `f`, retrying for up to about two and a half seconds while it fails with `Busy`.
///
/// A mount can be busy for a moment with nobody using it: a thread of this (or any) process that
/// spawns a child while a file on it is open gives the child a copy of that descriptor until the
/// child's `exec` closes it. Rolling back must not give up on that.
fn retry_while_busy(mut f: impl FnMut() -> zfs_core::Result<()>) -> zfs_core::Result<()> {
    let mut delay = std::time::Duration::from_millis(20);
    for _ in 0..7 {
        match f() {
            Err(e) if e.kind() == zfs_core::ErrorKind::Busy => std::thread::sleep(delay),
            other => return other,
        }
        delay *= 2;
    }
    f()
}

fn undo_one(zfs: &Zfs, u: &Undo) -> zfs_core::Result<()> {
    match u {
        Undo::RemoveFile(p) => std::fs::remove_file(p).map_err(|e| io("remove", p, &e)),
        Undo::DestroyPool(name) => PoolName::new(name.as_str()).and_then(|n| zfs.destroy_pool(&n)),
        Undo::DestroyDataset(name) => DatasetName::new(name.as_str())
            .and_then(|n| zfs.destroy(&n, &DestroyOptions::new().recursive(true))),
        Undo::DestroySnapshot(name) => SnapshotName::new(name.as_str())
            .and_then(|s| zfs.destroy_snapshots(&[s], &DestroySnapshotsOptions::new())),
        Undo::Unmount(ds) => DatasetName::new(ds.as_str())
            .and_then(|n| zfs.dataset(&n))
            .and_then(|d| d.unmount(&UnmountOptions::new())),
        Undo::Restore {
            dataset,
            property,
            old,
        } => DatasetName::new(dataset.as_str())
            .and_then(|n| zfs.dataset(&n))
            .and_then(|d| match old {
                Some(v) => d.set_property(property, v),
                None => d.inherit(property, &InheritOptions::new()),
            }),
        Undo::RestorePool {
            pool,
            property,
            old,
        } => PoolName::new(pool.as_str())
            .and_then(|n| zfs.pool(&n))
            // An unset property reads as `-` and is unset again by an empty value (`bootfs`).
            .and_then(|p| p.set_property(property, if old == "-" { "" } else { old })),
    }
}

/// The failure a `fail_at` hook makes.
#[cfg(feature = "testing")]
fn injected_failure(step: &Step) -> zfs_core::Error {
    zfs_core::Error::injected(&step.to_command())
}

/// Without the `testing` feature `fail_at` is never set.
#[cfg(not(feature = "testing"))]
fn injected_failure(_step: &Step) -> zfs_core::Error {
    unreachable!("fail_at is only settable with the testing feature")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_show_the_fault_hook_and_whether_a_callback_is_set() {
        let shown = format!(
            "{:?}",
            ApplyOptions {
                on_step: None,
                fail_at: Some(3),
            }
        );
        assert_eq!(shown, "ApplyOptions { on_step: false, fail_at: Some(3) }");
    }
}
