//! Which test binary starts next when several run at once.
//!
//! Test binaries of one run share the kernel module, `/dev` and `/tmp`, and most of a ZFS
//! test's time is spent waiting for transaction groups to sync, not computing: binaries side
//! by side fill that wait. A binary whose tests change what every pool sees (a module tunable,
//! the event queue, every fault injection) is declared `alone` by its package:
//!
//! ```toml
//! [package.metadata.zfs-test]
//! alone = ["pool_ops"]
//! ```
//!
//! and runs with no other binary beside it. Finer sharing (the VM's scratch disks) is the
//! tests' own business: `zfs_core::testing::ScratchDisks` locks across processes.

use crate::job::TestBinary;

/// The index in `waiting` of the binary to start now, if any: the first, in order, that may
/// run beside the `running` ones without going over `limit` binaries at once. An `alone`
/// binary starts only when nothing runs, and nothing starts beside it. A waiting `alone`
/// binary lets the ones after it go first rather than holding every lane empty; it runs when
/// the others have drained (at the latest, at the end).
pub fn next_to_start(
    waiting: &[TestBinary],
    running: &[&TestBinary],
    limit: usize,
) -> Option<usize> {
    if running.len() >= limit.max(1) || running.iter().any(|b| b.alone) {
        return None;
    }
    waiting.iter().position(|b| !b.alone || running.is_empty())
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
        }
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
