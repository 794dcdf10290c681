//! Proof that the raw bindings work against the real OpenZFS kernel module.
//!
//! Every test here needs `/dev/zfs` and root, so each is `#[ignore = "needs ZFS"]`: plain
//! `cargo test` reports them as ignored, never as passed. `ci/test` runs them with
//! `--include-ignored` inside the VM, where the module is loaded.
//!
//! Raw FFI by design: this is the floor the safe crate stands on, tested without it.

use std::ffi::{CStr, CString};
use std::fs::File;
use std::ptr;

use libzfs_sys as sys;
use nvpair_sys as nv;

/// An nvlist owned by the test, freed on drop.
struct List(*mut sys::nvlist_t);

impl List {
    fn new() -> List {
        let mut l = ptr::null_mut();
        // SAFETY: nvlist_alloc writes a fresh list into `l`; NV_UNIQUE_NAME is a valid flag.
        let rc = unsafe { nv::nvlist_alloc(&mut l, nv::NV_UNIQUE_NAME, 0) };
        assert_eq!(rc, 0, "nvlist_alloc");
        List(l)
    }
    fn string(self, key: &str, value: &str) -> List {
        let (k, v) = (CString::new(key).unwrap(), CString::new(value).unwrap());
        // SAFETY: the list is live and both strings are NUL-terminated; nvpair copies them.
        let rc = unsafe { nv::nvlist_add_string(self.0, k.as_ptr(), v.as_ptr()) };
        assert_eq!(rc, 0);
        self
    }
    fn uint64(self, key: &str, value: u64) -> List {
        let k = CString::new(key).unwrap();
        // SAFETY: the list is live and the key NUL-terminated.
        let rc = unsafe { nv::nvlist_add_uint64(self.0, k.as_ptr(), value) };
        assert_eq!(rc, 0);
        self
    }
    fn children(self, key: &str, children: &[&List]) -> List {
        let k = CString::new(key).unwrap();
        let mut raw: Vec<*mut sys::nvlist_t> = children.iter().map(|c| c.0).collect();
        // SAFETY: every child is a live list; nvlist_add_nvlist_array copies them.
        let rc = unsafe {
            nv::nvlist_add_nvlist_array(self.0, k.as_ptr(), raw.as_mut_ptr(), raw.len() as _)
        };
        assert_eq!(rc, 0);
        self
    }
}

impl Drop for List {
    fn drop(&mut self) {
        // SAFETY: we own the list and free it exactly once.
        unsafe { nv::nvlist_free(self.0) }
    }
}

/// A libzfs handle for the duration of a test.
struct Handle(*mut sys::libzfs_handle_t);

impl Handle {
    fn open() -> Handle {
        // SAFETY: plain initialisation; a null return is checked below.
        let h = unsafe { sys::libzfs_init() };
        assert!(
            !h.is_null(),
            "libzfs_init returned NULL: is the zfs module loaded, are we root?"
        );
        Handle(h)
    }
    fn error(&self) -> String {
        // SAFETY: the handle is live; the description is a static or handle-owned C string.
        let desc = unsafe { CStr::from_ptr(sys::libzfs_error_description(self.0)) };
        // SAFETY: as above.
        let errno = unsafe { sys::libzfs_errno(self.0) };
        format!("libzfs error {errno}: {}", desc.to_string_lossy())
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: we own the handle and close it exactly once.
        unsafe { sys::libzfs_fini(self.0) }
    }
}

fn pool_exists(name: &str) -> bool {
    let c = CString::new(name).unwrap();
    // SAFETY: libzfs_core is initialised by the caller; the name is NUL-terminated.
    unsafe { sys::lzc_exists(c.as_ptr()) != sys::boolean_t::B_FALSE }
}

/// A sparse file vdev of `size` bytes in a fresh temporary directory.
fn sparse_vdev(size: u64) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vdev0");
    File::create(&path).unwrap().set_len(size).unwrap();
    let path = path.to_str().unwrap().to_owned();
    (dir, path)
}

