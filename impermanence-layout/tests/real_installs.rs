//! What a real install describes beyond the guide's single disk, on the real kernel module:
//! `bootfs`, reading an installed pool without naming its devices. Every test cleans up.

mod common;

use common::*;
use impermanence_layout::{apply, verify, ApplyOptions, Step};

/// `bootfs` names a dataset, so `zpool create` refuses it: the plan sets it once the datasets
/// exist, a fault after it restores the pool as it was, and `zpool get` agrees.
#[test]
#[ignore = "needs ZFS"]
fn bootfs_is_set_after_the_datasets_exist() {
    let zfs = zfs();
    let mut case = Case::new("bfs");
    let pool = case.spec.pool.name.clone();
    case.spec
        .pool
        .properties
        .insert("bootfs".into(), format!("{pool}/root"));
    case.spec.validate().unwrap();
    let plan = case.plan(&zfs);
    let at = |pred: &dyn Fn(&Step) -> bool| plan.steps.iter().position(pred).unwrap();
    let bootfs =
        at(&|s| matches!(s, Step::SetPoolProperty { property, .. } if property == "bootfs"));
    let root = at(&|s| matches!(s, Step::CreateDataset { name, .. } if name.ends_with("/root")));
    assert!(bootfs > root, "{:#?}", plan.to_commands());
    assert!(
        !plan.to_commands()[1].contains("bootfs"),
        "zpool create -o bootfs is refused by libzfs: {}",
        plan.to_commands()[1]
    );
    apply(&zfs, &plan, ApplyOptions::new()).unwrap();
    assert_eq!(zpool_get(&pool, "bootfs"), format!("{pool}/root"));
    assert_eq!(verify(&zfs, &case.spec).unwrap(), vec![]);

    // Changing it on the installed pool (adopt) and failing afterwards puts the old one back.
    case.spec
        .datasets
        .push(impermanence_layout::DatasetSpec::new("root2"));
    case.spec
        .pool
        .properties
        .insert("bootfs".into(), format!("{pool}/root2"));
    let inv = impermanence_layout::Inventory::read(&zfs, &case.spec).unwrap();
    let plan = impermanence_layout::Plan::new(
        &case.spec,
        &inv,
        &impermanence_layout::PlanOptions::new().adopt(true),
    );
    let last = plan.steps.len();
    let e = apply(&zfs, &plan, ApplyOptions::new().fail_at(last)).unwrap_err();
    assert!(e.to_string().contains("as it was"), "{e}");
    assert_eq!(zpool_get(&pool, "bootfs"), format!("{pool}/root"));
    apply(&zfs, &plan, ApplyOptions::new()).unwrap();
    assert_eq!(zpool_get(&pool, "bootfs"), format!("{pool}/root2"));
}

/// On an installed system the pool exists and nobody remembers its devices: `verify` and
/// `plan` read the pool and need no `--vdev`.
#[test]
#[ignore = "needs ZFS"]
fn verify_and_plan_of_an_installed_pool_need_no_devices() {
    let case = Case::new("inst");
    let spec_file = case.spec_file();
    let (code, out, err) = cli(&["apply", "--yes", "--spec", &spec_file]);
    assert_eq!(code, 0, "{out}{err}");
    let pool = case.spec.pool.name.as_str();
    let (code, out, err) = cli(&["verify", "--pool", pool]);
    assert_eq!(
        (code, out.trim()),
        (0, &*format!("{pool}: the layout matches the spec")),
        "{err}"
    );
    let (code, out, err) = cli(&["plan", "--pool", pool]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("nothing to do"), "{out}");
    let (code, out, err) = cli(&["apply", "--yes", "--pool", pool]);
    assert_eq!(
        (code, out.trim()),
        (0, "nothing to do: the layout is already in place"),
        "{err}"
    );
    // A pool that does not exist still needs them, and says so.
    let (code, _, err) = cli(&["plan", "--pool", "nosuchpool"]);
    assert_eq!(code, 2);
    assert!(err.contains("no devices"), "{err}");
}
