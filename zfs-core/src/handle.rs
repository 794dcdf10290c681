//! [`Zfs`]: the library handle every operation goes through.

use std::cell::UnsafeCell;
use std::ffi::{c_int, CStr};
use std::marker::PhantomData;
use std::path::Path;
use std::ptr::NonNull;

use libzfs_sys as sys;

use crate::version::Versions;
use crate::{Error, ErrorKind, Result};

/// libzfs's process-wide tables (properties, pool features, the fletcher-4 implementation)
/// are rewritten by every `libzfs_init`, without a lock. It runs under this lock's write side;
/// every libzfs call zfs-core makes runs under its read side, so no libzfs call ever overlaps
/// another thread's init. (`libzfs_fini` reads no such table: it needs only [`INIT`].)
/// libzfs_core calls touch no such table and take no lock.
///
/// A pthread read-write lock, not a Rust one: glibc's default prefers readers, so a read lock
/// taken again inside a call (nested calls) never waits behind a queued writer, and valgrind's
/// race detectors understand it (`ci/races` checks with helgrind).
static TABLES: TablesLock = TablesLock(UnsafeCell::new(libc::PTHREAD_RWLOCK_INITIALIZER));

struct TablesLock(UnsafeCell<libc::pthread_rwlock_t>);

// SAFETY: the pthread lock is made to be shared between threads; it is only used through
// pthread calls and never moves (a static).
unsafe impl Sync for TablesLock {}

/// The read side of [`TABLES`], released on drop. Not `Send`: a pthread lock must be released
/// by the thread that took it.
pub(crate) struct TablesRead(PhantomData<*const ()>);

/// The write side of [`TABLES`], released on drop; not `Send`, as above.
pub(crate) struct TablesWrite(PhantomData<*const ()>);

/// Serializes `libzfs_init` and `libzfs_fini` among themselves. `libzfs_fini` touches none of
/// the tables other threads' calls read (it frees the handle's own state and the fletcher-4
/// benchmark's statistics, which only `libzfs_init` writes), so dropping a `Zfs` takes only
/// this, never the table lock: it cannot wait on another thread's long call (a send whose
/// reader is the dropping thread, say).
///
/// A pthread mutex, as [`TABLES`] is, so that helgrind sees it.
static INIT: InitLock = InitLock(UnsafeCell::new(libc::PTHREAD_MUTEX_INITIALIZER));

struct InitLock(UnsafeCell<libc::pthread_mutex_t>);

// SAFETY: as for TablesLock: a static pthread mutex used only through pthread calls.
unsafe impl Sync for InitLock {}

/// [`INIT`] held, released on drop (by the thread that took it: not `Send`).
struct InitHeld(PhantomData<*const ()>);

fn init_lock() -> InitHeld {
    // SAFETY: a static, initialised mutex; locking fails only on a deadlock, a bug here.
    let rc = unsafe { libc::pthread_mutex_lock(INIT.0.get()) };
    assert_eq!(rc, 0, "zfs-core: pthread_mutex_lock failed");
    InitHeld(PhantomData)
}

impl Drop for InitHeld {
    fn drop(&mut self) {
        // SAFETY: this thread locked the mutex when self was made.
        unsafe { libc::pthread_mutex_unlock(INIT.0.get()) };
    }
}

impl Drop for TablesRead {
    fn drop(&mut self) {
        // SAFETY: this thread holds a read lock, taken when self was made.
        unsafe { libc::pthread_rwlock_unlock(TABLES.0.get()) };
    }
}

impl Drop for TablesWrite {
    fn drop(&mut self) {
        // SAFETY: this thread holds the write lock, taken when self was made.
        unsafe { libc::pthread_rwlock_unlock(TABLES.0.get()) };
    }
}

/// Holds the read side of the table lock for as long as it lives: take it around any libzfs
/// call that has no handle to go through ([`Guarded`] does it for those that have).
pub(crate) fn tables() -> TablesRead {
    // SAFETY: a static, initialised lock. It fails only past the reader limit or on a
    // deadlock, which would be a bug here.
    let rc = unsafe { libc::pthread_rwlock_rdlock(TABLES.0.get()) };
    assert_eq!(rc, 0, "zfs-core: pthread_rwlock_rdlock failed");
    TablesRead(PhantomData)
}

fn tables_write() -> TablesWrite {
    // SAFETY: as above. A thread that holds a read lock here would deadlock (EDEADLK):
    // zfs-core never opens or closes a `Zfs` inside a libzfs call.
    let rc = unsafe { libc::pthread_rwlock_wrlock(TABLES.0.get()) };
    assert_eq!(rc, 0, "zfs-core: pthread_rwlock_wrlock failed");
    TablesWrite(PhantomData)
}

