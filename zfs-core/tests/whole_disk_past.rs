//! Whole disks with a past, on the VM's scratch disks and on volumes: an exported pool in
//! partition 1, a filesystem in a partition or on the disk itself, a neighbouring volume whose
//! name extends the disk's. Nothing of theirs may be overwritten without `force`, and what
//! survived is checked with OpenZFS's and util-linux's own tools (`zpool import`, `zdb -l`,
//! `blkid`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serial_test::serial;
use zfs_core::testing::FilePool;
use zfs_core::{CreateDataset, CreatePool, ErrorKind, ExportOptions, Leaf, TopLevel, VdevSpec};

const MIB: u64 = 1 << 20;

/// The VM's first scratch disk (`ci/vm` attaches two), by its stable name, emptied, and the
/// hold on the scratch disks that keeps other tests off it.
fn scratch() -> (zfs_core::testing::ScratchDisks, PathBuf) {
    let disks = hold_scratch_disks();
    let disk = disks.blank(0).unwrap();
    (disks, disk)
}

fn part1(disk: &Path) -> String {
    format!("{}-part1", disk.display())
}

/// `blkid -p -o value -s TYPE DEV`: the signature util-linux finds there ("" for none).
fn blkid_type(dev: &str) -> String {
    let out = Command::new("blkid")
        .args(["-p", "-o", "value", "-s", "TYPE", dev])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn whole(disk: &Path) -> VdevSpec {
    VdevSpec::new().vdev(TopLevel::Single(Leaf::whole_disk(disk)))
}

/// `zpool create -f -o cachefile=none -m none NAME DISK`: the whole disk taken whatever it holds.
fn create_forced(zfs: &zfs_core::Zfs, name: &zfs_core::PoolName, disk: &Path) {
    CreatePool::new(name.clone(), whole(disk))
        .pool_property("cachefile", "none")
        .mountpoint("none")
        .force(true)
        .create(zfs)
        .unwrap();
}

/// Puts a pool on the whole disk and destroys it: the disk keeps a GPT with partition 1,
/// whose label says "destroyed", which nothing protects.
fn partitioned(disk: &Path) {
    let zfs = zfs();
    let name = unique("past");
    create_forced(&zfs, &name, disk);
    zfs.destroy_pool(&name).unwrap();
    cli("udevadm", &["settle"]);
}

#[test]
#[ignore = "needs ZFS"]
#[serial]
fn a_whole_disk_holding_an_exported_pool_is_refused_and_the_pool_survives() {
    let (_disks, disk) = scratch();
    let zfs = zfs();
    let old = unique("old");
    create_forced(&zfs, &old, &disk);
    zfs.export_pool(&old, &ExportOptions::new()).unwrap();
    cli("udevadm", &["settle"]);

    let new = unique("new");
    let e = CreatePool::new(new.clone(), whole(&disk))
        .create(&zfs)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    let text = e.to_string();
    assert!(
        text.contains("-part1") && text.contains(&format!("exported pool '{old}'")),
        "{text}"
    );
    assert!(!cli_pools().contains(&new.to_string()));
    // The exported pool is whole: its labels are there and `zpool import` finds it.
    assert!(cli("zdb", &["-l", &part1(&disk)]).contains(&format!("name: '{old}'")));
    assert_eq!(blkid_type(&part1(&disk)), "zfs_member");
    let found = cli("zpool", &["import", "-d", "/dev/disk/by-id"]);
    assert!(found.contains(old.as_str()), "{found}");

    // With force, as `zpool create -f`, the disk is taken.
    create_forced(&zfs, &new, &disk);
    zfs.destroy_pool(&new).unwrap();
}

#[test]
#[ignore = "needs ZFS"]
#[serial]
fn a_filesystem_in_a_partition_or_on_the_disk_is_refused_and_survives() {
    let (_disks, disk) = scratch();
    let zfs = zfs();
    // ext4 made over an old pool's labels in partition 1: libblkid finds both.
    partitioned(&disk);
    cli("mkfs.ext4", &["-q", "-F", &part1(&disk)]);
    let e = CreatePool::new(unique("fs"), whole(&disk))
        .create(&zfs)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    assert!(e.to_string().contains("several filesystems"), "{e}");
    // ext4 alone in partition 1 of a disk that was partitioned before.
    cli("wipefs", &["-a", "-q", &part1(&disk)]);
    cli("mkfs.ext4", &["-q", "-F", &part1(&disk)]);
    assert_eq!(blkid_type(&part1(&disk)), "ext4");
    for leaf in [Leaf::whole_disk(&disk), Leaf::disk(part1(&disk))] {
        let name = unique("fs");
        let e = CreatePool::new(name.clone(), VdevSpec::new().vdev(TopLevel::Single(leaf)))
            .create(&zfs)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
        assert!(e.to_string().contains("'ext4'"), "{e}");
        assert!(e.to_string().contains("-part1"), "{e}");
        assert!(!cli_pools().contains(&name.to_string()));
        assert_eq!(blkid_type(&part1(&disk)), "ext4");
    }

    // ext4 on the whole disk, no partition table.
    let node = std::fs::canonicalize(&disk).unwrap();
    cli("wipefs", &["-a", "-q", node.to_str().unwrap()]);
    cli("udevadm", &["settle"]);
    cli("mkfs.ext4", &["-q", "-F", node.to_str().unwrap()]);
    let name = unique("fs");
    let e = CreatePool::new(name.clone(), whole(&disk))
        .create(&zfs)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    assert!(e.to_string().contains("'ext4'"), "{e}");
    assert_eq!(blkid_type(node.to_str().unwrap()), "ext4");

    // Forced, the disk is the pool's.
    create_forced(&zfs, &name, &disk);
    zfs.destroy_pool(&name).unwrap();
}

/// A whole disk given as `/dev/zvol/P/disk` while a volume `P/disk1` exists: partition 1 of
/// `disk` is `/dev/zvol/P/disk-part1`, never the neighbour.
#[test]
#[ignore = "needs ZFS"]
#[serial]
fn a_whole_disk_volume_never_takes_its_neighbour_volume() {
    use std::io::{Read, Seek, SeekFrom, Write};
    let f = FilePool::builder().size(512 * MIB).create().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    for v in ["disk", "disk1"] {
        CreateDataset::volume(ds(format!("{p}/{v}")), 128 * MIB)
            .create(&zfs)
            .unwrap();
    }
    cli("udevadm", &["settle"]);
    let (disk, neighbour) = (
        format!("/dev/zvol/{p}/disk"),
        format!("/dev/zvol/{p}/disk1"),
    );
    // The neighbour's data: a pattern 3 MiB in (where a label or a partition would go).
    let pattern: Vec<u8> = (0..MIB as usize).map(|i| (i % 251) as u8).collect();
    {
        let mut dev = std::fs::OpenOptions::new()
            .write(true)
            .open(&neighbour)
            .unwrap();
        dev.seek(SeekFrom::Start(3 * MIB)).unwrap();
        dev.write_all(&pattern).unwrap();
        dev.sync_all().unwrap();
    }

    let name = unique("onvol");
    let result = CreatePool::new(name.clone(), whole(Path::new(&disk)))
        .pool_property("cachefile", "none")
        .mountpoint("none")
        .create(&zfs);
    cli("udevadm", &["settle"]);
    if let Ok(pool) = result {
        let status = cli("zpool", &["status", "-P", name.as_str()]);
        assert!(!status.contains(&format!("{neighbour} ")), "{status}");
        assert!(!status.contains(&format!("{neighbour}\n")), "{status}");
        // Whatever the pool's device, it is partition 1 of `disk`.
        let dev = &pool.status().unwrap().root.children[0].name;
        let real = std::fs::canonicalize(dev).unwrap();
        let disk_node = std::fs::canonicalize(&disk).unwrap();
        assert!(
            real.to_str()
                .unwrap()
                .starts_with(disk_node.to_str().unwrap()),
            "{dev} is {real:?}, not a partition of {disk_node:?}"
        );
        drop(pool);
        zfs.destroy_pool(&name).unwrap();
    }
    // The neighbour is untouched: no label, its data in place.
    let zdb = Command::new("zdb")
        .args(["-l", &neighbour])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&zdb.stdout).contains("pool_guid"),
        "{}",
        String::from_utf8_lossy(&zdb.stdout)
    );
    let mut back = vec![0u8; pattern.len()];
    let mut dev = std::fs::File::open(&neighbour).unwrap();
    dev.seek(SeekFrom::Start(3 * MIB)).unwrap();
    dev.read_exact(&mut back).unwrap();
    assert!(back == pattern, "the neighbour volume's data changed");
}

