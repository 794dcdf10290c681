//! Snapshots, holds, bookmarks, clones, rollback and send/receive on the real kernel module,
//! including the bad inputs mature bindings test. Every error test checks nothing changed.

mod common;

use std::io::{Read, Seek, Write};

use common::*;
use zfs_core::testing::FilePool;
use zfs_core::{
    Change, CreateDataset, DiffEntry, ErrorKind, ReceiveOptions, SendFlags, SnapshotName, Zfs,
};

/// A pool with filesystems a, b, c (legacy mountpoints).
fn pool_abc() -> (FilePool, Zfs) {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    for d in ["a", "b", "c"] {
        CreateDataset::filesystem(ds(format!("{}/{d}", f.name())))
            .property("mountpoint", "legacy")
            .create(&zfs)
            .unwrap();
    }
    (f, zfs)
}

#[test]
#[ignore = "needs ZFS"]
fn several_snapshots_in_one_atomic_call_with_user_properties() {
    let (f, zfs) = pool_abc();
    let p = f.name().as_str();
    let snaps: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|d| snap(format!("{p}/{d}@s1")))
        .collect();
    zfs.snapshot(&snaps, &[("org.example:why", "test")])
        .unwrap();
    for s in &snaps {
        assert!(zfs.exists(&any(s.as_str())));
        assert_eq!(zfs_get(s.as_str(), "org.example:why").0, "test");
    }
    let listed = zfs.snapshots(&ds(format!("{p}/a"))).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, snaps[0]);
    assert!(listed[0].creation > 0 && listed[0].createtxg > 0);
}

#[test]
#[ignore = "needs ZFS"]
fn bad_snapshot_batches_create_nothing() {
    let (f, zfs) = pool_abc();
    let other = FilePool::new().unwrap();
    let p = f.name().as_str();
    let before = all(&zfs, p);

    // Two snapshots of one dataset.
    let e = zfs
        .snapshot(&[snap(format!("{p}/a@x")), snap(format!("{p}/a@y"))], &[])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    // Across two pools.
    let e = zfs
        .snapshot(
            &[
                snap(format!("{p}/a@x")),
                snap(format!("{}@x", other.name())),
            ],
            &[],
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    // A missing dataset among valid ones: none is created and the missing one is named.
    let e = zfs
        .snapshot(
            &[
                snap(format!("{p}/a@x")),
                snap(format!("{p}/ghost@x")),
                snap(format!("{p}/b@x")),
            ],
            &[],
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(e.failures().len(), 1, "{:?}", e.failures());
    assert_eq!(e.failures()[0].0, format!("{p}/ghost@x"));
    // Empty list, non-user property at creation.
    zfs.snapshot(&[], &[]).unwrap();
    let e = zfs
        .snapshot(&[snap(format!("{p}/a@x"))], &[("compression", "off")])
        .unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::InvalidArgument | ErrorKind::InvalidProperty
        ),
        "{e:?}"
    );
    assert_eq!(all(&zfs, p), before, "a refused batch created snapshots");

    // An existing snapshot in a batch: the batch fails whole.
    zfs.snapshot(&[snap(format!("{p}/a@x"))], &[]).unwrap();
    let e = zfs
        .snapshot(&[snap(format!("{p}/a@x")), snap(format!("{p}/b@x"))], &[])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    assert!(!zfs.exists(&any(format!("{p}/b@x"))));

    // Names too long never reach ZFS.
    let long = format!("{p}/a@{}", "s".repeat(260));
    assert_eq!(
        SnapshotName::new(long).unwrap_err().kind(),
        ErrorKind::InvalidName
    );
    assert_eq!(
        ds(format!("{p}/a"))
            .snapshot(&"s".repeat(250))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidName
    );
}