fn unique_pool_name(prefix: &str) -> String {
    format!("{prefix}{}", std::process::id())
}

#[test]
#[ignore = "needs ZFS"]
fn libzfs_init_returns_a_handle() {
    let h = Handle::open();
    assert!(!h.0.is_null());
}

#[test]
#[ignore = "needs ZFS"]
fn libzfs_core_init_succeeds() {
    // SAFETY: libzfs_core_init is reference-counted and paired with fini below.
    let rc = unsafe { sys::libzfs_core_init() };
    assert_eq!(rc, 0, "libzfs_core_init failed with errno {rc}");
    // SAFETY: paired with the successful init above.
    unsafe { sys::libzfs_core_fini() };
}

#[test]
#[ignore = "needs ZFS"]
fn absent_pool_is_reported_absent() {
    let h = Handle::open();
    // SAFETY: paired with fini below.
    assert_eq!(unsafe { sys::libzfs_core_init() }, 0);
    assert!(!pool_exists("no-such-pool-libzfs-sys"));
    let name = CString::new("no-such-pool-libzfs-sys").unwrap();
    // SAFETY: live handle, NUL-terminated name; a NULL return means "no such pool".
    let zhp = unsafe { sys::zpool_open_canfail(h.0, name.as_ptr()) };
    assert!(
        zhp.is_null(),
        "zpool_open_canfail found a pool that does not exist"
    );
    // SAFETY: paired with the init above.
    unsafe { sys::libzfs_core_fini() };
}

#[test]
#[ignore = "needs ZFS"]
fn pool_on_a_sparse_file_is_created_seen_and_destroyed() {
    let h = Handle::open();
    // SAFETY: paired with fini at the end.
    assert_eq!(unsafe { sys::libzfs_core_init() }, 0);
    let (_dir, path) = sparse_vdev(128 << 20);
    let name = unique_pool_name("sysraw");
    let cname = CString::new(name.as_str()).unwrap();

    let disk = List::new()
        .string("type", "file")
        .string("path", &path)
        .uint64("is_log", 0);
    let root = List::new()
        .string("type", "root")
        .children("children", &[&disk]);
    // No mountpoint: the VM's root file system is read-only. No cache file either, for the
    // same reason.
    let fsprops = List::new().string("mountpoint", "none");
    let props = List::new().string("cachefile", "none");

    // SAFETY: live handle; every nvlist is live for the call; libzfs copies what it keeps.
    let rc = unsafe { sys::zpool_create(h.0, cname.as_ptr(), root.0, props.0, fsprops.0) };
    assert_eq!(rc, 0, "zpool_create {name} on {path}: {}", h.error());

    assert!(
        pool_exists(&name),
        "lzc_exists does not see the new pool {name}"
    );
    // SAFETY: live handle, NUL-terminated name.
    let zhp = unsafe { sys::zpool_open(h.0, cname.as_ptr()) };
    assert!(!zhp.is_null(), "zpool_open {name}: {}", h.error());
    // SAFETY: zhp is a live pool handle; the name it returns lives as long as zhp.
    let got = unsafe { CStr::from_ptr(sys::zpool_get_name(zhp)) };
    assert_eq!(got.to_str().unwrap(), name);
    // SAFETY: zhp is live.
    let state = unsafe { sys::zpool_get_state(zhp) };
    assert_eq!(state as u32, sys::pool_state_t::POOL_STATE_ACTIVE.0);

    let log = CString::new("libzfs-sys test").unwrap();
    // SAFETY: zhp is live; zpool_destroy does not free it, zpool_close does.
    let rc = unsafe { sys::zpool_destroy(zhp, log.as_ptr()) };
    assert_eq!(rc, 0, "zpool_destroy {name}: {}", h.error());
    // SAFETY: closes the handle opened above, once.
    unsafe { sys::zpool_close(zhp) };
    assert!(
        !pool_exists(&name),
        "pool {name} still exists after zpool_destroy"
    );

    // SAFETY: paired with the init above.
    unsafe { sys::libzfs_core_fini() };
}
