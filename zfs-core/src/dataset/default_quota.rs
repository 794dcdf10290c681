//! Default quotas (OpenZFS 2.4): the quota every user, group or project gets on a filesystem
//! unless it has one of its own (`defaultuserquota`, `defaultuserobjquota` and their group
//! and project siblings), so a shared filesystem needs no quota per account.

use super::{Dataset, SpaceOwner};
use crate::{Error, ErrorKind, Result};

/// A default quota of one kind of owner: bytes and objects (files, directories, ...); `None`
/// is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct DefaultQuota {
    /// Bytes each owner may use (`defaultuserquota`).
    pub bytes: Option<u64>,
    /// Objects each owner may have (`defaultuserobjquota`).
    pub objects: Option<u64>,
}

/// The two properties of `owner`'s default quota: bytes, objects.
fn names(owner: SpaceOwner) -> [&'static str; 2] {
    match owner {
        SpaceOwner::User => ["defaultuserquota", "defaultuserobjquota"],
        SpaceOwner::Group => ["defaultgroupquota", "defaultgroupobjquota"],
        SpaceOwner::Project => ["defaultprojectquota", "defaultprojectobjquota"],
    }
}

impl Dataset<'_> {
    /// The default quota of users, groups or projects on this filesystem
    /// (`zfs get defaultuserquota,defaultuserobjquota`), OpenZFS 2.4 and later.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`] before OpenZFS 2.4.
    pub fn default_quota(&self, owner: SpaceOwner) -> Result<DefaultQuota> {
        supported(self, "get default quota")?;
        let [bytes, objects] = names(owner);
        let limit = |name: &str| -> Result<Option<u64>> {
            let v = self.property(name)?;
            Ok(match v.value.as_str() {
                "none" | "0" => None,
                _ => Some(v.require_u64(name)?),
            })
        };
        Ok(DefaultQuota {
            bytes: limit(bytes)?,
            objects: limit(objects)?,
        })
    }

    /// Sets the default quota of users, groups or projects on this filesystem, bytes and
    /// objects in one call (`zfs set defaultuserquota=B defaultuserobjquota=N`); `None` (or
    /// `Some(0)`, which the kernel reads as none) removes that limit. An owner's own quota
    /// (`userquota@ID`) still wins.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`] before OpenZFS 2.4; what [`Dataset::set_properties`]
    /// refuses otherwise (a volume or a snapshot has none, and is refused before anything is
    /// set).
    pub fn set_default_quota(&self, owner: SpaceOwner, quota: DefaultQuota) -> Result<()> {
        supported(self, "set default quota")?;
        let [bytes, objects] = names(owner);
        let value = |v: Option<u64>| v.map_or_else(|| "none".to_owned(), |n| n.to_string());
        let (b, o) = (value(quota.bytes), value(quota.objects));
        self.set_properties(&[(bytes, &b), (objects, &o)])
    }
}

/// Default quotas arrived with OpenZFS 2.4.
fn supported(dataset: &Dataset<'_>, op: &'static str) -> Result<()> {
    if cfg!(zfs_2_4) {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::NotSupported,
        op,
        dataset.name().as_str(),
        "default quotas need OpenZFS 2.4 or later",
    ))
}
