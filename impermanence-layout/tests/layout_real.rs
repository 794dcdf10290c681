//! The layout on the real kernel module: fresh apply, rerun, faults at each kind of step,
//! partial and conflicting layouts, an interrupted run, the CLI. Every test cleans up its pool.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

use impermanence_layout::{
    apply, verify, ApplyOptions, Inventory, LayoutError, Plan, PlanOptions, VdevEntry,
};
use zfs_core::testing::label_ashifts;
use zfs_core::{CreateDataset, CreatePool, DatasetName, VdevSpec, Zfs};

/// Pure logic, on the host too: which steps the fault loops below fail at.
#[test]
fn fault_points_are_each_kind_of_steps_first_and_last_and_one_drawn() {
    let plan = ["file", "pool", "ds", "ds", "ds", "snap", "set"];
    // The one step that is neither the first nor the last of its kind: always drawn.
    assert_eq!(fault_points_drawn(&plan, 0), [1, 2, 3, 4, 5, 6, 7]);
    let plan = ["file", "pool", "ds", "ds", "ds", "ds", "snap"];
    assert_eq!(fault_points_drawn(&plan, 0), [1, 2, 3, 4, 6, 7]);
    assert_eq!(fault_points_drawn(&plan, 1), [1, 2, 3, 5, 6, 7]);
    assert_eq!(fault_points_drawn(&plan, 7), [1, 2, 3, 5, 6, 7]);
    assert_eq!(
        fault_points_drawn(&["a", "b", "a", "b", "a"], 5),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(fault_points_drawn(&["only"], 3), [1]);
    assert_eq!(fault_points_drawn::<&str>(&[], 3), Vec::<usize>::new());
}

#[test]
#[ignore = "needs ZFS"]
fn fresh_apply_matches_the_guide_and_a_rerun_does_nothing() {
    let case = Case::new("f");
    let zfs = zfs();
    let plan = case.plan(&zfs);
    assert!(plan.conflicts.is_empty());
    apply(&zfs, &plan, ApplyOptions::new()).unwrap();
    let p = case.spec.pool.name.as_str();

    assert_eq!(verify(&zfs, &case.spec).unwrap(), []);
    let pool = zfs.pool(&case.pool()).unwrap();
    assert_eq!(pool.property("ashift").unwrap().value, "12");
    // The disk itself, as OpenZFS's own tool reads its labels (not the pool property).
    assert_eq!(
        label_ashifts(&case.vdev()),
        [12],
        "zdb -l {}",
        case.vdev().display()
    );
    assert_eq!(pool.property("autotrim").unwrap().value, "on");
    for (prop, want) in [
        ("compression", "zstd"),
        ("acltype", "posix"),
        ("atime", "off"),
        ("normalization", "formD"),
        ("mountpoint", "none"),
    ] {
        assert_eq!(zfs_get(p, prop).0, want, "{prop}");
    }
    assert!(matches!(zfs_get(p, "xattr").0.as_str(), "sa" | "on"));
    for d in ["root", "nix", "tmp", "cache", "persist"] {
        assert_eq!(
            zfs_get(&format!("{p}/{d}"), "mountpoint"),
            ("legacy".into(), "local".into()),
            "{d}"
        );
        assert_eq!(zfs_get(&format!("{p}/{d}"), "type").0, "filesystem");
    }
    assert_eq!(zfs_get(&format!("{p}/persist@blank"), "type").0, "snapshot");
    assert_eq!(zfs_get(p, "impermanence-layout:state").0, "complete");

    let again = case.plan(&zfs);
    assert!(
        again.is_empty(),
        "a rerun would do: {:?}",
        again.to_commands()
    );
}

#[test]
#[ignore = "needs ZFS"]
fn a_fault_at_each_kind_of_step_leaves_the_system_as_it_was() {
    let case = Case::new("k");
    let zfs = zfs();
    let fresh = case.plan(&zfs);
    assert!(fresh.steps.len() >= 9);
    let points = fault_points(&step_kinds(&fresh));
    for k in points {
        let plan = case.plan(&zfs);
        let e = apply(&zfs, &plan, ApplyOptions::new().fail_at(k)).unwrap_err();
        assert_fault_undone(&e, k);
        assert!(
            !zfs.pool_exists(&case.pool()),
            "step {k}: the pool survived"
        );
        assert!(!case.vdev().exists(), "step {k}: the vdev file survived");
    }
    // And in a pool that existed before, with a dataset of its own: faults remove only what
    // the run made.
    case.guide_pool(&zfs, "on");
    let p = case.spec.pool.name.clone();
    CreateDataset::filesystem(DatasetName::new(format!("{p}/nix")).unwrap())
        .property("mountpoint", "legacy")
        .create(&zfs)
        .unwrap();
    CreateDataset::filesystem(DatasetName::new(format!("{p}/mine")).unwrap())
        .create(&zfs)
        .unwrap();
    let before = everything(&zfs, &p);
    let before_state = zfs_get(&p, "impermanence-layout:state");
    let points = fault_points(&step_kinds(&case.plan(&zfs)));
    for k in points {
        let plan = case.plan(&zfs);
        apply(&zfs, &plan, ApplyOptions::new().fail_at(k)).unwrap_err();
        assert_eq!(everything(&zfs, &p), before, "step {k} left changes behind");
        assert_eq!(
            zfs_get(&p, "impermanence-layout:state"),
            before_state,
            "step {k}: journal not restored"
        );
    }
    apply(&zfs, &case.plan(&zfs), ApplyOptions::new()).unwrap();
    assert_eq!(verify(&zfs, &case.spec).unwrap(), []);
    assert!(
        zfs.exists(&zfs_core::DatasetName::new(format!("{p}/mine")).unwrap()),
        "apply touched a dataset outside the spec"
    );
}

#[test]
#[ignore = "needs ZFS"]
fn a_pool_whose_disks_disagree_with_its_ashift_property_is_a_conflict() {
    // What the guide's pool looked like before ashift reached the leaves: disks at 9, the
    // property at 12, `zpool get ashift` saying 12.
    let case = Case::new("a");
    let zfs = zfs();
    case.make_vdev();
    let p = case.spec.pool.name.clone();
    let vdev = case.vdev();
    let out = Command::new("zpool")
        .args([
            "create",
            "-o",
            "ashift=9",
            "-o",
            "cachefile=none",
            "-m",
            "none",
            &p,
        ])
        .arg(&vdev)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("zpool")
        .args(["set", "ashift=12", &p])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(label_ashifts(&vdev), [9]);
    for adopt in [false, true] {
        let plan = Plan::new(
            &case.spec,
            &Inventory::read(&zfs, &case.spec).unwrap(),
            &PlanOptions::new().adopt(adopt),
        );
        let all = plan.conflicts.join("\n");
        assert!(all.contains("disks have ashift 9"), "adopt={adopt}: {all}");
    }
    let differences = verify(&zfs, &case.spec).unwrap();
    assert!(
        differences.iter().any(|d| d.what.contains("ashift is 9")),
        "{differences:?}"
    );
}

#[test]
#[ignore = "needs ZFS"]
fn conflicting_layouts_are_refused_with_nothing_changed() {
    let case = Case::new("c");
    let zfs = zfs();
    case.make_vdev();
    CreatePool::new(case.pool(), VdevSpec::new().file(case.vdev()))
        .pool_property("cachefile", "none")
        .fs_property("compression", "lz4")
        .mountpoint("none")
        .create(&zfs)
        .unwrap();
    let p = case.spec.pool.name.clone();
    CreateDataset::filesystem(DatasetName::new(format!("{p}/persist")).unwrap())
        .property("mountpoint", "legacy")
        .create(&zfs)
        .unwrap();
    let before = everything(&zfs, &p);
    let plan = case.plan(&zfs);
    let all = plan.conflicts.join("\n");
    assert!(all.contains("compression is lz4"), "{all}");
    assert!(all.contains("normalization"), "{all}");
    let e = apply(&zfs, &plan, ApplyOptions::new()).unwrap_err();
    assert!(matches!(e, LayoutError::Conflict(_)), "{e}");
    assert_eq!(e.exit_code(), 1);
    assert_eq!(everything(&zfs, &p), before);
    assert_eq!(zfs_get(&p, "compression").0, "lz4");
}

#[test]
#[ignore = "needs ZFS"]
fn a_run_interrupted_after_each_kind_of_step_is_completed_by_the_next() {
    let case = Case::new("i");
    let zfs = zfs();
    let full = case.plan(&zfs);
    // Stop after step k (as a kill between steps would), then run again: at the fault loops'
    // points (`fault_points`), from the pool's creation on (before it, nothing is there to
    // resume), short of the whole plan.
    let points: Vec<usize> = fault_points(&step_kinds(&full))
        .into_iter()
        .filter(|k| (2..full.steps.len()).contains(k))
        .collect();
    for k in points {
        let mut partial = case.plan(&zfs);
        partial.steps.truncate(k);
        apply(&zfs, &partial, ApplyOptions::new()).unwrap();
        let next = case.plan(&zfs);
        assert!(
            next.conflicts.is_empty(),
            "after {k} steps: {:?}",
            next.conflicts
        );
        assert!(
            next.resumes,
            "after {k} steps the journal should say applying"
        );
        assert!(!next
            .steps
            .iter()
            .any(|s| matches!(s, impermanence_layout::Step::CreatePool { .. })));
        apply(&zfs, &next, ApplyOptions::new()).unwrap();
        assert_eq!(
            verify(&zfs, &case.spec).unwrap(),
            [],
            "after resuming from step {k}"
        );
        zfs.destroy_pool(&case.pool()).unwrap();
        std::fs::remove_file(case.vdev()).unwrap();
    }
}

#[test]
#[ignore = "needs ZFS"]
fn the_cli_applies_verifies_mounts_and_exits_with_the_right_codes() {
    let case = Case::new("cli");
    let spec_file = case.spec_file();
    let spec = spec_file.as_str();
    let mnt = case.dir.path().join("mnt");
    let mnt_s = mnt.to_str().unwrap();

    let (code, _, err) = cli(&["verify", "--spec", spec]);
    assert_eq!(code, 1, "{err}");
    let (code, out, err) = cli(&["apply", "--spec", spec]);
    assert_eq!(
        code, 1,
        "apply without --yes and without a terminal must refuse: {out}{err}"
    );
    assert!(!Zfs::open().unwrap().pool_exists(&case.pool()));

    let (code, out, err) = cli(&["apply", "--yes", "--spec", spec, "--mount-root", mnt_s]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("[1/") && out.contains("s)"),
        "progress lines with durations: {out}"
    );
    for sub in ["", "nix", "tmp", "cache", "persist"] {
        let at = mnt.join(sub);
        let src = Command::new("findmnt")
            .args(["-n", "-o", "SOURCE", at.to_str().unwrap()])
            .output()
            .unwrap();
        let want = if sub.is_empty() { "root" } else { sub };
        assert!(
            String::from_utf8_lossy(&src.stdout)
                .contains(&format!("{}/{want}", case.spec.pool.name)),
            "{} not mounted",
            at.display()
        );
    }
    let (code, out, _) = cli(&["verify", "--spec", spec]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("matches the spec"));
    let (code, out, _) = cli(&["apply", "--yes", "--spec", spec]);
    assert_eq!(
        (code, out.trim()),
        (0, "nothing to do: the layout is already in place")
    );
    let (code, out, _) = cli(&["plan", "--json", "--spec", spec]);
    assert_eq!(code, 0);
    assert!(out.contains("\"steps\": []"), "{out}");

    // Unmount (deepest first) so the pool can go.
    for sub in ["persist", "cache", "tmp", "nix", ""] {
        let _ = Command::new("umount").arg(mnt.join(sub)).status();
    }

    // Bad usage and bad specs: exit 2, a message that says what to do.
    // The guide's layout with no devices: a pool name no other test uses (an existing pool
    // of that name would be taken over instead; `zroot` is another test binary's).
    let nameless = format!("{}nodev", case.spec.pool.name);
    let (code, _, err) = cli(&["apply", "--yes", "--pool", &nameless]);
    assert_eq!(code, 2);
    assert!(err.contains("no devices"), "{err}");
    let bad = case.dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[pool]\nname = \"mirror\"\nvdevs = [{ path = \"rel.img\" }]\n",
    )
    .unwrap();
    let (code, _, err) = cli(&["plan", "--spec", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("pool name 'mirror'") && err.contains("absolute"),
        "{err}"
    );
    let (code, _, _) = cli(&["frobnicate"]);
    assert_eq!(code, 2);
    // A failure injected mid-apply through the CLI: exit 1, nothing left.
    let other = Case::new("clf");
    let (code, _, err) = cli_env(
        &[
            "apply",
            "--yes",
            "--pool",
            &other.spec.pool.name,
            "--vdev",
            other.vdev().to_str().unwrap(),
            "--vdev-size",
            "512M",
        ],
        &[("IMPERMANENCE_LAYOUT_FAIL_AT", "5")],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("step 5 failed") && err.contains("the system is as it was"),
        "{err}"
    );
    assert!(!Zfs::open().unwrap().pool_exists(&other.pool()));
    assert!(!Path::new(&other.vdev()).exists());
}

#[test]
#[ignore = "needs ZFS"]
fn a_killed_apply_is_completed_by_the_next_run() {
    let zfs = zfs();
    for kill_after in [1, 3, 6, 8] {
        let case = Case::new(&format!("kill{kill_after}x"));
        let spec_file = case.spec_file();
        apply_killed_after(&spec_file, "", kill_after);
        let next = case.plan(&zfs);
        assert!(
            next.conflicts.is_empty(),
            "killed after step {kill_after}: {:?}",
            next.conflicts
        );
        if zfs.pool_exists(&case.pool()) {
            assert!(
                next.resumes,
                "killed after step {kill_after}: the journal should say applying"
            );
            assert!(!next
                .steps
                .iter()
                .any(|s| matches!(s, impermanence_layout::Step::CreatePool { .. })));
        }
        apply(&zfs, &next, ApplyOptions::new()).unwrap();
        assert_eq!(
            verify(&zfs, &case.spec).unwrap(),
            [],
            "killed after step {kill_after}"
        );
    }
}

#[test]
#[ignore = "needs ZFS"]
fn bad_vdevs_are_refused_by_the_cli_with_nothing_changed() {
    let zfs = zfs();
    // An existing file under 64 MiB.
    let case = Case::new("small");
    let small = case.vdev();
    std::fs::File::create(&small)
        .unwrap()
        .set_len(10 << 20)
        .unwrap();
    let args = |vdev: &Path, pool: &str| -> Vec<String> {
        [
            "apply",
            "--yes",
            "--pool",
            pool,
            "--vdev",
            vdev.to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec()
    };
    let run = |a: Vec<String>| cli(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let (code, out, err) = run(args(&small, &case.spec.pool.name));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("64 MiB") && err.contains("truncate"), "{err}");
    assert!(!zfs.pool_exists(&case.pool()));
    assert_eq!(std::fs::metadata(&small).unwrap().len(), 10 << 20);

    // A file that is the vdev of another (imported) pool, then of an exported one.
    let owner = Case::new("owner");
    let used = owner.vdev();
    std::fs::File::create(&used)
        .unwrap()
        .set_len(256 << 20)
        .unwrap();
    let pool = CreatePool::new(owner.pool(), VdevSpec::new().file(&used))
        .pool_property("cachefile", "none")
        .create(&zfs)
        .unwrap();
    let before = everything(&zfs, &owner.spec.pool.name);
    let victim = Case::new("victim");
    for state in ["active", "exported"] {
        let (code, out, err) = run(args(&used, &victim.spec.pool.name));
        assert_eq!(code, 1, "{state}: {out}{err}");
        assert!(
            err.contains(&format!(
                "belongs to {state} pool '{}'",
                owner.spec.pool.name
            )),
            "{state}: {err}"
        );
        assert!(!zfs.pool_exists(&victim.pool()), "{state}");
        if state == "active" {
            assert_eq!(everything(&zfs, &owner.spec.pool.name), before);
            zfs.export_pool(&owner.pool(), &zfs_core::ExportOptions::new())
                .unwrap();
        }
    }
    drop(pool);
    // The owner is intact: it imports with everything it had.
    zfs.import_pool(
        &owner.pool(),
        &zfs_core::ImportOptions::new().dir(owner.dir.path()),
    )
    .unwrap();
    assert_eq!(everything(&zfs, &owner.spec.pool.name), before);
}

#[test]
#[ignore = "needs ZFS"]
fn two_applies_at_once_end_with_one_layout_and_one_clean_refusal() {
    let case = Case::new("twice");
    let spec = case.spec_file();
    for round in 0..3 {
        let start = || {
            Command::new(env!("CARGO_BIN_EXE_impermanence-layout"))
                .args(["apply", "--yes", "--spec", &spec])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (start(), start());
        let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
        let codes: Vec<i32> = outs.iter().map(|o| o.status.code().unwrap()).collect();
        let text: Vec<String> = outs
            .iter()
            .map(|o| {
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                )
            })
            .collect();
        if round == 0 {
            // Exactly one built it; the other was refused cleanly or found nothing to do.
            let built = text.iter().filter(|t| t.contains("done: ")).count();
            assert_eq!(built, 1, "{text:#?}");
            for (c, t) in codes.iter().zip(&text) {
                assert!(
                    (*c == 0 && (t.contains("done: ") || t.contains("nothing to do")))
                        || (*c == 1
                            && t.contains("is running")
                            && t.contains("nothing was changed")),
                    "exit {c}: {t}"
                );
            }
        } else {
            // On a finished layout both have nothing to do (or one waits its turn).
            for (c, t) in codes.iter().zip(&text) {
                assert!(
                    (*c == 0 && t.contains("nothing to do"))
                        || (*c == 1 && t.contains("is running")),
                    "exit {c}: {t}"
                );
            }
        }
        let zfs = zfs();
        assert!(
            verify(&zfs, &case.spec).unwrap().is_empty(),
            "round {round}: the layout is whole"
        );
    }
}

#[test]
#[ignore = "needs ZFS"]
fn mirror_and_raidz_layouts_are_laid_down_as_zpool_status_shows() {
    for (layout, devices, top) in [
        (impermanence_layout::VdevLayout::Mirror, 2, "mirror-0"),
        (impermanence_layout::VdevLayout::Raidz1, 3, "raidz1-0"),
    ] {
        let mut case = Case::new("r");
        case.spec.pool.layout = layout;
        case.spec.pool.vdevs = (0..devices)
            .map(|i| VdevEntry::new(case.dir.path().join(format!("d{i}.img"))).size("256M"))
            .collect();
        let zfs = zfs();
        apply(&zfs, &case.plan(&zfs), ApplyOptions::new()).unwrap();
        let status = zfs.pool(&case.pool()).unwrap().status().unwrap();
        assert_eq!(status.root.children.len(), 1);
        assert_eq!(status.root.children[0].name, top);
        assert_eq!(status.root.children[0].children.len(), devices);
        assert_eq!(status.root.children[0].ashift, Some(12));
        let cli = Command::new("zpool")
            .args(["status", &case.spec.pool.name])
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&cli.stdout).contains(top));
        assert_eq!(verify(&zfs, &case.spec).unwrap(), []);
    }
}

