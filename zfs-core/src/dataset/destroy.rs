//! Destroying and renaming datasets (`zfs destroy`, `zfs rename`).

use std::ffi::CString;

use libzfs_sys as sys;

use super::{Dataset, DatasetType, DatasetTypes, Listed};
use crate::handle::Zfs;
use crate::name::{AnyName, ZfsName};
use crate::options::{DestroyOptions, RenameOptions, UnmountOptions};
use crate::PropSource;
use crate::{Error, ErrorKind, Result};

impl Zfs {
    /// Destroys a filesystem, volume, snapshot or bookmark (`zfs destroy`).
    ///
    /// Before anything is destroyed, every filesystem involved is unmounted; if one cannot be,
    /// the ones already unmounted are mounted again and nothing is destroyed. Clones inside
    /// the subtree go before their origins, as `zfs destroy -r` orders them. As `zfs destroy`
    /// does, a filesystem's empty mountpoint directory is removed where ZFS chose it (the
    /// mountpoint is inherited or default; a directory named locally stays); an unmounted
    /// filesystem without children or snapshots goes in a single kernel call, which does not
    /// look for a directory left behind by an earlier mount.
    ///
    /// A recursive destroy of more than one object (and at most
    /// [`MAX_PROGRAM_DESTROY_OBJECTS`](crate::MAX_PROGRAM_DESTROY_OBJECTS)) runs in the kernel
    /// as one channel program:
    /// it checks every snapshot (holds, clones from outside) and every dataset with nothing
    /// below it (an open volume) first, then destroys the tree, clones inside it first, in one
    /// transaction group. A refusal the kernel can check is therefore all or nothing: nothing
    /// is destroyed and the filesystems unmounted for it are mounted again. Clones outside the
    /// tree (`dependents`) are destroyed before, each by its own program. Where the kernel
    /// refuses channel programs (not root), and with
    /// [`DestroyOptions::one_call_per_object`], the tree goes one kernel call per object as
    /// before, with the same meaning and errors but not all or nothing.
    ///
    /// # Errors
    /// - [`ErrorKind::NotFound`] if it does not exist.
    /// - [`ErrorKind::Busy`]: children or snapshots without `recursive`, clones without
    ///   `dependents`, a filesystem that cannot be unmounted, a held or cloned snapshot
    ///   without `defer`.
    #[doc(alias = "zfs_destroy")]
    pub fn destroy(&self, name: &impl ZfsName, opts: &DestroyOptions) -> Result<()> {
        self.destroy_any(&name.to_any(), opts)
    }

