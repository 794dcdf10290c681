//! Pools: create, open, list, import and export, destroy; properties, status and maintenance.
//!
//! A [`Pool`] is an open `zpool_handle_t`, borrowed from the [`Zfs`] handle that opened it.

mod add_remove;
mod bootenv;
mod busy;
mod condition;
mod create;
mod dedup;
mod device_state;
mod devices;
mod encrypted_root;
mod features;
mod health;
mod history;
mod import;
pub(crate) mod in_use;
mod initialize_trim;
mod labels;
mod maintenance;
mod mounts;
mod property_list;
mod props;
mod replication;
mod scrub_range;
mod set_many;
mod split;
mod status;
mod status_all;
mod upgrade;
mod wait;
mod whole_disk;

use std::ffi::{c_int, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;

use libzfs_sys as sys;

pub use add_remove::{AddOptions, RemovalProgress, RemovalState};
pub use bootenv::{BootEnv, BOOTENV_MAX};
pub use condition::{DataError, StatusCode};
pub use create::CreatePool;
pub use dedup::DdtPrune;
pub use device_state::{OfflineOptions, OnlineOptions, ReopenOptions};
pub use devices::{AttachOptions, ReplaceOptions};
pub use health::{Health, VdevKind};
pub use history::HistoryRecord;
pub use import::{ImportOptions, ImportablePool, Rewind};
pub use initialize_trim::{DeviceProgress, DeviceWorkState, TrimOptions};
pub use labels::{DeviceLabel, LabelClearOptions};
pub use maintenance::{ScanProgress, ScanState};
pub use property_list::{CacheFile, FailMode, PoolProperties};
pub use split::SplitOptions;
pub use status::{AllocationClass, PoolStatus, VdevStatus};
pub use wait::{FsWaitActivity, WaitActivity};

use crate::handle::Zfs;
use crate::name::PoolName;
use crate::{Error, ErrorKind, Result};

/// The state of a pool as the kernel reports it (`pool_state_t`), as a device's label records
/// it: `zpool import` finds exported pools by it (destroyed ones with `-D`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PoolState {
    /// Imported and in use.
    Active,
    /// Exported.
    Exported,
    /// Destroyed (can be found by `zpool import -D`).
    Destroyed,
    /// A hot spare.
    Spare,
    /// An L2ARC cache device.
    L2Cache,
    /// Being created.
    Uninitialized,
    /// Cannot be opened.
    Unavailable,
    /// Might be imported on another host.
    PotentiallyActive,
    /// A state this crate does not know.
    Other(i32),
}

impl PoolState {
    /// The state in words, as `zpool create` names it when a device is in use (`/dev/sdb is
    /// part of exported pool 'tank'`): `active`, `exported`, `potentially active`, ...
    pub fn as_str(&self) -> &'static str {
        match self {
            PoolState::Active => "active",
            PoolState::Exported => "exported",
            PoolState::Destroyed => "destroyed",
            PoolState::Spare => "spare",
            PoolState::L2Cache => "l2cache",
            PoolState::Uninitialized => "uninitialized",
            PoolState::Unavailable => "unavail",
            PoolState::PotentiallyActive => "potentially active",
            PoolState::Other(_) => "unknown",
        }
    }

    fn from_raw(v: i32) -> PoolState {
        use sys::pool_state_t as S;
        match sys::pool_state_t(v as _) {
            S::POOL_STATE_ACTIVE => PoolState::Active,
            S::POOL_STATE_EXPORTED => PoolState::Exported,
            S::POOL_STATE_DESTROYED => PoolState::Destroyed,
            S::POOL_STATE_SPARE => PoolState::Spare,
            S::POOL_STATE_L2CACHE => PoolState::L2Cache,
            S::POOL_STATE_UNINITIALIZED => PoolState::Uninitialized,
            S::POOL_STATE_UNAVAIL => PoolState::Unavailable,
            S::POOL_STATE_POTENTIALLY_ACTIVE => PoolState::PotentiallyActive,
            _ => PoolState::Other(v),
        }
    }
}

/// An open pool. Closed on drop; cannot outlive the [`Zfs`] handle it came from.
pub struct Pool<'z> {
    zfs: &'z Zfs,
    raw: NonNull<sys::zpool_handle_t>,
    name: PoolName,
}

impl std::fmt::Debug for Pool<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("name", &self.name).finish()
    }
}

impl Drop for Pool<'_> {
    fn drop(&mut self) {
        // SAFETY: we own the pool handle and close it exactly once.
        unsafe { sys::zpool_close(self.raw.as_ptr()) }
    }
}