#[test]
#[ignore = "needs ZFS"]
fn recursive_snapshot_and_destroy_several() {
    let (f, zfs) = pool_abc();
    let p = f.name().as_str();
    CreateDataset::filesystem(ds(format!("{p}/a/deep")))
        .create(&zfs)
        .unwrap();
    let made = zfs
        .snapshot_recursive(&ds(format!("{p}/a")), "r1", &[])
        .unwrap();
    assert_eq!(
        made,
        [snap(format!("{p}/a@r1")), snap(format!("{p}/a/deep@r1"))]
    );
    assert!(cli(
        "zfs",
        &["list", "-H", "-t", "snapshot", "-o", "name", "-r", p]
    )
    .contains(&format!("{p}/a/deep@r1")));

    // Destroying with a missing one among them destroys nothing.
    let e = zfs
        .destroy_snapshots(
            &[made[0].clone(), snap(format!("{p}/a@ghost"))],
            &DestroySnapshotsOptions::new(),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(zfs.exists(&any(made[0].as_str())));
    zfs.destroy_snapshots(&[], &DestroySnapshotsOptions::new())
        .unwrap();
    zfs.destroy_snapshots(&made, &DestroySnapshotsOptions::new())
        .unwrap();
    assert!(made.iter().all(|s| !zfs.exists(&any(s.as_str()))));
}

#[test]
#[ignore = "needs ZFS"]
fn holds_protect_snapshots() {
    let (f, zfs) = pool_abc();
    let p = f.name().as_str();
    let s = snap(format!("{p}/a@held"));
    zfs.snapshot(std::slice::from_ref(&s), &[]).unwrap();
    let t = snap(format!("{p}/b@held"));
    zfs.snapshot(std::slice::from_ref(&t), &[]).unwrap();
    // Two snapshots held in one call; then one released.
    zfs.hold(&[(s.clone(), "backup"), (t.clone(), "keep")])
        .unwrap();
    assert_eq!(zfs.holds(&t).unwrap(), ["keep"]);
    zfs.release(&[(t.clone(), "keep")]).unwrap();
    assert!(zfs.holds(&t).unwrap().is_empty());
    assert_eq!(zfs.holds(&s).unwrap(), ["backup"]);
    assert!(cli("zfs", &["holds", "-H", s.as_str()]).contains("backup"));
    let e = zfs.hold(&[(s.clone(), "backup")]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    let e = zfs
        .destroy_snapshots(std::slice::from_ref(&s), &DestroySnapshotsOptions::new())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    assert!(zfs.exists(&any(s.as_str())));
    let e = zfs.release(&[(s.clone(), "nosuchtag")]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(
        zfs.hold(&[(s.clone(), &"t".repeat(300))])
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidName
    );
    let e = zfs
        .hold(&[(snap(format!("{p}/a@ghost")), "x")])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    zfs.hold::<&str>(&[]).unwrap();

    // Deferred destroy of a held snapshot happens at release.
    zfs.destroy_snapshots(
        std::slice::from_ref(&s),
        &DestroySnapshotsOptions::new().defer(true),
    )
    .unwrap();
    assert!(zfs.exists(&any(s.as_str())));
    zfs.release(&[(s.clone(), "backup")]).unwrap();
    assert!(!zfs.exists(&any(s.as_str())));
}

#[test]
#[ignore = "needs ZFS"]
fn bookmarks_create_list_destroy() {
    let (f, zfs) = pool_abc();
    let p = f.name().as_str();
    let a = ds(format!("{p}/a"));
    zfs.snapshot(&[a.snapshot("s1").unwrap()], &[]).unwrap();
    zfs.bookmark(&[(a.snapshot("s1").unwrap(), a.bookmark("m1").unwrap())])
        .unwrap();
    assert_eq!(zfs.bookmarks(&a).unwrap(), [a.bookmark("m1").unwrap()]);
    assert!(zfs.exists(&any(format!("{p}/a#m1"))));
    let e = zfs
        .bookmark(&[(a.snapshot("s1").unwrap(), a.bookmark("m1").unwrap())])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    let e = zfs
        .bookmark(&[(a.snapshot("ghost").unwrap(), a.bookmark("m2").unwrap())])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(!zfs.exists(&any(format!("{p}/a#m2"))));
    // The bookmark outlives its snapshot.
    zfs.destroy_snapshots(
        &[a.snapshot("s1").unwrap()],
        &DestroySnapshotsOptions::new(),
    )
    .unwrap();
    assert_eq!(zfs.bookmarks(&a).unwrap().len(), 1);
    // A missing bookmark refuses the whole call, naming it; the present one stays.
    let ghost = a.bookmark("ghost").unwrap();
    let e = zfs
        .destroy_bookmarks(&[a.bookmark("m1").unwrap(), ghost.clone()])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(e.reason(), Some(zfs_core::Reason::BookmarkNotFound));
    assert_eq!(e.failures().len(), 1);
    assert_eq!(e.failures()[0].0, ghost.as_str());
    assert_eq!(zfs.bookmarks(&a).unwrap().len(), 1);
    assert_eq!(
        cli(
            "zfs",
            &["list", "-H", "-o", "name", "-t", "bookmark", a.as_str()]
        ),
        format!("{a}#m1")
    );
    zfs.destroy_bookmarks(&[a.bookmark("m1").unwrap()]).unwrap();
    assert!(zfs.bookmarks(&a).unwrap().is_empty());
    zfs.destroy_bookmarks(&[]).unwrap();
}

#[test]
#[ignore = "needs ZFS"]
fn clone_and_promote() {
    let (f, zfs) = pool_abc();
    let p = f.name().as_str();
    let origin = snap(format!("{p}/a@base"));
    zfs.snapshot(std::slice::from_ref(&origin), &[]).unwrap();
    let clone = ds(format!("{p}/clone"));
    zfs.create_clone(&origin, &clone, &[("mountpoint", "legacy")])
        .unwrap();
    assert_eq!(
        zfs.dataset(&any(clone.as_str()))
            .unwrap()
            .property("origin")
            .unwrap()
            .value,
        origin.as_str()
    );

    let e = zfs
        .create_clone(&snap(format!("{p}/a@ghost")), &ds(format!("{p}/c2")), &[])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let e = zfs.create_clone(&origin, &clone, &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    let other = FilePool::new().unwrap();
    let e = zfs
        .create_clone(&origin, &ds(format!("{}/x", other.name())), &[])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = zfs.promote(&ds(format!("{p}/b"))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");

    // Destroying the origin is refused while the clone depends on it.
    let e = zfs
        .destroy(
            &any(format!("{p}/a")),
            &zfs_core::DestroyOptions::new().recursive(true),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    assert!(zfs.exists(&any(origin.as_str())));

    zfs.promote(&clone).unwrap();
    assert_eq!(
        zfs.dataset(&any(format!("{p}/a")))
            .unwrap()
            .property("origin")
            .unwrap()
            .value,
        format!("{clone}@base")
    );
    assert!(zfs.exists(&any(format!("{clone}@base"))));
}

#[test]
#[ignore = "needs ZFS"]
fn rollback_to_latest_and_older() {
    let (f, zfs) = pool_abc();
    let p = f.name().as_str();
    let a = format!("{p}/a");
    let mnt = tempfile::tempdir().unwrap();
    let fs = zfs.dataset(&any(&a)).unwrap();
    fs.mount_at(mnt.path()).unwrap();
    std::fs::write(mnt.path().join("v"), b"1").unwrap();
    zfs.snapshot(&[snap(format!("{a}@one"))], &[]).unwrap();
    std::fs::write(mnt.path().join("v"), b"2").unwrap();
    zfs.snapshot(&[snap(format!("{a}@two"))], &[]).unwrap();
    std::fs::write(mnt.path().join("v"), b"3").unwrap();
    std::fs::write(mnt.path().join("extra"), b"x").unwrap();

    zfs.rollback(&snap(format!("{a}@two")), &RollbackOptions::new())
        .unwrap();
    assert_eq!(std::fs::read(mnt.path().join("v")).unwrap(), b"2");
    assert!(!mnt.path().join("extra").exists());

    let e = zfs
        .rollback(&snap(format!("{a}@one")), &RollbackOptions::new())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    assert!(
        zfs.exists(&any(format!("{a}@two"))),
        "a refused rollback destroyed a snapshot"
    );
    assert_eq!(std::fs::read(mnt.path().join("v")).unwrap(), b"2");
    assert_eq!(
        zfs.rollback(
            &snap(format!("{a}@ghost")),
            &RollbackOptions::new().destroy_newer(true)
        )
        .unwrap_err()
        .kind(),
        ErrorKind::NotFound
    );

    // A bookmark of a newer snapshot stands in the way as the snapshot does; `-r` takes
    // both, and a bookmark of the target itself stays (as `zfs rollback -r` does).
    let (one, two) = (snap(format!("{a}@one")), snap(format!("{a}@two")));
    let (of_one, of_two) = (
        zfs_core::BookmarkName::new(format!("{a}#of-one")).unwrap(),
        zfs_core::BookmarkName::new(format!("{a}#of-two")).unwrap(),
    );
    zfs.bookmark(&[(one.clone(), of_one.clone()), (two.clone(), of_two.clone())])
        .unwrap();
    zfs.destroy_snapshots(std::slice::from_ref(&two), &DestroySnapshotsOptions::new())
        .unwrap();
    let e = zfs.rollback(&one, &RollbackOptions::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    assert!(e.message().contains(of_two.as_str()), "{e}");
    assert!(
        zfs.exists(&of_two),
        "a refused rollback destroyed a bookmark"
    );
    zfs.snapshot(std::slice::from_ref(&two), &[]).unwrap();

    zfs.rollback(&one, &RollbackOptions::new().destroy_newer(true))
        .unwrap();
    assert_eq!(std::fs::read(mnt.path().join("v")).unwrap(), b"1");
    assert!(!zfs.exists(&two));
    let marks = cli(
        "zfs",
        &["list", "-H", "-o", "name", "-t", "bookmark", "-r", &a],
    );
    assert_eq!(marks, of_one.as_str(), "zfs list -t bookmark");
    unmount(&fs);
}

fn write_tree(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for i in 0..20u32 {
        let data: Vec<u8> = (0..(i * 3000 + 17))
            .map(|b| (b.wrapping_mul(31) ^ i) as u8)
            .collect();
        let name = format!("f{i}");
        std::fs::write(dir.join(&name), &data).unwrap();
        files.push((name, data));
    }
    files
}

#[test]
#[ignore = "needs ZFS"]
fn send_and_receive_full_and_incremental_byte_for_byte() {
    let (f, zfs) = pool_abc();
    let p = f.name().as_str();
    let src = format!("{p}/a");
    let mnt = tempfile::tempdir().unwrap();
    let fs = zfs.dataset(&any(&src)).unwrap();
    fs.mount_at(mnt.path()).unwrap();
    let files = write_tree(mnt.path());
    zfs.snapshot(&[snap(format!("{src}@s1"))], &[]).unwrap();

    // Full stream through a file.
    let mut stream = tempfile::tempfile().unwrap();
    zfs.send(
        &snap(format!("{src}@s1")),
        None,
        &stream,
        SendFlags::LARGE_BLOCK | SendFlags::COMPRESS,
    )
    .unwrap();
    stream.rewind().unwrap();
    let dst = format!("{p}/copy");
    zfs.receive_snapshot(
        &snap(format!("{dst}@s1")),
        &stream,
        &ReceiveSnapshotOptions::new(),
    )
    .unwrap();
    let copy = zfs.dataset(&any(&dst)).unwrap();
    copy.set_property("mountpoint", "legacy").unwrap();
    let cmnt = tempfile::tempdir().unwrap();
    copy.mount_at(cmnt.path()).unwrap();
    for (name, data) in &files {
        assert_eq!(
            &std::fs::read(cmnt.path().join(name)).unwrap(),
            data,
            "{name} differs after receive"
        );
    }
    unmount(&copy);

    // Incremental stream through a pipe.
    std::fs::write(mnt.path().join("new"), b"incremental").unwrap();
    zfs.snapshot(&[snap(format!("{src}@s2"))], &[]).unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    std::thread::scope(|s| {
        let sender = s.spawn(|| {
            let z = Zfs::open().unwrap();
            z.send(
                &snap(format!("{src}@s2")),
                Some(&inc(format!("{src}@s1"))),
                &writer,
                SendFlags::empty(),
            )
        });
        zfs.receive_snapshot(
            &snap(format!("{dst}@s2")),
            &reader,
            &ReceiveSnapshotOptions::new().force(true),
        )
        .unwrap();
        sender.join().unwrap().unwrap();
    });
    copy.mount_at(cmnt.path()).unwrap();
    assert_eq!(
        std::fs::read(cmnt.path().join("new")).unwrap(),
        b"incremental"
    );
    unmount(&copy);
    unmount(&fs);
}

#[test]
#[ignore = "needs ZFS"]
fn bad_sends_and_receives_leave_nothing() {
    let (f, zfs) = pool_abc();
    let p = f.name().as_str();
    let src = format!("{p}/a");
    let mnt = tempfile::tempdir().unwrap();
    let fs = zfs.dataset(&any(&src)).unwrap();
    fs.mount_at(mnt.path()).unwrap();
    write_tree(mnt.path());
    unmount(&fs);
    zfs.snapshot(&[snap(format!("{src}@s1"))], &[]).unwrap();
    zfs.snapshot(&[snap(format!("{p}/b@unrelated"))], &[])
        .unwrap();

    let mut full = Vec::new();
    {
        let mut stream = tempfile::tempfile().unwrap();
        zfs.send(
            &snap(format!("{src}@s1")),
            None,
            &stream,
            SendFlags::empty(),
        )
        .unwrap();
        stream.rewind().unwrap();
        stream.read_to_end(&mut full).unwrap();
    }
    assert!(full.len() > 4096);
    let before = all(&zfs, p);

    // Truncated stream: a clean error, no dataset left visible.
    let mut cut = tempfile::tempfile().unwrap();
    cut.write_all(&full[..full.len() / 2]).unwrap();
    cut.rewind().unwrap();
    let e = zfs
        .receive_snapshot(
            &snap(format!("{p}/trunc@s1")),
            &cut,
            &ReceiveSnapshotOptions::new(),
        )
        .unwrap_err();
    assert!(
        !zfs.exists(&any(format!("{p}/trunc"))),
        "a truncated receive left a dataset: {e}"
    );
    // Garbage.
    let mut junk = tempfile::tempfile().unwrap();
    junk.write_all(&[0xab; 8192]).unwrap();
    junk.rewind().unwrap();
    assert!(zfs
        .receive_snapshot(
            &snap(format!("{p}/junk@s1")),
            &junk,
            &ReceiveSnapshotOptions::new()
        )
        .is_err());
    // A full stream onto an existing dataset.
    let mut again = tempfile::tempfile().unwrap();
    again.write_all(&full).unwrap();
    again.rewind().unwrap();
    let e = zfs
        .receive_snapshot(
            &snap(format!("{p}/b@s1")),
            &again,
            &ReceiveSnapshotOptions::new(),
        )
        .unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::AlreadyExists | ErrorKind::Busy),
        "{e:?}"
    );
    // Sends of missing or unrelated snapshots; to a read-only descriptor.
    let sink = tempfile::tempfile().unwrap();
    assert_eq!(
        zfs.send(
            &snap(format!("{src}@ghost")),
            None,
            &sink,
            SendFlags::empty()
        )
        .unwrap_err()
        .kind(),
        ErrorKind::NotFound
    );
    let e = zfs
        .send(
            &snap(format!("{src}@s1")),
            Some(&inc(format!("{p}/b@unrelated"))),
            &sink,
            SendFlags::empty(),
        )
        .unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::InvalidArgument | ErrorKind::NotFound),
        "{e:?}"
    );
    let ro = std::fs::File::open("/dev/null").unwrap();
    assert!(zfs
        .send(&snap(format!("{src}@s1")), None, &ro, SendFlags::empty())
        .is_err());
    assert_eq!(
        all(&zfs, p),
        before,
        "bad sends or receives changed the pool"
    );
}

#[test]
#[ignore = "needs ZFS"]
fn a_read_only_pool_refuses_changes() {
    let (f, zfs) = pool_abc();
    let p = f.name().clone();
    zfs.snapshot(&[snap(format!("{p}/a@s"))], &[]).unwrap();
    zfs.export_pool(&p, &ExportOptions::new()).unwrap();
    let _pool = zfs
        .import_pool(
            &p,
            &zfs_core::ImportOptions::new().dir(f.dir()).readonly(true),
        )
        .unwrap();
    let before = all(&zfs, p.as_str());
    let e = zfs
        .snapshot(&[snap(format!("{p}/a@new"))], &[])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ReadOnly, "{e}");
    let e = CreateDataset::filesystem(ds(format!("{p}/new")))
        .create(&zfs)
        .unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::ReadOnly | ErrorKind::PermissionDenied),
        "{e:?}"
    );
    let e = zfs
        .create_clone(&snap(format!("{p}/a@s")), &ds(format!("{p}/cl")), &[])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ReadOnly, "{e}");
    assert_eq!(all(&zfs, p.as_str()), before);
}

