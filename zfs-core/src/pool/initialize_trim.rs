//! Long-running work on a pool's devices: `zpool initialize` and `zpool trim`, and their
//! per-device progress (`zpool status -i`, `zpool status -t`).

use std::path::Path;
use std::time::{Duration, Instant};

use libzfs_sys as sys;

use super::Pool;
use crate::nvlist::{NvList, NvListRef};
use crate::{Error, ErrorKind, Result, VdevStatus};

/// Options of [`Pool::trim`]: `zpool trim [-d] [-r RATE]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrimOptions {
    secure: bool,
    rate: u64,
}

impl TrimOptions {
    /// A plain trim, as fast as the devices go.
    pub fn new() -> TrimOptions {
        TrimOptions::default()
    }

    /// `-d`: a secure trim (the device must erase the data); file vdevs cannot.
    pub fn secure(mut self, yes: bool) -> TrimOptions {
        self.secure = yes;
        self
    }

    /// `-r`: at most this many bytes per second per device (0: no limit).
    pub fn rate(mut self, bytes_per_second: u64) -> TrimOptions {
        self.rate = bytes_per_second;
        self
    }
}

/// Where initializing or trimming one device stands (`zpool status -i` / `-t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeviceProgress {
    /// Running, paused, stopped or done.
    pub state: DeviceWorkState,
    /// Bytes done.
    pub bytes_done: u64,
    /// Bytes to do in all.
    pub bytes_total: u64,
    /// When it started, was paused, stopped or finished, in seconds since the epoch.
    pub action_time: u64,
    /// Errors met.
    pub errors: u64,
}

/// The state of initializing or trimming one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeviceWorkState {
    /// Running.
    Active,
    /// Paused; starting it again resumes where it was.
    Suspended,
    /// Stopped before the end.
    Canceled,
    /// Done.
    Complete,
}

impl DeviceProgress {
    /// From a leaf's `vdev_stat_t` words; `None` when it never ran (or was uninitialized).
    pub(crate) fn from_stats(
        state: u64,
        [done, total, time, errors]: [u64; 4],
    ) -> Option<DeviceProgress> {
        // The initialize and trim states share their numbering (NONE, ACTIVE, CANCELED,
        // SUSPENDED, COMPLETE), checked by the unit test below.
        use sys::vdev_initializing_state_t as S;
        let state = match sys::vdev_initializing_state_t(state as _) {
            S::VDEV_INITIALIZE_ACTIVE => DeviceWorkState::Active,
            S::VDEV_INITIALIZE_SUSPENDED => DeviceWorkState::Suspended,
            S::VDEV_INITIALIZE_CANCELED => DeviceWorkState::Canceled,
            S::VDEV_INITIALIZE_COMPLETE => DeviceWorkState::Complete,
            _ => return None,
        };
        Some(DeviceProgress {
            state,
            bytes_done: done,
            bytes_total: total,
            action_time: time,
            errors,
        })
    }
}