/// A libzfs handle pointer with the table lock's read side held: `x.raw().ptr()` as an
/// argument keeps the lock for the whole statement, i.e. the whole call (and any callback
/// libzfs makes from it). Never keep the bare pointer past the statement.
pub(crate) struct Guarded<T> {
    ptr: *mut T,
    _tables: TablesRead,
}

impl<T> Guarded<T> {
    pub(crate) fn new(ptr: *mut T) -> Guarded<T> {
        Guarded {
            ptr,
            _tables: tables(),
        }
    }

    pub(crate) fn ptr(&self) -> *mut T {
        self.ptr
    }
}

/// The user-facing names of the pool features the loaded module supports, read once from
/// libzfs's feature table, under the write lock, by the first [`Zfs::open`].
static FEATURES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// Every feature's name in libzfs's table, by its index there (`spa_feature_t`), read with
/// [`FEATURES`]: `zpool_load_compat` answers by index.
static FEATURE_TABLE: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// The features the first [`Zfs::open`] read (empty before any open).
pub(crate) fn supported_features() -> &'static [String] {
    FEATURES.get().map_or(&[], Vec::as_slice)
}

/// Every feature's name by its index in libzfs's table (empty before any open).
pub(crate) fn feature_table() -> &'static [String] {
    FEATURE_TABLE.get().map_or(&[], Vec::as_slice)
}

/// An open connection to ZFS: one `libzfs_handle_t` and a reference on libzfs_core.
///
/// `Send` but not `Sync`: libzfs keeps per-handle state (the last error, caches of mounts and
/// pools) without locking, so one handle must not be used from two threads at once. Moving it
/// to another thread is fine; for parallel work, open one `Zfs` per thread.
///
/// Opening a `Zfs` waits until no other thread is inside a libzfs call: every `libzfs_init`
/// rewrites libzfs's process-wide tables, so zfs-core keeps it clear of other threads' calls
/// with a process-wide lock (`ci/races` checks it under helgrind). So open the handles a thread
/// needs before another thread starts a call that waits on it: a `receive` fed by a
/// thread that has yet to open its `Zfs` would wait forever. Dropping never waits on other
/// threads' calls.
///
/// Objects opened through it ([`Pool`](crate::Pool), ...) borrow it, so none can outlive it.
pub struct Zfs {
    raw: NonNull<sys::libzfs_handle_t>,
    _not_sync: PhantomData<std::cell::Cell<()>>,
}

// SAFETY: libzfs handles have no thread affinity; they only must not be used concurrently,
// which `!Sync` (and `&mut`-free sharing through `&Zfs` on one thread) guarantees.
unsafe impl Send for Zfs {}

impl std::fmt::Debug for Zfs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Zfs").field("raw", &self.raw).finish()
    }
}

impl Zfs {
    /// Opens `/dev/zfs`.
    ///
    /// # Errors
    /// - [`ErrorKind::ModuleNotLoaded`] when `/dev/zfs` is missing (`modprobe zfs`).
    /// - [`ErrorKind::PermissionDenied`] when it cannot be opened (run as root).
    /// - [`ErrorKind::VersionMismatch`] when the loaded kernel module is a different OpenZFS
    ///   release (major.minor) than the one this crate was built against.
    #[doc(alias = "libzfs_init")]
    pub fn open() -> Result<Zfs> {
        if !Path::new("/dev/zfs").exists() {
            return Err(Error::new(
                ErrorKind::ModuleNotLoaded,
                "open",
                "/dev/zfs",
                "the ZFS kernel module is not loaded: run `modprobe zfs` as root",
            ));
        }
        let versions = Versions::detect();
        versions.check()?;

        // No libzfs call of any thread may overlap the init (see TABLES).
        let init = init_lock();
        let tables = tables_write();
        clear_errno();
        // SAFETY: plain initialisation; NULL (with errno set) on failure.
        let raw = unsafe { sys::libzfs_init() };
        let Some(raw) = NonNull::new(raw) else {
            let errno = last_errno();
            // SAFETY: libzfs_error_init returns a static string for any errno.
            let why = unsafe { CStr::from_ptr(sys::libzfs_error_init(errno)) };
            let mut err = Error::from_errno("open", "/dev/zfs", errno);
            if matches!(errno, libc::EACCES | libc::EPERM) {
                err = Error::new(
                    ErrorKind::PermissionDenied,
                    "open",
                    "/dev/zfs",
                    format!("{} (run as root)", why.to_string_lossy().trim_end()),
                );
            }
            return Err(err);
        };
        // SAFETY: reference-counted in C; released in Drop.
        let rc = unsafe { sys::libzfs_core_init() };
        if rc != 0 {
            // SAFETY: the handle was just opened and is closed once here.
            unsafe { sys::libzfs_fini(raw.as_ptr()) };
            return Err(Error::from_errno("open", "/dev/zfs (libzfs_core)", rc));
        }
        // SAFETY: the handle is live; printing is off by default, this makes it explicit.
        unsafe { sys::libzfs_print_on_error(raw.as_ptr(), sys::boolean_t::B_FALSE) };
        FEATURES.get_or_init(|| read_feature_table(true));
        FEATURE_TABLE.get_or_init(|| read_feature_table(false));
        drop(tables);
        drop(init);
        Ok(Zfs {
            raw,
            _not_sync: PhantomData,
        })
    }

