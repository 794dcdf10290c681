use super::*;
use crate::inventory::{Inventory, Seen, JOURNAL};
use crate::plan::{Plan, PlanOptions, Step};
use crate::test_support::finished;

fn with_vdev() -> Spec {
    let mut s = Spec::default();
    s.pool.vdevs.push(VdevEntry {
        path: "/var/tmp/z.img".into(),
        size: Some("2G".into()),
    });
    s
}

#[test]
fn the_default_is_the_guides_layout() {
    let s = Spec::default();
    assert_eq!(s.pool.name, "zroot");
    assert_eq!(
        s.pool.properties.get("ashift").map(String::as_str),
        Some("12")
    );
    assert_eq!(
        s.pool.properties.get("autotrim").map(String::as_str),
        Some("on")
    );
    let root: Vec<(&str, &str)> = s
        .pool
        .root_properties
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        root,
        [
            ("compression", "zstd"),
            ("acltype", "posixacl"),
            ("atime", "off"),
            ("xattr", "sa"),
            ("normalization", "formD"),
            ("mountpoint", "none")
        ]
    );
    let names: Vec<&str> = s.datasets.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["root", "nix", "tmp", "cache", "persist"]);
    assert!(s
        .datasets
        .iter()
        .all(|d| d.properties.get("mountpoint").map(String::as_str) == Some("legacy")));
    assert_eq!(
        s.snapshots,
        [SnapshotSpec {
            dataset: "persist".into(),
            name: "blank".into()
        }]
    );
    assert_eq!(s.boot.root_tmpfs_size.as_deref(), Some("1G"));
    let needed: Vec<&str> = s
        .boot
        .mounts
        .iter()
        .filter(|m| m.needed_for_boot)
        .map(|m| m.path.as_str())
        .collect();
    assert_eq!(needed, ["/cache", "/persist"]);
    assert_eq!(s.boot.sanoid[0].hourly, 50);
    assert!(with_vdev().validate().is_ok());
}

#[test]
fn toml_round_trips() {
    let s = with_vdev();
    let back = Spec::from_toml(&s.to_toml()).unwrap();
    assert_eq!(back, s);
    // Property order is the order commands are printed in: a round trip keeps it (maps
    // compare equal in any order, so compare the keys).
    let keys = |s: &Spec| s.pool.root_properties.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&back), keys(&s));
    assert_eq!(keys(&Spec::from_json(&s.to_json()).unwrap()), keys(&s));
}

#[test]
fn every_problem_is_listed_before_touching_a_disk() {
    let mut s = Spec::default();
    s.pool.name = "mirror".into();
    s.pool.vdevs.push(VdevEntry {
        path: "relative.img".into(),
        size: Some("10M".into()),
    });
    s.pool.properties.insert("nosuch".into(), "1".into());
    s.datasets.push(DatasetSpec {
        name: "nix".into(),
        properties: Properties::new(),
        volume: None,
    });
    s.datasets.push(DatasetSpec {
        name: "a/b".into(),
        properties: Properties::new(),
        volume: None,
    });
    s.datasets.push(DatasetSpec {
        name: "bad!".into(),
        properties: [("bogus".to_owned(), "x".to_owned())].into_iter().collect(),
        volume: None,
    });
    s.snapshots.push(SnapshotSpec {
        dataset: "ghost".into(),
        name: "blank".into(),
    });
    s.boot.host_id = Some("xyz".into());
    let e = s.validate().unwrap_err();
    let all = e.0.join("\n");
    for needle in [
        "pool name 'mirror'",
        "path must be absolute",
        "below the 64M minimum",
        "unknown pool property 'nosuch'",
        "'nix' is listed twice",
        "before its parent 'a'",
        "dataset 'bad!'",
        "unknown property 'bogus'",
        "dataset 'ghost' is not in the spec",
        "host_id",
    ] {
        assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
    }
    assert!(e
        .to_string()
        .starts_with(&format!("the layout spec has {} problem(s)", e.0.len())));
    assert!(Spec::from_toml("pool = 3").is_err());
    assert!(Spec::from_toml("[pool]\nname = 'x'\nunknown_key = 1").is_err());
    assert!(Spec::default().validate().unwrap_err().0[0].contains("no devices"));
}

#[test]
fn sizes_parse() {
    assert_eq!(parse_size("2G"), Some(2 << 30));
    assert_eq!(parse_size("512M"), Some(512 << 20));
    assert_eq!(parse_size("512MiB"), Some(512 << 20));
    assert_eq!(parse_size("1024"), Some(1024));
    assert_eq!(parse_size("lots"), None);
    assert_eq!(parse_size(""), None);
}

