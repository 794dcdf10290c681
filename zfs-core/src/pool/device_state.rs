//! A device's state: `zpool online`, `zpool offline` (and its `-f`, fault), `zpool clear`,
//! `zpool reopen`.

use std::ffi::CString;
use std::path::Path;

use libzfs_sys as sys;

use super::{Health, Pool};
use crate::nvlist::{NvList, NvValue};
use crate::{Error, ErrorKind, Result};

/// Options of [`Pool::online`]: `zpool online [-e]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OnlineOptions {
    expand: bool,
}

impl OnlineOptions {
    /// Bring the device back as it was.
    pub fn new() -> OnlineOptions {
        OnlineOptions::default()
    }

    /// `-e`: grow the vdev into all the space of the device (after the device itself grew).
    pub fn expand(mut self, yes: bool) -> OnlineOptions {
        self.expand = yes;
        self
    }
}

/// Options of [`Pool::offline`]: `zpool offline [-f] [-t]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OfflineOptions {
    temporary: bool,
    fault: bool,
}

impl OfflineOptions {
    /// Take the device offline until it is brought online again, across exports and reboots.
    pub fn new() -> OfflineOptions {
        OfflineOptions::default()
    }

    /// `-t`: only until the pool is next imported (or the system restarts).
    pub fn temporary(mut self, yes: bool) -> OfflineOptions {
        self.temporary = yes;
        self
    }

    /// `-f`: mark the device `FAULTED` instead of `OFFLINE`, as if it had failed (what a test
    /// or a fault manager does); [`Pool::clear`] brings it back.
    pub fn fault(mut self, yes: bool) -> OfflineOptions {
        self.fault = yes;
        self
    }
}

/// Options of [`Pool::reopen`]: `zpool reopen [-n]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReopenOptions {
    no_scrub_restart: bool,
}

impl ReopenOptions {
    /// Restart a running scrub, so it reads the reopened devices too.
    pub fn new() -> ReopenOptions {
        ReopenOptions::default()
    }

    /// `-n`: let a running scrub go on where it is.
    pub fn no_scrub_restart(mut self, yes: bool) -> ReopenOptions {
        self.no_scrub_restart = yes;
        self
    }
}

