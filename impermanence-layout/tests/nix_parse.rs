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