#[test]
fn a_fresh_plan_is_the_guides_commands() {
    let plan = Plan::new(
        &with_vdev(),
        &Inventory::default(),
        &PlanOptions::new().mount_root(std::path::Path::new("/mnt")),
    );
    let cmds = plan.to_commands();
    assert_eq!(cmds[0], "truncate -s 2147483648 /var/tmp/z.img");
    assert_eq!(
        cmds[1],
        "zpool create -R /mnt -o ashift=12 -o autotrim=on -O compression=zstd -O acltype=posixacl -O atime=off \
         -O xattr=sa -O normalization=formD -O mountpoint=none -O impermanence-layout:state=applying zroot /var/tmp/z.img"
    );
    assert_eq!(cmds[2], "zfs create -o mountpoint=legacy zroot/root");
    assert_eq!(cmds[7], "zfs snapshot zroot/persist@blank");
    assert_eq!(cmds[8], "mount --mkdir -t zfs zroot/root /mnt");
    assert_eq!(cmds[9], "mount --mkdir -t zfs zroot/nix /mnt/nix");
    assert_eq!(
        cmds.last().unwrap(),
        "zfs set impermanence-layout:state=complete zroot"
    );
    assert!(plan.conflicts.is_empty());
    let json: serde_json::Value = serde_json::from_str(&plan.to_json()).unwrap();
    assert_eq!(json["steps"][1]["step"], "create_pool");
}

#[test]
fn a_finished_layout_plans_nothing_and_verifies_clean() {
    let spec = with_vdev();
    let inv = finished(&spec);
    let plan = Plan::new(&spec, &inv, &PlanOptions::new());
    assert!(plan.is_empty(), "{:?}", plan.steps);
    assert!(crate::verify::differences(&spec, &inv).is_empty());
}

#[test]
fn a_partial_layout_is_completed() {
    let spec = with_vdev();
    let mut inv = finished(&spec);
    let st = inv.pool.as_mut().unwrap();
    st.datasets.shift_remove("zroot/cache");
    st.snapshots.clear();
    let plan = Plan::new(&spec, &inv, &PlanOptions::new());
    assert_eq!(
        plan.to_commands(),
        [
            format!("zfs set {JOURNAL}=applying zroot"),
            "zfs create -o mountpoint=legacy zroot/cache".into(),
            "zfs snapshot zroot/persist@blank".into(),
            format!("zfs set {JOURNAL}=complete zroot"),
        ]
    );
    let diffs = crate::verify::differences(&spec, &inv);
    assert_eq!(diffs.len(), 2, "{diffs:?}");
}

#[test]
fn an_interrupted_run_is_resumed_not_restarted() {
    let spec = with_vdev();
    let mut inv = finished(&spec);
    let st = inv.pool.as_mut().unwrap();
    st.journal = Some("applying".into());
    st.datasets.shift_remove("zroot/persist");
    st.snapshots.clear();
    let plan = Plan::new(&spec, &inv, &PlanOptions::new());
    assert!(plan.resumes);
    assert!(plan.conflicts.is_empty());
    assert!(!plan
        .steps
        .iter()
        .any(|s| matches!(s, Step::CreatePool { .. })));
    assert_eq!(
        plan.to_commands().last().unwrap(),
        &format!("zfs set {JOURNAL}=complete zroot")
    );
}

#[test]
fn conflicts_are_listed_and_adopting_settles_them() {
    let spec = with_vdev();
    let mut inv = finished(&spec);
    let st = inv.pool.as_mut().unwrap();
    st.properties.insert("ashift".into(), "9".into());
    st.root_properties.insert(
        "compression".into(),
        Seen {
            value: "lz4".into(),
            local: true,
        },
    );
    st.root_properties.insert(
        "normalization".into(),
        Seen {
            value: "none".into(),
            local: false,
        },
    );
    st.datasets.get_mut("zroot/nix").unwrap().properties.insert(
        "mountpoint".into(),
        Seen {
            value: "/nix".into(),
            local: true,
        },
    );
    st.datasets.get_mut("zroot/tmp").unwrap().is_filesystem = false;
    st.snapshots.clear();
    st.datasets.get_mut("zroot/persist").unwrap().referenced = 50 << 20;
    let plan = Plan::new(&spec, &inv, &PlanOptions::new());
    let all = plan.conflicts.join("\n");
    for needle in [
        "disks have ashift 9",
        "compression is lz4",
        "normalization is none",
        "zroot/nix: mountpoint is /nix",
        "zroot/tmp exists but is not a filesystem",
        "already holds data",
    ] {
        assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
    }
    let adopted = Plan::new(&spec, &inv, &PlanOptions::new().adopt(true));
    let still = adopted.conflicts.join("\n");
    // ashift is fixed on the disks: adopting cannot settle it, as normalization.
    assert!(
        still.contains("normalization")
            && still.contains("not a filesystem")
            && still.contains("ashift cannot change"),
        "{still}"
    );
    assert!(!still.contains("lz4"), "{still}");
}

