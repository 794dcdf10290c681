//! Listing datasets: children, descendants, snapshots; filtered by type and sorted by name.

use std::collections::HashMap;
use std::ffi::{c_int, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use libzfs_sys as sys;

use super::{Dataset, DatasetType, DatasetTypes};
use crate::handle::Zfs;
use crate::name::{AnyName, DatasetName};
use crate::Result;

/// One listed object: its name and type, as a line of `zfs list -H -o name,type` gives them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub struct Listed {
    /// Full name.
    pub name: AnyName,
    /// Its type.
    pub kind: DatasetType,
    /// The values of the properties asked for with [`Zfs::list_with`], in that order
    /// (exact numbers, `-` where a property does not apply); empty otherwise.
    pub values: Vec<String>,
}

/// Each listed snapshot's clones, by snapshot name.
pub(crate) type Clones = HashMap<String, Vec<String>>;

struct Walk {
    types: DatasetTypes,
    recursive: bool,
    props: Vec<sys::zfs_prop_t>,
    /// Collect each snapshot's clones by name (from libzfs's list, never a joined string).
    want_clones: bool,
    found: Vec<Listed>,
    clones: Clones,
    /// A value that could not be read whole stops the walk with this error.
    error: Option<crate::Error>,
    panic: Option<Box<dyn std::any::Any + Send>>,
}

/// Called by libzfs for each child; owns (and closes) the handle it is given. The first error
/// or panic stops the walk and is kept for [`Dataset::walk`] to return.
unsafe extern "C" fn visit(zhp: *mut sys::zfs_handle_t, data: *mut c_void) -> c_int {
    // SAFETY: `data` is the Walk passed by `walk`, alive for the whole iteration.
    let walk = unsafe { &mut *data.cast::<Walk>() };
    // SAFETY: a live handle from libzfs, closed below.
    let result = catch_unwind(AssertUnwindSafe(|| unsafe { visit_one(zhp, walk) }));
    // SAFETY: the callback owns the handle and must close it.
    unsafe { sys::zfs_close(zhp) };
    match result {
        Ok(Ok(rc)) => rc,
        Ok(Err(e)) => {
            walk.error = Some(e);
            1
        }
        Err(p) => {
            walk.panic = Some(p);
            1
        }
    }
}

/// Records one child (if of a wanted type) and walks its children; the callback's return code.
unsafe fn visit_one(zhp: *mut sys::zfs_handle_t, walk: &mut Walk) -> Result<c_int> {
    // SAFETY: a live handle from libzfs (caller).
    let t = unsafe { sys::zfs_get_type(zhp) };
    // SAFETY: the name lives as long as the handle.
    let name = unsafe { CStr::from_ptr(sys::zfs_get_name(zhp)) }
        .to_string_lossy()
        .into_owned();
    let kind = DatasetType::from_raw("list", &name, t)?;
    if walk.types.contains(kind.as_set()) {
        // SAFETY: live handle; its properties came with it from the iteration.
        let values = unsafe { values_of(zhp, &name, &walk.props) }?;
        if walk.want_clones && kind == DatasetType::Snapshot {
            // SAFETY: live snapshot handle.
            let clones = unsafe { clones_of(zhp) }.ok_or_else(|| {
                crate::Error::new(
                    crate::ErrorKind::Other,
                    "list",
                    &name,
                    "libzfs could not list the snapshot's clones",
                )
            })?;
            walk.clones.insert(name.clone(), clones);
        }
        walk.found.push(Listed {
            name: AnyName::trusted(name),
            kind,
            values,
        });
    }
    Ok(
        if walk.recursive && matches!(kind, DatasetType::Filesystem | DatasetType::Volume) {
            // SAFETY: live handle; recursion reuses the same Walk.
            unsafe { children(zhp, walk) }
        } else {
            0
        },
    )
}

/// The literal values of `props` on a live handle, whole however long, `-` where one does not
/// apply.
unsafe fn values_of(
    zhp: *mut sys::zfs_handle_t,
    name: &str,
    props: &[sys::zfs_prop_t],
) -> Result<Vec<String>> {
    props
        .iter()
        .map(|&p| {
            crate::text::read_value(
                "list",
                name,
                |buf, len| {
                    // SAFETY: live handle (caller); `buf` holds `len` bytes; no source wanted.
                    unsafe {
                        sys::zfs_prop_get(
                            zhp,
                            p,
                            buf,
                            len,
                            std::ptr::null_mut(),
                            std::ptr::null_mut(),
                            0,
                            sys::boolean_t::B_TRUE,
                        )
                    }
                },
                // A property that does not apply to this type reads `-`, as in `zfs list`.
                |_| Ok("-".to_owned()),
            )
        })
        .collect()
}

/// The names of a snapshot's clones, from the list libzfs keeps (empty if it has none);
/// `None` if libzfs could not make the list (never read as "no clones").
unsafe fn clones_of(zhp: *mut sys::zfs_handle_t) -> Option<Vec<String>> {
    // SAFETY: live handle (caller); the list belongs to the handle and is copied at once.
    let raw = unsafe { sys::zfs_get_clones_nvl(zhp) };
    if raw.is_null() {
        return None;
    }
    // SAFETY: a live list owned by the handle, read before the handle is closed.
    let list = unsafe { crate::nvlist::NvListRef::from_ptr(raw) };
    Some(list.iter().map(|pair| pair.name().into_owned()).collect())
}

