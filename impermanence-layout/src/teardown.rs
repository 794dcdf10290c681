//! Ending an install: unmount everything of the pool, unload its keys, export it, the way an
//! installer leaves the disks before rebooting into the new system.

use zfs_core::{DatasetTypes, ExportOptions, KeyStatus, PoolName, Zfs};

use crate::error::LayoutError;

/// Unmounts every filesystem of `pool` (children first), unloads the keys of its encryption
/// roots, and exports it. Returns what was done, as commands; empty when the pool is not
/// imported (already torn down).
///
/// # Errors
/// [`LayoutError::Zfs`]: a filesystem in use ([`zfs_core::ErrorKind::Busy`]) stops the
/// teardown there (what was unmounted stays unmounted; run it again once it is free).
pub fn teardown(zfs: &Zfs, pool: &PoolName) -> Result<Vec<String>, LayoutError> {
    if !zfs.pool_exists(pool) {
        return Ok(Vec::new());
    }
    let mut done = Vec::new();
    let p = zfs.pool(pool)?;
    let root = pool.root_dataset();
    let all = zfs.list(&root, DatasetTypes::FILESYSTEM | DatasetTypes::VOLUME)?;
    let mounted: Vec<_> = all
        .iter()
        .filter_map(|d| zfs.dataset(&d.name).ok())
        .filter(|d| d.mounted_at().is_some())
        .collect();
    if !mounted.is_empty() {
        p.unmount_all(false)?;
        done.push(format!(
            "zfs unmount (each of {} filesystems of {pool})",
            mounted.len()
        ));
    }
    drop(mounted);
    for d in &all {
        let ds = zfs.dataset(&d.name)?;
        let is_root = ds.encryption_root()?.is_some_and(|r| r == d.name.as_str());
        if is_root && ds.key_status()? == KeyStatus::Available {
            ds.unload_key()?;
            done.push(format!("zfs unload-key {}", d.name));
        }
    }
    drop(p);
    zfs.export_pool(pool, &ExportOptions::new())?;
    done.push(format!("zpool export {pool}"));
    Ok(done)
}

/// Unmounts, deepest first, every filesystem of the layout that is mounted: the datasets of
/// every pool of the spec and the filesystems of the spec's partitions and volumes, wherever they are (a
/// dataset mounted under an ext4 root must go before the ext4 can, an ESP under the pool's root
/// before the root can, an ext4 on a volume before the pool is exported). Returns what was done,
/// as commands; [`teardown`] then unloads the keys and exports the pool.
///
/// # Errors
/// [`LayoutError::Zfs`] naming the mount that could not be undone (busy).
pub fn unmount_all(zfs: &Zfs, spec: &crate::Spec) -> Result<Vec<String>, LayoutError> {
    enum Source {
        Device(std::path::PathBuf),
        Dataset(String),
    }
    let mut mounted: Vec<(std::path::PathBuf, Source)> = Vec::new();
    let all = crate::inventory::mounts();
    for (device, _) in spec.block_filesystems() {
        let at = crate::disk::dev_number(&device).and_then(|n| all.get(&n).cloned());
        for target in at.unwrap_or_default() {
            mounted.push((target, Source::Device(device.clone())));
        }
    }
    for name in spec.pool_names() {
        let pool = PoolName::new(name)?;
        if zfs.pool_exists(&pool) {
            for d in zfs.list(&pool.root_dataset(), DatasetTypes::FILESYSTEM)? {
                if let Some(target) = zfs.dataset(&d.name)?.mounted_at() {
                    mounted.push((target, Source::Dataset(d.name.to_string())));
                }
            }
        }
    }
    mounted.sort_by_key(|(target, _)| std::cmp::Reverse(target.components().count()));
    let mut done = Vec::new();
    for (target, source) in mounted {
        match source {
            Source::Device(device) => {
                crate::filesystem::unmount(&target).map_err(|e| {
                    zfs_core::Error::io("umount", &device.display().to_string(), &e)
                })?;
                done.push(format!("umount {}", target.display()));
            }
            Source::Dataset(name) => {
                zfs.dataset(&zfs_core::DatasetName::new(name.as_str())?)?
                    .unmount(&zfs_core::UnmountOptions::new())?;
                done.push(format!("zfs unmount {name}"));
            }
        }
    }
    Ok(done)
}
