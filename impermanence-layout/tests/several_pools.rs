//! Two pools in one spec on the real module, on file vdevs: a fault injected at each kind of
//! step of the one plan (through the CLI at three steps, the library at the rest) takes both back
//! (no pool, no vdev file, nothing mounted, as `zpool list`, the file system and findmnt see
//! it), and a run killed between or inside the pools is completed by the next, `verify` then
//! clean and `zpool list` showing both.

mod common;

use common::*;
use impermanence_layout::{
    apply, ApplyOptions, DatasetSpec, Inventory, MountSpec, Plan, PlanOptions, Spec, VdevEntry,
};

/// Destroys the second pool, whatever happens (the `Case` destroys the first).
struct Second(String);

impl Drop for Second {
    fn drop(&mut self) {
        let _ = zfs_core::testing::zpool(&["destroy", "-f", &self.0]);
    }
}

/// The guide's layout (pool `zr<tag><pid>`), and a second pool `<that>d` with a filesystem at
/// `/srv` and its child, a legacy dataset mounted at `/var/log` (a boot mount naming the
/// second pool), and a snapshot.
fn two_pools(tag: &str) -> (Case, Second) {
    let mut case = Case::new(tag);
    let name = format!("{}d", case.spec.pool.name);
    let data = Spec::builder(&name)
        .topology(
            impermanence_layout::Topology::new().vdev(impermanence_layout::VdevGroup::new(
                impermanence_layout::VdevLayout::Stripe,
                [VdevEntry::new(case.dir.path().join("data.img")).size("256M")],
            )),
        )
        .pool_property("cachefile", "none")
        .root_property("mountpoint", "none")
        .dataset(DatasetSpec::new("srv").property("mountpoint", "/srv"))
        .dataset(DatasetSpec::new("srv/www"))
        .dataset(DatasetSpec::new("logs").property("mountpoint", "legacy"))
        .mount(MountSpec::new("/var/log", "logs"))
        .snapshot("srv", "blank")
        .build()
        .unwrap();
    case.spec.add_pool(data).unwrap();
    (case, Second(name))
}

fn pools_listed() -> String {
    cli_out("zpool", &["list", "-H", "-o", "name"])
}

/// The plan's steps, as `plan --json` gives them.
fn steps(args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["plan", "--json"];
    all.extend_from_slice(args);
    let (code, json, err) = cli(&all);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["steps"].as_array().unwrap().clone()
}

