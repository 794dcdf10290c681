//! Changing user properties on many datasets at once: one channel program, which checks every
//! change and then makes them all in one transaction group.
//!
//! A loop of `zfs set` waits for one transaction group per dataset; the kernel's
//! `zfs.sync.set_prop` and `zfs.sync.inherit` take user properties, so a program does the
//! whole batch in one. Native properties are not among them (the kernel's channel programs
//! set only user properties), and neither is `zfs inherit -S`.

use std::ffi::CString;

use libzfs_sys as sys;

use crate::handle::Zfs;
use crate::name::{AnyName, ZfsName};
use crate::options::PropertyBatchOptions;
use crate::{Error, ErrorKind, InheritOptions, ProgramOptions, ProgramTable, ProgramValue, Result};

/// Longest user property name, in bytes (the kernel's `ZAP_MAXNAMELEN` less its NUL).
pub const MAX_USER_PROPERTY_NAME: usize = 255;

/// Longest user property value, in bytes (the kernel's `ZAP_MAXVALUELEN` less its NUL).
pub const MAX_USER_PROPERTY_VALUE: usize = sys::ZFS_MAXPROPLEN as usize - 1;

/// Most changes one program makes; a larger batch goes in consecutive chunks. Each change
/// costs the program about 40 Lua instructions and, with its strings, at most ~8.7 KiB of its
/// memory: 20 000 changes stay under a tenth of the 100 M instruction limit and, at the
/// longest values, under the 100 MiB memory limit once the kernel's copies are counted.
pub const MAX_CHANGES_PER_PROGRAM: usize = 20_000;

/// Bytes of names and values one program takes at most; a chunk ends before this many.
const MAX_BYTES_PER_PROGRAM: usize = 24 << 20;

/// Checks every change, then makes them all: `{failed = {i...}, errnos = {e...}}` when a check
/// refuses (nothing changed), `{stopped = i, errno = e}` if a change fails after the checks,
/// `{done = n}` otherwise.
const PROGRAM: &str = r#"
local a = ...
-- Change `i` through `lib`: zfs.check (judge it) or zfs.sync (make it).
local function change(lib, i)
    if a.inherit[i] == "y" then return lib.inherit(a.targets[i], a.props[i]) end
    return lib.set_prop(a.targets[i], a.props[i], a.values[i])
