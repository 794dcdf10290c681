//! One step run, and how to take it back recorded.

use std::collections::HashMap;
use std::path::Path;

use zfs_core::{CreatePool, DatasetName, Key, PoolName, SnapshotName, Zfs};

use super::create::{creation, Keys};
use super::devices::vdev_spec;
use super::undo::Undo;
use crate::keys::without_key_props;
use crate::plan::Step;

/// An I/O failure on `path` as zfs-core's error, which every step reports.
pub(super) fn io(op: &'static str, path: &std::path::Path, e: &std::io::Error) -> zfs_core::Error {
    zfs_core::Error::io(op, &path.display().to_string(), e)
}

pub(super) fn run(
    zfs: &Zfs,
    step: &Step,
    keys: &Keys<'_>,
    undo: &mut Vec<Undo>,
) -> zfs_core::Result<()> {
    match step {
        Step::CreateVdevFile { path, size } => {
            create_sized(path, *size)?;
            undo.push(Undo::RemoveFile(path.clone()));
        }
        Step::CreatePool {
            name,
            topology,
            properties,
            root_properties,
            force,
            altroot,
            enable_features,
        } => {
            let mut create = CreatePool::new(PoolName::new(name.as_str())?, vdev_spec(topology))
                .force(*force)
                .enable_features(*enable_features);
            if let Some(root) = altroot {
                create = create.altroot(root);
            }
            for (k, v) in properties {
                create = create.pool_property(k, v);
            }
            let key = keys.new_roots.get(name.as_str());
            let root_properties = match key {
                Some(_) => without_key_props(root_properties),
                None => root_properties.clone(),
            };
            for (k, v) in &root_properties {
                create = create.fs_property(k, v);
            }
            if let Some(key) = key {
                create = create.encryption(key.clone());
            }
            create.create(zfs)?;
            undo.push(Undo::DestroyPool {
                name: name.clone(),
                devices: topology.devices().map(|d| d.path.clone()).collect(),
            });
        }
        Step::SetPoolProperty {
            pool,
            property,
            value,
        } => {
            let p = zfs.pool(&PoolName::new(pool.as_str())?)?;
            let old = p.property(property)?.value;
            p.set_property(property, value)?;
            undo.push(Undo::RestorePool {
                pool: pool.clone(),
                property: property.clone(),
                old,
            });
        }
        Step::SetProperty {
            dataset,
            property,
            value,
        } => {
            let ds = zfs.dataset(&DatasetName::new(dataset.as_str())?)?;
            let before = ds.property(property)?;
            let old = (before.source == zfs_core::PropSource::Local).then_some(before.value);
            ds.set_property(property, value)?;
            undo.push(Undo::Restore {
                dataset: dataset.clone(),
                property: property.clone(),
                old,
            });
        }
        Step::CreateDataset { name, .. } | Step::CreateVolume { name, .. } => {
            creation(step, keys)
                .expect("a creation step")?
                .create(zfs)?;
            undo.push(Undo::DestroyDataset(name.clone()));
        }
        Step::PartitionDisk {
            disk,
            sector,
            partitions,
        } => {
            // Nothing to undo with: the old table is gone. Its partitions' old signatures go
            // too, so that no old pool or filesystem shows through the new ones.
            let fail = |e: std::io::Error| io("partition", disk, &e);
            let held = crate::partition_table::write(disk, *sector, partitions).map_err(fail)?;
            // Held until the run ends (or its undo gets here): what the later steps do on the
            // new partitions needs them to stay put.
            undo.push(Undo::Release { _held: held });
            for p in partitions {
                let link = crate::spec::partlabel_path(&p.label);
                wipe_new_partition(&link, p.number, &p.label, disk).map_err(fail)?;
                if let Ok(Some(_)) = zfs.device_label(&link) {
                    zfs.labelclear(&link, &zfs_core::LabelClearOptions::new().force(true))?;
                }
            }
        }
        Step::Format {
            device,
            format,
            label,
        } => {
            let fail = |e: std::io::Error| io("format", device, &e);
            crate::filesystem::wait_for_device(device, crate::filesystem::DEVICE_WAIT)
                .map_err(fail)?;
            crate::disk::check_partlabel(device).map_err(fail)?;
            if let Err(e) = crate::filesystem::make(device, *format, label.as_deref()) {
                // What a tool that failed halfway wrote goes too.
                let _ = crate::filesystem::wipe(device);
                return Err(fail(e));
            }
            undo.push(Undo::Wipe {
                device: device.clone(),
            });
        }
        Step::MountDevice {
            device,
            path,
            fstype,
            options,
        } => {
            let fail = |e: std::io::Error| io("mount", device, &e);
            crate::disk::check_partlabel(device).map_err(fail)?;
            // A volume's node is there once its key is loaded.
            if let Ok(volume) = device.strip_prefix("/dev/zvol") {
                let ds = zfs.dataset(&DatasetName::new(volume.to_string_lossy().as_ref())?)?;
                unlock(zfs, &ds, keys.given)?;
                if ds.key_status()? == zfs_core::KeyStatus::Unavailable {
                    if let Some(root) = ds.encryption_root()? {
                        zfs.dataset(&DatasetName::new(root.as_str())?)?
                            .load_key_from_location()?;
                    }
                }
                crate::filesystem::wait_for_device(device, crate::filesystem::DEVICE_WAIT)
                    .map_err(fail)?;
            }
            crate::filesystem::mount(device, path, fstype, options).map_err(fail)?;
            undo.push(Undo::UnmountPath(path.clone()));
        }
        Step::ClearLabel { device } => {
            // Nothing to undo with: the labels are gone. The plan puts this last before the
            // pool's creation.
            zfs.labelclear(device, &zfs_core::LabelClearOptions::new().force(true))?;
        }
        Step::ImportPool {
            name,
            guid,
            dirs,
            altroot,
        } => {
            let mut opts = dirs
                .iter()
                .fold(zfs_core::ImportOptions::new(), |o, d| o.dir(d));
            if let Some(root) = altroot {
                opts = opts.altroot(root);
            }
            // By GUID: the pool the inventory found, not another of the same name.
            drop(zfs.import_pool_by_guid(*guid, &opts)?);
            undo.push(Undo::ExportPool(name.clone()));
        }
        Step::Snapshot { name } => {
            zfs.snapshot(&[SnapshotName::new(name.as_str())?], &[])?;
            undo.push(Undo::DestroySnapshot(name.clone()));
        }
        Step::Mount {
            dataset,
            path,
            options,
        } => {
            let opts = zfs_core::MountOptions::new()
                .options(&options.join(","))
                .load_key(true);
            let ds = zfs.dataset(&DatasetName::new(dataset.as_str())?)?;
            unlock(zfs, &ds, keys.given)?;
            ds.mount_at_with(path, &opts)?;
            undo.push(Undo::Unmount(dataset.clone()));
        }
    }
    Ok(())
}

