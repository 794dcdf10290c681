//! Every failure pyzfs tells apart, told apart here too: each case is provoked on the real
//! module and must come back with its kind and its exact [`Reason`] (see the table in
//! `Reason`'s docs), with the failing items listed for batch calls.

mod common;

use std::io::{Seek, Write};

use common::*;
use zfs_core::testing::FilePool;
use zfs_core::{
    BookmarkName, CreateDataset, DestroyOptions, Error, ErrorKind, Key, Reason, SendFlags, Zfs,
};

fn fs(zfs: &Zfs, name: &str) {
    CreateDataset::filesystem(ds(name))
        .property("mountpoint", "legacy")
        .create(zfs)
        .unwrap();
}

#[track_caller]
fn is(e: Error, kind: ErrorKind, reason: Reason) -> Error {
    assert_eq!((e.kind(), e.reason()), (kind, Some(reason)), "{e} ({e:?})");
    e
}

#[test]
#[ignore = "needs ZFS"]
fn names_that_exist_or_not() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    fs(&zfs, &format!("{p}/a"));
    is(
        zfs.pool(&zfs_core::PoolName::new("nosuchpool").unwrap())
            .unwrap_err(),
        ErrorKind::NotFound,
        Reason::PoolNotFound,
    );
    let missing_ds = zfs.dataset(&any(format!("{p}/nope"))).unwrap_err();
    is(missing_ds, ErrorKind::NotFound, Reason::DatasetNotFound);
    let missing_snap = zfs.dataset(&any(format!("{p}/a@nope"))).unwrap_err();
    is(missing_snap, ErrorKind::NotFound, Reason::SnapshotNotFound);
    let e = CreateDataset::filesystem(ds(format!("{p}/a"))).create(&zfs);
    is(
        e.unwrap_err(),
        ErrorKind::AlreadyExists,
        Reason::DatasetExists,
    );
    let e = CreateDataset::filesystem(ds(format!("{p}/x/y"))).create(&zfs);
    is(e.unwrap_err(), ErrorKind::NotFound, Reason::ParentNotFound);
    CreateDataset::volume(ds(format!("{p}/vol")), 8 << 20)
        .sparse(true)
        .create(&zfs)
        .unwrap();
    let e = CreateDataset::filesystem(ds(format!("{p}/vol/child"))).create(&zfs);
    is(
        e.unwrap_err(),
        ErrorKind::InvalidArgument,
        Reason::WrongParent,
    );
}

#[test]
#[ignore = "needs ZFS"]
fn snapshots_held_cloned_not_latest_duplicated() {
    let f = FilePool::new().unwrap();
    let other = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    fs(&zfs, &format!("{p}/a"));
    let (s1, s2) = (snap(format!("{p}/a@1")), snap(format!("{p}/a@2")));
    zfs.snapshot(std::slice::from_ref(&s1), &[]).unwrap();
    zfs.snapshot(std::slice::from_ref(&s2), &[]).unwrap();
    let e = zfs.snapshot(std::slice::from_ref(&s1), &[]).unwrap_err();
    is(e, ErrorKind::AlreadyExists, Reason::SnapshotExists);
    let e = zfs
        .snapshot(&[snap(format!("{p}/a@3")), snap(format!("{p}/a@4"))], &[])
        .unwrap_err();
    let e = is(e, ErrorKind::InvalidArgument, Reason::DuplicateSnapshots);
    assert_eq!(e.failures().len(), 1, "{:?}", e.failures());
    let e = zfs
        .snapshot(
            &[
                snap(format!("{p}/a@3")),
                snap(format!("{}@3", other.name())),
            ],
            &[],
        )
        .unwrap_err();
    let e = is(e, ErrorKind::InvalidArgument, Reason::PoolsDiffer);
    assert_eq!(e.failures()[0].0, format!("{}@3", other.name()));

    let e = zfs.rollback(&s1, &RollbackOptions::new()).unwrap_err();
    is(e, ErrorKind::Busy, Reason::SnapshotNotLatest);

    zfs.hold(&[(s2.clone(), "keep")]).unwrap();
    let e = zfs.hold(&[(s2.clone(), "keep")]).unwrap_err();
    is(e, ErrorKind::AlreadyExists, Reason::HoldExists);
    let e = zfs.release(&[(s2.clone(), "nope")]).unwrap_err();
    is(e, ErrorKind::NotFound, Reason::HoldNotFound);
    let e = zfs
        .destroy_snapshots(std::slice::from_ref(&s2), &DestroySnapshotsOptions::new())
        .unwrap_err();
    let e = is(e, ErrorKind::Busy, Reason::SnapshotIsHeld);
    assert_eq!(e.failures()[0].0, s2.as_str());
    zfs.release(&[(s2.clone(), "keep")]).unwrap();

    zfs.create_clone(&s1, &ds(format!("{p}/c")), &[]).unwrap();
    let e = zfs
        .destroy_snapshots(std::slice::from_ref(&s1), &DestroySnapshotsOptions::new())
        .unwrap_err();
    is(e, ErrorKind::Busy, Reason::SnapshotIsCloned);
    let e = zfs
        .destroy_snapshots(
            &[s1.clone(), snap(format!("{p}/a@gone"))],
            &DestroySnapshotsOptions::new(),
        )
        .unwrap_err();
    let e = is(e, ErrorKind::NotFound, Reason::SnapshotNotFound);
    assert_eq!(e.failures()[0].0, format!("{p}/a@gone"));
    let e = zfs
        .create_clone(&s1, &ds(format!("{}/c", other.name())), &[])
        .unwrap_err();
    is(e, ErrorKind::InvalidArgument, Reason::PoolsDiffer);
    let e = zfs.promote(&ds(format!("{p}/a"))).unwrap_err();
    is(e, ErrorKind::InvalidArgument, Reason::NotClone);
    zfs.destroy(&any(format!("{p}/c")), &DestroyOptions::new())
        .unwrap();
}

