//! `zpool status` with no pool named: every imported pool's status in one call.

use std::ffi::{c_int, c_void, CStr};
use std::ptr::NonNull;

use libzfs_sys as sys;

use super::status::PoolStatus;
use super::Pool;
use crate::handle::Zfs;
use crate::name::PoolName;
use crate::{ErrorKind, Result};

impl Zfs {
    /// The status of every imported pool, sorted by name (`zpool status` with no pool
    /// named): one walk over the pools, whose handles serve the reads, where
    /// [`Zfs::pools`] then [`Zfs::pool`] and [`Pool::status`] for each opens every pool a
    /// second time. A pool exported or destroyed during the call is left out, as it would
    /// be from the CLI's output a moment later.
    ///
    /// # Errors
    /// Whatever libzfs reports while walking the pools or reading one.
    #[doc(alias = "zpool_iter")]
    pub fn pool_statuses(&self) -> Result<Vec<(PoolName, PoolStatus)>> {
        unsafe extern "C" fn keep(zhp: *mut sys::zpool_handle_t, data: *mut c_void) -> c_int {
            // SAFETY: `data` is the Vec passed to zpool_iter below, alive for the call. The
            // handle is ours now (the callback owns it): it is closed when its `Pool` drops.
            let handles = unsafe { &mut *data.cast::<Vec<NonNull<sys::zpool_handle_t>>>() };
            if let Some(h) = NonNull::new(zhp) {
                // Reserved in advance below, so this never allocates (or panics) inside C.
                if handles.len() < handles.capacity() {
                    handles.push(h);
                    return 0;
                }
            }
            // SAFETY: a handle we will not keep, closed once.
            unsafe { sys::zpool_close(zhp) };
            0
        }
        // More room than pools: a pool imported during the walk past it is closed unread.
        let expected = self.pools()?.len();
        let mut handles: Vec<NonNull<sys::zpool_handle_t>> = Vec::with_capacity(expected + 64);
        // SAFETY: `keep` matches zpool_iter_f and never unwinds; `handles` outlives the call.
        let rc =
            unsafe { sys::zpool_iter(self.raw().ptr(), Some(keep), (&raw mut handles).cast()) };
        // Own every handle before anything can return early.
        let pools: Vec<Pool<'_>> = handles
            .into_iter()
            .map(|raw| {
                // SAFETY: a live handle from zpool_iter; its name lives as long as it.
                let name = unsafe { CStr::from_ptr(sys::zpool_get_name(raw.as_ptr())) };
                Pool {
                    zfs: self,
                    raw,
                    name: PoolName::trusted(name.to_string_lossy().into_owned()),
                }
            })
            .collect();
        if rc != 0 {
            return Err(self.last_error("status of", "(all pools)"));
        }
        let mut out = Vec::with_capacity(pools.len());
        for pool in pools {
            match pool.status() {
                Ok(status) => out.push((pool.name.clone(), status)),
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}
