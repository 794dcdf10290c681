//! A spec with several pools: each pool planned on its own one-pool view of the spec
//! ([`Spec::pool_specs`]), the plans put together into one, so that one apply lays down all of
//! them or, when a step fails, undoes all of them.
//!
//! The order: every existing pool marked `applying` first; then each pool's own steps in the
//! spec's order (the disks' partition tables and filesystems, which every view plans alike,
//! once, with the first); then every mount of every pool, parents first across the pools (a
//! boot pool's `/boot` inside the root pool's `/`); then every pool marked `complete`.

use super::{depth, Plan, PlanOptions, Step};
use crate::inventory::{Inventory, JOURNAL};
use crate::spec::Spec;

pub(super) fn plan(spec: &Spec, inv: &Inventory, opts: &PlanOptions) -> Plan {
    let nothing = Inventory::default();
    let invs = inv.per_pool();
    let plans: Vec<Plan> = spec
        .pool_specs()
        .iter()
        .enumerate()
        .map(|(i, view)| Plan::one(view, invs.get(i).copied().unwrap_or(&nothing), opts))
        .collect();
    let mut conflicts: Vec<String> = Vec::new();
    for c in plans.iter().flat_map(|p| &p.conflicts) {
        if !conflicts.contains(c) {
            conflicts.push(c.clone());
        }
    }
    if plans.iter().any(|p| p.replan_after) {
        // Exported pools are imported first; the rest is planned once they can be read.
        return Plan {
            steps: plans
                .into_iter()
                .filter(|p| p.replan_after)
                .flat_map(|p| p.steps)
                .collect(),
            conflicts,
            resumes: false,
            replan_after: true,
            unlocks: Vec::new(),
        };
    }
    let resumes = plans.iter().any(|p| p.resumes);
    let mut unlocks: Vec<crate::EncryptionRoot> = Vec::new();
    let (mut first, mut body, mut mounts, mut last) = (vec![], vec![], vec![], vec![]);
    for p in plans {
        for r in p.unlocks {
            if !unlocks.contains(&r) {
                unlocks.push(r);
            }
        }
        for step in p.steps {
            match &step {
                Step::SetProperty {
                    property, value, ..
                } if property == JOURNAL => match value.as_str() {
                    "applying" => first.push(step),
                    _ => last.push(step),
                },
                Step::Mount { .. } | Step::MountDevice { .. } => {
                    if !mounts.contains(&step) {
                        mounts.push(step);
                    }
                }
                // The spec's disks are every view's: planned alike by each, done once.
                Step::PartitionDisk { .. } | Step::Format { .. } if body.contains(&step) => {}
                _ => body.push(step),
            }
        }
    }
    mounts.sort_by_key(|m| match m {
        Step::Mount { path, .. } | Step::MountDevice { path, .. } => {
            depth(&path.display().to_string())
        }
        _ => 0,
    });
    Plan {
        steps: first
            .into_iter()
            .chain(body)
            .chain(mounts)
            .chain(last)
            .collect(),
        conflicts,
        resumes,
        replan_after: false,
        unlocks,
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::spec::pools::tests::boot_and_root;
    use crate::test_support::finished;

    #[test]
    fn pools_are_made_in_order_and_mounted_parents_first_across_them() {
        let spec = boot_and_root();
        let plan = Plan::new(
            &spec,
            &Inventory::default(),
            &PlanOptions::new().mount_root("/mnt"),
        );
        assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
        let made: Vec<String> = plan
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::CreatePool { name, altroot, .. } => {
                    assert_eq!(altroot.as_deref(), Some(std::path::Path::new("/mnt")));
                    Some(format!("pool {name}"))
                }
                Step::CreateDataset { name, .. } => Some(name.clone()),
                Step::Snapshot { name } => Some(name.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            made,
            [
                "pool bpool",
                "bpool/boot",
                "pool rpool",
                "rpool/root",
                "rpool/root/home",
                "rpool/root@blank"
            ]
        );
        let mounts: Vec<(String, PathBuf)> = plan
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Mount { dataset, path, .. } => Some((dataset.clone(), path.clone())),
                _ => None,
            })
            .collect();
        let at = |d: &str, p: &str| (d.to_owned(), PathBuf::from(p));
        assert_eq!(
            mounts,
            [
                at("rpool/root", "/mnt"),
                at("bpool/boot", "/mnt/boot"),
                at("rpool/root/home", "/mnt/home")
            ]
        );
        // Both marked complete, after everything else.
        let n = plan.steps.len();
        for (step, pool) in plan.steps[n - 2..].iter().zip(["bpool", "rpool"]) {
            assert!(
                matches!(step, Step::SetProperty { dataset, property, value }
                    if dataset == pool && property == JOURNAL && value == "complete"),
                "{step:?}"
            );
        }
    }

    #[test]
    fn pools_in_place_need_nothing_and_one_exported_is_imported_first() {
        let spec = boot_and_root();
        let views = spec.pool_specs();
        let mut inv = finished(&views[0]);
        inv.more_pools.push(finished(&views[1]));
        assert!(Plan::new(&spec, &inv, &PlanOptions::new()).is_empty());
        // rpool exported, bpool in place: only the import, then a plan of both.
        let mut inv = finished(&views[0]);
        inv.more_pools.push(Inventory {
            exported: Some(crate::ExportedPool {
                guid: 7,
                dirs: Vec::new(),
            }),
            ..Inventory::default()
        });
        let plan = Plan::new(&spec, &inv, &PlanOptions::new());
        assert!(plan.replan_after);
        assert!(
            matches!(&plan.steps[..], [Step::ImportPool { name, guid: 7, .. }] if name == "rpool"),
            "{:?}",
            plan.steps
        );
    }
}
