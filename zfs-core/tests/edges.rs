//! Edge cases found by coverage, each a behaviour a caller relies on: all-or-nothing unmounts,
//! ambiguous imports, volume-only properties on receive, bad pool property names.

mod common;

use std::io::{Seek, Write};

use common::*;
use serial_test::serial;
use zfs_core::testing::FilePool;
use zfs_core::{
    CreateDataset, CreatePool, DestroyOptions, ErrorKind, ImportOptions, ReceiveOptions, SendFlags,
    VdevSpec,
};

#[test]
#[ignore = "needs ZFS"]
#[serial]
fn a_recursive_destroy_that_cannot_unmount_remounts_what_it_unmounted() {
    let f = FilePool::builder().prefix("remount").create().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let root = tempfile::tempdir().unwrap();
    let (a, b) = (format!("{p}/a"), format!("{p}/a/b"));
    CreateDataset::filesystem(ds(&a))
        .property("mountpoint", root.path().join("a").to_str().unwrap())
        .create(&zfs)
        .unwrap();
    CreateDataset::filesystem(ds(&b)).create(&zfs).unwrap();
    for d in [&a, &b] {
        zfs.dataset(&any(d)).unwrap().mount().unwrap();
    }
    // Deepest first: b unmounts, then a is busy; b must be mounted again and nothing destroyed.
    let busy = std::fs::File::create(root.path().join("a/held")).unwrap();
    let e = zfs
        .destroy(&any(&a), &DestroyOptions::new().recursive(true))
        .unwrap_err();
    drop(busy);
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    assert_eq!(all(&zfs, &a), [a.clone(), b.clone()]);
    let bd = zfs.dataset(&any(&b)).unwrap();
    assert_eq!(
        bd.mounted_at().as_deref(),
        Some(root.path().join("a/b").as_path()),
        "the child unmounted for the destroy is mounted again"
    );
    assert_eq!(zfs_get(&b, "mounted").0, "yes");
    unmount(&bd);
    unmount(&zfs.dataset(&any(&a)).unwrap());
    assert!(format!("{bd:?}").contains(&b));
    assert!(format!("{zfs:?}").starts_with("Zfs"));
    assert!(format!("{:?}", zfs.pool(f.name()).unwrap()).contains(p));
    assert_eq!(
        zfs_core::Versions::detect().built_for,
        zfs_core::BUILT_FOR_VERSION
    );
}

#[test]
#[ignore = "needs ZFS"]
fn importing_a_name_two_exported_pools_share_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let zfs = zfs();
    let name = unique("twin");
    for i in 0..2 {
        let vdev = sparse(dir.path(), &format!("v{i}"), 128 << 20);
        CreatePool::new(name.clone(), VdevSpec::new().file(&vdev))
            .pool_property("cachefile", "none")
            .mountpoint("none")
            .create(&zfs)
            .unwrap();
        zfs.export_pool(&name, &ExportOptions::new()).unwrap();
    }
    let opts = ImportOptions::new().dir(dir.path());
    let e = zfs.import_pool(&name, &opts).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert!(
        e.to_string().contains("2 exported pools have that name"),
        "{e}"
    );
    assert!(!zfs.pool_exists(&name));
    // Import each under a name of its own, to clean up.
    let found = zfs.importable_pools(&opts).unwrap();
    assert_eq!(found.iter().filter(|p| p.name == name).count(), 2);
    for p in found.iter().filter(|p| p.name == name) {
        cli(
            "zpool",
            &[
                "import",
                "-d",
                dir.path().to_str().unwrap(),
                &p.guid.to_string(),
                &format!("{name}g{}", p.guid % 1000),
            ],
        );
        cli("zpool", &["destroy", &format!("{name}g{}", p.guid % 1000)]);
    }
}