#[test]
#[ignore = "needs ZFS"]
fn bookmarks_whose_source_is_no_ancestor() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    fs(&zfs, &format!("{p}/a"));
    fs(&zfs, &format!("{p}/b"));
    let s = snap(format!("{p}/a@1"));
    zfs.snapshot(std::slice::from_ref(&s), &[]).unwrap();
    let mark = BookmarkName::new(format!("{p}/a#m")).unwrap();
    zfs.bookmark(&[(s.clone(), mark.clone())]).unwrap();
    let e = zfs.bookmark(&[(s.clone(), mark)]).unwrap_err();
    is(e, ErrorKind::AlreadyExists, Reason::BookmarkExists);
    let elsewhere = BookmarkName::new(format!("{p}/b#m")).unwrap();
    let e = zfs.bookmark(&[(s, elsewhere)]).unwrap_err();
    let e = is(
        e,
        ErrorKind::InvalidArgument,
        Reason::BookmarkSourceNotAncestor,
    );
    assert_eq!(
        e.errno().unwrap().name(),
        Some("ZFS_ERR_BOOKMARK_SOURCE_NOT_ANCESTOR")
    );
}

#[test]
#[ignore = "needs ZFS"]
fn receives_into_a_modified_or_wrong_destination_and_bad_streams() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    fs(&zfs, &format!("{p}/src"));
    let (s1, s2) = (snap(format!("{p}/src@1")), snap(format!("{p}/src@2")));
    zfs.snapshot(std::slice::from_ref(&s1), &[]).unwrap();
    zfs.snapshot(std::slice::from_ref(&s2), &[]).unwrap();
    let stream = |from: Option<&zfs_core::IncrementalSource>, to: &zfs_core::SnapshotName| {
        let mut file = tempfile::tempfile().unwrap();
        zfs.send(to, from, &file, SendFlags::empty()).unwrap();
        file.flush().unwrap();
        file.rewind().unwrap();
        file
    };
    let dst1 = snap(format!("{p}/dst@1"));
    zfs.receive_snapshot(&dst1, stream(None, &s1), &ReceiveSnapshotOptions::new())
        .unwrap();
    let e = zfs
        .receive_snapshot(&dst1, stream(None, &s1), &ReceiveSnapshotOptions::new())
        .unwrap_err();
    is(e, ErrorKind::AlreadyExists, Reason::SnapshotExists);
    // Change the destination after its snapshot: the incremental must be refused.
    let dst = zfs.dataset(&any(format!("{p}/dst"))).unwrap();
    let mnt = tempfile::tempdir().unwrap();
    dst.mount_at(mnt.path()).unwrap();
    std::fs::write(mnt.path().join("changed"), b"x").unwrap();
    unmount(&dst);
    let e = zfs
        .receive_snapshot(
            &snap(format!("{p}/dst@2")),
            stream(Some(&s1.clone().into()), &s2),
            &ReceiveSnapshotOptions::new(),
        )
        .unwrap_err();
    is(e, ErrorKind::AlreadyExists, Reason::DestinationModified);
    // An incremental whose source the destination lacks.
    let e = zfs
        .receive_snapshot(
            &snap(format!("{p}/fresh@2")),
            stream(Some(&s1.clone().into()), &s2),
            &ReceiveSnapshotOptions::new(),
        )
        .unwrap_err();
    assert!(
        matches!(
            e.reason(),
            Some(Reason::StreamMismatch) | Some(Reason::DatasetNotFound)
        ),
        "{e:?}"
    );
    // Truncated and garbage streams.
    let mut full = Vec::new();
    std::io::Read::read_to_end(&mut stream(None, &s1), &mut full).unwrap();
    let mut cut = tempfile::tempfile().unwrap();
    cut.write_all(&full[..full.len() / 2]).unwrap();
    cut.rewind().unwrap();
    let e = zfs
        .receive_snapshot(
            &snap(format!("{p}/cut@1")),
            &cut,
            &ReceiveSnapshotOptions::new(),
        )
        .unwrap_err();
    assert!(
        matches!(
            e.reason(),
            Some(Reason::StreamTruncated) | Some(Reason::BadStream)
        ),
        "{e:?}"
    );
    let mut junk = tempfile::tempfile().unwrap();
    junk.write_all(&[0xab; 8192]).unwrap();
    junk.rewind().unwrap();
    let e = zfs
        .receive_snapshot(
            &snap(format!("{p}/junk@1")),
            &junk,
            &ReceiveSnapshotOptions::new(),
        )
        .unwrap_err();
    is(e, ErrorKind::InvalidArgument, Reason::BadStream);
}

