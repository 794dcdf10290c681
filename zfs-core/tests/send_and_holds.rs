//! Snapshots beyond the basics, on the real module, each checked with the CLI: recursive and
//! temporary holds, rollback to the latest snapshot, bookmarks copied and read, `send -I`,
//! `send -h`, and the progress of a running send.

mod common;

use std::fs::File;
use std::io::Read;

use common::*;
use zfs_core::testing::FilePool;
use zfs_core::{
    BookmarkName, CreateDataset, ErrorKind, IncrementalSource, ReceiveOptions, SendFlags,
    SnapshotName, Zfs,
};

fn bm(name: impl AsRef<str>) -> BookmarkName {
    BookmarkName::new(name.as_ref()).unwrap()
}

/// `zfs holds -H SNAP` as tags.
fn cli_holds(snapshot: &str) -> Vec<String> {
    cli("zfs", &["holds", "-H", snapshot])
        .lines()
        .filter_map(|l| l.split('\t').nth(1).map(str::to_owned))
        .collect()
}

/// `P/a` and `P/a/b`, both snapshotted `@s`.
fn family(zfs: &Zfs, p: &str) -> Vec<SnapshotName> {
    for fs in ["a", "a/b"] {
        CreateDataset::filesystem(ds(format!("{p}/{fs}")))
            .property("mountpoint", "none")
            .create(zfs)
            .unwrap();
    }
    zfs.snapshot_recursive(&ds(format!("{p}/a")), "s", &[])
        .unwrap()
}

#[test]
#[ignore = "needs ZFS"]
fn recursive_and_temporary_holds_as_zfs_holds_lists_them() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let snaps = family(&zfs, p);
    let top = snap(format!("{p}/a@s"));

    let held = zfs.hold_recursive(&top, "keep").unwrap();
    assert_eq!(held.len(), 2);
    for s in &snaps {
        assert_eq!(cli_holds(s.as_str()), ["keep"]);
    }
    // Held: not destroyed.
    let e = zfs
        .destroy(&snaps[1], &zfs_core::DestroyOptions::new())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    zfs.release_recursive(&top, "keep").unwrap();
    for s in &snaps {
        assert!(cli_holds(s.as_str()).is_empty());
    }
    // Releasing a tag that is not there is refused whole.
    let e = zfs.release_recursive(&top, "keep").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e = zfs
        .hold_recursive(&snap(format!("{p}/a@nothing")), "keep")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");

    // Temporary: there while the guard lives, gone when it drops.
    let guard = zfs
        .hold_temporary(&[(snaps[0].clone(), "while-sending")])
        .unwrap();
    assert_eq!(cli_holds(snaps[0].as_str()), ["while-sending"]);
    assert_eq!(zfs.holds(&snaps[0]).unwrap(), ["while-sending"]);
    drop(guard);
    assert!(cli_holds(snaps[0].as_str()).is_empty());
    let e = zfs
        .hold_temporary(&[(snap(format!("{p}/a@nothing")), "x")])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}

#[test]
#[ignore = "needs ZFS"]
fn rollback_latest_goes_to_the_newest_snapshot_whatever_its_name() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let name = format!("{p}/r");
    let fs = ds(&name);
    with_data(&zfs, &name, &[], |_| {});
    let e = zfs.rollback_latest(&fs).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let handle = zfs.dataset(&fs).unwrap();
    let mnt = tempfile::tempdir().unwrap();
    let write = |file: &str| {
        handle.mount_at(mnt.path()).unwrap();
        std::fs::write(mnt.path().join(file), file).unwrap();
        unmount(&handle);
    };
    write("a");
    zfs.snapshot(&[snap(format!("{name}@first"))], &[]).unwrap();
    write("b");
    zfs.snapshot(&[snap(format!("{name}@second"))], &[])
        .unwrap();
    write("c");
    let to = zfs.rollback_latest(&fs).unwrap();
    assert_eq!(to.as_str(), format!("{name}@second"));
    handle.mount_at(mnt.path()).unwrap();
    let files: Vec<bool> = ["a", "b", "c"]
        .iter()
        .map(|f| mnt.path().join(f).exists())
        .collect();
    unmount(&handle);
    assert_eq!(files, [true, true, false]);
    let e = zfs
        .rollback_latest(&ds(format!("{p}/nothing")))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}

