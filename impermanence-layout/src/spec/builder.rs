//! [`SpecBuilder`]: a layout described in code, without TOML, checked when built.

use super::{
    BootSpec, DatasetSpec, MountSpec, PoolSpec, SanoidSpec, SnapshotSpec, Spec, SpecErrors,
    Topology, VdevLayout,
};

/// Builds a [`Spec`] step by step. [`Spec::builder`] starts from nothing but a pool name
/// (no properties, datasets, mounts or sanoid); [`SpecBuilder::from`] a spec to extend, such
/// as the guide's (`Spec::default()`).
///
/// ```
/// use impermanence_layout::{DatasetSpec, MountSpec, Spec, Topology, VdevGroup, VdevLayout};
///
/// let spec = Spec::builder("tank")
///     .topology(Topology::new().vdev(VdevGroup::new(VdevLayout::Mirror, ["/dev/sda", "/dev/sdb"])))
///     .pool_property("ashift", "12")
///     .root_property("compression", "zstd")
///     .root_property("mountpoint", "none")
///     .dataset(DatasetSpec::new("nix").property("mountpoint", "legacy"))
///     .dataset(DatasetSpec::volume("swap", "8G").block_size("4K"))
///     .mount(MountSpec::new("/nix", "nix").needed_for_boot(true))
///     .swap("swap")
///     .build()
///     .unwrap();
/// assert_eq!(spec.datasets.len(), 2);
/// assert!(Spec::builder("tank").mount(MountSpec::new("/x", "nope")).build().is_err());
/// ```
#[derive(Debug, Clone)]
pub struct SpecBuilder {
    spec: Spec,
}

impl Spec {
    /// An empty layout for the pool `name`, to describe in code.
    pub fn builder(name: &str) -> SpecBuilder {
        SpecBuilder {
            spec: Spec {
                disks: Vec::new(),
                pool: PoolSpec::new(name),
                datasets: Vec::new(),
                snapshots: Vec::new(),
                pools: Vec::new(),
                boot: BootSpec::none(),
            },
        }
    }
}

impl From<Spec> for SpecBuilder {
    /// Extends `spec` (the guide's, or one read from a file).
    fn from(spec: Spec) -> SpecBuilder {
        SpecBuilder { spec }
    }
}

impl SpecBuilder {
    /// Another pool, laid down with this one all or nothing: a one-pool spec built with
    /// [`Spec::builder`] (its devices, properties, datasets, snapshots, and its boot mounts
    /// and sanoid entries), added as [`Spec::add_pool`] adds it.
    ///
    /// # Errors
    /// As [`Spec::add_pool`].
    pub fn and_pool(mut self, other: Spec) -> Result<SpecBuilder, SpecErrors> {
        self.spec.add_pool(other)?;
        Ok(self)
    }

    /// The pool's devices (replacing any given before).
    pub fn topology(mut self, topology: Topology) -> SpecBuilder {
        self.spec.pool.vdevs.clear();
        self.spec.pool.layout = VdevLayout::Stripe;
        self.spec.pool.topology = Some(topology);
        self
    }

    /// Create the pool as `zpool create -f` does (see [`PoolSpec::force`]).
    pub fn force(mut self, yes: bool) -> SpecBuilder {
        self.spec.pool.force = yes;
        self
    }

    /// A pool property (`zpool create -o`).
    pub fn pool_property(mut self, name: &str, value: &str) -> SpecBuilder {
        self.spec.pool.properties.insert(name.into(), value.into());
        self
    }

    /// A property of the pool's root dataset (`zpool create -O`).
    pub fn root_property(mut self, name: &str, value: &str) -> SpecBuilder {
        self.spec
            .pool
            .root_properties
            .insert(name.into(), value.into());
        self
    }

    /// A dataset (after those given before: parents first).
    pub fn dataset(mut self, dataset: DatasetSpec) -> SpecBuilder {
        self.spec.datasets.push(dataset);
        self
    }

    /// A snapshot taken once the datasets exist.
    pub fn snapshot(mut self, dataset: &str, name: &str) -> SpecBuilder {
        self.spec.snapshots.push(SnapshotSpec::new(dataset, name));
        self
    }

    /// A mount of the NixOS configuration (and of `--mount-root`).
    pub fn mount(mut self, mount: MountSpec) -> SpecBuilder {
        self.spec.boot.mounts.push(mount);
        self
    }

    /// A volume of the spec used as swap.
    pub fn swap(mut self, volume: &str) -> SpecBuilder {
        self.spec.boot.swap.push(volume.into());
        self
    }

    /// sanoid's retention for a dataset.
    pub fn sanoid(mut self, sanoid: SanoidSpec) -> SpecBuilder {
        self.spec.boot.sanoid.push(sanoid);
        self
    }

    /// `networking.hostId`.
    pub fn host_id(mut self, id: &str) -> SpecBuilder {
        self.spec.boot.host_id = Some(id.into());
        self
    }

    /// The tmpfs root's `size=` and `mode=`.
    pub fn root_tmpfs(mut self, size: &str, mode: &str) -> SpecBuilder {
        self.spec.boot.root_tmpfs_size = Some(size.into());
        self.spec.boot.root_tmpfs_mode = Some(mode.into());
        self
    }

    /// The spec, checked as [`Spec::validate`] checks it; devices are required only if some
    /// are given (they can come later, as the CLI's `--vdev` does).
    ///
    /// # Errors
    /// [`SpecErrors`] with every problem.
    pub fn build(self) -> Result<Spec, SpecErrors> {
        if self.spec.pool.topology().is_empty() {
            self.spec.validate_without_devices()?;
        } else {
            self.spec.validate()?;
        }
        Ok(self.spec)
    }
}
