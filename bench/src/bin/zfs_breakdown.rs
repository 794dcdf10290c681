//! Where the time of a zfs-core call goes: the median cost of each libzfs / libzfs_core
//! primitive that the safe layer is built from, measured one call at a time on N datasets.
//!
//! `ci/vm target/release/zfs-breakdown [N]` (default 50). Prints one line per primitive with
//! its median in milliseconds and its cost relative to `lzc_create`, the call that waits for a
//! transaction group to sync and so sets the floor for creating anything.

use std::ffi::{c_int, c_void, CString};
use std::ptr;
use std::time::Duration;

use libzfs_sys as sys;
use zfs_bench::{median, timed};
use zfs_core::testing::FilePool;
use zfs_core::{DatasetTypes, SnapshotName, Zfs};

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// Counts the handles it is given, closing each.
unsafe extern "C" fn count(zhp: *mut sys::zfs_handle_t, data: *mut c_void) -> c_int {
    // SAFETY: `data` is the counter passed by `iterate_snapshots`; the handle is ours to close.
    unsafe {
        *data.cast::<usize>() += 1;
        sys::zfs_close(zhp);
    }
    0
}

/// One `zfs_iter_snapshots` over `name`'s snapshots: (time, snapshots seen).
fn iterate_snapshots(
    hdl: *mut sys::libzfs_handle_t,
    name: &str,
    simple: sys::boolean_t,
) -> (Duration, usize) {
    // SAFETY: live libzfs handle, NUL-terminated name; the dataset handle is closed once.
    let zhp = unsafe { sys::zfs_open(hdl, c(name).as_ptr(), 0x1) };
    assert!(!zhp.is_null());
    let mut seen = 0usize;
    let (t, rc) = timed(|| {
        // SAFETY: live handle; `count` matches zfs_iter_f; `seen` outlives the call.
        unsafe {
            sys::zfs_iter_snapshots(
                zhp,
                simple,
                Some(count),
                (&mut seen as *mut usize).cast(),
                0,
                0,
            )
        }
    });
    assert_eq!(rc, 0);
    // SAFETY: opened above, closed once.
    unsafe { sys::zfs_close(zhp) };
    (t, seen)
}

