//! Which OpenZFS releases are in play, and whether they fit together.

use std::fmt;

use crate::{Error, ErrorKind, Result};

/// The OpenZFS releases this process works with (`zfs version` prints the userland and
/// kernel ones).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Versions {
    /// The release whose headers this crate was compiled against, e.g. `2.3.2`.
    pub built_for: String,
    /// The libzfs this process loaded, as it reports itself at run time (`zfs version`'s
    /// first line without `zfs-`), e.g. `2.3.2-2~bpo12+2`.
    pub userland: String,
    /// The loaded kernel module (`/sys/module/zfs/version`), e.g. `2.3.2-2~bpo12+2`; `None`
    /// when the module is not loaded.
    pub kernel: Option<String>,
}

impl Versions {
    /// Reads the versions from the build and the running system (`zfs version`).
    pub fn detect() -> Versions {
        let kernel = std::fs::read_to_string("/sys/module/zfs/version")
            .ok()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
        Versions {
            built_for: crate::BUILT_FOR_VERSION.to_owned(),
            userland: userland_release(),
            kernel,
        }
    }

    /// Refuses a kernel module of another major.minor release than the one we were built for:
    /// libzfs talks to the module through ioctls whose arguments change between releases.
    ///
    /// # Errors
    /// [`ErrorKind::VersionMismatch`], naming both releases.
    pub fn check(&self) -> Result<()> {
        let Some(kernel) = &self.kernel else {
            return Ok(());
        };
        if major_minor(kernel) != major_minor(&self.built_for) {
            return Err(Error::new(
                ErrorKind::VersionMismatch,
                "open",
                "/dev/zfs",
                format!(
                    "the loaded ZFS kernel module is OpenZFS {kernel}, but this program was built \
                     for OpenZFS {}: rebuild it against the installed release's headers, or load \
                     the matching module",
                    self.built_for
                ),
            ));
        }
        Ok(())
    }
}

impl fmt::Display for Versions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "built for {}, userland {}, kernel module {}",
            self.built_for,
            self.userland,
            self.kernel.as_deref().unwrap_or("not loaded")
        )
    }
}

/// The loaded libzfs's release, without its `zfs-` prefix.
fn userland_release() -> String {
    let text = userland_text();
    text.strip_prefix("zfs-").unwrap_or(&text).to_owned()
}

#[cfg(zfs_2_2)]
fn userland_text() -> String {
    // SAFETY: returns a pointer to a static NUL-terminated string; needs no initialisation.
    let p = unsafe { libzfs_sys::zfs_version_userland() };
    if p.is_null() {
        return String::new();
    }
    // SAFETY: as above.
    unsafe { std::ffi::CStr::from_ptr(p) }
        .to_string_lossy()
        .into_owned()
}

#[cfg(not(zfs_2_2))]
fn userland_text() -> String {
    let mut buf = [0 as std::ffi::c_char; 128];
    // SAFETY: writes at most `len` bytes, NUL-terminated, into `buf`.
    unsafe { libzfs_sys::zfs_version_userland(buf.as_mut_ptr(), buf.len() as i32) };
    // SAFETY: zero-initialised and NUL-terminated by the call.
    unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// "2.3.2-2~bpo12+2" -> Some((2, 3)); "zfs-2.1.5" -> Some((2, 1)).
pub(crate) fn major_minor(v: &str) -> Option<(u32, u32)> {
    let mut nums = v
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty());
    Some((nums.next()?.parse().ok()?, nums.next()?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(built: &str, kernel: Option<&str>) -> Versions {
        Versions {
            built_for: built.into(),
            userland: built.into(),
            kernel: kernel.map(Into::into),
        }
    }

    #[test]
    fn parses_debian_and_upstream_versions() {
        assert_eq!(major_minor("2.3.2-2~bpo12+2"), Some((2, 3)));
        assert_eq!(major_minor("zfs-2.1.11-1"), Some((2, 1)));
        assert_eq!(major_minor("garbage"), None);
    }

    #[test]
    fn same_release_passes_other_release_is_refused() {
        assert!(v("2.3.2", Some("2.3.4-1")).check().is_ok());
        assert!(v("2.3.2", None).check().is_ok());
        let e = v("2.3.2", Some("2.2.7-1")).check().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::VersionMismatch);
        assert!(e.to_string().contains("OpenZFS 2.2.7-1"), "{e}");
        assert!(e.to_string().contains("built for OpenZFS 2.3.2"), "{e}");
    }
}
