//! ZFS events (`zpool events`): what the kernel reports as it happens (pool created, scrub
//! finished, checksum error on a device, device state changed, ...).

use std::ffi::c_int;
use std::os::fd::{AsRawFd, OwnedFd};

use libzfs_sys as sys;

use crate::handle::Zfs;
use crate::nvlist::{NvList, NvValue};
use crate::{Error, Result};

/// `ZEVENT_NONBLOCK` and `ZEVENT_SEEK_END` of `sys/zfs_ioctl.h`, which libzfs's installed
/// headers do not carry.
const ZEVENT_NONBLOCK: u32 = 0x1;
const ZEVENT_SEEK_END: u64 = u64::MAX;

/// One event, as `zpool events -v` prints it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Event {
    /// What happened: `sysevent.fs.zfs.pool_create`, `ereport.fs.zfs.checksum`,
    /// `resource.fs.zfs.statechange`, ...
    pub class: String,
    /// The event's number, increasing.
    pub eid: u64,
    /// When, in seconds since the epoch.
    pub time: u64,
    /// The nanoseconds of `time`.
    pub time_nanos: u32,
    /// The pool it concerns, if any.
    pub pool: Option<String>,
    /// The device it concerns, if any.
    pub vdev_path: Option<String>,
    /// Everything the event carries, by name.
    pub payload: NvList,
}

impl Event {
    fn from_list(list: NvList) -> Event {
        let time = match list.get("time") {
            Some(NvValue::I64Array(t)) if t.len() == 2 => (t[0], t[1]),
            _ => (0, 0),
        };
        Event {
            class: list.get_str("class").unwrap_or_default(),
            eid: list.get_u64("eid").unwrap_or(0),
            time: u64::try_from(time.0).unwrap_or(0),
            time_nanos: u32::try_from(time.1).unwrap_or(0),
            pool: list.get_str("pool").or_else(|| list.get_str("pool_name")),
            vdev_path: list.get_str("vdev_path"),
            payload: list,
        }
    }
}

/// A reader of the kernel's event queue with its own position, from the oldest event the
/// kernel keeps (`zpool events`); [`Events::skip_to_end`] to see only new ones
/// (`zpool events -f` does the same on its first wait).
#[derive(Debug)]
pub struct Events<'z> {
    zfs: &'z Zfs,
    fd: OwnedFd,
    dropped: u64,
}

impl Zfs {
    /// A reader of ZFS events, starting at the oldest the kernel keeps.
    ///
    /// # Errors
    /// As opening `/dev/zfs`.
    #[doc(alias = "zpool_events_next")]
    pub fn events(&self) -> Result<Events<'_>> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/zfs")
            .map_err(|e| Error::from_errno("open", "/dev/zfs", e.raw_os_error().unwrap_or(0)))?;
        Ok(Events {
            zfs: self,
            fd: file.into(),
            dropped: 0,
        })
    }

    /// Deletes every event the kernel keeps (`zpool events -c`); returns how many.
    ///
    /// # Errors
    /// Whatever the kernel reports.
    #[doc(alias = "zpool_events_clear")]
    pub fn clear_events(&self) -> Result<usize> {
        let mut count: c_int = 0;
        self.check("clear events", "/dev/zfs", || {
            // SAFETY: live handle; `count` is written on success.
            unsafe { sys::zpool_events_clear(self.raw().ptr(), &mut count) }
        })?;
        Ok(usize::try_from(count).unwrap_or(0))
    }
}

impl Events<'_> {
    /// The next event, or `None` if there is none yet.
    ///
    /// # Errors
    /// Whatever the kernel reports.
    pub fn poll(&mut self) -> Result<Option<Event>> {
        self.next_event(ZEVENT_NONBLOCK)
    }

    /// The next event, waiting for one as long as it takes (`zpool events -f`).
    ///
    /// # Errors
    /// Whatever the kernel reports.
    pub fn wait(&mut self) -> Result<Event> {
        loop {
            if let Some(event) = self.next_event(0)? {
                return Ok(event);
            }
        }
    }

    /// Moves past every event there is now: the next ones read are those still to come.
    ///
    /// # Errors
    /// Whatever the kernel reports.
    #[doc(alias = "zpool_events_seek")]
    pub fn skip_to_end(&mut self) -> Result<()> {
        self.zfs.check("seek events", "/dev/zfs", || {
            // SAFETY: live handle; our own open descriptor of /dev/zfs.
            unsafe {
                sys::zpool_events_seek(self.zfs.raw().ptr(), ZEVENT_SEEK_END, self.fd.as_raw_fd())
            }
        })
    }

    /// How many events the kernel dropped before this reader could read them (the queue
    /// is bounded), so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    fn next_event(&mut self, flags: u32) -> Result<Option<Event>> {
        let mut raw: *mut sys::nvlist_t = std::ptr::null_mut();
        let mut dropped: c_int = 0;
        self.zfs.check("read events", "/dev/zfs", || {
            // SAFETY: live handle (borrowed for the reader's life, so never closed meanwhile); our
            // own descriptor; the out-parameters live for the call. Without the table lock: a
            // blocking wait must not hold up other threads' `Zfs::open`, and this call reads
            // no libzfs table.
            unsafe {
                sys::zpool_events_next(
                    self.zfs.raw_unlocked(),
                    &mut raw,
                    &mut dropped,
                    flags,
                    self.fd.as_raw_fd(),
                )
            }
        })?;
        self.dropped += u64::try_from(dropped).unwrap_or(0);
        if raw.is_null() {
            return Ok(None);
        }
        // SAFETY: an event list handed to us; freed once when dropped.
        Ok(Some(Event::from_list(unsafe { NvList::from_raw(raw) })))
    }
}
