//! Comparing a live pool with a spec.

use serde::Serialize;
use zfs_core::Zfs;

use crate::error::LayoutError;
use crate::inventory::{same_meaning, Inventory};
use crate::spec::Spec;

/// One way the system differs from the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Difference {
    /// The pool, dataset or snapshot.
    pub object: String,
    /// What differs.
    pub what: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.object, self.what)
    }
}

/// Every difference between the live system and `spec`; empty when they match. Values are
/// compared by meaning (`posixacl` is `posix`; `xattr=sa` reads back as `on` on 2.3).
///
/// # Errors
/// [`LayoutError::Zfs`] with whatever zfs-core reports while reading.
pub fn verify(zfs: &Zfs, spec: &Spec) -> Result<Vec<Difference>, LayoutError> {
    Ok(differences(spec, &Inventory::read(zfs, spec)?))
}

/// [`verify`] on an inventory already read: every pool of the spec, each against its own
/// part of the inventory ([`Inventory::per_pool`]).
pub fn differences(spec: &Spec, inv: &Inventory) -> Vec<Difference> {
    if !spec.has_several_pools() {
        return differences_one(spec, inv);
    }
    let nothing = Inventory::default();
    let invs = inv.per_pool();
    let mut out: Vec<Difference> = Vec::new();
    for (i, view) in spec.pool_specs().iter().enumerate() {
        let found = differences_one(view, invs.get(i).copied().unwrap_or(&nothing));
        // The disks' differences are in every pool's view.
        for d in found {
            if !out.contains(&d) {
                out.push(d);
            }
        }
    }
    out
}

fn differences_one(spec: &Spec, inv: &Inventory) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut diff = |object: &str, what: String| {
        out.push(Difference {
            object: object.to_owned(),
            what,
        })
    };
    disk_differences(spec, inv, &mut diff);
    let pool = &spec.pool.name;
    let Some(state) = &inv.pool else {
        let what = match &inv.exported {
            Some(_) => "pool is exported: import it (apply does) to verify it",
            None => "pool does not exist",
        };
        diff(pool, what.into());
        return out;
    };
    for (k, want) in &spec.pool.properties {
        if crate::plan::SET_BY_IMPORT.contains(&k.as_str()) {
            continue;
        }
        match state.properties.get(k) {
            Some(have) if same_meaning(k, have, want) => {}
            have => diff(
                pool,
                format!(
                    "pool property {k} is {}, expected {want}",
                    have.map_or("unset", String::as_str)
                ),
            ),
        }
    }
    for (k, want) in &spec.pool.root_properties {
        match state.root_properties.get(k) {
            Some(have) if same_meaning(k, &have.value, want) => {}
            have => diff(
                pool,
                format!(
                    "{k} is {}, expected {want}",
                    have.map_or("unset", |h| h.value.as_str())
                ),
            ),
        }
    }
    // A spec that names no devices (an installed system's) accepts the pool's.
    let want = spec.pool.topology();
    if !want.is_empty() {
        for what in crate::live_topology::differences(&want, &state.topology) {
            diff(pool, what);
        }
    }
    if state.journal.as_deref() == Some("applying") {
        diff(
            pool,
            "an apply was interrupted: run apply again to complete it".into(),
        );
    }
    for d in &spec.datasets {
        let full = spec.full_name(&d.name);
        let Some(ds) = state.datasets.get(&full) else {
            diff(&full, "dataset does not exist".into());
            continue;
        };
        match &d.volume {
            None if !ds.is_filesystem => diff(&full, "is not a filesystem".into()),
            Some(_) if !ds.is_volume => diff(&full, "is not a volume".into()),
            Some(v) => {
                let have = |k: &str| ds.properties.get(k).map_or("unset", |h| h.value.as_str());
                let wants = [
                    ("volsize", v.size_bytes()),
                    ("volblocksize", v.block_size_bytes()),
                ];
                for (k, want) in wants {
                    if let Some(want) = want.filter(|w| have(k) != w.to_string()) {
                        diff(&full, format!("{k} is {}, expected {want}", have(k)));
                    }
                }
            }
            None => {}
        }
        for (k, want) in &d.properties {
            match ds.properties.get(k) {
                Some(h)
                    if same_meaning(k, &h.value, want)
                        && (h.local || crate::plan::SET_AT_CREATION.contains(&k.as_str())) => {}
                Some(h) if same_meaning(k, &h.value, want) => diff(
                    &full,
                    format!("{k} is {want} but inherited, expected it set locally"),
                ),
                h => diff(
                    &full,
                    format!(
                        "{k} is {}, expected {want}",
                        h.map_or("unset", |h| h.value.as_str())
                    ),
                ),
            }
        }
    }
    for (full, format, _) in crate::plan::volume_filesystems(spec) {
        match state.datasets.get(&full) {
            Some(ds)
                if ds.is_volume
                    && !ds.locked
                    && ds.signature.as_deref() != Some(format.blkid_type()) =>
            {
                diff(
                    &full,
                    format!(
                        "the spec makes {} on it, and blkid finds {}",
                        format.blkid_type(),
                        ds.signature.as_deref().unwrap_or("nothing")
                    ),
                )
            }
            _ => {}
        }
    }
    for s in &spec.snapshots {
        let full = format!("{}@{}", spec.full_name(&s.dataset), s.name);
        if !state.snapshots.contains(&full) {
            diff(&full, "snapshot does not exist".into());
        }
    }
    out
}

