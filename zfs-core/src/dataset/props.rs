//! Dataset properties: raw string access to every native and user property, typed access to
//! the common ones, set, inherit.

use std::ffi::{c_char, c_int, CStr, CString};
use std::fmt;
use std::path::PathBuf;

use libzfs_sys as sys;

use super::user_props::UserPropertyChange;
use super::{Dataset, DatasetType, DatasetTypes};
use crate::nvlist::{NvList, NvValue};
use crate::options::{InheritOptions, PropertyBatchOptions};
use crate::property::{PropSource, PropValue};
use crate::{Error, ErrorKind, Result};

/// The `mountpoint` property (`zfs get mountpoint`, `zfs set mountpoint=...`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mountpoint {
    /// `none`: never mounted.
    None,
    /// `legacy`: mounted with `mount -t zfs` / fstab, not by ZFS.
    Legacy,
    /// A path (including any altroot prefix).
    Path(PathBuf),
}

impl fmt::Display for Mountpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mountpoint::None => f.write_str("none"),
            Mountpoint::Legacy => f.write_str("legacy"),
            Mountpoint::Path(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The `canmount` property (`zfs get canmount`, `zfs set canmount=...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CanMount {
    /// `on`.
    On,
    /// `off`.
    Off,
    /// `noauto`: only mounted explicitly.
    NoAuto,
}

/// A value of a property with a closed set of values that zfs-core does not know (a newer
/// OpenZFS): an error, never read as another value.
pub(crate) fn unknown_value(property: &str, object: &str, value: &str) -> Error {
    Error::new(
        ErrorKind::NotSupported,
        "get property",
        object,
        format!("{property} is '{value}', a value zfs-core does not know"),
    )
}

fn cstr(op: &'static str, what: &str) -> Result<CString> {
    CString::new(what).map_err(|_| {
        Error::new(
            ErrorKind::InvalidProperty,
            op,
            what.replace('\0', "\\0"),
            "contains a NUL byte",
        )
    })
}

impl Dataset<'_> {
    /// Any property by its CLI name, native (`compression`, `used`, ...) or user
    /// (`module:name`), with its source. Numbers are exact (`zfs get -p`). An unset user
    /// property reads as `-` with [`PropSource::None`], as does `clones` of a snapshot without
    /// clones. Every read asks the kernel, as `zfs get` does: a change made elsewhere since the
    /// handle was opened shows.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the dataset is gone (destroyed or renamed elsewhere).
    /// [`ErrorKind::InvalidProperty`] for an unknown property or one that does not apply to
    /// this type (e.g. `volsize` of a filesystem).
    #[doc(alias = "zfs_prop_get")]
    pub fn property(&self, name: &str) -> Result<PropValue> {
        self.refresh()?;
        self.cached_value(name)
    }

    /// Several properties read together (`zfs get a,b,c DATASET`): the kernel is asked once
    /// for all of them, not once per name, so the values belong to one moment. One result per
    /// name, in the order asked, each as [`Dataset::property`] gives it: a name that is not a
    /// property of this dataset's type is an [`ErrorKind::InvalidProperty`] in its place.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the dataset is gone (destroyed or renamed elsewhere).
    pub fn properties(&self, names: &[&str]) -> Result<Vec<Result<PropValue>>> {
        self.refresh()?;
        Ok(names.iter().map(|name| self.cached_value(name)).collect())
    }

    /// [`Dataset::property`] from what the handle holds.
    fn cached_value(&self, name: &str) -> Result<PropValue> {
        match self.cached_property(name) {
            // `clones` applies to every snapshot, but libzfs has no value for one without
            // clones; `zfs get` prints `-` (and `zfs get all` skips it, as all_properties).
            Err(e)
                if name == "clones"
                    && self.kind == DatasetType::Snapshot
                    && e.kind() == ErrorKind::InvalidProperty =>
            {
                Ok(PropValue {
                    value: "-".into(),
                    source: PropSource::None,
                })
            }
            other => other,
        }
    }

    /// Every property of this dataset with its source, as `zfs get all` lists them: the
    /// native ones that apply to its type (in the CLI's order), then its user properties;
    /// read in one refresh, so the values belong together.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the dataset is gone.
    #[doc(alias = "zprop_iter")]
    pub fn all_properties(&self) -> Result<Vec<(String, PropValue)>> {
        unsafe extern "C" fn each(prop: c_int, names: *mut std::ffi::c_void) -> c_int {
            // SAFETY: `names` is the Vec handed to zprop_iter below, alive for the call.
            let names = unsafe { &mut *names.cast::<Vec<String>>() };
            // SAFETY: a property number from libzfs's own table; a static name.
            let name = unsafe { CStr::from_ptr(sys::zfs_prop_to_name(sys::zfs_prop_t(prop))) };
            // A panic here (out of memory) aborts: it cannot unwind through C.
            names.push(name.to_string_lossy().into_owned());
            sys::zfs_prop_t::ZPROP_CONT.0
        }
        self.refresh()?;
        let mut names: Vec<String> = Vec::new();
        {
            let _tables = crate::handle::tables();
            // SAFETY: a callback that only appends to `names`, alive for the call.
            unsafe {
                sys::zprop_iter(
                    Some(each),
                    (&raw mut names).cast(),
                    sys::boolean_t::B_FALSE,
                    // The property table's order, as `zfs get all` prints.
                    sys::boolean_t::B_FALSE,
                    // ZFS_TYPE_DATASET, a macro: every dataset type.
                    sys::zfs_type_t(
                        sys::zfs_type_t::ZFS_TYPE_FILESYSTEM.0
                            | sys::zfs_type_t::ZFS_TYPE_VOLUME.0
                            | sys::zfs_type_t::ZFS_TYPE_SNAPSHOT.0,
                    ),
                )
            };
        }
        let mut out = Vec::new();
        for name in names {
            match self.cached_property(&name) {
                Ok(v) => out.push((name, v)),
                // Not for this type (`volsize` of a filesystem), as `zfs get all` skips.
                Err(e) if e.kind() == ErrorKind::InvalidProperty => {}
                Err(e) => return Err(e),
            }
        }
        out.extend(self.cached_user_properties());
        Ok(out)
    }

    /// Upgrades this filesystem to the newest on-disk version this system supports (`zfs
    /// upgrade FS`: the `version` property, which only goes up); says whether it was older.
    /// Snapshots and volumes have no such version.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for a snapshot or volume; [`ErrorKind::NotSupported`]
    /// if the pool's own version is too old for it.
    #[doc(alias = "zfs_prop_set")]
    pub fn upgrade(&self) -> Result<bool> {
        /// `ZPL_VERSION` of every supported OpenZFS release (not in the installed headers).
        const ZPL_VERSION: u64 = 5;
        if self.kind() != DatasetType::Filesystem {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "upgrade",
                self.name.as_str(),
                "only filesystems have a version to upgrade",
            ));
        }
        let now: u64 = self
            .property("version")?
            .value
            .parse()
            .unwrap_or(ZPL_VERSION);
        if now >= ZPL_VERSION {
            return Ok(false);
        }
        self.set_property("version", &ZPL_VERSION.to_string())?;
        Ok(true)
    }

    /// [`Dataset::property`] from what the handle holds, without asking the kernel again.
    fn cached_property(&self, name: &str) -> Result<PropValue> {
        let op = "get property";
        let c = cstr(op, name)?;
        let _tables = crate::handle::tables();
        // SAFETY: NUL-terminated name; table lookups.
        if unsafe { sys::zfs_prop_user(c.as_ptr()) } != sys::boolean_t::B_FALSE {
            return Ok(self
                .cached_user_properties()
                .into_iter()
                .find(|(k, _)| k == name)
                .map_or(
                    PropValue {
                        value: "-".into(),
                        source: PropSource::None,
                    },
                    |(_, v)| v,
                ));
        }
        // SAFETY: as above.
        if unsafe { sys::zfs_prop_userquota(c.as_ptr()) } != sys::boolean_t::B_FALSE {
            return self.special_property(op, name, |buf, len| {
                // SAFETY: live handle, NUL-terminated name, `buf` holds `len` bytes.
                unsafe {
                    sys::zfs_prop_get_userquota(
                        self.raw().ptr(),
                        c.as_ptr(),
                        buf,
                        len,
                        sys::boolean_t::B_TRUE,
                    )
                }
            });
        }
        // SAFETY: as above.
        if unsafe { sys::zfs_prop_written(c.as_ptr()) } != sys::boolean_t::B_FALSE {
            return self.special_property(op, name, |buf, len| {
                // SAFETY: live handle, NUL-terminated name, `buf` holds `len` bytes.
                unsafe {
                    sys::zfs_prop_get_written(
                        self.raw().ptr(),
                        c.as_ptr(),
                        buf,
                        len,
                        sys::boolean_t::B_TRUE,
                    )
                }
            });
        }
        // SAFETY: as above.
        let prop = unsafe { sys::zfs_name_to_prop(c.as_ptr()) };
        if prop == sys::zfs_prop_t::ZPROP_INVAL {
            return Err(Error::new(
                ErrorKind::InvalidProperty,
                op,
                name,
                format!("invalid property '{name}'"),
            ));
        }
        // The ancestor a value is inherited from is a dataset name: it fits.
        let mut from = [0 as c_char; 1024];
        let mut src = sys::zprop_source_t::ZPROP_SRC_NONE;
        let value = crate::text::read_value(
            op,
            name,
            |buf, len| {
                // SAFETY: live handle; `buf` holds `len` bytes and `from` its own length;
                // literal (exact) values.
                unsafe {
                    sys::zfs_prop_get(
                        self.raw().ptr(),
                        prop,
                        buf,
                        len,
                        &mut src,
                        from.as_mut_ptr(),
                        from.len(),
                        sys::boolean_t::B_TRUE,
                    )
                }
            },
            |_| {
                Err(Error::new(
                    ErrorKind::InvalidProperty,
                    op,
                    name,
                    format!("property '{name}' does not apply to {}", self.name),
                ))
            },
        )?;
        let inherited = text(&from);
        Ok(PropValue {
            value,
            source: PropSource::from_raw(src, Some(inherited)),
        })
    }

    /// `userquota@`/`groupquota@`/`userused@`/... and `written@`: read through their own
    /// libzfs calls (`zfs_prop_get` knows only native properties). Source `local`, as
    /// `zfs get` shows them.
    fn special_property(
        &self,
        op: &'static str,
        name: &str,
        get: impl FnMut(*mut c_char, c_int) -> c_int,
    ) -> Result<PropValue> {
        let mut get = get;
        crate::handle::clear_errno();
        let value = crate::text::read_value(
            op,
            name,
            |buf, len| get(buf, c_int::try_from(len).unwrap_or(c_int::MAX)),
            |rc| {
                // These calls return an errno, or -1 with errno set by the ioctl.
                let errno = if rc > 0 {
                    rc
                } else {
                    crate::handle::last_errno()
                };
                let why = std::io::Error::from_raw_os_error(errno);
                Err(Error::from_errno(op, name, errno)
                    .with_kind(ErrorKind::InvalidProperty)
                    .with_message(format!("cannot read '{name}' of {}: {why}", self.name)))
            },
        )?;
        Ok(PropValue {
            value,
            source: PropSource::Local,
        })
    }

    /// Every user property set on or inherited by this dataset, sorted by name (the
    /// `module:name` lines of `zfs get all NAME`), read fresh from the kernel.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the dataset is gone (destroyed or renamed elsewhere).
    pub fn user_properties(&self) -> Result<Vec<(String, PropValue)>> {
        self.refresh()?;
        Ok(self.cached_user_properties())
    }

    /// The user properties as of the handle's last [`refresh`](Dataset::refresh).
    fn cached_user_properties(&self) -> Vec<(String, PropValue)> {
        // SAFETY: live handle; the list is owned by the handle, copied below.
        let raw = unsafe { sys::zfs_get_user_props(self.raw().ptr()) };
        if raw.is_null() {
            return Vec::new();
        }
        // SAFETY: live until the handle's properties are refreshed; we copy at once.
        let list = unsafe { crate::nvlist::NvListRef::from_ptr(raw) };
        let mut out: Vec<(String, PropValue)> = list
            .iter()
            .filter_map(|pair| {
                let entry = pair.as_list()?;
                let value = entry.get_str("value")?;
                let source = match entry.get_str("source") {
                    Some(s) if s == self.name.as_str() => PropSource::Local,
                    Some(s) if s == "$recvd" => PropSource::Received,
                    Some(s) => PropSource::Inherited(s),
                    None => PropSource::Local,
                };
                Some((pair.name().into_owned(), PropValue { value, source }))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Sets one property, validated by libzfs as `zfs set` does.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidProperty`] for an unknown or read-only property or a bad value;
    /// [`ErrorKind::Busy`] for a space quota (`userquota@...` and the like) or `version` of a
    /// filesystem that is not mounted and stays held (a filesystem unmounted a moment ago is
    /// waited for, up to five seconds).
    #[doc(alias = "zfs_prop_set")]
    pub fn set_property(&self, name: &str, value: &str) -> Result<()> {
        self.set_properties(&[(name, value)])
    }

    /// Sets several properties in one call: all are set or none (`zfs set A=1 B=2 NAME`).
    ///
    /// # Errors
    /// As [`Dataset::set_property`].
    #[doc(alias = "zfs_prop_set_list")]
    pub fn set_properties(&self, props: &[(&str, &str)]) -> Result<()> {
        let op = "set property";
        let mut list = NvList::new();
        for (k, v) in props {
            cstr(op, k)?;
            cstr(op, v)?;
            list.insert(k, &NvValue::from(*v))?;
        }
        // The kernel sets a space quota (`userquota@...` and the like) and `version` through
        // the filesystem's own objset, which it must own when the filesystem is not mounted;
        // one unmounted a moment ago can still be held by its objset upgrade task (see the
        // destroy in `dataset/destroy.rs`), and the set is refused with EBUSY (seen in CI:
        // `userquota@` right after an unmount). That is waited out while this dataset is not
        // mounted, as `unload_key` does; other properties never take the objset.
        let takes_objset = props.iter().any(|(k, _)| sets_through_objset(k));
        crate::passing::retry(
            |_| {
                self.zfs.check(op, self.name.as_str(), || {
                    // SAFETY: live handle and list.
                    unsafe { sys::zfs_prop_set_list(self.raw().ptr(), list.as_ptr()) }
                })
            },
            |r| {
                takes_objset
                    && matches!(r, Err(e) if e.errno().map(|n| n.0) == Some(libc::EBUSY))
                    && self.mounted_at().is_none()
            },
        )
        .map_err(property_error)
    }

    /// Clears a local value so the property is inherited again (`zfs inherit`), or with
    /// `received` (`-S`) reverts it to the received value. With `recursive` (`-r`) also on
    /// every descendant, snapshots included, skipping the ones a native property does not
    /// apply to (as the CLI does): a user property set on a snapshot is cleared too.
    ///
    /// A recursive inherit of a user property (without `received`) runs in the kernel as one
    /// channel program, like [`Zfs::change_user_properties`](crate::Zfs::change_user_properties):
    /// one transaction group for the whole tree, all or nothing. Where the kernel refuses
    /// channel programs (not root), and with [`InheritOptions::one_call_per_object`], it is one
    /// call per object, as native properties always are (their inherit remounts and reshares,
    /// which a channel program does not do).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidProperty`] for an unknown or non-inheritable property.
    #[doc(alias = "zfs_prop_inherit")]
    pub fn inherit(&self, name: &str, opts: &InheritOptions) -> Result<()> {
        let op = "inherit property";
        let c = cstr(op, name)?;
        let _tables = crate::handle::tables();
        let received = crate::handle::boolean(opts.received);
        let one = |ds: &Dataset<'_>| {
            self.zfs
                .check(op, ds.name.as_str(), || {
                    // SAFETY: live handle, NUL-terminated name.
                    unsafe { sys::zfs_prop_inherit(ds.raw().ptr(), c.as_ptr(), received) }
                })
                .map_err(property_error)
        };
        // SAFETY: NUL-terminated name; a table lookup.
        let native = unsafe { sys::zfs_name_to_prop(c.as_ptr()) };
        // SAFETY: NUL-terminated name; a character check.
        let user = unsafe { sys::zfs_prop_user(c.as_ptr()) } != sys::boolean_t::B_FALSE;
        if let Some(top) = self
            .name
            .as_dataset()
            .filter(|_| opts.recursive && user && !opts.received && !opts.one_call_per_object)
        {
            // The fast path: the whole tree in one channel program, one transaction group,
            // walked in the kernel; or, when that one gives the tree back, listed here first.
            if self.zfs.inherit_tree_by_program(top, name)? {
                return Ok(());
            }
            let tree = self.zfs.list(
                top,
                DatasetTypes::FILESYSTEM | DatasetTypes::VOLUME | DatasetTypes::SNAPSHOT,
            )?;
            let changes: Vec<UserPropertyChange> = tree
                .iter()
                .map(|l| UserPropertyChange::inherit(&l.name, name))
                .collect();
            return self
                .zfs
                .change_user_properties(&changes, &PropertyBatchOptions::new())
                .map_err(|e| e.with_operation(op));
        }
        one(self)?;
        let Some(top) = self.name.as_dataset().filter(|_| opts.recursive) else {
            return Ok(()); // not recursive, or a snapshot
        };
        let applies = |kind: DatasetType| {
            if native == sys::zfs_prop_t::ZPROP_INVAL {
                return true; // a user property applies to every type
            }
            let ty = match kind {
                DatasetType::Volume => sys::zfs_type_t::ZFS_TYPE_VOLUME,
                DatasetType::Snapshot => sys::zfs_type_t::ZFS_TYPE_SNAPSHOT,
                _ => sys::zfs_type_t::ZFS_TYPE_FILESYSTEM,
            };
            // SAFETY: a table lookup with a valid property and type.
            let ok =
                unsafe { sys::zfs_prop_valid_for_type(native.0 as _, ty, sys::boolean_t::B_FALSE) };
            ok != sys::boolean_t::B_FALSE
        };
        let below = self.zfs.list(
            top,
            DatasetTypes::FILESYSTEM | DatasetTypes::VOLUME | DatasetTypes::SNAPSHOT,
        )?;
        for child in below {
            if child.name != self.name && applies(child.kind) {
                one(&self.zfs.dataset(&child.name)?)?;
            }
        }
        Ok(())
    }

    /// A numeric property, as `zfs get -Hp -o value NAME DATASET` prints it.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidProperty`] if it is unknown or not a number.
    pub fn property_u64(&self, name: &str) -> Result<u64> {
        self.property(name)?.require_u64(name)
    }

    fn property_on(&self, name: &str) -> Result<bool> {
        Ok(self.property(name)?.value == "on")
    }

    /// The `mountpoint` property (`zfs get mountpoint`).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidProperty`] for volumes and snapshots.
    pub fn mountpoint(&self) -> Result<Mountpoint> {
        Ok(match self.property("mountpoint")?.value.as_str() {
            "none" => Mountpoint::None,
            "legacy" => Mountpoint::Legacy,
            path => Mountpoint::Path(PathBuf::from(path)),
        })
    }

    /// The `canmount` property (`zfs get canmount`).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidProperty`] for volumes and snapshots.
    pub fn canmount(&self) -> Result<CanMount> {
        let v = self.property("canmount")?.value;
        Ok(match v.as_str() {
            "on" => CanMount::On,
            "off" => CanMount::Off,
            "noauto" => CanMount::NoAuto,
            _ => return Err(unknown_value("canmount", self.name.as_str(), &v)),
        })
    }

    /// The `compression` property (`off`, `lz4`, `zstd`, `zstd-3`, ...; `zfs get compression`).
    ///
    /// # Errors
    /// As [`Dataset::property`].
    pub fn compression(&self) -> Result<String> {
        Ok(self.property("compression")?.value)
    }

    /// The `readonly` property (`zfs get readonly`).
    ///
    /// # Errors
    /// As [`Dataset::property`].
    pub fn readonly(&self) -> Result<bool> {
        self.property_on("readonly")
    }

    /// The `atime` property (`zfs get atime`).
    ///
    /// # Errors
    /// As [`Dataset::property`].
    pub fn atime(&self) -> Result<bool> {
        self.property_on("atime")
    }

    /// The `used` property, in bytes (`zfs get -p used`).
    ///
    /// # Errors
    /// As [`Dataset::property`].
    pub fn used(&self) -> Result<u64> {
        self.property_u64("used")
    }

    /// The `available` property, in bytes (`zfs get -p available`).
    ///
    /// # Errors
    /// As [`Dataset::property`].
    pub fn available(&self) -> Result<u64> {
        self.property_u64("available")
    }

    /// The `referenced` property, in bytes (`zfs get -p referenced`).
    ///
    /// # Errors
    /// As [`Dataset::property`].
    pub fn referenced(&self) -> Result<u64> {
        self.property_u64("referenced")
    }

    /// The `creation` property, in seconds since the epoch (`zfs get -p creation`).
    ///
    /// # Errors
    /// As [`Dataset::property`].
    pub fn creation(&self) -> Result<u64> {
        self.property_u64("creation")
    }

    /// The `quota` property in bytes, `None` when unlimited (`zfs get -p quota`).
    ///
    /// # Errors
    /// As [`Dataset::property`].
    pub fn quota(&self) -> Result<Option<u64>> {
        Ok(Some(self.property_u64("quota")?).filter(|&q| q != 0))
    }

    /// The `reservation` property in bytes, `None` when unset (`zfs get -p reservation`).
    ///
    /// # Errors
    /// As [`Dataset::property`].
    pub fn reservation(&self) -> Result<Option<u64>> {
        Ok(Some(self.property_u64("reservation")?).filter(|&q| q != 0))
    }

    /// The `recordsize` property, in bytes (`zfs get -p recordsize`).
    ///
    /// # Errors
    /// As [`Dataset::property`].
    pub fn recordsize(&self) -> Result<u64> {
        self.property_u64("recordsize")
    }
}