#[test]
#[ignore = "needs ZFS"]
fn adopting_sets_a_pool_property_and_a_later_fault_restores_it() {
    let case = Case::new("p");
    let zfs = zfs();
    case.guide_pool(&zfs, "off");
    let p = case.spec.pool.name.clone();
    let autotrim = || {
        let out = Command::new("zpool")
            .args(["get", "-Hp", "-o", "value", "autotrim", &p])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let plan = |adopt| {
        Plan::new(
            &case.spec,
            &Inventory::read(&zfs, &case.spec).unwrap(),
            &PlanOptions::new().adopt(adopt),
        )
    };
    assert!(plan(false)
        .conflicts
        .iter()
        .any(|c| c.contains("autotrim is off")));
    let adopted = plan(true);
    assert!(adopted.conflicts.is_empty(), "{:?}", adopted.conflicts);
    let steps = adopted.steps.len();
    let e = apply(&zfs, &adopted, ApplyOptions::new().fail_at(steps)).unwrap_err();
    assert!(matches!(e, LayoutError::Step { .. }), "{e}");
    assert_eq!(
        autotrim(),
        "off",
        "the fault's undo restores the pool property"
    );
    apply(&zfs, &plan(true), ApplyOptions::new()).unwrap();
    assert_eq!(autotrim(), "on");
    assert_eq!(verify(&zfs, &case.spec).unwrap(), []);
}

#[test]
#[ignore = "needs ZFS"]
fn a_vdev_file_that_cannot_be_made_fails_the_first_step_with_nothing_made() {
    let mut case = Case::new("m");
    let missing = case.dir.path().join("no/such/dir/zroot.img");
    case.spec.pool.vdevs[0].path = missing.clone();
    let zfs = zfs();
    let e = apply(&zfs, &case.plan(&zfs), ApplyOptions::new()).unwrap_err();
    match &e {
        LayoutError::Step { index, source, .. } => {
            assert_eq!(*index, 1, "{e}");
            assert_eq!(source.kind(), zfs_core::ErrorKind::NotFound, "{e}");
        }
        other => panic!("unexpected {other}"),
    }
    assert!(!missing.exists());
    assert!(!zfs.pool_exists(&case.pool()));
}
