//! Carrying out a [`Plan`] all or nothing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use zfs_core::{
    CreateDataset, CreatePool, DatasetName, DestroyOptions, DestroySnapshotsOptions,
    InheritOptions, Leaf, PoolName, SnapshotName, TopLevel, UnmountOptions, VdevSpec, Zfs,
};

use std::collections::HashMap;

use zfs_core::Key;

use crate::disk::DeviceKind;
use crate::error::LayoutError;
use crate::keys::{without_key_props, EncryptionRoot};
use crate::plan::{Plan, Step};
use crate::spec::{Topology, VdevGroup, VdevLayout};

/// A progress callback, called once per finished step.
pub type OnStep<'a> = &'a mut dyn FnMut(&StepDone<'_>);

/// A progress callback, called as each step starts, with its 1-based number and the step
/// (the steps of a batch start together).
pub type OnStart<'a> = &'a mut dyn FnMut(usize, &Step);

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
    on_start: Option<OnStart<'a>>,
    fail_at: Option<usize>,
    keys: HashMap<String, Key>,
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

    /// Called as each step starts (an installer's progress bar shows what runs now).
    pub fn on_start(mut self, f: OnStart<'a>) -> ApplyOptions<'a> {
        self.on_start = Some(f);
        self
    }

    /// The key of an encryption root whose `keylocation` is `prompt` (by full name; the pool's
    /// name for its root): used to create it, and to load it before mounting it if it is
    /// locked. Keys of `file://` locations are read from their files.
    pub fn key(mut self, encryption_root: &str, key: Key) -> ApplyOptions<'a> {
        self.keys.insert(encryption_root.to_owned(), key);
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
            .field("on_start", &self.on_start.is_some())
            .field("fail_at", &self.fail_at)
            .field("keys", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// How to take back one step.
enum Undo {
    RemoveFile(PathBuf),
    DestroyPool(String),
    ExportPool(String),
    DestroyDataset(String),
    DestroySnapshot(String),
    Unmount(String),
    /// Erase the signature a step wrote on a volume.
    Wipe {
        volume: String,
        device: PathBuf,
    },
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
    // Every key the plan needs, before anything changes.
    let keys = Keys {
        new_roots: new_root_keys(steps, &opts.keys)?,
        given: &opts.keys,
    };
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
        if let Some(cb) = opts.on_start.as_mut() {
            for (j, step) in steps.iter().enumerate().take(end.max(i + 1)).skip(i) {
                cb(j + 1, step);
            }
        }
        let result = match &steps[i..end] {
            [] => Ok(()),
            [one] => run(zfs, one, &keys, &mut undo).map_err(|e| (i, e)),
            group => create_group(zfs, group, &keys, &mut undo).map_err(|(j, e)| (i + j, e)),
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

/// The keys a run uses.
struct Keys<'k> {
    /// Of the encryption roots it creates, by name.
    new_roots: HashMap<String, Key>,
    /// Given by the caller, by name.
    given: &'k HashMap<String, Key>,
}

/// What a creation step makes an encryption root of, if anything: its name and properties.
fn new_root(step: &Step) -> Option<EncryptionRoot> {
    match step {
        Step::CreatePool {
            name,
            root_properties,
            ..
        } => EncryptionRoot::from_props(name, root_properties),
        Step::CreateDataset { name, properties }
        | Step::CreateVolume {
            name, properties, ..
        } => EncryptionRoot::from_props(name, properties),
        _ => None,
    }
}

/// The key of every encryption root `steps` create.
fn new_root_keys(
    steps: &[Step],
    given: &HashMap<String, Key>,
) -> Result<HashMap<String, Key>, LayoutError> {
    let mut out = HashMap::new();
    for step in steps {
        let props = match step {
            Step::CreatePool {
                root_properties, ..
            } => root_properties,
            Step::CreateDataset { properties, .. } | Step::CreateVolume { properties, .. } => {
                properties
            }
            _ => continue,
        };
        if let Some(root) = new_root(step) {
            let key = root.key(given, props)?;
            out.insert(root.name, key);
        }
    }
    Ok(out)
}

/// The end (exclusive) of the group of steps starting at `i`: a run of dataset creations
/// (unencrypted, or inheriting encryption), or the one step.
fn group_end(steps: &[Step], i: usize) -> usize {
    // A new encryption root is created on its own: a batch takes no keys.
    let is_create = |s: &Step| {
        matches!(s, Step::CreateDataset { .. } | Step::CreateVolume { .. }) && new_root(s).is_none()
    };
    if !is_create(&steps[i]) {
        return i + 1;
    }
    i + steps[i..].iter().take_while(|s| is_create(s)).count()
}

/// The zfs-core creation a `CreateDataset` or `CreateVolume` step stands for, if it is one
/// (a bad name is an error to report); an encryption root gets its key.
fn creation(step: &Step, keys: &Keys<'_>) -> Option<zfs_core::Result<CreateDataset>> {
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
        let key = keys.new_roots.get(name.as_str());
        let properties = match key {
            Some(_) => without_key_props(properties),
            None => properties.clone(),
        };
        for (k, v) in &properties {
            create = create.property(k, v);
        }
        match key {
            Some(key) => create.encryption(key.clone()),
            None => create,
        }
    }))
}

/// Creates the datasets of `group` (all creation steps) in one batch, all or none.
/// On failure, the index in `group` of the step to blame.
fn create_group(
    zfs: &Zfs,
    group: &[Step],
    keys: &Keys<'_>,
    undo: &mut Vec<Undo>,
) -> Result<(), (usize, zfs_core::Error)> {
    let mut batch = Vec::with_capacity(group.len());
    for (j, step) in group.iter().enumerate() {
        let create = creation(step, keys).expect("group_end groups dataset creations only");
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

fn run(zfs: &Zfs, step: &Step, keys: &Keys<'_>, undo: &mut Vec<Undo>) -> zfs_core::Result<()> {
    match step {
        Step::CreateVdevFile { path, size } => {
            create_sized(path, *size)?;
            undo.push(Undo::RemoveFile(path.clone()));
        }
        Step::CreatePool {
            name,
            topology,
            properties,
            root_properties,
            force,
            altroot,
        } => {
            let mut create =
                CreatePool::new(PoolName::new(name.as_str())?, vdev_spec(topology)).force(*force);
            if let Some(root) = altroot {
                create = create.altroot(root);
            }
            for (k, v) in properties {
                create = create.pool_property(k, v);
            }
            let key = keys.new_roots.get(name.as_str());
            let root_properties = match key {
                Some(_) => without_key_props(root_properties),
                None => root_properties.clone(),
            };
            for (k, v) in &root_properties {
                create = create.fs_property(k, v);
            }
            if let Some(key) = key {
                create = create.encryption(key.clone());
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
            creation(step, keys)
                .expect("a creation step")?
                .create(zfs)?;
            undo.push(Undo::DestroyDataset(name.clone()));
        }
        Step::FormatSwap { volume, device } => {
            let io = |e: std::io::Error| zfs_core::Error::io("mkswap", volume, &e);
            crate::filesystem::wait_for_device(device, crate::filesystem::DEVICE_WAIT)
                .map_err(io)?;
            crate::filesystem::make_swap(device).map_err(io)?;
            undo.push(Undo::Wipe {
                volume: volume.clone(),
                device: device.clone(),
            });
        }
        Step::ClearLabel { device } => {
            // Nothing to undo with: the labels are gone. The plan puts this last before the
            // pool's creation.
            zfs.labelclear(device, &zfs_core::LabelClearOptions::new().force(true))?;
        }
        Step::ImportPool {
            name,
            guid,
            dirs,
            altroot,
        } => {
            let mut opts = dirs
                .iter()
                .fold(zfs_core::ImportOptions::new(), |o, d| o.dir(d));
            if let Some(root) = altroot {
                opts = opts.altroot(root);
            }
            // By GUID: the pool the inventory found, not another of the same name.
            drop(zfs.import_pool_by_guid(*guid, &opts)?);
            undo.push(Undo::ExportPool(name.clone()));
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
            let ds = zfs.dataset(&DatasetName::new(dataset.as_str())?)?;
            unlock(zfs, &ds, keys.given)?;
            ds.mount_at_with(path, &opts)?;
            undo.push(Undo::Unmount(dataset.clone()));
        }
    }
    Ok(())
}

/// Creates the file `path` of `size` bytes (sparse), never half: it is made and sized under a
/// temporary name beside it, then linked into place, which fails if `path` exists. A run
/// killed in between leaves no `path` at all (a 0-byte vdev the next run would refuse), only
/// the temporary file, which the next run replaces.
fn create_sized(path: &Path, size: u64) -> zfs_core::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let partial = path.with_file_name(format!(".{name}.impermanence-layout-partial"));
    let _ = std::fs::remove_file(&partial);
    let made = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&partial)
        .and_then(|f| f.set_len(size))
        .and_then(|()| std::fs::hard_link(&partial, path));
    let _ = std::fs::remove_file(&partial);
    made.map_err(|e| io("create", path, &e))
}

/// Loads a locked dataset's key from the caller's keys, if they hold its encryption root's
/// (a `file://` root's key is loaded by the mount itself).
fn unlock(
    zfs: &Zfs,
    ds: &zfs_core::Dataset<'_>,
    given: &HashMap<String, Key>,
) -> zfs_core::Result<()> {
    if ds.key_status()? != zfs_core::KeyStatus::Unavailable {
        return Ok(());
    }
    let Some(root) = ds.encryption_root()? else {
        return Ok(());
    };
    match given.get(&root) {
        Some(key) => zfs
            .dataset(&DatasetName::new(root.as_str())?)?
            .load_key(key),
        None => Ok(()),
    }
}

/// The topology as zfs-core's device tree, each class in the order of
/// [`Topology::top_levels`] (the order the printed `zpool create` gives).
pub(crate) fn vdev_spec(t: &Topology) -> VdevSpec {
    let tops = |groups: &[VdevGroup]| -> Vec<TopLevel> {
        Topology::top_levels(groups)
            .into_iter()
            .map(|(mode, members)| {
                let leaves = || members.iter().map(|m| leaf(&m.path)).collect::<Vec<_>>();
                match (mode, mode.raidz_parity()) {
                    (_, Some(parity)) => TopLevel::Raidz {
                        parity,
                        devices: leaves(),
                    },
                    (VdevLayout::Mirror, None) => TopLevel::Mirror(leaves()),
                    _ => TopLevel::Single(leaf(&members[0].path)),
                }
            })
            .collect()
    };
    let mut spec = VdevSpec::new();
    for top in tops(&t.vdev) {
        spec = spec.vdev(top);
    }
    for top in tops(&t.log) {
        spec = spec.log(top);
    }
    for top in tops(&t.special) {
        spec = spec.special(top);
    }
    for top in tops(&t.dedup) {
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
        Undo::ExportPool(name) => PoolName::new(name.as_str())
            .and_then(|n| zfs.export_pool(&n, &zfs_core::ExportOptions::new())),
        Undo::DestroyDataset(name) => DatasetName::new(name.as_str())
            .and_then(|n| zfs.destroy(&n, &DestroyOptions::new().recursive(true))),
        Undo::DestroySnapshot(name) => SnapshotName::new(name.as_str())
            .and_then(|s| zfs.destroy_snapshots(&[s], &DestroySnapshotsOptions::new())),
        Undo::Unmount(ds) => DatasetName::new(ds.as_str())
            .and_then(|n| zfs.dataset(&n))
            .and_then(|d| d.unmount(&UnmountOptions::new())),
        Undo::Wipe { volume, device } => {
            crate::filesystem::wipe(device).map_err(|e| zfs_core::Error::io("wipefs", volume, &e))
        }
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

    /// The tree apply builds for classes that mix groups and single devices: each class's
    /// single devices, then its groups, as the printed `zpool create` words give them (see
    /// `a_class_mixing_mirrors_and_single_devices_prints_the_tree_apply_builds`).
    #[test]
    fn a_class_mixing_mirrors_and_single_devices_is_built_as_printed() {
        let mirror = |a: &str, b: &str| VdevGroup::new(VdevLayout::Mirror, [a, b]);
        let single = |a: &str| VdevGroup::new(VdevLayout::Stripe, [a]);
        let t = Topology::new()
            .vdev(mirror("/d/a", "/d/b"))
            .vdev(single("/d/c"))
            .log(mirror("/d/l1", "/d/l2"))
            .log(single("/d/l3"))
            .special(mirror("/d/s1", "/d/s2"))
            .special(VdevGroup::new(VdevLayout::Stripe, ["/d/s3", "/d/s4"]));
        let files = |names: &[&str]| names.iter().map(Leaf::file).collect::<Vec<_>>();
        let want = VdevSpec::new()
            .vdev(TopLevel::Single(Leaf::file("/d/c")))
            .vdev(TopLevel::Mirror(files(&["/d/a", "/d/b"])))
            .log(TopLevel::Single(Leaf::file("/d/l3")))
            .log(TopLevel::Mirror(files(&["/d/l1", "/d/l2"])))
            .special(TopLevel::Single(Leaf::file("/d/s3")))
            .special(TopLevel::Single(Leaf::file("/d/s4")))
            .special(TopLevel::Mirror(files(&["/d/s1", "/d/s2"])));
        assert_eq!(vdev_spec(&t), want);
    }

    #[test]
    fn options_show_the_fault_hook_and_whether_a_callback_is_set() {
        let shown = format!(
            "{:?}",
            ApplyOptions {
                on_step: None,
                on_start: None,
                fail_at: Some(3),
                keys: HashMap::new(),
            }
            .key("zroot/secret", Key::passphrase("never shown").unwrap())
        );
        assert_eq!(
            shown,
            "ApplyOptions { on_step: false, on_start: false, fail_at: Some(3), keys: [\"zroot/secret\"] }"
        );
    }
}
