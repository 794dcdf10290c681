//! Which test binary starts next when several run at once.
//!
//! Test binaries of one run share the kernel module, `/dev` and `/tmp`, and most of a ZFS
//! test's time is spent waiting for transaction groups to sync, not computing: binaries side
//! by side fill that wait. Their package says which may not:
//!
//! ```toml
//! [package.metadata.zfs-test]
//! # Change what every pool sees (a module tunable, the event queue): nothing beside them.
//! alone = ["pool_ops"]
//! # Binaries of one group never run at the same time (groups span packages by name).
//! groups = { scratch-disks = ["disks", "disko"] }
//! ```
//!
//! A group only saves lanes: the tests still lock what they share (the VM's scratch disks:
//! `zfs_core::testing::ScratchDisks`), and a binary waiting for such a lock holds a lane.

use crate::job::TestBinary;

/// The index in `waiting` of the binary to start now, if any: the first, in order, that may
/// run beside the `running` ones without going over `limit` binaries at once. An `alone`
/// binary starts only when nothing runs, and nothing starts beside it; a binary does not
/// start beside one of its groups. A waiting `alone` binary lets the ones after it go first
/// rather than holding every lane empty; it runs when the others have drained (at the latest,
/// at the end).
pub fn next_to_start(
    waiting: &[TestBinary],
    running: &[&TestBinary],
    limit: usize,
) -> Option<usize> {
    if running.len() >= limit.max(1) || running.iter().any(|b| b.alone) {
        return None;
    }
    waiting.iter().position(|b| {
        (!b.alone || running.is_empty())
            && !running
                .iter()
                .any(|r| r.groups.iter().any(|g| b.groups.contains(g)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bin(name: &str, alone: bool) -> TestBinary {
        TestBinary {
            name: name.into(),
            manifest_dir: "/w".into(),
            path: format!("/w/target/{name}").into(),
            alone,
            groups: Vec::new(),
        }
    }

    fn in_group(name: &str, group: &str) -> TestBinary {
        TestBinary {
            groups: vec![group.into()],
            ..bin(name, false)
        }
    }

    #[test]
    fn binaries_of_one_group_never_run_together() {
        let disks = in_group("disks", "scratch");
        let waiting = [
            in_group("disko", "scratch"),
            in_group("other", "x"),
            bin("free", false),
        ];
        assert_eq!(next_to_start(&waiting, &[&disks], 3), Some(1));
        assert_eq!(next_to_start(&waiting[..1], &[&disks], 3), None);
        assert_eq!(next_to_start(&waiting[..1], &[], 3), Some(0));
    }

    #[test]
    fn binaries_fill_the_lanes_in_order() {
        let waiting = [bin("a", false), bin("b", false), bin("c", false)];
        assert_eq!(next_to_start(&waiting, &[], 2), Some(0));
        let a = bin("a", false);
        assert_eq!(next_to_start(&waiting[1..], &[&a], 2), Some(0));
        let b = bin("b", false);
        assert_eq!(next_to_start(&waiting[2..], &[&a, &b], 2), None);
        assert_eq!(next_to_start(&[], &[], 2), None);
    }

    #[test]
    fn a_binary_declared_alone_runs_alone() {
        let other = bin("other", false);
        let alone = bin("alone", true);
        // Something runs: the alone one waits, the next goes first.
        let waiting = [bin("alone", true), bin("next", false)];
        assert_eq!(next_to_start(&waiting, &[&other], 3), Some(1));
        // Only alone ones left: they wait for the lanes to drain.
        assert_eq!(next_to_start(&waiting[..1], &[&other], 3), None);
        assert_eq!(next_to_start(&waiting[..1], &[], 3), Some(0));
        // Nothing starts beside it.
        assert_eq!(next_to_start(&[bin("next", false)], &[&alone], 3), None);
    }

    #[test]
    fn a_limit_of_zero_or_one_runs_one_at_a_time() {
        let a = bin("a", false);
        let waiting = [bin("b", false)];
        assert_eq!(next_to_start(&waiting, &[], 0), Some(0));
        assert_eq!(next_to_start(&waiting, &[&a], 0), None);
        assert_eq!(next_to_start(&waiting, &[&a], 1), None);
    }
}