#[test]
fn meanings_not_strings() {
    use crate::inventory::same_meaning;
    assert!(same_meaning("xattr", "sa", "on"));
    assert!(same_meaning("acltype", "posixacl", "posix"));
    assert!(same_meaning("quota", "1G", "1073741824"));
    assert!(!same_meaning("compression", "zstd", "lz4"));
    assert!(!same_meaning("atime", "on", "off"));
}

#[test]
fn the_nixos_module_says_what_the_guide_says() {
    let text = crate::nixos::nixos_config(&Spec::default());
    for needle in [
        "fileSystems.\"/\" = lib.mkForce",
        "\"size=1G\" \"mode=755\"",
        "fileSystems.\"/nix\"",
        "device = \"zroot/persist\";",
        "neededForBoot = true;",
        "boot.tmp.cleanOnBoot = true;",
        "\"zroot/persist\" = {",
        "hourly = 50;",
        "autoprune = true;",
        "boot.supportedFilesystems = [ \"zfs\" ];",
        "networking.hostId",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert_eq!(text.matches('{').count(), text.matches('}').count());
}

#[test]
fn a_small_or_odd_existing_vdev_is_refused_before_anything() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.img");
    std::fs::File::create(&small)
        .unwrap()
        .set_len(10 << 20)
        .unwrap();
    let mut s = Spec::default();
    s.pool.vdevs.push(VdevEntry {
        path: small.clone(),
        size: None,
    });
    let plan = Plan::new(&s, &Inventory::without_zfs(&s), &PlanOptions::new());
    assert_eq!(plan.conflicts.len(), 1, "{:?}", plan.conflicts);
    assert!(
        plan.conflicts[0].contains("10485760 bytes") && plan.conflicts[0].contains("64 MiB"),
        "{:?}",
        plan.conflicts
    );
    s.pool.vdevs[0].path = dir.path().to_owned();
    let plan = Plan::new(&s, &Inventory::without_zfs(&s), &PlanOptions::new());
    assert!(
        plan.conflicts[0].contains("neither a regular file nor a block device"),
        "{:?}",
        plan.conflicts
    );
    // Big enough: no conflict, and no file step (it exists).
    let big = dir.path().join("big.img");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    s.pool.vdevs[0].path = big;
    let plan = Plan::new(&s, &Inventory::without_zfs(&s), &PlanOptions::new());
    assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
}

#[test]
fn verify_names_every_way_the_system_differs() {
    let spec = with_vdev();
    // No pool at all.
    let none = crate::verify::differences(&spec, &Inventory::default());
    assert_eq!(none.len(), 1);
    assert_eq!(none[0].to_string(), "zroot: pool does not exist");

    let mut inv = finished(&spec);
    let st = inv.pool.as_mut().unwrap();
    st.properties.insert("ashift".into(), "9".into());
    st.properties.shift_remove("autotrim");
    st.root_properties.insert(
        "compression".into(),
        Seen {
            value: "lz4".into(),
            local: true,
        },
    );
    st.root_properties.shift_remove("atime");
    st.journal = Some("applying".into());
    let nix = st.datasets.get_mut("zroot/nix").unwrap();
    nix.properties.insert(
        "mountpoint".into(),
        Seen {
            value: "legacy".into(),
            local: false,
        },
    );
    st.datasets
        .get_mut("zroot/root")
        .unwrap()
        .properties
        .shift_remove("mountpoint");
    st.datasets.get_mut("zroot/tmp").unwrap().is_filesystem = false;
    st.datasets.shift_remove("zroot/cache");
    st.snapshots.clear();
    let shown: Vec<String> = crate::verify::differences(&spec, &inv)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        shown,
        [
            "zroot: pool property ashift is 9, expected 12",
            "zroot: pool property autotrim is unset, expected on",
            "zroot: compression is lz4, expected zstd",
            "zroot: atime is unset, expected off",
            "zroot: an apply was interrupted: run apply again to complete it",
            "zroot/root: mountpoint is unset, expected legacy",
            "zroot/nix: mountpoint is legacy but inherited, expected it set locally",
            "zroot/tmp: is not a filesystem",
            "zroot/cache: dataset does not exist",
            "zroot/persist@blank: snapshot does not exist",
        ]
    );
}

