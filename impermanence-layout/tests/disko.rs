//! A disko configuration imported (`import-disko`) and applied on the VM's two scratch disks:
//! the partitions, topology, locally set properties, mounts and filesystem types are what
//! disko's own commands give that configuration (by disko's rules in lib/types: labels
//! `disk-NAME-PART`, partitions typed 8300 unless said, `-o mountpoint=` from a dataset's
//! mountpoint, the pool created under the mount root), checked with sfdisk, zpool, zfs get -j,
//! findmnt and blkid; verify is clean and a second apply is a no-op.

mod common;

use std::path::Path;

use common::*;

/// Destroys the pool the configuration names, whatever happens in the test.
struct Tank;

impl Drop for Tank {
    fn drop(&mut self) {
        let _ = zfs_core::testing::zpool(&["destroy", "-f", "tank"]);
    }
}

fn findmnt(path: &Path) -> (String, String, String) {
    let out = std::process::Command::new("findmnt")
        .args(["-n", "-o", "SOURCE,FSTYPE,OPTIONS", "--mountpoint"])
        .arg(path)
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let mut f = line.split_whitespace().map(str::to_owned);
    (
        f.next().unwrap_or_default(),
        f.next().unwrap_or_default(),
        f.next().unwrap_or_default(),
    )
}

/// (value, source type) of each property, from `zfs get -j -p`.
fn zfs_get(dataset: &str, props: &str) -> serde_json::Value {
    cli_json("zfs", &["get", "-j", "-p", props, dataset])["datasets"][dataset]["properties"].clone()
}

/// Imports `config` (in tests/disko) with `disks` given their devices; the spec file's path.
fn import(dir: &Path, config: &str, disks: &[(&str, &Path)]) -> String {
    let config = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/disko")
        .join(config);
    let mut args = vec!["import-disko".to_owned(), config.display().to_string()];
    for (name, dev) in disks {
        args.push("--disk".into());
        args.push(format!("{name}={}", dev.display()));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, toml, err) = cli(&args);
    assert_eq!(code, 0, "{err}");
    let spec = dir.join("spec.toml");
    std::fs::write(&spec, &toml).unwrap();
    spec.display().to_string()
}

