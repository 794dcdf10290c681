//! Snapshots: atomic creation of many at once, listing, destroying, rollback; holds,
//! bookmarks, clones and send/receive live in the submodules.

mod batch;
mod bookmarks;
mod clone;
mod diff;
mod holds;
mod receive;
mod redact;
mod resume;
mod send;
mod space;
mod stream_header;

use std::collections::HashSet;
use std::ffi::CString;

use libzfs_sys as sys;

pub use bookmarks::BookmarkInfo;
pub use diff::{Change, DiffEntry};
pub use holds::{TemporaryHolds, MAX_TAG_LEN};
pub use receive::{ReceiveOptions, ReceiveSnapshotOptions, ReceiveStats};
pub use resume::ResumeToken;
pub use send::{SendFlags, SendProgress};
pub use stream_header::{StreamFeatures, StreamHeader, StreamKind};

use crate::dataset::DatasetTypes;
use crate::handle::{lzc, Zfs};
use crate::name::{AnyName, DatasetName, SnapshotName};
use crate::nvlist::NvList;
use crate::options::{DestroySnapshotsOptions, RollbackOptions};
use crate::{Error, ErrorKind, Result};

/// A snapshot and its basic facts (`zfs list -t snapshot -p -o name,creation,createtxg,used`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SnapshotInfo {
    /// `fs@name`.
    pub name: SnapshotName,
    /// Creation time, seconds since the epoch.
    pub creation: u64,
    /// The transaction group it was taken in (orders snapshots exactly).
    pub createtxg: u64,
    /// Space used only by this snapshot, in bytes.
    pub used: u64,
}

fn names_list(names: impl IntoIterator<Item = impl AsRef<str>>) -> Result<NvList> {
    let mut list = NvList::new();
    for n in names {
        list.insert_flag(n.as_ref())?;
    }
    Ok(list)
}

