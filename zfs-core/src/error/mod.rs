//! The crate's one error type: what failed, on which object, and why, in libzfs's own words.

use libzfs_sys as sys;

use crate::name::NameRule;

mod errno;
mod reason;

pub(crate) use errno::kind_from_errno;
pub use errno::Errno;
pub use reason::Reason;

/// A stable classification of failures that callers can match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The pool, dataset, device or file does not exist.
    NotFound,
    /// Something with that name exists already.
    AlreadyExists,
    /// The object is in use (mounted, held, imported, active).
    Busy,
    /// A name breaks the OpenZFS naming rules.
    InvalidName,
    /// An unknown property, a bad value, or a property that cannot be set there.
    InvalidProperty,
    /// Some other argument is invalid (a vdev layout, a path, a flag combination).
    InvalidArgument,
    /// Not root, or not allowed by delegation.
    PermissionDenied,
    /// The pool or device is out of space.
    NoSpace,
    /// A vdev is smaller than the 64 MiB OpenZFS requires.
    DeviceTooSmall,
    /// The pool or dataset is read-only.
    ReadOnly,
    /// The kernel module does not support the operation or a feature it needs.
    NotSupported,
    /// `/dev/zfs` is missing: the zfs kernel module is not loaded.
    ModuleNotLoaded,
    /// The kernel module, the libzfs found at run time and the headers this crate was built
    /// against are not the same OpenZFS release.
    VersionMismatch,
    /// An I/O error on a device.
    Io,
    /// A channel program does not parse.
    ProgramSyntax,
    /// A channel program failed while running (`error()` or a Lua error).
    ProgramRuntime,
    /// A channel program ran past its instruction limit.
    InstructionLimit,
    /// A channel program ran past its memory limit.
    MemoryLimit,
    /// The encryption key or passphrase given is not the dataset's.
    WrongKey,
    /// Anything else; see the message and codes.
    Other,
}

/// Everything that can go wrong, with what was being done and to what.
///
/// Displays like the `zfs`/`zpool` commands do: `cannot create 'tank': pool already exists`.
///
/// The details live behind one allocation so that `Result<T, Error>` stays small.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot {} '{}': {}", .0.operation, .0.object, .0.message)]
pub struct Error(Box<Inner>);

#[derive(Debug, Clone)]
struct Inner {
    kind: ErrorKind,
    operation: &'static str,
    object: String,
    message: String,
    errno: Option<Errno>,
    reason: Option<Reason>,
    libzfs_code: Option<i32>,
    name_rule: Option<NameRule>,
    failures: Vec<(String, Errno, Option<Reason>)>,
}

impl Error {
    /// An error found by this crate before calling into ZFS (validation).
    pub(crate) fn new(
        kind: ErrorKind,
        operation: &'static str,
        object: impl Into<String>,
        message: impl Into<String>,
    ) -> Error {
        Error(Box::new(Inner {
            kind,
            operation,
            object: object.into(),
            message: message.into(),
            errno: None,
            reason: None,
            libzfs_code: None,
            name_rule: None,
            failures: Vec::new(),
        }))
    }

    /// An error returned as an errno by libzfs_core or the OS.
    pub(crate) fn from_errno(
        operation: &'static str,
        object: impl Into<String>,
        errno: i32,
    ) -> Error {
        let errno = Errno(errno);
        Error(Box::new(Inner {
            kind: kind_from_errno(errno.0),
            operation,
            object: object.into(),
            message: errno.description().to_lowercase(),
            errno: Some(errno),
            reason: errno.reason(),
            libzfs_code: None,
            name_rule: None,
            failures: Vec::new(),
        }))
    }

    /// An error that libzfs recorded in its handle (`libzfs_errno`, `libzfs_error_description`).
    pub(crate) fn from_libzfs(
        operation: &'static str,
        object: impl Into<String>,
        code: sys::zfs_error_t,
        description: String,
        errno: i32,
    ) -> Error {
        Error(Box::new(Inner {
            kind: kind_from_libzfs(code, errno),
            operation,
            object: object.into(),
            message: description,
            errno: (errno != 0).then_some(Errno(errno)),
            // Not from errno: after a libzfs call it may be left over from an unrelated
            // syscall inside it.
            reason: reason_from_libzfs(code),
            libzfs_code: Some(code.0 as i32),
            name_rule: None,
            failures: Vec::new(),
        }))
    }

