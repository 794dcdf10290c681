//! Disks, partitions and the filesystems on them, on the VM's scratch disks: a blank disk gets
//! an ESP, swap and the pool's partition; a disk with a past is refused until `--wipe`, and one
//! in use is refused even then. Checked with sfdisk, lsblk, blkid, findmnt, zdb and
//! `zpool import`, not only through the crate.

mod common;

use std::path::Path;

use common::*;
use impermanence_layout::{
    DatasetSpec, DiskSpec, FilesystemFormat, FilesystemSpec, PartitionKind, PartitionSpec,
    VdevEntry,
};

/// The guide's layout on `disk`: an ESP (vfat, `/boot`), swap, and the rest for the pool.
fn on_disk(tag: &str, disk: &Path) -> (Case, String) {
    let mut case = Case::new(tag);
    let zfs_label = format!("{}-zfs", case.spec.pool.name);
    case.spec.disks.push(
        DiskSpec::new(disk)
            .partition(
                PartitionSpec::new(&format!("{tag}-esp"), PartitionKind::Esp, Some("64M"))
                    .filesystem(
                        FilesystemSpec::new(FilesystemFormat::Vfat, Some("/boot"))
                            .option("umask=0077")
                            .label("BOOT"),
                    ),
            )
            .partition(
                PartitionSpec::new(&format!("{tag}-swap"), PartitionKind::Swap, Some("32M"))
                    .filesystem(FilesystemSpec::new(FilesystemFormat::Swap, None)),
            )
            .partition(PartitionSpec::new(&zfs_label, PartitionKind::Zfs, None)),
    );
    case.spec.pool.vdevs = vec![VdevEntry::new(format!(
        "/dev/disk/by-partlabel/{zfs_label}"
    ))];
    case.spec.validate().unwrap();
    (case, zfs_label)
}

/// `sfdisk --json`'s partitions: (name, type GUID).
fn sfdisk(disk: &Path) -> Vec<(String, String)> {
    sfdisk_partitions(disk)
        .into_iter()
        .map(|(name, kind, ..)| (name, kind))
        .collect()
}

/// What `blkid -p` finds on a device: (TYPE, LABEL).
fn blkid(dev: &str) -> (String, String) {
    let out = std::process::Command::new("blkid")
        .args(["-p", "-o", "export", dev])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or("")
            .to_owned()
    };
    (get("TYPE"), get("LABEL"))
}

