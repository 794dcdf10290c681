//! The recursive destroy's fast path: a whole tree (its clones included) destroyed by one
//! channel program, in one transaction group, once the kernel has checked, in that same
//! transaction group, every refusal it can see before anything goes.
//!
//! `zfs.check.destroy` judges each object as things stand, so it can vouch for snapshots
//! (held; cloned from outside the tree) and for datasets with neither children nor snapshots
//! (an open volume), not for a parent whose children go first nor for a snapshot whose clones
//! in the tree go first. Once those are gone, what is left to refuse them is a long hold the
//! kernel takes for a running `zfs send`; that one refusal stops the program midway, as it
//! stops the one-call-per-object path.

use std::collections::{HashMap, HashSet};

use super::{DatasetType, Listed};
use crate::handle::Zfs;
use crate::name::PoolName;
use crate::{Error, ProgramOptions, ProgramTable, ProgramValue, Result};

/// Checks `checks` and the holds on `origins`, then destroys `order` in order. Returns `{failures = {name = errno,
/// ...}}` when a check refuses (nothing changed), `{failed = name, errno = n, done = k}` when
/// a destroy does after `k` others, `{done = k}` when all went.
const PROGRAM: &str = r#"
local a = ...
local failures, any = {}, false
for _, o in ipairs(a.checks or {}) do
    local err = zfs.check.destroy(o)
    if err ~= 0 then failures[o] = err; any = true end
end
-- Origins of the tree's clones go after them, so the check would see the clones: what else
-- refuses a snapshot's destroy is a hold, which the kernel refuses with EBUSY.
for _, o in ipairs(a.origins or {}) do
    if zfs.get_prop(o, "userrefs") > 0 then failures[o] = a.ebusy; any = true end
end
if any then return {failures = failures} end
local done = 0
for _, o in ipairs(a.order) do
    local err = zfs.sync.destroy(o)
    if err ~= 0 then return {failed = o, errno = err, done = done} end
    done = done + 1
end
return {done = done}
"#;

/// Most objects a recursive [`Zfs::destroy`] hands to one channel program; a larger tree goes
/// one kernel call per object. The program holds every name twice (to destroy, to check) in
/// the kernel's Lua memory, limited to 100 MiB: with the longest names (255 bytes) 150 000
/// objects fit and 200 000 do not (measured on OpenZFS 2.3), so this keeps a margin.
pub const MAX_PROGRAM_DESTROY_OBJECTS: usize = 100_000;

/// How a program's refusal of `object` with `errno` reads as an error; every refusal found
/// by the checks comes along.
pub(super) type Explain<'a> = &'a dyn Fn(&str, i32, Vec<(String, i32)>) -> Error;

/// The order that destroys a tree one object at a time, and what can be checked first.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Order {
    /// Every object, each after everything that depends on it.
    pub(super) names: Vec<String>,
    /// Objects whose destroy can be judged before anything goes.
    pub(super) checks: Vec<String>,
    /// Snapshots the tree's clones come from: judged by their holds.
    pub(super) origins: Vec<String>,
}

/// Orders `all` (a tree: filesystems, volumes, snapshots) for destruction. Clones inside the
/// tree and what is below them ("families") go before their origins: a family's rank is one
/// more than the rank of the family its origin belongs to (0 outside any); higher ranks go
/// first, and within a rank snapshots, then datasets deepest first.
pub(super) fn order(all: &[Listed], clones: &HashMap<String, Vec<String>>) -> Order {
    let names: HashSet<&str> = all.iter().map(|l| l.name.as_str()).collect();
    // Each clone in the tree, and its origin.
    let mut origin_of: HashMap<&str, &str> = HashMap::new();
    for (snap, list) in clones {
        for c in list {
            if names.contains(c.as_str()) && names.contains(snap.as_str()) {
                origin_of.insert(c.as_str(), snap.as_str());
            }
        }
    }
    // The clone whose family an object belongs to: the nearest clone at or above it.
    let family = |name: &str| -> Option<&str> {
        let mut head = name.split('@').next().unwrap_or(name);
        loop {
            if let Some((clone, _)) = origin_of.get_key_value(head) {
                return Some(*clone);
            }
            head = head.rsplit_once('/')?.0;
        }
    };
    let mut ranks: HashMap<&str, usize> = HashMap::new();
    fn rank<'n>(
        clone: &'n str,
        origin_of: &HashMap<&'n str, &'n str>,
        family: &dyn Fn(&str) -> Option<&'n str>,
        ranks: &mut HashMap<&'n str, usize>,
        depth: usize,
    ) -> usize {
        if let Some(r) = ranks.get(clone) {
            return *r;
        }
        // A chain longer than the tree is a cycle, which clones cannot form; stop anyway.
        let r = match family(origin_of[clone]) {
            Some(up) if depth < origin_of.len() => {
                1 + rank(up, origin_of, family, ranks, depth + 1)
            }
            _ => 1,
        };
        ranks.insert(clone, r);
        r
    }
    let clones_in_tree: Vec<&str> = origin_of.keys().copied().collect();
    for c in clones_in_tree {
        rank(c, &origin_of, &family, &mut ranks, 0);
    }
    let rank_of = |name: &str| family(name).map_or(0, |c| ranks[c]);
    let mut sorted: Vec<&Listed> = all.iter().collect();
    sorted.sort_by(|a, b| {
        let key = |l: &Listed| (rank_of(l.name.as_str()), l.kind == DatasetType::Snapshot);
        key(b)
            .cmp(&key(a))
            .then_with(|| b.name.as_str().cmp(a.name.as_str()))
    });
    // Checkable now: snapshots none of the tree's clones come from, and datasets with
    // neither children nor snapshots.
    let origins: HashSet<&str> = origin_of.values().copied().collect();
    let parents: HashSet<&str> = all
        .iter()
        .filter_map(|l| {
            let n = l.name.as_str();
            match n.split_once('@') {
                Some((ds, _)) => Some(ds),
                None => n.rsplit_once('/').map(|(p, _)| p),
            }
        })
        .collect();
    let checks = sorted
        .iter()
        .map(|l| l.name.as_str())
        .filter(|n| {
            if n.contains('@') {
                !origins.contains(n)
            } else {
                !parents.contains(n)
            }
        })
        .map(str::to_owned)
        .collect();
    let mut origins: Vec<String> = origins.into_iter().map(str::to_owned).collect();
    origins.sort();
    Order {
        names: sorted.iter().map(|l| l.name.as_str().to_owned()).collect(),
        checks,
        origins,
    }
}

