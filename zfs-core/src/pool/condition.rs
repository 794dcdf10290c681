//! What `zpool status` says under `status:` and `action:`, and the error log under `errors:`.

use std::ffi::{c_char, CStr};

use libzfs_sys as sys;

use super::Pool;
use crate::nvlist::NvList;
use crate::Result;

/// The pool's most serious problem, as `zpool status` reports it (`status:` and `action:`),
/// from libzfs's own diagnosis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusCode {
    /// Nothing to report.
    Ok,
    /// A device cannot be opened; the pool runs on the other copies.
    MissingDeviceRedundant,
    /// A device cannot be opened, and no other copy has its data.
    MissingDeviceNoReplicas,
    /// A device's label is missing or invalid; the pool runs on the other copies.
    CorruptLabelRedundant,
    /// A device's label is missing or invalid, and no other copy has its data.
    CorruptLabelNoReplicas,
    /// The devices do not add up to the pool (a device is missing from its configuration).
    BadGuidSum,
    /// The pool's metadata is damaged: it cannot be opened.
    CorruptPool,
    /// Some data is damaged and could not be repaired: see [`Pool::errors`].
    CorruptData,
    /// A device had errors that were corrected: applications are unaffected.
    FailingDevice,
    /// The pool was made by a newer OpenZFS than this one.
    VersionNewer,
    /// The pool was last used by another system (hostid).
    HostidMismatch,
    /// The pool is in use by another system (multihost).
    HostidActive,
    /// The pool uses multihost protection but this system has no hostid.
    HostidRequired,
    /// I/O failed and the pool waits for it (`failmode=wait`): suspended.
    IoFailureWait,
    /// I/O failed and the pool goes on returning errors (`failmode=continue`).
    IoFailureContinue,
    /// Multihost writes failed: suspended.
    IoFailureMmp,
    /// An intent-log record cannot be read.
    BadLog,
    /// An on-disk erratum that needs an action (see `zpool status`).
    Errata,
    /// Features this OpenZFS does not know prevent reading the pool.
    UnsupportedFeatureRead,
    /// Features this OpenZFS does not know prevent writing: import it read-only.
    UnsupportedFeatureWrite,
    /// A device was faulted after too many errors; the pool runs on the other copies.
    FaultedDeviceRedundant,
    /// A device was faulted after too many errors, and no other copy has its data.
    FaultedDeviceNoReplicas,
    /// The pool uses the legacy on-disk version numbering: `zpool upgrade` it.
    VersionOlder,
    /// Some features this OpenZFS supports are not enabled on the pool.
    FeaturesDisabled,
    /// A device is being resilvered.
    Resilvering,
    /// A device was taken offline by an administrator ([`Pool::offline`]).
    OfflineDevice,
    /// A device was removed by an administrator.
    RemovedDevice,
    /// A device is being rebuilt sequentially.
    Rebuilding,
    /// A sequential rebuild finished: a scrub should verify it.
    RebuildScrub,
    /// A device is used with a block size other than its native one: slower.
    NonNativeAshift,
    /// The pool's `compatibility` property names a file that cannot be read.
    CompatibilityError,
    /// Features beyond what the `compatibility` property allows are enabled.
    IncompatibleFeatures,
    /// The cache file is damaged.
    CorruptCache,
    /// A code this version of zfs-core does not know.
    Unknown(i32),
}

