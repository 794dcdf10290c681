//! The floor: the same work as straight loops over `libzfs-sys` calls, no safe layer.
#![allow(clippy::undocumented_unsafe_blocks)] // a benchmark of raw calls; every call is checked

use std::ffi::{c_int, c_void, CStr, CString};
use std::ptr;

use libzfs_sys as sys;
use nvpair_sys as nv;

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

fn check(rc: c_int, what: &str) {
    assert_eq!(rc, 0, "raw {what} failed: errno {rc}");
}

/// A raw libzfs handle, for the calls that need one.
#[derive(Debug)]
pub struct Raw(*mut sys::libzfs_handle_t);

impl Raw {
    pub fn open() -> Raw {
        let h = unsafe { sys::libzfs_init() };
        assert!(!h.is_null());
        check(unsafe { sys::libzfs_core_init() }, "libzfs_core_init");
        Raw(h)
    }

    pub fn create(&self, names: &[String]) {
        for n in names {
            let n = c(n);
            let rc = unsafe {
                sys::lzc_create(
                    n.as_ptr(),
                    sys::lzc_dataset_type::LZC_DATSET_TYPE_ZFS,
                    ptr::null_mut(),
                    ptr::null_mut(),
                    0,
                )
            };
            check(rc, "lzc_create");
        }
    }

    pub fn set(&self, names: &[String], prop: &str, value: &str) {
        let (p, v) = (c(prop), c(value));
        for n in names {
            let n = c(n);
            unsafe {
                let zhp = sys::zfs_open(
                    self.0,
                    n.as_ptr(),
                    sys::zfs_type_t::ZFS_TYPE_FILESYSTEM.0 as i32,
                );
                assert!(!zhp.is_null());
                check(
                    sys::zfs_prop_set(zhp, p.as_ptr(), v.as_ptr()),
                    "zfs_prop_set",
                );
                sys::zfs_close(zhp);
            }
        }
    }

    /// Names and `props` of every filesystem under `root`; returns how many.
    pub fn list(&self, root: &str, props: &[&str]) -> usize {
        struct Ctx {
            props: Vec<sys::zfs_prop_t>,
            rows: usize,
        }
        unsafe extern "C" fn visit(zhp: *mut sys::zfs_handle_t, data: *mut c_void) -> c_int {
            let ctx = unsafe { &mut *data.cast::<Ctx>() };
            let mut buf = [0 as std::ffi::c_char; 1024];
            let _name = unsafe { CStr::from_ptr(sys::zfs_get_name(zhp)) };
            for &p in &ctx.props {
                unsafe {
                    sys::zfs_prop_get(
                        zhp,
                        p,
                        buf.as_mut_ptr(),
                        buf.len(),
                        ptr::null_mut(),
                        ptr::null_mut(),
                        0,
                        sys::boolean_t::B_TRUE,
                    )
                };
            }
            ctx.rows += 1;
            let rc = unsafe { sys::zfs_iter_filesystems(zhp, Some(visit), data) };
            unsafe { sys::zfs_close(zhp) };
            rc
        }
        let mut ctx = Ctx {
            props: props
                .iter()
                .map(|p| unsafe { sys::zfs_name_to_prop(c(p).as_ptr()) })
                .collect(),
            rows: 0,
        };
        let r = c(root);
        unsafe {
            let zhp = sys::zfs_open(
                self.0,
                r.as_ptr(),
                sys::zfs_type_t::ZFS_TYPE_FILESYSTEM.0 as i32,
            );
            assert!(!zhp.is_null());
            check(
                sys::zfs_iter_filesystems(zhp, Some(visit), (&raw mut ctx).cast()),
                "zfs_iter_filesystems",
            );
            sys::zfs_close(zhp);
        }
        ctx.rows
    }

    fn name_list(names: impl Iterator<Item = String>) -> *mut nv::nvlist_t {
        let mut l = ptr::null_mut();
        check(
            unsafe { nv::nvlist_alloc(&mut l, nv::NV_UNIQUE_NAME, 0) },
            "nvlist_alloc",
        );
        for n in names {
            check(
                unsafe { nv::nvlist_add_boolean(l, c(&n).as_ptr()) },
                "nvlist_add_boolean",
            );
        }
        l
    }

    pub fn snapshot(&self, names: &[String], short: &str) {
        let l = Self::name_list(names.iter().map(|n| format!("{n}@{short}")));
        let mut errs = ptr::null_mut();
        let rc = unsafe { sys::lzc_snapshot(l, ptr::null_mut(), &mut errs) };
        unsafe {
            nv::nvlist_free(l);
            nv::nvlist_free(errs);
        }
        check(rc, "lzc_snapshot");
    }

    /// Destroys each of `names` with its snapshot `short`, one filesystem after another (as
    /// `zfs destroy -r` of each would): its snapshot, then itself.
    pub fn destroy(&self, names: &[String], short: &str) {
        for n in names {
            let l = Self::name_list(std::iter::once(format!("{n}@{short}")));
            let mut errs = ptr::null_mut();
            let rc = unsafe { sys::lzc_destroy_snaps(l, sys::boolean_t::B_FALSE, &mut errs) };
            unsafe {
                nv::nvlist_free(l);
                nv::nvlist_free(errs);
            }
            check(rc, "lzc_destroy_snaps");
            check(unsafe { sys::lzc_destroy(c(n).as_ptr()) }, "lzc_destroy");
        }
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        unsafe {
            sys::libzfs_fini(self.0);
            sys::libzfs_core_fini();
        }
    }
}