impl Zfs {
    /// Takes every snapshot in `snapshots` in one atomic operation: all are created, or none
    /// (`zfs snapshot [-o PROP=VALUE]... SNAPSHOT...`). `props` are user properties
    /// (`module:name`) set on each. An empty list does nothing.
    ///
    /// Snapshots and what hangs on them: snapshot, hold, bookmark, clone, rollback, release.
    ///
    /// ```no_run
    /// use zfs_core::{DatasetName, RollbackOptions, Zfs};
    ///
    /// # fn main() -> zfs_core::Result<()> {
    /// let zfs = Zfs::open()?;
    /// let fs = DatasetName::new("tank/home")?;
    /// let monday = fs.snapshot("monday")?;
    /// // zfs snapshot -o com.example:kind=weekly tank/home@monday
    /// zfs.snapshot(&[monday.clone()], &[("com.example:kind", "weekly")])?;
    /// zfs.hold(&[(monday.clone(), "backup")])?; // zfs hold backup tank/home@monday
    /// // zfs bookmark tank/home@monday tank/home#monday
    /// zfs.bookmark(&[(monday.clone(), fs.bookmark("monday")?)])?;
    /// // zfs clone tank/home@monday tank/monday
    /// zfs.create_clone(&monday, &DatasetName::new("tank/monday")?, &[])?;
    /// zfs.rollback(&monday, &RollbackOptions::new())?; // zfs rollback tank/home@monday
    /// zfs.release(&[(monday, "backup")])?; // zfs release backup tank/home@monday
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// - [`ErrorKind::InvalidArgument`]: two snapshots of one dataset, snapshots in two pools.
    /// - [`ErrorKind::InvalidProperty`]: a native property (only user properties can be set
    ///   when a snapshot is taken).
    /// - [`ErrorKind::NotFound`] / [`ErrorKind::AlreadyExists`] and others from ZFS, with each
    ///   failed snapshot in [`Error::failures`].
    #[doc(alias = "lzc_snapshot")]
    pub fn snapshot(&self, snapshots: &[SnapshotName], props: &[(&str, &str)]) -> Result<()> {
        let op = "snapshot";
        let shown = snapshots.first().map_or(String::new(), ToString::to_string);
        if snapshots.is_empty() {
            return Ok(());
        }
        if let Some((k, _)) = props.iter().find(|(k, _)| !k.contains(':')) {
            return Err(Error::new(
                ErrorKind::InvalidProperty,
                op,
                shown,
                format!("'{k}' is not a user property; only those can be set on a new snapshot"),
            ));
        }
        // Checked here as the kernel would (EXDEV for each), so that every offending
        // snapshot is in Error::failures either way.
        let mut datasets = HashSet::new();
        let twice: Vec<(String, i32)> = snapshots
            .iter()
            .filter(|s| !datasets.insert(s.dataset()))
            .map(|s| (s.to_string(), libc::EXDEV))
            .collect();
        if !twice.is_empty() {
            let first = snapshots[0].dataset();
            return Err(
                Error::from_batch(op, twice[0].0.clone(), libc::EXDEV, twice)
                    .with_kind(ErrorKind::InvalidArgument)
                    .with_reason(crate::Reason::DuplicateSnapshots)
                    .with_message(format!(
                        "two snapshots of one dataset in one call (first: '{first}')"
                    )),
            );
        }
        let pool = snapshots[0].dataset().pool();
        let elsewhere: Vec<(String, i32)> = snapshots
            .iter()
            .filter(|s| s.dataset().pool() != pool)
            .map(|s| (s.to_string(), libc::EXDEV))
            .collect();
        if !elsewhere.is_empty() {
            let other = SnapshotName::trusted(elsewhere[0].0.clone());
            return Err(
                Error::from_batch(op, elsewhere[0].0.clone(), libc::EXDEV, elsewhere)
                    .with_kind(ErrorKind::InvalidArgument)
                    .with_reason(crate::Reason::PoolsDiffer)
                    .with_message(format!(
                        "snapshots span pools '{pool}' and '{}'",
                        other.dataset().pool()
                    )),
            );
        }
        let snaps = names_list(snapshots)?;
        let mut p = NvList::new();
        for (k, v) in props {
            p.insert_str(k, v)?;
        }
        batch::run(op, &shown, |errs| {
            // SAFETY: live lists; `errs` receives an owned list or NULL.
            unsafe {
                let props = if p.is_empty() {
                    std::ptr::null_mut()
                } else {
                    p.as_ptr()
                };
                sys::lzc_snapshot(snaps.as_ptr(), props, errs)
            }
        })
        .map_err(|e| {
            e.with_reasons(|errno| match errno {
                libc::EEXIST => Some(crate::Reason::SnapshotExists),
                libc::ENOENT => Some(crate::Reason::DatasetNotFound),
                _ => None,
            })
        })
    }

    /// Snapshots `dataset` and every filesystem and volume below it as `NAME@short_name`, in
    /// one atomic operation (`zfs snapshot -r`).
    ///
    /// # Errors
    /// As [`Zfs::snapshot`]; [`ErrorKind::InvalidName`] for a bad short name.
    pub fn snapshot_recursive(
        &self,
        dataset: &DatasetName,
        short_name: &str,
        props: &[(&str, &str)],
    ) -> Result<Vec<SnapshotName>> {
        dataset.snapshot(short_name)?;
        let names = self
            .list(dataset, DatasetTypes::FILESYSTEM | DatasetTypes::VOLUME)?
            .into_iter()
            .map(|l| SnapshotName::new(format!("{}@{short_name}", l.name)))
            .collect::<Result<Vec<_>>>()?;
        self.snapshot(&names, props)?;
        Ok(names)
    }