impl Pool<'_> {
    /// Starts (or resumes) writing a pattern over every unallocated block of `devices`, or of
    /// every data and log device when `devices` is empty (`zpool initialize POOL [DEVICE...]`):
    /// so that thin-provisioned or new disks perform fully from the first write. Runs in the
    /// background: follow it in each device's [`VdevStatus::initialize`], wait for it with
    /// [`WaitActivity::Initialize`](crate::WaitActivity::Initialize).
    ///
    /// [`VdevStatus::initialize`]: crate::VdevStatus::initialize
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] for a device the pool does not have;
    /// [`ErrorKind::InvalidArgument`] for a spare or cache device; [`ErrorKind::Busy`] if it
    /// is already initializing.
    ///
    /// With no devices this is what OpenZFS 2.4's `zpool_initialize_one` does (every leaf of
    /// the pool), on every release: the pool's leaves are collected here, so that call is not
    /// needed.
    #[doc(alias = "zpool_initialize")]
    #[doc(alias = "zpool_initialize_one")]
    pub fn initialize(&self, devices: &[&Path]) -> Result<()> {
        self.initialize_call(
            "initialize",
            sys::pool_initialize_func_t::POOL_INITIALIZE_START,
            devices,
        )
    }

    /// Pauses initializing (`zpool initialize -s`); [`Pool::initialize`] resumes it.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if it is not running on a device.
    pub fn pause_initialize(&self, devices: &[&Path]) -> Result<()> {
        self.initialize_call(
            "pause initializing",
            sys::pool_initialize_func_t::POOL_INITIALIZE_SUSPEND,
            devices,
        )
    }

    /// Stops initializing (`zpool initialize -c`); what was written stays written.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if it is not running on a device.
    pub fn stop_initialize(&self, devices: &[&Path]) -> Result<()> {
        self.initialize_call(
            "stop initializing",
            sys::pool_initialize_func_t::POOL_INITIALIZE_CANCEL,
            devices,
        )
    }

    /// Forgets that devices were initialized (`zpool initialize -u`, OpenZFS 2.2 and later), so
    /// that the next [`Pool::initialize`] starts from the beginning.
    ///
    /// Right after initializing ended, OpenZFS refuses this until the device's worker thread
    /// has exited; that refusal is tried again for up to 5 s (as it is for a new start).
    ///
    /// # Errors
    /// [`ErrorKind::Busy`] while initializing runs; [`ErrorKind::NotSupported`] before 2.2.
    pub fn uninitialize(&self, devices: &[&Path]) -> Result<()> {
        #[cfg(zfs_2_2)]
        return self.initialize_call(
            "uninitialize",
            sys::pool_initialize_func_t::POOL_INITIALIZE_UNINIT,
            devices,
        );
        #[cfg(not(zfs_2_2))]
        {
            let _ = devices;
            Err(Error::new(
                ErrorKind::NotSupported,
                "uninitialize",
                self.name.as_str(),
                "uninitializing needs OpenZFS 2.2 or later",
            ))
        }
    }

    /// Starts (or resumes) telling `devices`, or every data and log device when empty, which
    /// blocks are free (`zpool trim POOL [DEVICE...]`), in the background: follow it in each
    /// device's [`VdevStatus::trim`], wait for it with
    /// [`WaitActivity::Trim`](crate::WaitActivity::Trim). File vdevs are trimmed by punching
    /// holes in the file.
    ///
    /// [`VdevStatus::trim`]: crate::VdevStatus::trim
    ///
    /// # Errors
    /// As [`Pool::initialize`]; [`ErrorKind::NotSupported`] for a device that cannot trim
    /// (or cannot trim securely).
    ///
    /// With no devices this is OpenZFS 2.4's `zpool_trim_one` (every leaf of the pool), on
    /// every release.
    #[doc(alias = "zpool_trim")]
    #[doc(alias = "zpool_trim_one")]
    pub fn trim(&self, devices: &[&Path], opts: &TrimOptions) -> Result<()> {
        self.trim_call(
            "trim",
            sys::pool_trim_func_t::POOL_TRIM_START,
            devices,
            opts,
        )
    }

    /// Pauses trimming (`zpool trim -s`); [`Pool::trim`] resumes it.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if it is not running on a device.
    pub fn pause_trim(&self, devices: &[&Path]) -> Result<()> {
        let opts = TrimOptions::new();
        self.trim_call(
            "pause trimming",
            sys::pool_trim_func_t::POOL_TRIM_SUSPEND,
            devices,
            &opts,
        )
    }

    /// Stops trimming (`zpool trim -c`).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if it is not running on a device.
    pub fn stop_trim(&self, devices: &[&Path]) -> Result<()> {
        let opts = TrimOptions::new();
        self.trim_call(
            "stop trimming",
            sys::pool_trim_func_t::POOL_TRIM_CANCEL,
            devices,
            &opts,
        )
    }

    fn initialize_call(
        &self,
        op: &'static str,
        func: sys::pool_initialize_func_t,
        devices: &[&Path],
    ) -> Result<()> {
        self.fresh(op)?;
        let vds = self.device_set(op, devices)?;
        let command = || {
            let flag = match func {
                sys::pool_initialize_func_t::POOL_INITIALIZE_CANCEL => " -c",
                sys::pool_initialize_func_t::POOL_INITIALIZE_SUSPEND => " -s",
                sys::pool_initialize_func_t::POOL_INITIALIZE_START => "",
                _ => " -u",
            };
            format!("zpool initialize{flag} {}{}", self.name, shown(devices))
        };
        // Uninitializing is OpenZFS 2.2's.
        #[cfg(zfs_2_2)]
        let starts_anew = matches!(
            func,
            sys::pool_initialize_func_t::POOL_INITIALIZE_START
                | sys::pool_initialize_func_t::POOL_INITIALIZE_UNINIT
        );
        #[cfg(not(zfs_2_2))]
        let starts_anew = func == sys::pool_initialize_func_t::POOL_INITIALIZE_START;
        self.while_worker_exits(
            starts_anew,
            devices,
            |v| v.initialize,
            || {
                self.zfs.check_logged(op, self.name.as_str(), command, || {
                    // SAFETY: live pool handle; a live list of device names.
                    unsafe { sys::zpool_initialize(self.raw().ptr(), func, vds.as_ptr()) }
                })
            },
        )
    }

    /// Runs `call`, and again while it is refused as busy although the pool's status shows no
    /// device of `devices` (every leaf when empty) `Active` by `progress`, for up to
    /// [`WORKER_EXIT_WAIT`]; only when `retry` (starting or uninitializing, which the kernel
    /// refuses while a device's worker thread exists). The kernel marks a device's
    /// initializing or trimming complete before that thread has exited: a start or
    /// `uninitialize` right after a wait for the end (what `zpool initialize -w` and then `-u`
    /// do) was refused "currently initializing" in that window (seen in CI on a loaded
    /// machine, OpenZFS 2.4.3).
    fn while_worker_exits(
        &self,
        retry: bool,
        devices: &[&Path],
        progress: fn(&VdevStatus) -> Option<DeviceProgress>,
        mut call: impl FnMut() -> Result<()>,
    ) -> Result<()> {
        let deadline = Instant::now() + WORKER_EXIT_WAIT;
        loop {
            match call() {
                Err(e)
                    if retry
                        && e.kind() == ErrorKind::Busy
                        && Instant::now() < deadline
                        && self
                            .status()
                            .is_ok_and(|s| !any_active(&s.root, devices, progress)) =>
                {
                    std::thread::sleep(Duration::from_millis(50));
                }
                result => return result,
            }
        }
    }

    fn trim_call(
        &self,
        op: &'static str,
        func: sys::pool_trim_func_t,
        devices: &[&Path],
        opts: &TrimOptions,
    ) -> Result<()> {
        self.fresh(op)?;
        let vds = self.device_set(op, devices)?;
        let mut flags = sys::trimflags_t {
            fullpool: crate::handle::boolean(devices.is_empty()),
            secure: crate::handle::boolean(opts.secure),
            wait: sys::boolean_t::B_FALSE,
            rate: opts.rate,
        };
        let command = || {
            let flag = match func {
                sys::pool_trim_func_t::POOL_TRIM_CANCEL => " -c",
                sys::pool_trim_func_t::POOL_TRIM_SUSPEND => " -s",
                _ if opts.secure => " -d",
                _ => "",
            };
            format!("zpool trim{flag} {}{}", self.name, shown(devices))
        };
        let starts = func == sys::pool_trim_func_t::POOL_TRIM_START;
        self.while_worker_exits(
            starts,
            devices,
            |v| v.trim,
            || {
                self.zfs.check_logged(op, self.name.as_str(), command, || {
                    // SAFETY: live pool handle; a live list of device names; flags for the call.
                    unsafe { sys::zpool_trim(self.raw().ptr(), func, vds.as_ptr(), &mut flags) }
                })
            },
        )
    }

    /// The devices to act on, as libzfs takes them: a set of names. Empty means every data and
    /// log device, as the CLI does for a whole pool.
    fn device_set(&self, op: &'static str, devices: &[&Path]) -> Result<NvList> {
        let mut set = NvList::new();
        if devices.is_empty() {
            self.refresh().map_err(|e| e.with_operation(op))?;
            let mut leaves = Vec::new();
            collect_leaves(self.vdev_tree()?, &mut leaves);
            for leaf in leaves {
                set.insert_flag(&leaf)?;
            }
            return Ok(set);
        }
        for device in devices {
            let name = device.to_str().ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    op,
                    self.name.as_str(),
                    format!("device path {} is not UTF-8", device.display()),
                )
            })?;
            set.insert_flag(name)?;
        }
        Ok(set)
    }
}

