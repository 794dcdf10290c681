//! Failures that must be the error a caller can act on, and leave nothing behind: no leaked
//! descriptor, no collision between threads, no bad name reaching the kernel.
//!
//! Every test here is `#[serial]`: one of them counts this process's open descriptors.

mod common;

use common::*;
use serial_test::serial;
use zfs_core::testing::FilePool;
use zfs_core::{CreateDataset, ErrorKind, SendFlags, Zfs};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// A pool with `P/a` mounted at a temporary directory, with snapshots `@s1` and `@s2` and a
/// change after each.
fn diffable() -> (FilePool, Zfs, tempfile::TempDir) {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    CreateDataset::filesystem(ds(format!("{p}/a")))
        .property("mountpoint", "legacy")
        .create(&zfs)
        .unwrap();
    let mnt = tempfile::tempdir().unwrap();
    zfs.dataset(&any(format!("{p}/a")))
        .unwrap()
        .mount_at(mnt.path())
        .unwrap();
    std::fs::write(mnt.path().join("one"), b"1").unwrap();
    zfs.snapshot(&[snap(format!("{p}/a@s1"))], &[]).unwrap();
    std::fs::write(mnt.path().join("two"), b"2").unwrap();
    zfs.snapshot(&[snap(format!("{p}/a@s2"))], &[]).unwrap();
    std::fs::write(mnt.path().join("three"), b"3").unwrap();
    (f, zfs, mnt)
}

#[test]
#[ignore = "needs ZFS"]
#[serial]
fn failed_diffs_leak_no_descriptors() {
    let (f, zfs, mnt) = diffable();
    let p = f.name().as_str();
    let (s1, s2) = (snap(format!("{p}/a@s1")), snap(format!("{p}/a@s2")));
    // Warm up: libzfs opens what it keeps on the first calls.
    zfs.diff(&s1, Some(&snap(format!("{}@s2", s1.dataset()))))
        .unwrap();
    let before = open_fds();
    for _ in 0..10 {
        let e = zfs
            .diff(&s1, Some(&snap(format!("{}@nope", s1.dataset()))))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
        let e = zfs
            .diff(&s2, Some(&snap(format!("{}@s1", s2.dataset()))))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        let e = zfs
            .diff(&s1, Some(&snap(format!("{}@s1", s1.dataset()))))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        let e = zfs.diff(&s1, Some(&snap(format!("{p}@s1")))).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    }
    assert_eq!(open_fds(), before, "descriptors leaked by failed diffs");
    unmount(&zfs.dataset(&any(format!("{p}/a"))).unwrap());
    drop(mnt);
}

#[test]
#[ignore = "needs ZFS"]
#[serial]
fn live_diffs_from_many_threads_at_once_all_succeed() {
    let (f, zfs, mnt) = diffable();
    let p = f.name().as_str().to_owned();
    let expected = zfs.diff(&snap(format!("{p}/a@s1")), None).unwrap().len();
    assert_eq!(expected, 3, "two files added and the directory modified");
    std::thread::scope(|s| {
        for _ in 0..8 {
            let p = &p;
            s.spawn(move || {
                let zfs = Zfs::open().unwrap();
                for _ in 0..5 {
                    let got = zfs.diff(&snap(format!("{p}/a@s1")), None).unwrap();
                    assert_eq!(got.len(), expected);
                }
            });
        }
    });
    unmount(&zfs.dataset(&any(format!("{p}/a"))).unwrap());
    drop(mnt);
}

#[test]
#[ignore = "needs ZFS"]
#[serial]
fn malformed_send_sources_never_reach_the_kernel() {
    let (f, zfs, mnt) = diffable();
    let p = f.name().as_str();
    let s2 = snap(format!("{p}/a@s2"));
    let sink = std::fs::File::create("/dev/null").unwrap();
    // A bad source name cannot reach `send` at all: it does not parse.
    for bad in ["fs@sn!p", "@sn!p", "#b!m", "plainname", ""] {
        let e = zfs_core::SnapshotName::new(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidName, "{bad:?}: {e}");
        let e = zfs_core::BookmarkName::new(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidName, "{bad:?}: {e}");
    }
    // The short and full forms of a good source both work.
    zfs.send(
        &s2,
        Some(&inc(format!("{}@s1", s2.dataset()))),
        &sink,
        SendFlags::empty(),
    )
    .unwrap();
    zfs.send(
        &s2,
        Some(&inc(format!("{p}/a@s1"))),
        &sink,
        SendFlags::empty(),
    )
    .unwrap();
    unmount(&zfs.dataset(&any(format!("{p}/a"))).unwrap());
    drop(mnt);
}