#[test]
fn layouts_need_their_device_counts_and_names_their_other_problems() {
    let dev = |p: &str| VdevEntry {
        path: p.into(),
        size: Some("1G".into()),
    };
    for (layout, min, parity) in [
        (VdevLayout::Mirror, 2, None),
        (VdevLayout::Raidz1, 2, Some(1)),
        (VdevLayout::Raidz2, 3, Some(2)),
        (VdevLayout::Raidz3, 4, Some(3)),
    ] {
        assert_eq!(layout.raidz_parity(), parity);
        let mut s = Spec::default();
        s.pool.layout = layout;
        s.pool.vdevs = (1..min).map(|i| dev(&format!("/d{i}"))).collect();
        let all = s.validate_without_devices().unwrap_err().0.join("\n");
        assert!(
            all.contains(&format!("needs at least {min} devices")),
            "{all}"
        );
        s.pool.vdevs.push(dev("/last"));
        s.validate_without_devices().unwrap();
    }
    let mut s = Spec::default();
    s.pool.vdevs = vec![dev("/a"), dev("/a")];
    s.pool.vdevs.push(VdevEntry {
        path: "/b".into(),
        size: Some("lots".into()),
    });
    s.pool.root_properties.insert("nosuch".into(), "1".into());
    let blank = s.snapshots[0].clone();
    s.snapshots.push(blank);
    s.boot.mounts.push(MountSpec {
        path: "relative".into(),
        dataset: "nix".into(),
        pool: None,
        needed_for_boot: false,
        options: Vec::new(),
    });
    let all = s.validate().unwrap_err().0.join("\n");
    for needle in [
        "device '/a' is listed twice",
        "size 'lots' is not a size",
        "unknown filesystem property 'nosuch' (root_properties)",
        "snapshot 'persist@blank' is listed twice",
        "mount 'relative': path must be absolute",
    ] {
        assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
    }
}

#[test]
fn specs_built_in_code_with_the_constructors_validate_and_plan() {
    let mut s = Spec::default();
    s.pool
        .vdevs
        .push(VdevEntry::new("/var/tmp/c.img").size("1G"));
    s.datasets
        .push(DatasetSpec::new("home").property("mountpoint", "legacy"));
    s.snapshots.push(SnapshotSpec::new("home", "blank"));
    s.boot
        .mounts
        .push(MountSpec::new("/home", "home").needed_for_boot(true));
    s.validate().unwrap();
    let cmds = Plan::new(&s, &Inventory::default(), &PlanOptions::new()).to_commands();
    assert_eq!(cmds[0], "truncate -s 1073741824 /var/tmp/c.img");
    assert!(
        cmds.contains(&"zfs create -o mountpoint=legacy zroot/home".to_owned()),
        "{cmds:?}"
    );
    assert!(
        cmds.contains(&"zfs snapshot zroot/home@blank".to_owned()),
        "{cmds:?}"
    );
    // A constructor makes no exception to validation: a bad name is still refused.
    s.datasets.push(DatasetSpec::new("bad*name"));
    assert!(s.validate().is_err());
}

#[test]
fn bootfs_names_a_spec_dataset_and_is_planned_after_it() {
    let mut s = with_vdev();
    s.pool
        .properties
        .insert("bootfs".into(), "zroot/root".into());
    s.validate().unwrap();
    let plan = Plan::new(&s, &Inventory::default(), &PlanOptions::new());
    let cmds = plan.to_commands();
    assert!(!cmds[1].contains("bootfs"), "{}", cmds[1]);
    let set = cmds
        .iter()
        .position(|c| c == "zpool set bootfs=zroot/root zroot");
    let snap = cmds
        .iter()
        .position(|c| c == "zfs snapshot zroot/persist@blank");
    assert!(set > snap, "{cmds:#?}");
    // An existing pool without datasets: the same order.
    let mut inv = finished(&s);
    let state = inv.pool.as_mut().unwrap();
    state.datasets.clear();
    state.snapshots.clear();
    state.properties.insert("bootfs".into(), "-".into());
    let plan = Plan::new(&s, &inv, &PlanOptions::new().adopt(true));
    let cmds = plan.to_commands();
    let set = cmds
        .iter()
        .position(|c| c == "zpool set bootfs=zroot/root zroot");
    let create = cmds.iter().position(|c| c.ends_with("zroot/root"));
    assert!(set > create, "{cmds:#?}");

    for bad in ["zroot/nosuch", "other/root", "zroot/"] {
        s.pool.properties.insert("bootfs".into(), bad.into());
        let e = s.validate().unwrap_err();
        assert!(e.to_string().contains("bootfs"), "{bad}: {e}");
    }
    s.pool.properties.insert("bootfs".into(), "zroot".into());
    s.validate().unwrap();
}

