//! Mounting on the real module, checked with `findmnt` and `zfs get`: temporary mount
//! options, loading a key from its `keylocation` to mount, and every filesystem of a pool
//! mounted and unmounted in order.

mod common;

use std::path::Path;

use common::*;
use zfs_core::testing::FilePool;
use zfs_core::{CreateDataset, ErrorKind, Key, KeyStatus, MountOptions, UnmountOptions, Zfs};

/// `findmnt -n -o OPTIONS --mountpoint DIR`, or `None` if nothing is mounted there.
fn mount_options(dir: &Path) -> Option<String> {
    let out = std::process::Command::new("findmnt")
        .args(["-n", "-o", "SOURCE,OPTIONS", "--mountpoint"])
        .arg(dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// `create` with its mountpoint at `at`, created and left unmounted.
fn unmounted_at<'z>(zfs: &'z Zfs, create: CreateDataset, at: &Path) -> zfs_core::Dataset<'z> {
    let name = create.name().to_string();
    create
        .property("mountpoint", at.to_str().unwrap())
        .create(zfs)
        .unwrap();
    let fs = zfs.dataset(&any(&name)).unwrap();
    if fs.mounted_at().is_some() {
        unmount(&fs);
    }
    fs
}

#[test]
#[ignore = "needs ZFS"]
fn temporary_mount_options_show_in_the_mount_table_and_as_temporary() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("m");
    let name = format!("{p}/m");
    let fs = unmounted_at(&zfs, CreateDataset::filesystem(ds(&name)), &at);
    fs.mount_with(&MountOptions::new().options("ro,noexec"))
        .unwrap();
    let shown = mount_options(&at).expect("mounted");
    assert!(shown.starts_with(&name), "{shown}");
    for option in ["ro", "noexec"] {
        assert!(shown.split([' ', ',']).any(|o| o == option), "{shown}");
    }
    assert_eq!(
        zfs_get(&name, "readonly"),
        ("on".into(), "temporary".into())
    );
    assert!(std::fs::write(at.join("x"), b"x").is_err(), "read-only");
    unmount(&fs);
    let e = fs
        .mount_with(&MountOptions::new().options("ro\0"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert_eq!(mount_options(&at), None);
}

/// `mount -t zfs -o ro,noexec,nosuid,nodev,noatime DATASET PATH` for a legacy dataset: the
/// flags reach the mount table, ZFS reports the temporary values, a write fails.
#[test]
#[ignore = "needs ZFS"]
fn a_legacy_mount_at_a_path_takes_mount_options() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let name = format!("{}/legacy", f.name());
    CreateDataset::filesystem(ds(&name))
        .property("mountpoint", "legacy")
        .create(&zfs)
        .unwrap();
    let fs = zfs.dataset(&any(&name)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("deep/er");
    fs.mount_at_with(
        &at,
        &MountOptions::new().options("ro,noexec,nosuid,nodev,noatime"),
    )
    .unwrap();
    let shown = mount_options(&at).expect("mounted");
    for option in ["ro", "noexec", "nosuid", "nodev", "noatime"] {
        assert!(
            shown.split([' ', ',']).any(|o| o == option),
            "{option}: {shown}"
        );
    }
    assert_eq!(
        zfs_get(&name, "readonly"),
        ("on".into(), "temporary".into())
    );
    assert_eq!(zfs_get(&name, "exec"), ("off".into(), "temporary".into()));
    assert!(std::fs::write(at.join("x"), b"x").is_err(), "read-only");
    let e = fs.mount_at_with(&at, &MountOptions::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    unmount(&fs);
    // Without options: read-write, and `rw` after `ro` in one list wins. The kernel refuses
    // (EBUSY) a read-write mount while the read-only superblock is still there, which a copy
    // of a descriptor in another test thread's child can keep for a moment (see `unmount`).
    when_not_busy(|| fs.mount_at_with(&at, &MountOptions::new().options("ro,rw")));
    std::fs::write(at.join("x"), b"x").unwrap();
    unmount(&fs);
    let e = fs
        .mount_at_with(&at, &MountOptions::new().options("ro\0"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert_eq!(mount_options(&at), None);
}

#[test]
#[ignore = "needs ZFS"]
fn an_encrypted_filesystem_mounts_with_its_key_loaded_from_its_keylocation() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let dir = tempfile::tempdir().unwrap();
    let keyfile = dir.path().join("key");
    std::fs::write(&keyfile, [7u8; 32]).unwrap();
    let at = dir.path().join("secret");
    let name = format!("{p}/secret");
    let create = CreateDataset::filesystem(ds(&name))
        .encryption(Key::raw(&[7; 32]).unwrap())
        .property("keylocation", &format!("file://{}", keyfile.display()));
    let fs = unmounted_at(&zfs, create, &at);
    fs.unload_key().unwrap();
    let e = fs.mount_with(&MountOptions::new()).unwrap_err();
    assert_eq!(mount_options(&at), None, "{e}");
    fs.mount_with(&MountOptions::new().load_key(true)).unwrap();
    assert_eq!(fs.key_status().unwrap(), KeyStatus::Available);
    assert_eq!(zfs_get(&name, "keystatus").0, "available");
    assert!(mount_options(&at).is_some());
    fs.unmount(&UnmountOptions::new()).unwrap();
    fs.unload_key().unwrap();

    // A wrong key in the file: refused, still locked; a missing file: refused.
    std::fs::write(&keyfile, [8u8; 32]).unwrap();
    let e = fs.load_key_from_location().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::WrongKey, "{e}");
    std::fs::remove_file(&keyfile).unwrap();
    assert!(fs.load_key_from_location().is_err());
    assert_eq!(zfs_get(&name, "keystatus").0, "unavailable");
    // `prompt` is never prompted for.
    fs.set_property("keylocation", "prompt").unwrap();
    let e = fs.load_key_from_location().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
}

#[test]
#[ignore = "needs ZFS"]
fn every_filesystem_of_a_pool_mounts_parents_first_and_unmounts() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    // The child's mountpoint lies inside its parent's: the parent must be mounted first.
    for (fs, mountpoint, canmount) in [
        ("a", root.join("a"), "on"),
        ("a/b", root.join("a/b"), "on"),
        ("c", root.join("c"), "noauto"),
    ] {
        CreateDataset::filesystem(ds(format!("{p}/{fs}")))
            .property("mountpoint", mountpoint.to_str().unwrap())
            .property("canmount", canmount)
            .create(&zfs)
            .unwrap();
    }
    let pool = zfs.pool(f.name()).unwrap();
    pool.unmount_all(false).unwrap();
    for d in ["a", "a/b", "c"] {
        assert_eq!(mount_options(&root.join(d)), None, "{d}");
    }
    pool.mount_all(&MountOptions::new()).unwrap();
    assert!(mount_options(&root.join("a"))
        .unwrap()
        .starts_with(&format!("{p}/a ")));
    assert!(mount_options(&root.join("a/b"))
        .unwrap()
        .starts_with(&format!("{p}/a/b ")));
    assert_eq!(
        mount_options(&root.join("c")),
        None,
        "canmount=noauto stays unmounted"
    );
    let mounted = cli(
        "zfs",
        &["get", "-H", "-o", "name,value", "-r", "mounted", p],
    );
    assert!(mounted.contains(&format!("{p}/a/b\tyes")), "{mounted}");

    // Busy: refused without force.
    let held = std::fs::File::open(root.join("a/b")).unwrap();
    let e = pool.unmount_all(false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    drop(held);
    // Closed here; a child of another test thread may still hold a copy for a moment.
    when_not_busy(|| pool.unmount_all(false));
    assert_eq!(mount_options(&root.join("a")), None);
}

/// `zfs share`/`unshare`: where the NFS server is installed the share shows in its export
/// table; where it is not (the test VM), the call fails with libzfs's words and nothing is
/// shared. Either way an unmounted filesystem is refused first.
#[test]
#[ignore = "needs ZFS"]
fn sharing_over_nfs_shares_or_says_why_not() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("shared");
    let name = format!("{p}/shared");
    CreateDataset::filesystem(ds(&name))
        .property("mountpoint", at.to_str().unwrap())
        .create(&zfs)
        .unwrap();
    // Through the CLI: setting it tries to share at once, which may fail here.
    let _ = std::process::Command::new("zfs")
        .args(["set", "sharenfs=on", &name])
        .output()
        .unwrap();
    assert_eq!(zfs_get(&name, "sharenfs").0, "on");
    let fs = zfs.dataset(&any(&name)).unwrap();
    if fs.mounted_at().is_none() {
        fs.mount().unwrap();
    }
    let nfs = [zfs_core::ShareProtocol::Nfs];
    match fs.share(&nfs) {
        Ok(()) => {
            assert!(fs.shared(&nfs));
            let table = std::fs::read_to_string("/etc/exports.d/zfs.exports").unwrap();
            assert!(table.contains(at.to_str().unwrap()), "{table}");
            fs.unshare(&nfs).unwrap();
            assert!(!fs.shared(&nfs));
        }
        Err(e) => {
            assert!(e.message().contains("NFS share creation failed"), "{e}");
            assert!(!fs.shared(&nfs));
            assert!(!std::path::Path::new("/etc/exports.d/zfs.exports").exists());
        }
    }
    fs.unshare(&nfs).unwrap();
    unmount(&fs);
    let e = fs.share(&[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
}
