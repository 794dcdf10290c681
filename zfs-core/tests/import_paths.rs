//! Where `zpool import -d DIR` looks, for directory names that are not UTF-8: libzfs gets
//! the bytes as they are, so the search finds what is there.

mod common;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use common::*;
use zfs_core::testing::FilePool;
use zfs_core::ImportOptions;

#[test]
#[ignore = "needs ZFS"]
fn an_import_search_in_a_directory_not_named_in_utf8_finds_the_pool() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let latin1 = f.dir().join(OsStr::from_bytes(b"disques-\xe9t\xe9"));
    std::fs::create_dir(&latin1).unwrap();
    std::fs::hard_link(f.vdev(), latin1.join("vdev")).unwrap();
    zfs.export_pool(f.name(), &ExportOptions::new()).unwrap();
    let found = zfs
        .importable_pools(&ImportOptions::new().dir(&latin1))
        .unwrap();
    // Imported again from its own directory before anything is asserted, so that the pool
    // is cleaned up whatever happens.
    std::fs::remove_dir_all(&latin1).unwrap();
    zfs.import_pool(f.name(), &ImportOptions::new().dir(f.dir()))
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(cli_pools().contains(&f.name().to_string()));
}