impl StatusCode {
    fn from_raw(code: sys::zpool_status_t) -> StatusCode {
        use sys::zpool_status_t as S;
        use StatusCode as C;
        match code {
            S::ZPOOL_STATUS_OK => C::Ok,
            S::ZPOOL_STATUS_MISSING_DEV_R => C::MissingDeviceRedundant,
            S::ZPOOL_STATUS_MISSING_DEV_NR => C::MissingDeviceNoReplicas,
            S::ZPOOL_STATUS_CORRUPT_LABEL_R => C::CorruptLabelRedundant,
            S::ZPOOL_STATUS_CORRUPT_LABEL_NR => C::CorruptLabelNoReplicas,
            S::ZPOOL_STATUS_BAD_GUID_SUM => C::BadGuidSum,
            S::ZPOOL_STATUS_CORRUPT_POOL => C::CorruptPool,
            S::ZPOOL_STATUS_CORRUPT_DATA => C::CorruptData,
            S::ZPOOL_STATUS_FAILING_DEV => C::FailingDevice,
            S::ZPOOL_STATUS_VERSION_NEWER => C::VersionNewer,
            S::ZPOOL_STATUS_HOSTID_MISMATCH => C::HostidMismatch,
            S::ZPOOL_STATUS_HOSTID_ACTIVE => C::HostidActive,
            S::ZPOOL_STATUS_HOSTID_REQUIRED => C::HostidRequired,
            S::ZPOOL_STATUS_IO_FAILURE_WAIT => C::IoFailureWait,
            S::ZPOOL_STATUS_IO_FAILURE_CONTINUE => C::IoFailureContinue,
            S::ZPOOL_STATUS_IO_FAILURE_MMP => C::IoFailureMmp,
            S::ZPOOL_STATUS_BAD_LOG => C::BadLog,
            S::ZPOOL_STATUS_ERRATA => C::Errata,
            S::ZPOOL_STATUS_UNSUP_FEAT_READ => C::UnsupportedFeatureRead,
            S::ZPOOL_STATUS_UNSUP_FEAT_WRITE => C::UnsupportedFeatureWrite,
            S::ZPOOL_STATUS_FAULTED_DEV_R => C::FaultedDeviceRedundant,
            S::ZPOOL_STATUS_FAULTED_DEV_NR => C::FaultedDeviceNoReplicas,
            S::ZPOOL_STATUS_VERSION_OLDER => C::VersionOlder,
            S::ZPOOL_STATUS_FEAT_DISABLED => C::FeaturesDisabled,
            S::ZPOOL_STATUS_RESILVERING => C::Resilvering,
            S::ZPOOL_STATUS_OFFLINE_DEV => C::OfflineDevice,
            S::ZPOOL_STATUS_REMOVED_DEV => C::RemovedDevice,
            S::ZPOOL_STATUS_REBUILDING => C::Rebuilding,
            S::ZPOOL_STATUS_REBUILD_SCRUB => C::RebuildScrub,
            S::ZPOOL_STATUS_NON_NATIVE_ASHIFT => C::NonNativeAshift,
            S::ZPOOL_STATUS_COMPATIBILITY_ERR => C::CompatibilityError,
            S::ZPOOL_STATUS_INCOMPATIBLE_FEAT => C::IncompatibleFeatures,
            S::ZPOOL_STATUS_CORRUPT_CACHE => C::CorruptCache,
            other => C::Unknown(other.0 as i32),
        }
    }

    /// Whether `zpool status -x` calls the pool healthy: nothing to report, or only that
    /// features could be enabled or the `compatibility` property has an issue.
    pub fn is_healthy(self) -> bool {
        matches!(
            self,
            StatusCode::Ok
                | StatusCode::VersionOlder
                | StatusCode::FeaturesDisabled
                | StatusCode::CompatibilityError
                | StatusCode::IncompatibleFeatures
        )
    }