fn findmnt_source(path: &Path) -> String {
    let out = std::process::Command::new("findmnt")
        .args(["-n", "-o", "SOURCE,FSTYPE", "--mountpoint"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The tests of this binary share the two scratch disks: one at a time.
static SCRATCH: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn scratch_disks() -> std::sync::MutexGuard<'static, ()> {
    SCRATCH
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[test]
#[ignore = "needs ZFS"]
fn a_blank_disk_gets_an_esp_swap_and_the_pool_and_a_second_run_changes_nothing() {
    let _disks = scratch_disks();
    let disk = blank_scratch(0);
    let (mut case, zfs_label) = on_disk("blank", &disk);
    // And ext4 on a volume, as disko's `zfs_volume` with a filesystem.
    case.spec.datasets.push(
        DatasetSpec::volume("data", "32M")
            .filesystem(FilesystemSpec::new(FilesystemFormat::Ext4, Some("/srv")).label("data")),
    );
    let spec = case.spec_file();
    let data = format!("/dev/zvol/{}/data", case.spec.pool.name);
    let pool = case.spec.pool.name.clone();
    let mnt = case.dir.path().join("mnt");
    let mnt_s = mnt.to_str().unwrap();
    let esp = "/dev/disk/by-partlabel/blank-esp";
    let apply = |extra: &[(&str, &str)]| {
        cli_env(
            &["apply", "--yes", "--spec", &spec, "--mount-root", mnt_s],
            extra,
        )
    };

    let (code, printed, err) = cli(&["plan", "--spec", &spec, "--mount-root", mnt_s]);
    assert_eq!(code, 0, "{printed}{err}");
    assert!(
        printed.contains("&& sgdisk --clear -n 1:2048:133119 -t 1:EF00"),
        "{printed}"
    );
    assert!(
        printed.contains("# a new partition table: not undone"),
        "{printed}"
    );

    // A failure after the ESP is formatted: everything but the new table is undone.
    let (code, _, err) = apply(&[("IMPERMANENCE_LAYOUT_FAIL_AT", "3")]);
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains("undoing it failed"), "{err}");
    assert!(!zfs().pool_exists(&case.pool()));
    assert_eq!(
        sfdisk(&disk).len(),
        3,
        "the new table stays, as the plan said"
    );
    assert_eq!(blkid(esp).0, "", "the ESP's vfat was wiped again");

    let (code, out, err) = apply(&[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        sfdisk(&disk),
        [
            (
                "blank-esp".into(),
                "C12A7328-F81F-11D2-BA4B-00A0C93EC93B".into()
            ),
            (
                "blank-swap".into(),
                "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F".into()
            ),
            (
                zfs_label.clone(),
                "6A898CC3-1DD2-11B2-99A6-080020736631".into()
            ),
        ]
    );
    assert_eq!(blkid(esp), ("vfat".into(), "BOOT".into()));
    assert_eq!(blkid("/dev/disk/by-partlabel/blank-swap").0, "swap");
    assert_eq!(
        blkid(&format!("/dev/disk/by-partlabel/{zfs_label}")).0,
        "zfs_member"
    );
    let boot = findmnt_source(&mnt.join("boot"));
    let node = std::fs::canonicalize(esp).unwrap();
    assert_eq!(boot, format!("{} vfat", node.display()));
    assert_eq!(findmnt_source(&mnt), format!("{pool}/root zfs"));
    assert_eq!(blkid(&data), ("ext4".into(), "data".into()));
    let data_node = std::fs::canonicalize(&data).unwrap();
    assert_eq!(
        findmnt_source(&mnt.join("srv")),
        format!("{} ext4", data_node.display())
    );
    let status = cli_out("zpool", &["status", "-P", &pool]);
    assert!(
        status.contains(&format!("/dev/disk/by-partlabel/{zfs_label}")),
        "{status}"
    );

    let (code, out, err) = apply(&[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("nothing to do"), "{out}");
    let (code, out, err) = cli(&["verify", "--spec", &spec]);
    assert_eq!(code, 0, "{out}{err}");
    let (_, nixos, _) = cli(&["nixos-config", "--spec", &spec]);
    assert!(
        nixos.contains(&format!("device = \"{esp}\";\n    fsType = \"vfat\";")),
        "{nixos}"
    );

    // The installer's end, and a second install session.
    let (code, out, err) = cli(&["unmount", "--spec", &spec]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("umount {}", mnt.join("boot").display())),
        "{out}"
    );
    assert!(
        out.contains(&format!("umount {}", mnt.join("srv").display())),
        "{out}"
    );
    assert_eq!(findmnt_source(&mnt.join("boot")), "");
    assert!(!zfs().pool_exists(&case.pool()));
    let (code, out, err) = apply(&[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        findmnt_source(&mnt.join("boot")),
        format!("{} vfat", node.display())
    );
    // Imported again, the volume may have another node (`zd0` for `zd32`).
    let data_node = std::fs::canonicalize(&data).unwrap();
    assert_eq!(
        findmnt_source(&mnt.join("srv")),
        format!("{} ext4", data_node.display())
    );
    // The pool stays imported for the case to destroy; the ESP and the ext4 in it go first.
    cli_out("umount", &[mnt.join("boot").to_str().unwrap()]);
    cli_out("umount", &[mnt.join("srv").to_str().unwrap()]);
}

#[test]
#[ignore = "needs ZFS"]
fn a_disk_with_a_past_needs_wipe_and_one_in_use_is_refused_even_then() {
    let _disks = scratch_disks();
    let disk = blank_scratch(1);
    let d = disk.to_str().unwrap();
    // The past: a whole-disk pool, exported (partition 1 holds its labels).
    let old = format!("old{}", std::process::id());
    cli_out(
        "zpool",
        &[
            "create",
            "-f",
            "-o",
            "cachefile=none",
            "-m",
            "none",
            &old,
            d,
        ],
    );
    cli_out("zpool", &["export", &old]);
    cli_out("udevadm", &["settle"]);
    let (case, zfs_label) = on_disk("past", &disk);
    let spec = case.spec_file();

    let (code, out, err) = cli(&["apply", "--yes", "--spec", &spec]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains(&format!("disk {d} holds")) && err.contains("--wipe"),
        "{err}"
    );
    let labels = cli_out("zdb", &["-l", &format!("{d}-part1")]);
    assert!(
        labels.contains(&format!("name: '{old}'")),
        "the old pool is intact: {labels}"
    );

    let (code, out, err) = cli(&["apply", "--yes", "--wipe", "--spec", &spec]);
    assert_eq!(code, 0, "{out}{err}");
    let importable = std::process::Command::new("zpool")
        .args(["import", "-d", "/dev/disk/by-id"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&importable.stdout);
    assert!(
        !listed.contains(&old),
        "the old pool's labels went with the table: {listed}"
    );
    let labels = cli_out(
        "zdb",
        &["-l", &format!("/dev/disk/by-partlabel/{zfs_label}")],
    );
    assert!(
        labels.contains(&format!("name: '{}'", case.spec.pool.name)),
        "{labels}"
    );
    assert!(!labels.contains(&old), "{labels}");

    // In use: its ESP mounted. A spec that would repartition it is refused, --wipe or not.
    let esp = "/dev/disk/by-partlabel/past-esp";
    let held = case.dir.path().join("held");
    std::fs::create_dir_all(&held).unwrap();
    cli_out("mount", &[esp, held.to_str().unwrap()]);
    let mut other = case.spec.clone();
    other.disks[0].partitions[0].size = Some("96M".into());
    let other_file = case.dir.path().join("other.toml");
    std::fs::write(&other_file, other.to_toml()).unwrap();
    let (code, out, err) = cli(&["plan", "--wipe", "--spec", other_file.to_str().unwrap()]);
    cli_out("umount", &[held.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!("disk {d} is in use")) && out.contains("is mounted at"),
        "{out}"
    );

    // A label this disk's partition carries, given to a partition of the other disk: udev's
    // link would name one of two partitions, so nothing is planned (only read here: the other
    // test owns that disk).
    let mut clash = other.clone();
    clash.disks[0].device = "/dev/disk/by-id/virtio-zfs-scratch0".into();
    clash.pool.name = format!("{}c", case.spec.pool.name);
    std::fs::write(&other_file, clash.to_toml()).unwrap();
    let (code, out, err) = cli(&["plan", "--wipe", "--spec", other_file.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("# conflict: past-esp already names a partition of another disk"),
        "{out}"
    );
    assert_eq!(
        out.lines().filter(|l| !l.starts_with('#')).count(),
        0,
        "{out}"
    );
}

/// The printed partitioning (wipefs, sgdisk, wipefs of the new partitions), run by the shell,
/// makes the very table apply writes with the gpt crate: names, types, starts and sizes.
#[test]
#[ignore = "needs ZFS"]
fn the_printed_partitioning_makes_the_table_apply_writes() {
    let _disks = scratch_disks();
    let disk = blank_scratch(1);
    let (case, _) = on_disk("printed", &disk);
    let spec = case.spec_file();
    let (code, printed, err) = cli(&["plan", "--spec", &spec]);
    assert_eq!(code, 0, "{printed}{err}");
    let line = printed.lines().next().unwrap();
    let command = line.split("  #").next().unwrap();
    assert!(command.contains("sgdisk --clear"), "{printed}");
    let out = std::process::Command::new("sh")
        .args(["-c", command])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let by_hand = sfdisk_partitions(&disk);

    let disk = blank_scratch(1);
    let (code, out, err) = cli(&["apply", "--yes", "--spec", &spec]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(sfdisk_partitions(&disk), by_hand);
    assert_eq!(by_hand.len(), 3);
}
