//! Pool properties read in one call, held against `zpool get -H -p all`: the same names in the
//! same order, the same values and sources; and the typed reading of the common ones.

mod common;

use std::path::PathBuf;

use common::*;
use zfs_core::testing::FilePool;
use zfs_core::{CacheFile, FailMode, Health};

/// `zpool get -H -p all POOL` as (property, value, source) rows.
fn zpool_get_all(pool: &str) -> Vec<(String, String, String)> {
    cli("zpool", &["get", "-H", "-p", "all", pool])
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 4, "{line}");
            assert_eq!(f[0], pool);
            (f[1].to_owned(), f[2].to_owned(), f[3].to_owned())
        })
        .collect()
}

fn ours(pool: &zfs_core::Pool<'_>) -> Vec<(String, String, String)> {
    pool.all_properties()
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k, v.value, v.source.to_string()))
        .collect()
}

#[test]
#[ignore = "needs ZFS"]
fn all_properties_are_zpool_get_all_row_for_row() {
    let f = FilePool::builder()
        .pool_property("comment", "a comment with spaces")
        .pool_property("autotrim", "on")
        .pool_property("failmode", "continue")
        .pool_property("cachefile", "none")
        .create()
        .unwrap();
    let zfs = zfs();
    let name = f.name().as_str();
    cli("zpool", &["set", "org.example:role=test pool", name]);
    let pool = zfs.pool(f.name()).unwrap();
    let cli_rows = zpool_get_all(name);
    let our_rows = ours(&pool);
    // Row for row, in the CLI's order: a difference shows as the first row that differs.
    for (i, (a, b)) in our_rows.iter().zip(&cli_rows).enumerate() {
        assert_eq!(a, b, "row {i}");
    }
    assert_eq!(
        our_rows.len(),
        cli_rows.len(),
        "{our_rows:#?}\n{cli_rows:#?}"
    );
    // What the rows must contain, so that the comparison is not of two empty lists.
    assert!(our_rows
        .iter()
        .any(|(k, v, s)| k == "comment" && v == "a comment with spaces" && s == "local"));
    assert!(our_rows
        .iter()
        .any(|(k, v, _)| k == "org.example:role" && v == "test pool"));
    assert!(our_rows
        .iter()
        .any(|(k, v, _)| k == "feature@async_destroy" && v == "enabled"));
    assert!(!our_rows.iter().any(|(k, _, _)| k == "name"));

    let p = pool.properties().unwrap();
    let get = |prop: &str| zpool_get(name, prop).0;
    assert_eq!(p.size.to_string(), get("size"));
    assert_eq!(p.guid.to_string(), get("guid"));
    assert_eq!(p.ashift.to_string(), get("ashift"));
    assert_eq!(p.capacity.to_string(), get("capacity"));
    assert_eq!(p.health, Health::Online);
    assert!(p.autotrim && !p.autoexpand && !p.autoreplace && !p.readonly);
    assert_eq!(p.failmode, FailMode::Continue);
    assert_eq!(p.comment.as_deref(), Some("a comment with spaces"));
    assert_eq!(p.cachefile, CacheFile::None);
    assert_eq!(p.bootfs, None);
    assert_eq!(p.altroot, None);
    assert!((p.dedupratio - 1.0).abs() < f64::EPSILON);
    assert_eq!(p.compatibility, get("compatibility"));
}

/// A pool with every feature disabled, a bootfs, a cache file of its own and an altroot reads
/// as the CLI reads it too.
#[test]
#[ignore = "needs ZFS"]
fn a_pool_without_features_and_with_an_altroot_reads_like_zpool_get() {
    let dir = tempfile::tempdir().unwrap();
    let vdev = sparse(dir.path(), "vdev", 256 << 20);
    let pool = unique("zpropsd");
    let cache = dir.path().join("cache");
    let alt = dir.path().join("alt");
    cli(
        "zpool",
        &[
            "create",
            "-d",
            "-o",
            &format!("cachefile={}", cache.display()),
            "-R",
            alt.to_str().unwrap(),
            pool.as_str(),
            vdev.to_str().unwrap(),
        ],
    );
    let boot = format!("{pool}/boot");
    cli("zfs", &["create", &boot]);
    cli("zpool", &["set", &format!("bootfs={boot}"), pool.as_str()]);
    let zfs = zfs();
    let rows = {
        let handle = zfs.pool(&pool).unwrap();
        let rows = (ours(&handle), zpool_get_all(pool.as_str()));
        let typed = handle.properties();
        (rows, typed)
    };
    cli("zpool", &["destroy", pool.as_str()]);
    let ((our_rows, cli_rows), typed) = rows;
    assert_eq!(our_rows, cli_rows);
    assert!(our_rows
        .iter()
        .any(|(k, v, _)| k == "feature@async_destroy" && v == "disabled"));
    let p = typed.unwrap();
    assert_eq!(p.bootfs.map(|b| b.to_string()), Some(boot));
    assert_eq!(p.altroot, Some(alt));
    assert_eq!(p.cachefile, CacheFile::Path(PathBuf::from(&cache)));
}

/// (value, source) of each property, as `zpool get -H -p` prints them.
fn cli_values(pool: &str, names: &[&str]) -> Vec<(String, String)> {
    names.iter().map(|n| zpool_get(pool, n)).collect()
}

