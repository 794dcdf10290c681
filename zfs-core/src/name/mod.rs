//! Validated names: [`PoolName`], [`DatasetName`] (filesystems and volumes), [`SnapshotName`]
//! (`fs@snap`) and [`BookmarkName`] (`fs#mark`).
//!
//! Parsing is pure Rust and follows OpenZFS's rules (see [`NameRule`] for each one); a bad
//! name is refused with [`ErrorKind::InvalidName`] and the rule
//! it broke, before anything touches ZFS.

mod any;
mod rules;

use std::fmt;
use std::str::FromStr;

pub use any::{AnyName, IncrementalSource, OpenableName, ZfsName};
pub use rules::{NameRule, MAX_NAME_LEN, MAX_POOL_NAME_LEN};

use crate::{Error, ErrorKind, Result};

fn invalid(kind: &'static str, name: &str, rule: NameRule) -> Error {
    Error::new(ErrorKind::InvalidName, kind, name, rule.to_string()).with_name_rule(rule)
}

/// Shared impls for the name newtypes: `Display`, `FromStr`, `AsRef<str>`, `TryFrom`.
macro_rules! name_type {
    ($ty:ident, $what:literal, $check:expr) => {
        impl $ty {
            /// Parses and validates a name.
            ///
            /// # Errors
            /// [`ErrorKind::InvalidName`], with the rule broken
            /// available from [`Error::name_rule`](crate::Error::name_rule).
            pub fn new(name: impl Into<String>) -> Result<$ty> {
                let name = name.into();
                let check: fn(&str) -> std::result::Result<(), NameRule> = $check;
                match check(&name) {
                    Ok(()) => Ok($ty(name)),
                    Err(rule) => Err(invalid(concat!("use ", $what, " name"), &name, rule)),
                }
            }

            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// For names that come from ZFS itself, which are valid by construction.
            #[allow(dead_code)]
            pub(crate) fn trusted(name: String) -> $ty {
                $ty(name)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $ty {
            type Err = Error;
            fn from_str(s: &str) -> Result<$ty> {
                $ty::new(s)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = Error;
            fn try_from(s: &str) -> Result<$ty> {
                $ty::new(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = Error;
            fn try_from(s: String) -> Result<$ty> {
                $ty::new(s)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $ty {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

/// A pool name: `tank`, `zroot`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PoolName(String);
name_type!(PoolName, "pool", rules::check_pool);

/// A filesystem or volume name: `tank`, `tank/home/alice`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DatasetName(String);
name_type!(DatasetName, "dataset", rules::check_dataset);

/// A snapshot name: `tank/home@monday`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SnapshotName(String);
name_type!(SnapshotName, "snapshot", |n| rules::check_with_delimiter(
    n, b'@'
));

/// A bookmark name: `tank/home#monday`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BookmarkName(String);
name_type!(BookmarkName, "bookmark", |n| rules::check_with_delimiter(
    n, b'#'
));

impl PoolName {
    /// The pool's root dataset, which has the pool's name.
    pub fn root_dataset(&self) -> DatasetName {
        DatasetName(self.0.clone())
    }
}

impl DatasetName {
    /// The pool this dataset lives in.
    pub fn pool(&self) -> PoolName {
        PoolName(self.0.split('/').next().unwrap_or(&self.0).to_owned())
    }

    /// The parent dataset, or `None` for a pool's root dataset.
    pub fn parent(&self) -> Option<DatasetName> {
        self.0
            .rfind('/')
            .map(|i| DatasetName(self.0[..i].to_owned()))
    }

    /// `self/component`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidName`] if the result is not a valid
    /// dataset name (bad component, too long).
    pub fn child(&self, component: &str) -> Result<DatasetName> {
        DatasetName::new(format!("{}/{component}", self.0))
    }

    /// `self@snapshot`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidName`] for a bad or too long name.
    pub fn snapshot(&self, snapshot: &str) -> Result<SnapshotName> {
        SnapshotName::new(format!("{}@{snapshot}", self.0))
    }

    /// `self#bookmark`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidName`] for a bad or too long name.
    pub fn bookmark(&self, bookmark: &str) -> Result<BookmarkName> {
        BookmarkName::new(format!("{}#{bookmark}", self.0))
    }

    /// How many `/` separate this dataset from its pool's root (the root is 0).
    pub fn depth(&self) -> usize {
        self.0.bytes().filter(|&c| c == b'/').count()
    }

    /// Whether `self` is `other` or below it.
    pub fn is_within(&self, other: &DatasetName) -> bool {
        self.0 == other.0
            || (self.0.starts_with(&other.0) && self.0.as_bytes().get(other.0.len()) == Some(&b'/'))
    }
}

impl SnapshotName {
    /// The dataset the snapshot belongs to.
    pub fn dataset(&self) -> DatasetName {
        let at = self.0.find('@').expect("validated snapshot name has '@'");
        DatasetName(self.0[..at].to_owned())
    }

    /// The part after `@`.
    pub fn short_name(&self) -> &str {
        let at = self.0.find('@').expect("validated snapshot name has '@'");
        &self.0[at + 1..]
    }
}

impl BookmarkName {
    /// The dataset the bookmark belongs to.
    pub fn dataset(&self) -> DatasetName {
        let at = self.0.find('#').expect("validated bookmark name has '#'");
        DatasetName(self.0[..at].to_owned())
    }

    /// The part after `#`.
    pub fn short_name(&self) -> &str {
        let at = self.0.find('#').expect("validated bookmark name has '#'");
        &self.0[at + 1..]
    }
}

#[cfg(test)]
mod tests;

/// Checks a name given as text against the rules of what it says it is (a bookmark with `#`,
/// a snapshot with `@`, else a filesystem or volume), so a malformed name never reaches ZFS.
///
/// # Errors
/// [`ErrorKind::InvalidName`](crate::ErrorKind::InvalidName), naming the rule, with `op`.
pub(crate) fn check_any(op: &'static str, name: &str) -> Result<()> {
    let checked = if name.contains('#') {
        BookmarkName::new(name).map(drop)
    } else if name.contains('@') {
        SnapshotName::new(name).map(drop)
    } else {
        DatasetName::new(name).map(drop)
    };
    checked.map_err(|e| e.with_operation(op))
}
