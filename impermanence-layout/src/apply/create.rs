//! Dataset and volume creations, run as one batch where they follow each other, and the keys
//! of the encryption roots a run creates.

use std::collections::HashMap;

use zfs_core::{CreateDataset, DatasetName, Key, Zfs};

use super::undo::Undo;
use crate::error::LayoutError;
use crate::keys::{without_key_props, EncryptionRoot};
use crate::plan::Step;

/// The keys a run uses.
pub(super) struct Keys<'k> {
    /// Of the encryption roots it creates, by name.
    pub(super) new_roots: HashMap<String, Key>,
    /// Given by the caller, by name.
    pub(super) given: &'k HashMap<String, Key>,
}

/// What a creation step makes an encryption root of, if anything: its name and properties.
pub(super) fn new_root(step: &Step) -> Option<EncryptionRoot> {
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
pub(super) fn new_root_keys(
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
pub(super) fn group_end(steps: &[Step], i: usize) -> usize {
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
pub(super) fn creation(step: &Step, keys: &Keys<'_>) -> Option<zfs_core::Result<CreateDataset>> {
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
pub(super) fn create_group(
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
