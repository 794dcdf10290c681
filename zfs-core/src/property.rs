//! Property values with their source, shared by pools and datasets.

use std::fmt;

use libzfs_sys as sys;

/// Where a property's value comes from, as the SOURCE column of `zfs get` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PropSource {
    /// Set on this object (`local`).
    Local,
    /// The built-in default (`default`).
    Default,
    /// Inherited from the named ancestor (`inherited from X`).
    Inherited(String),
    /// Set by `zfs receive` (`received`).
    Received,
    /// A temporary mount option (`temporary`).
    Temporary,
    /// Read-only statistics and values with no source (`-`).
    None,
}

impl PropSource {
    pub(crate) fn from_raw(src: sys::zprop_source_t, inherited_from: Option<String>) -> PropSource {
        use sys::zprop_source_t as S;
        match src {
            S::ZPROP_SRC_LOCAL => PropSource::Local,
            S::ZPROP_SRC_DEFAULT => PropSource::Default,
            S::ZPROP_SRC_INHERITED => PropSource::Inherited(inherited_from.unwrap_or_default()),
            S::ZPROP_SRC_RECEIVED => PropSource::Received,
            S::ZPROP_SRC_TEMPORARY => PropSource::Temporary,
            _ => PropSource::None,
        }
    }
}

impl fmt::Display for PropSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PropSource::Local => f.write_str("local"),
            PropSource::Default => f.write_str("default"),
            PropSource::Inherited(from) => write!(f, "inherited from {from}"),
            PropSource::Received => f.write_str("received"),
            PropSource::Temporary => f.write_str("temporary"),
            PropSource::None => f.write_str("-"),
        }
    }
}

/// A property's value, as text the way the CLI prints it, and where it comes from: the VALUE
/// and SOURCE columns of `zfs get -p` (or `zpool get -p`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PropValue {
    /// The value. Numbers are exact (`1073741824`, not `1G`), like `zfs get -p`.
    pub value: String,
    /// Where it comes from.
    pub source: PropSource,
}

impl PropValue {
    /// The value as a number, for numeric properties.
    pub fn as_u64(&self) -> Option<u64> {
        self.value.parse().ok()
    }

    /// The value of property `name` as a number, or a typed error saying it is not one.
    pub(crate) fn require_u64(&self, name: &str) -> crate::Result<u64> {
        self.as_u64().ok_or_else(|| {
            let msg = format!("value '{}' is not a number", self.value);
            crate::Error::new(crate::ErrorKind::InvalidProperty, "get property", name, msg)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sys::zprop_source_t as S;

    #[test]
    fn sources_read_and_print_as_zfs_get_shows_them() {
        for (raw, from, want, shown) in [
            (S::ZPROP_SRC_LOCAL, None, PropSource::Local, "local"),
            (S::ZPROP_SRC_DEFAULT, None, PropSource::Default, "default"),
            (
                S::ZPROP_SRC_INHERITED,
                Some("tank/a".to_owned()),
                PropSource::Inherited("tank/a".into()),
                "inherited from tank/a",
            ),
            (
                S::ZPROP_SRC_RECEIVED,
                None,
                PropSource::Received,
                "received",
            ),
            (
                S::ZPROP_SRC_TEMPORARY,
                None,
                PropSource::Temporary,
                "temporary",
            ),
            (S::ZPROP_SRC_NONE, None, PropSource::None, "-"),
        ] {
            let got = PropSource::from_raw(raw, from);
            assert_eq!(got, want);
            assert_eq!(got.to_string(), shown);
        }
    }

    #[test]
    fn numbers_are_typed_errors_when_they_are_not() {
        let v = |s: &str| PropValue {
            value: s.into(),
            source: PropSource::None,
        };
        assert_eq!(v("1073741824").as_u64(), Some(1 << 30));
        assert_eq!(v("1G").as_u64(), None);
        assert_eq!(v("42").require_u64("used").unwrap(), 42);
        let e = v("lz4").require_u64("compression").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidProperty);
        assert!(e.to_string().contains("'lz4' is not a number"), "{e}");
    }
}
