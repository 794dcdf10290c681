//! Runs where ZFS is: `cargo zfs-test` (plain `cargo test` reports these as ignored).

use std::process::Command;

use zfs_core::testing::FilePool;
use zfs_core::{DatasetName, ErrorKind, Zfs};
use zfs_homes_example::{provision_home, OWNER_PROPERTY};

/// What OpenZFS's own `zfs get` says, so a value our API misreads cannot pass.
fn zfs_get(property: &str, dataset: &DatasetName) -> String {
    let out = Command::new("zfs")
        .args(["get", "-H", "-p", "-o", "value", property, dataset.as_str()])
        .output()
        .expect("zfs runs");
    assert!(
        out.status.success(),
        "zfs get: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
#[ignore = "needs ZFS"]
fn homes_get_their_quota_and_owner() {
    let fixture = FilePool::new().unwrap();
    let zfs = Zfs::open().unwrap();
    let parent = DatasetName::new(format!("{}/home", fixture.name())).unwrap();
    for (user, quota) in [("alice", 10u64 << 20), ("bob", 1 << 30)] {
        let home = provision_home(&zfs, &parent, user, quota).unwrap();
        assert_eq!(zfs_get("quota", &home), quota.to_string());
        assert_eq!(zfs_get(OWNER_PROPERTY, &home), user);
    }
}

#[test]
#[ignore = "needs ZFS"]
fn a_second_home_for_the_same_user_is_refused() {
    let fixture = FilePool::new().unwrap();
    let zfs = Zfs::open().unwrap();
    let parent = DatasetName::new(format!("{}/home", fixture.name())).unwrap();
    provision_home(&zfs, &parent, "carol", 1 << 20).unwrap();
    let err = provision_home(&zfs, &parent, "carol", 2 << 20).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
    assert_eq!(
        zfs_get("quota", &parent.child("carol").unwrap()),
        (1u64 << 20).to_string()
    );
}