/// Creates the file `path` of `size` bytes (sparse), never half: it is made and sized under a
/// temporary name beside it, then linked into place, which fails if `path` exists. A run
/// killed in between leaves no `path` at all (a 0-byte vdev the next run would refuse), only
/// the temporary file, which the next run replaces.
fn create_sized(path: &Path, size: u64) -> zfs_core::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let partial = path.with_file_name(format!(".{name}.impermanence-layout-partial"));
    let _ = std::fs::remove_file(&partial);
    let made = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&partial)
        .and_then(|f| f.set_len(size))
        .and_then(|()| std::fs::hard_link(&partial, path));
    let _ = std::fs::remove_file(&partial);
    made.map_err(|e| io("create", path, &e))
}

/// Loads a locked dataset's key from the caller's keys, if they hold its encryption root's
/// (a `file://` root's key is loaded by the mount itself).
fn unlock(
    zfs: &Zfs,
    ds: &zfs_core::Dataset<'_>,
    given: &HashMap<String, Key>,
) -> zfs_core::Result<()> {
    if ds.key_status()? != zfs_core::KeyStatus::Unavailable {
        return Ok(());
    }
    let Some(root) = ds.encryption_root()? else {
        return Ok(());
    };
    match given.get(&root) {
        Some(key) => zfs
            .dataset(&DatasetName::new(root.as_str())?)?
            .load_key(key),
        None => Ok(()),
    }
}

/// Wipes the old signatures off partition `number` of `disk`, found by its new `link` (which
/// stays put while the disk is held: see [`HeldDisk`](crate::partition_table::HeldDisk)).
fn wipe_new_partition(link: &Path, number: u32, label: &str, disk: &Path) -> std::io::Result<()> {
    crate::filesystem::wait_for_device(link, crate::filesystem::DEVICE_WAIT)?;
    if !crate::disk::is_partition_of(link, number, disk) {
        return Err(std::io::Error::other(format!(
            "{} is not partition {number} of {}: another partition on the system has the \
             label '{label}'",
            link.display(),
            disk.display(),
        )));
    }
    crate::filesystem::wipe(link)
}