    /// The snapshots of `dataset`, oldest first
    /// (`zfs list -t snapshot -d 1 -s createtxg DATASET`).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the dataset does not exist.
    pub fn snapshots(&self, dataset: &DatasetName) -> Result<Vec<SnapshotInfo>> {
        let ds = self.open_dataset(
            dataset.as_str(),
            DatasetTypes::FILESYSTEM | DatasetTypes::VOLUME,
        )?;
        let mut out = Vec::new();
        for l in ds.children(DatasetTypes::SNAPSHOT)? {
            let s = self.dataset(&l.name)?;
            let AnyName::Snapshot(name) = l.name else {
                continue; // only snapshots were asked for
            };
            out.push(SnapshotInfo {
                creation: s.creation()?,
                createtxg: s.property_u64("createtxg")?,
                used: s.used()?,
                name,
            });
        }
        out.sort_by_key(|s| s.createtxg);
        Ok(out)
    }

    /// Destroys snapshots in one call (`defer`: those that are held or cloned are marked and
    /// go when released, `zfs destroy -d`).
    ///
    /// Unlike libzfs_core, which skips names that do not exist, this refuses the call if any
    /// snapshot is missing, so a typo is never a silent success. An empty list does nothing.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] listing the missing ones (nothing destroyed);
    /// [`ErrorKind::Busy`] for held or cloned snapshots without `defer`, each in
    /// [`Error::failures`].
    #[doc(alias = "lzc_destroy_snaps")]
    pub fn destroy_snapshots(
        &self,
        snapshots: &[SnapshotName],
        opts: &DestroySnapshotsOptions,
    ) -> Result<()> {
        let op = "destroy";
        if snapshots.is_empty() {
            return Ok(());
        }
        let missing: Vec<&str> = snapshots
            .iter()
            .filter(|s| !self.exists(*s))
            .map(|s| s.as_str())
            .collect();
        if !missing.is_empty() {
            let failures = missing
                .iter()
                .map(|m| (m.to_string(), libc::ENOENT))
                .collect();
            return Err(Error::from_batch(op, missing[0], libc::ENOENT, failures)
                .with_reason(crate::Reason::SnapshotNotFound));
        }
        self.destroy_existing_snapshots(snapshots, opts.defer)
    }

    /// `lzc_destroy_snaps` of snapshots known to exist.
    pub(crate) fn destroy_existing_snapshots(
        &self,
        snapshots: &[SnapshotName],
        defer: bool,
    ) -> Result<()> {
        let op = "destroy";
        let list = names_list(snapshots)?;
        let defer = if defer {
            sys::boolean_t::B_TRUE
        } else {
            sys::boolean_t::B_FALSE
        };
        batch::run(op, snapshots[0].as_str(), |errs| {
            // SAFETY: live list; `errs` receives an owned list or NULL.
            unsafe { sys::lzc_destroy_snaps(list.as_ptr(), defer, errs) }
        })
        .map_err(crate::dataset::snapshot_refusal)
    }

    /// Rolls `dataset` back to its latest snapshot, whatever it is called, and returns it
    /// (`zfs rollback` of the newest snapshot, found by the kernel in the same transaction, so
    /// a snapshot taken meanwhile cannot be skipped).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the dataset does not exist or has no snapshot;
    /// [`ErrorKind::Busy`] if it cannot be rolled back now (mounted and busy).
    #[doc(alias = "lzc_rollback")]
    pub fn rollback_latest(&self, dataset: &DatasetName) -> Result<SnapshotName> {
        let op = "rollback";
        let fs = CString::new(dataset.as_str()).expect("no NUL");
        let mut buf = vec![0u8; sys::ZFS_MAX_DATASET_NAME_LEN as usize];
        // SAFETY: NUL-terminated name; `buf` holds its length in bytes for the answer.
        let rc =
            unsafe { sys::lzc_rollback(fs.as_ptr(), buf.as_mut_ptr().cast(), buf.len() as i32) };
        lzc(op, dataset.as_str(), rc).map_err(|e| match e.errno().map(|n| n.0) {
            Some(libc::ESRCH) | Some(libc::EINVAL) if self.exists(dataset) => e
                .with_kind(ErrorKind::NotFound)
                .with_message("the dataset has no snapshot")
                .with_reason(crate::Reason::SnapshotNotFound),
            Some(libc::EBUSY) => e.with_reason(crate::Reason::DatasetBusy),
            _ => e,
        })?;
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        SnapshotName::new(String::from_utf8_lossy(&buf[..end]).into_owned())
    }

