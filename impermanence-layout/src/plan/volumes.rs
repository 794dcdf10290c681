//! Filesystems on volumes: made (`mkswap`, `mkfs.ext4`, ...) once the volume exists, so that
//! `swapDevices` finds swap and `fileSystems` a filesystem; left alone where they are there.

use std::path::PathBuf;

use super::{Draft, Step};
use crate::spec::{FilesystemFormat, Spec};

/// The device node of a volume (`/dev/zvol/zroot/swap`).
pub fn volume_device(full_name: &str) -> PathBuf {
    PathBuf::from(format!("/dev/zvol/{full_name}"))
}

/// What the spec makes on each volume: its `filesystem`, or swap for one named in `boot.swap`.
/// (full name, format, label)
pub(crate) fn volume_filesystems(spec: &Spec) -> Vec<(String, FilesystemFormat, Option<String>)> {
    if spec.has_several_pools() {
        return spec
            .pool_specs()
            .iter()
            .flat_map(volume_filesystems)
            .collect();
    }
    spec.datasets
        .iter()
        .filter_map(|d| {
            let v = d.volume.as_ref()?;
            let (format, label) = match &v.filesystem {
                Some(fs) => (fs.format, fs.label.clone()),
                None if spec.boot.swap.contains(&d.name) => (FilesystemFormat::Swap, None),
                None => return None,
            };
            Some((spec.full_name(&d.name), format, label))
        })
        .collect()
}

pub(super) fn plan(d: &mut Draft<'_>) {
    for (full, format, label) in volume_filesystems(d.spec) {
        let existing = d.inv.pool.as_ref().and_then(|s| s.datasets.get(&full));
        let step = Step::Format {
            device: volume_device(&full),
            format,
            label,
        };
        match existing {
            // Not a volume: the datasets' plan already says so. Locked: what is on it is read
            // once its key is loaded (the next run's plan), never formatted blind.
            Some(ds) if !ds.is_volume || ds.locked => {}
            Some(ds) => match ds.signature.as_deref() {
                Some(t) if t == format.blkid_type() => {}
                None => d.steps.push(step),
                Some(_) if d.opts.wipe => d.steps.push(step),
                Some(other) => d.conflicts.push(format!(
                    "{full}: the spec makes {} on it, and blkid finds {other}: refusing to \
                     format it (--wipe, or wipefs -a {})",
                    format.blkid_type(),
                    volume_device(&full).display()
                )),
            },
            None => d.steps.push(step),
        }
    }
}