end
local failed, errnos = {}, {}
for i = 1, #a.targets do
    local err = change(zfs.check, i)
    if err ~= 0 then failed[#failed + 1] = i; errnos[#errnos + 1] = err end
end
if #failed > 0 then return {failed = failed, errnos = errnos} end
for i = 1, #a.targets do
    local err = change(zfs.sync, i)
    if err ~= 0 then return {stopped = i, errno = err} end
end
return {done = #a.targets}
"#;

/// Most objects [`TREE_INHERIT`] walks before it gives the tree back to the caller (nothing
/// changed): 50 000 names of at most 255 bytes stay well inside the program's memory limit,
/// and walking, checking and inheriting each costs ~100 Lua instructions of the 100 M allowed.
const MAX_TREE_OBJECTS: usize = 50_000;

/// A recursive `zfs inherit` of a user property done wholly in the kernel: walks the tree
/// (each dataset, its snapshots, its children), checks every inherit, then makes them all.
/// `{done = n}`; `{refused = i}` or `{too_many = true}` with nothing changed; `{stopped = i,
/// errno = e}` if an inherit fails after the checks.
const TREE_INHERIT: &str = r#"
local a = ...
local all = {}
local function walk(ds)
    if #all >= a.max then return false end
    all[#all + 1] = ds
    for snap in zfs.list.snapshots(ds) do all[#all + 1] = snap end
    for child in zfs.list.children(ds) do
        if walk(child) == false then return false end
    end
    return true
end
if walk(a.top) == false or #all > a.max then return {too_many = true} end
for i = 1, #all do
    if zfs.check.inherit(all[i], a.prop) ~= 0 then return {refused = i} end
end
for i = 1, #all do
    local err = zfs.sync.inherit(all[i], a.prop)
    if err ~= 0 then return {stopped = i, errno = err} end
end
return {done = #all}
"#;

/// One change of a user property in a batch for [`Zfs::change_user_properties`]: `zfs set`
/// or `zfs inherit` of one property on one filesystem, volume or snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserPropertyChange {
    target: AnyName,
    property: String,
    /// `None`: inherit.
    value: Option<String>,
}

impl UserPropertyChange {
    /// `zfs set PROPERTY=VALUE TARGET`.
    pub fn set(target: &impl ZfsName, property: &str, value: &str) -> UserPropertyChange {
        UserPropertyChange {
            target: target.to_any(),
            property: property.to_owned(),
            value: Some(value.to_owned()),
        }
    }

    /// `zfs inherit PROPERTY TARGET`: clears a local value, so the parent's shows through.
    pub fn inherit(target: &impl ZfsName, property: &str) -> UserPropertyChange {
        UserPropertyChange {
            target: target.to_any(),
            property: property.to_owned(),
            value: None,
        }
    }

    /// The filesystem, volume or snapshot changed.
    pub fn target(&self) -> &AnyName {
        &self.target
    }

    /// The user property's name.
    pub fn property(&self) -> &str {
        &self.property
    }

    /// The value set, or `None` for an inherit.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    /// Refuses what the kernel would refuse for the input alone, as libzfs words it.
    fn validate(&self, op: &'static str) -> Result<()> {
        let bad = |msg: String| {
            Err(Error::new(
                ErrorKind::InvalidProperty,
                op,
                &self.property,
                msg,
            ))
        };
        if self.target.as_bookmark().is_some() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                self.target.as_str(),
                "bookmarks have no user properties",
            ));
        }
        let Ok(c) = CString::new(self.property.as_str()) else {
            return bad("the property name contains a NUL byte".into());
        };
        // SAFETY: a NUL-terminated name; a character check, no tables.
        if unsafe { sys::zfs_prop_user(c.as_ptr()) } == sys::boolean_t::B_FALSE {
            return bad(format!(
                "'{}' is not a user property (module:property, of [a-z0-9:._-])",
                self.property
            ));
        }
        if self.property.len() > MAX_USER_PROPERTY_NAME {
            return bad(format!("property name '{}' is too long", self.property));
        }
        if let Some(v) = &self.value {
            if v.contains('\0') {
                return bad("the value contains a NUL byte".into());
            }
            if v.len() > MAX_USER_PROPERTY_VALUE {
                return bad(format!(
                    "the value is {} bytes; at most {MAX_USER_PROPERTY_VALUE} fit",
                    v.len()
                ));
            }
        }
        Ok(())
    }
}

/// Cuts `changes` into runs that each fit one program.
pub(crate) fn chunks(changes: &[UserPropertyChange]) -> Vec<&[UserPropertyChange]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, c) in changes.iter().enumerate() {
        let size =
            c.target.as_str().len() + c.property.len() + c.value.as_ref().map_or(0, String::len);
        if i > start
            && (i - start == MAX_CHANGES_PER_PROGRAM || bytes + size > MAX_BYTES_PER_PROGRAM)
        {
            out.push(&changes[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < changes.len() {
        out.push(&changes[start..]);
    }
    out
}

impl Zfs {
    /// Sets and inherits user properties on many filesystems, volumes and snapshots of one
    /// pool (no single command does this): every change is checked by the kernel first
    /// (missing dataset, permission, pool version), then all are made in one transaction
    /// group, so a refusal changes nothing. Changes apply in order: a property set twice
    /// takes the later value.
    ///
    /// A batch larger than [`MAX_CHANGES_PER_PROGRAM`] changes (or a few megabytes of names
    /// and values) goes in consecutive chunks, each checked and made whole; a refusal in a
    /// later chunk leaves the earlier ones made, and the error says how many were. Where
    /// the kernel refuses channel programs (not root), and with
    /// [`PropertyBatchOptions::one_call_per_object`], each change is its own `zfs set` or
    /// `zfs inherit`, in order, stopping at the first refusal.
    ///
    /// ```no_run
    /// use zfs_core::{DatasetName, PropertyBatchOptions, UserPropertyChange, Zfs};
    ///
    /// # fn main() -> zfs_core::Result<()> {
    /// let zfs = Zfs::open()?;
    /// let homes = ["tank/home/alice", "tank/home/bob"];
    /// let mut changes = Vec::new();
    /// for home in homes {
    ///     let fs = DatasetName::new(home)?;
    ///     changes.push(UserPropertyChange::set(&fs, "com.example:backup", "daily"));
    ///     changes.push(UserPropertyChange::inherit(&fs, "com.example:owner"));
    /// }
    /// zfs.change_user_properties(&changes, &PropertyBatchOptions::new())?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Before anything changes: [`ErrorKind::InvalidProperty`] for a name that is not a user
    /// property (`module:property`), a name or value too long, or a NUL byte;
    /// [`ErrorKind::InvalidArgument`] for a bookmark or changes in more than one pool;
    /// [`ErrorKind::NotFound`] for a dataset that does not exist. [`Error::failures`] names
    /// every refused change.
    pub fn change_user_properties(
        &self,
        changes: &[UserPropertyChange],
        opts: &PropertyBatchOptions,
    ) -> Result<()> {
        let op = "set property";
        let Some(first) = changes.first() else {
            return Ok(());
        };
        let pool = pool_of(&first.target);
        for c in changes {
            c.validate(op)?;
            if pool_of(&c.target) != pool {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    op,
                    c.target.as_str(),
                    format!("a batch changes one pool ('{pool}'); this is in another"),
                ));
            }
        }
        if !opts.one_call_per_object {
            let pool = crate::PoolName::trusted(pool.to_owned());
            let mut done = 0;
            for chunk in chunks(changes) {
                match self.change_by_program(&pool, chunk, done)? {
                    true => done += chunk.len(),
                    // Not allowed to run programs: the rest one call each.
                    false => return self.change_one_by_one(&changes[done..]),
                }
            }
            return Ok(());
        }
        self.change_one_by_one(changes)
    }

    /// Inherits user property `prop` on `top`'s whole tree by one program that walks it in
    /// the kernel: one ioctl and one transaction group, where listing the tree first costs two
    /// ioctls an object. `Ok(false)`, with nothing changed, when the caller must take the
    /// listed path: a check refused (it says which, precisely), the tree is larger than
    /// [`MAX_TREE_OBJECTS`], or the kernel refuses channel programs here.
    pub(crate) fn inherit_tree_by_program(
        &self,
        top: &crate::DatasetName,
        prop: &str,
    ) -> Result<bool> {
        let op = "inherit property";
        let pool = crate::PoolName::trusted(pool_of(&AnyName::from(top.clone())).to_owned());
        let args = ProgramTable::new()
            .with("top", top.as_str())
            .with("prop", prop)
            .with("max", MAX_TREE_OBJECTS as i64);
        let opts = ProgramOptions::new()
            .instruction_limit(u64::from(sys::ZCP_MAX_INSTRLIMIT))
            .memory_limit(u64::from(sys::ZCP_MAX_MEMLIMIT))
            .args(args);
        let Some(out) = self.program_unless_refused(op, &pool, TREE_INHERIT, &opts)? else {
            return Ok(false);
        };
        if out.get("done").is_some() {
            return Ok(true);
        }
        if let Some(i) = out.get("stopped").and_then(ProgramValue::as_i64) {
            let code = out
                .get("errno")
                .and_then(ProgramValue::as_i64)
                .map_or(libc::EIO, |v| i32::try_from(v).unwrap_or(libc::EIO));
            let e = Error::from_errno(op, top.as_str(), code);
            let m = format!(
                "{} (after {} inherits in this transaction group)",
                e.message(),
                i - 1
            );
            return Err(refusal(e.with_message(m)));
        }
        Ok(false)
    }

    /// The slow path: each change its own call, in order.
    fn change_one_by_one(&self, changes: &[UserPropertyChange]) -> Result<()> {
        for c in changes {
            let ds = self
                .dataset(&c.target)
                .map_err(|e| e.with_operation("set property"))?;
            match &c.value {
                Some(v) => ds.set_property(&c.property, v)?,
                None => ds.inherit(&c.property, &InheritOptions::new())?,
            }
        }
        Ok(())
    }

    /// One chunk by one program; `Ok(false)` if the kernel refuses channel programs here.
    /// `before`: changes made by earlier chunks, for the error.
    fn change_by_program(
        &self,
        pool: &crate::PoolName,
        chunk: &[UserPropertyChange],
        before: usize,
    ) -> Result<bool> {
        let op = "set property";
        let targets: ProgramTable = chunk.iter().map(|c| c.target.as_str()).collect();
        let props: ProgramTable = chunk.iter().map(|c| c.property.as_str()).collect();
        let values: ProgramTable = chunk
            .iter()
            .map(|c| c.value.as_deref().unwrap_or(""))
            .collect();
        let inherit: ProgramTable = chunk
            .iter()
            .map(|c| if c.value.is_none() { "y" } else { "n" })
            .collect();
        let args = ProgramTable::new()
            .with("targets", targets)
            .with("props", props)
            .with("values", values)
            .with("inherit", inherit);
        let opts = ProgramOptions::new()
            .instruction_limit(
                (1_000_000 + 100 * chunk.len() as u64).min(u64::from(sys::ZCP_MAX_INSTRLIMIT)),
            )
            .memory_limit(u64::from(sys::ZCP_MAX_MEMLIMIT))
            .args(args);
        let out = match self.program(pool, PROGRAM, &opts) {
            Ok(out) => out,
            Err(e)
                if before == 0
                    && matches!(
                        e.kind(),
                        ErrorKind::PermissionDenied | ErrorKind::NotSupported
                    ) =>
            {
                return Ok(false)
            }
            Err(e) => return Err(e.with_operation(op)),
        };
        let int = |v: &ProgramValue| v.as_i64().unwrap_or(0);
        let seq = |key: &str| -> Vec<i64> {
            out.get(key)
                .and_then(ProgramValue::as_table)
                .and_then(ProgramTable::as_sequence)
                .map(|s| s.into_iter().map(int).collect())
                .unwrap_or_default()
        };
        // The change at the program's (1-based) index `i`.
        let at = |i: i64| &chunk[usize::try_from(i - 1).unwrap_or(0).min(chunk.len() - 1)];
        let explain = |e: Error| {
            if before > 0 {
                let m = format!(
                    "{} ({before} changes were made before this one)",
                    e.message()
                );
                e.with_message(m)
            } else {
                e
            }
        };
        let failed = seq("failed");
        if !failed.is_empty() {
            let errnos = seq("errnos");
            let list: Vec<(String, i32)> = failed
                .iter()
                .zip(
                    errnos
                        .iter()
                        .chain(std::iter::repeat(&i64::from(libc::EIO))),
                )
                .map(|(&i, &e)| {
                    let c = at(i);
                    (
                        format!("{} {}", c.target, c.property),
                        i32::try_from(e).unwrap_or(libc::EIO),
                    )
                })
                .collect();
            let first = at(failed[0]);
            let e = Error::from_batch(op, first.target.as_str(), list[0].1, list);
            return Err(explain(refusal(e)));
        }
        if let Some(i) = out.get("stopped").map(int) {
            let code = out
                .get("errno")
                .map_or(libc::EIO, |v| i32::try_from(int(v)).unwrap_or(libc::EIO));
            let c = at(i);
            let e = Error::from_errno(op, c.target.as_str(), code);
            let m = format!(
                "{} (after {} changes in this transaction group)",
                e.message(),
                i - 1
            );
            return Err(explain(refusal(e.with_message(m))));
        }
        Ok(true)
    }
}

/// The kernel's refusal as the slow path's `zfs set` reports it: a bad name or value is an
/// invalid property.
fn refusal(e: Error) -> Error {
    match e.errno().map(|n| n.0) {
        Some(libc::EINVAL | libc::E2BIG | libc::ENAMETOOLONG | libc::ENOTSUP) => {
            e.with_kind(ErrorKind::InvalidProperty)
        }
        _ => e,
    }
}

fn pool_of(name: &AnyName) -> &str {
    let n = name.as_str();
    n.split(['/', '@', '#']).next().unwrap_or(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DatasetName;

    fn change(value_len: usize) -> UserPropertyChange {
        UserPropertyChange::set(
            &DatasetName::new("tank/a").unwrap(),
            "com.example:p",
            &"v".repeat(value_len),
        )
    }

    #[test]
    fn chunks_split_by_count_and_by_bytes_and_keep_order() {
        let many = vec![change(1); 2 * MAX_CHANGES_PER_PROGRAM + 5];
        let c = chunks(&many);
        assert_eq!(
            c.iter().map(|c| c.len()).collect::<Vec<_>>(),
            [MAX_CHANGES_PER_PROGRAM, MAX_CHANGES_PER_PROGRAM, 5]
        );
        let big = vec![change(MAX_USER_PROPERTY_VALUE); 7000];
        let c = chunks(&big);
        assert!(c.len() > 1);
        for chunk in &c {
            let bytes: usize = chunk
                .iter()
                .map(|c| 6 + 13 + c.value().unwrap().len())
                .sum();
            assert!(bytes <= MAX_BYTES_PER_PROGRAM);
        }
        assert_eq!(c.iter().map(|c| c.len()).sum::<usize>(), 7000);
        assert!(chunks(&[]).is_empty());
        assert_eq!(chunks(&many[..1]).len(), 1);
    }

    #[test]
    fn validation_refuses_what_the_kernel_would() {
        let fs = DatasetName::new("tank/a").unwrap();
        let kind = |c: UserPropertyChange| c.validate("set property").unwrap_err().kind();
        assert_eq!(
            kind(UserPropertyChange::set(&fs, "nocolon", "v")),
            ErrorKind::InvalidProperty
        );
        assert_eq!(
            kind(UserPropertyChange::set(&fs, "a:B", "v")),
            ErrorKind::InvalidProperty
        );
        let long = format!("a:{}", "b".repeat(MAX_USER_PROPERTY_NAME - 1));
        assert_eq!(
            kind(UserPropertyChange::inherit(&fs, &long)),
            ErrorKind::InvalidProperty
        );
        assert!(
            UserPropertyChange::inherit(&fs, &long[..MAX_USER_PROPERTY_NAME])
                .validate("x")
                .is_ok()
        );
        assert_eq!(
            kind(change(MAX_USER_PROPERTY_VALUE + 1)),
            ErrorKind::InvalidProperty
        );
        assert!(change(MAX_USER_PROPERTY_VALUE).validate("x").is_ok());
        assert_eq!(
            kind(UserPropertyChange::set(&fs, "a:b", "x\0y")),
            ErrorKind::InvalidProperty
        );
        let mark = crate::BookmarkName::new("tank/a#m").unwrap();
        assert_eq!(
            kind(UserPropertyChange::set(&mark, "a:b", "v")),
            ErrorKind::InvalidArgument
        );
    }
}
