//! Several pool properties set in one call, all or nothing.

use std::ffi::CString;

use libzfs_sys as sys;

use super::Pool;
use crate::property::PropSource;
use crate::{Error, ErrorKind, Result};

/// What kind of pool property a name is, for the checks made before anything changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Native,
    User,
    Feature,
}

impl Pool<'_> {
    /// Sets several pool properties (`zpool set` of each), all or nothing: every name is
    /// checked before anything changes (known, writable after creation, given once; a feature
    /// only as `enabled`), then the values are set in the order given, features last; when
    /// libzfs refuses a value, those set before it are put back to what they were (and so to
    /// their sources: the kernel derives a pool property's source from its value) and the
    /// error is that refusal.
    ///
    /// Why not one ioctl: the kernel would take the list in one transaction, but libzfs
    /// validates and converts pool properties one at a time (`zpool_set_prop`) and exports
    /// no validator for a list; going around it would skip its checks. Enabling a feature
    /// cannot be undone, which is why features go last: only a failure among the features
    /// themselves (the pool turning read-only between two) can leave one enabled.
    ///
    /// # Errors
    /// As [`Pool::set_property`], for the first property refused;
    /// [`ErrorKind::InvalidProperty`] before anything changes for an unknown or read-only
    /// name, one settable only at creation or import (`altroot`, `readonly`), a name given
    /// twice, or a feature set to anything but `enabled`. If putting a value back fails too,
    /// the error's message says which.
    #[doc(alias = "zpool_set_prop")]
    pub fn set_properties(&self, properties: &[(&str, &str)]) -> Result<()> {
        let op = "set properties";
        let mut kinds = Vec::with_capacity(properties.len());
        for (i, (name, value)) in properties.iter().enumerate() {
            let refuse = |why: String| Error::new(ErrorKind::InvalidProperty, op, *name, why);
            if properties[..i].iter().any(|(n, _)| n == name) {
                return Err(refuse(format!("property '{name}' is given twice")));
            }
            let kind = kind_of(name).map_err(refuse)?;
            if kind == Kind::Feature && *value != "enabled" {
                return Err(refuse(format!(
                    "property '{name}' can only be set to 'enabled' after the pool is created"
                )));
            }
            kinds.push(kind);
        }
        self.refresh().map_err(|e| e.with_operation(op))?;
        // What to put back: the value each had, read before any change.
        let mut before = Vec::with_capacity(properties.len());
        for ((name, _), kind) in properties.iter().zip(&kinds) {
            if *kind == Kind::Feature {
                before.push(String::new());
                continue;
            }
            let cname = CString::new(*name).expect("checked above");
            let old = self
                .cached_property(name, &cname)
                .map_err(|e| e.with_operation(op))?;
            // An unset string property (`-`, or a user property with no source) is put back by
            // setting it empty, which removes it.
            let unset = old.value == "-" || (kind == &Kind::User && old.source == PropSource::None);
            before.push(if unset { String::new() } else { old.value });
        }
        let order = (0..properties.len())
            .filter(|&i| kinds[i] != Kind::Feature)
            .chain((0..properties.len()).filter(|&i| kinds[i] == Kind::Feature));
        let mut done: Vec<usize> = Vec::new();
        for i in order {
            let (name, value) = properties[i];
            if let Err(e) = self.set_property(name, value) {
                let mut undo_failures = Vec::new();
                for &j in done.iter().rev() {
                    if kinds[j] == Kind::Feature {
                        continue;
                    }
                    if let Err(u) = self.set_property(properties[j].0, &before[j]) {
                        undo_failures.push(format!("{}: {}", properties[j].0, u.message()));
                    }
                }
                if undo_failures.is_empty() {
                    return Err(e);
                }
                let message = format!(
                    "{}; and could not put back {}",
                    e.message(),
                    undo_failures.join(", ")
                );
                return Err(e.with_message(message));
            }
            done.push(i);
        }
        Ok(())
    }
}

/// A name's kind, or why it cannot be set on an imported pool.
fn kind_of(name: &str) -> std::result::Result<Kind, String> {
    let Ok(cname) = CString::new(name) else {
        return Err("property name contains a NUL byte".into());
    };
    if let Some(feature) = name.strip_prefix("feature@") {
        if crate::handle::supported_features()
            .iter()
            .any(|f| f == feature)
        {
            return Ok(Kind::Feature);
        }
        return Err(format!("feature '{feature}' unsupported by this system"));
    }
    let _tables = crate::handle::tables();
    // SAFETY: NUL-terminated name; table lookups.
    if unsafe { sys::zfs_prop_user(cname.as_ptr()) } != sys::boolean_t::B_FALSE {
        return Ok(Kind::User);
    }
    // SAFETY: as above.
    let prop = unsafe { sys::zpool_name_to_prop(cname.as_ptr()) };
    if prop == sys::zpool_prop_t::ZPOOL_PROP_INVAL {
        return Err(format!("invalid pool property '{name}'"));
    }
    // SAFETY: a property number from the table.
    if unsafe { sys::zpool_prop_readonly(prop) } != sys::boolean_t::B_FALSE {
        return Err(format!("'{name}' is readonly"));
    }
    // SAFETY: as above.
    if unsafe { sys::zpool_prop_setonce(prop) } != sys::boolean_t::B_FALSE
        || prop == sys::zpool_prop_t::ZPOOL_PROP_ALTROOT
        || prop == sys::zpool_prop_t::ZPOOL_PROP_READONLY
    {
        return Err(format!(
            "property '{name}' can only be set at creation or import time"
        ));
    }
    Ok(Kind::Native)
}
