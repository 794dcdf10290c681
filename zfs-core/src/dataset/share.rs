//! Sharing filesystems over NFS and SMB (`zfs share`, `zfs unshare`), as their `sharenfs`
//! and `sharesmb` properties say. libzfs writes the system's export tables (for NFS,
//! `/etc/exports.d/zfs.exports`, then `exportfs`): the NFS or Samba server must be installed.

use super::Dataset;
use crate::{Error, ErrorKind, Result};

/// A file-sharing protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ShareProtocol {
    /// NFS (`sharenfs`).
    Nfs,
    /// SMB (`sharesmb`).
    Smb,
}

impl Dataset<'_> {
    /// Shares this mounted filesystem over `protocols` (all of them when empty) whose share
    /// property is not `off` (`zfs share [-a]`), and applies it to the system's export
    /// tables at once. A protocol whose property is `off` is skipped, as by the CLI.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] if it is not mounted; libzfs's error (kind
    /// [`ErrorKind::Other`]) when the share cannot be created, e.g. no NFS server is
    /// installed; [`ErrorKind::NotSupported`] before OpenZFS 2.2.
    #[doc(alias = "zfs_share")]
    pub fn share(&self, protocols: &[ShareProtocol]) -> Result<()> {
        if self.mounted_at().is_none() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "share",
                self.name.as_str(),
                "only a mounted filesystem can be shared",
            ));
        }
        imp::share(self, protocols)
    }

    /// Stops sharing this filesystem over `protocols` (all of them when empty), as
    /// `zfs unshare` does; a filesystem that is not shared is left as it is.
    ///
    /// # Errors
    /// libzfs's error when the export tables cannot be updated; [`ErrorKind::NotSupported`]
    /// before OpenZFS 2.2.
    #[doc(alias = "zfs_unshare")]
    pub fn unshare(&self, protocols: &[ShareProtocol]) -> Result<()> {
        imp::unshare(self, protocols)
    }

    /// Whether this filesystem is shared over any of `protocols` (all of them when empty),
    /// by the system's export tables.
    #[doc(alias = "zfs_is_shared")]
    pub fn shared(&self, protocols: &[ShareProtocol]) -> bool {
        imp::shared(self, protocols)
    }
}

#[cfg(zfs_2_2)]
mod imp {
    use libzfs_sys as sys;

    use super::ShareProtocol;
    use crate::dataset::Dataset;
    use crate::Result;

    /// `SA_NO_PROTOCOL` (-1), which ends a protocol list.
    const END: sys::sa_protocol = sys::sa_protocol(u32::MAX);

    /// The list libzfs takes: the protocols, then the end mark; all of them when empty.
    fn list(protocols: &[ShareProtocol]) -> Vec<sys::sa_protocol> {
        let all = [ShareProtocol::Nfs, ShareProtocol::Smb];
        let chosen = if protocols.is_empty() {
            &all[..]
        } else {
            protocols
        };
        chosen
            .iter()
            .map(|p| match p {
                ShareProtocol::Nfs => sys::sa_protocol::SA_PROTOCOL_NFS,
                ShareProtocol::Smb => sys::sa_protocol::SA_PROTOCOL_SMB,
            })
            .chain([END])
            .collect()
    }

    pub(super) fn share(ds: &Dataset<'_>, protocols: &[ShareProtocol]) -> Result<()> {
        let protos = list(protocols);
        ds.zfs().check("share", ds.name().as_str(), || {
            // SAFETY: live dataset handle; a protocol list ending in SA_NO_PROTOCOL.
            let rc = unsafe { sys::zfs_share(ds.raw().ptr(), protos.as_ptr()) };
            if rc == 0 {
                // SAFETY: as above; applies the staged shares.
                unsafe { sys::zfs_commit_shares(protos.as_ptr()) };
            }
            rc
        })
    }

    pub(super) fn unshare(ds: &Dataset<'_>, protocols: &[ShareProtocol]) -> Result<()> {
        let protos = list(protocols);
        ds.zfs().check("unshare", ds.name().as_str(), || {
            // SAFETY: live dataset handle; NULL: its own mountpoint; a terminated list.
            let rc = unsafe { sys::zfs_unshare(ds.raw().ptr(), std::ptr::null(), protos.as_ptr()) };
            if rc == 0 {
                // SAFETY: as above.
                unsafe { sys::zfs_commit_shares(protos.as_ptr()) };
            }
            rc
        })
    }

    pub(super) fn shared(ds: &Dataset<'_>, protocols: &[ShareProtocol]) -> bool {
        // libshare answers "shared" for NFS when no NFS server is installed (its error code
        // read as true); without one, nothing is shared over NFS.
        let nfs_server = std::path::Path::new("/usr/sbin/exportfs").exists();
        let all = [ShareProtocol::Nfs, ShareProtocol::Smb];
        let asked = if protocols.is_empty() {
            &all[..]
        } else {
            protocols
        };
        let usable: Vec<ShareProtocol> = asked
            .iter()
            .copied()
            .filter(|p| *p != ShareProtocol::Nfs || nfs_server)
            .collect();
        if usable.is_empty() {
            return false;
        }
        let protos = list(&usable);
        // SAFETY: live dataset handle; NULL: no path wanted back; a terminated list.
        let shared =
            unsafe { sys::zfs_is_shared(ds.raw().ptr(), std::ptr::null_mut(), protos.as_ptr()) };
        shared != sys::boolean_t::B_FALSE
    }
}

/// Before OpenZFS 2.2, libzfs's sharing calls had another shape; zfs-core does not wrap it.
#[cfg(not(zfs_2_2))]
mod imp {
    use super::ShareProtocol;
    use crate::dataset::Dataset;
    use crate::{Error, ErrorKind, Result};

    fn unsupported(ds: &Dataset<'_>, op: &'static str) -> Error {
        Error::new(
            ErrorKind::NotSupported,
            op,
            ds.name().as_str(),
            "sharing needs OpenZFS 2.2 or later",
        )
    }

    pub(super) fn share(ds: &Dataset<'_>, _: &[ShareProtocol]) -> Result<()> {
        Err(unsupported(ds, "share"))
    }

    pub(super) fn unshare(ds: &Dataset<'_>, _: &[ShareProtocol]) -> Result<()> {
        Err(unsupported(ds, "unshare"))
    }

    pub(super) fn shared(_: &Dataset<'_>, _: &[ShareProtocol]) -> bool {
        false
    }
}
