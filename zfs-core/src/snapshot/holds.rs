//! User holds on snapshots (`zfs hold`, `zfs release`, `zfs holds`).

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::ptr;

use libzfs_sys as sys;

use super::batch;
use crate::handle::{lzc, Zfs};
use crate::name::SnapshotName;
use crate::nvlist::NvList;
use crate::{Error, ErrorKind, Result};

/// Holds grouped by call: (snapshot, tag) pairs.
type Rounds<'a> = Vec<Vec<(SnapshotName, &'a OsStr)>>;

/// `holds` split into calls that each place at most one tag per snapshot (the request is
/// keyed by snapshot name), in the order given.
fn hold_rounds<'a>(holds: &'a [(SnapshotName, impl AsRef<OsStr>)]) -> Result<Rounds<'a>> {
    let mut rounds: Rounds<'a> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut per_snapshot = std::collections::HashMap::new();
    for (snap, tag) in holds {
        let tag = tag.as_ref();
        if !seen.insert((snap.as_str(), tag)) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "hold",
                snap.as_str(),
                format!(
                    "tag '{}' is listed twice for this snapshot",
                    tag.to_string_lossy()
                ),
            ));
        }
        let n: &mut usize = per_snapshot.entry(snap.as_str()).or_default();
        if rounds.len() == *n {
            rounds.push(Vec::new());
        }
        rounds[*n].push((snap.clone(), tag));
        *n += 1;
    }
    Ok(rounds)
}

/// Holds placed by [`Zfs::hold_temporary`]: released by the kernel when this is dropped
/// (it owns the cleanup descriptor the holds are tied to), or when the process exits.
#[derive(Debug)]
#[must_use = "the holds are released as soon as this is dropped"]
pub struct TemporaryHolds {
    _cleanup: std::os::fd::OwnedFd,
}

/// The longest hold tag (`MAXNAMELEN` less the NUL).
pub const MAX_TAG_LEN: usize = 255;

fn check_tag(tag: &OsStr, op: &'static str) -> Result<()> {
    let bytes = tag.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_TAG_LEN || bytes.contains(&0) {
        return Err(Error::new(
            ErrorKind::InvalidName,
            op,
            tag.to_string_lossy().replace('\0', "\\0"),
            format!("hold tags are 1 to {MAX_TAG_LEN} bytes without NUL"),
        ));
    }
    Ok(())
}

impl Zfs {
    /// Places holds (`snapshot`, `tag`): all of them, or none (`zfs hold TAG SNAPSHOT...`,
    /// several tags at once). A held snapshot cannot be destroyed until every hold is
    /// released. Several tags on one snapshot are fine (as with `zfs hold`); an empty list does
    /// nothing; a missing snapshot is an error (libzfs_core would skip it silently).
    ///
    /// The kernel takes one tag per snapshot per call, so tags beyond the first on a snapshot
    /// go in further calls; if a later call fails, the holds of the earlier ones are released
    /// before the error is returned.
    ///
    /// # Errors
    /// [`ErrorKind::AlreadyExists`] for a tag already on that snapshot, [`ErrorKind::NotFound`]
    /// for a missing snapshot, each in [`Error::failures`]; [`ErrorKind::InvalidName`] for a
    /// bad tag; [`ErrorKind::InvalidArgument`] for a (snapshot, tag) pair listed twice.
    #[doc(alias = "lzc_hold")]
    pub fn hold<T: AsRef<OsStr>>(&self, holds: &[(SnapshotName, T)]) -> Result<()> {
        self.hold_with(holds, -1)
    }

    /// Places holds as [`Zfs::hold`] does, for as long as the returned [`TemporaryHolds`]
    /// lives: the kernel releases them when it is dropped, and when the process dies
    /// (`lzc_hold` with a cleanup descriptor, as `zfs send` holds what it sends). For work that
    /// must keep snapshots from being destroyed under it and leave nothing behind.
    ///
    /// # Errors
    /// As [`Zfs::hold`]; an I/O error if `/dev/zfs` cannot be opened.
    #[doc(alias = "lzc_hold")]
    pub fn hold_temporary<T: AsRef<OsStr>>(
        &self,
        holds: &[(SnapshotName, T)],
    ) -> Result<TemporaryHolds> {
        let device = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/zfs")
            .map_err(|e| {
                Error::from_errno("hold", "/dev/zfs", e.raw_os_error().unwrap_or(libc::EIO))
            })?;
        let cleanup = std::os::fd::OwnedFd::from(device);
        self.hold_with(holds, std::os::fd::AsRawFd::as_raw_fd(&cleanup))?;
        Ok(TemporaryHolds { _cleanup: cleanup })
    }