/// The spec's disks against what they hold: the partition table (labels, types, where each
/// partition starts and ends) and each filesystem's type and label, as `blkid -p` reads them.
fn disk_differences(spec: &Spec, inv: &Inventory, diff: &mut impl FnMut(&str, String)) {
    for disk in &spec.disks {
        let name = disk.device.display().to_string();
        let Some(have) = inv.disks.get(&disk.device) else {
            diff(&name, "disk does not exist".into());
            continue;
        };
        let want = crate::partition_table::place(&disk.partitions, have.bytes, have.sector);
        let Ok(want) = want else {
            diff(&name, "the spec's partitions do not fit on it".into());
            continue;
        };
        if have.table.as_ref() != Some(&want) {
            let labels = |t: &[crate::partition_table::PlacedPartition]| {
                t.iter()
                    .map(|p| p.label.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let is = have.table.as_deref().map_or("no GPT".to_owned(), |t| {
                // Same labels: say where the first one that differs lies (a table made by
                // another tool ends its last partition elsewhere).
                let moved = (t.len() == want.len())
                    .then(|| t.iter().zip(&want).find(|(h, w)| h != w))
                    .flatten()
                    .filter(|(h, w)| h.label == w.label);
                match moved {
                    Some((h, w)) => format!(
                        "partitions [{}], {} at sectors {}-{} of type {} where the spec puts it \
                         at {}-{} of type {}",
                        labels(t),
                        h.label,
                        h.first,
                        h.last,
                        h.type_guid,
                        w.first,
                        w.last,
                        w.type_guid
                    ),
                    None => format!("partitions [{}]", labels(t)),
                }
            });
            diff(
                &name,
                format!(
                    "holds {is}, expected the spec's [{}] (labels, types, start and end)",
                    labels(&want)
                ),
            );
            continue;
        }
        for (i, part) in disk.partitions.iter().enumerate() {
            let Some(fs) = &part.filesystem else {
                continue;
            };
            let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let found = have.partition(number);
            let device = part.device().display().to_string();
            let signature = found.and_then(|p| p.signature.as_deref());
            if signature != Some(fs.format.blkid_type()) {
                diff(
                    &device,
                    format!(
                        "blkid finds {} on it, expected {}",
                        signature.unwrap_or("nothing"),
                        fs.format.blkid_type()
                    ),
                );
            } else if fs.label.is_some()
                && found.and_then(|p| p.fs_label.as_ref()) != fs.label.as_ref()
            {
                diff(
                    &device,
                    format!(
                        "its label is {}, expected {}",
                        found.and_then(|p| p.fs_label.as_deref()).unwrap_or("unset"),
                        fs.label.as_deref().unwrap_or_default()
                    ),
                );
            }
        }
    }
}
