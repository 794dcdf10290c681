//! Pool properties (`zpool get` / `zpool set`).

use std::ffi::{c_char, c_int, CString};

use libzfs_sys as sys;

use super::{Health, Pool};
use crate::property::{PropSource, PropValue};
use crate::{Error, ErrorKind, Result};

impl Pool<'_> {
    /// A pool property, by the name the CLI uses: native ones (`ashift`, `size`, `health`,
    /// `guid`, ...) and feature states (`feature@zstd_compress`). Numbers are exact
    /// (`zpool get -p NAME POOL`). Every read asks the kernel, as `zpool get` does: a change
    /// made elsewhere since the handle was opened shows.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidProperty`] for a name that is no pool property,
    /// [`ErrorKind::NotFound`] if the pool has gone away (exported or destroyed elsewhere).
    #[doc(alias = "zpool_get_prop")]
    pub fn property(&self, name: &str) -> Result<PropValue> {
        let op = "get property";
        let cname = CString::new(name).map_err(|_| {
            Error::new(
                ErrorKind::InvalidProperty,
                op,
                name,
                "property name contains a NUL byte",
            )
        })?;
        self.refresh().map_err(|e| e.with_operation(op))?;
        self.cached_property(name, &cname)
    }

    /// [`Pool::property`] from what the handle holds, without asking the kernel again.
    pub(super) fn cached_property(&self, name: &str, cname: &CString) -> Result<PropValue> {
        let op = "get property";
        let _tables = crate::handle::tables();
        if name.starts_with("feature@") || name.starts_with("unsupported@") {
            crate::handle::clear_errno();
            let value = crate::text::read_value(
                op,
                name,
                |buf, len| {
                    // SAFETY: live pool handle; `buf` holds `len` bytes.
                    unsafe {
                        sys::zpool_prop_get_feature(self.raw().ptr(), cname.as_ptr(), buf, len)
                    }
                },
                |_| {
                    Err(self
                        .zfs
                        .last_error(op, name)
                        .with_kind(ErrorKind::InvalidProperty))
                },
            )?;
            return Ok(PropValue {
                value,
                source: PropSource::Local,
            });
        }
        // SAFETY: a NUL-terminated name; pure table lookup.
        if unsafe { sys::zfs_prop_user(cname.as_ptr()) } != sys::boolean_t::B_FALSE {
            return self.user_property(name, cname);
        }
        // SAFETY: a NUL-terminated name; pure table lookup.
        let prop = unsafe { sys::zpool_name_to_prop(cname.as_ptr()) };
        if prop == sys::zpool_prop_t::ZPOOL_PROP_INVAL {
            return Err(Error::new(
                ErrorKind::InvalidProperty,
                op,
                name,
                format!("invalid pool property '{name}'"),
            ));
        }
        self.read_with_source(op, name, |buf, len, src| {
            // SAFETY: live pool handle; `buf` holds `len` bytes; `src` lives for the call.
            unsafe {
                sys::zpool_get_prop(
                    self.raw().ptr(),
                    prop,
                    buf,
                    len,
                    src,
                    sys::boolean_t::B_TRUE,
                )
            }
        })
    }

    /// A pool or vdev property read by `get`, which fills a buffer and the value's source:
    /// the whole value however long, or libzfs's error.
    pub(super) fn read_with_source(
        &self,
        op: &'static str,
        name: &str,
        mut get: impl FnMut(*mut c_char, usize, &mut sys::zprop_source_t) -> c_int,
    ) -> Result<PropValue> {
        let mut src = sys::zprop_source_t::ZPROP_SRC_NONE;
        crate::handle::clear_errno();
        let value = crate::text::read_value(
            op,
            name,
            |buf, len| get(buf, len, &mut src),
            |_| Err(self.zfs.last_error(op, name)),
        )?;
        Ok(PropValue {
            value,
            source: PropSource::from_raw(src, None),
        })
    }

    /// A user property of the pool (`module:name`, OpenZFS 2.2 and later); an unset one
    /// reads as `-` with [`PropSource::None`], as for datasets.
    #[cfg(zfs_2_2)]
    fn user_property(&self, name: &str, cname: &CString) -> Result<PropValue> {
        self.read_with_source("get property", name, |buf, len, src| {
            // SAFETY: live pool handle; NUL-terminated name; `buf` holds `len` bytes.
            unsafe { sys::zpool_get_userprop(self.raw().ptr(), cname.as_ptr(), buf, len, src) }
        })
    }

    /// Pool user properties arrived with OpenZFS 2.2.
    #[cfg(not(zfs_2_2))]
    fn user_property(&self, name: &str, _cname: &CString) -> Result<PropValue> {
        Err(Error::new(
            ErrorKind::NotSupported,
            "get property",
            name,
            "pool user properties need OpenZFS 2.2 or later",
        ))
    }

    /// A numeric pool property (`size`, `free`, `guid`, `ashift`, ...), as
    /// `zpool get -Hp -o value NAME POOL` prints it.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidProperty`] for an unknown or non-numeric property.
    pub fn property_u64(&self, name: &str) -> Result<u64> {
        self.property(name)?.require_u64(name)
    }

    /// Sets a pool property, validated by libzfs as `zpool set` does.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidProperty`] for an unknown or read-only property or a bad value,
    /// [`ErrorKind::InvalidName`] for a `bootfs` that names no dataset of this pool,
    /// [`ErrorKind::NotSupported`] for a `version` the pool cannot take,
    /// [`ErrorKind::ReadOnly`] on a pool imported read-only.
    #[doc(alias = "zpool_set_prop")]
    pub fn set_property(&self, name: &str, value: &str) -> Result<()> {
        let op = "set property";
        let bad = |what| {
            Error::new(
                ErrorKind::InvalidProperty,
                op,
                name,
                format!("{what} contains a NUL byte"),
            )
        };
        let cname = CString::new(name).map_err(|_| bad("name"))?;
        let cvalue = CString::new(value).map_err(|_| bad("value"))?;
        // libzfs classifies the refusals itself (bad value, read-only, import-time only, ...),
        // but a bad `cachefile` path comes as EZFS_BADPATH: a bad value all the same.
        self.zfs
            .check_logged(
                op,
                self.name.as_str(),
                || format!("zpool set {name}={value} {}", self.name),
                || {
                    // SAFETY: live pool handle; NUL-terminated strings.
                    unsafe {
                        sys::zpool_set_prop(self.raw().ptr(), cname.as_ptr(), cvalue.as_ptr())
                    }
                },
            )
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidArgument => e.with_kind(ErrorKind::InvalidProperty),
                _ => e,
            })
    }

    /// The pool's GUID (`zpool get guid`), read fresh from the kernel's configuration (the
    /// `guid` property of an open handle can lag behind a reguid).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the pool is gone.
    pub fn guid(&self) -> Result<u64> {
        self.refresh()?;
        self.config()?.get_u64("pool_guid").ok_or_else(|| {
            Error::new(
                ErrorKind::Other,
                "get property",
                "guid",
                "the pool configuration has no GUID",
            )
        })
    }

    /// The pool's health as `zpool list -o health` shows it, read fresh from the kernel.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the pool has gone away (exported or destroyed elsewhere):
    /// its old handle would otherwise read `FAULTED`.
    pub fn health(&self) -> Result<Health> {
        let op = "get health of";
        let word = self
            .property("health")
            .map_err(|e| e.with_operation(op))?
            .value;
        // The property is zpool_state_to_name's word for the root vdev.
        Ok(Health::from_libzfs(&word))
    }
}