/// What a test that failed halfway leaves on the scratch disks, the next test's `blank` takes
/// away: a pool still imported on disk 0 with its root mounted, and a vfat partition of disk 1
/// mounted inside it; a pool on files beside them, which is not the disks', survives.
#[test]
#[ignore = "needs ZFS"]
#[serial]
fn blank_takes_a_pool_a_failed_test_left_imported_and_mounted_and_nothing_else() {
    let disks = hold_scratch_disks();
    let disk = disks.blank(0).unwrap();
    let other = disks.blank(1).unwrap();
    let zfs = zfs();
    let left = unique("left");
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    CreatePool::new(left.clone(), whole(&disk))
        .pool_property("cachefile", "none")
        .mountpoint(mnt.to_str().unwrap())
        .mount(true)
        .create(&zfs)
        .unwrap();
    let mut sfdisk = Command::new("sfdisk")
        .args(["--quiet", other.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    sfdisk
        .stdin
        .take()
        .unwrap()
        .write_all(b"label: gpt\n,64M\n")
        .unwrap();
    assert!(sfdisk.wait().unwrap().success());
    cli("udevadm", &["settle"]);
    let esp = format!("{}-part1", other.display());
    cli("mkfs.vfat", &[&esp]);
    let boot = mnt.join("boot");
    cli("mount", &["--mkdir", &esp, boot.to_str().unwrap()]);
    let beside = FilePool::new().unwrap();
    let mounted = cli("findmnt", &["-rn", "-o", "TARGET,SOURCE"]);
    assert!(
        mounted.contains(&format!("{} {left}", mnt.display()))
            && mounted.contains(&format!("{} ", boot.display())),
        "the pool's root and the ESP inside it are mounted: {mounted}"
    );

    // The next test: both disks blank, the pool on them gone, the one beside them not.
    let again = disks.blank(0).unwrap();
    disks.blank(1).unwrap();
    assert_eq!(again, disk);
    let pools = cli_pools();
    assert!(!pools.contains(&left.to_string()), "{pools:?}");
    assert!(pools.contains(&beside.name().to_string()), "{pools:?}");
    let mounted = cli("findmnt", &["-rn", "-o", "TARGET"]);
    assert!(!mounted.contains(mnt.to_str().unwrap()), "{mounted}");
    for dev in [disk.to_str().unwrap(), other.to_str().unwrap()] {
        assert_eq!(blkid_type(dev), "", "{dev}");
        assert!(!Path::new(&format!("{dev}-part1")).exists(), "{dev}");
    }
}
