//! Wrong answers found by running peers' own test suites (pyzfs, libzetta) against zfs-core:
//! each case as the peer's test provokes it, checked against the CLI's answer.

mod common;

use common::*;
use zfs_core::testing::FilePool;
use zfs_core::{CreateDataset, ErrorKind, Reason};

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