#[test]
#[ignore = "needs ZFS"]
fn a_fault_at_each_kind_of_step_of_two_pools_takes_both_back() {
    let (case, second) = two_pools("spf");
    let first = case.spec.pool.name.clone();
    let spec = case.spec_file();
    let mnt = case.dir.path().join("mnt");
    let mnt_s = mnt.to_str().unwrap();
    let args = ["--spec", spec.as_str(), "--mount-root", mnt_s];
    let all = steps(&args);
    let n = all.len();
    let last_of = |pool: &str| {
        all.iter()
            .rposition(|s| s.to_string().contains(&format!("\"{pool}")))
            .unwrap()
    };
    assert!(
        last_of(&second.0) > last_of(&format!("{first}/")),
        "one plan for both"
    );
    // Through the CLI where the run starts, where the second pool's part starts and at the
    // last step (its exit code and message); through the library at the other points, the
    // same plan and the same undo: a process start per step was most of this test's time
    // under emulation.
    let second_starts = all
        .iter()
        .position(|s| s.to_string().contains(&format!("\"{}", second.0)))
        .unwrap()
        + 1;
    let through_cli = [1, second_starts, n];
    // And through the library at each other kind of step's first and last occurrence.
    let mut points = fault_points(&json_step_kinds(&all));
    points.extend(through_cli);
    points.sort_unstable();
    points.dedup();
    let zfs = zfs();
    let options = PlanOptions::new().mount_root(&mnt);
    for k in points {
        if through_cli.contains(&k) {
            let (code, out, err) = cli_env(
                &["apply", "--yes", "--spec", &spec, "--mount-root", mnt_s],
                &[("IMPERMANENCE_LAYOUT_FAIL_AT", &k.to_string())],
            );
            assert_eq!(code, 1, "fault at {k}: {out}{err}");
            assert!(!err.contains("undoing it failed"), "fault at {k}: {err}");
        } else {
            let inventory = Inventory::read(&zfs, &case.spec).unwrap();
            let plan = Plan::new(&case.spec, &inventory, &options);
            assert_eq!(plan.steps.len(), n, "fault at {k}: the CLI's plan");
            let e = apply(&zfs, &plan, ApplyOptions::new().fail_at(k)).unwrap_err();
            assert_fault_undone(&e, k);
        }
        let listed = pools_listed();
        assert!(
            !listed.lines().any(|l| l == first || l == second.0),
            "fault at {k} of {n}: {listed}"
        );
        for file in ["zroot.img", "data.img"] {
            assert!(
                !case.dir.path().join(file).exists(),
                "fault at {k}: {file} is left"
            );
        }
        assert!(
            mounts_under(&mnt).is_empty(),
            "fault at {k}: {:?}",
            mounts_under(&mnt)
        );
    }
    let (code, out, err) = cli(&["apply", "--yes", "--spec", &spec, "--mount-root", mnt_s]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out.trim_end().lines().last(),
        Some(&*format!("done: {n} steps"))
    );
    let (code, out, err) = cli(&["verify", "--spec", &spec]);
    assert_eq!(code, 0, "{out}{err}");
    // Mounted across the pools, parents first: the first pool's root at the mount root, the
    // second's filesystems and its legacy dataset inside it.
    let mounted = mounts_under(&mnt);
    let at = |p: &str| mounted.iter().position(|m| *m == format!("{mnt_s}{p}"));
    assert_eq!(at(""), Some(0), "{mounted:?}");
    for p in ["/srv", "/srv/www", "/var/log", "/nix", "/persist"] {
        assert!(at(p).is_some(), "{p} in {mounted:?}");
    }
    let snaps = cli_out(
        "zfs",
        &[
            "list", "-H", "-t", "snapshot", "-o", "name", "-r", &second.0,
        ],
    );
    assert_eq!(snaps.trim(), format!("{}/srv@blank", second.0));
    let (code, out, err) = cli(&["unmount", "--spec", &spec]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(mounts_under(&mnt).is_empty(), "{:?}", mounts_under(&mnt));
}

#[test]
#[ignore = "needs ZFS"]
fn a_run_killed_between_or_inside_the_pools_is_completed_by_the_next() {
    let (case, second) = two_pools("spk");
    let first = case.spec.pool.name.clone();
    let spec = case.spec_file();
    let all = steps(&["--spec", spec.as_str()]);
    let n = all.len();
    // Right after each pool is created, right after the first pool's last step, and before
    // the last step.
    let mut points: Vec<usize> = all
        .iter()
        .enumerate()
        .filter(|(_, s)| s["step"] == "create_pool")
        .map(|(i, _)| i + 1)
        .collect();
    let before_second = all
        .iter()
        .position(|s| s["step"] == "create_vdev_file" && s.to_string().contains("data.img"))
        .unwrap();
    points.extend([before_second, n - 1]);
    for k in points {
        apply_killed_after(&spec, "", k);
        let (code, out, err) = cli(&["apply", "--yes", "--spec", &spec]);
        assert_eq!(code, 0, "killed after {k}: {out}{err}");
        let (code, out, err) = cli(&["verify", "--spec", &spec]);
        assert_eq!(code, 0, "killed after {k}: {out}{err}");
        let listed = pools_listed();
        for pool in [&first, &second.0] {
            assert!(
                listed.lines().any(|l| l == pool),
                "killed after {k}: {listed}"
            );
            let state = cli_out(
                "zfs",
                &[
                    "get",
                    "-H",
                    "-o",
                    "value",
                    impermanence_layout::JOURNAL,
                    pool,
                ],
            );
            assert_eq!(state.trim(), "complete", "killed after {k}: {pool}");
        }
        // Back to nothing for the next point.
        for pool in [&first, &second.0] {
            cli_out("zpool", &["destroy", pool]);
        }
        for file in ["zroot.img", "data.img"] {
            let _ = std::fs::remove_file(case.dir.path().join(file));
        }
    }
}
