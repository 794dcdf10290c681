//! Our name parser against libzfs's own validators (`pool_namecheck`, `zfs_name_valid`), which
//! are pure C and need no `/dev/zfs`, so this runs on the host.
//!
//! Every name we accept, libzfs accepts. Every name we refuse, libzfs refuses too, except where
//! we are stricter on purpose (see `zfs_core::name`'s module docs): `%`, the reserved pool-name
//! prefixes and vdev-class words, and a first dataset component that is not a valid pool name.

use std::ffi::CString;

use libzfs_sys as sys;
use proptest::prelude::*;
use zfs_core::{BookmarkName, DatasetName, NameRule, PoolName, SnapshotName};

fn libzfs_pool_ok(name: &str) -> bool {
    let c = CString::new(name).unwrap();
    let mut why = sys::namecheck_err_t(0);
    let mut what: std::os::raw::c_char = 0;
    // SAFETY: a NUL-terminated name and two out-parameters that live for the call.
    unsafe { sys::pool_namecheck(c.as_ptr(), &mut why, &mut what) == 0 }
}

fn libzfs_name_ok(name: &str, ty: sys::zfs_type_t) -> bool {
    let c = CString::new(name).unwrap();
    // SAFETY: a NUL-terminated name; zfs_name_valid needs no handle.
    unsafe { sys::zfs_name_valid(c.as_ptr(), ty) != 0 }
}

/// Names we refuse on purpose although libzfs's check accepts them.
fn stricter_pool_rule(rule: &NameRule) -> bool {
    matches!(rule, NameRule::PoolReserved(_) | NameRule::PoolDiskLike)
}

fn stricter_on(name: &str, rule: &NameRule) -> bool {
    if name.contains('%') || stricter_pool_rule(rule) || matches!(rule, NameRule::PoolNoLetter) {
        return true;
    }
    // `.`/`..` right before `@` or `#`: libzfs's check misses them.
    if let NameRule::SelfReference { position } | NameRule::ParentReference { position } = rule {
        let rest = &name[*position..].trim_start_matches('.');
        if rest.starts_with(['@', '#']) {
            return true;
        }
    }
    // The first component of a dataset name must be a valid pool name for us.
    let pool = name.split(['/', '@', '#']).next().unwrap_or("");
    PoolName::new(pool).is_err()
}

fn check(name: &str) {
    // Pools.
    let ours = PoolName::new(name);
    let theirs = libzfs_pool_ok(name);
    match &ours {
        Ok(_) => assert!(
            theirs,
            "we accept pool name {name:?}, pool_namecheck refuses it"
        ),
        Err(e) => assert!(
            !theirs || stricter_pool_rule(e.name_rule().unwrap()),
            "we refuse pool name {name:?} ({e}), pool_namecheck accepts it"
        ),
    }
    // Filesystems, snapshots, bookmarks.
    let kinds: [(sys::zfs_type_t, Result<(), zfs_core::Error>); 3] = [
        (
            sys::zfs_type_t::ZFS_TYPE_FILESYSTEM,
            DatasetName::new(name).map(drop),
        ),
        (
            sys::zfs_type_t::ZFS_TYPE_SNAPSHOT,
            SnapshotName::new(name).map(drop),
        ),
        (
            sys::zfs_type_t::ZFS_TYPE_BOOKMARK,
            BookmarkName::new(name).map(drop),
        ),
    ];
    for (ty, ours) in kinds {
        let theirs = libzfs_name_ok(name, ty);
        match ours {
            Ok(()) => assert!(
                theirs,
                "we accept {name:?} as {ty:?}, zfs_name_valid refuses it"
            ),
            Err(e) => assert!(
                !theirs || stricter_on(name, e.name_rule().unwrap()),
                "we refuse {name:?} as {ty:?} ({e}), zfs_name_valid accepts it"
            ),
        }
    }
}

#[test]
fn edge_cases_agree_with_libzfs() {
    let long = |n: usize| "x".repeat(n);
    let cases = [
        String::new(),
        "tank".into(),
        "tank/a".into(),
        "tank/a@s".into(),
        "tank/a#b".into(),
        "tank//a".into(),
        "tank/".into(),
        "/tank".into(),
        "tank/.".into(),
        "tank/..".into(),
        "tank/./a".into(),
        "tank@.".into(),
        "tank@..".into(),
        "tank#..".into(),
        "tank@a@b".into(),
        "tank@a#b".into(),
        "tank@a/b".into(),
        "a/.@s".into(),
        "a/..#b".into(),
        "tank/a b:c.d-e_f".into(),
        "tank/a%b".into(),
        "mirror".into(),
        "raidz".into(),
        "draid".into(),
        "c0d0".into(),
        "1tank".into(),
        "tank\t".into(),
        "tänk".into(),
        format!("a{}", long(245)),
        format!("a{}", long(246)),
        format!("a{}", long(254)),
        format!("a{}", long(255)),
        format!("tank/{}", long(250)),
        format!("tank/{}", long(251)),
        format!("tank@{}", long(250)),
        format!("tank@{}", long(251)),
        format!("tank#{}", long(250)),
        format!("tank#{}", long(251)),
    ];
    for name in &cases {
        check(name);
    }
}

/// Pieces that names are made of: valid and invalid characters, delimiters, long runs.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(vec![
            "a", "Z", "q", "0", "9", "-", "_", ".", ":", " ", "/", "@", "#", "%", "!", "é", "\t",
            "..", "c0", "mirror", "raidz1", "log",
        ]).prop_map(str::to_owned),
        1 => (0usize..260).prop_map(|n| "x".repeat(n)),
    ]
}

/// 20 000 cases in `cargo test`; `ci/fuzz` sets `FUZZ_CASES` to run millions.
fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

/// Any text at all, not only name-like pieces: control characters, NULs, multi-byte code
/// points, long runs.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => ".{0,300}",
        1 => prop::collection::vec(any::<char>(), 0..40).prop_map(|c| c.into_iter().collect()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]
    #[test]
    fn random_names_agree_with_libzfs(pieces in prop::collection::vec(piece(), 0..12)) {
        check(&pieces.concat());
    }

    #[test]
    fn any_text_is_parsed_without_panicking(text in any_text()) {
        // A NUL cannot reach libzfs's validators (C strings); ours must refuse it cleanly.
        if text.contains('\0') {
            prop_assert!(PoolName::new(text.as_str()).is_err());
            prop_assert!(DatasetName::new(text.as_str()).is_err());
            prop_assert!(SnapshotName::new(text.as_str()).is_err());
            prop_assert!(BookmarkName::new(text.as_str()).is_err());
        } else {
            check(&text);
        }
    }
}
