//! Space per user, group and project (`zfs userspace`, `zfs groupspace`,
//! `zfs projectspace`), with the quotas set on each.

use std::collections::BTreeMap;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use libzfs_sys as sys;

use super::Dataset;
use crate::Result;

/// Whose space: the three kinds of owner OpenZFS accounts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SpaceOwner {
    /// Users (`zfs userspace`, `userused@`, `userquota@`).
    User,
    /// Groups (`zfs groupspace`, `groupused@`, `groupquota@`).
    Group,
    /// Projects (`zfs projectspace`, `projectused@`, `projectquota@`; needs the
    /// `project_quota` feature).
    Project,
}

impl SpaceOwner {
    /// The four properties read for it: bytes used, byte quota, objects used, object quota.
    fn props(self) -> [sys::zfs_userquota_prop_t; 4] {
        use sys::zfs_userquota_prop_t as P;
        match self {
            SpaceOwner::User => [
                P::ZFS_PROP_USERUSED,
                P::ZFS_PROP_USERQUOTA,
                P::ZFS_PROP_USEROBJUSED,
                P::ZFS_PROP_USEROBJQUOTA,
            ],
            SpaceOwner::Group => [
                P::ZFS_PROP_GROUPUSED,
                P::ZFS_PROP_GROUPQUOTA,
                P::ZFS_PROP_GROUPOBJUSED,
                P::ZFS_PROP_GROUPOBJQUOTA,
            ],
            SpaceOwner::Project => [
                P::ZFS_PROP_PROJECTUSED,
                P::ZFS_PROP_PROJECTQUOTA,
                P::ZFS_PROP_PROJECTOBJUSED,
                P::ZFS_PROP_PROJECTOBJQUOTA,
            ],
        }
    }
}

/// One owner's line of `zfs userspace -n -p -o type,name,used,quota,objused,objquota`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SpaceUsage {
    /// The numeric id: uid, gid or project id (or the RID of a Windows SID).
    pub id: u64,
    /// The SID domain of an SMB user or group, `None` for POSIX ids.
    pub domain: Option<String>,
    /// The user or group name this system gives the id (`None` for projects, SIDs and ids
    /// with no name here).
    pub name: Option<String>,
    /// Bytes charged to it.
    pub used: u64,
    /// Its byte quota (`userquota@ID`), if set.
    pub quota: Option<u64>,
    /// Objects (files, directories, ...) charged to it.
    pub objects_used: u64,
    /// Its object quota (`userobjquota@ID`), if set.
    pub object_quota: Option<u64>,
}

/// What the callback gathers: per (domain, id), the four figures.
type Gathered = BTreeMap<(String, u64), [Option<u64>; 4]>;

struct State {
    slot: usize,
    out: Gathered,
    panic: Option<Box<dyn std::any::Any + Send>>,
}

/// `zfs_userspace_cb_t` before OpenZFS 2.4.
#[cfg(not(zfs_2_4))]
unsafe extern "C" fn each(
    arg: *mut c_void,
    domain: *const c_char,
    rid: sys::uid_t,
    space: u64,
) -> c_int {
    // SAFETY: libzfs calls it as `record` requires: see there.
    unsafe { record(arg, domain, rid, space) }
}

/// `zfs_userspace_cb_t` from OpenZFS 2.4, which also passes the default quota of the kind
/// read (the `defaultuserquota` property and its siblings). It is left out, so that
/// [`SpaceUsage::quota`] is the quota set for that id on every release, as its doc says.
#[cfg(zfs_2_4)]
unsafe extern "C" fn each(
    arg: *mut c_void,
    domain: *const c_char,
    rid: sys::uid_t,
    space: u64,
    _default_quota: u64,
) -> c_int {
    // SAFETY: libzfs calls it as `record` requires: see there.
    unsafe { record(arg, domain, rid, space) }
}

/// The body of [`each`]: records one figure of one owner.
///
/// # Safety
/// `arg` is the `State` handed to zfs_userspace below, alive for the call and touched by no
/// one else meanwhile; `domain` is NULL or NUL-terminated and alive for the call.
unsafe fn record(arg: *mut c_void, domain: *const c_char, rid: sys::uid_t, space: u64) -> c_int {
    // SAFETY: `arg` is the `State` handed to zfs_userspace below, alive for the call.
    let state = unsafe { &mut *arg.cast::<State>() };
    let result = catch_unwind(AssertUnwindSafe(|| {
        let domain = if domain.is_null() {
            String::new()
        } else {
            // SAFETY: libzfs passes a NUL-terminated domain that lives for the call.
            unsafe { CStr::from_ptr(domain) }
                .to_string_lossy()
                .into_owned()
        };
        let entry = state.out.entry((domain, u64::from(rid))).or_default();
        entry[state.slot] = Some(space);
    }));
    match result {
        Ok(()) => 0,
        Err(p) => {
            state.panic = Some(p);
            1
        }
    }
}