impl Zfs {
    /// Opens an imported pool, for the calls on [`Pool`] (no command of its own).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if no pool of that name is imported.
    #[doc(alias = "zpool_open")]
    pub fn pool(&self, name: &PoolName) -> Result<Pool<'_>> {
        let c = CString::new(name.as_str()).expect("pool names have no NUL");
        crate::handle::clear_errno();
        // SAFETY: live handle, NUL-terminated name; NULL means no such pool (or an error
        // recorded in the handle).
        let raw = unsafe { sys::zpool_open_canfail(self.raw().ptr(), c.as_ptr()) };
        match NonNull::new(raw) {
            Some(raw) => Ok(Pool {
                zfs: self,
                raw,
                name: name.clone(),
            }),
            None => Err(Error::new(
                ErrorKind::NotFound,
                "open pool",
                name.as_str(),
                "no such pool",
            )
            .with_reason(crate::Reason::PoolNotFound)),
        }
    }

    /// Whether a pool of that name is imported (whether `zpool list POOL` succeeds).
    pub fn pool_exists(&self, name: &PoolName) -> bool {
        self.pool(name).is_ok()
    }

    /// The names of every imported pool, sorted (`zpool list -H -o name`).
    ///
    /// # Errors
    /// Whatever libzfs reports while iterating.
    #[doc(alias = "zpool_iter")]
    pub fn pools(&self) -> Result<Vec<PoolName>> {
        struct State {
            names: Vec<PoolName>,
            panic: Option<Box<dyn std::any::Any + Send>>,
        }
        unsafe extern "C" fn each(zhp: *mut sys::zpool_handle_t, data: *mut c_void) -> c_int {
            // SAFETY: `data` is the `State` passed to zpool_iter below, alive for the call.
            let state = unsafe { &mut *data.cast::<State>() };
            let result = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: libzfs hands us a live pool handle; the name lives as long as it.
                let name = unsafe { CStr::from_ptr(sys::zpool_get_name(zhp)) };
                state
                    .names
                    .push(PoolName::trusted(name.to_string_lossy().into_owned()));
            }));
            // SAFETY: the callback owns the handle it is given and must close it.
            unsafe { sys::zpool_close(zhp) };
            match result {
                Ok(()) => 0,
                Err(p) => {
                    state.panic = Some(p);
                    1
                }
            }
        }
        let mut state = State {
            names: Vec::new(),
            panic: None,
        };
        let data: *mut State = &mut state;
        // SAFETY: `each` matches zpool_iter_f and never unwinds into C; `data` outlives the call.
        let rc = unsafe { sys::zpool_iter(self.raw().ptr(), Some(each), data.cast()) };
        if let Some(p) = state.panic {
            std::panic::resume_unwind(p);
        }
        if rc != 0 {
            return Err(self.last_error("list pools", "(all)"));
        }
        state.names.sort();
        Ok(state.names)
    }
}

impl<'z> Pool<'z> {
    /// The pool's name.
    pub fn name(&self) -> &PoolName {
        &self.name
    }

    /// The handle this pool was opened from.
    pub fn zfs(&self) -> &'z Zfs {
        self.zfs
    }

    /// The handle, for one libzfs call (see [`Guarded`](crate::handle::Guarded)).
    pub(crate) fn raw(&self) -> crate::handle::Guarded<sys::zpool_handle_t> {
        crate::handle::Guarded::new(self.raw.as_ptr())
    }

    /// The pool's state (active, exported, destroyed, ...), read fresh from the kernel (no
    /// `zpool` column; [`Pool::health`] is what `zpool list` and `zpool status` show).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the pool has gone away (exported or destroyed elsewhere)
    /// since it was opened: the handle can no longer say anything true about it.
    pub fn state(&self) -> Result<PoolState> {
        self.refresh()
            .map_err(|e| e.with_operation("get state of"))?;
        // SAFETY: live pool handle.
        Ok(PoolState::from_raw(
            unsafe { sys::zpool_get_state(self.raw().ptr()) } as i32,
        ))
    }

    /// [`Pool::refresh`] before a call that finds devices in libzfs's cached configuration
    /// (every call naming a device): a device added or removed since, by this handle or
    /// another, is then found or not as it is now.
    pub(crate) fn fresh(&self, op: &'static str) -> Result<()> {
        self.refresh().map_err(|e| e.with_operation(op))
    }

    /// Re-reads the pool's configuration, statistics and properties from the kernel (no
    /// command of its own). Every read through a `Pool` does this first, as the CLI asks the
    /// kernel each time; it is public for a caller that wants to know whether the pool is
    /// still there.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the pool has gone away (exported or destroyed elsewhere).
    pub fn refresh(&self) -> Result<()> {
        let mut missing = sys::boolean_t::B_FALSE;
        self.zfs.check("refresh pool", self.name.as_str(), || {
            // SAFETY: live pool handle; `missing` is written before return.
            unsafe { sys::zpool_refresh_stats(self.raw().ptr(), &mut missing) }
        })?;
        if missing != sys::boolean_t::B_FALSE {
            return Err(Error::new(
                ErrorKind::NotFound,
                "refresh pool",
                self.name.as_str(),
                "pool is no longer imported",
            ));
        }
        // libzfs caches the properties apart from the statistics, loaded on first use and
        // kept until a change made through this handle: reload them too.
        self.zfs.check("refresh pool", self.name.as_str(), || {
            // SAFETY: live pool handle.
            unsafe { sys::zpool_props_refresh(self.raw().ptr()) }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pool_state_is_named() {
        use sys::pool_state_t as S;
        let mut words = std::collections::HashSet::new();
        for (raw, want, word) in [
            (S::POOL_STATE_ACTIVE, PoolState::Active, "active"),
            (S::POOL_STATE_EXPORTED, PoolState::Exported, "exported"),
            (S::POOL_STATE_DESTROYED, PoolState::Destroyed, "destroyed"),
            (S::POOL_STATE_SPARE, PoolState::Spare, "spare"),
            (S::POOL_STATE_L2CACHE, PoolState::L2Cache, "l2cache"),
            (
                S::POOL_STATE_UNINITIALIZED,
                PoolState::Uninitialized,
                "uninitialized",
            ),
            (S::POOL_STATE_UNAVAIL, PoolState::Unavailable, "unavail"),
            (
                S::POOL_STATE_POTENTIALLY_ACTIVE,
                PoolState::PotentiallyActive,
                "potentially active",
            ),
        ] {
            let state = PoolState::from_raw(raw.0 as i32);
            assert_eq!(state, want);
            assert_eq!(state.as_str(), word);
            assert!(words.insert(word), "{word} twice");
        }
        assert_eq!(PoolState::from_raw(99), PoolState::Other(99));
        assert_eq!(PoolState::Other(99).as_str(), "unknown");
    }
}
