//! Creates a pool on one file vdev through the raw bindings, the way `zpool create -O
//! mountpoint=none -o cachefile=none NAME FILE` would.
//!
//! Usage: `create_pool_raw POOL /absolute/path/to/file` (the file must exist, 64 MiB or more).
//! This is what `zfs-core` wraps safely; prefer that crate in real programs.
use std::ffi::{CStr, CString};
use std::process::ExitCode;
use std::ptr;

use libzfs_sys as sys;
use nvpair_sys as nv;

/// Allocates an empty nvlist with unique names; the caller frees it with `nvlist_free`.
fn new_list() -> *mut sys::nvlist_t {
    let mut l = ptr::null_mut();
    // SAFETY: nvlist_alloc writes a fresh list to `l`.
    let rc = unsafe { nv::nvlist_alloc(&mut l, nv::NV_UNIQUE_NAME, 0) };
    assert_eq!(rc, 0, "nvlist_alloc: out of memory");
    l
}

fn add_string(list: *mut sys::nvlist_t, key: &str, value: &str) {
    let (k, v) = (CString::new(key).unwrap(), CString::new(value).unwrap());
    // SAFETY: `list` is live and both strings are NUL-terminated; the values are copied.
    let rc = unsafe { nv::nvlist_add_string(list, k.as_ptr(), v.as_ptr()) };
    assert_eq!(rc, 0, "nvlist_add_string");
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [pool, file] = args.as_slice() else {
        eprintln!("usage: create_pool_raw POOL /absolute/path/to/file");
        return ExitCode::from(2);
    };
    let (pool_c, file_c) = (CString::new(pool.as_str()).unwrap(), file.as_str());

    // SAFETY: plain initialisation; NULL means /dev/zfs is missing or not permitted.
    let handle = unsafe { sys::libzfs_init() };
    if handle.is_null() {
        eprintln!("cannot open /dev/zfs: load the zfs module and run as root");
        return ExitCode::FAILURE;
    }

    let vdev = new_list();
    add_string(vdev, "type", "file");
    add_string(vdev, "path", file_c);
    let root = new_list();
    add_string(root, "type", "root");
    let key = CString::new("children").unwrap();
    let mut children = [vdev];
    // SAFETY: `root` and `vdev` are live; the array is copied into `root`.
    let rc = unsafe { nv::nvlist_add_nvlist_array(root, key.as_ptr(), children.as_mut_ptr(), 1) };
    assert_eq!(rc, 0, "nvlist_add_nvlist_array");
    let props = new_list();
    add_string(props, "cachefile", "none");
    let fsprops = new_list();
    add_string(fsprops, "mountpoint", "none");

    // SAFETY: the handle and every list are live for the call.
    let rc = unsafe { sys::zpool_create(handle, pool_c.as_ptr(), root, props, fsprops) };
    let status = if rc == 0 {
        println!("created pool {pool} on {file}");
        ExitCode::SUCCESS
    } else {
        // SAFETY: the handle is live; the description is owned by it.
        let why = unsafe { CStr::from_ptr(sys::libzfs_error_description(handle)) };
        eprintln!("cannot create '{pool}': {}", why.to_string_lossy());
        ExitCode::FAILURE
    };

    // SAFETY: each list and the handle are freed exactly once, after their last use.
    unsafe {
        for l in [vdev, root, props, fsprops] {
            nv::nvlist_free(l);
        }
        sys::libzfs_fini(handle);
    }
    status
}
