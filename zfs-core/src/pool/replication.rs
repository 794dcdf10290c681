//! The redundancy check `zpool add` makes before it adds a vdev: a pool whose vdevs differ in
//! redundancy is only as safe as its weakest one, so a mismatch is refused unless forced.
//!
//! Pure logic over the pool's configuration and a [`VdevSpec`]; unit-tested on the host.

use crate::nvlist::NvListRef;
use crate::vdev::{TopLevel, VdevSpec};
use crate::{Error, ErrorKind, Reason, Result};

/// What one top-level vdev's redundancy is: `disk`/`file` (one device), `mirror`, `raidz` or
/// `draid`, how many devices it has and how many it can lose (raidz parity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Redundancy {
    kind: String,
    children: u64,
    parity: u64,
}

impl Redundancy {
    /// Of a top-level vdev in a pool's configuration; `None` for what the check skips (log
    /// devices, holes left by removed logs, and removed devices).
    pub(crate) fn of_config(top: &NvListRef) -> Option<Redundancy> {
        let kind = top.get_str("type")?;
        if top.get_u64("is_log") == Some(1) || matches!(kind.as_str(), "hole" | "indirect") {
            return None;
        }
        // A leaf has no children: one device.
        let children = top.get_list_array("children").map_or(1, |c| c.len() as u64);
        let parity = top.get_u64("nparity").unwrap_or(0);
        Some(Redundancy {
            kind,
            children,
            parity,
        })
    }

    /// Of a vdev of a spec.
    pub(crate) fn of_spec(top: &TopLevel) -> Redundancy {
        match top {
            TopLevel::Single(leaf) => Redundancy {
                kind: if leaf.is_file() { "file" } else { "disk" }.to_owned(),
                children: 1,
                parity: 0,
            },
            TopLevel::Mirror(devices) => Redundancy {
                kind: "mirror".to_owned(),
                children: devices.len() as u64,
                parity: 0,
            },
            TopLevel::Raidz { parity, devices } => Redundancy {
                kind: "raidz".to_owned(),
                children: devices.len() as u64,
                parity: u64::from(*parity),
            },
            TopLevel::Draid {
                parity, devices, ..
            } => Redundancy {
                kind: "draid".to_owned(),
                children: devices.len() as u64,
                parity: u64::from(*parity),
            },
        }
    }

    fn is_parity(&self) -> bool {
        matches!(self.kind.as_str(), "raidz" | "draid")
    }

    /// `None` if the two give the same protection, else why not. A raidz of parity P matches
    /// a (P+1)-way mirror (both survive P failed devices); raidz and draid match at equal
    /// parity; anything else must be the same kind, parity and width.
    fn mismatch(&self, new: &Redundancy, pool: &str, added: &str) -> Option<String> {
        let (a, b) = (self, new);
        let mirror_and_parity =
            (a.is_parity() && b.kind == "mirror") || (a.kind == "mirror" && b.is_parity());
        if mirror_and_parity {
            let survives = |r: &Redundancy| {
                if r.kind == "mirror" {
                    r.children.saturating_sub(1)
                } else {
                    r.parity
                }
            };
            return (survives(a) != survives(b)).then(|| {
                format!(
                    "{pool} and {added} differ in redundancy: {} survives {} failed devices, \
                     {} survives {}",
                    a.kind,
                    survives(a),
                    b.kind,
                    survives(b)
                )
            });
        }
        if a.is_parity() && b.is_parity() {
            return (a.parity != b.parity).then(|| {
                format!(
                    "{pool} uses {} device parity and {added} uses {}",
                    a.parity, b.parity
                )
            });
        }
        if a.kind != b.kind {
            Some(format!("{pool} uses {} and {added} is {}", a.kind, b.kind))
        } else if a.children != b.children {
            Some(format!(
                "{pool} uses {}-way {} and {added} uses {}-way {}",
                a.children, a.kind, b.children, b.kind
            ))
        } else {
            None
        }
    }
}