#[test]
#[ignore = "needs ZFS"]
fn bookmarks_are_copied_and_read_as_zfs_get_reads_them() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let snaps = family(&zfs, p);
    let (mark, copy) = (bm(format!("{p}/a#m")), bm(format!("{p}/a#copy")));
    zfs.bookmark(&[(snaps[0].clone(), mark.clone())]).unwrap();
    zfs.bookmark(&[(mark.clone(), copy.clone())]).unwrap();
    for b in [&mark, &copy] {
        let info = zfs.bookmark_info(b).unwrap();
        assert_eq!(&info.name, b);
        for (field, ours) in [
            ("guid", info.guid),
            ("createtxg", info.createtxg),
            ("creation", info.creation),
        ] {
            assert_eq!(zfs_get(b.as_str(), field).0, ours.to_string(), "{field}");
        }
        assert_eq!(info.guid.to_string(), zfs_get(snaps[0].as_str(), "guid").0);
        assert_eq!(info.redact_snaps, None);
    }
    // All of them in one call, as `zfs list` lists them.
    let all = zfs.bookmarks_info(&ds(format!("{p}/a"))).unwrap();
    let listed: Vec<String> = all
        .iter()
        .map(|b| format!("{}\t{}\t{}\t{}", b.name, b.guid, b.createtxg, b.creation))
        .collect();
    let cli_rows = cli(
        "zfs",
        &[
            "list",
            "-H",
            "-p",
            "-t",
            "bookmark",
            "-d",
            "1",
            "-s",
            "name",
            "-o",
            "name,guid,createtxg,creation",
            &format!("{p}/a"),
        ],
    );
    assert_eq!(listed.join("\n"), cli_rows);
    assert_eq!(
        all,
        vec![
            zfs.bookmark_info(&copy).unwrap(),
            zfs.bookmark_info(&mark).unwrap()
        ]
    );
    let e = zfs.bookmark_info(&bm(format!("{p}/a#none"))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    // A bookmark of another dataset cannot be copied here.
    let e = zfs
        .bookmark(&[(mark.clone(), bm(format!("{p}/a/b#copy")))])
        .unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::InvalidArgument | ErrorKind::Other),
        "{e}"
    );
    // The copy serves as an incremental source once the snapshot is gone.
    zfs.destroy(&snaps[0], &zfs_core::DestroyOptions::new().recursive(true))
        .ok();
    assert!(zfs.exists(&copy));
}

#[test]
#[ignore = "needs ZFS"]
fn send_with_intermediates_and_holds_carries_them_over() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let src = ds(format!("{p}/src"));
    CreateDataset::filesystem(src.clone())
        .property("mountpoint", "none")
        .create(&zfs)
        .unwrap();
    let names: Vec<SnapshotName> = ["s1", "s2", "s3", "s4"]
        .iter()
        .map(|s| snap(format!("{src}@{s}")))
        .collect();
    for s in &names {
        zfs.snapshot(std::slice::from_ref(s), &[]).unwrap();
    }
    zfs.hold(&[(names[3].clone(), "pinned")]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dst = ds(format!("{p}/dst"));
    let opts = ReceiveOptions::new().no_mount(true);

    let full = dir.path().join("full");
    zfs.send(
        &names[0],
        None,
        File::create(&full).unwrap(),
        SendFlags::empty(),
    )
    .unwrap();
    zfs.receive(&dst, File::open(&full).unwrap(), &opts)
        .unwrap();
    let incr = dir.path().join("incr");
    let from = IncrementalSource::from(names[0].clone());
    let flags = SendFlags::INTERMEDIATES | SendFlags::HOLDS;
    zfs.send(&names[3], Some(&from), File::create(&incr).unwrap(), flags)
        .unwrap();
    zfs.receive(&dst, File::open(&incr).unwrap(), &opts)
        .unwrap();
    let got = cli(
        "zfs",
        &[
            "list",
            "-H",
            "-t",
            "snapshot",
            "-o",
            "name",
            "-r",
            dst.as_str(),
        ],
    );
    let got: Vec<&str> = got.lines().collect();
    assert_eq!(
        got,
        ["s1", "s2", "s3", "s4"].map(|s| format!("{dst}@{s}")),
        "-I sends every snapshot in between"
    );
    assert_eq!(cli_holds(&format!("{dst}@s4")), ["pinned"]);
    assert!(cli_holds(&format!("{dst}@s3")).is_empty());
    // -I from a bookmark is what libzfs refuses: a typed error, nothing sent.
    let mark = bm(format!("{src}#b"));
    zfs.bookmark(&[(names[0].clone(), mark.clone())]).unwrap();
    let e = zfs
        .send(
            &names[3],
            Some(&IncrementalSource::from(mark)),
            File::create(dir.path().join("never")).unwrap(),
            SendFlags::INTERMEDIATES,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    // The package flags have no estimate.
    let e = zfs
        .send_space(&names[3], Some(&from), SendFlags::INTERMEDIATES)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotSupported, "{e}");
}

