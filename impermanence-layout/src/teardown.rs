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

/// Unmounts the filesystems of the spec's partitions and volumes that are mounted (an ESP under
/// the mount root must go before the pool's root can, an ext4 on a volume before the pool can
/// be exported), wherever they are. Returns what was done, as commands.
///
/// # Errors
/// [`LayoutError::Zfs`] naming the mount that could not be undone (busy).
pub fn unmount_devices(spec: &crate::Spec) -> Result<Vec<String>, LayoutError> {
    let mut done = Vec::new();
    for (device, _) in spec.block_filesystems() {
        let Some(devnum) = crate::disk::dev_number(&device) else {
            continue;
        };
        // A device mounted at several places is unmounted from each, newest first.
        for _ in 0..16 {
            let Some(at) = crate::inventory::mounts()
                .remove(&devnum)
                .and_then(|mut all| all.pop())
            else {
                break;
            };
            crate::filesystem::unmount(&at)
                .map_err(|e| zfs_core::Error::io("umount", &device.display().to_string(), &e))?;
            done.push(format!("umount {}", at.display()));
        }
    }
    Ok(done)
}