#[test]
fn an_existing_pool_needs_no_devices() {
    let s = Spec::default();
    assert!(s.validate().is_err());
    s.validate_for(&finished(&s)).unwrap();
    let e = s.validate_for(&Inventory::default()).unwrap_err();
    assert!(e.to_string().contains("no devices"), "{e}");
}

const TOPOLOGY: &str = r#"
[pool]
name = "tank"

[[pool.topology.vdev]]
mode = "mirror"
members = ["/dev/disk/by-id/a", "/dev/disk/by-id/b"]

[[pool.topology.vdev]]
mode = "mirror"
members = [{ path = "/var/tmp/c.img", size = "1G" }, "/var/tmp/d.img"]

[[pool.topology.log]]
mode = "mirror"
members = ["/dev/e", "/dev/f"]

[[pool.topology.special]]
members = ["/dev/g"]

[pool.topology]
cache = ["/dev/h"]
spare = ["/dev/i"]
"#;

/// [`TOPOLOGY`] without the boot side's mounts (its datasets are not in it).
fn topology_spec() -> Spec {
    let mut s = Spec::from_toml(TOPOLOGY).unwrap();
    s.boot.mounts.clear();
    s.boot.sanoid.clear();
    s
}

#[test]
fn a_topology_reads_validates_and_plans_as_zpool_create_words() {
    let s = topology_spec();
    s.validate().unwrap();
    // Built that way, it verifies; built otherwise, both verify and plan say how.
    let mut inv = finished(&s);
    assert_eq!(crate::differences(&s, &inv), vec![]);
    inv.pool.as_mut().unwrap().topology.log.clear();
    let d = crate::differences(&s, &inv);
    assert_eq!(d.len(), 3, "{d:?}");
    let plan = Plan::new(&s, &inv, &PlanOptions::new().adopt(true));
    assert!(
        plan.conflicts
            .iter()
            .any(|c| c.contains("log vdevs are none")),
        "{plan:?}"
    );
    let t = s.pool.topology();
    assert_eq!(t.devices().count(), 9);
    assert_eq!(t.vdev[1].members[0].size.as_deref(), Some("1G"));
    let plan = Plan::new(&s, &Inventory::default(), &PlanOptions::new());
    let cmds = plan.to_commands();
    assert!(
        cmds.iter()
            .any(|c| c == "truncate -s 1073741824 /var/tmp/c.img"),
        "{cmds:#?}"
    );
    let create = cmds.iter().find(|c| c.starts_with("zpool create")).unwrap();
    assert!(
        create.ends_with(
            " tank mirror /dev/disk/by-id/a /dev/disk/by-id/b mirror /var/tmp/c.img \
             /var/tmp/d.img log mirror /dev/e /dev/f special /dev/g cache /dev/h spare /dev/i"
        ),
        "{create}"
    );
    // Written back, a device without a size is its bare path, and it reads back the same.
    let text = s.to_toml();
    assert!(text.contains("\"/dev/h\""), "{text}");
    assert_eq!(Spec::from_toml(&text).unwrap(), s);
}

/// A class that mixes a mirror and single devices prints as `zpool create` reads it into the
/// tree apply builds: a grouping word takes every device up to the next keyword, and `log`
/// may be given only once, so a class's single devices come before its groups (apply builds
/// them in that order too). `log mirror L1 L2 L3` was a three-way mirror.
#[test]
fn a_class_mixing_mirrors_and_single_devices_prints_the_tree_apply_builds() {
    let t = crate::test_support::mixed_topology();
    assert_eq!(
        t.to_args().join(" "),
        "/d/c mirror /d/a /d/b log /d/l3 mirror /d/l1 /d/l2 special /d/s3 /d/s4 mirror /d/s1 \
         /d/s2 mirror /d/s5 /d/s6 dedup /d/x1 mirror /d/x2 /d/x3 cache /d/k"
    );
}