/// Refuses `spec` if its vdevs (data and special; logs, cache and spares never count) differ
/// in redundancy among themselves or from the pool's, or a mirror or raidz mixes files and
/// disks. A pool that is already mixed is not checked, as `zpool add` does not.
///
/// # Errors
/// [`ErrorKind::InvalidArgument`] with [`Reason::ReplicationMismatch`], saying which.
pub(crate) fn check(pool: &str, tree: &NvListRef, spec: &VdevSpec) -> Result<()> {
    let new = check_spec("add to", pool, spec)?;
    let current: Vec<Redundancy> = tree
        .get_list_array("children")
        .unwrap_or_default()
        .into_iter()
        .filter_map(Redundancy::of_config)
        .collect();
    let consistent = current
        .windows(2)
        .all(|pair| pair[0].mismatch(&pair[1], "", "").is_none());
    match (current.last(), new.first()) {
        (Some(have), Some(add)) if consistent => match have.mismatch(add, "pool", "new vdev") {
            Some(why) => Err(refusal("add to", pool, &why)),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

fn refusal(op: &'static str, pool: &str, why: &str) -> Error {
    Error::new(
        ErrorKind::InvalidArgument,
        op,
        pool,
        format!("mismatched replication level: {why} (use force to override)"),
    )
    .with_reason(Reason::ReplicationMismatch)
}

/// The part of the check that looks at `spec` alone, which `zpool create` makes too: no
/// mirror or raidz mixing files and disks, all vdevs alike. Their redundancy, in order.
///
/// # Errors
/// As [`check`], for operation `op`.
pub(crate) fn check_spec(op: &'static str, pool: &str, spec: &VdevSpec) -> Result<Vec<Redundancy>> {
    let refuse = |msg: String| Err(refusal(op, pool, &msg));
    for top in spec.redundant_groups() {
        let leaves = top.leaves();
        if leaves.len() > 1 && leaves.iter().any(|l| l.is_file() != leaves[0].is_file()) {
            return refuse(format!("'{top}' contains both files and devices"));
        }
    }
    let new: Vec<Redundancy> = spec.redundant_groups().map(Redundancy::of_spec).collect();
    for pair in new.windows(2) {
        if let Some(why) = pair[0].mismatch(&pair[1], "one new vdev", "another") {
            return refuse(why);
        }
    }
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nvlist::NvList;
    use crate::vdev::Leaf;

    fn pool_of(spec: &VdevSpec) -> NvList {
        spec.to_nvlist().unwrap()
    }

    fn files(names: &[&str]) -> Vec<Leaf> {
        names
            .iter()
            .map(|n| Leaf::file(format!("/f/{n}")))
            .collect()
    }

    fn check_add(pool: &VdevSpec, add: &VdevSpec) -> Result<()> {
        check("tank", &pool_of(pool), add)
    }

    #[test]
    fn same_redundancy_is_accepted() {
        let mirror = |a, b| VdevSpec::new().vdev(TopLevel::Mirror(files(&[a, b])));
        check_add(&mirror("a", "b"), &mirror("c", "d")).unwrap();
        check_add(&VdevSpec::new().file("/f/a"), &VdevSpec::new().file("/f/b")).unwrap();
        let raidz = |p, n: &[&str]| {
            VdevSpec::new().vdev(TopLevel::Raidz {
                parity: p,
                devices: files(n),
            })
        };
        check_add(&raidz(1, &["a", "b", "c"]), &raidz(1, &["d", "e", "f"])).unwrap();
        // raidz1 and a 2-way mirror both survive one failed device.
        check_add(&raidz(1, &["a", "b", "c"]), &mirror("d", "e")).unwrap();
        // Logs, cache and spares never count.
        let extras = VdevSpec::new()
            .log_file("/f/l")
            .cache_file("/f/c")
            .spare(Leaf::file("/f/s"));
        check_add(&mirror("a", "b"), &extras).unwrap();
    }

    #[test]
    fn mismatches_are_refused_with_the_reason() {
        let mirror = VdevSpec::new().vdev(TopLevel::Mirror(files(&["a", "b"])));
        let cases = [
            (
                VdevSpec::new().file("/f/c"),
                "pool uses mirror and new vdev is file",
            ),
            (
                VdevSpec::new().vdev(TopLevel::Mirror(files(&["c", "d", "e"]))),
                "pool uses 2-way mirror and new vdev uses 3-way mirror",
            ),
            (
                VdevSpec::new().vdev(TopLevel::Raidz {
                    parity: 2,
                    devices: files(&["c", "d", "e"]),
                }),
                "mirror survives 1 failed devices, raidz survives 2",
            ),
            (
                VdevSpec::new().special(TopLevel::Single(Leaf::file("/f/s"))),
                "pool uses mirror and new vdev is file",
            ),
            (
                VdevSpec::new().vdev(TopLevel::Mirror(vec![
                    Leaf::file("/f/c"),
                    Leaf::disk("/dev/sdz"),
                ])),
                "contains both files and devices",
            ),
            (
                VdevSpec::new()
                    .vdev(TopLevel::Mirror(files(&["c", "d"])))
                    .file("/f/e"),
                "one new vdev uses mirror and another is file",
            ),
        ];
        for (add, why) in cases {
            let e = check_add(&mirror, &add).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument);
            assert_eq!(e.reason(), Some(Reason::ReplicationMismatch));
            assert!(e.to_string().contains(why), "{add}: {e}");
        }
        let single = VdevSpec::new().disk("/dev/sda");
        let e = check_add(&single, &VdevSpec::new().file("/f/b")).unwrap_err();
        assert!(
            e.to_string()
                .contains("pool uses disk and new vdev is file"),
            "{e}"
        );
        let raidz1 = VdevSpec::new().vdev(TopLevel::Raidz {
            parity: 1,
            devices: files(&["a", "b", "c"]),
        });
        let raidz2 = VdevSpec::new().vdev(TopLevel::Raidz {
            parity: 2,
            devices: files(&["d", "e", "f", "g"]),
        });
        let e = check_add(&raidz1, &raidz2).unwrap_err();
        assert!(
            e.to_string()
                .contains("pool uses 1 device parity and new vdev uses 2"),
            "{e}"
        );
    }

    /// The public form of the creation check, as `Zfs::create_pool` makes it without force.
    #[test]
    fn check_replication_is_the_creation_check() {
        let pool = crate::name::PoolName::new("tank").unwrap();
        let mixed = VdevSpec::new()
            .vdev(TopLevel::Mirror(files(&["a", "b"])))
            .file("/f/c");
        let e = mixed.check_replication(&pool).unwrap_err();
        assert_eq!(e.reason(), Some(Reason::ReplicationMismatch));
        assert!(
            e.to_string().contains(
                "mismatched replication level: one new vdev uses mirror and another is file"
            ),
            "{e}"
        );
        let alike = VdevSpec::new()
            .vdev(TopLevel::Mirror(files(&["a", "b"])))
            .vdev(TopLevel::Mirror(files(&["c", "d"])))
            .log_file("/f/l");
        alike.check_replication(&pool).unwrap();
    }

    #[test]
    fn a_pool_already_mixed_and_its_logs_are_not_checked() {
        let mixed = VdevSpec::new()
            .file("/f/a")
            .vdev(TopLevel::Mirror(files(&["b", "c"])));
        check_add(&mixed, &VdevSpec::new().file("/f/d")).unwrap();
        // The pool's log mirror does not make it a mirrored pool.
        let with_log = VdevSpec::new()
            .file("/f/a")
            .log(TopLevel::Mirror(files(&["l1", "l2"])));
        check_add(&with_log, &VdevSpec::new().file("/f/b")).unwrap();
    }
}
