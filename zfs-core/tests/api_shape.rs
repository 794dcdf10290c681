//! The API's shape on the real module (CONVENTIONS.md): one verb taking any kind of name, the
//! option structs doing what their CLI flags do, and a kind of name a call cannot serve refused
//! with nothing changed. Every outcome is checked with OpenZFS's own tools.

mod common;

use std::io::{Seek, Write};

use common::*;
use zfs_core::testing::FilePool;
use zfs_core::{
    BookmarkName, CreateDataset, ErrorKind, Key, Reason, ReceiveSnapshotOptions, SendFlags, Zfs,
};

fn pool_with_snapshots() -> (FilePool, Zfs, String) {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let a = format!("{}/a", f.name());
    CreateDataset::filesystem(ds(&a))
        .property("mountpoint", "legacy")
        .create(&zfs)
        .unwrap();
    zfs.snapshot(&[snap(format!("{a}@s1"))], &[]).unwrap();
    zfs.snapshot(&[snap(format!("{a}@s2"))], &[]).unwrap();
    (f, zfs, a)
}

fn bookmarks_of(fs: &str) -> String {
    cli(
        "zfs",
        &["list", "-H", "-o", "name", "-t", "bookmark", "-r", fs],
    )
}

#[test]
#[ignore = "needs ZFS"]
fn destroy_takes_any_kind_of_name_as_zfs_destroy_does() {
    let (_f, zfs, a) = pool_with_snapshots();
    let mark = BookmarkName::new(format!("{a}#m")).unwrap();
    zfs.bookmark(&[(snap(format!("{a}@s1")), mark.clone())])
        .unwrap();
    assert_eq!(bookmarks_of(&a), mark.as_str());

    // A bookmark given as any name goes, as `zfs destroy fs#m`; a missing one is NotFound.
    zfs.destroy(&any(mark.as_str()), &DestroyOptions::new())
        .unwrap();
    assert_eq!(bookmarks_of(&a), "");
    let e = zfs.destroy(&mark, &DestroyOptions::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(e.reason(), Some(Reason::BookmarkNotFound), "{e}");

    // A held snapshot: refused without -d; with -d marked, and gone with its last hold.
    let s1 = snap(format!("{a}@s1"));
    zfs.hold(&[(s1.clone(), "keep")]).unwrap();
    let e = zfs.destroy(&s1, &DestroyOptions::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    assert_eq!(e.reason(), Some(Reason::SnapshotIsHeld), "{e}");
    assert_eq!(zfs_get(s1.as_str(), "defer_destroy").0, "off");
    zfs.destroy(&s1, &DestroyOptions::new().defer(true))
        .unwrap();
    assert_eq!(zfs_get(s1.as_str(), "defer_destroy").0, "on");
    zfs.release(&[(s1.clone(), "keep")]).unwrap();
    assert!(!zfs.exists(&s1));
    let left = cli(
        "zfs",
        &["list", "-H", "-o", "name", "-t", "snapshot", "-r", &a],
    );
    assert_eq!(left, format!("{a}@s2"));

    // A filesystem as any name, with its snapshot: -r, as `zfs destroy -r`.
    let e = zfs.destroy(&any(&a), &DestroyOptions::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    zfs.destroy(&any(&a), &DestroyOptions::new().recursive(true))
        .unwrap();
    assert!(!zfs.exists(&ds(&a)));
}

#[test]
#[ignore = "needs ZFS"]
fn a_kind_of_name_a_call_cannot_serve_is_refused_with_nothing_changed() {
    let (_f, zfs, a) = pool_with_snapshots();
    let s2 = snap(format!("{a}@s2"));
    let mark = BookmarkName::new(format!("{a}#m")).unwrap();
    zfs.bookmark(&[(s2.clone(), mark.clone())]).unwrap();

    // Bookmarks have no handle (a BookmarkName does not compile; a name known at run time).
    let e = zfs.dataset(&any(mark.as_str())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    // A stream is not received into a bookmark.
    let mut stream = tempfile::tempfile().unwrap();
    zfs.send(&s2, None, &stream, SendFlags::empty()).unwrap();
    stream.flush().unwrap();
    stream.rewind().unwrap();
    let target = BookmarkName::new(format!("{}/new#m", _f.name())).unwrap();
    let e = zfs
        .receive(&target, &stream, &ReceiveOptions::new())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert!(!zfs.exists(&ds(format!("{}/new", _f.name()))));
    // A size estimate of a package stream (-p/-R) is refused, not a plain stream's figure.
    for flags in [SendFlags::PROPERTIES, SendFlags::REPLICATE] {
        let e = zfs.send_space(&s2, None, flags).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotSupported, "{flags:?}: {e}");
    }
    // A plain estimate matches what `zfs send -nP` prints.
    let ours = zfs.send_space(&s2, None, SendFlags::empty()).unwrap();
    let cli_size = cli("zfs", &["send", "-nP", s2.as_str()]);
    let theirs: u64 = cli_size
        .lines()
        .find_map(|l| l.strip_prefix("size\t"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no size in {cli_size:?}"));
    assert_eq!(ours, theirs);
    // Space figures between unrelated or misordered snapshots are argument errors.
    let s1 = snap(format!("{a}@s1"));
    let e = zfs.reclaimable_space(&s2, &s1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert_eq!(bookmarks_of(&a), mark.as_str());
}

#[test]
#[ignore = "needs ZFS"]
fn receive_snapshot_options_do_what_their_flags_say() {
    let (f, zfs, a) = pool_with_snapshots();
    let p = f.name().as_str();
    let s1 = snap(format!("{a}@s1"));
    let mut full = tempfile::tempfile().unwrap();
    zfs.send(&s1, None, &full, SendFlags::empty()).unwrap();
    full.rewind().unwrap();

    // origin: a full stream received as a clone of an existing snapshot.
    let clone = snap(format!("{p}/clone@s1"));
    zfs.receive_snapshot(
        &clone,
        &full,
        &ReceiveSnapshotOptions::new().origin(s1.clone()),
    )
    .unwrap();
    assert_eq!(zfs_get(&format!("{p}/clone"), "origin").0, s1.as_str());

    // raw: an encrypted dataset sent raw arrives encrypted, its key not loaded.
    let enc = format!("{p}/enc");
    CreateDataset::filesystem(ds(&enc))
        .encryption(Key::raw(&[7; 32]).unwrap())
        .create(&zfs)
        .unwrap();
    let enc_snap = snap(format!("{enc}@s"));
    zfs.snapshot(std::slice::from_ref(&enc_snap), &[]).unwrap();
    let mut raw = tempfile::tempfile().unwrap();
    zfs.send(&enc_snap, None, &raw, SendFlags::RAW).unwrap();
    raw.rewind().unwrap();
    let copy = snap(format!("{p}/enccopy@s"));
    zfs.receive_snapshot(&copy, &raw, &ReceiveSnapshotOptions::new().raw(true))
        .unwrap();
    assert_eq!(
        zfs_get(&format!("{p}/enccopy"), "encryption").0,
        "aes-256-gcm"
    );
    assert_eq!(
        zfs_get(&format!("{p}/enccopy"), "keystatus").0,
        "unavailable"
    );
    // The handle knows which Zfs it came from.
    let handle = zfs.dataset(&ds(format!("{p}/enccopy"))).unwrap();
    assert!(std::ptr::eq(handle.zfs(), &zfs));
    let pool = zfs.pool(f.name()).unwrap();
    assert!(std::ptr::eq(pool.zfs(), &zfs));
}

#[test]
#[ignore = "needs ZFS"]
fn list_with_refuses_a_property_name_it_cannot_pass_to_libzfs() {
    let (f, zfs, _a) = pool_with_snapshots();
    let root = f.name().root_dataset();
    for bad in ["compr\0ession", "nosuchprop", "user:prop"] {
        let e = zfs
            .list_with(&root, zfs_core::DatasetTypes::all(), &[bad])
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidProperty, "{bad:?}: {e}");
    }
}

#[test]
#[ignore = "needs ZFS"]
#[serial_test::serial(zvol)]
fn volumes_busy_or_out_of_place_are_refused_as_the_cli_refuses_them() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let vol = ds(format!("{p}/vol"));
    CreateDataset::volume(vol.clone(), 8 << 20)
        .create(&zfs)
        .unwrap();
    // The kernel makes the device node in the background, udev its /dev/zvol link (other
    // test binaries make volumes beside this one: a new /dev/zdN may be theirs).
    let link = format!("/dev/zvol/{vol}");
    let node = (0..600)
        .find_map(|_| {
            let found = std::fs::canonicalize(&link).ok();
            if found.is_none() {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            found
        })
        .unwrap_or_else(|| panic!("{link} did not appear within 60 s"));
    let node = node.file_name().unwrap().to_str().unwrap().to_owned();

    // An open volume cannot be destroyed: Busy, the volume still there (zfs list says so).
    let open = std::fs::File::open(format!("/dev/{node}")).unwrap();
    let e = zfs.destroy(&vol, &DestroyOptions::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    assert_eq!(e.reason(), Some(Reason::DatasetBusy), "{e}");
    assert_eq!(
        cli("zfs", &["list", "-H", "-o", "name", vol.as_str()]),
        vol.as_str()
    );
    drop(open);

    // `zfs diff` works on filesystems only: a volume's snapshot is refused before any pipe.
    let s = snap(format!("{vol}@s"));
    zfs.snapshot(std::slice::from_ref(&s), &[]).unwrap();
    let e = zfs.diff(&s, None).unwrap_err();
    assert_ne!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(std::process::Command::new("zfs")
        .args(["diff", s.as_str()])
        .output()
        .is_ok_and(|o| !o.status.success()));

    zfs.destroy(&vol, &DestroyOptions::new().recursive(true))
        .unwrap();
    assert!(!zfs.exists(&vol));
}
