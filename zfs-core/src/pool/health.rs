//! What `zpool status` says of a pool or vdev, as enums: its health and a vdev's type.

use std::fmt;

/// The health of a pool or vdev, as `zpool status` and `zpool list` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Health {
    /// `ONLINE`: working normally.
    Online,
    /// `DEGRADED`: working, with less redundancy than configured.
    Degraded,
    /// `FAULTED`: too many errors, or corrupt data; not used.
    Faulted,
    /// `OFFLINE`: taken offline by the administrator (`zpool offline`).
    Offline,
    /// `UNAVAIL`: cannot be opened.
    Unavail,
    /// `REMOVED`: physically removed while the pool ran.
    Removed,
    /// `SPLIT`: left behind by `zpool split`.
    Split,
    /// `SUSPENDED`: the pool stopped I/O after a failure (`failmode=wait`).
    Suspended,
    /// `AVAIL`: a hot spare ready for use (spares only).
    Available,
    /// `INUSE`: a hot spare standing in for a failed device (spares only).
    InUse,
    /// `UNKNOWN`: the kernel has no state for it.
    Unknown,
}

impl Health {
    const ALL: [(Health, &'static str); 11] = [
        (Health::Online, "ONLINE"),
        (Health::Degraded, "DEGRADED"),
        (Health::Faulted, "FAULTED"),
        (Health::Offline, "OFFLINE"),
        (Health::Unavail, "UNAVAIL"),
        (Health::Removed, "REMOVED"),
        (Health::Split, "SPLIT"),
        (Health::Suspended, "SUSPENDED"),
        (Health::Available, "AVAIL"),
        (Health::InUse, "INUSE"),
        (Health::Unknown, "UNKNOWN"),
    ];

    /// The word `zpool status` prints.
    pub fn as_str(self) -> &'static str {
        Health::ALL
            .iter()
            .find(|(h, _)| *h == self)
            .map(|(_, s)| *s)
            .expect("every variant is in the table")
    }

    /// The state `zpool status` prints as `name`; `None` for a word it never prints.
    pub fn from_name(name: &str) -> Option<Health> {
        Health::ALL
            .iter()
            .find(|(_, s)| *s == name)
            .map(|(h, _)| *h)
    }

    /// A word of `zpool_state_to_name`, whose table [`Health`] mirrors; `Unknown` (its own
    /// word for a state it cannot name) for any other.
    pub(crate) fn from_libzfs(word: &str) -> Health {
        Health::from_name(word).unwrap_or(Health::Unknown)
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a vdev is: the `type` of its entry in the pool's configuration (`zdb -C`), which
/// `zpool status` names vdevs after (`mirror-0`, `raidz2-1`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VdevKind {
    /// The root of the tree (named after the pool).
    Root,
    /// A mirror.
    Mirror,
    /// RAID-Z with this many parity disks (1 to 3).
    Raidz(u64),
    /// dRAID.
    Draid,
    /// A distributed spare of a dRAID vdev.
    DraidSpare,
    /// A block device.
    Disk,
    /// A file.
    File,
    /// A device being replaced and its replacement (`zpool replace`).
    Replacing,
    /// A device and the hot spare standing in for it.
    Spare,
    /// A device missing from the configuration.
    Missing,
    /// A hole left by a removed log device (in the configuration only: [`Pool::status`]
    /// skips holes, as `zpool status` does).
    ///
    /// [`Pool::status`]: crate::Pool::status
    Hole,
    /// A removed top-level vdev whose data was remapped (`zpool remove`).
    Indirect,
    /// A type this release of zfs-core does not know, by its name.
    Other(String),
}

impl VdevKind {
    /// From the `type` (and `nparity`) of a configuration entry.
    pub(crate) fn from_config(kind: &str, nparity: Option<u64>) -> VdevKind {
        match kind {
            "root" => VdevKind::Root,
            "mirror" => VdevKind::Mirror,
            "raidz" => VdevKind::Raidz(nparity.unwrap_or(1)),
            "draid" => VdevKind::Draid,
            "dspare" => VdevKind::DraidSpare,
            "disk" => VdevKind::Disk,
            "file" => VdevKind::File,
            "replacing" => VdevKind::Replacing,
            "spare" => VdevKind::Spare,
            "missing" => VdevKind::Missing,
            "hole" => VdevKind::Hole,
            "indirect" => VdevKind::Indirect,
            other => VdevKind::Other(other.to_owned()),
        }
    }

    /// The type's name as the configuration spells it (`raidz` for every parity).
    pub fn as_str(&self) -> &str {
        match self {
            VdevKind::Root => "root",
            VdevKind::Mirror => "mirror",
            VdevKind::Raidz(_) => "raidz",
            VdevKind::Draid => "draid",
            VdevKind::DraidSpare => "dspare",
            VdevKind::Disk => "disk",
            VdevKind::File => "file",
            VdevKind::Replacing => "replacing",
            VdevKind::Spare => "spare",
            VdevKind::Missing => "missing",
            VdevKind::Hole => "hole",
            VdevKind::Indirect => "indirect",
            VdevKind::Other(s) => s,
        }
    }
}

impl fmt::Display for VdevKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_health_word_round_trips_and_unknown_words_are_none() {
        for (h, s) in Health::ALL {
            assert_eq!(h.as_str(), s);
            assert_eq!(Health::from_name(s), Some(h));
            assert_eq!(h.to_string(), s);
        }
        assert_eq!(Health::from_name("online"), None);
        assert_eq!(Health::from_name(""), None);
    }

    #[test]
    fn vdev_kinds_round_trip_and_unknown_types_keep_their_name() {
        for name in [
            "root",
            "mirror",
            "raidz",
            "draid",
            "dspare",
            "disk",
            "file",
            "replacing",
            "spare",
            "missing",
            "hole",
            "indirect",
        ] {
            let kind = VdevKind::from_config(name, Some(2));
            assert_eq!(kind.as_str(), name);
            assert!(!matches!(kind, VdevKind::Other(_)), "{name}");
        }
        assert_eq!(VdevKind::from_config("raidz", Some(3)), VdevKind::Raidz(3));
        assert_eq!(
            VdevKind::from_config("newtype", None),
            VdevKind::Other("newtype".into())
        );
    }
}
