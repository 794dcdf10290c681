//! [`Errno`]: OS error numbers and ZFS's own (`ZFS_ERR_*`, 1024 and up), each with a name, a
//! description and the [`ErrorKind`] it falls under.

use std::fmt;

use super::{ErrorKind, Reason};

/// An OS error number with its symbolic name, e.g. `ENOENT`; or one of ZFS's own error
/// numbers (`ZFS_ERR_*`, from 1024 on), which the kernel returns where no OS number fits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

/// ZFS's own error numbers (`zfs_errno_t`): the enum only ever grows, from 1024 on, so each
/// number means the same in every release; those a release does not know it never returns.
/// Name, what it means, its kind, and its exact reason.
pub(crate) const ZFS_ERRNOS: &[(i32, &str, &str, ErrorKind, Reason)] = {
    use ErrorKind as K;
    use Reason as R;
    &[
        (
            1024,
            "ZFS_ERR_CHECKPOINT_EXISTS",
            "pool already has a checkpoint",
            K::AlreadyExists,
            R::CheckpointExists,
        ),
        (
            1025,
            "ZFS_ERR_DISCARDING_CHECKPOINT",
            "the pool's checkpoint is being discarded",
            K::Busy,
            R::CheckpointDiscarding,
        ),
        (
            1026,
            "ZFS_ERR_NO_CHECKPOINT",
            "pool has no checkpoint",
            K::NotFound,
            R::CheckpointNotFound,
        ),
        (
            1027,
            "ZFS_ERR_DEVRM_IN_PROGRESS",
            "a device removal is in progress",
            K::Busy,
            R::DeviceRemovalRunning,
        ),
        (
            1028,
            "ZFS_ERR_VDEV_TOO_BIG",
            "a device is too big",
            K::InvalidArgument,
            R::DeviceTooBig,
        ),
        (
            1029,
            "ZFS_ERR_IOC_CMD_UNAVAIL",
            "the kernel module does not have this operation",
            K::NotSupported,
            R::ModuleTooOld,
        ),
        (
            1030,
            "ZFS_ERR_IOC_ARG_UNAVAIL",
            "the kernel module does not take an argument given",
            K::NotSupported,
            R::ModuleTooOld,
        ),
        (
            1031,
            "ZFS_ERR_IOC_ARG_REQUIRED",
            "the kernel module needs an argument not given",
            K::NotSupported,
            R::ModuleTooOld,
        ),
        (
            1032,
            "ZFS_ERR_IOC_ARG_BADTYPE",
            "the kernel module takes an argument of another type",
            K::NotSupported,
            R::ModuleTooOld,
        ),
        (
            1033,
            "ZFS_ERR_WRONG_PARENT",
            "the parent is not a filesystem",
            K::InvalidArgument,
            R::WrongParent,
        ),
        (
            1034,
            "ZFS_ERR_FROM_IVSET_GUID_MISSING",
            "the incremental source has no IV set GUID (raw send)",
            K::InvalidArgument,
            R::IvsetGuidMissing,
        ),
        (
            1035,
            "ZFS_ERR_FROM_IVSET_GUID_MISMATCH",
            "the incremental source's IV set GUID differs (raw send)",
            K::InvalidArgument,
            R::IvsetGuidMismatch,
        ),
        (
            1036,
            "ZFS_ERR_SPILL_BLOCK_FLAG_MISSING",
            "the stream lacks the spill block flag",
            K::InvalidArgument,
            R::BadStream,
        ),
        (
            1037,
            "ZFS_ERR_UNKNOWN_SEND_STREAM_FEATURE",
            "the stream uses a feature this module does not know",
            K::NotSupported,
            R::StreamFeatureNotSupported,
        ),
        (
            1038,
            "ZFS_ERR_EXPORT_IN_PROGRESS",
            "the pool is being exported",
            K::Busy,
            R::ExportRunning,
        ),
        (
            1039,
            "ZFS_ERR_BOOKMARK_SOURCE_NOT_ANCESTOR",
            "the bookmark's source is not an ancestor of its dataset",
            K::InvalidArgument,
            R::BookmarkSourceNotAncestor,
        ),
        (
            1040,
            "ZFS_ERR_STREAM_TRUNCATED",
            "the stream ends early",
            K::InvalidArgument,
            R::StreamTruncated,
        ),
        (
            1041,
            "ZFS_ERR_STREAM_LARGE_BLOCK_MISMATCH",
            "the stream's large blocks need the large-block flag",
            K::InvalidArgument,
            R::StreamLargeBlockMismatch,
        ),
        (
            1042,
            "ZFS_ERR_RESILVER_IN_PROGRESS",
            "a resilver is in progress",
            K::Busy,
            R::ResilverRunning,
        ),
        (
            1043,
            "ZFS_ERR_REBUILD_IN_PROGRESS",
            "a rebuild is in progress",
            K::Busy,
            R::ResilverRunning,
        ),
        (
            1044,
            "ZFS_ERR_BADPROP",
            "a property or value is invalid",
            K::InvalidProperty,
            R::PropertyInvalid,
        ),
        (
            1045,
            "ZFS_ERR_VDEV_NOTSUP",
            "the operation does not apply to this kind of device",
            K::NotSupported,
            R::DeviceNotSupported,
        ),
        (
            1046,
            "ZFS_ERR_NOT_USER_NAMESPACE",
            "the process is not in the dataset's user namespace",
            K::PermissionDenied,
            R::NotUserNamespace,
        ),
        (
            1047,
            "ZFS_ERR_RESUME_EXISTS",
            "a resumable receive exists; resume or abort it first",
            K::AlreadyExists,
            R::ResumableReceiveExists,
        ),
        (
            1048,
            "ZFS_ERR_CRYPTO_NOTSUP",
            "this encryption is not supported here",
            K::NotSupported,
            R::EncryptionNotSupported,
        ),
        (
            1049,
            "ZFS_ERR_RAIDZ_EXPAND_IN_PROGRESS",
            "a raidz expansion is in progress",
            K::Busy,
            R::RaidzExpansionRunning,
        ),
        (
            1050,
            "ZFS_ERR_ASHIFT_MISMATCH",
            "the device's ashift does not match the pool's",
            K::InvalidArgument,
            R::AshiftMismatch,
        ),
        (
            1051,
            "ZFS_ERR_STREAM_LARGE_MICROZAP",
            "the stream has large microzaps, which this pool does not enable",
            K::NotSupported,
            R::StreamFeatureNotSupported,
        ),
    ]
};