/// Iterates the direct children of `zhp` that `walk` asks for (filesystems and volumes,
/// snapshots, bookmarks).
unsafe fn children(zhp: *mut sys::zfs_handle_t, walk: &mut Walk) -> c_int {
    let data: *mut Walk = walk;
    let wants_snapshots = walk.types.contains(DatasetTypes::SNAPSHOT);
    let wants_bookmarks = walk.types.contains(DatasetTypes::BOOKMARK);
    // SAFETY: live handle; `visit` matches zfs_iter_f; `data` outlives the calls.
    let mut rc = unsafe { sys::zfs_iter_filesystems(zhp, Some(visit), data.cast()) };
    if rc == 0 && wants_snapshots {
        // Names only when no property is wanted: a "simple" iteration, in which the kernel
        // skips each snapshot's statistics (the handles it gives know their name and type).
        let simple = crate::handle::boolean(walk.props.is_empty());
        // SAFETY: as above; no txg range (0, 0).
        rc = unsafe { sys::zfs_iter_snapshots(zhp, simple, Some(visit), data.cast(), 0, 0) };
    }
    if rc == 0 && wants_bookmarks {
        // SAFETY: as above.
        rc = unsafe { sys::zfs_iter_bookmarks(zhp, Some(visit), data.cast()) };
    }
    rc
}

impl Zfs {
    /// `root` and everything below it whose type is in `types`, sorted by name (like
    /// `zfs list -r -t TYPES ROOT`). `root` itself is included when its type matches.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) if `root` does not exist.
    #[doc(alias = "zfs_iter_children")]
    pub fn list(&self, root: &DatasetName, types: DatasetTypes) -> Result<Vec<Listed>> {
        let top = self.open_dataset(
            root.as_str(),
            DatasetTypes::FILESYSTEM | DatasetTypes::VOLUME,
        )?;
        Ok(top.walk(types, true, Vec::new(), false)?.0)
    }

    /// Like [`Zfs::list`], with the values of native `properties` for each object (like
    /// `zfs list -Hp -o name,PROPS -r -t TYPES ROOT`). The values come with the iteration
    /// itself, so this costs no more system calls than listing names.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidProperty`](crate::ErrorKind::InvalidProperty) for a name that is
    /// not a native property; [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) if `root`
    /// does not exist.
    pub fn list_with(
        &self,
        root: &DatasetName,
        types: DatasetTypes,
        properties: &[&str],
    ) -> Result<Vec<Listed>> {
        Ok(self.list_full(root.as_str(), types, properties, false)?.0)
    }

    /// [`Zfs::list_with`], and with `clones`, each listed snapshot's clones by name.
    pub(crate) fn list_full(
        &self,
        root: &str,
        types: DatasetTypes,
        properties: &[&str],
        clones: bool,
    ) -> Result<(Vec<Listed>, Clones)> {
        crate::name::check_any("list", root)?;
        let _tables = crate::handle::tables();
        let mut props = Vec::with_capacity(properties.len());
        for name in properties {
            let c = std::ffi::CString::new(*name).map_err(|_| {
                crate::Error::new(crate::ErrorKind::InvalidProperty, "list", *name, "NUL byte")
            })?;
            // SAFETY: NUL-terminated name; a table lookup.
            let p = unsafe { sys::zfs_name_to_prop(c.as_ptr()) };
            if p == sys::zfs_prop_t::ZPROP_INVAL {
                return Err(crate::Error::new(
                    crate::ErrorKind::InvalidProperty,
                    "list",
                    *name,
                    format!("'{name}' is not a native property"),
                ));
            }
            props.push(p);
        }
        let top = self.open_dataset(root, DatasetTypes::FILESYSTEM | DatasetTypes::VOLUME)?;
        top.walk(types, true, props, clones)
    }
}

impl Dataset<'_> {
    /// Direct children whose type is in `types` (snapshots and bookmarks of this dataset count
    /// as its children), sorted by name: `zfs list -d 1 -t TYPES NAME` without `NAME` itself.
    ///
    /// # Errors
    /// Whatever libzfs reports while iterating.
    pub fn children(&self, types: DatasetTypes) -> Result<Vec<Listed>> {
        let mut found = self.walk(types, false, Vec::new(), false)?.0;
        found.retain(|l| l.name != self.name);
        Ok(found)
    }

    fn walk(
        &self,
        types: DatasetTypes,
        recursive: bool,
        props: Vec<sys::zfs_prop_t>,
        want_clones: bool,
    ) -> Result<(Vec<Listed>, Clones)> {
        let mut walk = Walk {
            types,
            recursive,
            props,
            want_clones,
            found: Vec::new(),
            clones: HashMap::new(),
            error: None,
            panic: None,
        };
        if types.contains(self.kind().as_set()) && recursive {
            walk.found.push(Listed {
                name: self.name.clone(),
                kind: self.kind(),
                // SAFETY: live handle.
                values: unsafe { values_of(self.raw().ptr(), self.name.as_str(), &walk.props) }?,
            });
        }
        // SAFETY: live handle for the whole iteration.
        let rc = unsafe { children(self.raw().ptr(), &mut walk) };
        if let Some(p) = walk.panic {
            std::panic::resume_unwind(p);
        }
        if let Some(e) = walk.error {
            return Err(e);
        }
        if rc != 0 {
            return Err(self.zfs.last_error("list", self.name.as_str()));
        }
        walk.found.sort();
        Ok((walk.found, walk.clones))
    }
}
