//! A program that leaks on purpose, for `ci/leaks` to prove it catches a leaked handle: it
//! opens a libzfs handle and an nvlist and forgets both (no `Drop`, so no `libzfs_fini` and no
//! `nvlist_free`). `ci/leaks` runs it first under its own valgrind flags and fails unless
//! valgrind reports the blocks as definitely lost.
//!
//! Run as root where ZFS is loaded: `ci/vm valgrind ... target/debug/leak-canary`.

use zfs_core::nvlist::NvList;
use zfs_core::Zfs;

/// Opens the handles and forgets them in a frame of its own, so that no pointer to them is
/// left where valgrind would count it as still reachable.
#[inline(never)]
fn leak() {
    let zfs = Zfs::open().expect("needs root and the zfs module");
    let mut list = NvList::new();
    list.insert_str("canary", "leaked on purpose")
        .expect("insert into a new list");
    std::mem::forget(zfs);
    std::mem::forget(list);
}

fn main() {
    leak();
    // Overwrite the stack the handles' addresses lived in.
    std::hint::black_box([0u8; 4096]);
    println!("leak-canary: leaked a libzfs handle and an nvlist");
}