    /// Holds `tag` on the snapshot named like `snapshot` of its dataset and of every
    /// descendant that has one (`zfs hold -r TAG SNAPSHOT`), all or none; returns the
    /// snapshots held.
    ///
    /// # Errors
    /// As [`Zfs::hold`]; [`ErrorKind::NotFound`] if `snapshot` itself does not exist.
    pub fn hold_recursive(&self, snapshot: &SnapshotName, tag: &str) -> Result<Vec<SnapshotName>> {
        let snaps = self
            .snapshot_family(snapshot)
            .map_err(|e| e.with_operation("hold"))?;
        let pairs: Vec<(SnapshotName, &str)> = snaps.iter().map(|s| (s.clone(), tag)).collect();
        self.hold(&pairs)?;
        Ok(snaps)
    }

    /// Releases `tag` from the snapshot named like `snapshot` of its dataset and every
    /// descendant (`zfs release -r TAG SNAPSHOT`), all or none; returns the snapshots
    /// released.
    ///
    /// # Errors
    /// As [`Zfs::release`]: one of them without the tag is refused.
    pub fn release_recursive(
        &self,
        snapshot: &SnapshotName,
        tag: &str,
    ) -> Result<Vec<SnapshotName>> {
        let snaps = self
            .snapshot_family(snapshot)
            .map_err(|e| e.with_operation("release"))?;
        let pairs: Vec<(SnapshotName, &str)> = snaps.iter().map(|s| (s.clone(), tag)).collect();
        self.release(&pairs)?;
        Ok(snaps)
    }

    /// `snapshot` and the snapshots of the same short name of its dataset's descendants.
    fn snapshot_family(&self, snapshot: &SnapshotName) -> Result<Vec<SnapshotName>> {
        if !self.exists(snapshot) {
            return Err(Error::new(
                ErrorKind::NotFound,
                "find",
                snapshot.as_str(),
                "no such snapshot",
            )
            .with_reason(crate::Reason::SnapshotNotFound));
        }
        let types = crate::DatasetTypes::SNAPSHOT;
        let short = snapshot.short_name();
        Ok(self
            .list(&snapshot.dataset(), types)?
            .into_iter()
            .filter_map(|l| match l.name {
                crate::AnyName::Snapshot(s) if s.short_name() == short => Some(s),
                _ => None,
            })
            .collect())
    }

