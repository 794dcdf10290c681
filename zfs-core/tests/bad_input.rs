//! The bad inputs of `shared/reference/robustness-checklist.md`, as one table: each case must
//! fail with the expected `ErrorKind`, and afterwards the pools must be exactly as before
//! (datasets, snapshots, bookmarks, holds, key status and a few properties).

mod common;

use std::io::{Seek, Write};

use common::*;
use zfs_core::testing::FilePool;
use zfs_core::{
    BookmarkName, CreateDataset, DatasetName, DatasetTypes, DestroyOptions, ErrorKind, Key,
    PoolName, ProgramOptions, ReceiveOptions, SendFlags, SnapshotName, Zfs,
};

type Case<'a> = (
    &'static str,
    ErrorKind,
    Box<dyn Fn() -> zfs_core::Result<()> + 'a>,
);

fn dn(s: &str) -> zfs_core::Result<DatasetName> {
    DatasetName::new(s)
}
fn sn(s: &str) -> zfs_core::Result<SnapshotName> {
    SnapshotName::new(s)
}

/// Everything a case could have changed, as text.
fn state(zfs: &Zfs, pools: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for p in pools {
        for l in zfs
            .list_with(
                &ds(p),
                DatasetTypes::all(),
                &["compression", "atime", "readonly"],
            )
            .unwrap()
        {
            out.push(format!("{} {:?} {:?}", l.name, l.kind, l.values));
            if l.kind == zfs_core::DatasetType::Snapshot {
                let holds = zfs
                    .holds(&SnapshotName::new(l.name.as_str()).unwrap())
                    .unwrap();
                out.push(format!("{} holds {holds:?}", l.name));
            }
        }
    }
    out
}

