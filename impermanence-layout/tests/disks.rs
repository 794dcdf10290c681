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
    let text = blkid_export(dev);
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

/// A disk's past: a whole-disk pool named `{prefix}PID` on `disk`, exported (partition 1
/// holds its labels). Returns its name.
fn old_pool_on(disk: &str, prefix: &str) -> String {
    let old = format!("{prefix}{}", std::process::id());
    let create = [
        "create",
        "-f",
        "-o",
        "cachefile=none",
        "-m",
        "none",
        &old,
        disk,
    ];
    cli_out("zpool", &create);
    cli_out("zpool", &["export", &old]);
    cli_out("udevadm", &["settle"]);
    old
}

#[test]
#[ignore = "needs ZFS"]
fn a_blank_disk_gets_an_esp_swap_and_the_pool_and_a_second_run_changes_nothing() {
    let disks = hold_scratch_disks();
    let disk = disks.blank(0).unwrap();
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
    let disks = hold_scratch_disks();
    let disk = disks.blank(1).unwrap();
    let d = disk.to_str().unwrap();
    let old = old_pool_on(d, "old");
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
    // link would name one of two partitions, so nothing is planned (only read here, under the
    // hold on both disks).
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
    let disks = hold_scratch_disks();
    let disk = disks.blank(1).unwrap();
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

    let disk = disks.blank(1).unwrap();
    let (code, out, err) = cli(&["apply", "--yes", "--spec", &spec]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(sfdisk_partitions(&disk), by_hand);
    assert_eq!(by_hand.len(), 3);
}

/// The block devices' kernel events (`udevadm monitor --kernel`), read on a thread.
struct KernelEvents {
    monitor: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl KernelEvents {
    /// Starts listening, and returns once an event it caused itself (a `change` of `disk`)
    /// came through: none before that is missed.
    fn start(disk: &str) -> KernelEvents {
        let mut monitor = std::process::Command::new("udevadm")
            .args(["monitor", "--kernel", "--subsystem-match=block"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let out = monitor.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut events = KernelEvents { monitor, lines };
        let sys = format!("/sys/class/block/{disk}");
        for _ in 0..20 {
            cli_out("udevadm", &["trigger", "--action=change", &sys]);
            if events.wait_for(" change ", &format!("/{disk} (block)"), 1) {
                return events;
            }
        }
        panic!("udevadm monitor never saw the change of {disk}");
    }

    /// Whether an event with `action` for a path ending in `tail` comes within `secs`.
    fn wait_for(&mut self, action: &str, tail: &str, secs: u64) -> bool {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        while let Some(left) = end.checked_duration_since(std::time::Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) if l.contains(action) && l.ends_with(tail) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        false
    }
}

impl Drop for KernelEvents {
    fn drop(&mut self) {
        let _ = self.monitor.kill();
        let _ = self.monitor.wait();
    }
}

/// Opens `disk` for writing and closes it, as any tool that wrote to it does: udev's watch
/// sees the close and has the kernel read the table again, unless the disk is held.
fn close_after_writing(disk: &Path) {
    drop(std::fs::OpenOptions::new().write(true).open(disk).unwrap());
}

/// A new table's disk stays held while the layout works on its partitions: udev does not read
/// the table again by itself (which takes every partition and its links away for a moment,
/// and once failed the ESP's mkfs), and does as soon as the disk is let go, which shows that
/// this test would see a re-read.
#[test]
#[ignore = "needs ZFS"]
fn udev_does_not_read_a_new_table_again_while_the_disk_is_held() {
    use impermanence_layout::partition_table;
    let disks = hold_scratch_disks();
    let disk = disks.blank(1).unwrap();
    let node = std::fs::canonicalize(&disk).unwrap();
    let name = node.file_name().unwrap().to_str().unwrap().to_owned();
    let bytes: u64 = cli_out("blockdev", &["--getsize64", node.to_str().unwrap()])
        .trim()
        .parse()
        .unwrap();
    let parts = [
        PartitionSpec::new("held-a", PartitionKind::Linux, Some("64M")),
        PartitionSpec::new("held-b", PartitionKind::Linux, None),
    ];
    let placed = partition_table::place(&parts, bytes, 512).unwrap();
    let held = partition_table::write(&disk, 512, &placed).unwrap();
    cli_out("udevadm", &["settle"]);
    let mut events = KernelEvents::start(&name);
    // udev does not watch a device while it runs its rules for it: every event out first.
    cli_out("udevadm", &["settle"]);
    let first = format!("/{name}1 (block)");

    // Held: udev sees the close (it sends the partitions a `change`), and does not re-read.
    close_after_writing(&disk);
    assert!(
        events.wait_for(" change ", &first, 30),
        "udev never acted on the close of the held disk"
    );
    assert!(
        !events.wait_for(" remove ", &first, 5),
        "udev read the table of the held disk again"
    );
    assert!(Path::new("/dev/disk/by-partlabel/held-a").exists());

    // Let go: the next close is re-read (tried a few times: udev may be busy with the disk).
    drop(held);
    let reread = (0..5).any(|_| {
        cli_out("udevadm", &["settle"]);
        close_after_writing(&disk);
        events.wait_for(" remove ", &first, 10)
    });
    assert!(
        reread,
        "udev never read the table again once the disk was let go"
    );
    cli_out("udevadm", &["settle"]);
}

/// A disk that another partitioner holds, locked as systemd asks partitioners to lock
/// (`udevadm lock`), is waited for, then refused before anything is written: the old pool on
/// it is intact, as `zdb -l` reads it.
#[test]
#[ignore = "needs ZFS"]
fn a_disk_another_partitioner_holds_is_refused_and_left_as_it_was() {
    let disks = hold_scratch_disks();
    let disk = disks.blank(1).unwrap();
    let d = disk.to_str().unwrap();
    let old = old_pool_on(d, "held");
    let (case, _) = on_disk("locked", &disk);
    let spec = case.spec_file();

    let dir = tempfile::tempdir().unwrap();
    let taken = dir.path().join("taken");
    let mut locker = std::process::Command::new("udevadm")
        .args(["lock", &format!("--device={d}"), "sh", "-c"])
        // Holds the disk until the test takes the file away again.
        .arg(format!(
            "touch {0} && while [ -e {0} ]; do sleep 0.1; done",
            taken.display()
        ))
        .spawn()
        .unwrap();
    let end = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !taken.exists() {
        assert!(
            std::time::Instant::now() < end,
            "udevadm lock never took {d}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    let (code, out, err) = cli(&["apply", "--yes", "--wipe", "--spec", &spec]);
    std::fs::remove_file(&taken).unwrap();
    assert!(locker.wait().unwrap().success());
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("another program holds") && err.contains("did not let go within 10 s"),
        "{err}"
    );
    let labels = cli_out("zdb", &["-l", &format!("{d}-part1")]);
    assert!(
        labels.contains(&format!("name: '{old}'")),
        "the old pool is intact: {labels}"
    );
}
