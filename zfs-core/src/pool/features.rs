//! Which features a new pool gets, as `zpool create` works it out from `-d`, the
//! `compatibility` property and `-o feature@NAME=enabled|disabled`.
//!
//! libzfs takes every `feature@` property it is handed as "enable", and does not restrict a
//! new pool to its `compatibility` set: the CLI does both before it calls libzfs. A boot pool
//! asked for as `compatibility=grub2` but given every feature cannot be read by GRUB.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{c_char, CStr, CString};

use libzfs_sys as sys;

use crate::{Error, ErrorKind, Result};

/// The names of the features to enable on a new pool.
///
/// - `supported`: what the module supports; `table`: every feature name by its index in
///   libzfs's table (for the compatibility files' answer);
/// - `all`: start from every supported feature (not `-d`);
/// - `pool_props`: the pool properties asked for, `feature@` ones and `compatibility` among them.
///
/// # Errors
/// [`ErrorKind::InvalidProperty`]: an unknown feature, a value other than `enabled` or
/// `disabled`, a feature enabled outside the compatibility set, or compatibility files that
/// cannot be read.
pub(super) fn features_to_enable(
    op: &'static str,
    pool: &str,
    supported: &[String],
    all: bool,
    pool_props: &[(String, String)],
) -> Result<Vec<String>> {
    let compat = pool_props
        .iter()
        .rev()
        .find(|(k, _)| k == "compatibility")
        .map(|(_, v)| v.as_str());
    let allowed = match compat {
        None => None,
        Some(value) => compatible_features(op, pool, value)?,
    };
    plan(
        op,
        pool,
        supported,
        all,
        allowed.as_ref(),
        compat,
        pool_props,
    )
}

/// [`features_to_enable`] once the compatibility set is known (`None`: no restriction).
fn plan(
    op: &'static str,
    pool: &str,
    supported: &[String],
    all: bool,
    allowed: Option<&BTreeSet<String>>,
    compat: Option<&str>,
    pool_props: &[(String, String)],
) -> Result<Vec<String>> {
    let bad = |why: String| Err(Error::new(ErrorKind::InvalidProperty, op, pool, why));
    // The last value given for a feature wins, as for every other property.
    let mut asked: BTreeMap<&str, bool> = BTreeMap::new();
    for (key, value) in pool_props {
        let Some(name) = key.strip_prefix("feature@") else {
            continue;
        };
        if !supported.iter().any(|s| s == name) {
            return bad(format!("unknown feature '{name}' (property '{key}')"));
        }
        let on = match value.as_str() {
            "enabled" => true,
            "disabled" => false,
            _ => {
                return bad(format!(
                    "property '{key}' can only be 'enabled' or 'disabled', not '{value}'"
                ))
            }
        };
        if on && allowed.is_some_and(|a| !a.contains(name)) {
            return bad(format!(
                "'{key}=enabled' is outside the features of 'compatibility={}'",
                compat.unwrap_or_default()
            ));
        }
        asked.insert(name, on);
    }
    Ok(supported
        .iter()
        .filter(|name| match asked.get(name.as_str()) {
            Some(on) => *on,
            None => all && allowed.is_none_or(|a| a.contains(name.as_str())),
        })
        .cloned()
        .collect())
}

/// The features that the `compatibility` value `value` allows (several file names separated
/// by commas, `legacy` for none), read by libzfs from the compatibility files as `zpool
/// create` reads them; `None` for `off` (no restriction).
fn compatible_features(
    op: &'static str,
    pool: &str,
    value: &str,
) -> Result<Option<BTreeSet<String>>> {
    if value == "off" {
        return Ok(None);
    }
    let bad = |why: String| Error::new(ErrorKind::InvalidProperty, op, pool, why);
    let cvalue =
        CString::new(value).map_err(|_| bad("compatibility contains a NUL byte".into()))?;
    let table = crate::handle::feature_table();
    // libzfs writes one flag per feature of its own table, which a newer library than the
    // headers we were built with makes longer: room to spare.
    let mut flags = vec![sys::boolean_t::B_FALSE; table.len() + 128];
    let mut report = vec![0 as c_char; 1024];
    let status = {
        let _tables = crate::handle::tables();
        // SAFETY: a NUL-terminated value; `flags` longer than the library's feature table,
        // `report` of its stated length.
        unsafe {
            sys::zpool_load_compat(
                cvalue.as_ptr(),
                flags.as_mut_ptr(),
                report.as_mut_ptr(),
                report.len(),
            )
        }
    };
    if status != sys::zpool_compat_status_t::ZPOOL_COMPATIBILITY_OK
        && status != sys::zpool_compat_status_t::ZPOOL_COMPATIBILITY_WARNTOKEN
    {
        // SAFETY: libzfs wrote a NUL-terminated report within the buffer (zeroed before).
        let text = unsafe { CStr::from_ptr(report.as_ptr()) }.to_string_lossy();
        return Err(bad(format!("compatibility '{value}': {}", text.trim())));
    }
    Ok(Some(
        table
            .iter()
            .zip(&flags)
            .filter(|(name, on)| !name.is_empty() && **on != sys::boolean_t::B_FALSE)
            .map(|(name, _)| name.clone())
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn props(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const OP: &str = "create pool";

    #[test]
    fn disabled_means_disabled_and_minus_d_starts_empty() {
        let sup = names(&["a", "b", "c"]);
        let p = props(&[("feature@b", "disabled")]);
        assert_eq!(
            plan(OP, "t", &sup, true, None, None, &p).unwrap(),
            names(&["a", "c"])
        );
        let p = props(&[("feature@a", "enabled"), ("feature@b", "disabled")]);
        assert_eq!(
            plan(OP, "t", &sup, false, None, None, &p).unwrap(),
            names(&["a"])
        );
        assert!(plan(OP, "t", &sup, false, None, None, &[])
            .unwrap()
            .is_empty());
        // The last value wins.
        let p = props(&[("feature@a", "disabled"), ("feature@a", "enabled")]);
        assert_eq!(
            plan(OP, "t", &sup, false, None, None, &p).unwrap(),
            names(&["a"])
        );
    }

    #[test]
    fn compatibility_restricts_and_a_contradiction_is_refused() {
        let sup = names(&["a", "b", "c"]);
        let allowed: BTreeSet<String> = names(&["a", "c", "z"]).into_iter().collect();
        let c = Some("grub2");
        assert_eq!(
            plan(OP, "t", &sup, true, Some(&allowed), c, &[]).unwrap(),
            names(&["a", "c"])
        );
        let p = props(&[("feature@c", "disabled")]);
        assert_eq!(
            plan(OP, "t", &sup, true, Some(&allowed), c, &p).unwrap(),
            names(&["a"])
        );
        let p = props(&[("feature@b", "enabled")]);
        let e = plan(OP, "t", &sup, true, Some(&allowed), c, &p).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidProperty);
        assert!(e.to_string().contains("compatibility=grub2"), "{e}");
        // Disabling a feature the set leaves out is no contradiction.
        let p = props(&[("feature@b", "disabled")]);
        assert!(plan(OP, "t", &sup, true, Some(&allowed), c, &p).is_ok());
    }

    #[test]
    fn unknown_features_and_values_are_refused() {
        let sup = names(&["a"]);
        for (k, v) in [
            ("feature@nope", "enabled"),
            ("feature@nope", "disabled"),
            ("feature@a", "active"),
            ("feature@a", "on"),
        ] {
            let e = plan(OP, "t", &sup, true, None, None, &props(&[(k, v)])).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidProperty, "{k}={v}");
        }
    }
}
