//! `zpool upgrade` (every supported feature enabled), and vdev properties (`zpool get/set
//! PROP POOL VDEV`, OpenZFS 2.2 and later).

use std::path::Path;

use libzfs_sys as sys;

use super::Pool;
use crate::property::PropValue;
use crate::{Error, ErrorKind, Result};

/// `SPA_VERSION_FEATURES`: the on-disk version of every pool with feature flags.
const VERSION_FEATURES: u64 = 5000;

impl Pool<'_> {
    /// Enables every feature the loaded OpenZFS supports that the pool does not have yet, after
    /// moving a legacy-version pool to feature flags (`zpool upgrade POOL`). Returns the
    /// features it enabled, by name; none when the pool was up to date. The pool may then no
    /// longer import on older OpenZFS releases.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`] for a pool whose `compatibility` property limits its
    /// features (enable them one by one with [`Pool::set_property`] and `feature@NAME`);
    /// [`ErrorKind::ReadOnly`] for a pool imported read-only.
    #[doc(alias = "zpool_upgrade")]
    pub fn upgrade(&self) -> Result<Vec<String>> {
        let op = "upgrade";
        let pool = self.name.as_str();
        let compatibility = self.property("compatibility")?.value;
        if compatibility != "off" {
            return Err(Error::new(
                ErrorKind::NotSupported,
                op,
                pool,
                format!(
                    "the pool's features are limited by compatibility={compatibility}: enable \
                     them one by one"
                ),
            ));
        }
        let version = self.property("version")?.value;
        if let Ok(version) = version.parse::<u64>() {
            if version < VERSION_FEATURES {
                self.zfs.check_logged(
                    op,
                    pool,
                    || format!("zpool upgrade {pool}"),
                    || {
                        // SAFETY: live pool handle.
                        unsafe { sys::zpool_upgrade(self.raw().ptr(), VERSION_FEATURES) }
                    },
                )?;
                self.refresh()?;
            }
        }
        let mut enabled = Vec::new();
        for feature in crate::handle::supported_features() {
            let name = format!("feature@{feature}");
            if self.property(&name)?.value == "disabled" {
                self.set_property(&name, "enabled")?;
                enabled.push(feature.clone());
            }
        }
        Ok(enabled)
    }

    /// A property of the vdev at `device` (`zpool get PROP POOL DEVICE`, OpenZFS 2.2 and
    /// later): native ones (`size`, `allocating`, `comment`, `checksum_n`, ...) and user
    /// properties (`module:name`); `root` names the root vdev, `mirror-0` a top-level one.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidProperty`] for an unknown property; [`ErrorKind::NotFound`] for a
    /// device the pool does not have; [`ErrorKind::NotSupported`] before 2.2.
    #[doc(alias = "zpool_get_vdev_prop")]
    pub fn vdev_property(&self, device: &Path, name: &str) -> Result<PropValue> {
        #[cfg(zfs_2_2)]
        return self.vdev_property_2_2(device, name);
        #[cfg(not(zfs_2_2))]
        Err(vdev_props_unsupported(device, name))
    }

    /// Sets a property of the vdev at `device` (`zpool set PROP=VALUE POOL DEVICE`, OpenZFS
    /// 2.2 and later): `comment`, `allocating`, `failfast`, the `checksum_*`/`io_*` error
    /// thresholds, or a user property.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidProperty`] for an unknown or read-only property or a bad value;
    /// [`ErrorKind::NotFound`] for a device the pool does not have; [`ErrorKind::NotSupported`]
    /// before 2.2.
    #[doc(alias = "zpool_set_vdev_prop")]
    pub fn set_vdev_property(&self, device: &Path, name: &str, value: &str) -> Result<()> {
        #[cfg(zfs_2_2)]
        return self.set_vdev_property_2_2(device, name, value);
        #[cfg(not(zfs_2_2))]
        {
            let _ = value;
            Err(vdev_props_unsupported(device, name))
        }
    }

    #[cfg(zfs_2_2)]
    fn vdev_property_2_2(&self, device: &Path, name: &str) -> Result<PropValue> {
        let op = "get vdev property";
        let (vdev, cname) = vdev_args(op, device, name)?;
        let _tables = crate::handle::tables();
        // SAFETY: NUL-terminated names; pure table lookups.
        let prop = unsafe { sys::vdev_name_to_prop(cname.as_ptr()) };
        // SAFETY: as above.
        let user = unsafe { sys::vdev_prop_user(cname.as_ptr()) } != sys::boolean_t::B_FALSE;
        if prop == sys::vdev_prop_t::VDEV_PROP_INVAL && !user {
            return Err(Error::new(
                ErrorKind::InvalidProperty,
                op,
                name,
                format!("invalid vdev property '{name}'"),
            ));
        }
        self.refresh().map_err(|e| e.with_operation(op))?;
        self.read_with_source(op, name, |buf, len, src| {
            // SAFETY: live pool handle; NUL-terminated names (the property's name only read,
            // for user properties); `buf` holds `len` bytes.
            unsafe {
                sys::zpool_get_vdev_prop(
                    self.raw().ptr(),
                    vdev.as_ptr(),
                    prop,
                    cname.as_ptr().cast_mut(),
                    buf,
                    len,
                    src,
                    sys::boolean_t::B_TRUE,
                )
            }
        })
    }

    #[cfg(zfs_2_2)]
    fn set_vdev_property_2_2(&self, device: &Path, name: &str, value: &str) -> Result<()> {
        let op = "set vdev property";
        let (vdev, cname) = vdev_args(op, device, name)?;
        let cvalue = std::ffi::CString::new(value).map_err(|_| {
            Error::new(
                ErrorKind::InvalidProperty,
                op,
                name,
                "value contains a NUL byte",
            )
        })?;
        let pool = self.name.as_str();
        self.fresh(op)?;
        let command = || format!("zpool set {name}={value} {pool} {}", device.display());
        self.zfs
            .check_logged(op, name, command, || {
                // SAFETY: live pool handle; NUL-terminated strings.
                unsafe {
                    sys::zpool_set_vdev_prop(
                        self.raw().ptr(),
                        vdev.as_ptr(),
                        cname.as_ptr(),
                        cvalue.as_ptr(),
                    )
                }
            })
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidArgument | ErrorKind::ReadOnly => {
                    e.with_kind(ErrorKind::InvalidProperty)
                }
                _ => e,
            })
    }
}

/// The device and property names as C strings.
#[cfg(zfs_2_2)]
fn vdev_args(
    op: &'static str,
    device: &Path,
    name: &str,
) -> Result<(std::ffi::CString, std::ffi::CString)> {
    let vdev = std::ffi::CString::new(device.as_os_str().as_encoded_bytes()).map_err(|_| {
        Error::new(
            ErrorKind::InvalidArgument,
            op,
            device.display().to_string(),
            "device path contains a NUL byte",
        )
    })?;
    let cname = std::ffi::CString::new(name).map_err(|_| {
        Error::new(
            ErrorKind::InvalidProperty,
            op,
            name,
            "property name contains a NUL byte",
        )
    })?;
    Ok((vdev, cname))
}

#[cfg(not(zfs_2_2))]
fn vdev_props_unsupported(device: &Path, name: &str) -> Error {
    Error::new(
        ErrorKind::NotSupported,
        "vdev property",
        format!("{name} of {}", device.display()),
        "vdev properties need OpenZFS 2.2 or later",
    )
}
