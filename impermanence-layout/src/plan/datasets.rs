//! Datasets and volumes: created where missing, settled where they differ.

use super::{Draft, Step, SET_AT_CREATION};
use crate::inventory::{same_meaning, ExistingDataset};
use crate::spec::{DatasetSpec, VolumeSpec};

pub(super) fn plan(d: &mut Draft<'_>) {
    let state = d.inv.pool.as_ref();
    for ds in &d.spec.datasets {
        let full = d.spec.full_name(&ds.name);
        let volume = ds.volume.as_ref();
        match state.and_then(|s| s.datasets.get(&full)) {
            None => d.steps.push(match volume {
                None => Step::CreateDataset {
                    name: full,
                    properties: ds.properties.clone(),
                },
                Some(v) => Step::CreateVolume {
                    name: full,
                    size: v.size_bytes().unwrap_or(0),
                    block_size: v.block_size_bytes(),
                    sparse: v.sparse,
                    properties: ds.properties.clone(),
                },
            }),
            Some(have) if volume.is_none() && !have.is_filesystem => d
                .conflicts
                .push(format!("{full} exists but is not a filesystem")),
            Some(have) if volume.is_some() && !have.is_volume => d
                .conflicts
                .push(format!("{full} exists but is not a volume")),
            Some(have) => {
                if let Some(v) = volume {
                    settle_volume(d, &full, v, have);
                }
                settle_properties(d, &full, ds, have);
            }
        }
    }
}

/// A volume's shape: the block size is fixed, the size can be set.
fn settle_volume(d: &mut Draft<'_>, full: &str, v: &VolumeSpec, have: &ExistingDataset) {
    let read = |k: &str| {
        have.properties
            .get(k)
            .and_then(|h| h.value.parse::<u64>().ok())
    };
    if let (Some(want), Some(is)) = (v.block_size_bytes(), read("volblocksize")) {
        if want != is {
            d.conflicts.push(format!(
                "{full}: volblocksize is {is}, the spec says {want}, and it can only be set \
                 when the volume is created"
            ));
        }
    }
    if let (Some(want), Some(is)) = (v.size_bytes(), read("volsize")) {
        if want != is {
            if d.settles() {
                d.steps.push(Step::SetProperty {
                    dataset: full.to_owned(),
                    property: "volsize".into(),
                    value: want.to_string(),
                });
            } else {
                d.conflicts
                    .push(format!("{full}: volsize is {is}, the spec says {want}"));
            }
        }
    }
}

fn settle_properties(d: &mut Draft<'_>, full: &str, ds: &DatasetSpec, have: &ExistingDataset) {
    for (k, want) in &ds.properties {
        let is = have.properties.get(k);
        // Properties fixed at creation have no source to compare (`-`).
        let fixed = SET_AT_CREATION.contains(&k.as_str());
        if is.is_some_and(|h| (h.local || fixed) && same_meaning(k, &h.value, want)) {
            continue;
        }
        if fixed {
            let is = is.map_or("unset", |h| h.value.as_str());
            d.conflicts.push(format!(
                "{full}: {k} is {is}, the spec says {want}, and it can only be set when the \
                 dataset is created"
            ));
        } else if d.settles() {
            d.steps.push(Step::SetProperty {
                dataset: full.to_owned(),
                property: k.clone(),
                value: want.clone(),
            });
        } else {
            let is = is.map_or("unset".to_owned(), |h| {
                format!(
                    "{}{}",
                    h.value,
                    if h.local { "" } else { " (not set locally)" }
                )
            });
            d.conflicts
                .push(format!("{full}: {k} is {is}, the spec says {want}"));
        }
    }
}