impl Pool<'_> {
    /// Brings the device at `device` online (`zpool online POOL DEVICE`), after
    /// [`Pool::offline`] or a replaced disk; ZFS resilvers what it missed. Returns the state it
    /// is in afterwards: `Online`, or still `Faulted`/`Unavail` if it cannot be opened, which
    /// `zpool online` reports as a warning and this as the returned state.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the pool has no such device; libzfs's refusal for a spare
    /// or cache device in a state that cannot be onlined.
    #[doc(alias = "zpool_vdev_online")]
    pub fn online(&self, device: &Path, opts: &OnlineOptions) -> Result<Health> {
        let op = "bring online in";
        let pool = self.name.as_str();
        self.fresh(op)?;
        let path = super::devices::path_text(op, pool, device)?;
        let flags = if opts.expand {
            sys::ZFS_ONLINE_EXPAND as i32
        } else {
            0
        };
        let mut state = sys::vdev_state_t::VDEV_STATE_UNKNOWN;
        let expand = if opts.expand { " -e" } else { "" };
        let command = || format!("zpool online{expand} {pool} {}", device.display());
        self.zfs.check_logged(op, pool, command, || {
            // SAFETY: live pool handle; NUL-terminated path; `state` is written on success.
            unsafe { sys::zpool_vdev_online(self.raw().ptr(), path.as_ptr(), flags, &mut state) }
        })?;
        // SAFETY: pure table lookup; returns a static string.
        let word = unsafe {
            std::ffi::CStr::from_ptr(sys::zpool_state_to_name(
                state,
                sys::vdev_aux_t::VDEV_AUX_NONE,
            ))
        };
        Ok(Health::from_libzfs(&word.to_string_lossy()))
    }

    /// Takes the device at `device` offline (`zpool offline [-t] POOL DEVICE`): ZFS stops
    /// using it, and the pool runs degraded on the other sides of its mirror or raidz. With
    /// [`OfflineOptions::fault`], marks it `FAULTED` instead (`zpool offline -f`).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the pool has no such device; [`ErrorKind::Busy`] (or
    /// libzfs's "no valid replicas") for a device whose data has no other copy, which ZFS
    /// never takes offline. The error names the device, as `zpool offline` does.
    #[doc(alias = "zpool_vdev_offline")]
    #[doc(alias = "zpool_vdev_fault")]
    pub fn offline(&self, device: &Path, opts: &OfflineOptions) -> Result<()> {
        let op = "offline";
        self.fresh(op)?;
        // Named as `zpool offline` names it: the device, with its pool in the message.
        self.offline_device(op, device, opts).map_err(|e| {
            let pool = &self.name;
            let message = if e.message().starts_with("no such device in pool") {
                format!("no such device in pool '{pool}'")
            } else {
                format!("{} (pool '{pool}')", e.message())
            };
            e.with_object(device.display().to_string())
                .with_message(message)
        })
    }

    /// [`Pool::offline`] of a fresh pool handle.
    fn offline_device(&self, op: &'static str, device: &Path, opts: &OfflineOptions) -> Result<()> {
        let pool = self.name.as_str();
        let path = super::devices::path_text(op, pool, device)?;
        let command = || {
            let fault = if opts.fault { " -f" } else { "" };
            let temporary = if opts.temporary { " -t" } else { "" };
            format!(
                "zpool offline{fault}{temporary} {pool} {}",
                device.display()
            )
        };
        if opts.fault {
            let guid = self.device_guid(op, device, &path)?;
            let aux = if opts.temporary {
                sys::vdev_aux_t::VDEV_AUX_EXTERNAL
            } else {
                sys::vdev_aux_t::VDEV_AUX_EXTERNAL_PERSIST
            };
            return self.zfs.check_logged(op, pool, command, || {
                // SAFETY: live pool handle; a GUID of this pool's configuration.
                unsafe { sys::zpool_vdev_fault(self.raw().ptr(), guid, aux) }
            });
        }
        self.zfs.check_logged(op, pool, command, || {
            // SAFETY: live pool handle; NUL-terminated path.
            unsafe {
                sys::zpool_vdev_offline(
                    self.raw().ptr(),
                    path.as_ptr(),
                    crate::handle::boolean(opts.temporary),
                )
            }
        })
    }

    /// Marks the device at `device` `DEGRADED` (what the ZFS event daemon does to a device
    /// with too many errors; the CLI has no command for it): ZFS goes on using it but a
    /// spare may take its place, and `zpool status` shows it. [`Pool::clear`] lifts the mark.
    /// zfs-core logs it in the pool history as `zpool_vdev_degrade POOL DEVICE`.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the pool has no such device.
    #[doc(alias = "zpool_vdev_degrade")]
    pub fn degrade(&self, device: &Path) -> Result<()> {
        let op = "degrade in";
        let pool = self.name.as_str();
        self.fresh(op)?;
        let path = super::devices::path_text(op, pool, device)?;
        let guid = self.device_guid(op, device, &path)?;
        let command = || format!("zpool_vdev_degrade {pool} {}", device.display());
        self.zfs.check_logged(op, pool, command, || {
            // SAFETY: live pool handle; a GUID of this pool's configuration.
            unsafe {
                sys::zpool_vdev_degrade(self.raw().ptr(), guid, sys::vdev_aux_t::VDEV_AUX_EXTERNAL)
            }
        })
    }

    /// Clears the error counters of every device, or of `device` only (`zpool clear POOL
    /// [DEVICE]`), and brings back a device that was faulted by errors or by
    /// [`OfflineOptions::fault`]; a suspended pool resumes I/O.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the pool has no such device.
    #[doc(alias = "zpool_clear")]
    pub fn clear(&self, device: Option<&Path>) -> Result<()> {
        self.clear_with(device, super::Rewind::Never)
    }

    /// [`Pool::clear`] of a pool that cannot be opened, going back to an earlier state as
    /// [`ImportOptions::rewind`](super::ImportOptions::rewind) does (`zpool clear -F [-X]
    /// POOL`): for a pool imported from a cache file at boot whose newest transaction group
    /// is damaged. On a healthy pool it clears errors and goes nowhere.
    ///
    /// # Errors
    /// As [`Pool::clear`]; [`ErrorKind::InvalidArgument`] for [`Rewind::ToTxg`](super::Rewind),
    /// which only an import can do.
    #[doc(alias = "zpool_clear")]
    pub fn clear_with(&self, device: Option<&Path>, rewind: super::Rewind) -> Result<()> {
        let op = "clear errors in";
        let pool = self.name.as_str();
        if matches!(rewind, super::Rewind::ToTxg(_)) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                pool,
                "a rewind to a given transaction group is for an import",
            ));
        }
        self.fresh(op)?;
        let path = device
            .map(|d| super::devices::path_text(op, pool, d))
            .transpose()?;
        let policy = match rewind.policy()? {
            Some(p) => p,
            None => {
                // As `zpool clear` without -F: no rewind to an earlier transaction group.
                let mut p = NvList::new();
                p.insert("load-rewind-policy", &NvValue::U32(sys::ZPOOL_NO_REWIND))?;
                p
            }
        };
        let flags = rewind.flags();
        let command = || match device {
            Some(d) => format!("zpool clear{flags} {pool} {}", d.display()),
            None => format!("zpool clear{flags} {pool}"),
        };
        self.zfs.check_logged(op, pool, command, || {
            // SAFETY: live pool handle; NUL-terminated path or NULL; a live policy list.
            unsafe {
                sys::zpool_clear(
                    self.raw().ptr(),
                    path.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()),
                    policy.as_ptr(),
                )
            }
        })
    }

    /// Reopens every device of the pool (`zpool reopen POOL`), after a device that was
    /// unavailable came back (a cable replugged, a file restored): the pool looks at them again
    /// without an export and import. A running scrub starts over unless told otherwise.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the pool is gone.
    #[doc(alias = "zpool_reopen_one")]
    pub fn reopen(&self, opts: &ReopenOptions) -> Result<()> {
        let mut restart = crate::handle::boolean(!opts.no_scrub_restart);
        let no_restart = if opts.no_scrub_restart { " -n" } else { "" };
        let command = || format!("zpool reopen{no_restart} {}", self.name);
        self.zfs
            .check_logged("reopen", self.name.as_str(), command, || {
                // SAFETY: live pool handle; `restart` is the boolean_t the call reads.
                unsafe { sys::zpool_reopen_one(self.raw().ptr(), (&raw mut restart).cast()) }
            })
    }

    /// The GUID of the device at `device` in the pool's configuration, as the CLI looks it up
    /// for the calls that take a GUID.
    pub(super) fn device_guid(
        &self,
        op: &'static str,
        device: &Path,
        path: &CString,
    ) -> Result<u64> {
        let config = self.device_config(op, device, path)?;
        config.get_u64("guid").ok_or_else(|| {
            Error::new(
                ErrorKind::Other,
                op,
                self.name.as_str(),
                format!(
                    "{} has no GUID in the pool's configuration",
                    device.display()
                ),
            )
        })
    }

    /// The configuration of the device at `device` (its part of the vdev tree), fresh.
    pub(super) fn device_config(
        &self,
        op: &'static str,
        device: &Path,
        path: &CString,
    ) -> Result<crate::nvlist::NvList> {
        self.refresh().map_err(|e| e.with_operation(op))?;
        let (mut spare, mut l2cache, mut log) = (
            sys::boolean_t::B_FALSE,
            sys::boolean_t::B_FALSE,
            sys::boolean_t::B_FALSE,
        );
        // SAFETY: live pool handle; NUL-terminated path; the list belongs to the handle's
        // configuration and is copied at once.
        let found = unsafe {
            sys::zpool_find_vdev(
                self.raw().ptr(),
                path.as_ptr(),
                &mut spare,
                &mut l2cache,
                &mut log,
            )
        };
        if found.is_null() {
            return Err(Error::new(
                ErrorKind::NotFound,
                op,
                self.name.as_str(),
                format!("no such device in pool: {}", device.display()),
            ));
        }
        // SAFETY: a live list owned by the handle's configuration (see above).
        Ok(unsafe { crate::nvlist::NvListRef::from_ptr(found) }.to_owned())
    }
}