impl Dataset<'_> {
    /// Space and quotas per user, group or project of this filesystem or snapshot (`zfs userspace -n -p`,
    /// `zfs groupspace`, `zfs projectspace`), sorted by domain and id; ids with a quota and
    /// nothing charged are listed too. Names come from this system's user and group
    /// databases. Set a quota with [`Dataset::set_property`]`("userquota@ID", "10G")`.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported) for a volume,
    /// or a pool without the feature (`project_quota` for projects, `userobj_accounting` for
    /// object counts).
    #[doc(alias = "zfs_userspace")]
    pub fn userspace(&self, owner: SpaceOwner) -> Result<Vec<SpaceUsage>> {
        let op = "list space of";
        // Said here, not left to the kernel: while a new volume's device node is being set
        // up the kernel answers EBUSY instead.
        if self.kind() == super::DatasetType::Volume {
            return Err(crate::Error::new(
                crate::ErrorKind::NotSupported,
                op,
                self.name().as_str(),
                "a volume has no per-user, group or project accounting",
            ));
        }
        let mut state = State {
            slot: 0,
            out: BTreeMap::new(),
            panic: None,
        };
        self.refresh()?;
        for (slot, prop) in owner.props().into_iter().enumerate() {
            state.slot = slot;
            let rc = self.zfs().check(op, self.name().as_str(), || {
                // SAFETY: live dataset handle; `state` outlives the call and is only touched
                // through the callback, on this thread.
                unsafe {
                    sys::zfs_userspace(self.raw().ptr(), prop, Some(each), (&raw mut state).cast())
                }
            });
            if let Some(p) = state.panic.take() {
                std::panic::resume_unwind(p);
            }
            rc?;
        }
        Ok(state
            .out
            .into_iter()
            .map(
                |((domain, id), [used, quota, objused, objquota])| SpaceUsage {
                    name: if domain.is_empty() {
                        owner_name(owner, id)
                    } else {
                        None
                    },
                    domain: (!domain.is_empty()).then_some(domain),
                    id,
                    used: used.unwrap_or(0),
                    quota: quota.filter(|&q| q != 0),
                    objects_used: objused.unwrap_or(0),
                    object_quota: objquota.filter(|&q| q != 0),
                },
            )
            .collect())
    }
}

/// The name of user or group `id` on this system, as `zfs userspace` shows it without `-n`.
fn owner_name(owner: SpaceOwner, id: u64) -> Option<String> {
    let id = u32::try_from(id).ok()?;
    match owner {
        SpaceOwner::User => with_growing_buffer(|buf| {
            // SAFETY: passwd is a plain C struct; zero is a valid starting state.
            let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
            let mut found: *mut libc::passwd = std::ptr::null_mut();
            // SAFETY: every pointer is live for the call; `buf` holds its length.
            let rc = unsafe {
                libc::getpwuid_r(id, &mut entry, buf.as_mut_ptr(), buf.len(), &mut found)
            };
            if rc != 0 {
                return Err(rc);
            }
            if found.is_null() {
                return Ok(None); // no such user
            }
            // SAFETY: on success pw_name points into `buf` (alive here), NUL-terminated.
            let name = unsafe { CStr::from_ptr(entry.pw_name) };
            Ok(Some(name.to_string_lossy().into_owned()))
        }),
        SpaceOwner::Group => with_growing_buffer(|buf| {
            // SAFETY: group is a plain C struct; zero is a valid starting state.
            let mut entry: libc::group = unsafe { std::mem::zeroed() };
            let mut found: *mut libc::group = std::ptr::null_mut();
            // SAFETY: every pointer is live for the call; `buf` holds its length.
            let rc = unsafe {
                libc::getgrgid_r(id, &mut entry, buf.as_mut_ptr(), buf.len(), &mut found)
            };
            if rc != 0 {
                return Err(rc);
            }
            if found.is_null() {
                return Ok(None); // no such group
            }
            // SAFETY: on success gr_name points into `buf` (alive here), NUL-terminated.
            let name = unsafe { CStr::from_ptr(entry.gr_name) };
            Ok(Some(name.to_string_lossy().into_owned()))
        }),
        SpaceOwner::Project => None,
    }
}

/// The first buffer for `getpwuid_r`/`getgrgid_r`, and the most tried: a group's entry holds
/// all its members, and a large group does not fit in the first (`ERANGE`).
const NAME_BUFFER: std::ops::RangeInclusive<usize> = (16 << 10)..=(1 << 20);

/// Runs `lookup` with a buffer that doubles while it answers `ERANGE`; `None` on another
/// error or a buffer that is still too small at the most.
fn with_growing_buffer<T>(
    mut lookup: impl FnMut(&mut [c_char]) -> std::result::Result<Option<T>, c_int>,
) -> Option<T> {
    let mut len = *NAME_BUFFER.start();
    loop {
        let mut buf = vec![0 as c_char; len];
        match lookup(&mut buf) {
            Ok(found) => return found,
            Err(libc::ERANGE) if len < *NAME_BUFFER.end() => len *= 2,
            Err(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_too_big_for_the_first_buffer_gets_a_bigger_one() {
        let mut tried = Vec::new();
        let name = with_growing_buffer(|buf| {
            tried.push(buf.len());
            if buf.len() < 100_000 {
                Err(libc::ERANGE)
            } else {
                Ok(Some("big-group"))
            }
        });
        assert_eq!(name, Some("big-group"));
        assert_eq!(tried, [16 << 10, 32 << 10, 64 << 10, 128 << 10]);
        // Never above the most, and other errors are not retried.
        let mut last = 0;
        assert_eq!(
            with_growing_buffer::<()>(|buf| {
                last = buf.len();
                Err(libc::ERANGE)
            }),
            None
        );
        assert_eq!(last, 1 << 20);
        let mut calls = 0;
        assert_eq!(
            with_growing_buffer::<()>(|_| {
                calls += 1;
                Err(libc::EIO)
            }),
            None
        );
        assert_eq!(calls, 1);
    }
}