/// The first of ZFS's own error numbers.
pub(crate) const ZFS_ERRNO_BASE: i32 = 1024;

/// ECKSUM in ZFS is EBADE on Linux; ETIME ends a channel program's time.
const ECKSUM: i32 = libc::EBADE;

impl Errno {
    /// The symbolic name (`"EBUSY"`, `"ZFS_ERR_WRONG_PARENT"`), or `None` for numbers this
    /// crate does not name.
    pub fn name(self) -> Option<&'static str> {
        if let Some(z) = zfs_errno(self.0) {
            return Some(z.1);
        }
        Some(match self.0 {
            libc::EPERM => "EPERM",
            libc::ENOENT => "ENOENT",
            libc::ESRCH => "ESRCH",
            libc::EINTR => "EINTR",
            libc::EIO => "EIO",
            libc::ENXIO => "ENXIO",
            libc::E2BIG => "E2BIG",
            libc::EBADF => "EBADF",
            libc::EAGAIN => "EAGAIN",
            libc::ENOMEM => "ENOMEM",
            libc::EACCES => "EACCES",
            libc::EFAULT => "EFAULT",
            libc::EBUSY => "EBUSY",
            libc::EEXIST => "EEXIST",
            libc::EXDEV => "EXDEV",
            libc::ENODEV => "ENODEV",
            libc::ENOTDIR => "ENOTDIR",
            libc::EISDIR => "EISDIR",
            libc::EINVAL => "EINVAL",
            libc::ENFILE => "ENFILE",
            libc::EMFILE => "EMFILE",
            libc::ENOTTY => "ENOTTY",
            libc::ETXTBSY => "ETXTBSY",
            libc::EFBIG => "EFBIG",
            libc::ENOSPC => "ENOSPC",
            libc::ESPIPE => "ESPIPE",
            libc::EROFS => "EROFS",
            libc::EMLINK => "EMLINK",
            libc::EPIPE => "EPIPE",
            libc::EDOM => "EDOM",
            libc::ERANGE => "ERANGE",
            libc::EDEADLK => "EDEADLK",
            libc::ENAMETOOLONG => "ENAMETOOLONG",
            libc::ENOTEMPTY => "ENOTEMPTY",
            libc::ECHRNG => "ECHRNG",
            ECKSUM => "ECKSUM",
            libc::ETIME => "ETIME",
            libc::EOVERFLOW => "EOVERFLOW",
            libc::ENOTSUP => "ENOTSUP",
            libc::EDQUOT => "EDQUOT",
            libc::ECANCELED => "ECANCELED",
            _ => return None,
        })
    }

    /// The OS's description, e.g. "Device or resource busy"; for ZFS's own error numbers
    /// (1024 and up), ZFS's meaning.
    pub fn description(self) -> String {
        if let Some(z) = zfs_errno(self.0) {
            return z.2.to_owned();
        }
        if self.0 == ECKSUM {
            return "checksum mismatch (a damaged stream or block)".to_owned();
        }
        if self.0 >= ZFS_ERRNO_BASE {
            return format!("ZFS error {} (newer than this crate)", self.0);
        }
        let text = std::io::Error::from_raw_os_error(self.0).to_string();
        // std appends " (os error N)"; the number is shown separately.
        match text.rfind(" (os error") {
            Some(at) => text[..at].to_owned(),
            None => text,
        }
    }

    /// What ZFS means by this number where it always means one thing ([`Reason`]); `None`
    /// where the meaning depends on the call (then the call names it, if it can).
    pub fn reason(self) -> Option<Reason> {
        if let Some(z) = zfs_errno(self.0) {
            return Some(z.4);
        }
        Some(match self.0 {
            libc::EDQUOT => Reason::QuotaExceeded,
            libc::ENOSPC => Reason::NoSpace,
            libc::EROFS => Reason::ReadOnlyPool,
            libc::ENAMETOOLONG => Reason::NameTooLong,
            libc::EAGAIN => Reason::PoolSuspended,
            libc::ETXTBSY => Reason::DestinationModified,
            ECKSUM => Reason::BadStream,
            libc::EIO => Reason::IoError,
            _ => return None,
        })
    }
}

