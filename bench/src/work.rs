//! The work a job does, counted rather than timed: the transaction groups the pool went
//! through and the ioctls this process made on `/dev/zfs`. Under software emulation a wall time
//! says little about real disks; these counts are the same on any machine.
//!
//! - **txgs**: the pool's newest transaction group before and after, from the kstat
//!   `/proc/spl/kstat/zfs/POOL/txgs` (one row per txg, the open one last).
//! - **ioctls**: this process's `ioctl` calls whose request is a ZFS one (`'Z' << 8` and up).
//!   The benchmark binaries export a function named `ioctl` (see `build.rs`) that counts and
//!   hands the call to the C library's: libzfs and libzfs_core find it first, as they would a
//!   preloaded library's.

use std::ffi::{c_int, c_ulong, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What one job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct Work {
    /// Transaction groups the pool moved through (each one synced to disk).
    pub txgs: u64,
    /// ioctls on `/dev/zfs`.
    pub ioctls: u64,
}

static ZFS_IOCTLS: AtomicU64 = AtomicU64::new(0);

type IoctlFn = unsafe extern "C" fn(c_int, c_ulong, *mut c_void) -> c_int;

fn real_ioctl() -> IoctlFn {
    static REAL: OnceLock<usize> = OnceLock::new();
    let addr = *REAL.get_or_init(|| {
        // SAFETY: a NUL-terminated symbol name; RTLD_NEXT finds the C library's definition.
        let p = unsafe { libc::dlsym(libc::RTLD_NEXT, c"ioctl".as_ptr()) };
        assert!(!p.is_null(), "no ioctl after this one");
        p as usize
    });
    // SAFETY: the address of the C library's ioctl, whose arguments are passed in registers
    // the same way for its variadic declaration.
    unsafe { std::mem::transmute::<usize, IoctlFn>(addr) }
}

/// Counts ZFS ioctls and hands every call on to the C library.
///
/// # Safety
/// As `ioctl(2)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ioctl(fd: c_int, request: c_ulong, arg: *mut c_void) -> c_int {
    // ZFS's requests are plain numbers from ('Z' << 8) (zfs_ioc_t on Linux).
    if request & !0xff == (b'Z' as c_ulong) << 8 {
        ZFS_IOCTLS.fetch_add(1, Ordering::Relaxed);
    }
    // SAFETY: the caller's arguments, unchanged.
    unsafe { real_ioctl()(fd, request, arg) }
}

/// ZFS ioctls this process has made so far. Panics if the count cannot work (the binary did
/// not export `ioctl`): a zero would read as a fast path.
pub fn ioctls() -> u64 {
    static CHECKED: OnceLock<()> = OnceLock::new();
    CHECKED.get_or_init(|| {
        // Any libzfs_core call makes ZFS ioctls: one that must be counted.
        let before = ZFS_IOCTLS.load(Ordering::Relaxed);
        let name = c"";
        // SAFETY: an (invalid, empty) name; lzc_exists only asks the kernel.
        unsafe {
            libzfs_sys::libzfs_core_init();
            libzfs_sys::lzc_exists(name.as_ptr());
        }
        assert!(
            ZFS_IOCTLS.load(Ordering::Relaxed) > before,
            "the ioctl counter sees nothing: the binary must export `ioctl` (bench/build.rs)"
        );
    });
    ZFS_IOCTLS.load(Ordering::Relaxed)
}

/// The pool's newest transaction group (the open one), from its kstat.
pub fn newest_txg(pool: &str) -> u64 {
    let path = format!("/proc/spl/kstat/zfs/{pool}/txgs");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    text.lines()
        .filter_map(|l| l.split_whitespace().next()?.parse::<u64>().ok())
        .max()
        .unwrap_or_else(|| panic!("no txg in {path}"))
}

/// Runs `f`, timing it and counting what it did to `pool`.
pub fn measured<T>(pool: &str, f: impl FnOnce() -> T) -> (Duration, Work, T) {
    let (txg, io) = (newest_txg(pool), ioctls());
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    let work = Work {
        txgs: newest_txg(pool) - txg,
        ioctls: ioctls() - io,
    };
    (took, work, out)
}

/// The median of some counts (the lower middle one for an even count: counts are whole).
pub fn median_work(mut v: Vec<Work>) -> Work {
    assert!(!v.is_empty(), "median of nothing");
    let mid = (v.len() - 1) / 2;
    v.sort_by_key(|w| w.txgs);
    let txgs = v[mid].txgs;
    v.sort_by_key(|w| w.ioctls);
    Work {
        txgs,
        ioctls: v[mid].ioctls,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_counts_are_taken_apart() {
        let w = |txgs, ioctls| Work { txgs, ioctls };
        assert_eq!(median_work(vec![w(3, 10), w(1, 30), w(2, 20)]), w(2, 20));
        assert_eq!(median_work(vec![w(4, 1), w(1, 4)]), w(1, 1));
    }

    #[test]
    fn only_zfs_requests_are_counted() {
        // An ioctl that fails at once (a bad descriptor) is still a call made.
        let before = ZFS_IOCTLS.load(Ordering::Relaxed);
        // SAFETY: a bad descriptor; nothing is read or written.
        unsafe {
            ioctl(-1, 0x5a00 + 5, std::ptr::null_mut());
            ioctl(-1, 0x5401, std::ptr::null_mut()); // TCGETS
        }
        assert_eq!(ZFS_IOCTLS.load(Ordering::Relaxed) - before, 1);
    }
}