#[test]
#[ignore = "needs ZFS"]
fn a_volume_stream_takes_volume_only_properties_on_receive() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    CreateDataset::volume(ds(format!("{p}/vol")), 8 << 20)
        .sparse(true)
        .create(&zfs)
        .unwrap();
    let s = snap(format!("{p}/vol@s"));
    zfs.snapshot(std::slice::from_ref(&s), &[]).unwrap();
    let mut stream = tempfile::tempfile().unwrap();
    zfs.send(&s, None, &stream, SendFlags::empty()).unwrap();
    stream.flush().unwrap();
    stream.rewind().unwrap();
    let opts = ReceiveSnapshotOptions::new().property("volmode", "dev");
    zfs.receive_snapshot(&snap(format!("{p}/copy@s")), &stream, &opts)
        .unwrap();
    assert_eq!(zfs_get(&format!("{p}/copy"), "volmode").0, "dev");
    assert_eq!(zfs_get(&format!("{p}/copy"), "type").0, "volume");
}

#[test]
#[ignore = "needs ZFS"]
fn bad_pool_property_names_and_read_only_ones_are_typed() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let pool = zfs.pool(f.name()).unwrap();
    for bad in ["a\0b", "feature@no_such_feature", "nosuchprop"] {
        let e = pool.property(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidProperty, "{bad:?}: {e}");
    }
    let e = pool.set_property("size", "1").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidProperty, "{e}");
    // A bookmark cannot be the source of a package (properties) stream.
    let p = f.name().as_str();
    CreateDataset::filesystem(ds(format!("{p}/a")))
        .create(&zfs)
        .unwrap();
    let (s1, s2) = (snap(format!("{p}/a@1")), snap(format!("{p}/a@2")));
    zfs.snapshot(std::slice::from_ref(&s1), &[]).unwrap();
    zfs.bookmark(&[(s1, zfs_core::BookmarkName::new(format!("{p}/a#b")).unwrap())])
        .unwrap();
    zfs.snapshot(std::slice::from_ref(&s2), &[]).unwrap();
    let sink = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .unwrap();
    let e = zfs
        .send(
            &s2,
            Some(&inc(format!("{}#b", s2.dataset()))),
            &sink,
            SendFlags::PROPERTIES,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    // A plain stream from the bookmark is fine.
    zfs.send(
        &s2,
        Some(&inc(format!("{}#b", s2.dataset()))),
        &sink,
        SendFlags::empty(),
    )
    .unwrap();
}

#[test]
#[ignore = "needs ZFS"]
fn a_send_into_a_pipe_nobody_reads_is_a_stream_error() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    CreateDataset::filesystem(ds(format!("{p}/a")))
        .create(&zfs)
        .unwrap();
    let s = snap(format!("{p}/a@s"));
    zfs.snapshot(std::slice::from_ref(&s), &[]).unwrap();
    // A pipe whose read end is closed.
    let (reader, writer) = pipe();
    drop(reader);
    let e = zfs.send(&s, None, &writer, SendFlags::empty()).unwrap_err();
    assert_eq!(e.reason(), Some(zfs_core::Reason::StreamIo), "{e:?}");
    assert_eq!(e.errno().unwrap().name(), Some("EPIPE"));
}

#[test]
#[ignore = "needs ZFS"]
fn an_incremental_stream_received_as_a_clone_of_its_origin() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    CreateDataset::filesystem(ds(format!("{p}/a")))
        .property("mountpoint", "none")
        .create(&zfs)
        .unwrap();
    let (s1, s2) = (snap(format!("{p}/a@1")), snap(format!("{p}/a@2")));
    zfs.snapshot(std::slice::from_ref(&s1), &[]).unwrap();
    zfs.snapshot(std::slice::from_ref(&s2), &[]).unwrap();
    let mut stream = tempfile::tempfile().unwrap();
    zfs.send(
        &s2,
        Some(&inc(format!("{}@1", s2.dataset()))),
        &stream,
        SendFlags::empty(),
    )
    .unwrap();
    stream.flush().unwrap();
    stream.rewind().unwrap();
    let opts = ReceiveOptions::new().no_mount(true).origin(s1.clone());
    zfs.receive(&any(format!("{p}/c")), &stream, &opts).unwrap();
    assert_eq!(zfs_get(&format!("{p}/c"), "origin").0, s1.as_str());
    assert!(zfs.exists(&any(format!("{p}/c@2"))));
}
