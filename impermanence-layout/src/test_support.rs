//! What the crate's unit tests share.

use crate::inventory::{ExistingDataset, ExistingPool, Inventory, Seen};
use crate::spec::{Spec, Topology, VdevGroup, VdevLayout};

/// What a finished apply of `spec` leaves (every property as the spec says, swap formatted).
pub(crate) fn finished(spec: &Spec) -> Inventory {
    let seen = |v: &str| Seen {
        value: v.into(),
        local: true,
    };
    let mut pool = ExistingPool {
        properties: spec.pool.properties.clone(),
        root_properties: spec
            .pool
            .root_properties
            .iter()
            .map(|(k, v)| (k.clone(), seen(v)))
            .collect(),
        datasets: Default::default(),
        snapshots: Default::default(),
        journal: Some("complete".into()),
        topology: spec.pool.topology(),
        locked: Default::default(),
        mounted: Default::default(),
    };
    // OpenZFS 2.3 reads xattr=sa back as "on", and acltype=posixacl as "posix".
    for (k, read_back) in [("xattr", "on"), ("acltype", "posix")] {
        if pool.root_properties.contains_key(k) {
            pool.root_properties.insert(k.into(), seen(read_back));
        }
    }
    for d in &spec.datasets {
        let mut properties: indexmap::IndexMap<String, Seen> = d
            .properties
            .iter()
            .map(|(k, v)| (k.clone(), seen(v)))
            .collect();
        if let Some(v) = &d.volume {
            let block = v.block_size_bytes().unwrap_or(16384);
            properties.insert("volsize".into(), seen(&v.size_bytes().unwrap().to_string()));
            properties.insert("volblocksize".into(), seen(&block.to_string()));
        }
        pool.datasets.insert(
            spec.full_name(&d.name),
            ExistingDataset {
                is_filesystem: d.volume.is_none(),
                is_volume: d.volume.is_some(),
                properties,
                referenced: 24576,
                signature: spec.boot.swap.contains(&d.name).then(|| "swap".into()),
                device_mounted_at: Vec::new(),
                locked: false,
            },
        );
    }
    for s in &spec.snapshots {
        pool.snapshots
            .insert(format!("{}@{}", spec.full_name(&s.dataset), s.name));
    }
    Inventory {
        pool: Some(pool),
        ..Inventory::default()
    }
}

/// Every class mixing groups and single devices, in the spec's order: the tree the printed
/// `zpool create` and apply must agree on.
pub(crate) fn mixed_topology() -> Topology {
    let mirror = |a: &str, b: &str| VdevGroup::new(VdevLayout::Mirror, [a, b]);
    let single = |a: &str| VdevGroup::new(VdevLayout::Stripe, [a]);
    Topology::new()
        .vdev(mirror("/d/a", "/d/b"))
        .vdev(single("/d/c"))
        .log(mirror("/d/l1", "/d/l2"))
        .log(single("/d/l3"))
        .special(mirror("/d/s1", "/d/s2"))
        .special(VdevGroup::new(VdevLayout::Stripe, ["/d/s3", "/d/s4"]))
        .special(mirror("/d/s5", "/d/s6"))
        .dedup(single("/d/x1"))
        .dedup(mirror("/d/x2", "/d/x3"))
        .cache("/d/k")
}