/// Whether the kernel sets `property` through the filesystem's objset (owning it when the
/// filesystem is not mounted): the space quotas per user, group and project, and `version`.
fn sets_through_objset(property: &str) -> bool {
    property == "version"
        || [
            "userquota@",
            "groupquota@",
            "projectquota@",
            "userobjquota@",
            "groupobjquota@",
            "projectobjquota@",
        ]
        .iter()
        .any(|prefix| property.starts_with(prefix))
}

/// libzfs reports bad properties under several codes; callers match on one kind.
fn property_error(e: Error) -> Error {
    match e.kind() {
        ErrorKind::InvalidArgument | ErrorKind::Other | ErrorKind::NotSupported => {
            e.with_kind(ErrorKind::InvalidProperty)
        }
        _ => e,
    }
}

fn text(buf: &[c_char]) -> String {
    // SAFETY: libzfs NUL-terminates what it writes; the buffer starts zeroed.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_quotas_and_version_are_set_through_the_objset() {
        for p in [
            "userquota@1234",
            "groupobjquota@wheel",
            "projectquota@77",
            "version",
        ] {
            assert!(sets_through_objset(p), "{p}");
        }
        for p in [
            "quota",
            "refquota",
            "userused@1234",
            "compression",
            "org.example:version",
        ] {
            assert!(!sets_through_objset(p), "{p}");
        }
    }
}