    /// The handle, for one libzfs call (see [`Guarded`]).
    pub(crate) fn raw(&self) -> Guarded<sys::libzfs_handle_t> {
        Guarded::new(self.raw.as_ptr())
    }

    /// The handle pointer without the table lock, for a call that may block for as long as it
    /// likes and reads none of libzfs's process-wide tables (waiting for the next event):
    /// holding the lock there would keep every other thread's `Zfs::open` waiting with it.
    pub(crate) fn raw_unlocked(&self) -> *mut sys::libzfs_handle_t {
        self.raw.as_ptr()
    }

    /// The error libzfs recorded in this handle for the call that just failed.
    pub(crate) fn last_error(&self, operation: &'static str, object: &str) -> Error {
        let errno = last_errno();
        // SAFETY: the handle is live; both calls read its error state.
        let code = unsafe { sys::libzfs_errno(self.raw().ptr()) };
        // SAFETY: as above; the description is owned by the handle, copied at once.
        let desc = unsafe { CStr::from_ptr(sys::libzfs_error_description(self.raw().ptr())) }
            .to_string_lossy()
            .into_owned();
        Error::from_libzfs(operation, object, sys::zfs_error_t(code as _), desc, errno)
    }

    /// Runs a libzfs call that returns 0 on success, turning failure into this handle's error.
    pub(crate) fn check(
        &self,
        operation: &'static str,
        object: &str,
        call: impl FnOnce() -> c_int,
    ) -> Result<()> {
        clear_errno();
        match call() {
            0 => Ok(()),
            _ => Err(self.last_error(operation, object)),
        }
    }
}

impl Drop for Zfs {
    fn drop(&mut self) {
        let _init = init_lock();
        // SAFETY: every object borrowing the handle is gone (they hold `&Zfs`); each of the
        // two references is released exactly once.
        unsafe {
            sys::libzfs_fini(self.raw.as_ptr());
            sys::libzfs_core_fini();
        }
    }
}

/// A Rust `bool` as libzfs's `boolean_t`.
pub(crate) fn boolean(v: bool) -> sys::boolean_t {
    if v {
        sys::boolean_t::B_TRUE
    } else {
        sys::boolean_t::B_FALSE
    }
}

pub(crate) fn clear_errno() {
    // SAFETY: __errno_location returns this thread's errno slot.
    unsafe { *libc::__errno_location() = 0 };
}

pub(crate) fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Runs a libzfs_core call, which returns 0 or an errno.
pub(crate) fn lzc(operation: &'static str, object: &str, rc: c_int) -> Result<()> {
    match rc {
        0 => Ok(()),
        e => Err(Error::from_errno(operation, object, e)),
    }
}

/// The user-facing names of every pool feature the loaded kernel module supports.
/// The names in libzfs's feature table: those the module supports, or all of them by index
/// (an empty name where the table has none).
fn read_feature_table(supported_only: bool) -> Vec<String> {
    // SAFETY: libzfs_init has just filled the table, and the caller holds the write lock, so
    // no other thread's init rewrites it while it is read.
    let table = unsafe { &*std::ptr::addr_of!(sys::spa_feature_table) };
    table
        .iter()
        .filter(|f| {
            !supported_only
                || (f.fi_zfs_mod_supported != sys::boolean_t::B_FALSE && !f.fi_uname.is_null())
        })
        .map(|f| {
            if f.fi_uname.is_null() {
                return String::new();
            }
            // SAFETY: fi_uname is a static NUL-terminated string.
            let name = unsafe { CStr::from_ptr(f.fi_uname) };
            name.to_string_lossy().into_owned()
        })
        .collect()
}
