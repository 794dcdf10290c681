//! The plan for disks, partitions and the filesystems on them, on inventories made by hand.

use std::path::PathBuf;

use super::{Plan, PlanOptions, Step};
use crate::inventory::{ExistingDisk, ExistingPartition, Inventory};
use crate::partition_table::place;
use crate::spec::{
    DiskSpec, FilesystemFormat, FilesystemSpec, PartitionKind, PartitionSpec, Spec, VdevEntry,
};

const DISK: &str = "/dev/disk/by-id/nvme-A";

/// The guide's layout on a real install's disk: an ESP at /boot, swap, the rest for `zroot`.
fn installer_spec() -> Spec {
    let mut s = Spec::default();
    s.disks.push(
        DiskSpec::new(DISK)
            .partition(
                PartitionSpec::new("ESP", PartitionKind::Esp, Some("512M")).filesystem(
                    FilesystemSpec::new(FilesystemFormat::Vfat, Some("/boot"))
                        .option("umask=0077")
                        .label("BOOT"),
                ),
            )
            .partition(
                PartitionSpec::new("swap", PartitionKind::Swap, Some("1G"))
                    .filesystem(FilesystemSpec::new(FilesystemFormat::Swap, None)),
            )
            .partition(PartitionSpec::new("zroot", PartitionKind::Zfs, None)),
    );
    s.pool
        .vdevs
        .push(VdevEntry::new("/dev/disk/by-partlabel/zroot"));
    s
}

fn blank_disk() -> ExistingDisk {
    ExistingDisk {
        bytes: 8 << 30,
        sector: 512,
        table: None,
        signature: None,
        partitions: Vec::new(),
        in_use: Vec::new(),
    }
}

fn with_disk(disk: ExistingDisk) -> Inventory {
    let mut inv = Inventory::default();
    inv.disks.insert(PathBuf::from(DISK), disk);
    inv
}

/// The disk as a finished apply leaves it: the spec's table, vfat and swap on their partitions.
fn partitioned_disk(spec: &Spec) -> ExistingDisk {
    let table = place(&spec.disks[0].partitions, 8 << 30, 512).unwrap();
    let partitions = table
        .iter()
        .map(|p| ExistingPartition {
            number: p.number,
            node: PathBuf::from(format!("/dev/nvme0n1p{}", p.number)),
            signature: match p.number {
                1 => Some("vfat".into()),
                2 => Some("swap".into()),
                _ => Some("zfs_member".into()),
            },
            fs_label: None,
            mounted_at: Vec::new(),
            span: Some((p.first * 512, (p.last - p.first + 1) * 512)),
        })
        .collect();
    ExistingDisk {
        table: Some(table),
        signature: Some("gpt".into()),
        partitions,
        ..blank_disk()
    }
}

#[test]
fn a_blank_disk_is_partitioned_formatted_and_its_esp_mounted() {
    let spec = installer_spec();
    spec.validate_without_devices().unwrap();
    let plan = Plan::new(
        &spec,
        &with_disk(blank_disk()),
        &PlanOptions::new().mount_root("/mnt"),
    );
    assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
    let cmds = plan.to_commands();
    assert_eq!(
        cmds[0],
        "wipefs -a /dev/disk/by-id/nvme-A && sgdisk --clear -n 1:2048:1050623 -t 1:EF00 -c 1:ESP \
         -n 2:1050624:3147775 -t 2:8200 -c 2:swap -n 3:3147776:16775167 -t 3:BF01 -c 3:zroot \
         /dev/disk/by-id/nvme-A && udevadm settle && wipefs -a /dev/disk/by-partlabel/ESP && \
         wipefs -a /dev/disk/by-partlabel/swap && wipefs -a /dev/disk/by-partlabel/zroot  \
         # a new partition table: not undone"
    );
    assert_eq!(
        cmds[1],
        "mkfs.vfat -F 32 -n BOOT /dev/disk/by-partlabel/ESP"
    );
    assert_eq!(cmds[2], "mkswap /dev/disk/by-partlabel/swap");
    assert!(cmds[3].starts_with("zpool create -R /mnt"), "{cmds:#?}");
    assert!(
        cmds[3].ends_with(" zroot /dev/disk/by-partlabel/zroot"),
        "{cmds:#?}"
    );
    let boot = cmds
        .iter()
        .position(|c| {
            c == "mount --mkdir -t vfat -o umask=0077 /dev/disk/by-partlabel/ESP /mnt/boot"
        })
        .unwrap_or_else(|| panic!("{cmds:#?}"));
    let root = cmds
        .iter()
        .position(|c| c == "mount --mkdir -t zfs zroot/root /mnt")
        .unwrap();
    assert!(root < boot, "parents first: {cmds:#?}");

    let nix = crate::nixos_config(&spec);
    assert!(
        nix.contains(
            "  fileSystems.\"/boot\" = {\n    device = \"/dev/disk/by-partlabel/ESP\";\n    \
             fsType = \"vfat\";\n    options = [ \"umask=0077\" ];\n  };"
        ),
        "{nix}"
    );
    assert!(
        nix.contains("{ device = \"/dev/disk/by-partlabel/swap\"; }"),
        "{nix}"
    );
}

