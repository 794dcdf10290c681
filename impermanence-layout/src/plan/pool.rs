//! The pool: created on the spec's devices, imported when found exported, or settled against
//! the spec when it is there.

use std::path::Path;

use super::{Draft, Plan, Step, SET_AFTER_DATASETS, SET_AT_CREATION, SET_BY_IMPORT};
use crate::inventory::{same_meaning, ExistingPool, ExportedPool, Holds, JOURNAL};
use crate::spec::{parse_size, Spec};

/// The plan for a pool found exported: import it, then plan again against what it holds.
pub(super) fn import(spec: &Spec, found: &ExportedPool, mount_root: Option<&Path>) -> Plan {
    Plan {
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
    }
}

fn set_pool(pool: &str, property: &str, value: &str) -> Step {
    Step::SetPoolProperty {
        pool: pool.to_owned(),
        property: property.to_owned(),
        value: value.to_owned(),
    }
}

/// A new pool: the devices checked, sparse files made, old labels cleared (`--wipe`), then
/// `zpool create`, under the mount root when there is one (`-R`), so that no mountpoint of
/// the new pool is ever live on the installer's own system.
pub(super) fn create(d: &mut Draft<'_>) {
    let (spec, inv) = (d.spec, d.inv);
    let pool = &spec.pool.name;
    // Labels cleared with --wipe, right before the pool is created.
    let mut wiped = Vec::new();
    d.conflicts.extend(inv.vdev_problems.iter().cloned());
    let in_the_way: Vec<_> = inv
        .in_the_way
        .iter()
        .filter(|w| !d.makes(&w.device))
        .collect();
    for w in in_the_way {
        match (&w.holds, d.opts.wipe) {
            (_, false) => d.conflicts.push(w.refusal()),
            (Holds::PoolLabel { .. }, true) => wiped.push(Step::ClearLabel {
                device: w.device.clone(),
            }),
            // zpool's partitioning replaces the table.
            (Holds::Partitions { .. }, true) => {}
        }
    }
    let topology = spec.pool.topology();
    // What apply's `zpool create` refuses without -f, refused here, by the same check on the
    // same device tree.
    let name = zfs_core::PoolName::new(pool.as_str());
    if let (false, Ok(name)) = (spec.pool.force, name) {
        if let Err(e) = crate::apply::vdev_spec(&topology).check_replication(&name) {
            d.conflicts.push(format!(
                "pool {pool}: {}: give force = true in the spec's [pool] (or --force) to \
                 create it as zpool create -f does",
                e.message()
            ));
        }
    }
    for v in topology.devices() {
        // A partition of the spec's disks is made by the plan, or already there.
        if spec.partition_at(&v.path).is_some() {
            continue;
        }
        if !inv.existing_vdevs.contains(&v.path) {
            match v.size.as_deref().and_then(parse_size) {
                Some(size) => d.steps.push(Step::CreateVdevFile {
                    path: v.path.clone(),
                    size,
                }),
                None => d.conflicts.push(format!(
                    "device {} does not exist (give a size to create it as a sparse file)",
                    v.path.display()
                )),
            }
        }
    }
    d.steps.extend(wiped);
    let mut root = spec.pool.root_properties.clone();
    root.insert(JOURNAL.into(), "applying".into());
    d.steps.push(Step::CreatePool {
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
        altroot: d.opts.mount_root.clone(),
        enable_features: spec.pool.enable_features,
    });
    for (k, v) in &spec.pool.properties {
        if SET_AFTER_DATASETS.contains(&k.as_str()) {
            d.late.push(set_pool(pool, k, v));
        }
    }
}

/// An existing pool: its devices compared (never changed), its properties settled.
pub(super) fn settle(d: &mut Draft<'_>, state: &ExistingPool) {
    let spec = d.spec;
    let pool = &spec.pool.name;
    d.resumes = state.journal.as_deref() == Some("applying");
    // Devices are never added or moved: a pool built otherwise is the user's to change
    // (`zpool add`, `attach`).
    let want = spec.pool.topology();
    if !want.is_empty() {
        for what in crate::live_topology::differences(&want, &state.topology) {
            d.conflicts.push(format!("pool {pool}: {what}"));
        }
    }
    let mut fixes = Vec::new();
    for (k, want) in &spec.pool.properties {
        if SET_BY_IMPORT.contains(&k.as_str()) {
            continue;
        }
        match state.properties.get(k) {
            Some(have) if same_meaning(k, have, want) => {}
            have => {
                let have = have.map_or("unset", String::as_str);
                if k == "ashift" {
                    // Fixed when a vdev is made: `zpool set` would change only the property,
                    // never the disks (the inventory reads the disks').
                    d.conflicts.push(format!(
                        "pool {pool}: its disks have ashift {have}, the spec says {want}; ashift \
                         cannot change after a vdev is created (recreate the pool)"
                    ));
                } else if d.settles() {
                    if SET_AFTER_DATASETS.contains(&k.as_str()) {
                        d.late.push(set_pool(pool, k, want));
                    } else {
                        fixes.push(set_pool(pool, k, want));
                    }
                } else {
                    d.conflicts
                        .push(format!("pool {pool}: {k} is {have}, the spec says {want}"));
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
                    d.conflicts.push(format!(
                        "{pool}: {k} is {have}, the spec says {want}, and it can only be set \
                         when the pool is created"
                    ));
                } else if d.settles() {
                    fixes.push(Step::SetProperty {
                        dataset: pool.clone(),
                        property: k.clone(),
                        value: want.clone(),
                    });
                } else {
                    d.conflicts
                        .push(format!("{pool}: {k} is {have}, the spec says {want}"));
                }
            }
        }
    }
    d.steps.extend(fixes);
}