#[test]
#[ignore = "needs ZFS"]
fn a_disko_mirror_with_an_esp_is_laid_down_as_disko_lays_it_down() {
    let disks = hold_scratch_disks();
    let first = disks.blank(0).unwrap();
    let second = disks.blank(1).unwrap();
    let _tank = Tank;
    let dir = tempfile::tempdir().unwrap();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/disko/mirror-with-esp.nix");
    let (code, toml, err) = cli(&[
        "import-disko",
        config.to_str().unwrap(),
        "--disk",
        &format!("first={}", first.display()),
        "--disk",
        &format!("second={}", second.display()),
    ]);
    assert_eq!(code, 0, "{err}");
    let spec = dir.path().join("spec.toml");
    std::fs::write(&spec, &toml).unwrap();
    let spec = spec.to_str().unwrap();
    let mnt = dir.path().join("mnt");
    let mnt_s = mnt.to_str().unwrap();
    let (code, out, err) = cli(&["apply", "--yes", "--spec", spec, "--mount-root", mnt_s]);
    assert_eq!(code, 0, "{toml}\n{out}{err}");

    // Partitions as disko's sgdisk calls make them: names, types, order.
    let table = |disk: &Path| -> Vec<(String, String)> {
        sfdisk_partitions(disk)
            .into_iter()
            .map(|(name, kind, ..)| (name, kind))
            .collect()
    };
    let linux = "0FC63DAF-8483-4772-8E79-3D69D8477DE4".to_owned();
    assert_eq!(
        table(&first),
        [
            (
                "disk-first-ESP".to_owned(),
                "C12A7328-F81F-11D2-BA4B-00A0C93EC93B".to_owned()
            ),
            ("disk-first-zfs".to_owned(), linux.clone())
        ]
    );
    assert_eq!(table(&second), [("disk-second-zfs".to_owned(), linux)]);

    // A mirror of the two zfs partitions, by their by-partlabel paths.
    let status = cli_out("zpool", &["status", "-P", "tank"]);
    let mirror = status
        .find("mirror-0")
        .unwrap_or_else(|| panic!("{status}"));
    assert!(
        status[mirror..].contains("/dev/disk/by-partlabel/disk-first-zfs")
            && status[mirror..].contains("/dev/disk/by-partlabel/disk-second-zfs"),
        "{status}"
    );
    assert_eq!(zpool_get("tank", "ashift"), "12");
    assert_eq!(zpool_get("tank", "altroot"), mnt_s);

    // Locally set properties, as disko's `zfs create -o` and `zpool create -O` set them.
    let root = zfs_get("tank", "compression,org.example:backup,mountpoint");
    assert_eq!(root["compression"]["value"], "lz4");
    assert_eq!(root["org.example:backup"]["value"], "no");
    assert_eq!(root["mountpoint"]["value"], mnt_s);
    assert_eq!(root["mountpoint"]["source"]["type"], "LOCAL");
    for (ds, want) in [
        ("tank/home", format!("{mnt_s}/home")),
        ("tank/home/alice", format!("{mnt_s}/home/alice")),
        ("tank/scratch", "none".to_owned()),
        ("tank/var", "legacy".to_owned()),
    ] {
        let p = zfs_get(ds, "mountpoint");
        assert_eq!(p["mountpoint"]["value"], want.as_str(), "{ds}");
        assert_eq!(p["mountpoint"]["source"]["type"], "LOCAL", "{ds}");
    }
    let swap = zfs_get("tank/swap", "volblocksize,compression,volsize");
    assert_eq!(swap["volblocksize"]["value"], "4096");
    assert_eq!(swap["compression"]["value"], "zle");
    assert_eq!(swap["volsize"]["value"], (16u64 << 20).to_string().as_str());
    let snaps = cli_out(
        "zfs",
        &["list", "-H", "-t", "snapshot", "-o", "name", "-r", "tank"],
    );
    assert_eq!(snaps.trim(), "tank@blank");

    // Mounted where disko mounts them, with their types and options.
    let esp = std::fs::canonicalize("/dev/disk/by-partlabel/disk-first-ESP").unwrap();
    let data = std::fs::canonicalize("/dev/zvol/tank/vols/data").unwrap();
    assert_eq!(findmnt(&mnt).0, "tank");
    let home = findmnt(&mnt.join("home"));
    assert_eq!((home.0.as_str(), home.1.as_str()), ("tank/home", "zfs"));
    assert!(home.2.split(',').any(|o| o == "nosuid"), "{home:?}");
    assert_eq!(findmnt(&mnt.join("home/alice")).0, "tank/home/alice");
    assert_eq!(findmnt(&mnt.join("var")).0, "tank/var");
    let boot = findmnt(&mnt.join("boot"));
    assert_eq!(
        (boot.0, boot.1),
        (esp.display().to_string(), "vfat".to_owned())
    );
    assert!(
        boot.2.contains("umask=0077") || boot.2.contains("fmask=0077"),
        "{:?}",
        boot.2
    );
    let srv = findmnt(&mnt.join("srv"));
    assert_eq!(
        (srv.0, srv.1),
        (data.display().to_string(), "ext4".to_owned())
    );
    assert_eq!(
        findmnt(&mnt.join("scratch")).0,
        "",
        "mountpoint=none is not mounted"
    );
    assert_eq!(signature("/dev/zvol/tank/swap"), "swap");

    let (code, out, err) = cli(&["verify", "--spec", spec]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = cli(&["apply", "--yes", "--spec", spec, "--mount-root", mnt_s]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("nothing to do"), "{out}");
    let (code, out, err) = cli(&["unmount", "--spec", spec]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(mounts_under(&mnt).is_empty(), "{:?}", mounts_under(&mnt));
    // Back for the guard to destroy.
    cli_out(
        "zpool",
        &["import", "-N", "-d", "/dev/disk/by-partlabel", "tank"],
    );
}

/// Destroys a pool by name, whatever happens in the test.
struct Destroy(&'static str);

impl Drop for Destroy {
    fn drop(&mut self) {
        let _ = zfs_core::testing::zpool(&["destroy", "-f", self.0]);
    }
}

/// disko's encrypted-root shape: the passphrase read from standard input, the encrypted
/// dataset mounted at the root, its child under it, the swap volume formatted; locked again
/// by `unmount`, and asked for again by the next apply.
#[test]
#[ignore = "needs ZFS"]
fn a_disko_encrypted_root_takes_its_passphrase_and_mounts_at_the_root() {
    let disks = hold_scratch_disks();
    let disk = disks.blank(0).unwrap();
    let _pool = Destroy("rpool");
    let dir = tempfile::tempdir().unwrap();
    let spec = import(dir.path(), "encrypted-root.nix", &[("nvme", &disk)]);
    let mnt = dir.path().join("mnt");
    let mnt_s = mnt.to_str().unwrap();
    let pass = "correct horse battery staple\n";
    let (code, err) = cli_stdin(
        &["apply", "--yes", "--spec", &spec, "--mount-root", mnt_s],
        pass,
    );
    assert_eq!(code, Some(0), "{err}");
    let crypt = zfs_get(
        "rpool/crypt",
        "encryption,keyformat,keylocation,encryptionroot",
    );
    assert_eq!(crypt["encryption"]["value"], "aes-256-gcm");
    assert_eq!(crypt["keyformat"]["value"], "passphrase");
    assert_eq!(crypt["keylocation"]["value"], "prompt");
    assert_eq!(findmnt(&mnt).0, "rpool/crypt");
    assert_eq!(findmnt(&mnt.join("nix")).0, "rpool/crypt/nix");
    assert_eq!(findmnt(&mnt.join("boot")).1, "vfat");
    assert_eq!(signature("/dev/zvol/rpool/crypt/swap"), "swap");
    let (code, out, err) = cli(&["verify", "--spec", &spec]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = cli(&["unmount", "--spec", &spec]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("zfs unload-key rpool/crypt"), "{out}");
    // The next session: imported, the passphrase asked for again, everything mounted.
    let (code, err) = cli_stdin(
        &["apply", "--yes", "--spec", &spec, "--mount-root", mnt_s],
        pass,
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(findmnt(&mnt.join("nix")).0, "rpool/crypt/nix");
    cli_out("umount", &[mnt.join("boot").to_str().unwrap()]);
}

/// disko's zfs-over-legacy shape: ext4 at the root on a partition of one disk, a pool on the
/// whole other disk (`zpool create` partitions it) with a dataset mounted under the ext4.
#[test]
#[ignore = "needs ZFS"]
fn a_disko_pool_on_a_whole_disk_mounts_under_an_ext4_root() {
    let disks = hold_scratch_disks();
    let sys = disks.blank(0).unwrap();
    let data = disks.blank(1).unwrap();
    let _pool = Destroy("dpool");
    let dir = tempfile::tempdir().unwrap();
    let spec = import(
        dir.path(),
        "whole-disk-pool.nix",
        &[("sys", &sys), ("data", &data)],
    );
    let mnt = dir.path().join("mnt");
    let mnt_s = mnt.to_str().unwrap();
    let (code, out, err) = cli(&["apply", "--yes", "--spec", &spec, "--mount-root", mnt_s]);
    assert_eq!(code, 0, "{out}{err}");
    let root = std::fs::canonicalize("/dev/disk/by-partlabel/disk-sys-root").unwrap();
    assert_eq!(findmnt(&mnt).0, root.display().to_string());
    assert_eq!(findmnt(&mnt).1, "ext4");
    assert_eq!(findmnt(&mnt.join("srv")).0, "dpool/top/srv");
    assert_eq!(findmnt(&mnt.join("boot")).1, "vfat");
    // The whole disk, partitioned by zpool: its partition 1 holds the pool.
    let labels = cli_out("zdb", &["-l", &format!("{}-part1", data.display())]);
    assert!(labels.contains("name: 'dpool'"), "{labels}");
    let (code, out, err) = cli(&["verify", "--spec", &spec]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = cli(&["apply", "--yes", "--spec", &spec, "--mount-root", mnt_s]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("nothing to do"), "{out}");
    let (code, out, err) = cli(&["unmount", "--spec", &spec]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(mounts_under(&mnt).is_empty(), "{:?}", mounts_under(&mnt));
    cli_out("zpool", &["import", "-N", "-d", "/dev/disk/by-id", "dpool"]);
}

/// Loop devices with partitions (`losetup -P`), detached, and the pool on them destroyed, on
/// drop.
struct Loops {
    pool: &'static str,
    devices: Vec<std::path::PathBuf>,
}

impl Loops {
    /// `n` loop devices on sparse files of `size` bytes in `dir`.
    fn new(pool: &'static str, dir: &Path, n: usize, size: u64) -> Loops {
        // The VM's kernel has the loop driver as a module, not loaded until asked for.
        let _ = std::process::Command::new("modprobe").arg("loop").status();
        let mut loops = Loops {
            pool,
            devices: Vec::new(),
        };
        for i in 0..n {
            let file = dir.join(format!("disk{i}.img"));
            std::fs::File::create(&file).unwrap().set_len(size).unwrap();
            let dev = cli_out("losetup", &["-f", "--show", "-P", file.to_str().unwrap()]);
            loops.devices.push(dev.trim().into());
        }
        loops
    }
}

impl Drop for Loops {
    fn drop(&mut self) {
        let _ = zfs_core::testing::zpool(&["destroy", "-f", self.pool]);
        for dev in &self.devices {
            let _ = std::process::Command::new("losetup")
                .arg("-d")
                .arg(dev)
                .status();
        }
    }
}

/// disko's zfs-with-vdevs shape on eight partitioned loop devices (more disks than the VM's
/// two): a mirror, a special mirror, a log mirror, a cache and a spare, each on the partition
/// disko names `disk-NAME-zfs`, in the class `zpool status` shows it in.
#[test]
#[ignore = "needs ZFS"]
fn a_disko_topology_on_partitioned_loop_devices_is_laid_down_class_by_class() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["d1", "d2", "l1", "l2", "s1", "s2", "c1", "sp"];
    let loops = Loops::new("big", dir.path(), names.len(), 128 << 20);
    let disks: Vec<(&str, &Path)> = names
        .iter()
        .zip(&loops.devices)
        .map(|(name, dev)| (*name, dev.as_path()))
        .collect();
    let spec = import(dir.path(), "topology.nix", &disks);
    let mnt = dir.path().join("mnt");
    let mnt_s = mnt.to_str().unwrap();
    let (code, out, err) = cli(&["apply", "--yes", "--spec", &spec, "--mount-root", mnt_s]);
    assert_eq!(code, 0, "{out}{err}");

    for (name, dev) in &disks {
        let table = sfdisk_partitions(dev);
        assert_eq!(table.len(), 1, "{name}: {table:?}");
        assert_eq!(table[0].0, format!("disk-{name}-zfs"), "{name}");
    }
    // Each partition in its class, as `zpool status -P` lists the classes: the device lines
    // under each section header (the pool's own name heads the data vdevs).
    let status = cli_out("zpool", &["status", "-P", "big"]);
    let mut section = String::new();
    let mut placed: Vec<(String, String)> = Vec::new();
    let mut mirrors: Vec<String> = Vec::new();
    for line in status.lines() {
        let word = line.split_whitespace().next().unwrap_or_default();
        if ["big", "special", "logs", "cache", "spares", "dedup"].contains(&word)
            && line.starts_with('\t')
            && !line.starts_with("\t ")
        {
            section = word.to_owned();
        } else if let Some(label) = word.strip_prefix("/dev/disk/by-partlabel/disk-") {
            placed.push((section.clone(), label.trim_end_matches("-zfs").to_owned()));
        } else if word.starts_with("mirror-") {
            mirrors.push(section.clone());
        }
    }
    let want: Vec<(String, String)> = [
        ("big", "d1"),
        ("big", "d2"),
        ("special", "s1"),
        ("special", "s2"),
        ("logs", "l1"),
        ("logs", "l2"),
        ("cache", "c1"),
        ("spares", "sp"),
    ]
    .iter()
    .map(|(s, d)| (s.to_string(), d.to_string()))
    .collect();
    let mut got = placed.clone();
    got.sort();
    let mut sorted_want = want.clone();
    sorted_want.sort();
    assert_eq!(got, sorted_want, "{status}");
    mirrors.sort();
    assert_eq!(mirrors, ["big", "logs", "special"], "{status}");

    let (code, out, err) = cli(&["verify", "--spec", &spec]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = cli(&["apply", "--yes", "--spec", &spec, "--mount-root", mnt_s]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("nothing to do"), "{out}");
}

/// Whether `blkid -p` finds a ZFS label on a device.
fn has_zfs_label(device: &str) -> bool {
    let out = std::process::Command::new("blkid")
        .args(["-p", "-o", "value", "-s", "TYPE", device])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "zfs_member"
}

/// A boot pool GRUB can read and a root pool, mirrored over partitions of both scratch disks,
/// with the ESP inside the boot pool's `/boot` inside the root pool's `/`: one spec, one apply.
/// A fault in the root pool's part takes the boot pool back too (their labels cleared, so that
/// the next run is not refused); then it is laid down as disko lays it down, verify is clean,
/// a second apply is a no-op, `unmount` exports both, and the next apply imports both.
#[test]
#[ignore = "needs ZFS"]
fn a_boot_pool_and_a_root_pool_are_laid_down_together_or_not_at_all() {
    let disks = hold_scratch_disks();
    let one = disks.blank(0).unwrap();
    let two = disks.blank(1).unwrap();
    let (_b, _r) = (Destroy("bpool"), Destroy("rpool"));
    let dir = tempfile::tempdir().unwrap();
    let spec = import(
        dir.path(),
        "boot-and-root-pools.nix",
        &[("one", &one), ("two", &two)],
    );
    let mnt = dir.path().join("mnt");
    let mnt_s = mnt.to_str().unwrap();
    let apply = |env: &[(&str, &str)]| {
        cli_env(
            &["apply", "--yes", "--spec", &spec, "--mount-root", mnt_s],
            env,
        )
    };
    let pools = || cli_out("zpool", &["list", "-H", "-o", "name"]);

    // The plan, as JSON: the step that creates the root pool's first dataset fails.
    let (code, json, err) = cli(&["plan", "--json", "--spec", &spec, "--mount-root", mnt_s]);
    assert_eq!(code, 0, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
    let steps = plan["steps"].as_array().unwrap();
    let k = steps
        .iter()
        .position(|s| s["step"] == "create_dataset" && s["name"] == "rpool/home")
        .unwrap_or_else(|| panic!("{json}"));
    assert!(
        steps[..k]
            .iter()
            .any(|s| s["step"] == "create_pool" && s["name"] == "bpool"),
        "the boot pool is made first: {json}"
    );
    let (code, out, err) = apply(&[("IMPERMANENCE_LAYOUT_FAIL_AT", &(k + 1).to_string())]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(!err.contains("undoing it failed"), "{err}");
    let listed = pools();
    assert!(
        !listed.contains("bpool") && !listed.contains("rpool"),
        "{listed}"
    );
    assert!(mounts_under(&mnt).is_empty(), "{:?}", mounts_under(&mnt));
    for p in ["one-bpool", "two-bpool", "one-rpool", "two-rpool"] {
        let dev = format!("/dev/disk/by-partlabel/disk-{p}");
        assert!(!has_zfs_label(&dev), "{dev} keeps a label");
    }
    assert_eq!(
        sfdisk_partitions(&one).len(),
        3,
        "the new table stays, as the plan said"
    );

    let (code, out, err) = apply(&[]);
    assert_eq!(code, 0, "{out}{err}");

    // Partitions as disko's sgdisk calls make them.
    let names = |disk: &Path| -> Vec<String> {
        sfdisk_partitions(disk)
            .into_iter()
            .map(|(name, ..)| name)
            .collect()
    };
    assert_eq!(
        names(&one),
        ["disk-one-ESP", "disk-one-bpool", "disk-one-rpool"]
    );
    assert_eq!(names(&two), ["disk-two-bpool", "disk-two-rpool"]);
    // Each pool a mirror of its two partitions.
    for pool in ["bpool", "rpool"] {
        let status = cli_out("zpool", &["status", "-P", pool]);
        let mirror = status
            .find("mirror-0")
            .unwrap_or_else(|| panic!("{status}"));
        for disk in ["one", "two"] {
            let dev = format!("/dev/disk/by-partlabel/disk-{disk}-{pool}");
            assert!(status[mirror..].contains(&dev), "{status}");
        }
        assert_eq!(zpool_get(pool, "ashift"), "12");
        assert_eq!(zpool_get(pool, "altroot"), mnt_s);
    }
    // The boot pool has only GRUB's features; the root pool has them all.
    assert_eq!(zpool_get("bpool", "compatibility"), "grub2");
    assert_eq!(zpool_get("bpool", "feature@zstd_compress"), "disabled");
    assert_eq!(zpool_get("bpool", "feature@lz4_compress"), "active");
    assert_ne!(zpool_get("rpool", "feature@zstd_compress"), "disabled");
    for (ds, want) in [
        ("bpool/nixos", format!("{mnt_s}/boot")),
        ("rpool/root", mnt_s.to_owned()),
        ("rpool/home", "legacy".to_owned()),
    ] {
        let p = zfs_get(ds, "mountpoint");
        assert_eq!(p["mountpoint"]["value"], want.as_str(), "{ds}");
        assert_eq!(p["mountpoint"]["source"]["type"], "LOCAL", "{ds}");
    }
    assert_eq!(
        zfs_get("rpool", "compression")["compression"]["value"],
        "zstd"
    );
    let snaps = cli_out(
        "zfs",
        &["list", "-H", "-t", "snapshot", "-o", "name", "-r", "rpool"],
    );
    assert_eq!(snaps.trim(), "rpool@blank");

    // Mounted parents first across the pools: / (rpool), /boot (bpool), /boot/efi (the ESP).
    let mounted = || {
        let esp = std::fs::canonicalize("/dev/disk/by-partlabel/disk-one-ESP").unwrap();
        assert_eq!(findmnt(&mnt).0, "rpool/root");
        assert_eq!(findmnt(&mnt.join("boot")).0, "bpool/nixos");
        let efi = findmnt(&mnt.join("boot/efi"));
        assert_eq!(
            (efi.0, efi.1),
            (esp.display().to_string(), "vfat".to_owned())
        );
        assert_eq!(findmnt(&mnt.join("home")).0, "rpool/home");
    };
    mounted();

    let (code, out, err) = cli(&["verify", "--spec", &spec]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("bpool, rpool: the layout matches"), "{out}");
    let (code, out, err) = apply(&[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("nothing to do"), "{out}");
    let (code, module, err) = cli(&["nixos-config", "--spec", &spec]);
    assert_eq!(code, 0, "{err}");
    for device in ["rpool/root", "bpool/nixos", "rpool/home"] {
        assert!(
            module.contains(&format!("device = \"{device}\"")),
            "{module}"
        );
    }

    // Torn down together, imported together.
    let (code, out, err) = cli(&["unmount", "--spec", &spec]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(mounts_under(&mnt).is_empty(), "{:?}", mounts_under(&mnt));
    let listed = pools();
    assert!(
        !listed.contains("bpool") && !listed.contains("rpool"),
        "{listed}"
    );
    let (code, out, err) = apply(&[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("imported bpool, rpool"), "{out}");
    mounted();
    let (code, out, err) = cli(&["verify", "--spec", &spec]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = cli(&["unmount", "--spec", &spec]);
    assert_eq!(code, 0, "{out}{err}");
    for pool in ["bpool", "rpool"] {
        cli_out(
            "zpool",
            &["import", "-N", "-d", "/dev/disk/by-partlabel", pool],
        );
    }
}
