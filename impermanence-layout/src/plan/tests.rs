//! The plan's rules for re-runs and mounts, on inventories made by hand (issue 27's bugs 1, 2,
//! 4, 6, 7, 8; each also checked on the real module in tests/reruns.rs).

use std::path::{Path, PathBuf};

use super::{Plan, PlanOptions, Step};
use crate::inventory::Inventory;
use crate::spec::{DatasetSpec, MountSpec, Spec, VdevEntry};
use crate::test_support::finished;

fn with_vdev() -> Spec {
    let mut s = Spec::default();
    s.pool.vdevs.push(VdevEntry {
        path: "/var/tmp/z.img".into(),
        size: Some("2G".into()),
    });
    s
}

fn mounts(plan: &Plan) -> Vec<(String, PathBuf)> {
    plan.steps
        .iter()
        .filter_map(|s| match s {
            Step::Mount { dataset, path, .. } => Some((dataset.clone(), path.clone())),
            _ => None,
        })
        .collect()
}

fn at_mnt() -> PlanOptions {
    PlanOptions::new().mount_root("/mnt")
}

/// Bug 1: what the first run mounted is left alone by the second, which has nothing to do.
#[test]
fn a_second_run_with_mount_root_finds_everything_mounted_and_does_nothing() {
    let spec = with_vdev();
    let first = Plan::new(&spec, &Inventory::default(), &at_mnt());
    let mut inv = finished(&spec);
    let state = inv.pool.as_mut().unwrap();
    for (dataset, path) in mounts(&first) {
        state.mounted.insert(dataset, path);
    }
    assert_eq!(mounts(&first).len(), 5, "{:#?}", first.steps);
    let second = Plan::new(&spec, &inv, &at_mnt());
    assert!(second.is_empty(), "{:#?}", second.steps);
    assert!(second.conflicts.is_empty(), "{:?}", second.conflicts);

    // Mounted somewhere else: refused, never mounted twice.
    inv.pool
        .as_mut()
        .unwrap()
        .mounted
        .insert("zroot/nix".into(), "/elsewhere".into());
    let third = Plan::new(&spec, &inv, &at_mnt());
    assert_eq!(third.conflicts.len(), 1, "{:?}", third.conflicts);
    assert!(
        third.conflicts[0].contains("zroot/nix is mounted at /elsewhere"),
        "{:?}",
        third.conflicts
    );
}

/// Bug 2: DIR gets what goes to `/`, never a container that happens to be called `root`.
#[test]
fn the_mount_root_gets_the_filesystem_whose_mountpoint_is_slash() {
    let mut s = with_vdev();
    s.datasets.clear();
    s.snapshots.clear();
    s.boot = crate::BootSpec::none();
    s.datasets
        .push(DatasetSpec::new("root").property("mountpoint", "none"));
    s.datasets.push(
        DatasetSpec::new("root/nixos")
            .property("mountpoint", "/")
            .property("canmount", "on"),
    );
    s.datasets.push(DatasetSpec::new("root/nixos/home"));
    s.datasets.push(
        DatasetSpec::new("data")
            .property("mountpoint", "/srv")
            .property("canmount", "noauto"),
    );
    s.datasets.push(DatasetSpec::new("data/www"));
    s.validate().unwrap();
    assert_eq!(s.mountpoint("root/nixos/home"), "/home");
    assert_eq!(s.mountpoint("data/www"), "/srv/www");
    assert_eq!(s.mountpoint("root"), "none");
    assert_eq!(s.mountpoint(""), "none");
    let plan = Plan::new(&s, &Inventory::default(), &at_mnt());
    let want: Vec<(String, PathBuf)> = [
        ("zroot/root/nixos", "/mnt"),
        ("zroot/root/nixos/home", "/mnt/home"),
        ("zroot/data/www", "/mnt/srv/www"),
    ]
    .iter()
    .map(|(d, p)| ((*d).to_owned(), PathBuf::from(p)))
    .collect();
    assert_eq!(mounts(&plan), want);
    let printed = plan.to_commands();
    assert!(
        printed.contains(&"mount --mkdir -t zfs -o zfsutil zroot/root/nixos /mnt".to_owned()),
        "{printed:#?}"
    );

    // Without a mountpoint anywhere, ZFS's default: /POOL/NAME.
    let mut plain = with_vdev();
    plain.pool.root_properties.shift_remove("mountpoint");
    assert_eq!(plain.mountpoint(""), "/zroot");
    assert_eq!(plain.mountpoint("nix"), "legacy");
    plain.datasets.push(DatasetSpec::new("a/b"));
    assert_eq!(plain.mountpoint("a/b"), "/zroot/a/b");
}

