//! The features a new pool gets, side by side with what `zpool create` gives for the same
//! request: `compatibility` files (a GRUB boot pool must get exactly the grub2 set),
//! `feature@NAME=disabled`, and `-d`.

mod common;

use std::collections::BTreeMap;

use common::*;
use zfs_core::{CreatePool, ErrorKind, PoolName, VdevSpec};

/// Every `feature@` property of `pool` and its value, as `zpool get` prints them.
fn features(pool: &str) -> BTreeMap<String, String> {
    cli("zpool", &["get", "-H", "-o", "property,value", "all", pool])
        .lines()
        .filter(|l| l.starts_with("feature@"))
        .map(|l| {
            let (k, v) = l.split_once('\t').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

fn enabled(features: &BTreeMap<String, String>) -> Vec<&str> {
    features
        .iter()
        .filter(|(_, v)| v.as_str() != "disabled")
        .map(|(k, _)| k.as_str())
        .collect()
}

/// Creates a pool by `zpool create ARGS` and one by `ours`, on files of their own, and returns
/// both pools' features and our pool's `zpool status`; destroys both.
fn side_by_side(
    cli_args: &[&str],
    ours: impl FnOnce(CreatePool) -> CreatePool,
) -> (BTreeMap<String, String>, BTreeMap<String, String>, String) {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (unique("fcli"), unique("fours"));
    let fa = sparse(dir.path(), "a", 128 << 20);
    let fb = sparse(dir.path(), "b", 128 << 20);
    let mut args = vec!["create", "-m", "none"];
    args.extend_from_slice(cli_args);
    args.extend_from_slice(&[a.as_str(), fa.to_str().unwrap()]);
    cli("zpool", &args);
    let zfs = zfs();
    let pool = ours(CreatePool::new(b.clone(), VdevSpec::new().file(&fb)).mountpoint("none"))
        .create(&zfs)
        .unwrap();
    let (fa_, fb_) = (features(a.as_str()), features(b.as_str()));
    let status = cli("zpool", &["status", b.as_str()]);
    drop(pool);
    cli("zpool", &["destroy", a.as_str()]);
    zfs.destroy_pool(&b).unwrap();
    (fa_, fb_, status)
}

#[test]
#[ignore = "needs ZFS"]
fn a_grub2_boot_pool_gets_exactly_the_features_zpool_create_gives_it() {
    for compat in ["grub2", "grub2,openzfs-2.0-linux", "legacy", "off"] {
        let (theirs, ours, status) =
            side_by_side(&["-o", &format!("compatibility={compat}")], |c| {
                c.pool_property("compatibility", compat)
            });
        assert_eq!(ours, theirs, "compatibility={compat}");
        assert!(
            !status.contains("despite not being requested"),
            "compatibility={compat}: {status}"
        );
    }
    // The grub2 set leaves out what GRUB cannot read.
    let (_, ours, _) = side_by_side(&["-o", "compatibility=grub2"], |c| {
        c.pool_property("compatibility", "grub2")
    });
    for f in [
        "feature@encryption",
        "feature@zstd_compress",
        "feature@large_dnode",
    ] {
        assert_eq!(ours[f], "disabled", "{f}");
    }
    assert_ne!(ours["feature@lz4_compress"], "disabled");
}

#[test]
#[ignore = "needs ZFS"]
fn disabled_means_disabled_and_minus_d_starts_from_none() {
    let (theirs, ours, _) = side_by_side(&["-o", "feature@encryption=disabled"], |c| {
        c.pool_property("feature@encryption", "disabled")
    });
    assert_eq!(ours, theirs);
    assert_eq!(ours["feature@encryption"], "disabled");

    let (theirs, ours, _) = side_by_side(
        &[
            "-d",
            "-o",
            "feature@async_destroy=enabled",
            "-o",
            "feature@lz4_compress=enabled",
        ],
        |c| {
            c.enable_features(false)
                .pool_property("feature@async_destroy", "enabled")
                .pool_property("feature@lz4_compress", "enabled")
                .pool_property("feature@zstd_compress", "disabled")
        },
    );
    assert_eq!(ours, theirs);
    assert_eq!(
        enabled(&ours),
        ["feature@async_destroy", "feature@lz4_compress"]
    );
}

#[test]
#[ignore = "needs ZFS"]
fn a_feature_outside_the_compatibility_set_is_refused_and_no_pool_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let f = sparse(dir.path(), "a", 128 << 20);
    let zfs = zfs();
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[
                ("compatibility", "grub2"),
                ("feature@encryption", "enabled"),
            ],
            "compatibility=grub2",
        ),
        (
            &[("feature@no_such_feature", "disabled")],
            "unknown feature",
        ),
        (&[("feature@encryption", "on")], "'enabled' or 'disabled'"),
        (&[("compatibility", "no-such-file")], "no-such-file"),
    ];
    for (props, says) in cases {
        let name = unique("fbad");
        let mut c = CreatePool::new(name.clone(), VdevSpec::new().file(&f));
        for (k, v) in props {
            c = c.pool_property(k, v);
        }
        let e = c.create(&zfs).map(|_| ()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidProperty, "{props:?}: {e}");
        assert!(e.to_string().contains(says), "{props:?}: {e}");
        assert!(!cli_pools().contains(&name.to_string()), "{props:?}");
        assert!(!zfs.pool_exists(&PoolName::new(name.as_str()).unwrap()));
    }
    // The file is as it was: no label was written.
    let zdb = std::process::Command::new("zdb")
        .args(["-l", f.to_str().unwrap()])
        .output()
        .unwrap();
    let zdb = String::from_utf8_lossy(&zdb.stdout);
    assert!(!zdb.contains("pool_guid"), "{zdb}");
}
