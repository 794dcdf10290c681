//! The emitted NixOS module parses with a real Nix parser (`nix-instantiate --parse`, Debian's
//! `nix-bin`, which ci/setup installs). Ignored by plain `cargo test` because a host may lack
//! Nix; `ci/test` runs it.

use std::process::Command;

use impermanence_layout::{nixos_config, DatasetSpec, MountSpec, SanoidSpec, Spec};

fn parses(text: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("layout.nix");
    std::fs::write(&file, text).unwrap();
    // Parsing needs no store: the dummy one works where /nix/store is read-only (the test VM).
    let out = Command::new("nix-instantiate")
        .args(["--store", "dummy://", "--parse"])
        .arg(&file)
        .env("NIX_CONF_DIR", dir.path())
        .output()
        .expect("nix-instantiate runs (apt-get install nix-bin)");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
#[ignore = "needs nix-instantiate"]
fn the_nixos_module_parses() {
    parses(&nixos_config(&Spec::default())).unwrap();
    let mut spec = Spec::default();
    spec.pool.name = "tank".into();
    spec.boot.host_id = Some("8425e349".into());
    spec.boot.mounts[0].path = "/odd \"path\" ${x}".into();
    spec.boot.sanoid.clear();
    let text = nixos_config(&spec);
    parses(&text).unwrap();
    assert!(text.contains("networking.hostId = \"8425e349\";"));
    // Everything a real install adds: encryption roots (asked for at boot, or from a file),
    // swap, mount options with zfsutil.
    let rich = Spec::builder("zroot")
        .root_property("encryption", "on")
        .root_property("keyformat", "passphrase")
        .root_property("mountpoint", "none")
        .dataset(DatasetSpec::new("nix").property("mountpoint", "legacy"))
        .dataset(
            DatasetSpec::new("persist")
                .property("mountpoint", "/persist")
                .property("encryption", "on")
                .property("keyformat", "hex")
                .property("keylocation", "file:///etc/zfs/persist.key"),
        )
        .dataset(DatasetSpec::volume("swap", "4G"))
        .mount(MountSpec::new("/nix", "nix").option("noatime"))
        .mount(MountSpec::new("/persist", "persist").needed_for_boot(true))
        .swap("swap")
        .sanoid(SanoidSpec::new("persist", 24, 7, 4, 1))
        .build()
        .unwrap();
    let text = nixos_config(&rich);
    parses(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    for want in [
        "boot.zfs.requestEncryptionCredentials = [ \"zroot\" ];",
        "swapDevices = [ { device = \"/dev/zvol/zroot/swap\"; } ];",
        "options = [ \"noatime\" ];",
        "options = [ \"zfsutil\" ];",
    ] {
        assert!(
            text.contains(want) || want.contains("zroot/persist"),
            "{want}\n{text}"
        );
    }
    assert!(text.contains("# zroot/persist loads its key from file:///etc/zfs/persist.key"));
    // ZFS at `/`, no `[boot]` at all: a root-on-ZFS install that is not impermanent.
    let zfs_root = Spec::builder("rpool")
        .root_property("mountpoint", "none")
        .dataset(DatasetSpec::new("root").property("mountpoint", "/"))
        .dataset(DatasetSpec::new("root/home"))
        .build()
        .unwrap();
    let text = nixos_config(&zfs_root);
    parses(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(
        text.contains("fileSystems.\"/\" = {\n    device = \"rpool/root\";"),
        "{text}"
    );
    assert!(!text.contains("tmpfs"), "{text}");
    // The check is real: broken text is refused.
    assert!(parses("{ x = ; }").is_err());
}

/// A disko configuration in the shape of disko's ZFS examples, evaluated by nix-instantiate
/// and mapped by disko's rules: partition order (by priority) and labels, a mirror of the zfs
/// partitions, datasets' mountpoints (a path, `none`, `legacy` mounted by a boot mount),
/// volumes with ext4 and swap, the pool's `/`, the blank-snapshot hook.
#[test]
#[ignore = "needs nix-instantiate (ci/setup installs nix-bin)"]
fn a_disko_configuration_imports_by_disko_rules() {
    use impermanence_layout::{import_disko, FilesystemFormat, PartitionKind, VdevLayout};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/disko");
    let spec = import_disko(&dir.join("mirror-with-esp.nix"), &[]).unwrap();
    spec.validate_without_devices().unwrap();
    let parts: Vec<(&str, PartitionKind, Option<&str>)> = spec
        .partitions()
        .map(|(_, p)| (p.label.as_str(), p.kind, p.size.as_deref()))
        .collect();
    assert_eq!(
        parts,
        [
            ("disk-first-ESP", PartitionKind::Esp, Some("64M")),
            ("disk-first-zfs", PartitionKind::Linux, None),
            ("disk-second-zfs", PartitionKind::Linux, None),
        ]
    );
    let topology = spec.pool.topology();
    assert_eq!(topology.vdev.len(), 1);
    assert_eq!(topology.vdev[0].mode, VdevLayout::Mirror);
    let members: Vec<String> = topology.vdev[0]
        .members
        .iter()
        .map(|m| m.path.display().to_string())
        .collect();
    assert_eq!(
        members,
        [
            "/dev/disk/by-partlabel/disk-first-zfs",
            "/dev/disk/by-partlabel/disk-second-zfs"
        ]
    );
    assert_eq!(spec.pool.properties["ashift"], "12");
    assert_eq!(spec.pool.root_properties["mountpoint"], "/");
    assert_eq!(spec.pool.root_properties["org.example:backup"], "no");
    assert_eq!(spec.mountpoint("home/alice"), "/home/alice");
    assert_eq!(spec.mountpoint("scratch"), "none");
    assert_eq!(spec.mountpoint("var"), "legacy");
    assert!(
        spec.dataset("vols").is_some(),
        "the parent disko's -p makes"
    );
    let swap = spec.dataset("swap").unwrap().volume.as_ref().unwrap();
    assert_eq!(swap.block_size.as_deref(), Some("4096"));
    assert_eq!(
        swap.filesystem.as_ref().unwrap().format,
        FilesystemFormat::Swap
    );
    let data = spec.dataset("vols/data").unwrap().volume.as_ref().unwrap();
    assert_eq!(
        data.filesystem.as_ref().unwrap().mountpoint.as_deref(),
        Some("/srv")
    );
    assert_eq!(spec.snapshots.len(), 1);
    assert_eq!(
        (
            spec.snapshots[0].dataset.as_str(),
            spec.snapshots[0].name.as_str()
        ),
        ("", "blank")
    );
    let mounts: Vec<(&str, &str, Vec<String>)> = spec
        .boot
        .mounts
        .iter()
        .map(|m| (m.path.as_str(), m.dataset.as_str(), m.options.clone()))
        .collect();
    assert_eq!(
        mounts,
        [
            ("/home", "home", vec!["nosuid".to_owned()]),
            ("/var", "var", vec![])
        ]
    );
    // Printed and read back, the same spec; the NixOS module parses.
    assert_eq!(
        impermanence_layout::Spec::from_toml(&spec.to_toml()).unwrap(),
        spec
    );
    parses(&nixos_config(&spec)).unwrap();

    // Disks given on the command line replace the configuration's.
    let moved = import_disko(
        &dir.join("mirror-with-esp.nix"),
        &[("second".into(), "/dev/vdb".into())],
    )
    .unwrap();
    assert_eq!(moved.disks[1].device, std::path::Path::new("/dev/vdb"));

    // What a spec cannot express is named, every one of it.
    let e = import_disko(&dir.join("refused.nix"), &[])
        .unwrap_err()
        .to_string();
    for want in [
        "disko.devices.lvm_vg cannot be expressed",
        "partition data: filesystem format 'btrfs'",
        "partition luks: content type 'luks' cannot be expressed",
        "zpool tank: postCreateHook runs shell",
    ] {
        assert!(e.contains(want), "no '{want}' in {e}");
    }
    let e = import_disko(&dir.join("nothere.nix"), &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("nothere.nix"), "{e}");
}

/// disko's other shapes: an encrypted dataset at `/` asked for at boot, ext4 at `/` on a
/// partition with a pool on a whole disk, and a topology named by disk.
#[test]
#[ignore = "needs nix-instantiate (ci/setup installs nix-bin)"]
fn disko_shapes_of_every_kind_import() {
    use impermanence_layout::{import_disko, FilesystemFormat, VdevLayout};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/disko");
    let import = |f: &str| {
        let spec = import_disko(&dir.join(f), &[]).unwrap_or_else(|e| panic!("{f}: {e}"));
        spec.validate_without_devices()
            .unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(
            impermanence_layout::Spec::from_toml(&spec.to_toml()).unwrap(),
            spec
        );
        parses(&nixos_config(&spec)).unwrap();
        spec
    };

    let s = import("encrypted-root.nix");
    let crypt = &s.dataset("crypt").unwrap().properties;
    assert_eq!(crypt["mountpoint"], "/");
    assert_eq!(crypt["keylocation"], "prompt");
    let nix = nixos_config(&s);
    assert!(
        nix.contains("boot.zfs.requestEncryptionCredentials = [ \"rpool/crypt\" ];"),
        "{nix}"
    );
    assert!(
        nix.contains("fileSystems.\"/\" = {\n    device = \"rpool/crypt\";"),
        "{nix}"
    );
    assert!(
        nix.contains("{ device = \"/dev/zvol/rpool/crypt/swap\"; }"),
        "{nix}"
    );
    assert!(nix.contains("options = [ \"nofail\" ];"), "{nix}");

    let s = import("whole-disk-pool.nix");
    assert_eq!(s.pool.vdevs[0].path, std::path::Path::new("/dev/vdc"));
    assert_eq!(s.disks.len(), 1, "the whole disk is zpool's to partition");
    let root = s.disks[0].partitions[1].filesystem.as_ref().unwrap();
    assert_eq!(
        (root.format, root.mountpoint.as_deref()),
        (FilesystemFormat::Ext4, Some("/"))
    );
    assert_eq!(s.mountpoint("top/srv"), "/srv");

    let s = import("topology.nix");
    let t = s.pool.topology();
    let names = |g: &[impermanence_layout::VdevGroup]| -> Vec<String> {
        g.iter()
            .flat_map(|g| g.members.iter().map(|m| m.path.display().to_string()))
            .collect()
    };
    assert_eq!(t.vdev[0].mode, VdevLayout::Mirror);
    assert_eq!(
        names(&t.vdev),
        [
            "/dev/disk/by-partlabel/disk-d1-zfs",
            "/dev/disk/by-partlabel/disk-d2-zfs"
        ]
    );
    assert_eq!(names(&t.log).len(), 2);
    assert_eq!(t.special[0].mode, VdevLayout::Mirror);
    assert_eq!(
        t.cache[0].path,
        std::path::Path::new("/dev/disk/by-partlabel/disk-c1-zfs")
    );
    assert_eq!(
        t.spare[0].path,
        std::path::Path::new("/dev/disk/by-partlabel/disk-sp-zfs")
    );
    assert_eq!(s.disks.len(), 8);
}