/// The guide's layout: `root` is legacy and nothing else goes to `/`, so it gets DIR, first;
/// the boot mounts follow, parents before children whatever the spec's order.
#[test]
fn the_guides_root_is_mounted_first_and_children_after_parents() {
    let mut s = with_vdev();
    s.datasets
        .push(DatasetSpec::new("nix/store").property("mountpoint", "legacy"));
    s.boot
        .mounts
        .insert(0, MountSpec::new("/nix/store", "nix/store"));
    s.validate().unwrap();
    let plan = Plan::new(&s, &Inventory::default(), &at_mnt());
    let order: Vec<String> = mounts(&plan)
        .into_iter()
        .map(|(_, p)| p.display().to_string())
        .collect();
    assert_eq!(
        order,
        [
            "/mnt",
            "/mnt/nix",
            "/mnt/tmp",
            "/mnt/cache",
            "/mnt/persist",
            "/mnt/nix/store"
        ]
    );
}

/// Bug 6: the pool is made under the mount root (`zpool create -R`), never live on the host.
#[test]
fn a_pool_made_for_a_mount_root_is_created_under_it() {
    let spec = with_vdev();
    let plan = Plan::new(&spec, &Inventory::default(), &at_mnt());
    let create = plan
        .steps
        .iter()
        .find_map(|s| match s {
            Step::CreatePool { altroot, .. } => Some(altroot.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(create.as_deref(), Some(Path::new("/mnt")));
    let plan = Plan::new(&spec, &Inventory::default(), &PlanOptions::new());
    assert!(plan.to_commands()[1].starts_with("zpool create -o ashift=12"));
}

/// Bug 7: an import sets `cachefile` by design; the spec's value is no conflict afterwards.
#[test]
fn a_cachefile_changed_by_import_is_no_conflict() {
    let mut spec = with_vdev();
    spec.pool
        .properties
        .insert("cachefile".into(), "/etc/zfs/zpool.cache".into());
    let mut inv = finished(&spec);
    inv.pool
        .as_mut()
        .unwrap()
        .properties
        .insert("cachefile".into(), "none".into());
    let plan = Plan::new(&spec, &inv, &PlanOptions::new());
    assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
    assert!(plan.is_empty(), "{:#?}", plan.steps);
    assert!(crate::verify::differences(&spec, &inv).is_empty());
}

/// Bug 8: a feature the spec enables reads `active` once used; that is what was asked.
#[test]
fn an_enabled_feature_that_became_active_matches() {
    let mut spec = with_vdev();
    spec.pool
        .properties
        .insert("feature@embedded_data".into(), "enabled".into());
    let mut inv = finished(&spec);
    inv.pool
        .as_mut()
        .unwrap()
        .properties
        .insert("feature@embedded_data".into(), "active".into());
    let plan = Plan::new(&spec, &inv, &PlanOptions::new());
    assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
    assert!(crate::verify::differences(&spec, &inv).is_empty());
    // `disabled` is not `active`.
    spec.pool
        .properties
        .insert("feature@embedded_data".into(), "disabled".into());
    let plan = Plan::new(&spec, &inv, &PlanOptions::new());
    assert_eq!(plan.conflicts.len(), 1, "{:?}", plan.conflicts);
}

/// Bug 4: a swap volume is formatted once it exists; a blank one found later is formatted
/// too, one holding something else is refused, and verify says what blkid found.
#[test]
fn swap_volumes_are_formatted_and_verified_by_signature() {
    let mut spec = with_vdev();
    spec.datasets.push(DatasetSpec::volume("swap", "1G"));
    spec.boot.swap.push("swap".into());
    spec.validate().unwrap();
    let plan = Plan::new(&spec, &Inventory::default(), &PlanOptions::new());
    let cmds = plan.to_commands();
    let create = cmds
        .iter()
        .position(|c| c.ends_with(" zroot/swap"))
        .unwrap();
    let format = cmds
        .iter()
        .position(|c| c == "mkswap /dev/zvol/zroot/swap")
        .unwrap_or_else(|| panic!("{cmds:#?}"));
    assert!(create < format);

    let mut inv = finished(&spec);
    assert!(Plan::new(&spec, &inv, &PlanOptions::new()).is_empty());
    fn swap(inv: &mut Inventory) -> &mut Option<String> {
        &mut inv.pool.as_mut().unwrap().datasets["zroot/swap"].signature
    }
    *swap(&mut inv) = None;
    let plan = Plan::new(&spec, &inv, &PlanOptions::new());
    assert!(plan
        .to_commands()
        .contains(&"mkswap /dev/zvol/zroot/swap".to_owned()));
    let diffs = crate::verify::differences(&spec, &inv);
    assert_eq!(diffs.len(), 1, "{diffs:?}");
    assert_eq!(
        diffs[0].to_string(),
        "zroot/swap: the spec makes swap on it, and blkid finds nothing"
    );
    *swap(&mut inv) = Some("ext4".into());
    let plan = Plan::new(&spec, &inv, &PlanOptions::new());
    assert!(
        plan.conflicts[0]
            .contains("zroot/swap: the spec makes swap on it, and blkid finds ext4: refusing"),
        "{:?}",
        plan.conflicts
    );
}

/// A spec without `[boot]`: no tmpfs root, no sanoid; what ZFS mounts is what NixOS mounts,
/// `/` included, with `zfsutil`.
#[test]
fn a_spec_without_boot_is_a_zfs_root_and_nixos_mounts_it() {
    let text = r#"
        [pool]
        name = "rpool"
        vdevs = ["/dev/disk/by-id/nvme-A-part2"]
        [pool.root_properties]
        mountpoint = "none"
        [[datasets]]
        name = "root"
        properties = { mountpoint = "/" }
        [[datasets]]
        name = "root/home"
        [[datasets]]
        name = "nix"
        properties = { mountpoint = "legacy" }
        [boot]
        mounts = [{ path = "/nix", dataset = "nix", needed_for_boot = true }]
    "#;
    let spec = Spec::from_toml(text).unwrap();
    spec.validate_without_devices().unwrap();
    assert_eq!(spec.boot.root_tmpfs_size, None);
    let nix = crate::nixos_config(&spec);
    assert!(!nix.contains("tmpfs"), "{nix}");
    assert!(!nix.contains("cleanOnBoot"), "{nix}");
    assert!(!nix.contains("sanoid"), "{nix}");
    for (path, dataset, extra) in [
        ("/", "rpool/root", "    options = [ \"zfsutil\" ];\n"),
        (
            "/home",
            "rpool/root/home",
            "    options = [ \"zfsutil\" ];\n",
        ),
        ("/nix", "rpool/nix", "    neededForBoot = true;\n"),
    ] {
        let entry = format!(
            "  fileSystems.\"{path}\" = {{\n    device = \"{dataset}\";\n    fsType = \"zfs\";\n{extra}"
        );
        assert!(nix.contains(&entry), "no {entry} in\n{nix}");
    }
    // `[boot]` left out entirely: nothing of it.
    let bare = text.split("[boot]").next().unwrap();
    let spec = Spec::from_toml(bare).unwrap();
    assert_eq!(spec.boot, crate::BootSpec::none());
    spec.validate_without_devices().unwrap();
}

/// Two filesystems at one path, or a ZFS `/` under a tmpfs root, are refused by name.
#[test]
fn two_filesystems_at_one_path_and_zfs_under_a_tmpfs_root_are_refused() {
    let mut s = with_vdev();
    s.datasets
        .push(DatasetSpec::new("home").property("mountpoint", "/nix"));
    let e = s.validate().unwrap_err().to_string();
    assert!(
        e.contains("zroot/nix and zroot/home are both mounted at /nix"),
        "{e}"
    );

    let mut s = with_vdev();
    s.datasets[0]
        .properties
        .insert("mountpoint".into(), "/".into());
    let e = s.validate().unwrap_err().to_string();
    assert!(
        e.contains("zroot/root has mountpoint / and the root is a tmpfs"),
        "{e}"
    );
    s.boot.root_tmpfs_size = None;
    s.boot.root_tmpfs_mode = Some("700".into());
    let e = s.validate().unwrap_err().to_string();
    assert!(e.contains("root_tmpfs_mode without root_tmpfs_size"), "{e}");
    s.boot.root_tmpfs_mode = None;
    s.validate().unwrap();
}

/// The pool's root can be snapshotted too (`zroot@blank`, as disko's examples do), and a
/// dataset several times.
#[test]
fn the_pools_root_and_any_dataset_take_snapshots() {
    let mut s = with_vdev();
    s.snapshots.push(crate::SnapshotSpec::new("", "blank"));
    s.snapshots
        .push(crate::SnapshotSpec::new("persist", "installed"));
    s.validate().unwrap();
    let cmds = Plan::new(&s, &Inventory::default(), &PlanOptions::new()).to_commands();
    for want in [
        "zfs snapshot zroot/persist@blank",
        "zfs snapshot zroot@blank",
        "zfs snapshot zroot/persist@installed",
    ] {
        assert!(cmds.contains(&want.to_owned()), "{want} not in {cmds:#?}");
    }
    let inv = finished(&s);
    assert!(inv.pool.as_ref().unwrap().snapshots.contains("zroot@blank"));
    assert!(Plan::new(&s, &inv, &PlanOptions::new()).is_empty());
    s.snapshots.push(crate::SnapshotSpec::new("nothere", "x"));
    let e = s.validate().unwrap_err().to_string();
    assert!(e.contains("dataset 'nothere' is not in the spec"), "{e}");
}

/// Pool features as installers give them: `raidz` read as `raidz1`, a boot pool limited by
/// `compatibility`, and a pool started with no features but those named (`zpool create -d`).
#[test]
fn raidz_compatibility_and_a_pool_without_features_are_planned_as_zpool_takes_them() {
    let text = r#"
        [pool]
        name = "bpool"
        layout = "raidz"
        vdevs = ["/var/tmp/a.img", "/var/tmp/b.img", "/var/tmp/c.img"]
        enable_features = false
        [pool.properties]
        compatibility = "grub2"
        "feature@lz4_compress" = "enabled"
    "#;
    let spec = Spec::from_toml(text).unwrap();
    assert_eq!(spec.pool.layout, crate::VdevLayout::Raidz1);
    assert!(!spec.pool.enable_features);
    spec.validate_without_devices().unwrap();
    let cmds = Plan::new(&spec, &Inventory::default(), &PlanOptions::new()).to_commands();
    let create = cmds.iter().find(|c| c.starts_with("zpool create")).unwrap();
    assert_eq!(
        create,
        "zpool create -d -o compatibility=grub2 -o feature@lz4_compress=enabled \
         -O impermanence-layout:state=applying bpool raidz1 /var/tmp/a.img /var/tmp/b.img \
         /var/tmp/c.img"
    );
    // Written back, the default is left out and `false` kept.
    assert!(spec.to_toml().contains("enable_features = false"));
    assert!(!Spec::default().to_toml().contains("enable_features"));
}