#[test]
#[ignore = "needs ZFS"]
fn keys_already_loaded_wrong_or_not_loaded() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let name = format!("{p}/enc");
    CreateDataset::filesystem(ds(&name))
        .property("mountpoint", "none")
        .encryption(Key::raw(&[7; 32]).unwrap())
        .create(&zfs)
        .unwrap();
    let d = zfs.dataset(&any(&name)).unwrap();
    let e = d.load_key(&Key::raw(&[7; 32]).unwrap()).unwrap_err();
    is(e, ErrorKind::AlreadyExists, Reason::KeyAlreadyLoaded);
    d.unload_key().unwrap();
    let e = d.load_key(&Key::raw(&[8; 32]).unwrap()).unwrap_err();
    is(e, ErrorKind::WrongKey, Reason::WrongKey);
    let e = d.unload_key().unwrap_err();
    is(e, ErrorKind::InvalidArgument, Reason::KeyNotLoaded);
    let e = CreateDataset::filesystem(ds(format!("{name}/child"))).create(&zfs);
    is(
        e.unwrap_err(),
        ErrorKind::PermissionDenied,
        Reason::KeyNotLoaded,
    );
}

#[test]
#[ignore = "needs ZFS"]
fn checkpoints_twice_and_none() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let pool = zfs.pool(f.name()).unwrap();
    let e = pool.discard_checkpoint().unwrap_err();
    is(e, ErrorKind::NotFound, Reason::CheckpointNotFound);
    pool.checkpoint().unwrap();
    let e = pool.checkpoint().unwrap_err();
    is(e, ErrorKind::AlreadyExists, Reason::CheckpointExists);
    pool.discard_checkpoint().unwrap();
}

#[test]
#[ignore = "needs ZFS"]
fn destroying_one_held_or_cloned_snapshot_says_which() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    fs(&zfs, &format!("{p}/a"));
    let (held, cloned) = (snap(format!("{p}/a@held")), snap(format!("{p}/a@cloned")));
    zfs.snapshot(std::slice::from_ref(&held), &[]).unwrap();
    zfs.snapshot(std::slice::from_ref(&cloned), &[]).unwrap();
    zfs.hold(&[(held.clone(), "keep")]).unwrap();
    zfs.create_clone(&cloned, &ds(format!("{p}/c")), &[])
        .unwrap();
    let one = DestroyOptions::new();
    let e = zfs.destroy(&any(held.as_str()), &one).unwrap_err();
    is(e, ErrorKind::Busy, Reason::SnapshotIsHeld);
    let e = zfs.destroy(&any(cloned.as_str()), &one).unwrap_err();
    is(e, ErrorKind::Busy, Reason::SnapshotIsCloned);
    assert!(zfs.exists(&any(held.as_str())) && zfs.exists(&any(cloned.as_str())));
}
