//! Creates the ZFS layout of a NixOS impermanence setup in one all-or-nothing step: the pool
//! `zroot` with its properties, `zroot/{root,nix,tmp,cache,persist}` with legacy mountpoints,
//! and the snapshot `zroot/persist@blank` (see `shared/reference/impermanence-guide.txt`) by
//! default; or what a real install describes: vdev groups with log, special, dedup, cache and
//! spare devices ([`Topology`]), whole disks, encryption roots ([`EncryptionRoot`]), volumes,
//! mount options, several pools in one spec (`[[pools]]`: a boot pool next to the root pool,
//! laid down together or not at all), built in code with [`SpecBuilder`] or read from TOML or
//! JSON.
//!
//! The flow: a [`Spec`] (the guide's by default, or TOML) is validated as a whole; a [`Plan`]
//! is computed from it and what exists ([`Inventory`]); [`apply`] carries the plan out and
//! undoes everything it did if a step fails; [`verify`] compares the live system with the
//! spec; [`teardown`] ends an install. An apply in progress is recorded on the pool
//! (`impermanence-layout:state`), so a run that was killed is completed by the next one rather
//! than started over.
//!
//! ```
//! use impermanence_layout::{Inventory, Plan, PlanOptions, Spec, VdevEntry};
//!
//! let mut spec = Spec::default();
//! spec.pool.vdevs.push(VdevEntry::new("/var/tmp/zroot.img").size("2G"));
//! spec.validate().unwrap();
//! // Planning needs no ZFS when nothing exists yet.
//! let plan = Plan::new(&spec, &Inventory::default(), &PlanOptions::new());
//! assert_eq!(plan.to_commands()[0], "truncate -s 2147483648 /var/tmp/zroot.img");
//! assert!(plan.to_commands()[1].starts_with("zpool create -o ashift=12 -o autotrim=on -O compression=zstd"));
//! ```
#![deny(missing_docs)]

mod apply;
mod disk;
mod disko;
mod error;
mod filesystem;
mod inventory;
mod keys;
mod live_topology;
mod lock;
mod nixos;
pub mod partition_table;
mod plan;
mod spec;
mod teardown;
#[cfg(test)]
mod test_support;
mod verify;

pub use apply::{apply, ApplyOptions, OnStart, OnStep, StepDone};
pub use disko::{from_disko_json, import_disko};
pub use error::LayoutError;
pub use inventory::{
    same_meaning, ExistingDataset, ExistingDisk, ExistingPartition, ExistingPool, ExportedPool,
    Holds, InTheWay, Inventory, Seen, JOURNAL,
};
pub use keys::EncryptionRoot;
pub use lock::ApplyLock;
pub use nixos::nixos_config;
pub use plan::{Plan, PlanOptions, Step, EMPTY_REFERENCED};
pub use spec::{
    parse_size, partlabel_path, BootSpec, DatasetSpec, DiskSpec, FilesystemFormat, FilesystemSpec,
    MountSpec, PartitionKind, PartitionSpec, PoolSpec, Properties, SanoidSpec, SnapshotSpec, Spec,
    SpecBuilder, SpecErrors, Topology, VdevEntry, VdevGroup, VdevLayout, VolumeSpec,
};
pub use teardown::{teardown, unmount_all};
pub use verify::{differences, verify, Difference};