/// Vdevs that differ in redundancy are a conflict of the plan, found by the check apply's
/// `zpool create` makes, unless the spec says `force`: then the pool is created with `-f`.
#[test]
fn mixed_redundancy_is_a_conflict_unless_the_spec_forces_it() {
    let mut s = with_vdev();
    s.pool.vdevs.clear();
    let f = |n: &str| VdevEntry::new(format!("/var/tmp/{n}.img")).size("1G");
    s.pool.topology = Some(
        Topology::new()
            .vdev(VdevGroup::new(VdevLayout::Mirror, [f("a"), f("b")]))
            .vdev(VdevGroup::new(VdevLayout::Stripe, [f("c")])),
    );
    s.validate().unwrap();
    let plan = Plan::new(&s, &Inventory::default(), &PlanOptions::new());
    assert_eq!(plan.conflicts.len(), 1, "{:#?}", plan.conflicts);
    assert!(
        plan.conflicts[0].starts_with("pool zroot: mismatched replication level")
            && plan.conflicts[0].contains("force = true"),
        "{:#?}",
        plan.conflicts
    );
    // Logs never count, as in zpool create: a single log beside mirrors is no conflict.
    let mut logged = s.clone();
    let t = logged.pool.topology.as_mut().unwrap();
    t.vdev.pop();
    t.log.push(VdevGroup::new(VdevLayout::Stripe, [f("l")]));
    let plan = Plan::new(&logged, &Inventory::default(), &PlanOptions::new());
    assert_eq!(plan.conflicts, Vec::<String>::new());

    let forced = SpecBuilder::from(s.clone()).force(true).build().unwrap();
    assert!(forced.pool.force);
    let plan = Plan::new(&forced, &Inventory::default(), &PlanOptions::new());
    assert_eq!(plan.conflicts, Vec::<String>::new());
    let create = plan
        .to_commands()
        .into_iter()
        .find(|c| c.starts_with("zpool create"))
        .unwrap();
    assert!(
        create.starts_with("zpool create -f -o ashift=12 "),
        "{create}"
    );
    assert!(plan.to_json().contains("\"force\": true"));
    // Written only when set, and read back.
    let text = forced.to_toml();
    assert!(text.contains("force = true"), "{text}");
    assert_eq!(Spec::from_toml(&text).unwrap(), forced);
    assert!(!s.to_toml().contains("force"));
}

#[test]
fn topology_problems_are_listed() {
    let mut s = topology_spec();
    let t = s.pool.topology.as_mut().unwrap();
    t.log[0].mode = VdevLayout::Raidz1;
    t.vdev[0].members.truncate(1);
    t.special
        .push(VdevGroup::new(VdevLayout::Mirror, Vec::<VdevEntry>::new()));
    t.spare.push("/dev/disk/by-id/a".into());
    t.cache.push("relative".into());
    s.pool.vdevs.push(VdevEntry::new("/dev/x"));
    let e = s.validate().unwrap_err().to_string();
    for want in [
        "log devices can be single devices or mirrors, not Raidz1",
        "layout Mirror needs at least 2 devices, got 1",
        "a special group has no members",
        "device '/dev/disk/by-id/a' is listed twice",
        "device 'relative': path must be absolute",
        "either as vdevs (with layout) or as topology, not both",
    ] {
        assert!(e.contains(want), "{want}: {e}");
    }
    // A device given as a table must have a path, and nothing unknown.
    for bad in [
        "[pool]\nname = \"t\"\n[[pool.topology.vdev]]\nmembers = [{ size = \"1G\" }]\n",
        "[pool]\nname = \"t\"\n[[pool.topology.vdev]]\nmembers = [{ path = \"/a\", colour = 1 }]\n",
        "[pool]\nname = \"t\"\n[[pool.topology.vdev]]\nmembers = [7]\n",
        "[pool]\nname = \"t\"\n[pool.topology]\nvdevs = []\n",
    ] {
        assert!(Spec::from_toml(bad).is_err(), "{bad}");
    }
    // No data group at all, only a cache: no devices.
    let mut s = Spec::default();
    s.pool.topology = Some(Topology::new().cache("/dev/h"));
    assert!(s.validate().unwrap_err().to_string().contains("no devices"));
}

