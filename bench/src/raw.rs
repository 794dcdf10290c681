//! The floor: the same work as straight loops over `libzfs-sys` calls, no safe layer.

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
        // SAFETY: libzfs_init has no preconditions; the handle is checked below.
        let h = unsafe { sys::libzfs_init() };
        assert!(!h.is_null());
        // SAFETY: libzfs_core_init has no preconditions (reference counted).
        check(unsafe { sys::libzfs_core_init() }, "libzfs_core_init");
        Raw(h)
    }

    pub fn create(&self, names: &[String]) {
        for n in names {
            let n = c(n);
            // SAFETY: NUL-terminated name; no properties and no key (null, length 0).
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
            // SAFETY: live libzfs handle and NUL-terminated names; zhp is checked non-null and closed once.
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
            // SAFETY: `data` is the Ctx that `list` passes to zfs_iter_filesystems, alive for the iteration.
            let ctx = unsafe { &mut *data.cast::<Ctx>() };
            let mut buf = [0 as std::ffi::c_char; 1024];
            // SAFETY: a live handle given to the callback by libzfs.
            let _name = unsafe { CStr::from_ptr(sys::zfs_get_name(zhp)) };
            for &p in &ctx.props {
                // SAFETY: live handle; the buffer holds buf.len() bytes; no source wanted.
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
            // SAFETY: live handle; `visit` matches zfs_iter_f; `data` outlives the call.
            let rc = unsafe { sys::zfs_iter_filesystems(zhp, Some(visit), data) };
            // SAFETY: the callback owns the handle libzfs gave it and closes it once.
            unsafe { sys::zfs_close(zhp) };
            rc
        }
        let mut ctx = Ctx {
            props: props
                .iter()
                // SAFETY: NUL-terminated name; a table lookup.
                .map(|p| unsafe { sys::zfs_name_to_prop(c(p).as_ptr()) })
                .collect(),
            rows: 0,
        };
        let r = c(root);
        // SAFETY: live libzfs handle and NUL-terminated name; zhp checked non-null; ctx outlives the iteration; zhp closed once.
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
            // SAFETY: writes a new list to the local out-pointer.
            unsafe { nv::nvlist_alloc(&mut l, nv::NV_UNIQUE_NAME, 0) },
            "nvlist_alloc",
        );
        for n in names {
            check(
                // SAFETY: a live list and a NUL-terminated name.
                unsafe { nv::nvlist_add_boolean(l, c(&n).as_ptr()) },
                "nvlist_add_boolean",
            );
        }
        l
    }

    pub fn snapshot(&self, names: &[String], short: &str) {
        let l = Self::name_list(names.iter().map(|n| format!("{n}@{short}")));
        let mut errs = ptr::null_mut();
        // SAFETY: a live list; `errs` receives an owned list or stays NULL.
        let rc = unsafe { sys::lzc_snapshot(l, ptr::null_mut(), &mut errs) };
        // SAFETY: lists this function owns, freed once (nvlist_free accepts NULL).
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
            // SAFETY: a live list; `errs` receives an owned list or stays NULL.
            let rc = unsafe { sys::lzc_destroy_snaps(l, sys::boolean_t::B_FALSE, &mut errs) };
            // SAFETY: lists this function owns, freed once (nvlist_free accepts NULL).
            unsafe {
                nv::nvlist_free(l);
                nv::nvlist_free(errs);
            }
            check(rc, "lzc_destroy_snaps");
            // SAFETY: NUL-terminated name.
            check(unsafe { sys::lzc_destroy(c(n).as_ptr()) }, "lzc_destroy");
        }
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        // SAFETY: the handles `open` made, released once here.
        unsafe {
            sys::libzfs_fini(self.0);
            sys::libzfs_core_fini();
        }
    }
}