    /// [`Zfs::hold`] with `cleanup` as the cleanup descriptor (-1: none).
    fn hold_with<T: AsRef<OsStr>>(&self, holds: &[(SnapshotName, T)], cleanup: i32) -> Result<()> {
        let op = "hold";
        if holds.is_empty() {
            return Ok(());
        }
        for (_, tag) in holds {
            check_tag(tag.as_ref(), op)?;
        }
        // libzfs_core skips snapshots that do not exist; refuse them instead.
        let missing: Vec<(String, i32)> = holds
            .iter()
            .filter(|(snap, _)| !self.exists(snap))
            .map(|(snap, _)| (snap.to_string(), libc::ENOENT))
            .collect();
        if !missing.is_empty() {
            return Err(
                Error::from_batch(op, holds[0].0.as_str(), libc::ENOENT, missing)
                    .with_reason(crate::Reason::SnapshotNotFound),
            );
        }
        let rounds = hold_rounds(holds)?;
        for (at, round) in rounds.iter().enumerate() {
            let mut list = NvList::new();
            for (snap, tag) in round {
                list.insert_str_bytes(snap.as_str().as_bytes(), tag.as_bytes())?;
            }
            let placed = batch::run(op, holds[0].0.as_str(), |errs| {
                // SAFETY: live list; `cleanup` is -1 (the holds persist) or an open
                // descriptor of /dev/zfs that outlives the call.
                unsafe { sys::lzc_hold(list.as_ptr(), cleanup, errs) }
            });
            if let Err(e) = placed {
                let e = e.with_reasons(|errno| {
                    (errno == libc::EEXIST).then_some(crate::Reason::HoldExists)
                });
                let done: Vec<(SnapshotName, &OsStr)> =
                    rounds[..at].iter().flatten().cloned().collect();
                // Best effort: these holds were placed by this call a moment ago.
                let _ = self.release_unchecked(&done);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Releases holds (`snapshot`, `tag`) in one atomic call (`zfs release TAG SNAPSHOT...`).
    /// An empty list does nothing.
    ///
    /// libzfs_core silently ignores a tag that is not held; this refuses the call instead, so
    /// a mistyped tag is never a silent success.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] for a tag that is not on that snapshot or a missing snapshot,
    /// with each in [`Error::failures`]; nothing is released.
    #[doc(alias = "lzc_release")]
    pub fn release<T: AsRef<OsStr>>(&self, holds: &[(SnapshotName, T)]) -> Result<()> {
        let op = "release";
        if holds.is_empty() {
            return Ok(());
        }
        let mut missing = Vec::new();
        for (snap, tag) in holds {
            let tag = tag.as_ref();
            check_tag(tag, op)?;
            let held = self.holds(snap).map_err(|e| e.with_operation(op))?;
            if !held.iter().any(|h| h == tag) {
                let shown = tag.to_string_lossy();
                missing.push((format!("{snap} (tag '{shown}')"), libc::ESRCH));
            }
        }
        if !missing.is_empty() {
            return Err(
                Error::from_batch(op, holds[0].0.as_str(), libc::ESRCH, missing)
                    .with_kind(ErrorKind::NotFound)
                    .with_reason(crate::Reason::HoldNotFound),
            );
        }
        self.release_unchecked(holds)
    }

    /// `lzc_release` of `holds` as they are (tags that are not held are skipped by the kernel).
    fn release_unchecked<T: AsRef<OsStr>>(&self, holds: &[(SnapshotName, T)]) -> Result<()> {
        let op = "release";
        if holds.is_empty() {
            return Ok(());
        }
        let mut list = NvList::new();
        for (snap, tag) in holds {
            let mut tags = match list.get_list(snap.as_str()) {
                Some(existing) => existing.to_owned(),
                None => NvList::new(),
            };
            tags.insert_flag_bytes(tag.as_ref().as_bytes())?;
            list.insert_list(snap.as_str(), &tags)?;
        }
        batch::run(op, holds[0].0.as_str(), |errs| {
            // SAFETY: live list.
            unsafe { sys::lzc_release(list.as_ptr(), errs) }
        })
    }

    /// The hold tags on a snapshot (`zfs holds SNAPSHOT`), sorted, byte for byte as stored (a
    /// tag placed by other tools need not be UTF-8; compare with `==` against `&str` as usual).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the snapshot does not exist.
    #[doc(alias = "lzc_get_holds")]
    pub fn holds(&self, snapshot: &SnapshotName) -> Result<Vec<OsString>> {
        let name = CString::new(snapshot.as_str()).expect("no NUL");
        let mut out: *mut sys::nvlist_t = ptr::null_mut();
        // SAFETY: NUL-terminated name; `out` receives an owned list.
        lzc("get holds of", snapshot.as_str(), unsafe {
            sys::lzc_get_holds(name.as_ptr(), &mut out)
        })?;
        // SAFETY: the call succeeded and handed us the list.
        let list = unsafe { NvList::from_raw(out) };
        let mut tags: Vec<OsString> = list
            .iter()
            .map(|p| OsStr::from_bytes(p.name_bytes()).to_owned())
            .collect();
        tags.sort();
        Ok(tags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: &str) -> SnapshotName {
        SnapshotName::new(n).unwrap()
    }

    #[test]
    fn rounds_carry_one_tag_per_snapshot_in_order() {
        let holds = [
            (s("p/a@1"), "x"),
            (s("p/a@1"), "y"),
            (s("p/b@1"), "x"),
            (s("p/a@1"), "z"),
        ];
        let rounds = hold_rounds(&holds).unwrap();
        let shown: Vec<Vec<String>> = rounds
            .iter()
            .map(|r| {
                r.iter()
                    .map(|(s, t)| format!("{s}:{}", t.to_string_lossy()))
                    .collect()
            })
            .collect();
        assert_eq!(
            shown,
            [vec!["p/a@1:x", "p/b@1:x"], vec!["p/a@1:y"], vec!["p/a@1:z"]]
        );
    }

    #[test]
    fn a_pair_listed_twice_is_refused() {
        let holds = [(s("p/a@1"), "x"), (s("p/a@1"), "x")];
        let e = hold_rounds(&holds).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    }
}
