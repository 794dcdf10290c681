//! Wrong answers found by running peers' own test suites (pyzfs, libzetta) against zfs-core:
//! each case as the peer's test provokes it, checked against the CLI's answer.

mod common;

use common::*;
use zfs_core::testing::FilePool;
use zfs_core::{
    CreateDataset, Error, ErrorKind, IncrementalSource, OfflineOptions, PoolName, ProgramOptions,
    PropSource, Reason, SendFlags,
};

fn fs(zfs: &zfs_core::Zfs, name: &str) {
    CreateDataset::filesystem(ds(name))
        .property("mountpoint", "legacy")
        .create(zfs)
        .unwrap();
}

/// pyzfs: a clone into a pool that is not there is the missing pool, as `zfs clone` says.
#[test]
#[ignore = "needs ZFS"]
fn a_clone_into_a_missing_pool_is_pool_not_found() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    fs(&zfs, &format!("{p}/a"));
    let s = snap(format!("{p}/a@s"));
    zfs.snapshot(std::slice::from_ref(&s), &[]).unwrap();
    let e = zfs.create_clone(&s, &ds("nosuchpool/c"), &[]).unwrap_err();
    assert_eq!(
        (e.kind(), e.reason()),
        (ErrorKind::NotFound, Some(Reason::PoolNotFound)),
        "{e}"
    );
    let said = cli_fails("zfs", &["clone", s.as_str(), "nosuchpool/c"]);
    assert!(said.contains("no such pool"), "{said}");
}

/// pyzfs: a volume below a volume is `WrongParent`, as a filesystem below one is.
#[test]
#[ignore = "needs ZFS"]
fn a_volume_below_a_volume_is_wrong_parent() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let vol = format!("{p}/vol");
    CreateDataset::volume(ds(&vol), 8 << 20)
        .sparse(true)
        .create(&zfs)
        .unwrap();
    let e = CreateDataset::volume(ds(format!("{vol}/v")), 8 << 20)
        .sparse(true)
        .create(&zfs)
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.reason()),
        (ErrorKind::InvalidArgument, Some(Reason::WrongParent)),
        "{e}"
    );
    let said = cli_fails("zfs", &["create", "-s", "-V", "8M", &format!("{vol}/v")]);
    eprintln!("zfs create: {said}");
    assert!(!zfs.exists(&ds(format!("{vol}/v"))));
}

/// pyzfs: a channel program on a pool that is not there is `PoolNotFound`.
#[test]
#[ignore = "needs ZFS"]
fn a_program_on_a_missing_pool_is_pool_not_found() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let missing = PoolName::new("nosuchpool").unwrap();
    let e = zfs
        .program(&missing, "return 1", &ProgramOptions::new())
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.reason()),
        (ErrorKind::NotFound, Some(Reason::PoolNotFound)),
        "{e}"
    );
    let script = f.dir().join("one.lua");
    std::fs::write(&script, "return 1\n").unwrap();
    let said = cli_fails("zfs", &["program", "nosuchpool", script.to_str().unwrap()]);
    eprintln!("zfs program: {said}");
}

/// pyzfs: the missing end of a snapshot range is the one named.
#[test]
#[ignore = "needs ZFS"]
fn reclaimable_space_names_the_missing_snapshot() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    fs(&zfs, &format!("{p}/a"));
    let (there, gone) = (snap(format!("{p}/a@1")), snap(format!("{p}/a@2")));
    zfs.snapshot(std::slice::from_ref(&there), &[]).unwrap();
    cli_fails("zfs", &["list", gone.as_str()]);
    for (first, last) in [(&there, &gone), (&gone, &there)] {
        let e = zfs.reclaimable_space(first, last).unwrap_err();
        assert_eq!(
            (e.kind(), e.reason(), e.object()),
            (
                ErrorKind::NotFound,
                Some(Reason::SnapshotNotFound),
                gone.as_str()
            ),
            "{e}"
        );
    }
}

/// pyzfs: a send-size estimate names what is missing: the snapshot, or the snapshot or
/// bookmark it would start from.
#[test]
#[ignore = "needs ZFS"]
fn send_space_names_the_missing_snapshot_or_source() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    fs(&zfs, &format!("{p}/a"));
    let (there, gone) = (snap(format!("{p}/a@1")), snap(format!("{p}/a@2")));
    zfs.snapshot(std::slice::from_ref(&there), &[]).unwrap();
    let no_mark = zfs_core::BookmarkName::new(format!("{p}/a#none")).unwrap();
    let cases = [
        (
            &gone,
            Some(IncrementalSource::from(there.clone())),
            gone.as_str(),
            Reason::SnapshotNotFound,
        ),
        (
            &there,
            Some(IncrementalSource::from(gone.clone())),
            gone.as_str(),
            Reason::SnapshotNotFound,
        ),
        (
            &there,
            Some(IncrementalSource::from(no_mark.clone())),
            no_mark.as_str(),
            Reason::BookmarkNotFound,
        ),
        (&gone, None, gone.as_str(), Reason::SnapshotNotFound),
    ];
    for (snapshot, from, missing, reason) in cases {
        let e = zfs
            .send_space(snapshot, from.as_ref(), SendFlags::empty())
            .unwrap_err();
        assert_eq!(
            (e.kind(), e.reason(), e.object()),
            (ErrorKind::NotFound, Some(reason), missing),
            "{e}"
        );
    }
}

