//! Delegated administration (`zfs allow`, `zfs unallow`): which users and groups may run
//! which `zfs` subcommands and set which properties on a dataset without being root.

use libzfs_sys as sys;

use super::Dataset;
use crate::nvlist::{NvList, NvListRef};
use crate::{Error, ErrorKind, Result};

/// Who a permission is given to (`zfs allow -u`, `-g`, `-e`, `-c`, `-s`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Grantee {
    /// A user, by uid (`-u`).
    User(u32),
    /// A group, by gid (`-g`).
    Group(u32),
    /// Everyone (`-e`).
    Everyone,
    /// Whoever creates a descendant dataset, on that dataset (`-c`).
    Creator,
    /// A named set of permissions, `@name` (`-s @name`), that other grants can name.
    Set(String),
}

/// Where a grant applies (`zfs allow -l`, `-d`, or neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DelegationScope {
    /// On the dataset itself only (`-l`).
    Local,
    /// On its descendants only (`-d`).
    Descendants,
    /// On both (the default).
    LocalAndDescendants,
}

/// One grant as `zfs allow DATASET` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delegation {
    /// The dataset the grant is set on (this one or an ancestor, whose descendant grants
    /// reach here).
    pub on: String,
    /// To whom.
    pub grantee: Grantee,
    /// [`DelegationScope::Local`] or [`DelegationScope::Descendants`] (one entry each; both give two entries).
    pub scope: DelegationScope,
    /// Permission names (`create`, `snapshot`, property names, ...) and `@set` names, sorted.
    pub permissions: Vec<String>,
}

/// The key the kernel stores a grant under (`zfs_deleg_whokey`): type, scope, `$`, who.
/// Set names among permissions live under the type's upper-case letter.
fn who_key(grantee: &Grantee, scope: u8, sets: bool) -> String {
    let (kind, who) = match grantee {
        Grantee::User(uid) => (b'u', uid.to_string()),
        Grantee::Group(gid) => (b'g', gid.to_string()),
        Grantee::Everyone => (b'e', String::new()),
        Grantee::Creator => (b'c', String::new()),
        Grantee::Set(name) => (b's', name.clone()),
    };
    let kind = if sets {
        kind.to_ascii_uppercase()
    } else {
        kind
    };
    // Creator and set grants have no scope of their own.
    let scope = if matches!(grantee, Grantee::Creator | Grantee::Set(_)) {
        b'-'
    } else {
        scope
    };
    format!("{}{}${who}", kind as char, scope as char)
}

/// The grantee and scope a stored key stands for; `None` for a key zfs-core cannot read.
fn parse_key(key: &str) -> Option<(Grantee, DelegationScope)> {
    let bytes = key.as_bytes();
    if bytes.len() < 3 || bytes[2] != b'$' {
        return None;
    }
    let who = &key[3..];
    let grantee = match bytes[0].to_ascii_lowercase() {
        b'u' => Grantee::User(who.parse().ok()?),
        b'g' => Grantee::Group(who.parse().ok()?),
        b'e' => Grantee::Everyone,
        b'c' => Grantee::Creator,
        b's' => Grantee::Set(who.to_owned()),
        _ => return None,
    };
    let scope = match bytes[1] {
        b'l' => DelegationScope::Local,
        b'd' => DelegationScope::Descendants,
        _ => DelegationScope::LocalAndDescendants,
    };
    Some((grantee, scope))
}

/// The request `zfs_set_fsacl` takes for a grant: per key, the permissions as flags. With
/// no permissions (only for unallow), each key maps to a bare flag: remove them all.
fn request(grantee: &Grantee, scope: DelegationScope, permissions: &[&str]) -> Result<NvList> {
    let op = "delegate";
    if let Grantee::Set(name) = grantee {
        if !name.starts_with('@') || name.len() < 2 || name.len() > 64 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                name.as_str(),
                "a permission set is named @NAME (at most 64 bytes)",
            ));
        }
    }
    for p in permissions {
        let ok = !p.is_empty()
            && p.len() <= 127
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"@:_-.".contains(&b));
        if !ok {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                *p,
                "not a permission name",
            ));
        }
    }
    let scopes: &[u8] = match scope {
        DelegationScope::Local => b"l",
        DelegationScope::Descendants => b"d",
        DelegationScope::LocalAndDescendants => b"ld",
    };
    let mut out = NvList::new();
    for &scope in scopes {
        for sets in [false, true] {
            let chosen: Vec<&str> = permissions
                .iter()
                .copied()
                .filter(|p| p.starts_with('@') == sets)
                .collect();
            let key = who_key(grantee, scope, sets);
            if permissions.is_empty() {
                out.insert_flag(&key)?;
            } else if !chosen.is_empty() {
                let mut perms = NvList::new();
                for p in chosen {
                    perms.insert_flag(p)?;
                }
                out.insert_list(&key, &perms)?;
            }
        }
    }
    Ok(out)
}

/// Every grant in what `zfs_get_fsacl` returns: dataset -> key -> permission flags.
fn parse_fsacl(list: &NvListRef) -> Vec<Delegation> {
    let mut out: Vec<Delegation> = Vec::new();
    for on in list.iter() {
        let Some(keys) = on.as_list() else { continue };
        for key in keys.iter() {
            let Some((grantee, scope)) = parse_key(&key.name()) else {
                continue;
            };
            let perms: Vec<String> = key
                .as_list()
                .map(|l| l.iter().map(|p| p.name().into_owned()).collect())
                .unwrap_or_default();
            let on = on.name().into_owned();
            match out
                .iter_mut()
                .find(|d| d.on == on && d.grantee == grantee && d.scope == scope)
            {
                Some(d) => d.permissions.extend(perms),
                None => out.push(Delegation {
                    on,
                    grantee,
                    scope,
                    permissions: perms,
                }),
            }
        }
    }
    for d in &mut out {
        d.permissions.sort();
    }
    out.sort_by(|a, b| (&a.on, &a.grantee, a.scope).cmp(&(&b.on, &b.grantee, b.scope)));
    out
}