/// Times `f` once per name and returns the median.
fn per_call(names: &[String], mut f: impl FnMut(&str)) -> Duration {
    median(names.iter().map(|n| timed(|| f(n)).0).collect())
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(50, |a| a.parse().expect("N is a number"));
    let zfs = Zfs::open().expect("needs root and the zfs module");
    // SAFETY: libzfs_init has no preconditions; checked non-null, freed at the end.
    let hdl = unsafe { sys::libzfs_init() };
    assert!(!hdl.is_null());
    // Destroyed with its file when dropped, also on a panic.
    let scratch = FilePool::builder()
        .prefix("zbreak")
        .size(2 << 30)
        .create()
        .expect("create the pool");
    let pool_name = scratch.name().to_string();
    let names: Vec<String> = (0..n).map(|i| format!("{pool_name}/fs{i:05}")).collect();
    let absent: Vec<String> = (0..n).map(|i| format!("{pool_name}/no{i:05}")).collect();
    let mut rows: Vec<(&str, Duration)> = Vec::new();

    rows.push((
        "lzc_create (filesystem)",
        per_call(&names, |name| {
            // SAFETY: NUL-terminated name, no properties, no key.
            let rc = unsafe {
                sys::lzc_create(
                    c(name).as_ptr(),
                    sys::lzc_dataset_type::LZC_DATSET_TYPE_ZFS,
                    ptr::null_mut(),
                    ptr::null_mut(),
                    0,
                )
            };
            assert_eq!(rc, 0);
        }),
    ));
    rows.push((
        "lzc_exists (present filesystem)",
        per_call(&names, |name| {
            // SAFETY: NUL-terminated name.
            assert!(unsafe { sys::lzc_exists(c(name).as_ptr()) } != sys::boolean_t::B_FALSE);
        }),
    ));
    rows.push((
        "lzc_exists (absent)",
        per_call(&absent, |name| {
            // SAFETY: NUL-terminated name.
            assert!(unsafe { sys::lzc_exists(c(name).as_ptr()) } == sys::boolean_t::B_FALSE);
        }),
    ));
    rows.push((
        "zfs_open + zfs_close",
        per_call(&names, |name| {
            // SAFETY: live handle, NUL-terminated name; closed once.
            unsafe {
                let zhp = sys::zfs_open(hdl, c(name).as_ptr(), 0x1);
                assert!(!zhp.is_null());
                sys::zfs_close(zhp);
            }
        }),
    ));
    let handles: Vec<_> = names
        .iter()
        // SAFETY: live handle, NUL-terminated name; each handle is closed once below.
        .map(|name| unsafe { sys::zfs_open(hdl, c(name).as_ptr(), 0x1) })
        .collect();
    assert!(handles.iter().all(|h| !h.is_null()));
    rows.push((
        "zfs_is_mounted (open handle)",
        median(
            handles
                .iter()
                // SAFETY: live handles; no mountpoint wanted.
                .map(|&h| timed(|| unsafe { sys::zfs_is_mounted(h, ptr::null_mut()) }).0)
                .collect(),
        ),
    ));
    // SAFETY: the handles opened above, closed once.
    handles
        .into_iter()
        .for_each(|h| unsafe { sys::zfs_close(h) });
    rows.push((
        "Zfs::dataset (open)",
        per_call(&names, |name| {
            drop(zfs.dataset(&zfs_core::AnyName::new(name).unwrap()).unwrap())
        }),
    ));
    let (list_all, rows_listed) = timed(|| {
        zfs.list_with(
            &zfs_core::DatasetName::new(&pool_name).unwrap(),
            DatasetTypes::FILESYSTEM,
            &[
                "used",
                "available",
                "referenced",
                "mountpoint",
                "compression",
            ],
        )
        .unwrap()
        .len()
    });
    assert_eq!(rows_listed, n + 1);
    rows.push(("list_with, per dataset", list_all / n as u32));
    let snaps: Vec<SnapshotName> = names
        .iter()
        .map(|s| SnapshotName::new(format!("{s}@b")).unwrap())
        .collect();
    let (snap_all, r) = timed(|| zfs.snapshot(&snaps, &[]));
    r.unwrap();
    rows.push(("snapshot (one call), per dataset", snap_all / n as u32));
    rows.push((
        "list_with FS|SNAP of a leaf with 1 snapshot",
        per_call(&names, |name| {
            let l = zfs
                .list_with(
                    &zfs_core::DatasetName::new(name).unwrap(),
                    DatasetTypes::FILESYSTEM | DatasetTypes::SNAPSHOT,
                    &["clones", "mountpoint"],
                )
                .unwrap();
            assert_eq!(l.len(), 2);
        }),
    ));
    // Listing snapshots: with each one's statistics, or names only ("simple", which
    // Zfs::list uses when no property is asked for).
    let many: Vec<SnapshotName> = (0..n)
        .map(|i| SnapshotName::new(format!("{}@s{i:05}", names[0])).unwrap())
        .collect();
    for s in &many {
        // One per call: a call takes one snapshot per filesystem.
        zfs.snapshot(std::slice::from_ref(s), &[]).unwrap();
    }
    for (what, simple) in [
        ("zfs_iter_snapshots with statistics, per snapshot", false),
        ("zfs_iter_snapshots simple (names), per snapshot", true),
    ] {
        let simple = if simple {
            sys::boolean_t::B_TRUE
        } else {
            sys::boolean_t::B_FALSE
        };
        let per_snapshot = median(
            (0..5)
                .map(|_| {
                    let (t, listed) = iterate_snapshots(hdl, &names[0], simple);
                    assert_eq!(listed, n + 1);
                    t / listed as u32
                })
                .collect(),
        );
        rows.push((what, per_snapshot));
    }
    rows.push((
        "Zfs::list SNAPSHOT (names), per snapshot",
        median(
            (0..5)
                .map(|_| {
                    let (t, l) = timed(|| {
                        zfs.list(
                            &zfs_core::DatasetName::new(&names[0]).unwrap(),
                            DatasetTypes::SNAPSHOT,
                        )
                        .unwrap()
                    });
                    assert_eq!(l.len(), n + 1);
                    t / l.len() as u32
                })
                .collect(),
        ),
    ));
    zfs.destroy_snapshots(&many, &zfs_core::DestroySnapshotsOptions::new())
        .unwrap();
    rows.push((
        "lzc_exists (present snapshot)",
        per_call(&names, |name| {
            // SAFETY: NUL-terminated name.
            let there = unsafe { sys::lzc_exists(c(&format!("{name}@b")).as_ptr()) };
            assert!(there != sys::boolean_t::B_FALSE);
        }),
    ));
    rows.push((
        "lzc_get_holds (present snapshot)",
        per_call(&names, |name| {
            let mut holds = ptr::null_mut();
            // SAFETY: NUL-terminated name; `holds` receives a list we free once.
            unsafe {
                let rc = sys::lzc_get_holds(c(&format!("{name}@b")).as_ptr(), &mut holds);
                assert_eq!(rc, 0);
                nvpair_sys::nvlist_free(holds);
            }
        }),
    ));
    rows.push((
        "libzfs_mnttab_find (not mounted)",
        per_call(&names, |name| {
            // SAFETY: plain data; libzfs fills it in.
            let mut entry: sys::mnttab = unsafe { std::mem::zeroed() };
            // SAFETY: live handle, NUL-terminated name, `entry` not kept.
            let rc = unsafe { sys::libzfs_mnttab_find(hdl, c(name).as_ptr(), &mut entry) };
            assert_ne!(rc, 0);
        }),
    ));
    rows.push((
        "lzc_destroy_snaps (one snapshot)",
        per_call(&names, |name| {
            zfs.destroy_snapshots(
                &[SnapshotName::new(format!("{name}@b")).unwrap()],
                &zfs_core::DestroySnapshotsOptions::new(),
            )
            .unwrap();
        }),
    ));
    rows.push((
        "lzc_destroy (filesystem)",
        per_call(&names, |name| {
            // SAFETY: NUL-terminated name.
            assert_eq!(unsafe { sys::lzc_destroy(c(name).as_ptr()) }, 0);
        }),
    ));
    drop(scratch);
    // SAFETY: the handle made above, freed once.
    unsafe { sys::libzfs_fini(hdl) };

    let floor = rows[0].1.as_secs_f64();
    println!("| primitive | median ms | vs lzc_create |");
    println!("| --- | ---: | ---: |");
    for (what, d) in rows {
        println!(
            "| {what} | {:.2} | {:.3} |",
            d.as_secs_f64() * 1e3,
            d.as_secs_f64() / floor
        );
    }
    println!(
        "\nN = {n}, OpenZFS {}; one call at a time, medians",
        zfs_core::Versions::detect().userland
    );
}