/// A swap volume and a non-legacy home with mount options: validated, planned as `zfs create
/// -V`, verified, written into the NixOS module with `zfsutil` where it is needed.
#[test]
fn volumes_and_mount_options_plan_verify_and_reach_nixos() {
    let mut s = with_vdev();
    s.datasets.push(
        DatasetSpec::volume("swap", "4G")
            .block_size("4K")
            .property("compression", "zle")
            .property("sync", "always"),
    );
    s.datasets
        .push(DatasetSpec::new("home").property("mountpoint", "/home"));
    s.datasets.push(DatasetSpec::new("home/alice"));
    s.boot.swap.push("swap".into());
    s.boot
        .mounts
        .push(MountSpec::new("/home/alice", "home/alice").option("noexec"));
    s.boot.mounts[0].options.push("noatime".into());
    s.validate().unwrap();
    assert_eq!(
        s.effective_property("home/alice", "mountpoint"),
        Some("/home")
    );
    assert_eq!(s.effective_property("nix", "mountpoint"), Some("legacy"));
    assert_eq!(s.effective_property("swap", "compression"), Some("zle"));
    assert_eq!(s.effective_property("tmp", "compression"), Some("zstd"));

    let plan = Plan::new(
        &s,
        &Inventory::default(),
        &PlanOptions::new().mount_root("/mnt"),
    );
    let cmds = plan.to_commands();
    assert!(
        cmds.contains(
            &"zfs create -V 4294967296 -b 4096 -o compression=zle -o sync=always zroot/swap"
                .to_owned()
        ),
        "{cmds:#?}"
    );
    assert!(
        cmds.contains(&"mount --mkdir -t zfs -o noatime zroot/nix /mnt/nix".to_owned()),
        "{cmds:#?}"
    );
    assert!(
        cmds.contains(
            &"mount --mkdir -t zfs -o zfsutil,noexec zroot/home/alice /mnt/home/alice".to_owned()
        ),
        "{cmds:#?}"
    );
    let inv = finished(&s);
    assert_eq!(crate::differences(&s, &inv), vec![]);
    // Built otherwise: a filesystem where the volume should be, another size, block size.
    let mut other = inv.clone();
    let swap = &mut other.pool.as_mut().unwrap().datasets["zroot/swap"];
    swap.properties.insert(
        "volsize".into(),
        Seen {
            value: "1073741824".into(),
            local: true,
        },
    );
    swap.properties.insert(
        "volblocksize".into(),
        Seen {
            value: "16384".into(),
            local: true,
        },
    );
    let d = crate::differences(&s, &other);
    assert_eq!(d.len(), 2, "{d:#?}");
    let plan = Plan::new(&s, &other, &PlanOptions::new().adopt(true));
    assert!(
        plan.conflicts
            .iter()
            .any(|c| c.contains("volblocksize is 16384")),
        "{plan:#?}"
    );
    assert!(plan
        .to_commands()
        .contains(&"zfs set volsize=4294967296 zroot/swap".to_owned()));
    let swap = &mut other.pool.as_mut().unwrap().datasets["zroot/swap"];
    swap.is_volume = false;
    swap.is_filesystem = true;
    let plan = Plan::new(&s, &other, &PlanOptions::new());
    assert!(
        plan.conflicts
            .iter()
            .any(|c| c == "zroot/swap exists but is not a volume"),
        "{plan:#?}"
    );

    let nix = crate::nixos_config(&s);
    assert!(
        nix.contains("swapDevices = [ { device = \"/dev/zvol/zroot/swap\"; } ];"),
        "{nix}"
    );
    assert!(
        nix.contains("options = [ \"zfsutil\" \"noexec\" ];"),
        "{nix}"
    );
    assert!(nix.contains("options = [ \"noatime\" ];"), "{nix}");
}

/// `--mount-root`'s mount of the root prints `-o zfsutil` when the root's mountpoint is not
/// `legacy` (mount(8) refuses such a dataset without it), as the other mounts do; a legacy
/// root is mounted with no options.
#[test]
fn the_printed_root_mount_runs_as_printed() {
    let mut s = with_vdev();
    let root_mount = |s: &Spec| -> String {
        let plan = Plan::new(
            s,
            &Inventory::default(),
            &PlanOptions::new().mount_root("/mnt"),
        );
        let cmds = plan.to_commands();
        cmds.iter()
            .find(|c| c.contains(" zroot/root "))
            .filter(|c| c.starts_with("mount "))
            .cloned()
            .unwrap_or_else(|| panic!("no root mount in {cmds:#?}"))
    };
    assert_eq!(root_mount(&s), "mount --mkdir -t zfs zroot/root /mnt");
    let root = s.datasets.iter_mut().find(|d| d.name == "root").unwrap();
    root.properties.insert("mountpoint".into(), "/".into());
    // ZFS at `/`: no tmpfs root over it.
    s.boot.root_tmpfs_size = None;
    s.boot.root_tmpfs_mode = None;
    s.validate().unwrap();
    assert_eq!(
        root_mount(&s),
        "mount --mkdir -t zfs -o zfsutil zroot/root /mnt"
    );
}

#[test]
fn volume_problems_are_listed() {
    let mut s = with_vdev();
    s.datasets
        .push(DatasetSpec::volume("v1", "1000").property("mountpoint", "/v"));
    s.datasets
        .push(DatasetSpec::volume("v2", "4G").block_size("3K"));
    s.datasets.push(DatasetSpec::volume("v3", "big"));
    s.datasets.push(DatasetSpec::new("v2/child"));
    s.datasets
        .push(DatasetSpec::new("fs").property("volsize", "1G"));
    s.boot.swap.push("fs".into());
    s.boot.mounts.push(MountSpec::new("/v", "v2"));
    s.boot
        .mounts
        .push(MountSpec::new("/w", "nix").option("a,b"));
    s.pool.properties.insert("bootfs".into(), "zroot/v2".into());
    let e = s.validate().unwrap_err().to_string();
    for want in [
        "volume 'v1': size 1000 is not a multiple of its block size (16384 bytes)",
        "volume 'v1': mountpoint is a filesystem property",
        "volume 'v2': block size '3K' must be a power of two from 512 to 16M",
        "volume 'v3': size 'big' is not a size like 4G",
        "dataset 'v2/child': its parent 'v2' is a volume, which has no children",
        "dataset 'fs': volsize is for volumes",
        "swap: 'fs' is not a volume of the spec",
        "mount '/v': 'v2' is a volume; mount a filesystem",
        "mount '/w': option 'a,b' must be one word",
        "bootfs 'zroot/v2' must name the pool or one of the spec's",
    ] {
        assert!(e.contains(want), "{want}\n{e}");
    }
}