/// How long a start or `uninitialize` refused as busy is tried again while no device's work
/// is `Active` (its worker thread is exiting: milliseconds, more on a loaded machine).
const WORKER_EXIT_WAIT: Duration = Duration::from_secs(5);

/// Whether the work `progress` reads is `Active` on a leaf under `v` that is one of `devices`
/// (any leaf when empty).
fn any_active(
    v: &VdevStatus,
    devices: &[&Path],
    progress: fn(&VdevStatus) -> Option<DeviceProgress>,
) -> bool {
    let named = devices.is_empty() || devices.iter().any(|d| Path::new(&v.name) == *d);
    (v.children.is_empty()
        && named
        && progress(v).is_some_and(|p| p.state == DeviceWorkState::Active))
        || v.children.iter().any(|c| any_active(c, devices, progress))
}

/// ` DEVICE...` as on the command line, empty for every device.
fn shown(devices: &[&Path]) -> String {
    devices
        .iter()
        .map(|d| format!(" {}", d.display()))
        .collect()
}

/// The paths (or, without one, GUIDs) of every leaf under `tree`, holes and removed devices
/// left out.
fn collect_leaves(tree: &NvListRef, out: &mut Vec<String>) {
    match tree.get_list_array("children") {
        Some(children) => {
            for child in children {
                collect_leaves(child, out);
            }
        }
        None => {
            let kind = tree.get_str("type").unwrap_or_default();
            if matches!(kind.as_str(), "hole" | "indirect") {
                return;
            }
            if let Some(path) = tree.get_str("path") {
                out.push(path);
            } else if let Some(guid) = tree.get_u64("guid") {
                out.push(guid.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initialize_and_trim_states_share_their_numbers() {
        use sys::vdev_initializing_state_t as I;
        use sys::vdev_trim_state_t as T;
        for (i, t) in [
            (I::VDEV_INITIALIZE_NONE.0, T::VDEV_TRIM_NONE.0),
            (I::VDEV_INITIALIZE_ACTIVE.0, T::VDEV_TRIM_ACTIVE.0),
            (I::VDEV_INITIALIZE_CANCELED.0, T::VDEV_TRIM_CANCELED.0),
            (I::VDEV_INITIALIZE_SUSPENDED.0, T::VDEV_TRIM_SUSPENDED.0),
            (I::VDEV_INITIALIZE_COMPLETE.0, T::VDEV_TRIM_COMPLETE.0),
        ] {
            assert_eq!(i as u64, t as u64);
        }
        assert_eq!(
            DeviceProgress::from_stats(I::VDEV_INITIALIZE_NONE.0 as u64, [0; 4]),
            None
        );
        let done = DeviceProgress::from_stats(I::VDEV_INITIALIZE_COMPLETE.0 as u64, [5, 5, 9, 0]);
        assert_eq!(done.unwrap().state, DeviceWorkState::Complete);
    }
}
