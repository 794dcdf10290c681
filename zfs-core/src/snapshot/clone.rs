//! Clones (`zfs clone`) and promotion (`zfs promote`).

use std::ffi::{c_char, CString};

use libzfs_sys as sys;

use crate::handle::{lzc, Zfs};
use crate::name::{DatasetName, SnapshotName};
use crate::nvlist::NvList;
use crate::{Error, ErrorKind, Result};

impl Zfs {
    /// Creates filesystem or volume `clone` from `origin`, with CLI-style properties checked
    /// and converted as `zfs clone -o` does (`compression=lz4`, `quota=100M`):
    /// `zfs clone [-o PROP=VALUE]... ORIGIN CLONE`. Unlike `zfs clone`, the clone is not
    /// mounted.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the origin, the clone's pool or its parent is missing;
    /// [`ErrorKind::AlreadyExists`] if `clone` exists; [`ErrorKind::InvalidArgument`] across
    /// pools; [`ErrorKind::InvalidProperty`] for an unknown property or a bad value.
    #[doc(alias = "lzc_clone")]
    pub fn create_clone(
        &self,
        origin: &SnapshotName,
        clone: &DatasetName,
        props: &[(&str, &str)],
    ) -> Result<()> {
        let op = "clone";
        if !self.exists(origin) {
            return Err(
                Error::new(ErrorKind::NotFound, op, origin.as_str(), "no such snapshot")
                    .with_reason(crate::Reason::SnapshotNotFound),
            );
        }
        // A clone has its origin's type: a filesystem's or a volume's properties apply.
        let head = self
            .dataset(&origin.dataset())
            .map_err(|e| e.with_operation(op))?;
        let ty = match head.kind() {
            crate::DatasetType::Volume => sys::zfs_type_t::ZFS_TYPE_VOLUME,
            _ => sys::zfs_type_t::ZFS_TYPE_FILESYSTEM,
        };
        drop(head);
        // A missing pool first: it is the one thing to fix, as `zfs clone` reports it.
        if !self.pool_exists(&clone.pool()) {
            return Err(Error::new(
                ErrorKind::NotFound,
                op,
                clone.as_str(),
                format!("no such pool '{}'", clone.pool()),
            )
            .with_reason(crate::Reason::PoolNotFound));
        }
        if origin.dataset().pool() != clone.pool() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                clone.as_str(),
                "a clone must be in its origin's pool",
            )
            .with_reason(crate::Reason::PoolsDiffer));
        }
        let mut strings = NvList::new();
        for (k, v) in props {
            strings.insert_str(k, v)?;
        }
        let p = if strings.is_empty() {
            strings
        } else {
            self.validate_props(clone, ty, &strings)
                .map_err(|e| e.with_operation(op))?
        };
        let c = CString::new(clone.as_str()).expect("no NUL");
        let o = CString::new(origin.as_str()).expect("no NUL");
        // SAFETY: NUL-terminated names and a live property list.
        lzc(op, clone.as_str(), unsafe {
            sys::lzc_clone(c.as_ptr(), o.as_ptr(), p.as_ptr())
        })
        .map_err(|e| match e.errno().map(|n| n.0) {
            Some(libc::EEXIST) => e.with_reason(crate::Reason::DatasetExists),
            Some(libc::ENOENT) => e.with_reason(crate::Reason::ParentNotFound),
            _ => e,
        })
    }

    /// Promotes a clone: it takes over its origin's snapshots and the origin becomes its clone
    /// (`zfs promote`).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] if `clone` is not a clone; [`ErrorKind::AlreadyExists`]
    /// if a snapshot name would collide (named in the message).
    #[doc(alias = "lzc_promote")]
    pub fn promote(&self, clone: &DatasetName) -> Result<()> {
        let op = "promote";
        let ds = self.dataset(clone).map_err(|e| e.with_operation(op))?;
        // `origin` does not apply to (and so cannot be read from) a dataset that is no clone.
        let origin = ds.property("origin").map(|p| p.value).unwrap_or_default();
        if origin.is_empty() || origin == "-" {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                clone.as_str(),
                "not a clone",
            )
            .with_reason(crate::Reason::NotClone));
        }
        let c = CString::new(clone.as_str()).expect("no NUL");
        let mut conflict = [0 as c_char; 256];
        // SAFETY: NUL-terminated name; `conflict` receives a snapshot name on EEXIST.
        let rc =
            unsafe { sys::lzc_promote(c.as_ptr(), conflict.as_mut_ptr(), conflict.len() as i32) };
        if rc == libc::EEXIST {
            // SAFETY: lzc_promote NUL-terminated the conflicting name in the buffer.
            let name = unsafe { std::ffi::CStr::from_ptr(conflict.as_ptr()) }
                .to_string_lossy()
                .into_owned();
            return Err(Error::from_errno(op, clone.as_str(), rc)
                .with_message(format!(
                    "snapshot name '{name}' already exists in the origin"
                ))
                .with_reason(crate::Reason::SnapshotExists));
        }
        lzc(op, clone.as_str(), rc)
    }
}