    /// An I/O error on a path (vdev files and the like). One made from an errno reads as
    /// that errno; one that carries its own words (a tool's standard error) keeps them.
    pub fn io(operation: &'static str, object: &str, e: &std::io::Error) -> Error {
        if let Some(errno) = e.raw_os_error() {
            return Error::from_errno(operation, object, errno);
        }
        let kind = match e.kind() {
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            std::io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
            std::io::ErrorKind::AlreadyExists => ErrorKind::AlreadyExists,
            std::io::ErrorKind::ResourceBusy => ErrorKind::Busy,
            _ => ErrorKind::Io,
        };
        Error::new(kind, operation, object, e.to_string())
    }

    /// A failure made on purpose by a test hook (fault injection in callers' all-or-nothing
    /// logic): kind [`ErrorKind::Other`], saying so in its message. Feature `testing` only.
    #[cfg(feature = "testing")]
    pub fn injected(object: &str) -> Error {
        Error::new(
            ErrorKind::Other,
            "run",
            object,
            "failure injected by a test hook",
        )
    }

    /// Overrides the kind where the caller knows better than the generic mapping.
    pub(crate) fn with_kind(mut self, kind: ErrorKind) -> Error {
        self.0.kind = kind;
        self
    }

    /// Names the exact reason where the call knows it (the same errno means different things
    /// to different calls); a batch's items that failed with the same errno get it too.
    pub(crate) fn with_reason(mut self, reason: Reason) -> Error {
        self.0.reason = Some(reason);
        let errno = self.0.errno;
        for item in self.0.failures.iter_mut().filter(|f| Some(f.1) == errno) {
            item.2 = Some(reason);
        }
        self
    }

    /// What each errno means to this call, for the error and for each item of a batch alike;
    /// where `reason_of` says nothing, the errno's own meaning stays.
    pub(crate) fn with_reasons(mut self, reason_of: impl Fn(i32) -> Option<Reason>) -> Error {
        if let Some(r) = self.0.errno.and_then(|n| reason_of(n.0)) {
            self.0.reason = Some(r);
        }
        for item in &mut self.0.failures {
            if let Some(r) = reason_of(item.1 .0) {
                item.2 = Some(r);
            }
        }
        self
    }

    /// Replaces the message where the caller knows the specifics.
    pub(crate) fn with_message(mut self, message: impl Into<String>) -> Error {
        self.0.message = message.into();
        self
    }

    /// Names the operation differently where a public call reuses another.
    pub(crate) fn with_operation(mut self, operation: &'static str) -> Error {
        self.0.operation = operation;
        self
    }

    /// Names another object where the call knows which of its arguments is at fault.
    pub(crate) fn with_object(mut self, object: impl Into<String>) -> Error {
        self.0.object = object.into();
        self
    }

    pub(crate) fn with_name_rule(mut self, rule: NameRule) -> Error {
        self.0.name_rule = Some(rule);
        self
    }

    /// For batch calls (several snapshots, holds, bookmarks in one atomic call): each item
    /// that failed, its errno and its [`Reason`] (as a single call's error would give it).
    /// Nothing in the batch was done.
    pub fn failures(&self) -> &[(String, Errno, Option<Reason>)] {
        &self.0.failures
    }

    /// Builds a batch error from libzfs_core's error list (`name -> errno`).
    pub(crate) fn from_batch(
        operation: &'static str,
        object: impl Into<String>,
        errno: i32,
        failures: Vec<(String, i32)>,
    ) -> Error {
        let mut e = Error::from_errno(operation, object, errno);
        if !failures.is_empty() {
            let listed: Vec<String> = failures
                .iter()
                .map(|(n, c)| format!("{n}: {}", Errno(*c).description().to_lowercase()))
                .collect();
            e.0.message = listed.join("; ");
            // One failure decides the kind better than the call's summary errno.
            e.0.kind = kind_from_errno(failures[0].1);
            e.0.errno = Some(Errno(failures[0].1));
            e.0.reason = Errno(failures[0].1).reason();
        }
        e.0.failures = failures
            .into_iter()
            .map(|(n, c)| (n, Errno(c), Errno(c).reason()))
            .collect();
        e
    }