fn zfs_errno(n: i32) -> Option<&'static (i32, &'static str, &'static str, ErrorKind, Reason)> {
    ZFS_ERRNOS.iter().find(|z| z.0 == n)
}

/// The kind every error number falls under; [`ErrorKind::Other`] only for numbers no ZFS call
/// returns.
pub(crate) fn kind_from_errno(errno: i32) -> ErrorKind {
    if let Some(z) = zfs_errno(errno) {
        return z.3;
    }
    match errno {
        libc::ENOENT | libc::ENXIO | libc::ESRCH => ErrorKind::NotFound,
        // ETXTBSY: a receive's destination changed since its last snapshot (zfs receive
        // documents it as "destination has been modified").
        libc::EEXIST | libc::ETXTBSY => ErrorKind::AlreadyExists,
        libc::EBUSY | libc::ENOTEMPTY | libc::EAGAIN | libc::EDEADLK => ErrorKind::Busy,
        libc::EPERM | libc::EACCES => ErrorKind::PermissionDenied,
        libc::ENOSPC | libc::EDQUOT | libc::EFBIG => ErrorKind::NoSpace,
        libc::ENAMETOOLONG => ErrorKind::InvalidName,
        libc::EROFS => ErrorKind::ReadOnly,
        libc::EOPNOTSUPP | libc::ENOTTY => ErrorKind::NotSupported,
        libc::EIO | libc::EPIPE => ErrorKind::Io,
        // ECKSUM: a damaged stream (receive) is a bad argument, as a garbage stream is.
        ECKSUM
        | libc::EINVAL
        | libc::EXDEV
        | libc::EDOM
        | libc::ERANGE
        | libc::EBADF
        | libc::E2BIG
        | libc::ENOTDIR
        | libc::EISDIR
        | libc::EFAULT
        | libc::ENODEV
        | libc::ESPIPE
        | libc::EMLINK => ErrorKind::InvalidArgument,
        libc::EOVERFLOW => ErrorKind::DeviceTooSmall,
        libc::ECHRNG => ErrorKind::ProgramRuntime,
        libc::ETIME => ErrorKind::InstructionLimit,
        _ => ErrorKind::Other,
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n}({})", self.0),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n}: {}", self.description()),
            None => write!(f, "errno {}: {}", self.0, self.description()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zfs_errnos_match_the_headers_numbers_and_are_all_named() {
        use libzfs_sys::zfs_errno_t as Z;
        // Spot checks against the headers this crate was built with (the enum only grows).
        for (z, name) in [
            (Z::ZFS_ERR_CHECKPOINT_EXISTS, "ZFS_ERR_CHECKPOINT_EXISTS"),
            (Z::ZFS_ERR_WRONG_PARENT, "ZFS_ERR_WRONG_PARENT"),
            (Z::ZFS_ERR_STREAM_TRUNCATED, "ZFS_ERR_STREAM_TRUNCATED"),
            (Z::ZFS_ERR_BADPROP, "ZFS_ERR_BADPROP"),
        ] {
            assert_eq!(Errno(z.0 as i32).name(), Some(name));
        }
        for (i, z) in ZFS_ERRNOS.iter().enumerate() {
            assert_eq!(z.0, ZFS_ERRNO_BASE + i as i32, "{} out of order", z.1);
            assert_ne!(z.3, ErrorKind::Other, "{}", z.1);
        }
    }

    #[test]
    fn no_errno_a_zfs_call_returns_is_other() {
        for e in [
            libc::ENOENT,
            libc::EEXIST,
            libc::EBUSY,
            libc::EINVAL,
            libc::EXDEV,
            libc::ENODEV,
            libc::ETXTBSY,
            ECKSUM,
            libc::EDQUOT,
            libc::ENOSPC,
            libc::EAGAIN,
            libc::EROFS,
            libc::ENOTSUP,
            libc::EACCES,
            libc::EPERM,
            libc::ESRCH,
            libc::ENAMETOOLONG,
            libc::E2BIG,
            libc::EBADF,
            libc::EIO,
            libc::EPIPE,
            libc::ENOTEMPTY,
            libc::ECHRNG,
            libc::ETIME,
            libc::EOVERFLOW,
            libc::EDOM,
            libc::ERANGE,
            libc::ENXIO,
        ] {
            assert_ne!(kind_from_errno(e), ErrorKind::Other, "{:?}", Errno(e));
            assert!(Errno(e).name().is_some(), "{e}");
        }
        assert_eq!(Errno(1039).to_string(), "ZFS_ERR_BOOKMARK_SOURCE_NOT_ANCESTOR: the bookmark's source is not an ancestor of its dataset");
        assert_eq!(kind_from_errno(libc::ETXTBSY), ErrorKind::AlreadyExists);
        assert_eq!(
            Errno(libc::ETXTBSY).reason(),
            Some(Reason::DestinationModified)
        );
    }
}