#[test]
#[ignore = "needs ZFS"]
fn several_properties_are_set_in_one_call_or_none_is() {
    let f = FilePool::builder().create().unwrap();
    let zfs = zfs();
    let name = f.name().as_str();
    let pool = zfs.pool(f.name()).unwrap();
    pool.set_properties(&[
        ("comment", "first"),
        ("autotrim", "on"),
        ("failmode", "continue"),
        ("org.example:owner", "installer"),
    ])
    .unwrap();
    let names = [
        "comment",
        "autotrim",
        "failmode",
        "org.example:owner",
        "autoexpand",
        "org.example:unset",
    ];
    let set = cli_values(name, &names);
    assert_eq!(set[0].0, "first");
    assert_eq!(set[1], ("on".into(), "local".into()));
    assert_eq!(set[2], ("continue".into(), "local".into()));
    assert_eq!(set[3], ("installer".into(), "local".into()));

    // A bad value last: the changes before it are put back, values and sources.
    let e = pool
        .set_properties(&[
            ("comment", "second"),
            ("autoexpand", "on"),
            ("autotrim", "off"),
            ("org.example:unset", "now set"),
            ("org.example:owner", "someone else"),
            ("failmode", "sometimes"),
        ])
        .unwrap_err();
    assert_eq!(e.kind(), zfs_core::ErrorKind::InvalidProperty, "{e}");
    assert!(e.to_string().contains("failmode"), "{e}");
    assert_eq!(cli_values(name, &names), set);

    // Refused before anything changes.
    for bad in [
        &[("comment", "third"), ("size", "1")][..],
        &[("comment", "third"), ("altroot", "/mnt")],
        &[("comment", "third"), ("readonly", "on")],
        &[("comment", "third"), ("comment", "fourth")],
        &[("comment", "third"), ("feature@async_destroy", "disabled")],
        &[("comment", "third"), ("feature@no_such_feature", "enabled")],
        &[("comment", "third"), ("no_such_property", "1")],
    ] {
        let e = pool.set_properties(bad).unwrap_err();
        assert_eq!(
            e.kind(),
            zfs_core::ErrorKind::InvalidProperty,
            "{bad:?}: {e}"
        );
        assert_eq!(cli_values(name, &names), set, "{bad:?}");
    }
    pool.set_properties(&[]).unwrap();
    assert_eq!(cli_values(name, &names), set);
}

#[test]
#[ignore = "needs ZFS"]
fn features_are_enabled_with_the_other_properties() {
    let dir = tempfile::tempdir().unwrap();
    let vdev = sparse(dir.path(), "vdev", 256 << 20);
    let pool = unique("zpropsf");
    cli(
        "zpool",
        &[
            "create",
            "-d",
            "-m",
            "none",
            pool.as_str(),
            vdev.to_str().unwrap(),
        ],
    );
    let zfs = zfs();
    let result = zfs
        .pool(&pool)
        .unwrap()
        .set_properties(&[("feature@lz4_compress", "enabled"), ("comment", "with lz4")]);
    let got = cli_values(
        pool.as_str(),
        &["feature@lz4_compress", "feature@async_destroy", "comment"],
    );
    cli("zpool", &["destroy", pool.as_str()]);
    result.unwrap();
    assert!(got[0].0 == "enabled" || got[0].0 == "active", "{got:?}");
    assert_eq!(got[1].0, "disabled");
    assert_eq!(got[2].0, "with lz4");
}

/// `zpool status` of every pool in one call: each pool's status as its own handle reads it,
/// and every pool the CLI lists before and after is there. Other binaries' pools come and go,
/// and one exported and imported again between the two lists is rightly missed by the call in
/// between (CI met that once): a call that misses a pool listed on both sides is made again,
/// up to five times, and a fifth call that still misses one fails the test.
#[test]
#[ignore = "needs ZFS"]
fn the_status_of_every_pool_in_one_call() {
    let a = FilePool::builder().prefix("zstatusa").create().unwrap();
    let b = FilePool::builder()
        .prefix("zstatusb")
        .mirror(2)
        .create()
        .unwrap();
    let zfs = zfs();
    let mut calls = 0;
    let all = loop {
        calls += 1;
        let before: std::collections::BTreeSet<String> = cli_pools().into_iter().collect();
        let all = zfs.pool_statuses().unwrap();
        let after: std::collections::BTreeSet<String> = cli_pools().into_iter().collect();
        let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        let missing: Vec<&String> = before
            .intersection(&after)
            .filter(|name| !names.contains(&name.as_str()))
            .collect();
        if missing.is_empty() {
            break all;
        }
        assert!(
            calls < 5,
            "{missing:?} missing from {names:?} in each of {calls} calls"
        );
        eprintln!("call {calls}: {missing:?} missing from {names:?} (gone for a moment?)");
    };
    for f in [&a, &b] {
        let (_, status) = all
            .iter()
            .find(|(n, _)| n == f.name())
            .unwrap_or_else(|| panic!("{} missing", f.name()));
        assert_eq!(*status, zfs.pool(f.name()).unwrap().status().unwrap());
    }
    let (_, mirrored) = all.iter().find(|(n, _)| n == b.name()).unwrap();
    assert_eq!(mirrored.root.children.len(), 1);
    assert_eq!(mirrored.root.children[0].children.len(), 2);
}
