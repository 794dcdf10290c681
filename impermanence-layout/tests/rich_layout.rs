//! A layout with every feature a real install uses at once (two data mirrors, a log and a
//! cache device, an encrypted root with a passphrase, `persist` keyed by a file, a swap
//! volume, mount options, `bootfs`) through the guarantees the guide's layout has: a fault at
//! each kind of step is undone, a run killed anywhere is completed by the next, the result
//! verifies.

mod common;

use common::*;
use impermanence_layout::{
    apply, verify, ApplyOptions, DatasetSpec, MountSpec, Topology, VdevEntry, VdevGroup, VdevLayout,
};

const PASS: &str = "correct horse battery staple";

/// The rich layout on files in the case's directory.
fn rich(tag: &str) -> Case {
    let mut case = Case::new(tag);
    let dir = case.dir.path().to_owned();
    let f = |n: &str| VdevEntry::new(dir.join(format!("{n}.img"))).size("256M");
    let spec = &mut case.spec;
    spec.pool.vdevs.clear();
    spec.pool.topology = Some(
        Topology::new()
            .vdev(VdevGroup::new(VdevLayout::Mirror, [f("a"), f("b")]))
            .vdev(VdevGroup::new(VdevLayout::Mirror, [f("c"), f("d")]))
            .log(VdevGroup::new(VdevLayout::Stripe, [f("log")]))
            .cache(f("cache")),
    );
    let pool = spec.pool.name.clone();
    spec.pool
        .properties
        .insert("bootfs".into(), format!("{pool}/root"));
    for (k, v) in [
        ("encryption", "on"),
        ("keyformat", "passphrase"),
        ("pbkdf2iters", "100000"),
    ] {
        spec.pool.root_properties.insert(k.into(), v.into());
    }
    let key_file = dir.join("persist.key");
    std::fs::write(&key_file, "ab".repeat(32)).unwrap();
    let persist = spec
        .datasets
        .iter_mut()
        .find(|d| d.name == "persist")
        .unwrap();
    for (k, v) in [
        ("encryption", "aes-256-gcm".to_owned()),
        ("keyformat", "hex".to_owned()),
        ("keylocation", format!("file://{}", key_file.display())),
    ] {
        persist.properties.insert(k.into(), v);
    }
    spec.datasets.push(
        DatasetSpec::volume("swap", "64M")
            .block_size("4K")
            .property("compression", "zle"),
    );
    spec.datasets
        .push(DatasetSpec::new("home").property("mountpoint", "legacy"));
    spec.boot.swap.push("swap".into());
    spec.boot.mounts.push(
        MountSpec::new("/home", "home")
            .option("nodev")
            .option("noatime"),
    );
    spec.validate().unwrap();
    case
}

fn passphrase() -> zfs_core::Key {
    zfs_core::Key::passphrase(PASS).unwrap()
}

/// Only the files the test wrote itself are left in the directory.
fn only_inputs_left(case: &Case) -> Vec<String> {
    let mut left: Vec<String> = std::fs::read_dir(case.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "persist.key" && n != "spec.toml")
        .collect();
    left.sort();
    left
}

#[test]
#[ignore = "needs ZFS"]
fn a_fault_at_each_kind_of_step_of_a_rich_layout_is_undone() {
    let zfs = zfs();
    let case = rich("rf");
    let fresh = case.plan(&zfs);
    assert!(fresh.steps.len() >= 15, "{:#?}", fresh.to_commands());
    let points = fault_points(&step_kinds(&fresh));
    for k in points {
        let plan = case.plan(&zfs);
        let e = apply(
            &zfs,
            &plan,
            ApplyOptions::new()
                .key(&case.spec.pool.name, passphrase())
                .fail_at(k),
        )
        .unwrap_err();
        assert_fault_undone(&e, k);
        assert!(
            !zfs.pool_exists(&case.pool()),
            "step {k}: the pool survived"
        );
        assert_eq!(only_inputs_left(&case), Vec::<String>::new(), "step {k}");
    }
    apply(
        &zfs,
        &case.plan(&zfs),
        ApplyOptions::new().key(&case.spec.pool.name, passphrase()),
    )
    .unwrap();
    assert_eq!(verify(&zfs, &case.spec).unwrap(), vec![]);
    assert!(case.plan(&zfs).is_empty());
}

#[test]
#[ignore = "needs ZFS"]
fn a_rich_layout_killed_anywhere_is_completed_by_the_next_run() {
    let zfs = zfs();
    for kill_after in [1, 5, 8, 12, 15] {
        let case = rich(&format!("rk{kill_after}x"));
        let spec = case.spec_file();
        apply_killed_after(&spec, &format!("{PASS}\n"), kill_after);
        let (code, err) = cli_stdin(&["apply", "--yes", "--spec", &spec], &format!("{PASS}\n"));
        assert_eq!(code, Some(0), "killed after step {kill_after}: {err}");
        assert_eq!(
            verify(&zfs, &case.spec).unwrap(),
            vec![],
            "killed after step {kill_after}"
        );
        assert!(case.plan(&zfs).is_empty(), "killed after step {kill_after}");
    }
}
