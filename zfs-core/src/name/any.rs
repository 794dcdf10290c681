//! Names of more than one kind: [`AnyName`] (what `zfs destroy` or `zfs list` may name),
//! [`IncrementalSource`] (what `zfs send -i` may name), and the [`ZfsName`] trait that lets
//! a call take any of the typed names without converting them.

use std::fmt;
use std::str::FromStr;

use super::{BookmarkName, DatasetName, SnapshotName};
use crate::{Error, Result};

/// A filesystem or volume, snapshot or bookmark name: what `zfs list`, `zfs destroy` or
/// `zfs rename` may be given, told apart by its delimiter (`@` snapshot, `#` bookmark).
/// Ordered by the text, as `zfs list` sorts names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AnyName {
    /// `tank/a`.
    Dataset(DatasetName),
    /// `tank/a@snap`.
    Snapshot(SnapshotName),
    /// `tank/a#mark`.
    Bookmark(BookmarkName),
}

impl AnyName {
    /// Parses and validates a name by the rules of the kind its delimiter says.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidName`](crate::ErrorKind::InvalidName), naming the rule broken.
    pub fn new(name: impl Into<String>) -> Result<AnyName> {
        let name = name.into();
        Ok(if name.contains('#') {
            AnyName::Bookmark(BookmarkName::new(name)?)
        } else if name.contains('@') {
            AnyName::Snapshot(SnapshotName::new(name)?)
        } else {
            AnyName::Dataset(DatasetName::new(name)?)
        })
    }