#[test]
#[ignore = "needs ZFS"]
#[serial]
fn a_read_only_stream_descriptor_and_a_nul_mount_path_are_named_as_such() {
    let (f, zfs, mnt) = diffable();
    let p = f.name().as_str();
    let s2 = snap(format!("{p}/a@s2"));
    let read_only = std::fs::File::open("/dev/null").unwrap();
    for flags in [SendFlags::empty(), SendFlags::PROPERTIES] {
        let e = zfs.send(&s2, None, &read_only, flags).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{flags:?}: {e}");
        assert!(e.to_string().contains("not open for writing"), "{e}");
    }
    let d = zfs.dataset(&any(format!("{p}/a"))).unwrap();
    unmount(&d);
    let e = d
        .mount_at(std::path::Path::new("/tmp/with\0nul"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert!(d.mounted_at().is_none());
    drop(mnt);
}

#[test]
#[ignore = "needs ZFS"]
#[serial]
fn a_pool_destroyed_elsewhere_reads_as_gone_not_faulted() {
    let dir = tempfile::tempdir().unwrap();
    let vdev = sparse(dir.path(), "v", 128 << 20);
    let zfs = zfs();
    let name = unique("gone");
    let pool = zfs_core::CreatePool::new(name.clone(), zfs_core::VdevSpec::new().file(&vdev))
        .pool_property("cachefile", "none")
        .mountpoint("none")
        .create(&zfs)
        .unwrap();
    assert_eq!(pool.health().unwrap(), zfs_core::Health::Online);
    assert_eq!(pool.state().unwrap(), zfs_core::PoolState::Active);
    cli("zpool", &["destroy", name.as_str()]);
    let e = pool.health().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e = pool.state().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}

/// A malformed name cannot be handed to any call: every call takes typed names, and text
/// becomes one only through the rules (pure Rust, no ZFS needed).
#[test]
fn malformed_names_given_as_text_never_become_names() {
    let p = "tank";
    for bad in [
        format!("{p}/st*r"),
        format!("{p}/a@sn!p"),
        format!("{p}/a#b!m"),
        format!("{p}//double"),
        format!("{p}/{}", "x".repeat(300)),
    ] {
        let e = zfs_core::AnyName::new(bad.as_str()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidName, "{bad}: {e}");
        assert!(e.name_rule().is_some(), "{bad}: {e:?}");
        assert!(zfs_core::DatasetName::new(bad.as_str()).is_err(), "{bad}");
    }
}

/// `Zfs::open` where `/dev/zfs` exists but this process may not open it (a system whose node is
/// `0600`, a program run without root): `PermissionDenied`, with libzfs's words and the hint.
///
/// The test runs itself again in a private mount namespace whose `/dev/zfs` is a copy of the
/// node owned by another user, with every capability dropped (so root's override is gone too);
/// the real `/dev/zfs` of the other tests is untouched.
#[test]
#[ignore = "needs ZFS"]
#[serial]
fn opening_dev_zfs_without_permission_is_permission_denied() {
    if std::env::var_os("ZFS_CORE_OPEN_CHILD").is_some() {
        match Zfs::open() {
            Ok(_) => println!("RESULT opened"),
            Err(e) => println!("RESULT {:?} | {e}", e.kind()),
        }
        return;
    }
    drop(zfs()); // fails loudly where there is no ZFS
    let exe = std::env::current_exe().unwrap();
    let script = r#"set -e
        d=$(mktemp -d)
        set -- $(stat -c '%t %T' /dev/zfs) "$1"
        mknod "$d/zfs" c $((0x$1)) $((0x$2))
        chown 65534 "$d/zfs"
        chmod 600 "$d/zfs"
        mount --bind "$d/zfs" /dev/zfs
        exec setpriv --bounding-set=-all --inh-caps=-all -- "$3" --exact --ignored --nocapture \
            opening_dev_zfs_without_permission_is_permission_denied"#;
    let out = std::process::Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            "sh",
        ])
        .arg(&exe)
        .env("ZFS_CORE_OPEN_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("no result from the child: {stdout}"));
    assert!(result.starts_with("PermissionDenied | "), "{result}");
    assert!(
        result.contains("/dev/zfs") && result.contains("run as root"),
        "{result}"
    );
    // The real node is as it was: this process still opens it.
    drop(zfs());
}