    /// What to do about it, in one line (the gist of `zpool status`'s `action:`); empty for
    /// [`StatusCode::Ok`].
    pub fn action(self) -> &'static str {
        use StatusCode as C;
        match self {
            C::Ok => "",
            C::MissingDeviceRedundant | C::MissingDeviceNoReplicas => {
                "attach the missing device and bring it online (`zpool online`)"
            }
            C::CorruptLabelRedundant => "replace the device (`zpool replace`)",
            C::CorruptLabelNoReplicas | C::CorruptPool | C::BadGuidSum | C::CorruptCache => {
                "recover the pool (`zpool clear -F` / `zpool import -F`) or restore it from backup"
            }
            C::CorruptData => "restore the damaged files (`Pool::errors`) from backup",
            C::FailingDevice => "clear the errors (`zpool clear`) or replace the device",
            C::VersionNewer | C::UnsupportedFeatureRead => {
                "use a newer OpenZFS, or restore the pool from backup"
            }
            C::UnsupportedFeatureWrite => "import the pool read-only",
            C::HostidMismatch | C::HostidActive | C::HostidRequired => {
                "export the pool on the other system, then import it here (or set a hostid)"
            }
            C::IoFailureWait | C::IoFailureContinue | C::IoFailureMmp => {
                "reconnect the devices, then clear the errors (`zpool clear`)"
            }
            C::BadLog => "restore the log device, or clear the errors to discard the log",
            C::Errata => "see `zpool status` for the erratum's action",
            C::FaultedDeviceRedundant => "replace the device or clear the errors",
            C::FaultedDeviceNoReplicas => {
                "replace the device; the pool may need restoring from backup"
            }
            C::VersionOlder | C::FeaturesDisabled => "enable the features (`zpool upgrade`)",
            C::Resilvering | C::Rebuilding => "wait for the resilver to finish",
            C::OfflineDevice | C::RemovedDevice => {
                "bring the device online (`zpool online`) or replace it"
            }
            C::RebuildScrub => "scrub the pool (`zpool scrub`)",
            C::NonNativeAshift => "replace the device, or move the pool to new devices",
            C::CompatibilityError | C::IncompatibleFeatures => {
                "fix the `compatibility` property or its file"
            }
            C::Unknown(_) => "see `zpool status`",
        }
    }
}

/// A file (or object) with an error ZFS could not repair: a line under `errors:` in
/// `zpool status -v`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub struct DataError {
    /// The object set (dataset) number; 0 for the pool's own metadata.
    pub dataset: u64,
    /// The object number in it.
    pub object: u64,
    /// As `zpool status -v` prints it: the file's path if its dataset is mounted,
    /// `dataset:/path` if not, `<metadata>:<0x..>` for pool metadata, `dataset:<0x..>` for an
    /// object that is no longer a file.
    pub path: String,
}

impl Pool<'_> {
    /// The pool's condition as `zpool status` diagnoses it, and the message id of its
    /// documentation page where there is one; the caller has refreshed the handle.
    pub(super) fn condition(&self) -> (StatusCode, Option<String>) {
        // `const char **` from OpenZFS 2.2, `char **` before: let the call pick.
        let mut msgid = std::ptr::null::<c_char>() as _;
        let mut errata = sys::zpool_errata_t::ZPOOL_ERRATA_NONE;
        // SAFETY: live pool handle; the message id is a static string or NULL.
        let code = unsafe { sys::zpool_get_status(self.raw().ptr(), &mut msgid, &mut errata) };
        let msgid = if msgid.is_null() {
            None
        } else {
            // SAFETY: a static NUL-terminated string (see above).
            let text = unsafe { CStr::from_ptr(msgid) };
            Some(text.to_string_lossy().into_owned())
        };
        (StatusCode::from_raw(code), msgid)
    }

    /// The files and objects with errors ZFS could not repair (`zpool status -v`, under
    /// `errors:`), sorted; empty when there are none. The list is the kernel's, kept until
    /// the damaged blocks are freed and two scrubs have run.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) if the pool is gone.
    #[doc(alias = "zpool_get_errlog")]
    pub fn errors(&self) -> Result<Vec<DataError>> {
        self.refresh()?;
        let mut raw: *mut sys::nvlist_t = std::ptr::null_mut();
        self.zfs.check("list errors of", self.name.as_str(), || {
            // SAFETY: live pool handle; on success `raw` is a list we own, or stays NULL when
            // the pool has no errors.
            unsafe { sys::zpool_get_errlog(self.raw().ptr(), &mut raw) }
        })?;
        if raw.is_null() {
            return Ok(Vec::new());
        }
        // SAFETY: handed to us by zpool_get_errlog; freed once when dropped.
        let list = unsafe { NvList::from_raw(raw) };
        // Every entry has the same name: walk the pairs, never look them up by name.
        let mut out: Vec<DataError> = list
            .iter()
            .filter_map(|pair| {
                let entry = pair.as_list()?;
                Some((entry.get_u64("dataset")?, entry.get_u64("object")?))
            })
            .map(|(dataset, object)| DataError {
                dataset,
                object,
                path: self.object_path(dataset, object),
            })
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// `zpool_obj_to_path`: what `zpool status -v` prints for an object.
    fn object_path(&self, dataset: u64, object: u64) -> String {
        untruncated(|buf| {
            // SAFETY: live pool handle; `buf` holds `buf.len()` bytes.
            unsafe {
                sys::zpool_obj_to_path(
                    self.raw().ptr(),
                    dataset,
                    object,
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                )
            }
        })
    }
}

