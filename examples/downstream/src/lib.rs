//! Per-user home datasets: `POOL/home/USER` with a quota and an owner tag, the kind of thing an
//! installer or a provisioning tool does with zfs-core. Its tests (`tests/homes.rs`) run on a
//! throwaway pool through `cargo zfs-test`.

use zfs_core::{CreateDataset, DatasetName, Zfs};

/// The user property that records whose home a dataset is.
pub const OWNER_PROPERTY: &str = "org.example:owner";

/// Creates `PARENT/USER` (and `PARENT` if missing) with `quota` bytes and the owner tag.
///
/// # Errors
/// A bad user name, an existing home, or whatever ZFS refuses.
pub fn provision_home(
    zfs: &Zfs,
    parent: &DatasetName,
    user: &str,
    quota: u64,
) -> zfs_core::Result<DatasetName> {
    let home = parent.child(user)?;
    CreateDataset::filesystem(home.clone())
        .create_parents(true)
        .property("quota", &quota.to_string())
        .property(OWNER_PROPERTY, user)
        .create(zfs)?;
    Ok(home)
}