impl Dataset<'_> {
    /// The grants that apply to this dataset (`zfs allow DATASET`): its own and those of
    /// its ancestors, each with the dataset it is set on.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the dataset is gone.
    #[doc(alias = "zfs_get_fsacl")]
    pub fn delegations(&self) -> Result<Vec<Delegation>> {
        let op = "read delegations of";
        let mut raw: *mut sys::nvlist_t = std::ptr::null_mut();
        self.zfs().check(op, self.name().as_str(), || {
            // SAFETY: live dataset handle; `raw` receives a list we own.
            unsafe { sys::zfs_get_fsacl(self.raw().ptr(), &mut raw) }
        })?;
        if raw.is_null() {
            return Ok(Vec::new());
        }
        // SAFETY: handed to us by zfs_get_fsacl; freed once when dropped.
        let list = unsafe { NvList::from_raw(raw) };
        Ok(parse_fsacl(&list))
    }

    /// Lets `grantee` use `permissions` here (`zfs allow [-l|-d] -u|-g|-e|-c|-s WHO PERMS
    /// DATASET`): subcommand names (`create`, `mount`, `snapshot`, `send`, ...), property
    /// names (`compression`, `userprop`, ...) and `@set` names. For [`Grantee::Set`], this
    /// defines the set. The kernel checks every name; nothing is granted if one is wrong.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for an unknown permission or a bad set name;
    /// [`ErrorKind::PermissionDenied`] if the caller may not delegate here.
    #[doc(alias = "zfs_set_fsacl")]
    pub fn allow(
        &self,
        grantee: &Grantee,
        scope: DelegationScope,
        permissions: &[&str],
    ) -> Result<()> {
        if permissions.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "delegate",
                self.name().as_str(),
                "no permissions given",
            ));
        }
        self.set_fsacl(false, &request(grantee, scope, permissions)?)
    }

    /// Takes `permissions` back from `grantee` (`zfs unallow`); with no permissions, every
    /// permission it has here in that scope.
    ///
    /// # Errors
    /// As [`Dataset::allow`]. Taking back what was not granted is not an error (as the CLI).
    #[doc(alias = "zfs_set_fsacl")]
    pub fn unallow(
        &self,
        grantee: &Grantee,
        scope: DelegationScope,
        permissions: &[&str],
    ) -> Result<()> {
        self.set_fsacl(true, &request(grantee, scope, permissions)?)
    }

    fn set_fsacl(&self, remove: bool, list: &NvList) -> Result<()> {
        let op = if remove {
            "take back delegation on"
        } else {
            "delegate on"
        };
        self.zfs()
            .check(op, self.name().as_str(), || {
                // SAFETY: live dataset handle; a live request list the call only reads.
                unsafe {
                    sys::zfs_set_fsacl(
                        self.raw().ptr(),
                        crate::handle::boolean(remove),
                        list.as_ptr(),
                    )
                }
            })
            .map_err(|e| match e.errno().map(|n| n.0) {
                Some(libc::EINVAL) => e.with_kind(ErrorKind::InvalidArgument),
                _ => e,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_built_and_read_as_the_kernel_stores_them() {
        assert_eq!(who_key(&Grantee::User(1000), b'l', false), "ul$1000");
        assert_eq!(who_key(&Grantee::Group(10), b'd', true), "Gd$10");
        assert_eq!(who_key(&Grantee::Everyone, b'l', false), "el$");
        assert_eq!(who_key(&Grantee::Creator, b'l', false), "c-$");
        assert_eq!(who_key(&Grantee::Set("@s".into()), b'd', false), "s-$@s");
        for (key, grantee, scope) in [
            ("ul$1000", Grantee::User(1000), DelegationScope::Local),
            ("Gd$10", Grantee::Group(10), DelegationScope::Descendants),
            (
                "c-$",
                Grantee::Creator,
                DelegationScope::LocalAndDescendants,
            ),
            (
                "s-$@s",
                Grantee::Set("@s".into()),
                DelegationScope::LocalAndDescendants,
            ),
        ] {
            assert_eq!(parse_key(key), Some((grantee, scope)), "{key}");
        }
        assert_eq!(parse_key("x"), None);
        assert_eq!(parse_key("ul$bob"), None);
    }

    #[test]
    fn a_request_splits_sets_from_permissions_and_scopes() {
        let r = request(
            &Grantee::User(7),
            DelegationScope::LocalAndDescendants,
            &["create", "@admin"],
        )
        .unwrap();
        let keys: Vec<String> = r.iter().map(|p| p.name().into_owned()).collect();
        assert_eq!(keys, ["ul$7", "Ul$7", "ud$7", "Ud$7"]);
        assert!(request(&Grantee::User(7), DelegationScope::Local, &["bad name"]).is_err());
        assert!(request(
            &Grantee::Set("noat".into()),
            DelegationScope::Local,
            &["create"]
        )
        .is_err());
        let all = request(&Grantee::Everyone, DelegationScope::Local, &[]).unwrap();
        assert!(all.iter().all(|p| p.as_list().is_none()));
    }
}