    /// For [`ErrorKind::InvalidName`] errors found by this crate: the naming rule broken.
    pub fn name_rule(&self) -> Option<&NameRule> {
        self.0.name_rule.as_ref()
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// Exactly why, where ZFS or zfs-core can tell (see [`Reason`] for every case, and the
    /// table of pyzfs's exception classes against them).
    pub fn reason(&self) -> Option<Reason> {
        self.0.reason
    }

    /// The operation that failed, e.g. `"create pool"`.
    pub fn operation(&self) -> &str {
        self.0.operation
    }

    /// The name of the pool, dataset, device or property the operation was about.
    pub fn object(&self) -> &str {
        &self.0.object
    }

    /// The reason, in libzfs's words where libzfs gave one.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The OS error number, where the failure carried one.
    pub fn errno(&self) -> Option<Errno> {
        self.0.errno
    }

    /// libzfs's own error code (`EZFS_*`, see `libzfs_sys::zfs_error_t`), where libzfs
    /// reported the failure. The numbers differ between OpenZFS releases: compare with the
    /// constants, not with literals.
    pub fn libzfs_code(&self) -> Option<i32> {
        self.0.libzfs_code
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The reasons libzfs's own codes always mean.
fn reason_from_libzfs(code: sys::zfs_error_t) -> Option<Reason> {
    use sys::zfs_error_t as E;
    Some(match code {
        E::EZFS_BADPROP | E::EZFS_PROPTYPE | E::EZFS_POOLPROPS => Reason::PropertyInvalid,
        E::EZFS_NOSPC => Reason::NoSpace,
        E::EZFS_POOLREADONLY => Reason::ReadOnlyPool,
        E::EZFS_NAMETOOLONG => Reason::NameTooLong,
        E::EZFS_CHECKPOINT_EXISTS => Reason::CheckpointExists,
        E::EZFS_NO_CHECKPOINT => Reason::CheckpointNotFound,
        E::EZFS_DISCARDING_CHECKPOINT => Reason::CheckpointDiscarding,
        E::EZFS_DEVRM_IN_PROGRESS => Reason::DeviceRemovalRunning,
        E::EZFS_VDEV_TOO_BIG => Reason::DeviceTooBig,
        E::EZFS_RESILVERING | E::EZFS_REBUILDING => Reason::ResilverRunning,
        E::EZFS_EXPORT_IN_PROGRESS => Reason::ExportRunning,
        E::EZFS_WRONG_PARENT => Reason::WrongParent,
        E::EZFS_BADSTREAM => Reason::BadStream,
        E::EZFS_IOC_NOTSUPPORTED => Reason::ModuleTooOld,
        #[cfg(zfs_2_2)]
        E::EZFS_NOT_USER_NAMESPACE => Reason::NotUserNamespace,
        #[cfg(zfs_2_2)]
        E::EZFS_RESUME_EXISTS => Reason::ResumableReceiveExists,
        _ => return None,
    })
}

fn kind_from_libzfs(code: sys::zfs_error_t, errno: i32) -> ErrorKind {
    use sys::zfs_error_t as E;
    match code {
        E::EZFS_BADPROP
        | E::EZFS_PROPREADONLY
        | E::EZFS_PROPTYPE
        | E::EZFS_PROPNONINHERIT
        | E::EZFS_PROPSPACE
        | E::EZFS_POOLPROPS => ErrorKind::InvalidProperty,
        E::EZFS_BUSY
        | E::EZFS_RESILVERING
        | E::EZFS_ACTIVE_SPARE
        | E::EZFS_SCRUBBING
        | E::EZFS_ACTIVE_POOL
        | E::EZFS_EXPORT_IN_PROGRESS
        | E::EZFS_INITIALIZING
        | E::EZFS_TRIMMING => ErrorKind::Busy,
        E::EZFS_EXISTS | E::EZFS_CHECKPOINT_EXISTS => ErrorKind::AlreadyExists,
        // Nothing there, or nothing running to stop.
        E::EZFS_NOENT
        | E::EZFS_NODEVICE
        | E::EZFS_NO_CHECKPOINT
        | E::EZFS_NO_SCRUB
        | E::EZFS_NO_PENDING
        | E::EZFS_NO_INITIALIZE
        | E::EZFS_NO_TRIM => ErrorKind::NotFound,
        E::EZFS_INVALIDNAME | E::EZFS_NAMETOOLONG => ErrorKind::InvalidName,
        E::EZFS_PERM | E::EZFS_NODELEGATION => ErrorKind::PermissionDenied,
        E::EZFS_NOSPC => ErrorKind::NoSpace,
        E::EZFS_DSREADONLY | E::EZFS_POOLREADONLY => ErrorKind::ReadOnly,
        E::EZFS_POOL_NOTSUP
        | E::EZFS_NOTSUP
        | E::EZFS_IOC_NOTSUPPORTED
        | E::EZFS_VDEVNOTSUP
        | E::EZFS_TRIM_NOTSUP
        | E::EZFS_BADVERSION => ErrorKind::NotSupported,
        E::EZFS_IO => ErrorKind::Io,
        E::EZFS_BADDEV if errno == libc::EOVERFLOW => ErrorKind::DeviceTooSmall,
        E::EZFS_BADTYPE
        | E::EZFS_BADDEV
        | E::EZFS_BADPATH
        | E::EZFS_INVALCONFIG
        | E::EZFS_POOL_INVALARG
        | E::EZFS_BADTARGET
        | E::EZFS_ISSPARE
        | E::EZFS_ISL2CACHE
        | E::EZFS_CROSSTARGET
        | E::EZFS_WRONG_PARENT => ErrorKind::InvalidArgument,
        _ => match kind_from_errno(errno) {
            ErrorKind::Other => ErrorKind::Other,
            kind => kind,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_the_cli() {
        let e = Error::new(
            ErrorKind::AlreadyExists,
            "create",
            "tank",
            "pool already exists",
        );
        assert_eq!(e.to_string(), "cannot create 'tank': pool already exists");
    }

    #[test]
    fn errno_errors_carry_name_and_kind() {
        let e = Error::from_errno("destroy", "tank/a", libc::EBUSY);
        assert_eq!(e.kind(), ErrorKind::Busy);
        assert_eq!(e.errno().unwrap().name(), Some("EBUSY"));
        assert_eq!(
            e.to_string(),
            "cannot destroy 'tank/a': device or resource busy"
        );
        assert_eq!(
            format!("{}", e.errno().unwrap()),
            "EBUSY: Device or resource busy"
        );
    }

    /// An I/O error with words of its own (a tool's standard error) keeps them; one from an
    /// errno reads as that errno.
    #[test]
    fn io_errors_keep_their_words() {
        let e = Error::io(
            "umount",
            "/mnt",
            &std::io::Error::other("umount failed (exit status: 32): target is busy"),
        );
        assert_eq!(e.kind(), ErrorKind::Io);
        assert_eq!(
            e.to_string(),
            "cannot umount '/mnt': umount failed (exit status: 32): target is busy"
        );
        let e = Error::io(
            "open",
            "/x",
            &std::io::Error::from_raw_os_error(libc::ENOENT),
        );
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.errno().unwrap().name(), Some("ENOENT"));
    }

    #[test]
    fn libzfs_codes_map_to_kinds() {
        use sys::zfs_error_t as E;
        let k = |c, errno| kind_from_libzfs(c, errno);
        assert_eq!(k(E::EZFS_EXISTS, 0), ErrorKind::AlreadyExists);
        assert_eq!(k(E::EZFS_NOENT, 0), ErrorKind::NotFound);
        assert_eq!(k(E::EZFS_BADPROP, 0), ErrorKind::InvalidProperty);
        assert_eq!(
            k(E::EZFS_BADDEV, libc::EOVERFLOW),
            ErrorKind::DeviceTooSmall
        );
        assert_eq!(k(E::EZFS_BADDEV, 0), ErrorKind::InvalidArgument);
        assert_eq!(k(E::EZFS_UNKNOWN, libc::EPERM), ErrorKind::PermissionDenied);
    }
}