#[cfg(test)]
mod more_tests {
    use super::*;

    #[test]
    fn every_named_errno_reads_back_by_name_and_describes_itself() {
        for n in 1..200 {
            let e = Errno(n);
            if let Some(name) = e.name() {
                assert!(name.starts_with('E'), "{n}: {name}");
                let shown = e.to_string();
                assert!(shown.starts_with(name), "{shown}");
                assert!(!e.description().is_empty());
                assert!(format!("{e:?}").starts_with(name));
            }
        }
        assert_eq!(format!("{:?}", Errno(100_000)), "Errno(100000)");
        assert!(Errno(100_000).to_string().starts_with("errno 100000"));
        assert!(Errno(2000).description().contains("newer than this crate"));
        assert_eq!(Errno(ECKSUM).name(), Some("ECKSUM"));
        assert!(Errno(ECKSUM).description().contains("checksum"));
    }

    #[test]
    fn every_reason_has_its_own_description() {
        let mut seen = std::collections::HashSet::new();
        for z in ZFS_ERRNOS {
            assert_eq!(Errno(z.0).reason(), Some(z.4));
            assert_eq!(z.4.to_string(), z.4.description());
            seen.insert(z.4.description());
        }
        for e in [
            libc::EDQUOT,
            libc::ENOSPC,
            libc::EROFS,
            libc::ENAMETOOLONG,
            libc::EAGAIN,
            libc::ETXTBSY,
            ECKSUM,
            libc::EIO,
        ] {
            let r = Errno(e).reason().unwrap();
            assert!(!r.description().is_empty());
            seen.insert(r.description());
        }
        assert_eq!(
            Errno(libc::EINVAL).reason(),
            None,
            "EINVAL means different things"
        );
        assert!(seen.len() > 25);
    }
}