/// An encrypted pool root and a separately keyed `persist`: validated, their keys asked for
/// by the plan (prompt) or read from the file, the NixOS module asks at boot, and a dataset
/// built unencrypted is a conflict adopt cannot settle.
#[test]
fn encryption_roots_validate_plan_and_reach_nixos() {
    let mut s = with_vdev();
    for (k, v) in [("encryption", "on"), ("keyformat", "passphrase")] {
        s.pool.root_properties.insert(k.into(), v.into());
    }
    let persist = s.datasets.iter_mut().find(|d| d.name == "persist").unwrap();
    for (k, v) in [
        ("encryption", "aes-256-gcm"),
        ("keyformat", "hex"),
        ("keylocation", "file:///etc/keys/persist.key"),
    ] {
        persist.properties.insert(k.into(), v.into());
    }
    s.validate().unwrap();
    let roots = s.encryption_roots();
    assert_eq!(roots.len(), 2);
    assert!(roots[0].prompts() && roots[0].name == "zroot");
    assert!(!roots[1].prompts() && roots[1].name == "zroot/persist");
    let plan = Plan::new(&s, &Inventory::default(), &PlanOptions::new());
    let needed: Vec<String> = plan.keys_needed().into_iter().map(|r| r.name).collect();
    assert_eq!(needed, ["zroot"]);
    assert!(plan.to_commands()[1].contains("-O encryption=on -O keyformat=passphrase"));
    let nix = crate::nixos_config(&s);
    assert!(
        nix.contains("boot.zfs.requestEncryptionCredentials = [ \"zroot\" ];"),
        "{nix}"
    );
    assert!(
        nix.contains("# zroot/persist loads its key from file:///etc/keys/persist.key"),
        "{nix}"
    );

    // `encryption=on` reads back as the cipher; an unencrypted persist cannot be adopted.
    let inv = finished(&s);
    let mut other = inv.clone();
    let state = other.pool.as_mut().unwrap();
    state.root_properties.insert(
        "encryption".into(),
        Seen {
            value: "aes-256-gcm".into(),
            local: true,
        },
    );
    assert_eq!(crate::differences(&s, &other), vec![]);
    let ds = &mut other.pool.as_mut().unwrap().datasets["zroot/persist"];
    ds.properties.insert(
        "encryption".into(),
        Seen {
            value: "off".into(),
            local: false,
        },
    );
    let plan = Plan::new(&s, &other, &PlanOptions::new().adopt(true));
    assert!(
        plan.conflicts
            .iter()
            .any(|c| c.contains("encryption is off")
                && c.contains("only be set when the dataset is created")),
        "{plan:#?}"
    );

    let mut bad = with_vdev();
    bad.pool
        .root_properties
        .insert("encryption".into(), "on".into());
    let d = &mut bad.datasets[0].properties;
    d.insert("keyformat".into(), "pem".into());
    d.insert("keylocation".into(), "https://example.com/k".into());
    let d = &mut bad.datasets[1].properties;
    d.insert("keylocation".into(), "prompt".into());
    let d = &mut bad.datasets[2].properties;
    d.insert("keyformat".into(), "raw".into());
    d.insert("pbkdf2iters".into(), "100000".into());
    d.insert("keylocation".into(), "file://relative".into());
    let e = bad.validate().unwrap_err().to_string();
    for want in [
        "pool root 'zroot': encryption is on but no keyformat is given",
        "dataset 'root': keyformat 'pem' is not raw, hex or passphrase",
        "dataset 'root': keylocation 'https://example.com/k' must be prompt or file:///absolute/path",
        "dataset 'nix': keylocation is for encryption roots (give keyformat too)",
        "dataset 'tmp': pbkdf2iters is for keyformat=passphrase",
        "dataset 'tmp': keylocation 'file://relative' must be",
    ] {
        assert!(e.contains(want), "{want}\n{e}");
    }
}