#[test]
#[ignore = "needs ZFS"]
fn diff_lists_what_changed_as_the_cli_does() {
    let (f, zfs) = pool_abc();
    let p = f.name().as_str();
    let src = format!("{p}/a");
    let fs = zfs.dataset(&any(&src)).unwrap();
    let s1 = snap(format!("{src}@s1"));
    let mnt = tempfile::tempdir().unwrap();
    let m = mnt.path();
    fs.mount_at(m).unwrap();
    std::fs::write(m.join("keep"), b"1").unwrap();
    std::fs::write(m.join("gone"), b"2").unwrap();
    std::fs::write(m.join("old name"), b"3").unwrap();
    zfs.snapshot(std::slice::from_ref(&s1), &[]).unwrap();
    std::fs::write(m.join("keep"), b"changed").unwrap();
    std::fs::remove_file(m.join("gone")).unwrap();
    std::fs::rename(m.join("old name"), m.join("new\u{e9}")).unwrap();
    std::fs::create_dir(m.join("dir")).unwrap();
    zfs.snapshot(&[snap(format!("{src}@s2"))], &[]).unwrap();
    std::fs::write(m.join("dir/late"), b"4").unwrap();

    let live = zfs.diff(&s1, None).unwrap();
    let to_s2 = zfs
        .diff(&s1, Some(&snap(format!("{}@s2", s1.dataset()))))
        .unwrap();
    unmount_later(&fs, || {
        let has = |v: &[DiffEntry], c: Change, t: char, rel: &str| {
            v.iter()
                .any(|e| e.change == c && e.file_type == t && e.path == m.join(rel))
        };
        for v in [&live, &to_s2] {
            assert!(
                has(v, Change::Modified { links: None }, 'F', "keep"),
                "{v:#?}"
            );
            assert!(has(v, Change::Removed, 'F', "gone"), "{v:#?}");
            assert!(
                has(
                    v,
                    Change::Renamed {
                        to: m.join("new\u{e9}")
                    },
                    'F',
                    "old name"
                ),
                "{v:#?}"
            );
            assert!(has(v, Change::Added, '/', "dir"), "{v:#?}");
        }
        assert!(has(&live, Change::Added, 'F', "dir/late"), "{live:#?}");
        assert!(!has(&to_s2, Change::Added, 'F', "dir/late"), "{to_s2:#?}");
        // The CLI reports the same number of changes.
        let cli_live = cli("zfs", &["diff", "-H", "-F", s1.as_str()]);
        assert_eq!(
            cli_live.lines().count(),
            live.len(),
            "{cli_live}\n{live:#?}"
        );
        let cli_s2 = cli(
            "zfs",
            &["diff", "-H", "-F", s1.as_str(), &format!("{src}@s2")],
        );
        assert_eq!(cli_s2.lines().count(), to_s2.len(), "{cli_s2}\n{to_s2:#?}");

        // Errors: a missing snapshot; a later snapshot given as the origin.
        let e = zfs.diff(&snap(format!("{src}@nope")), None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
        let e = zfs
            .diff(&snap(format!("{src}@s2")), Some(&snap(format!("{src}@s1"))))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    });
    // Unmounted: paths cannot be resolved.
    let e = zfs.diff(&s1, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
}

/// Runs `checks`, then unmounts `fs` even if they panicked.
fn unmount_later(fs: &zfs_core::Dataset<'_>, checks: impl FnOnce()) {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(checks));
    unmount(fs);
    if let Err(p) = r {
        std::panic::resume_unwind(p);
    }
}

#[test]
#[ignore = "needs ZFS"]
fn replicated_stream_carries_children_snapshots_and_properties() {
    let (f, zfs) = pool_abc();
    let p = f.name().as_str();
    let src = format!("{p}/a");
    zfs.dataset(&any(&src))
        .unwrap()
        .set_properties(&[("compression", "zstd"), ("org.example:role", "state")])
        .unwrap();
    CreateDataset::filesystem(ds(format!("{src}/kid")))
        .property("atime", "off")
        .create(&zfs)
        .unwrap();
    let s1 = snap(format!("{src}@s1"));
    zfs.snapshot_recursive(&ds(&src), "s1", &[]).unwrap();

    // -R: the subtree with its properties, into a new name.
    let mut stream = tempfile::tempfile().unwrap();
    zfs.send(&s1, None, &stream, SendFlags::REPLICATE).unwrap();
    stream.rewind().unwrap();
    let copy = format!("{p}/copy");
    zfs.receive(&any(&copy), &stream, &ReceiveOptions::new().no_mount(true))
        .unwrap();
    assert!(zfs.exists(&any(format!("{copy}@s1"))));
    assert!(zfs.exists(&any(format!("{copy}/kid@s1"))));
    assert_eq!(
        zfs_get(&copy, "compression"),
        ("zstd".into(), "received".into())
    );
    assert_eq!(
        zfs_get(&copy, "org.example:role"),
        ("state".into(), "received".into())
    );
    assert_eq!(
        zfs_get(&format!("{copy}/kid"), "atime"),
        ("off".into(), "received".into())
    );
    // The CLI receives the same stream the same way.
    stream.rewind().unwrap();
    let by_cli = format!("{p}/by-cli");
    let status = std::process::Command::new("zfs")
        .args(["receive", "-u", &by_cli])
        .stdin(stream.try_clone().unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(zfs_get(&format!("{by_cli}/kid"), "atime").0, "off");

    // -p alone, incremental, into the existing copy.
    zfs.dataset(&any(&src))
        .unwrap()
        .set_property("compression", "lz4")
        .unwrap();
    let s2 = snap(format!("{src}@s2"));
    zfs.snapshot(std::slice::from_ref(&s2), &[]).unwrap();
    let mut inc = tempfile::tempfile().unwrap();
    zfs.send(
        &s2,
        Some(&snap(format!("{}@s1", s2.dataset())).into()),
        &inc,
        SendFlags::PROPERTIES,
    )
    .unwrap();
    inc.rewind().unwrap();
    zfs.receive(&any(&copy), &inc, &ReceiveOptions::new().no_mount(true))
        .unwrap();
    assert!(zfs.exists(&any(format!("{copy}@s2"))));
    assert_eq!(zfs_get(&copy, "compression").0, "lz4");

    // Errors, with nothing changed: a package stream into lzc's plain receive; a truncated
    // package stream; a source of another dataset; a full stream onto an existing target.
    let before = all(&zfs, p);
    stream.rewind().unwrap();
    let e = zfs
        .receive_snapshot(
            &snap(format!("{p}/plain@s1")),
            &stream,
            &ReceiveSnapshotOptions::new(),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let len = stream.metadata().unwrap().len();
    stream.set_len(len / 2).unwrap();
    stream.rewind().unwrap();
    assert!(zfs
        .receive(
            &any(format!("{p}/half")),
            &stream,
            &ReceiveOptions::new().no_mount(true)
        )
        .is_err());
    let e = zfs
        .send(
            &s2,
            Some(&snap(format!("{p}/b@s1")).into()),
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/null")
                .unwrap(),
            SendFlags::PROPERTIES,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    inc.rewind().unwrap();
    let mut full = tempfile::tempfile().unwrap();
    zfs.send(&s1, None, &full, SendFlags::PROPERTIES).unwrap();
    full.rewind().unwrap();
    let e = zfs
        .receive(&any(&copy), &full, &ReceiveOptions::new().no_mount(true))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    assert_eq!(all(&zfs, p), before);
}

#[test]
#[ignore = "needs ZFS"]
fn rename_promote_and_receive_refusals_change_nothing() {
    let (f, zfs) = pool_abc();
    let p = f.name().as_str();
    let other = FilePool::new().unwrap();

    // Rename across pools.
    let before = all(&zfs, p);
    let e = zfs
        .rename(
            &any(format!("{p}/a")),
            &any(format!("{}/a", other.name())),
            &RenameOptions::new(),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert_eq!(all(&zfs, p), before);
    assert_eq!(
        all(&zfs, other.name().as_str()),
        vec![other.name().to_string()]
    );

    // Promote when the clone already has a snapshot named like one of the origin's.
    let origin = snap(format!("{p}/a@base"));
    zfs.snapshot(std::slice::from_ref(&origin), &[]).unwrap();
    let clone = ds(format!("{p}/clone"));
    zfs.create_clone(&origin, &clone, &[]).unwrap();
    zfs.snapshot(&[snap(format!("{clone}@base"))], &[]).unwrap();
    let before = all(&zfs, p);
    let e = zfs.promote(&clone).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    assert!(e.to_string().contains("base"), "{e}");
    assert_eq!(all(&zfs, p), before);
    assert_eq!(
        zfs.dataset(&any(clone.as_str()))
            .unwrap()
            .property("origin")
            .unwrap()
            .value,
        origin.as_str()
    );

    // A volume's full stream forced over a filesystem that has children.
    let vol = ds(format!("{p}/vol"));
    CreateDataset::volume(vol.clone(), 8 << 20)
        .sparse(true)
        .create(&zfs)
        .unwrap();
    let vsnap = snap(format!("{vol}@v"));
    zfs.snapshot(std::slice::from_ref(&vsnap), &[]).unwrap();
    let mut stream = tempfile::tempfile().unwrap();
    zfs.send(&vsnap, None, &stream, SendFlags::empty()).unwrap();
    CreateDataset::filesystem(ds(format!("{p}/b/kid")))
        .create(&zfs)
        .unwrap();
    let before = all(&zfs, p);
    for force in [false, true] {
        stream.rewind().unwrap();
        let e = zfs
            .receive_snapshot(
                &snap(format!("{p}/b@v")),
                &stream,
                &ReceiveSnapshotOptions::new().force(force),
            )
            .unwrap_err();
        assert!(
            matches!(
                e.kind(),
                ErrorKind::AlreadyExists | ErrorKind::InvalidArgument | ErrorKind::Busy
            ),
            "force={force}: {e}"
        );
        assert_eq!(all(&zfs, p), before, "force={force}");
    }
    stream.rewind().unwrap();
    let e = zfs
        .receive(
            &any(format!("{p}/b")),
            &stream,
            &ReceiveOptions::new().no_mount(true).force(true),
        )
        .unwrap_err();
    assert_eq!(all(&zfs, p), before, "{e}");
    assert_eq!(
        zfs.dataset(&any(format!("{p}/b"))).unwrap().kind(),
        zfs_core::DatasetType::Filesystem
    );
}