/// What `write` puts in a buffer as `snprintf` does (cut to fit, NUL-terminated), in full:
/// an answer that fills the buffer may have been cut, so it is asked again with twice the
/// room. The CLI's twice MAXPATHLEN is too little for a long mountpoint plus a path below it
/// (up to twice MAXPATHLEN on its own); the most tried is far above both together.
fn untruncated(mut write: impl FnMut(&mut [u8])) -> String {
    let most = 64 * libc::PATH_MAX as usize;
    let mut len = 2 * libc::PATH_MAX as usize;
    loop {
        let mut buf = vec![0u8; len];
        write(&mut buf);
        let end = buf.iter().position(|&b| b == 0).unwrap_or(len);
        if end + 1 < len || len >= most {
            return String::from_utf8_lossy(&buf[..end]).into_owned();
        }
        len *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_that_fills_the_buffer_is_asked_again_larger() {
        let long = format!("/mnt/{}", "d/".repeat(6000));
        let mut sizes = Vec::new();
        let got = untruncated(|buf| {
            sizes.push(buf.len());
            // As snprintf: at most len - 1 bytes, then a NUL.
            let n = long.len().min(buf.len() - 1);
            buf[..n].copy_from_slice(&long.as_bytes()[..n]);
            buf[n] = 0;
        });
        assert_eq!(got, long);
        let first = 2 * libc::PATH_MAX as usize;
        assert_eq!(sizes, [first, 2 * first]);
        // A short answer is read once.
        let mut calls = 0;
        let short = untruncated(|buf| {
            calls += 1;
            buf[..4].copy_from_slice(b"/a\0\0");
        });
        assert_eq!((short.as_str(), calls), ("/a", 1));
    }

    #[test]
    fn every_libzfs_status_code_is_named_with_an_action() {
        let mut seen = std::collections::HashSet::new();
        for raw in 0..=sys::zpool_status_t::ZPOOL_STATUS_OK.0 {
            let code = StatusCode::from_raw(sys::zpool_status_t(raw));
            assert!(!matches!(code, StatusCode::Unknown(_)), "{raw}");
            assert!(seen.insert(code), "{code:?} twice");
            assert_eq!(code.action().is_empty(), code == StatusCode::Ok, "{code:?}");
        }
        let beyond = sys::zpool_status_t::ZPOOL_STATUS_OK.0 + 1;
        let unknown = StatusCode::from_raw(sys::zpool_status_t(beyond));
        assert_eq!(unknown, StatusCode::Unknown(beyond as i32));
        assert!(!unknown.is_healthy() && !unknown.action().is_empty());
        // `zpool status -x` calls these healthy, and only these.
        let healthy: Vec<StatusCode> = seen.into_iter().filter(|c| c.is_healthy()).collect();
        assert_eq!(healthy.len(), 5, "{healthy:?}");
    }
}