#[test]
fn a_disk_partitioned_as_the_spec_says_is_left_alone() {
    let spec = installer_spec();
    let mut disk = partitioned_disk(&spec);
    disk.partitions[0].mounted_at = vec!["/mnt/boot".into()];
    let plan = Plan::new(
        &spec,
        &with_disk(disk),
        &PlanOptions::new().mount_root("/mnt"),
    );
    assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
    assert!(
        plan.steps.iter().all(|s| !matches!(
            s,
            Step::PartitionDisk { .. } | Step::Format { .. } | Step::MountDevice { .. }
        )),
        "{:#?}",
        plan.to_commands()
    );
}

#[test]
fn a_disk_that_holds_anything_needs_wipe_and_one_in_use_is_refused_even_then() {
    let spec = installer_spec();
    let mut other = blank_disk();
    other.signature = Some("dos".into());
    other.partitions.push(ExistingPartition {
        number: 1,
        node: "/dev/nvme0n1p1".into(),
        signature: Some("ext4".into()),
        fs_label: None,
        mounted_at: Vec::new(),
        span: Some((1 << 20, 1 << 30)),
    });
    let plan = Plan::new(&spec, &with_disk(other.clone()), &PlanOptions::new());
    assert!(
        plan.conflicts[0].contains("holds 1 partition(s): refusing to repartition it (--wipe"),
        "{:?}",
        plan.conflicts
    );
    let plan = Plan::new(
        &spec,
        &with_disk(other.clone()),
        &PlanOptions::new().wipe(true),
    );
    assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
    assert!(matches!(plan.steps[0], Step::PartitionDisk { .. }));

    other
        .in_use
        .push("/dev/nvme0n1p1 is mounted at /home".into());
    let plan = Plan::new(&spec, &with_disk(other), &PlanOptions::new().wipe(true));
    assert_eq!(
        plan.conflicts,
        [format!(
            "disk {DISK} is in use (/dev/nvme0n1p1 is mounted at /home): refusing to \
             repartition it"
        )]
    );
    let plan = Plan::new(&spec, &Inventory::default(), &PlanOptions::new());
    assert!(plan
        .conflicts
        .contains(&format!("disk {DISK} does not exist")));
    let mut small = blank_disk();
    small.bytes = 1 << 30;
    let plan = Plan::new(&spec, &with_disk(small), &PlanOptions::new());
    assert!(
        plan.conflicts[0].contains("partition 2 (swap) does not fit"),
        "{:?}",
        plan.conflicts
    );
}

#[test]
fn an_existing_partition_with_another_filesystem_is_not_formatted_without_wipe() {
    let spec = installer_spec();
    let mut disk = partitioned_disk(&spec);
    disk.partitions[0].signature = Some("ext4".into());
    let plan = Plan::new(&spec, &with_disk(disk.clone()), &PlanOptions::new());
    assert!(
        plan.conflicts[0].contains("/dev/disk/by-partlabel/ESP holds ext4, the spec makes vfat"),
        "{:?}",
        plan.conflicts
    );
    disk.partitions[0].signature = None;
    let plan = Plan::new(&spec, &with_disk(disk), &PlanOptions::new());
    assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
    assert!(
        plan.to_commands()[0].starts_with("mkfs.vfat"),
        "{:#?}",
        plan.to_commands()
    );
}

#[test]
fn bad_disks_and_partitions_are_named() {
    let mut s = installer_spec();
    s.disks[0].partitions[0].filesystem.as_mut().unwrap().format = FilesystemFormat::Ext4;
    s.disks[0].partitions[1].size = None;
    s.disks[0].partitions[2].label = "ESP".into();
    s.pool.vdevs[0] = VdevEntry::new("/dev/disk/by-partlabel/swap");
    s.disks.push(DiskSpec::new("relative/disk"));
    let e = s.validate_without_devices().unwrap_err().to_string();
    for want in [
        "partition 1 (ESP): an esp partition does not take ext4",
        "partition 2 (swap): only the last partition can take the rest",
        "partition 3 (ESP): the label 'ESP' is used twice",
        "partition 2 (swap) is a vdev of the pool: give it type = \"zfs\" and no filesystem",
        "disk relative/disk: give an absolute path",
        "disk relative/disk has no partitions",
    ] {
        assert!(e.contains(want), "no '{want}' in {e}");
    }
}

