use super::*;

fn sized_file(dir: &Path, name: &str, size: u64) -> PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p).unwrap().set_len(size).unwrap();
    p
}

#[test]
fn builds_the_tree_zpool_create_expects() {
    let spec = VdevSpec::new()
        .mirror(["/a", "/b"])
        .raidz(2, ["/c", "/d", "/e"])
        .log_file("/l")
        .cache_file("/c2");
    let root = spec.to_nvlist().unwrap();
    assert_eq!(root.get_str("type").as_deref(), Some("root"));
    let children = root.get_list_array("children").unwrap();
    assert_eq!(children.len(), 3);
    assert_eq!(children[0].get_str("type").as_deref(), Some("mirror"));
    assert_eq!(
        children[0].get_list_array("children").unwrap()[1]
            .get_str("path")
            .as_deref(),
        Some("/b")
    );
    assert_eq!(children[1].get_str("type").as_deref(), Some("raidz"));
    assert_eq!(children[1].get_u64("nparity"), Some(2));
    assert_eq!(children[2].get_u64("is_log"), Some(1));
    assert_eq!(
        root.get_list_array("l2cache").unwrap()[0]
            .get_str("path")
            .as_deref(),
        Some("/c2")
    );
    assert!(!root.contains("spares"));
}

#[test]
fn every_class_has_a_file_shorthand_equal_to_its_long_form() {
    let short = VdevSpec::new()
        .file("/d")
        .special_file("/s")
        .dedup_file("/dd")
        .log_file("/l")
        .cache_file("/c")
        .spare_file("/sp");
    let single = |p: &str| TopLevel::Single(Leaf::file(p));
    let long = VdevSpec::new()
        .vdev(single("/d"))
        .special(single("/s"))
        .dedup(single("/dd"))
        .log(single("/l"))
        .cache(Leaf::file("/c"))
        .spare(Leaf::file("/sp"));
    assert_eq!(short, long);
    let root = short.to_nvlist().unwrap();
    assert_eq!(
        root.get_list_array("spares").unwrap()[0]
            .get_str("path")
            .as_deref(),
        Some("/sp")
    );
}

#[test]
fn validation_refuses_bad_layouts_and_devices() {
    let dir = tempfile::tempdir().unwrap();
    let big = sized_file(dir.path(), "big", MIN_DEVICE_SIZE);
    let big2 = sized_file(dir.path(), "big2", MIN_DEVICE_SIZE);
    let small = sized_file(dir.path(), "small", 32 << 20);
    let kind = |s: VdevSpec| s.validate().unwrap_err().kind();

    assert!(VdevSpec::new().file(&big).validate().is_ok());
    assert!(VdevSpec::new().mirror([&big, &big2]).validate().is_ok());
    assert_eq!(kind(VdevSpec::new()), ErrorKind::InvalidArgument);
    assert_eq!(
        kind(VdevSpec::new().file(&small)),
        ErrorKind::DeviceTooSmall
    );
    assert_eq!(
        kind(VdevSpec::new().file(dir.path().join("missing"))),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(VdevSpec::new().file("relative/file")),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        kind(VdevSpec::new().file(dir.path())),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        kind(VdevSpec::new().mirror([&big])),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        kind(VdevSpec::new().raidz(2, [&big, &big2])),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        kind(VdevSpec::new().raidz(4, [&big, &big2])),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        kind(VdevSpec::new().file(&big).file(&big)),
        ErrorKind::InvalidArgument
    );

    let e = VdevSpec::new().file(&small).validate().unwrap_err();
    assert!(
        e.to_string().contains("smaller than the minimum of 64 MiB"),
        "{e}"
    );
}