/// pyzfs: each item of a failed batch carries its own reason, as a single call's error would.
#[test]
#[ignore = "needs ZFS"]
fn each_failed_item_of_a_batch_has_its_reason() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    fs(&zfs, &format!("{p}/a"));
    let reason_of = |e: &Error, name: &str| {
        let item = e.failures().iter().find(|f| f.0 == name);
        item.unwrap_or_else(|| panic!("{name} not in {e:?}")).2
    };
    let (taken, nowhere) = (snap(format!("{p}/a@1")), snap(format!("{p}/nope@1")));
    zfs.snapshot(std::slice::from_ref(&taken), &[]).unwrap();
    // The kernel lists what it found before it stopped: here only the missing dataset.
    let e = zfs
        .snapshot(&[taken.clone(), nowhere.clone()], &[])
        .unwrap_err();
    assert_eq!(
        reason_of(&e, nowhere.as_str()),
        Some(Reason::DatasetNotFound)
    );
    cli_fails("zfs", &["snapshot", taken.as_str(), nowhere.as_str()]);
    let e = zfs.snapshot(std::slice::from_ref(&taken), &[]).unwrap_err();
    assert_eq!(reason_of(&e, taken.as_str()), Some(Reason::SnapshotExists));
    cli_fails("zfs", &["snapshot", taken.as_str()]);

    let (held, cloned) = (snap(format!("{p}/a@held")), snap(format!("{p}/a@cloned")));
    zfs.snapshot(std::slice::from_ref(&held), &[]).unwrap();
    zfs.snapshot(std::slice::from_ref(&cloned), &[]).unwrap();
    zfs.hold(&[(held.clone(), "keep")]).unwrap();
    zfs.create_clone(&cloned, &ds(format!("{p}/c")), &[])
        .unwrap();
    let e = zfs
        .destroy_snapshots(
            &[held.clone(), cloned.clone()],
            &DestroySnapshotsOptions::new(),
        )
        .unwrap_err();
    assert_eq!(reason_of(&e, held.as_str()), Some(Reason::SnapshotIsHeld));
    assert_eq!(
        reason_of(&e, cloned.as_str()),
        Some(Reason::SnapshotIsCloned)
    );
    cli_fails("zfs", &["destroy", held.as_str()]);
    cli_fails("zfs", &["destroy", cloned.as_str()]);

    let e = zfs.hold(&[(held.clone(), "keep")]).unwrap_err();
    assert_eq!(e.reason(), Some(Reason::HoldExists), "{e}");
    for item in e.failures() {
        assert_eq!(item.2, Some(Reason::HoldExists), "{e:?}");
    }
    cli_fails("zfs", &["hold", "keep", held.as_str()]);
}

/// libzetta: `clones` applies to snapshots; without clones it reads `-`, as `zfs get` shows.
#[test]
#[ignore = "needs ZFS"]
fn clones_of_a_snapshot_without_clones_reads_as_zfs_get() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    fs(&zfs, &format!("{p}/a"));
    let s = snap(format!("{p}/a@s"));
    zfs.snapshot(std::slice::from_ref(&s), &[]).unwrap();
    let v = zfs.dataset(&s).unwrap().property("clones").unwrap();
    assert_eq!(zfs_get(s.as_str(), "clones"), ("-".into(), "-".into()));
    assert_eq!((v.value.as_str(), v.source), ("-", PropSource::None));
    // Still not a filesystem's property.
    let e = zfs
        .dataset(&ds(format!("{p}/a")))
        .unwrap()
        .property("clones")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidProperty, "{e}");
}

/// libzetta: pausing when no scrub runs; what `zpool scrub -p` does there is the contract.
#[test]
#[ignore = "needs ZFS"]
fn pausing_with_no_scrub_running_does_as_zpool_scrub_p() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let pool = zfs.pool(f.name()).unwrap();
    assert!(pool.scan_progress().unwrap().is_none());
    let ours = pool.pause_scrub();
    let out = std::process::Command::new("zpool")
        .args(["scrub", "-p", p])
        .output()
        .unwrap();
    eprintln!(
        "zpool scrub -p: {} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(ours.is_ok(), out.status.success(), "{ours:?}");
    assert!(ours.is_ok());
    assert!(
        pool.scan_progress().unwrap().is_none(),
        "no scrub was started"
    );
}

/// libzetta: a device that cannot be taken offline is the object named, as `zpool offline`
/// names it; the pool is in the message.
#[test]
#[ignore = "needs ZFS"]
fn offline_names_the_device() {
    let f = FilePool::builder().mirror(2).create().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let pool = zfs.pool(f.name()).unwrap();
    let missing = f.dir().join("missing");
    let shown = missing.display().to_string();
    for opts in [OfflineOptions::new(), OfflineOptions::new().fault(true)] {
        let e = pool.offline(&missing, &opts).unwrap_err();
        assert_eq!(
            (e.kind(), e.object()),
            (ErrorKind::NotFound, shown.as_str())
        );
        assert!(e.message().contains(p), "{e}");
    }
    let said = cli_fails("zpool", &["offline", p, &shown]);
    assert!(said.contains(&shown), "{said}");
}