/// ext4 on a volume (disko's `zfs_volume` with a filesystem): made after the volume, mounted
/// under the root, in the NixOS module; a second run finds it made and mounted.
#[test]
fn a_filesystem_on_a_volume_is_made_mounted_and_left_alone_after() {
    let mut s = Spec::default();
    s.pool
        .vdevs
        .push(VdevEntry::new("/var/tmp/z.img").size("2G"));
    s.datasets.push(
        crate::DatasetSpec::volume("data", "1G").filesystem(
            FilesystemSpec::new(FilesystemFormat::Ext4, Some("/srv"))
                .option("noatime")
                .label("data"),
        ),
    );
    s.validate().unwrap();
    let plan = Plan::new(
        &s,
        &Inventory::default(),
        &PlanOptions::new().mount_root("/mnt"),
    );
    let cmds = plan.to_commands();
    let create = cmds
        .iter()
        .position(|c| c.ends_with(" zroot/data"))
        .unwrap();
    let mkfs = cmds
        .iter()
        .position(|c| c == "mkfs.ext4 -q -L data /dev/zvol/zroot/data")
        .unwrap_or_else(|| panic!("{cmds:#?}"));
    assert!(create < mkfs);
    assert!(
        cmds.contains(&"mount --mkdir -t ext4 -o noatime /dev/zvol/zroot/data /mnt/srv".to_owned()),
        "{cmds:#?}"
    );
    let nix = crate::nixos_config(&s);
    assert!(
        nix.contains("fileSystems.\"/srv\" = {\n    device = \"/dev/zvol/zroot/data\";\n    fsType = \"ext4\";"),
        "{nix}"
    );

    let mut bad = s.clone();
    bad.boot.swap.push("data".into());
    let e = bad.validate().unwrap_err().to_string();
    assert!(
        e.contains("volume data is in boot.swap but its filesystem is ext4"),
        "{e}"
    );
}

/// After a failed reread the disk has the spec's table but the kernel the old partitions: a
/// conflict, never formatting through links that lead to the old ones.
#[test]
fn a_table_the_kernel_has_not_read_is_a_conflict() {
    let spec = installer_spec();
    let mut disk = partitioned_disk(&spec);
    disk.partitions[0].span = Some((1 << 20, 300 << 20));
    let plan = Plan::new(&spec, &with_disk(disk), &PlanOptions::new());
    assert_eq!(
        plan.conflicts,
        [format!(
            "disk {DISK} has the spec's partition table, but the kernel has not read it \
             (blockdev --rereadpt {DISK}, or reboot)"
        )]
    );
}

/// A label another disk's partition carries stops the plan before anything, an import
/// included.
#[test]
fn a_label_on_another_disk_stops_the_plan() {
    let spec = installer_spec();
    let mut inv = with_disk(blank_disk());
    inv.label_clashes
        .push("ESP already names a partition of another disk (/dev/sdb1)".into());
    inv.exported = Some(crate::inventory::ExportedPool {
        guid: 1,
        dirs: Vec::new(),
    });
    let plan = Plan::new(&spec, &inv, &PlanOptions::new());
    assert!(plan.steps.is_empty(), "{:#?}", plan.steps);
    assert_eq!(plan.conflicts.len(), 1);
}

/// A table that differs only in where a partition ends (made by another tool, or by a build
/// that ended the last partition at the last usable sector) is named with the sectors, not
/// with two equal lists of labels.
#[test]
fn verify_says_where_a_partition_of_the_same_label_lies() {
    let spec = installer_spec();
    let mut disk = partitioned_disk(&spec);
    let table = disk.table.as_mut().unwrap();
    let last = table.last_mut().unwrap();
    last.last = 16777182;
    let found = crate::verify::differences(&spec, &with_disk(disk));
    let what: Vec<&str> = found.iter().map(|d| d.what.as_str()).collect();
    assert!(
        what.iter().any(|w| w.contains(
            "zroot at sectors 3147776-16777182 of type 6A898CC3-1DD2-11B2-99A6-080020736631 \
             where the spec puts it at 3147776-16775167"
        )),
        "{what:#?}"
    );
}