    /// For names that come from ZFS itself, which are valid by construction.
    pub(crate) fn trusted(name: String) -> AnyName {
        if name.contains('#') {
            AnyName::Bookmark(BookmarkName::trusted(name))
        } else if name.contains('@') {
            AnyName::Snapshot(SnapshotName::trusted(name))
        } else {
            AnyName::Dataset(DatasetName::trusted(name))
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        match self {
            AnyName::Dataset(n) => n.as_str(),
            AnyName::Snapshot(n) => n.as_str(),
            AnyName::Bookmark(n) => n.as_str(),
        }
    }

    /// The filesystem or volume it is, or that the snapshot or bookmark belongs to.
    pub fn dataset(&self) -> DatasetName {
        match self {
            AnyName::Dataset(n) => n.clone(),
            AnyName::Snapshot(n) => n.dataset(),
            AnyName::Bookmark(n) => n.dataset(),
        }
    }

    /// The filesystem or volume name, if it is one.
    pub fn as_dataset(&self) -> Option<&DatasetName> {
        match self {
            AnyName::Dataset(n) => Some(n),
            _ => None,
        }
    }

    /// The snapshot name, if it is one.
    pub fn as_snapshot(&self) -> Option<&SnapshotName> {
        match self {
            AnyName::Snapshot(n) => Some(n),
            _ => None,
        }
    }

    /// The bookmark name, if it is one.
    pub fn as_bookmark(&self) -> Option<&BookmarkName> {
        match self {
            AnyName::Bookmark(n) => Some(n),
            _ => None,
        }
    }
}

impl PartialOrd for AnyName {
    fn partial_cmp(&self, other: &AnyName) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for AnyName {
    fn cmp(&self, other: &AnyName) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl fmt::Display for AnyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AnyName {
    type Err = Error;
    fn from_str(s: &str) -> Result<AnyName> {
        AnyName::new(s)
    }
}

impl AsRef<str> for AnyName {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for AnyName {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for AnyName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<DatasetName> for AnyName {
    fn from(n: DatasetName) -> AnyName {
        AnyName::Dataset(n)
    }
}

impl From<SnapshotName> for AnyName {
    fn from(n: SnapshotName) -> AnyName {
        AnyName::Snapshot(n)
    }
}

impl From<BookmarkName> for AnyName {
    fn from(n: BookmarkName) -> AnyName {
        AnyName::Bookmark(n)
    }
}

/// The start of an incremental stream (`zfs send -i FROM`): an earlier snapshot, or a
/// bookmark of one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IncrementalSource {
    /// `tank/a@earlier`.
    Snapshot(SnapshotName),
    /// `tank/a#earlier`.
    Bookmark(BookmarkName),
}

impl IncrementalSource {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        match self {
            IncrementalSource::Snapshot(n) => n.as_str(),
            IncrementalSource::Bookmark(n) => n.as_str(),
        }
    }
}

impl fmt::Display for IncrementalSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<SnapshotName> for IncrementalSource {
    fn from(n: SnapshotName) -> IncrementalSource {
        IncrementalSource::Snapshot(n)
    }
}

impl From<BookmarkName> for IncrementalSource {
    fn from(n: BookmarkName) -> IncrementalSource {
        IncrementalSource::Bookmark(n)
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::DatasetName {}
    impl Sealed for super::SnapshotName {}
    impl Sealed for super::BookmarkName {}
    impl Sealed for super::AnyName {}
}

/// A validated name of a filesystem, volume, snapshot or bookmark: [`DatasetName`],
/// [`SnapshotName`], [`BookmarkName`] or [`AnyName`]. Calls that accept more than one kind
/// (`Zfs::destroy`, `Zfs::exists`, ...) take `&impl ZfsName`, so a typed name is passed as
/// it is. Sealed: only this crate's name types implement it.
pub trait ZfsName: sealed::Sealed + fmt::Display + fmt::Debug {
    /// The name as text.
    fn name(&self) -> &str;
    /// The name as an [`AnyName`].
    fn to_any(&self) -> AnyName;
}

/// A name [`Zfs::dataset`](crate::Zfs::dataset) can open: a [`DatasetName`], a
/// [`SnapshotName`], or an [`AnyName`], whose kind is known only at run time. Not a
/// [`BookmarkName`]: a bookmark has no handle, so that call does not compile.
pub trait OpenableName: ZfsName {}

impl OpenableName for DatasetName {}
impl OpenableName for SnapshotName {}
impl OpenableName for AnyName {}

impl ZfsName for DatasetName {
    fn name(&self) -> &str {
        self.as_str()
    }
    fn to_any(&self) -> AnyName {
        AnyName::Dataset(self.clone())
    }
}

impl ZfsName for SnapshotName {
    fn name(&self) -> &str {
        self.as_str()
    }
    fn to_any(&self) -> AnyName {
        AnyName::Snapshot(self.clone())
    }
}

impl ZfsName for BookmarkName {
    fn name(&self) -> &str {
        self.as_str()
    }
    fn to_any(&self) -> AnyName {
        AnyName::Bookmark(self.clone())
    }
}

impl ZfsName for AnyName {
    fn name(&self) -> &str {
        self.as_str()
    }
    fn to_any(&self) -> AnyName {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delimiter_decides_the_kind_and_its_rules() {
        assert!(matches!(AnyName::new("p/a").unwrap(), AnyName::Dataset(_)));
        assert!(matches!(
            AnyName::new("p/a@s").unwrap(),
            AnyName::Snapshot(_)
        ));
        assert!(matches!(
            AnyName::new("p/a#b").unwrap(),
            AnyName::Bookmark(_)
        ));
        assert_eq!(AnyName::new("p/a@s").unwrap().dataset().as_str(), "p/a");
        assert_eq!(AnyName::new("p/a#b").unwrap().dataset().as_str(), "p/a");
        for bad in ["", "p/a@", "p/a#", "p/a@s@t", "p/a@s#b", "/p", "p//a"] {
            assert!(AnyName::new(bad).is_err(), "{bad:?}");
        }
        let any: AnyName = "p/a@s".parse().unwrap();
        assert_eq!(any, "p/a@s");
        assert_eq!(any.as_snapshot().unwrap().short_name(), "s");
        assert!(any.as_dataset().is_none() && any.as_bookmark().is_none());
        assert_eq!(any.to_any(), any);
        // Sorted by text, as `zfs list` sorts, whatever the kind.
        let mut names: Vec<AnyName> = ["p/b", "p/a@s", "p/a", "p/a#m"]
            .iter()
            .map(|n| AnyName::new(*n).unwrap())
            .collect();
        names.sort();
        let text: Vec<&str> = names.iter().map(AnyName::as_str).collect();
        assert_eq!(text, ["p/a", "p/a#m", "p/a@s", "p/b"]);
    }

    #[test]
    fn every_typed_name_converts_and_reads_the_same_through_zfs_name() {
        let fs = DatasetName::new("p/a").unwrap();
        let snap = SnapshotName::new("p/a@s").unwrap();
        let mark = BookmarkName::new("p/a#m").unwrap();
        let all: [(&dyn ZfsName, AnyName); 3] = [
            (&fs, AnyName::from(fs.clone())),
            (&snap, AnyName::from(snap.clone())),
            (&mark, AnyName::from(mark.clone())),
        ];
        for (typed, any) in all {
            assert_eq!(typed.name(), any.as_str());
            assert_eq!(typed.to_any(), any);
            assert_eq!(any.name(), typed.name());
            assert_eq!(any.to_string(), typed.to_string());
            assert_eq!(AsRef::<str>::as_ref(&any), typed.name());
            assert!(any == *typed.name());
            assert_eq!(any.dataset(), fs);
        }
        let any = AnyName::from(fs.clone());
        assert_eq!(any.as_dataset(), Some(&fs));
        assert!(any.as_snapshot().is_none() && any.as_bookmark().is_none());
        assert_eq!(AnyName::from(mark.clone()).as_bookmark(), Some(&mark));

        let from_snap = IncrementalSource::from(snap.clone());
        let from_mark = IncrementalSource::from(mark.clone());
        assert_eq!(from_snap.as_str(), "p/a@s");
        assert_eq!(from_mark.to_string(), "p/a#m");
        assert_ne!(from_snap, from_mark);
    }
}
