//! The pool's devices as they are, and how they differ from the spec's, by meaning: a whole
//! disk the spec names is the pool's partition 1 of it, a `/dev/disk/by-id` link is the node
//! it points at.

use std::path::{Path, PathBuf};

use zfs_core::{AllocationClass, PoolStatus, VdevKind, VdevStatus};

use crate::spec::{Topology, VdevEntry, VdevGroup, VdevLayout};

/// The live pool's devices, in the spec's terms. Top-level vdevs the spec cannot describe
/// (dRAID) appear as stripes of their leaves, so they differ from any spec.
pub(crate) fn from_status(status: &PoolStatus) -> Topology {
    let mut t = Topology::new();
    for top in &status.root.children {
        let (mode, leaves) = match top.kind {
            VdevKind::Mirror => (VdevLayout::Mirror, leaves(top)),
            VdevKind::Raidz(1) => (VdevLayout::Raidz1, leaves(top)),
            VdevKind::Raidz(2) => (VdevLayout::Raidz2, leaves(top)),
            VdevKind::Raidz(3) => (VdevLayout::Raidz3, leaves(top)),
            _ => (VdevLayout::Stripe, leaves(top)),
        };
        let group = VdevGroup::new(mode, leaves);
        match (top.is_log, top.allocation_class) {
            (true, _) => t.log.push(group),
            (false, Some(AllocationClass::Special)) => t.special.push(group),
            (false, Some(AllocationClass::Dedup)) => t.dedup.push(group),
            _ => t.vdev.push(group),
        }
    }
    t.cache = status.cache.iter().flat_map(leaves).collect();
    t.spare = status.spares.iter().flat_map(leaves).collect();
    t
}

/// The leaf devices under `v` (itself, for a leaf), by path.
fn leaves(v: &VdevStatus) -> Vec<VdevEntry> {
    if v.children.is_empty() {
        return vec![VdevEntry::new(&v.name)];
    }
    v.children.iter().flat_map(leaves).collect()
}

/// A class's top-level vdevs as `(shape, members)`, sorted: a stripe group of n devices is n
/// single vdevs.
fn shapes(groups: &[VdevGroup]) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = groups
        .iter()
        .flat_map(|g| match (g.mode, g.mode.raidz_parity()) {
            (_, Some(p)) => vec![(format!("raidz{p}"), g.members.len())],
            (VdevLayout::Mirror, None) => vec![("mirror".to_owned(), g.members.len())],
            _ => vec![("single".to_owned(), 1); g.members.len()],
        })
        .collect();
    out.sort();
    out
}

fn show(shapes: &[(String, usize)]) -> String {
    if shapes.is_empty() {
        return "none".into();
    }
    shapes
        .iter()
        .map(|(s, n)| {
            if s == "single" {
                s.clone()
            } else {
                format!("{s} of {n}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// How the live devices differ from the spec's; empty when they agree.
pub(crate) fn differences(spec: &Topology, live: &Topology) -> Vec<String> {
    let mut out = Vec::new();
    for ((class, want), (_, have)) in spec.classes().into_iter().zip(live.classes()) {
        let name = if class.is_empty() { "data" } else { class };
        let (want_shapes, have_shapes) = (shapes(want), shapes(have));
        if want_shapes != have_shapes {
            out.push(format!(
                "{name} vdevs are {}, the spec says {}",
                show(&have_shapes),
                show(&want_shapes)
            ));
        }
        let live_devices: Vec<&VdevEntry> = have.iter().flat_map(|g| &g.members).collect();
        missing(
            name,
            want.iter().flat_map(|g| &g.members),
            &live_devices,
            &mut out,
        );
    }
    for (name, want, have) in [
        ("cache", &spec.cache, &live.cache),
        ("spare", &spec.spare, &live.spare),
    ] {
        if want.len() != have.len() {
            out.push(format!(
                "{name} devices: {} in the pool, {} in the spec",
                have.len(),
                want.len()
            ));
        }
        missing(
            name,
            want.iter(),
            &have.iter().collect::<Vec<_>>(),
            &mut out,
        );
    }
    out
}

fn missing<'a>(
    class: &str,
    want: impl Iterator<Item = &'a VdevEntry>,
    have: &[&VdevEntry],
    out: &mut Vec<String>,
) {
    for w in want {
        if !have.iter().any(|h| same_device(&w.path, &h.path)) {
            out.push(format!(
                "{} is not among the pool's {class} devices",
                w.path.display()
            ));
        }
    }
}

/// Whether the spec's `given` is the pool's `used`: the same path or node, or `used` is
/// partition 1 of the whole disk `given` (as `zpool create` partitions one).
pub(crate) fn same_device(given: &Path, used: &Path) -> bool {
    if given == used {
        return true;
    }
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    let (g, u) = (canon(given), canon(used));
    if g == u {
        return true;
    }
    partition_one_of(given, used) || partition_one_of(&g, &u)
}

/// `part` named as partition 1 of `disk`: `sda1`, `nvme0n1p1`, `...-part1`.
fn partition_one_of(disk: &Path, part: &Path) -> bool {
    let d = disk.as_os_str().to_string_lossy();
    ["1", "p1", "-part1"]
        .iter()
        .any(|suffix| PathBuf::from(format!("{d}{suffix}")) == part)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_compare_by_meaning() {
        let spec = Topology::new()
            .vdev(VdevGroup::new(VdevLayout::Stripe, ["/a", "/b"]))
            .log(VdevGroup::new(VdevLayout::Mirror, ["/dev/sdc", "/dev/sdd"]))
            .cache("/e");
        let live = Topology::new()
            .vdev(VdevGroup::new(VdevLayout::Stripe, ["/b"]))
            .vdev(VdevGroup::new(VdevLayout::Stripe, ["/a"]))
            .log(VdevGroup::new(
                VdevLayout::Mirror,
                ["/dev/sdc1", "/dev/sdd1"],
            ))
            .cache("/e");
        assert_eq!(differences(&spec, &live), Vec::<String>::new());
        let other = Topology::new()
            .vdev(VdevGroup::new(VdevLayout::Mirror, ["/a", "/x"]))
            .spare("/s");
        let d = differences(&spec, &other);
        assert!(
            d.contains(&"data vdevs are mirror of 2, the spec says single, single".to_owned()),
            "{d:?}"
        );
        assert!(
            d.contains(&"/b is not among the pool's data devices".to_owned()),
            "{d:?}"
        );
        assert!(
            d.contains(&"log vdevs are none, the spec says mirror of 2".to_owned()),
            "{d:?}"
        );
        assert!(
            d.contains(&"spare devices: 1 in the pool, 0 in the spec".to_owned()),
            "{d:?}"
        );
        assert!(
            d.contains(&"/e is not among the pool's cache devices".to_owned()),
            "{d:?}"
        );
    }

    #[test]
    fn a_whole_disk_is_its_first_partition() {
        for (disk, part) in [
            ("/dev/sda", "/dev/sda1"),
            ("/dev/nvme0n1", "/dev/nvme0n1p1"),
            ("/dev/disk/by-id/ata-X", "/dev/disk/by-id/ata-X-part1"),
        ] {
            assert!(same_device(Path::new(disk), Path::new(part)), "{disk}");
            assert!(!same_device(Path::new(part), Path::new(disk)), "{disk}");
        }
        assert!(!same_device(Path::new("/dev/sda"), Path::new("/dev/sda2")));
    }
}