    /// One copy of the body above, whatever the argument types.
    fn destroy_any(&self, name: &AnyName, opts: &DestroyOptions) -> Result<()> {
        let op = "destroy";
        match name.clone() {
            AnyName::Bookmark(mark) => return self.destroy_bookmarks(&[mark]),
            AnyName::Snapshot(snap) => {
                return self.destroy_snapshots(
                    &[snap],
                    &crate::DestroySnapshotsOptions::new().defer(opts.defer),
                );
            }
            AnyName::Dataset(_) => {}
        }
        let name = name.name();
        if !opts.recursive && self.destroy_unmounted_leaf(name) {
            return Ok(());
        }
        // One iteration gives every object with the clones of each snapshot, by name from
        // libzfs's list (the `clones` property is one joined string, which a fixed buffer
        // would cut into a prefix naming some other dataset).
        let (all, clones) = self
            .list_full(
                name,
                DatasetTypes::FILESYSTEM | DatasetTypes::VOLUME | DatasetTypes::SNAPSHOT,
                &["mountpoint", "mounted", "canmount"],
                true,
            )
            .map_err(|e| e.with_operation(op))?;
        let below: Vec<_> = all.iter().filter(|l| l.name != name).collect();
        if !opts.recursive && !below.is_empty() {
            let what: Vec<&str> = below.iter().take(5).map(|l| l.name.as_str()).collect();
            return Err(Error::new(
                ErrorKind::Busy,
                op,
                name,
                format!(
                    "it has children or snapshots ({}); use recursive",
                    what.join(", ")
                ),
            ));
        }
        // Clones of our snapshots that live outside the subtree.
        let inside = |n: &str| {
            n == name || n.starts_with(&format!("{name}/")) || n.starts_with(&format!("{name}@"))
        };
        let mut outside_clones = Vec::new();
        for snap in all.iter().filter(|l| l.kind == DatasetType::Snapshot) {
            for clone in clones.get(snap.name.as_str()).into_iter().flatten() {
                if !inside(clone) {
                    outside_clones.push(clone.clone());
                }
            }
        }
        if !outside_clones.is_empty() {
            if !opts.dependents {
                return Err(Error::new(
                    ErrorKind::Busy,
                    op,
                    name,
                    format!(
                        "snapshots have dependent clones ({}); use dependents",
                        outside_clones.join(", ")
                    ),
                ));
            }
            for clone in &outside_clones {
                let clone = AnyName::trusted(clone.clone());
                if self.exists(&clone) {
                    self.destroy(&clone, &opts.recursive(true))?;
                }
            }
        }
        // Unmount deepest first; on failure, remount what we unmounted and stop.
        let mut mounted: Vec<_> = all
            .iter()
            .filter(|l| l.kind == DatasetType::Filesystem && l.values[1] == "yes")
            .collect();
        mounted.sort_by(|a, b| b.name.cmp(&a.name));
        // What was unmounted, and where, to mount it back if the destroy is refused.
        let mut unmounted: Vec<(Dataset<'_>, std::path::PathBuf)> = Vec::new();
        for fs in mounted {
            let ds = self.dataset(&fs.name)?;
            if let Some(at) = ds.mounted_at() {
                let how = UnmountOptions::new().force(opts.force_unmount);
                if let Err(e) = ds.unmount(&how) {
                    return Err(mount_back(&unmounted, e.with_operation(op)));
                }
                unmounted.push((ds, at));
            }
        }
        let was_unmounted: std::collections::HashSet<String> = unmounted
            .iter()
            .map(|(d, _)| d.name().as_str().to_owned())
            .collect();
        // Like zfs_destroy, remove a filesystem's empty mountpoint directory afterwards only
        // where ZFS chose it (source default or inherited) and it is mountable at all.
        let mut removable = std::collections::HashSet::new();
        for l in all.iter().filter(|l| l.kind == DatasetType::Filesystem) {
            // (Only a directory that is there: most never-mounted filesystems have none, and
            // reading the source costs a handle per filesystem.)
            let dir = std::path::Path::new(&l.values[0]);
            if l.values[0].starts_with('/') && l.values[2] != "off" && dir.is_dir() {
                let source = self.dataset(&l.name)?.property("mountpoint")?.source;
                if matches!(source, PropSource::Default | PropSource::Inherited(_)) {
                    removable.insert(l.name.clone());
                }
            }
        }
        // The fast path: the whole tree, its clones included, in one channel program.
        let objects = all.len();
        // Whether the program went part of the way, so that what is left must be listed again.
        let mut partly_done = false;
        if !opts.one_call_per_object
            && objects > 1
            && objects <= super::destroy_program::MAX_PROGRAM_DESTROY_OBJECTS
        {
            let order = super::destroy_program::order(&all, &clones);
            let first_snapshot = order.names.iter().find(|n| n.contains('@')).cloned();
            let explain = |object: &str, errno: i32, failures: Vec<(String, i32)>| {
                if object.contains('@') {
                    let first = first_snapshot.as_deref().unwrap_or(object);
                    snapshot_refusal(Error::from_batch(op, first, errno, failures))
                } else {
                    match crate::handle::lzc(op, object, errno) {
                        Err(e) => busy_destroy(e),
                        Ok(()) => Error::from_errno(op, object, libc::EIO),
                    }
                }
            };
            let pool =
                crate::PoolName::trusted(name.split(['/', '@']).next().unwrap_or(name).to_owned());
            match self.destroy_by_program(&pool, &order, &explain) {
                Ok(true) => {
                    drop(unmounted);
                    self.forget_destroyed(all.iter(), &removable);
                    return Ok(());
                }
                Ok(false) => {}
                Err(e)
                    if e.errno().map(|n| n.0) == Some(libc::EBUSY)
                        && was_unmounted.contains(e.object()) =>
                {
                    // A filesystem this call unmounted was still held by its upgrade task (see
                    // the wait below). The program may have destroyed part of the tree before
                    // it met the hold, and is not run again: what is left goes one object at
                    // a time, which waits that hold out.
                    partly_done = true;
                }
                Err(e) => {
                    // Refused: mount back what was unmounted, so nothing has changed.
                    return Err(mount_back(&unmounted, e));
                }
            }
        }
        drop(unmounted);
        // Clones inside the subtree go first, with everything that depends on them, as
        // `zfs destroy -r` orders them: their origins are among the snapshots destroyed next.
        let mut inside_clones: Vec<String> = all
            .iter()
            .filter(|l| l.kind == DatasetType::Snapshot)
            .flat_map(|s| clones.get(s.name.as_str()).into_iter().flatten())
            .filter(|c| inside(c) && c.as_str() != name)
            .cloned()
            .collect();
        inside_clones.sort();
        // The tree as first listed, when the program went part of the way through it.
        let destroyed_by_program: Vec<Listed> = if partly_done {
            all.iter()
                .filter(|l| l.kind != DatasetType::Snapshot)
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        let all = if inside_clones.is_empty() && !partly_done {
            all
        } else {
            let all_below = opts.recursive(true).dependents(true);
            for clone in &inside_clones {
                // An earlier one may have taken it along (a clone of a clone).
                let clone = AnyName::trusted(clone.clone());
                if self.exists(&clone) {
                    self.destroy(&clone, &all_below)?;
                }
            }
            // What is left, listed again (everything is unmounted already).
            self.list_full(
                name,
                DatasetTypes::FILESYSTEM | DatasetTypes::VOLUME | DatasetTypes::SNAPSHOT,
                &["mountpoint", "mounted", "canmount"],
                false,
            )
            .map_err(|e| e.with_operation(op))?
            .0
        };
        let snaps: Vec<crate::SnapshotName> = all
            .iter()
            .filter(|l| l.kind == DatasetType::Snapshot)
            .filter_map(|l| l.name.as_snapshot().cloned())
            .collect();
        let mut datasets: Vec<&Listed> = all
            .iter()
            .filter(|l| l.kind != DatasetType::Snapshot)
            .collect();
        datasets.sort_by(|a, b| b.name.cmp(&a.name));
        // Snapshots in one atomic call per pool (one pool here), then datasets deepest
        // first, each in its own kernel call.
        if !snaps.is_empty() {
            // They were just listed: no need to check that each exists.
            self.destroy_existing_snapshots(&snaps, false)?;
        }
        // Everything is unmounted and has no snapshots left: libzfs_core's destroy is all
        // that zfs_destroy would do now.
        for d in &datasets {
            let c = CString::new(d.name.as_str()).expect("no NUL");
            // A filesystem this call has just unmounted may be held a moment longer: every
            // writable mount starts an objset upgrade task (`dmu_objset_own`) that keeps a
            // long hold on the dataset until it ends; the unmount waits for the task
            // (`dmu_objset_upgrade_stop`), but the task clears its id before it lets go of the
            // hold, so a destroy right after the unmount can meet it (for long, when the
            // kernel thread is preempted under emulation). Only this call per object waits: a
            // refused channel program may already have destroyed part of the tree (a
            // filesystem with children is not among its up-front checks), so it is never run
            // again.
            let rc = crate::passing::retry(
                // SAFETY: NUL-terminated name.
                |_| unsafe { sys::lzc_destroy(c.as_ptr()) },
                |&rc| rc == libc::EBUSY && was_unmounted.contains(d.name.as_str()),
            );
            crate::handle::lzc(op, d.name.as_str(), rc).map_err(busy_destroy)?;
        }
        if partly_done {
            // Everything first listed is gone now, by the program or above.
            self.forget_destroyed(destroyed_by_program.iter(), &removable);
        } else {
            self.forget_destroyed(datasets.into_iter(), &removable);
        }
        Ok(())
    }

    /// After destroying `datasets`: keeps libzfs's mount cache true, and removes the empty
    /// mountpoint directories ZFS chose (`removable`).
    fn forget_destroyed<'l>(
        &self,
        datasets: impl Iterator<Item = &'l Listed>,
        removable: &std::collections::HashSet<AnyName>,
    ) {
        for d in datasets.filter(|d| d.kind != DatasetType::Snapshot) {
            let c = CString::new(d.name.as_str()).expect("no NUL");
            // SAFETY: live handle, NUL-terminated name; keeps libzfs's mount cache true.
            unsafe { sys::libzfs_mnttab_remove(self.raw().ptr(), c.as_ptr()) };
            if removable.contains(&d.name) {
                // Empty and unused now; a directory with anything in it stays.
                let _ = std::fs::remove_dir(&d.values[0]);
            }
        }
    }

    /// The fast path of a non-recursive destroy: an unmounted filesystem or volume goes in one
    /// kernel call, which itself refuses a dataset with children, snapshots, holds or users
    /// (then the full path explains why). True if it was destroyed.
    fn destroy_unmounted_leaf(&self, name: &str) -> bool {
        let c = CString::new(name).expect("validated names have no NUL");
        // SAFETY: mnttab is plain data that libzfs fills in; all-NULL pointers are valid.
        let mut entry: sys::mnttab = unsafe { std::mem::zeroed() };
        // SAFETY: live handle, NUL-terminated name, `entry` written by libzfs (its strings
        // point into libzfs's buffer and are not kept).
        if unsafe { sys::libzfs_mnttab_find(self.raw().ptr(), c.as_ptr(), &mut entry) } == 0 {
            return false;
        }
        // SAFETY: NUL-terminated name.
        unsafe { sys::lzc_destroy(c.as_ptr()) == 0 }
    }

    /// Renames a filesystem or volume (also to another parent in the same pool) or a snapshot
    /// (`zfs rename`); `from` and `to` are names of one kind.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if it does not exist or the new parent is missing;
    /// [`ErrorKind::AlreadyExists`] if the new name is taken; [`ErrorKind::InvalidArgument`]
    /// across pools or between types.
    #[doc(alias = "zfs_rename")]
    pub fn rename<N: ZfsName>(&self, from: &N, to: &N, opts: &RenameOptions) -> Result<()> {
        self.rename_any(&from.to_any(), &to.to_any(), opts)
    }

    /// One copy of the body above, whatever the argument types.
    fn rename_any(&self, from: &AnyName, to: &AnyName, opts: &RenameOptions) -> Result<()> {
        let op = "rename";
        let ds = self.dataset(from).map_err(|e| e.with_operation(op))?;
        if self.exists(to) {
            let (from, to) = (from.name(), to.name());
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                op,
                from,
                format!("'{to}' already exists"),
            ));
        }
        let (from, to) = (from.name(), to.name());
        let target = CString::new(to).expect("valid names have no NUL");
        // SAFETY: renameflags_t is a plain bitfield struct; zero means no flags.
        let mut flags: sys::renameflags_t = unsafe { std::mem::zeroed() };
        flags.set_recursive(opts.recursive as u32);
        self.check(op, from, || {
            // SAFETY: live dataset handle, NUL-terminated target, flags by value.
            unsafe { sys::zfs_rename(ds.raw().ptr(), target.as_ptr(), flags) }
        })
    }
}