#[test]
fn ashift_goes_on_every_leaf() {
    let spec = VdevSpec::new()
        .mirror(["/a", "/b"])
        .file("/s")
        .special(TopLevel::Single(Leaf::file("/sp")))
        .log_file("/l")
        .cache_file("/c")
        .spare(Leaf::file("/x"));
    let root = spec.to_nvlist_with_ashift(Some(12)).unwrap();
    let mut leaves = Vec::new();
    for top in root.get_list_array("children").unwrap() {
        match top.get_list_array("children") {
            Some(kids) => {
                assert!(!top.contains("ashift"), "ashift belongs on leaves");
                leaves.extend(kids);
            }
            None => leaves.push(top),
        }
    }
    leaves.extend(root.get_list_array("l2cache").unwrap());
    leaves.extend(root.get_list_array("spares").unwrap());
    assert_eq!(leaves.len(), 7);
    for leaf in &leaves {
        assert_eq!(
            leaf.get_u64("ashift"),
            Some(12),
            "{:?}",
            leaf.get_str("path")
        );
    }
    let plain = spec.to_nvlist().unwrap();
    let first = &plain.get_list_array("children").unwrap()[1];
    assert!(!first.contains("ashift"));
}

#[test]
fn partition_one_is_named_as_zpool_create_names_it() {
    for (disk, part) in [
        ("/dev/sda", "/dev/sda1"),
        ("/dev/vdb", "/dev/vdb1"),
        ("/dev/nvme0n1", "/dev/nvme0n1p1"),
        ("/dev/loop3", "/dev/loop3p1"),
        (
            "/dev/disk/by-id/ata-DISK_SERIAL",
            "/dev/disk/by-id/ata-DISK_SERIAL-part1",
        ),
        (
            "/dev/disk/by-id/wwn-0x5000c5",
            "/dev/disk/by-id/wwn-0x5000c5-part1",
        ),
        // A volume's link: `disk` + `1` would be the volume `P/disk1`.
        ("/dev/zvol/P/disk", "/dev/zvol/P/disk-part1"),
        ("/dev/zvol/P/disk2", "/dev/zvol/P/disk2-part1"),
    ] {
        assert_eq!(partition_path(Path::new(disk)), Path::new(part), "{disk}");
    }
    // A whole disk is never put into a vdev tree unpartitioned.
    let spec = VdevSpec::new().vdev(TopLevel::Single(Leaf::whole_disk("/dev/sda")));
    assert_eq!(
        spec.to_nvlist().unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    let part = Leaf::whole_disk("/dev/sda").partition_of_whole_disk();
    assert_eq!(part.path(), Path::new("/dev/sda1"));
    assert!(!part.is_whole_disk() && !part.is_file());
}

#[test]
fn distributed_spares_are_named_as_libzfs_names_them() {
    for good in ["draid1-0-0", "draid2-3-10", "draid3-255-99"] {
        let spec = VdevSpec::new().vdev(TopLevel::Single(Leaf::distributed_spare(good)));
        spec.validate_devices().unwrap();
        let tree = spec.to_nvlist_with_ashift(Some(12)).unwrap();
        let leaf = &tree.get_list_array("children").unwrap()[0];
        assert_eq!(leaf.get_str("type").as_deref(), Some("dspare"));
        assert_eq!(leaf.get_str("path").as_deref(), Some(good));
        assert_eq!(leaf.get_u64("ashift"), None);
    }
    for bad in [
        "draid1-0",
        "draid-0-0",
        "raidz1-0-0",
        "draid1-0-x",
        "/dev/draid1-0-0",
        "",
    ] {
        let spec = VdevSpec::new().vdev(TopLevel::Single(Leaf::distributed_spare(bad)));
        let e = spec.validate_devices().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad}");
    }
}

#[test]
fn the_disk_of_a_partition_is_found_as_zpool_replace_finds_it() {
    for disk in [
        "/dev/sda",
        "/dev/vda",
        "/dev/nvme0n1",
        "/dev/loop0",
        "/dev/disk/by-id/virtio-zfs-scratch0",
        "/dev/disk/by-id/ata-X_1",
        "/dev/zvol/P/disk",
        "/dev/zvol/P/v1",
    ] {
        let part = partition_path(Path::new(disk));
        assert_eq!(
            disk_of_partition(&part).as_deref(),
            Some(Path::new(disk)),
            "{disk}"
        );
    }
    for not_one in [
        "/dev/sda2",
        "/dev/nvme0n1p2",
        "/dev/disk/by-id/x-part2",
        "/dev/sda",
        "/dev/zvol/P/disk1",
    ] {
        assert_eq!(disk_of_partition(Path::new(not_one)), None, "{not_one}");
    }
}