/// `zfs send -v`'s figures, read from another thread while a send blocks on a full pipe.
#[test]
#[ignore = "needs ZFS"]
fn the_progress_of_a_running_send_is_read_from_another_thread() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    with_data(&zfs, &format!("{p}/big"), &[], |dir| {
        std::fs::write(dir.join("blob"), incompressible(16)).unwrap();
    });
    let s = snap(format!("{p}/big@s"));
    zfs.snapshot(std::slice::from_ref(&s), &[]).unwrap();
    // A pipe: libzfs_core relays a send to anything else through a pipe of its own, whose
    // descriptor the caller does not know. The kernel finds a send by its descriptor's
    // number: the thread sends to this one.
    let (mut reader, writer) = pipe();
    use std::os::fd::AsRawFd;
    let fd = writer.as_raw_fd();
    let sending = {
        let s = s.clone();
        std::thread::spawn(move || {
            let zfs = Zfs::open().unwrap();
            let sent = zfs.send(&s, None, &writer, SendFlags::empty());
            drop(writer);
            sent
        })
    };
    // Let the pipe fill up and the send block, then look.
    let mut first = vec![0u8; 1 << 20];
    reader.read_exact(&mut first).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: the sending thread owns `fd` and cannot finish, and close it, before the rest
    // of the stream is read below.
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    let progress = zfs.send_progress(&s, borrowed).unwrap();
    assert!(progress.bytes >= 1 << 20, "{progress:?}");
    assert!(progress.bytes < 16 << 20, "{progress:?}");
    assert!(progress.blocks > 0, "{progress:?}");
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    sending.join().unwrap().unwrap();
    assert!(((1 << 20) + rest.len()) as u64 > progress.bytes);
    // Over: nothing to report.
    let (_, other) = pipe();
    let e = zfs.send_progress(&s, &other).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}

/// `zfs redact` and `zfs send --redact`: a clone with the secret deleted marks which blocks
/// to leave out; the redacted stream is smaller, and the received copy records its
/// redaction snapshot as `zfs get redact_snaps` shows.
#[test]
#[ignore = "needs ZFS"]
fn a_redacted_stream_leaves_out_what_the_redaction_snapshot_deleted() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let name = format!("{p}/docs");
    with_data(&zfs, &name, &[], |dir| {
        std::fs::write(dir.join("public"), incompressible(1)).unwrap();
        std::fs::write(dir.join("secret"), incompressible(4)).unwrap();
    });
    let s = snap(format!("{name}@s"));
    zfs.snapshot(std::slice::from_ref(&s), &[]).unwrap();
    // The clone with the secret deleted, snapshotted.
    let clone = ds(format!("{p}/shareable"));
    zfs.create_clone(&s, &clone, &[]).unwrap();
    let handle = zfs.dataset(&clone).unwrap();
    handle.set_property("mountpoint", "legacy").unwrap();
    let mnt = tempfile::tempdir().unwrap();
    handle.mount_at(mnt.path()).unwrap();
    std::fs::remove_file(mnt.path().join("secret")).unwrap();
    unmount(&handle);
    let without = snap(format!("{clone}@r"));
    zfs.snapshot(std::slice::from_ref(&without), &[]).unwrap();

    let book = zfs
        .redact(&s, "book", std::slice::from_ref(&without))
        .unwrap();
    assert_eq!(book.as_str(), format!("{name}#book"));
    let info = zfs.bookmark_info(&book).unwrap();
    let guid: u64 = zfs_get(without.as_str(), "guid").0.parse().unwrap();
    assert_eq!(info.redact_snaps, Some(vec![guid]));
    assert_eq!(zfs_get(book.as_str(), "redact_snaps").0, guid.to_string());

    let dir = tempfile::tempdir().unwrap();
    let (full, redacted) = (dir.path().join("full"), dir.path().join("redacted"));
    zfs.send(&s, None, File::create(&full).unwrap(), SendFlags::empty())
        .unwrap();
    zfs.send_redacted(
        &s,
        None,
        File::create(&redacted).unwrap(),
        SendFlags::empty(),
        &book,
    )
    .unwrap();
    let size = |p: &std::path::Path| std::fs::metadata(p).unwrap().len();
    assert!(
        size(&redacted) + (3 << 20) < size(&full),
        "{} vs {}",
        size(&redacted),
        size(&full)
    );
    let copy = ds(format!("{p}/copy"));
    zfs.receive(
        &copy,
        File::open(&redacted).unwrap(),
        &ReceiveOptions::new().no_mount(true),
    )
    .unwrap();
    assert_eq!(
        zfs_get(&format!("{copy}@s"), "redact_snaps").0,
        guid.to_string()
    );

    // Refused: no redaction snapshots, an existing bookmark, package flags.
    let e = zfs.redact(&s, "other", &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let e = zfs
        .redact(&s, "book", std::slice::from_ref(&without))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    let e = zfs
        .send_redacted(
            &s,
            None,
            File::create(dir.path().join("x")).unwrap(),
            SendFlags::REPLICATE,
            &book,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
}