/// The kernel refuses to destroy a filesystem or volume (snapshots go through
/// `destroy_snapshots`) with EEXIST (a child or snapshot made since it was listed) or EBUSY (in
/// use): for the caller both mean "busy".
/// Mounts back, last unmounted first, what a destroy that did not happen unmounted; any that
/// cannot be stays unmounted, so `error` says so rather than hide it.
fn mount_back(unmounted: &[(Dataset<'_>, std::path::PathBuf)], error: Error) -> Error {
    let failed: Vec<String> = unmounted
        .iter()
        .rev()
        .filter_map(|(d, at)| {
            let e = d.mount_at(at).err()?;
            Some(format!("{} at {}: {}", d.name(), at.display(), e.message()))
        })
        .collect();
    with_mount_failures(error, &failed)
}

/// `error`, its message followed by the filesystems that could not be mounted back.
fn with_mount_failures(error: Error, failed: &[String]) -> Error {
    if failed.is_empty() {
        return error;
    }
    let message = format!(
        "{}; mounting back failed too, left unmounted: {}",
        error.message(),
        failed.join("; ")
    );
    error.with_message(message)
}

fn busy_destroy(e: Error) -> Error {
    match e.errno().map(|n| n.0) {
        Some(libc::EEXIST | libc::EBUSY) => e
            .with_kind(ErrorKind::Busy)
            .with_reason(crate::Reason::DatasetBusy),
        _ => e,
    }
}

/// A refused snapshot destroy, as the kernel words it: EEXIST for a snapshot with clones,
/// EBUSY for a held one.
pub(crate) fn snapshot_refusal(e: Error) -> Error {
    let e = match e.errno().map(|n| n.0) {
        Some(libc::EEXIST) => e.with_kind(ErrorKind::Busy),
        _ => e,
    };
    e.with_reasons(|errno| match errno {
        libc::EEXIST => Some(crate::Reason::SnapshotIsCloned),
        libc::EBUSY => Some(crate::Reason::SnapshotIsHeld),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_mount_back_is_in_the_error() {
        let refused = || Error::new(ErrorKind::Busy, "destroy", "tank/a", "dataset is busy");
        assert_eq!(
            with_mount_failures(refused(), &[]).message(),
            "dataset is busy"
        );
        let e = with_mount_failures(refused(), &["tank/a/b at /mnt/b: busy".to_owned()]);
        assert_eq!(e.kind(), ErrorKind::Busy);
        assert_eq!(
            e.message(),
            "dataset is busy; mounting back failed too, left unmounted: tank/a/b at /mnt/b: busy"
        );
    }
}