#[test]
#[ignore = "needs ZFS"]
fn every_bad_input_is_a_typed_error_and_changes_nothing() {
    let f = FilePool::new().unwrap();
    let other = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str().to_owned();
    let q = other.name().as_str().to_owned();
    let p = p.as_str();
    let q = q.as_str();
    // The scene: p/a (two snapshots, a bookmark, a hold), p/a/kid, p/vol, p/enc; q/x@s.
    for d in ["a", "a/kid", "enc-parent"] {
        CreateDataset::filesystem(DatasetName::new(format!("{p}/{d}")).unwrap())
            .create(&zfs)
            .unwrap();
    }
    CreateDataset::volume(DatasetName::new(format!("{p}/vol")).unwrap(), 4 << 20)
        .sparse(true)
        .create(&zfs)
        .unwrap();
    let key = Key::raw(&[9; 32]).unwrap();
    CreateDataset::filesystem(DatasetName::new(format!("{p}/enc")).unwrap())
        .encryption(key.clone())
        .create(&zfs)
        .unwrap();
    CreateDataset::filesystem(DatasetName::new(format!("{q}/x")).unwrap())
        .create(&zfs)
        .unwrap();
    let s1 = sn(&format!("{p}/a@s1")).unwrap();
    let s2 = sn(&format!("{p}/a@s2")).unwrap();
    zfs.snapshot(std::slice::from_ref(&s1), &[]).unwrap();
    zfs.snapshot(std::slice::from_ref(&s2), &[]).unwrap();
    zfs.snapshot(&[sn(&format!("{q}/x@s")).unwrap()], &[])
        .unwrap();
    zfs.bookmark(&[(s1.clone(), BookmarkName::new(format!("{p}/a#b1")).unwrap())])
        .unwrap();
    zfs.hold(&[(s1.clone(), "keep")]).unwrap();
    let mut stream = tempfile::tempfile().unwrap();
    zfs.send(&s1, None, &stream, SendFlags::empty()).unwrap();
    let full_len = stream.metadata().unwrap().len();
    let mut truncated = tempfile::tempfile().unwrap();
    {
        stream.rewind().unwrap();
        let mut buf = vec![0u8; (full_len / 2) as usize];
        std::io::Read::read_exact(&mut stream, &mut buf).unwrap();
        truncated.write_all(&buf).unwrap();
        truncated.rewind().unwrap();
    }
    let mut garbage = tempfile::tempfile().unwrap();
    garbage.write_all(&[0xAB; 4096]).unwrap();
    garbage.rewind().unwrap();
    let ro_file = std::fs::File::open("/dev/null").unwrap();
    let sink = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .unwrap();
    let long = "x".repeat(300);
    let pools = [p, q];
    let recursive = DestroyOptions::new().recursive(true);

    use ErrorKind as K;
    let cases: Vec<Case<'_>> = vec![
        // 1. Invalid names.
        (
            "bad character in a component",
            K::InvalidName,
            Box::new(|| dn(&format!("{p}/a*b")).map(drop)),
        ),
        (
            "empty component",
            K::InvalidName,
            Box::new(|| dn(&format!("{p}//a")).map(drop)),
        ),
        (
            "malformed snapshot name",
            K::InvalidName,
            Box::new(|| sn(&format!("{p}/a@s@t")).map(drop)),
        ),
        (
            "malformed bookmark name",
            K::InvalidName,
            Box::new(|| BookmarkName::new(format!("{p}/a#")).map(drop)),
        ),
        (
            "filesystem name where a snapshot is expected",
            K::InvalidName,
            Box::new(|| sn(&format!("{p}/a")).map(drop)),
        ),
        (
            "snapshot name where a filesystem is expected",
            K::InvalidName,
            Box::new(|| dn(&format!("{p}/a@s1")).map(drop)),
        ),
        (
            "reserved pool name",
            K::InvalidName,
            Box::new(|| PoolName::new("mirror").map(drop)),
        ),
        // 2. Too long.
        (
            "dataset name too long",
            K::InvalidName,
            Box::new(|| dn(&format!("{p}/{long}")).map(drop)),
        ),
        (
            "snapshot component too long",
            K::InvalidName,
            Box::new(|| sn(&format!("{p}/a@{long}")).map(drop)),
        ),
        (
            "hold tag too long",
            K::InvalidName,
            Box::new(|| zfs.hold(&[(s2.clone(), long.as_str())])),
        ),
        (
            "rename makes a child's name too long",
            K::InvalidName,
            Box::new(|| {
                zfs.rename(
                    &any(format!("{p}/a")),
                    &any(format!("{p}/{}", "y".repeat(253 - p.len()))),
                    &RenameOptions::new(),
                )
            }),
        ),
        // 3. Missing targets.
        (
            "missing pool",
            K::NotFound,
            Box::new(|| zfs.pool(&PoolName::new("nosuchpool").unwrap()).map(drop)),
        ),
        (
            "missing filesystem",
            K::NotFound,
            Box::new(|| zfs.dataset(&any(format!("{p}/nope"))).map(drop)),
        ),
        (
            "missing parent, no implicit create",
            K::NotFound,
            Box::new(|| {
                CreateDataset::filesystem(dn(&format!("{p}/no/child"))?)
                    .create(&zfs)
                    .map(drop)
            }),
        ),
        (
            "clone of a missing origin",
            K::NotFound,
            Box::new(|| {
                zfs.create_clone(&sn(&format!("{p}/a@nope"))?, &dn(&format!("{p}/c"))?, &[])
            }),
        ),
        (
            "bookmark of a missing snapshot",
            K::NotFound,
            Box::new(|| {
                zfs.bookmark(&[(
                    sn(&format!("{p}/a@nope"))?,
                    BookmarkName::new(format!("{p}/a#b2"))?,
                )])
            }),
        ),
        (
            "release of a tag never held",
            K::NotFound,
            Box::new(|| zfs.release(&[(s1.clone(), "nope")])),
        ),
        (
            "rename of a missing dataset",
            K::NotFound,
            Box::new(|| {
                zfs.rename(
                    &any(format!("{p}/nope")),
                    &any(format!("{p}/nope2")),
                    &RenameOptions::new(),
                )
            }),
        ),
        (
            "destroy of a missing dataset",
            K::NotFound,
            Box::new(|| zfs.destroy(&any(format!("{p}/nope")), &recursive)),
        ),
        (
            "destroy of a missing snapshot",
            K::NotFound,
            Box::new(|| {
                zfs.destroy_snapshots(
                    &[sn(&format!("{p}/a@nope"))?],
                    &DestroySnapshotsOptions::new(),
                )
            }),
        ),
        (
            "key operation on a missing dataset",
            K::NotFound,
            Box::new(|| {
                zfs.dataset(&any(format!("{p}/nope")))
                    .and_then(|d| d.load_key(&key))
            }),
        ),
        // 4. Wrong type or parent.
        (
            "dataset under a volume",
            K::InvalidArgument,
            Box::new(|| {
                CreateDataset::filesystem(dn(&format!("{p}/vol/x"))?)
                    .create(&zfs)
                    .map(drop)
            }),
        ),
        (
            "rename under a volume",
            K::InvalidArgument,
            Box::new(|| {
                zfs.rename(
                    &any(format!("{p}/a/kid")),
                    &any(format!("{p}/vol/kid")),
                    &RenameOptions::new(),
                )
            }),
        ),
        (
            "volume stream over a filesystem with children",
            K::InvalidArgument,
            Box::new(|| {
                let vs = sn(&format!("{p}/vol@v"))?;
                zfs.snapshot(std::slice::from_ref(&vs), &[])?;
                let mut s = tempfile::tempfile().unwrap();
                let sent = zfs.send(&vs, None, &s, SendFlags::empty());
                zfs.destroy_snapshots(std::slice::from_ref(&vs), &DestroySnapshotsOptions::new())?;
                sent?;
                s.rewind().unwrap();
                zfs.receive_snapshot(
                    &sn(&format!("{p}/a@v"))?,
                    &s,
                    &ReceiveSnapshotOptions::new().force(true),
                )
                .map(drop)
            }),
        ),
        // 5. Already exists.
        (
            "existing filesystem",
            K::AlreadyExists,
            Box::new(|| {
                CreateDataset::filesystem(dn(&format!("{p}/a"))?)
                    .create(&zfs)
                    .map(drop)
            }),
        ),
        (
            "existing snapshot",
            K::AlreadyExists,
            Box::new(|| zfs.snapshot(std::slice::from_ref(&s1), &[])),
        ),
        (
            "two snapshots of one dataset in one call",
            K::InvalidArgument,
            Box::new(|| zfs.snapshot(&[sn(&format!("{p}/a@n1"))?, sn(&format!("{p}/a@n2"))?], &[])),
        ),
        (
            "duplicate bookmark",
            K::AlreadyExists,
            Box::new(|| zfs.bookmark(&[(s2.clone(), BookmarkName::new(format!("{p}/a#b1"))?)])),
        ),
        (
            "duplicate hold",
            K::AlreadyExists,
            Box::new(|| zfs.hold(&[(s1.clone(), "keep")])),
        ),
        (
            "rename onto an existing name",
            K::AlreadyExists,
            Box::new(|| {
                zfs.rename(
                    &any(format!("{p}/a/kid")),
                    &any(format!("{p}/vol")),
                    &RenameOptions::new(),
                )
            }),
        ),
        (
            "key already loaded",
            K::AlreadyExists,
            Box::new(|| zfs.dataset(&any(format!("{p}/enc")))?.load_key(&key)),
        ),
        // 6. Across pools.
        (
            "snapshots across two pools in one call",
            K::InvalidArgument,
            Box::new(|| zfs.snapshot(&[sn(&format!("{p}/a@x"))?, sn(&format!("{q}/x@x"))?], &[])),
        ),
        (
            "clone into another pool",
            K::InvalidArgument,
            Box::new(|| zfs.create_clone(&s1, &dn(&format!("{q}/c"))?, &[])),
        ),
        (
            "rename into another pool",
            K::InvalidArgument,
            Box::new(|| {
                zfs.rename(
                    &any(format!("{p}/a/kid")),
                    &any(format!("{q}/kid")),
                    &RenameOptions::new(),
                )
            }),
        ),
        (
            "incremental send across pools",
            K::InvalidArgument,
            Box::new(|| {
                zfs.send(
                    &s2,
                    Some(&inc(format!("{q}/x@s"))),
                    &sink,
                    SendFlags::empty(),
                )
            }),
        ),
        // 7. Partial failure: nothing created, each failure named.
        (
            "a missing dataset among valid snapshots",
            K::NotFound,
            Box::new(|| {
                zfs.snapshot(
                    &[sn(&format!("{p}/a/kid@n"))?, sn(&format!("{p}/ghost@n"))?],
                    &[],
                )
            }),
        ),
        (
            "a bad property in a batch create",
            K::InvalidProperty,
            Box::new(|| {
                zfs.create_datasets(&[
                    CreateDataset::filesystem(dn(&format!("{p}/n1"))?),
                    CreateDataset::filesystem(dn(&format!("{p}/n2"))?)
                        .property("atime", "sometimes"),
                ])
            }),
        ),
        // 9. Properties.
        (
            "unknown property",
            K::InvalidProperty,
            Box::new(|| {
                zfs.dataset(&any(format!("{p}/a")))?
                    .set_property("nosuchprop", "1")
            }),
        ),
        (
            "wrong type of value",
            K::InvalidProperty,
            Box::new(|| {
                zfs.dataset(&any(format!("{p}/a")))?
                    .set_property("quota", "lots")
            }),
        ),
        (
            "value out of range",
            K::InvalidProperty,
            Box::new(|| {
                zfs.dataset(&any(format!("{p}/a")))?
                    .set_property("recordsize", "3")
            }),
        ),
        (
            "read-only property",
            K::InvalidProperty,
            Box::new(|| {
                zfs.dataset(&any(format!("{p}/a")))?
                    .set_property("used", "1")
            }),
        ),
        (
            "native property at snapshot creation",
            K::InvalidProperty,
            Box::new(|| zfs.snapshot(&[sn(&format!("{p}/a@n"))?], &[("compression", "lz4")])),
        ),
        (
            "invalid property on receive",
            K::InvalidProperty,
            Box::new(|| {
                stream.try_clone().unwrap().rewind().unwrap();
                zfs.receive(
                    &any(format!("{p}/recv")),
                    &stream,
                    &ReceiveOptions::new()
                        .no_mount(true)
                        .property("atime", "sometimes"),
                )
            }),
        ),
        // 10. Order and relationships.
        (
            "send from a later snapshot",
            K::InvalidArgument,
            Box::new(|| {
                zfs.send(
                    &s1,
                    Some(&inc(format!("{p}/a@s2"))),
                    &sink,
                    SendFlags::empty(),
                )
            }),
        ),
        (
            "space of snapshots in the wrong order",
            K::InvalidArgument,
            Box::new(|| zfs.reclaimable_space(&s2, &s1).map(drop)),
        ),
        (
            "rollback past a newer snapshot",
            K::Busy,
            Box::new(|| zfs.rollback(&s1, &RollbackOptions::new())),
        ),
        (
            "promote of a non-clone",
            K::InvalidArgument,
            Box::new(|| zfs.promote(&dn(&format!("{p}/a/kid"))?)),
        ),
        (
            "incremental receive into an unrelated target",
            K::InvalidArgument,
            Box::new(|| {
                let mut inc = tempfile::tempfile().unwrap();
                zfs.send(&s2, Some(&s1.clone().into()), &inc, SendFlags::empty())?;
                inc.rewind().unwrap();
                zfs.receive_snapshot(
                    &sn(&format!("{p}/a/kid@s2"))?,
                    &inc,
                    &ReceiveSnapshotOptions::new(),
                )
                .map(drop)
            }),
        ),
        // 11. Descriptors and streams.
        (
            "send to a read-only descriptor",
            K::InvalidArgument,
            Box::new(|| zfs.send(&s1, None, &ro_file, SendFlags::empty())),
        ),
        (
            "truncated receive stream",
            K::InvalidArgument,
            Box::new(|| {
                zfs.receive_snapshot(
                    &sn(&format!("{p}/half@s1"))?,
                    &truncated,
                    &ReceiveSnapshotOptions::new(),
                )
                .map(drop)
            }),
        ),
        (
            "garbage receive stream",
            K::InvalidArgument,
            Box::new(|| {
                zfs.receive_snapshot(
                    &sn(&format!("{p}/junk@s1"))?,
                    &garbage,
                    &ReceiveSnapshotOptions::new(),
                )
                .map(drop)
            }),
        ),
        // 13. Busy.
        (
            "destroy of a held snapshot",
            K::Busy,
            Box::new(|| {
                zfs.destroy_snapshots(std::slice::from_ref(&s1), &DestroySnapshotsOptions::new())
            }),
        ),
        (
            "wrong key",
            K::WrongKey,
            Box::new(|| {
                zfs.dataset(&any(format!("{p}/enc")))?
                    .check_key(&Key::raw(&[1; 32])?)
            }),
        ),
        (
            "destroy with children, not recursive",
            K::Busy,
            Box::new(|| zfs.destroy(&any(format!("{p}/a")), &DestroyOptions::new())),
        ),
        // 14. Channel programs.
        (
            "program syntax error",
            K::ProgramSyntax,
            Box::new(|| {
                zfs.program(f.name(), "return (", &ProgramOptions::new())
                    .map(drop)
            }),
        ),
        (
            "program runtime error",
            K::ProgramRuntime,
            Box::new(|| {
                zfs.program(f.name(), "error('no')", &ProgramOptions::new())
                    .map(drop)
            }),
        ),
        (
            "program instruction limit",
            K::InstructionLimit,
            Box::new(|| {
                zfs.program(
                    f.name(),
                    "while true do end",
                    &ProgramOptions::new().instruction_limit(1000),
                )
                .map(drop)
            }),
        ),
        (
            "program memory limit",
            K::MemoryLimit,
            Box::new(|| {
                zfs.program(
                    f.name(),
                    "t = {} for i=1,10000000 do t[i] = i end",
                    &ProgramOptions::new().memory_limit(1 << 20),
                )
                .map(drop)
            }),
        ),
        (
            "program with a zero instruction limit",
            K::InvalidArgument,
            Box::new(|| {
                zfs.program(
                    f.name(),
                    "return 1",
                    &ProgramOptions::new().instruction_limit(0),
                )
                .map(drop)
            }),
        ),
    ];
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let before = state(&zfs, &pools);
    let mut wrong = Vec::new();
    for (what, kind, case) in &cases {
        match case() {
            Ok(()) => wrong.push(format!("{what}: succeeded")),
            Err(e) if e.kind() != *kind => {
                wrong.push(format!("{what}: {:?} instead of {kind:?}: {e}", e.kind()))
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
        let now = state(&zfs, &pools);
        if now != before {
            wrong.push(format!(
                "{what}: changed the pools\n  before {before:?}\n  after  {now:?}"
            ));
            break;
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases wrong:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
    // 12. Empty inputs are no-ops.
    zfs.snapshot(&[], &[]).unwrap();
    zfs.destroy_snapshots(&[], &DestroySnapshotsOptions::new())
        .unwrap();
    zfs.hold::<&str>(&[]).unwrap();
    zfs.release::<&str>(&[]).unwrap();
    zfs.bookmark::<zfs_core::SnapshotName>(&[]).unwrap();
    zfs.destroy_bookmarks(&[]).unwrap();
    zfs.create_datasets(&[]).unwrap();
    assert_eq!(state(&zfs, &pools), before);
    zfs.release(&[(s1.clone(), "keep")]).unwrap();
}
