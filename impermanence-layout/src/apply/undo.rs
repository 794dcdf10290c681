//! Taking a failed run back, newest step first.

use std::path::PathBuf;

use zfs_core::{
    DatasetName, DestroyOptions, DestroySnapshotsOptions, InheritOptions, PoolName, SnapshotName,
    UnmountOptions, Zfs,
};

use super::step::io;

/// How to take back one step.
pub(super) enum Undo {
    RemoveFile(PathBuf),
    /// Destroy the pool the step created, and clear the labels it wrote on its devices: a
    /// destroyed pool's label would stand in the way of the next run (the devices held none,
    /// or had theirs cleared by `--wipe`, before).
    DestroyPool {
        name: String,
        devices: Vec<PathBuf>,
    },
    ExportPool(String),
    DestroyDataset(String),
    DestroySnapshot(String),
    Unmount(String),
    /// Erase the signature a step wrote on a device.
    Wipe {
        device: PathBuf,
    },
    /// Unmount what a step mounted at a path.
    UnmountPath(PathBuf),
    Restore {
        dataset: String,
        property: String,
        old: Option<String>,
    },
    RestorePool {
        pool: String,
        property: String,
        old: String,
    },
    /// Let go of a disk the run held against udev's re-read of its new table (dropping it
    /// does that); everything done on its partitions since is undone by then.
    Release {
        _held: crate::partition_table::HeldDisk,
    },
}

/// Undoes, newest first; returns what could not be undone.
pub(super) fn roll_back(zfs: &Zfs, undo: Vec<Undo>) -> Vec<String> {
    let mut failures = Vec::new();
    for u in undo.into_iter().rev() {
        if let Err(e) = retry_while_busy(|| undo_one(zfs, &u)) {
            failures.push(e.to_string());
        }
    }
    failures
}

/// Runs `f` again while it fails with `Busy`, until about two and a half seconds have gone by.
///
/// A mount can be busy for a moment with nobody using it: a thread of this (or any) process that
/// spawns a child while a file on it is open gives the child a copy of that descriptor until the
/// child's `exec` closes it. Rolling back must not give up on that. The bound is time, not
/// attempts: a pool's destroy or export already waits out a passing hold on its own (five
/// seconds), and a hold that stays must not cost that wait again for every attempt.
fn retry_while_busy(mut f: impl FnMut() -> zfs_core::Result<()>) -> zfs_core::Result<()> {
    const WAIT: std::time::Duration = std::time::Duration::from_millis(2500);
    let start = std::time::Instant::now();
    let mut delay = std::time::Duration::from_millis(20);
    loop {
        match f() {
            Err(e) if e.kind() == zfs_core::ErrorKind::Busy && start.elapsed() < WAIT => {
                std::thread::sleep(delay);
                delay *= 2;
            }
            other => return other,
        }
    }
}

fn undo_one(zfs: &Zfs, u: &Undo) -> zfs_core::Result<()> {
    match u {
        Undo::RemoveFile(p) => std::fs::remove_file(p).map_err(|e| io("remove", p, &e)),
        // roll_back drops it right after.
        Undo::Release { .. } => Ok(()),
        Undo::DestroyPool { name, devices } => {
            PoolName::new(name.as_str()).and_then(|n| zfs.destroy_pool(&n))?;
            for device in devices.iter().filter(|d| d.exists()) {
                // A whole disk's label is on the partition zpool made on it, which goes with
                // the disk's next table: nothing to clear there, and no harm if this fails.
                let _ = zfs.labelclear(device, &zfs_core::LabelClearOptions::new().force(true));
            }
            Ok(())
        }
        Undo::ExportPool(name) => PoolName::new(name.as_str())
            .and_then(|n| zfs.export_pool(&n, &zfs_core::ExportOptions::new())),
        Undo::DestroyDataset(name) => DatasetName::new(name.as_str())
            .and_then(|n| zfs.destroy(&n, &DestroyOptions::new().recursive(true))),
        Undo::DestroySnapshot(name) => SnapshotName::new(name.as_str())
            .and_then(|s| zfs.destroy_snapshots(&[s], &DestroySnapshotsOptions::new())),
        Undo::Unmount(ds) => DatasetName::new(ds.as_str())
            .and_then(|n| zfs.dataset(&n))
            .and_then(|d| d.unmount(&UnmountOptions::new())),
        Undo::Wipe { device } => crate::disk::check_partlabel(device)
            .and_then(|()| crate::filesystem::wipe(device))
            .map_err(|e| io("wipefs", device, &e)),
        Undo::UnmountPath(path) => {
            crate::filesystem::unmount(path).map_err(|e| io("umount", path, &e))
        }
        Undo::Restore {
            dataset,
            property,
            old,
        } => DatasetName::new(dataset.as_str())
            .and_then(|n| zfs.dataset(&n))
            .and_then(|d| match old {
                Some(v) => d.set_property(property, v),
                None => d.inherit(property, &InheritOptions::new()),
            }),
        Undo::RestorePool {
            pool,
            property,
            old,
        } => PoolName::new(pool.as_str())
            .and_then(|n| zfs.pool(&n))
            // An unset property reads as `-` and is unset again by an empty value (`bootfs`).
            .and_then(|p| p.set_property(property, if old == "-" { "" } else { old })),
    }
}