    /// Rolls a dataset back to `snapshot`. If newer snapshots exist, they are destroyed first
    /// when `destroy_newer` is set (`zfs rollback -r`), else the rollback is refused.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the snapshot does not exist (or goes meanwhile: nothing is
    /// destroyed then); [`ErrorKind::Busy`] if newer snapshots exist without `destroy_newer`,
    /// or they have clones or holds.
    #[doc(alias = "lzc_rollback_to")]
    pub fn rollback(&self, snapshot: &SnapshotName, opts: &RollbackOptions) -> Result<()> {
        let op = "rollback to";
        let missing = || {
            Error::new(
                ErrorKind::NotFound,
                op,
                snapshot.as_str(),
                "no such snapshot",
            )
            .with_reason(crate::Reason::SnapshotNotFound)
        };
        // The target's createtxg comes from one open handle: a target that is gone fails
        // here, so there is no value to default, and a default of 0 would make every
        // snapshot "newer" (and destroy it).
        let target = self
            .dataset(snapshot)
            .and_then(|handle| handle.property_u64("createtxg"))
            .map_err(|e| match e.kind() {
                ErrorKind::NotFound => missing(),
                _ => e.with_operation(op),
            })?;
        let all = self.snapshots(&snapshot.dataset())?;
        // Destroyed (and maybe taken again) since it was opened: nothing is destroyed.
        if !all
            .iter()
            .any(|s| &s.name == snapshot && s.createtxg == target)
        {
            return Err(
                missing().with_message("the snapshot was destroyed or taken again meanwhile")
            );
        }
        let newer: Vec<SnapshotName> = all
            .into_iter()
            .filter(|s| s.createtxg > target)
            .map(|s| s.name)
            .collect();
        // The kernel refuses to roll back past a bookmark too; `zfs rollback -r` destroys
        // newer bookmarks with newer snapshots.
        let newer_marks: Vec<crate::BookmarkName> = self
            .bookmarks_with_txg(&snapshot.dataset())?
            .into_iter()
            .filter(|(_, txg)| *txg > target)
            .map(|(mark, _)| mark)
            .collect();
        if !newer.is_empty() || !newer_marks.is_empty() {
            if !opts.destroy_newer {
                let shown: Vec<&str> = newer
                    .iter()
                    .map(|s| s.as_str())
                    .chain(newer_marks.iter().map(|b| b.as_str()))
                    .collect();
                return Err(Error::new(
                    ErrorKind::Busy,
                    op,
                    snapshot.as_str(),
                    format!(
                        "more recent snapshots or bookmarks exist ({}); use destroy_newer",
                        shown.join(", ")
                    ),
                )
                .with_reason(crate::Reason::SnapshotNotLatest));
            }
            self.destroy_snapshots(&newer, &DestroySnapshotsOptions::new())
                .map_err(|e| e.with_operation(op))?;
            self.destroy_bookmarks(&newer_marks)
                .map_err(|e| e.with_operation(op))?;
        }
        let fs = CString::new(snapshot.dataset().as_str()).expect("no NUL");
        let snap = CString::new(snapshot.as_str()).expect("no NUL");
        // SAFETY: NUL-terminated names.
        lzc(op, snapshot.as_str(), unsafe {
            sys::lzc_rollback_to(fs.as_ptr(), snap.as_ptr())
        })
        .map_err(|e| match e.errno().map(|n| n.0) {
            // A snapshot taken since the check above.
            Some(libc::EEXIST) => e
                .with_kind(ErrorKind::Busy)
                .with_reason(crate::Reason::SnapshotNotLatest),
            Some(libc::EBUSY) => e.with_reason(crate::Reason::DatasetBusy),
            _ => e,
        })
    }
}
