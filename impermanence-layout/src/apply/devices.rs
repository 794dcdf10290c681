//! The spec's topology as zfs-core's device tree.

use std::path::Path;

use zfs_core::{Leaf, TopLevel, VdevSpec};

use crate::disk::DeviceKind;
use crate::spec::{Topology, VdevGroup, VdevLayout};

/// The topology as zfs-core's device tree, each class in the order of
/// [`Topology::top_levels`] (the order the printed `zpool create` gives).
pub(crate) fn vdev_spec(t: &Topology) -> VdevSpec {
    let tops = |groups: &[VdevGroup]| -> Vec<TopLevel> {
        Topology::top_levels(groups)
            .into_iter()
            .map(|(mode, members)| {
                let leaves = || members.iter().map(|m| leaf(&m.path)).collect::<Vec<_>>();
                match (mode, mode.raidz_parity()) {
                    (_, Some(parity)) => TopLevel::Raidz {
                        parity,
                        devices: leaves(),
                    },
                    (VdevLayout::Mirror, None) => TopLevel::Mirror(leaves()),
                    _ => TopLevel::Single(leaf(&members[0].path)),
                }
            })
            .collect()
    };
    let mut spec = VdevSpec::new();
    for top in tops(&t.vdev) {
        spec = spec.vdev(top);
    }
    for top in tops(&t.log) {
        spec = spec.log(top);
    }
    for top in tops(&t.special) {
        spec = spec.special(top);
    }
    for top in tops(&t.dedup) {
        spec = spec.dedup(top);
    }
    for d in &t.cache {
        spec = spec.cache(leaf(&d.path));
    }
    for d in &t.spare {
        spec = spec.spare(leaf(&d.path));
    }
    spec
}

/// A file, a whole disk (partitioned as `zpool create` does) or a partition.
fn leaf(p: &Path) -> Leaf {
    match crate::disk::kind(p) {
        DeviceKind::WholeDisk => Leaf::whole_disk(p),
        DeviceKind::Partition => Leaf::disk(p),
        DeviceKind::File => Leaf::file(p),
    }
}