impl Zfs {
    /// Destroys `order` of `pool` in one channel program. `Ok(false)` if the kernel refuses
    /// channel programs here (not root): nothing was done, use the slow path.
    pub(super) fn destroy_by_program(
        &self,
        pool: &PoolName,
        order: &Order,
        explain: Explain<'_>,
    ) -> Result<bool> {
        let n = order.names.len();
        let list = |names: &[String]| names.iter().map(String::as_str).collect::<ProgramTable>();
        let mut args = ProgramTable::new().with("order", list(&order.names));
        if !order.checks.is_empty() {
            args.insert("checks", list(&order.checks));
        }
        if !order.origins.is_empty() {
            args.insert("origins", list(&order.origins));
            args.insert("ebusy", libc::EBUSY);
        }
        let opts = ProgramOptions::new()
            .instruction_limit(
                (1_000_000 + 200 * n as u64).min(u64::from(libzfs_sys::ZCP_MAX_INSTRLIMIT)),
            )
            .memory_limit(u64::from(libzfs_sys::ZCP_MAX_MEMLIMIT))
            .args(args);
        let Some(out) = self.program_unless_refused("destroy", pool, PROGRAM, &opts)? else {
            return Ok(false);
        };
        let errno = |v: &ProgramValue| {
            v.as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .unwrap_or(libc::EIO)
        };
        if let Some(failures) = out.get("failures").and_then(ProgramValue::as_table) {
            let mut list: Vec<(String, i32)> = failures
                .iter()
                .map(|(k, v)| (k.to_owned(), errno(v)))
                .collect();
            // In destruction order: the first is what the slow path would have met first.
            let position = |name: &str| order.names.iter().position(|x| x == name);
            list.sort_by_key(|(k, _)| position(k));
            let (first, code) = list[0].clone();
            return Err(explain(&first, code, list));
        }
        if let Some(failed) = out.get("failed").and_then(ProgramValue::as_str) {
            let code = out.get("errno").map_or(libc::EIO, errno);
            return Err(explain(failed, code, vec![(failed.to_owned(), code)]));
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::AnyName;

    fn listed(names: &[&str]) -> Vec<Listed> {
        names
            .iter()
            .map(|n| Listed {
                name: AnyName::trusted((*n).to_owned()),
                kind: if n.contains('@') {
                    DatasetType::Snapshot
                } else {
                    DatasetType::Filesystem
                },
                values: Vec::new(),
            })
            .collect()
    }

    #[test]
    fn clones_go_before_their_origins_and_children_before_parents() {
        // t/a@s is the origin of t/c1; t/c1@s of t/c2 (a clone of a clone), under t/c1? no:
        // t/x/c2, with a child of its own.
        let all = listed(&[
            "t",
            "t/a",
            "t/a@s",
            "t/c1",
            "t/c1@s",
            "t/x",
            "t/x/c2",
            "t/x/c2/kid",
            "t/b",
            "t/b@s",
        ]);
        let clones: HashMap<String, Vec<String>> = [
            ("t/a@s".to_owned(), vec!["t/c1".to_owned()]),
            ("t/c1@s".to_owned(), vec!["t/x/c2".to_owned()]),
            ("t/b@s".to_owned(), vec!["elsewhere/c".to_owned()]),
        ]
        .into_iter()
        .collect();
        let o = order(&all, &clones);
        let at = |n: &str| o.names.iter().position(|x| x == n).unwrap();
        // The clone of the clone's family first, then the clone's, then the rest.
        assert!(at("t/x/c2/kid") < at("t/x/c2"));
        assert!(at("t/x/c2") < at("t/c1@s"));
        assert!(at("t/c1@s") < at("t/c1"));
        assert!(at("t/c1") < at("t/a@s"));
        assert!(at("t/a@s") < at("t/a") && at("t/a") < at("t"));
        assert!(at("t/x") > at("t/x/c2"));
        assert_eq!(o.names.len(), all.len());
        // Checks: snapshots no clone in the tree comes from (t/b@s: its clone is outside, so
        // the check is what refuses it), and datasets with nothing below.
        let mut checks = o.checks.clone();
        checks.sort();
        assert_eq!(checks, ["t/b@s", "t/x/c2/kid"]);
        assert_eq!(o.origins, ["t/a@s", "t/c1@s"]);
    }
}
