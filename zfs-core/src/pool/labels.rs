//! Device labels: which pool a device belongs to (`zdb -l`), and wiping them
//! (`zpool labelclear`).

use std::ffi::{c_char, CStr};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::ptr;

use libzfs_sys as sys;

use super::PoolState;
use crate::handle::Zfs;
use crate::name::PoolName;
use crate::{Error, ErrorKind, Reason, Result};

/// Options of [`Zfs::labelclear`]: `zpool labelclear [-f]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LabelClearOptions {
    force: bool,
}

impl LabelClearOptions {
    /// Refuse a device that belongs to an exported or possibly active pool.
    pub fn new() -> LabelClearOptions {
        LabelClearOptions::default()
    }

    /// `-f`: wipe the label of an exported (or possibly active) pool's device too. A device of
    /// an imported pool is refused whatever this says.
    pub fn force(mut self, yes: bool) -> LabelClearOptions {
        self.force = yes;
        self
    }
}

impl Zfs {
    /// If the device or file at `path` carries the label of a live pool, that pool's name and
    /// state ([`PoolState::Active`], [`PoolState::Exported`], [`PoolState::Spare`], ...);
    /// labels of destroyed pools do not count. What `zpool create` checks before it
    /// overwrites a device (`zdb -l` prints the whole label).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] and the like when `path` cannot be opened.
    #[doc(alias = "zpool_in_use")]
    pub fn device_label(&self, path: &std::path::Path) -> Result<Option<DeviceLabel>> {
        let file = std::fs::File::open(path).map_err(|e| {
            Error::from_errno(
                "read label of",
                path.display().to_string(),
                e.raw_os_error().unwrap_or(libc::EIO),
            )
        })?;
        let mut state = sys::pool_state_t::POOL_STATE_ACTIVE;
        let mut pool: *mut c_char = ptr::null_mut();
        let mut in_use = sys::boolean_t::B_FALSE;
        // SAFETY: live handle and open descriptor; the out-parameters live for the call.
        let rc = unsafe {
            sys::zpool_in_use(
                self.raw().ptr(),
                file.as_raw_fd(),
                &mut state,
                &mut pool,
                &mut in_use,
            )
        };
        if rc != 0 {
            // The label could not be read at all (not "no label"): never taken as free.
            return Err(self.last_error("read label of", &path.display().to_string()));
        }
        if in_use == sys::boolean_t::B_FALSE || pool.is_null() {
            return Ok(None);
        }
        // SAFETY: zpool_in_use returned a malloc'd name, which we copy and free once.
        let name = unsafe { CStr::from_ptr(pool) }
            .to_string_lossy()
            .into_owned();
        // SAFETY: as above.
        unsafe { libc::free(pool.cast()) };
        let state = PoolState::from_raw(state.0 as i32);
        if state == PoolState::Destroyed {
            return Ok(None);
        }
        Ok(Some(DeviceLabel {
            pool: PoolName::trusted(name),
            state,
        }))
    }

    /// Refuses a device that carries the label of a live pool, as `zpool create` and
    /// `zpool attach` do without `-f`.
    ///
    /// # Errors
    /// [`ErrorKind::Busy`] naming the pool and its state; errors of [`Zfs::device_label`].
    pub(crate) fn refuse_labelled(
        &self,
        op: &'static str,
        object: &str,
        device: &std::path::Path,
    ) -> Result<()> {
        match self.device_label(device)? {
            Some(label) => Err(Error::new(
                ErrorKind::Busy,
                op,
                object,
                format!(
                    "{} is part of {} pool '{}' (use force to override)",
                    device.display(),
                    label.state.as_str(),
                    label.pool
                ),
            )
            .with_reason(Reason::DeviceInUse)),
            None => Ok(()),
        }
    }

    /// Wipes the ZFS labels off the device or file at `device` (`zpool labelclear [-f]
    /// DEVICE`), so that no pool is found on it and `zpool create` takes it without `-f`: what
    /// an installer does to a disk that held an old pool.
    ///
    /// A device with no label is left as it is, and that is success (`zpool labelclear`
    /// fails there): what a caller wants is a device without a label.
    ///
    /// # Errors
    /// - [`ErrorKind::Busy`] with [`Reason::DeviceInUse`]: the device belongs to an imported
    ///   pool (as a data, log, cache or spare device), or, without
    ///   [`LabelClearOptions::force`], to an exported or possibly active one. Nothing is
    ///   written then.
    /// - [`ErrorKind::NotFound`] and the like when `device` cannot be opened for writing.
    #[doc(alias = "zpool_clear_label")]
    pub fn labelclear(&self, device: &Path, opts: &LabelClearOptions) -> Result<()> {
        let op = "clear label of";
        let shown = device.display().to_string();
        if let Some(label) = self
            .device_label(device)
            .map_err(|e| e.with_operation(op))?
        {
            let forcible = matches!(
                label.state,
                PoolState::Exported | PoolState::PotentiallyActive
            );
            if !(forcible && opts.force) {
                let hint = if forcible {
                    "use force to override"
                } else {
                    "export or destroy the pool, or remove the device from it, first"
                };
                return Err(Error::new(
                    ErrorKind::Busy,
                    op,
                    &shown,
                    format!(
                        "{shown} is a member of {} pool '{}' ({hint})",
                        label.state.as_str(),
                        label.pool
                    ),
                )
                .with_reason(Reason::DeviceInUse));
            }
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(device)
            .map_err(|e| Error::from_errno(op, &shown, e.raw_os_error().unwrap_or(libc::EIO)))?;
        if !has_label(&file) {
            return Ok(());
        }
        crate::handle::clear_errno();
        // SAFETY: an open descriptor, readable and writable, for the whole call.
        if unsafe { sys::zpool_clear_label(file.as_raw_fd()) } != 0 {
            let errno = crate::handle::last_errno();
            return Err(Error::from_errno(
                op,
                &shown,
                if errno == 0 { libc::EIO } else { errno },
            ));
        }
        // The labels are written through the page cache of a file or block device: make them
        // reach the disk before anyone reads it another way.
        file.sync_all()
            .map_err(|e| Error::from_errno(op, &shown, e.raw_os_error().unwrap_or(libc::EIO)))
    }
}

/// Whether any of the device's four labels holds a pool configuration, destroyed pools'
/// included (`zdb -l` would print one).
fn has_label(file: &std::fs::File) -> bool {
    let mut config: *mut sys::nvlist_t = ptr::null_mut();
    let mut count: libc::c_int = 0;
    // SAFETY: an open descriptor; on success `config` is a list we own, or NULL for none.
    let rc = unsafe { sys::zpool_read_label(file.as_raw_fd(), &mut config, &mut count) };
    if config.is_null() {
        // No configuration: nothing to clear (a read failure is tried as a clear, which says).
        return rc != 0;
    }
    // SAFETY: handed to us by the call above; freed once.
    drop(unsafe { crate::nvlist::NvList::from_raw(config) });
    true
}

/// The label a device carries: which pool it belongs to, and that pool's state (the `name`
/// and `state` of `zdb -l`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeviceLabel {
    /// The pool's name.
    pub pool: PoolName,
    /// Active, exported, a hot spare, ...
    pub state: PoolState,
}
