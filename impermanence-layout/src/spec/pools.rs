//! Several pools in one spec: `[pool]` with the top-level `datasets` and `snapshots` is the
//! first, each `[[pools]]` entry another with its own. Everything that plans, applies or
//! checks one pool works on a one-pool view of the spec ([`Spec::pool_specs`]); what spans
//! the pools (disks, mounts, the journal's order, undo) is put together from the views.

use super::{Spec, SpecErrors};

impl Spec {
    /// Every pool's name, the first pool's first.
    pub fn pool_names(&self) -> Vec<&str> {
        std::iter::once(&self.pool)
            .chain(&self.pools)
            .map(|p| p.name.as_str())
            .collect()
    }

    /// Whether the spec has more than one pool.
    pub fn has_several_pools(&self) -> bool {
        !self.pools.is_empty()
    }

    /// The spec as one one-pool spec per pool, in order: each with its pool, datasets and
    /// snapshots, the spec's disks, and the boot mounts and sanoid entries of its pool (swap
    /// and the rest of `[boot]` stay with the first). A one-pool spec is its own only view.
    pub fn pool_specs(&self) -> Vec<Spec> {
        if self.pools.is_empty() {
            return vec![self.clone()];
        }
        let first = self.pool.name.as_str();
        let mut out = Vec::with_capacity(1 + self.pools.len());
        for (i, pool) in std::iter::once(&self.pool).chain(&self.pools).enumerate() {
            let mut pool = pool.clone();
            let (datasets, snapshots) = if i == 0 {
                (self.datasets.clone(), self.snapshots.clone())
            } else {
                (
                    std::mem::take(&mut pool.datasets),
                    std::mem::take(&mut pool.snapshots),
                )
            };
            let mut boot = self.boot.clone();
            let mine = |of: &Option<String>| of.as_deref().unwrap_or(first) == pool.name;
            boot.mounts.retain(|m| mine(&m.pool));
            boot.sanoid.retain(|s| mine(&s.pool));
            boot.mounts.iter_mut().for_each(|m| m.pool = None);
            boot.sanoid.iter_mut().for_each(|s| s.pool = None);
            if i > 0 {
                boot.swap.clear();
            }
            out.push(Spec {
                disks: self.disks.clone(),
                pool,
                datasets,
                snapshots,
                pools: Vec::new(),
                boot,
            });
        }
        out
    }

    /// Adds `other`'s pool (with its datasets and snapshots) as one more pool of this spec,
    /// its disks to this spec's, and its boot mounts and sanoid entries as its pool's; the
    /// rest of its `[boot]` is this spec's business and must be empty.
    ///
    /// # Errors
    /// [`SpecErrors`] when `other` has several pools itself, a pool of the same name, or
    /// boot fields other than mounts and sanoid.
    pub fn add_pool(&mut self, other: Spec) -> Result<(), SpecErrors> {
        let name = other.pool.name.clone();
        let mut problems = Vec::new();
        if other.has_several_pools() {
            problems.push(format!("{name}: add one pool at a time"));
        }
        if self.pool_names().contains(&name.as_str()) {
            problems.push(format!("the spec already has a pool named {name}"));
        }
        let mut boot = other.boot.clone();
        boot.mounts.clear();
        boot.sanoid.clear();
        if !boot.is_none() {
            problems.push(format!(
                "{name}: only boot mounts and sanoid entries can come with another pool"
            ));
        }
        if !problems.is_empty() {
            return Err(SpecErrors(problems));
        }
        let mut pool = other.pool;
        pool.datasets = other.datasets;
        pool.snapshots = other.snapshots;
        self.disks.extend(other.disks);
        self.boot
            .mounts
            .extend(other.boot.mounts.into_iter().map(|mut m| {
                m.pool = Some(name.clone());
                m
            }));
        self.boot
            .sanoid
            .extend(other.boot.sanoid.into_iter().map(|mut s| {
                s.pool = Some(name.clone());
                s
            }));
        self.pools.push(pool);
        Ok(())
    }

    /// Problems that only several pools can have: a name given twice, datasets written on
    /// `[pool]` instead of at the top level, a boot entry naming no pool of the spec, one
    /// device in two pools.
    pub(super) fn pools_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let names = self.pool_names();
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                out.push(format!("pool {n} is listed twice"));
            }
        }
        if !self.pool.datasets.is_empty() || !self.pool.snapshots.is_empty() {
            out.push(format!(
                "pool {}: the first pool's datasets and snapshots go at the top level \
                 ([[datasets]], [[snapshots]]), not under [pool]",
                self.pool.name
            ));
        }
        let unknown = |p: &Option<String>| p.clone().filter(|p| !names.contains(&p.as_str()));
        for m in &self.boot.mounts {
            if let Some(p) = unknown(&m.pool) {
                out.push(format!("mount '{}': pool '{p}' is not in the spec", m.path));
            }
        }
        for s in &self.boot.sanoid {
            if let Some(p) = unknown(&s.pool) {
                out.push(format!(
                    "sanoid '{}': pool '{p}' is not in the spec",
                    s.dataset
                ));
            }
        }
        for name in &self.boot.swap {
            if let Some(p) = self
                .pools
                .iter()
                .find(|p| p.datasets.iter().any(|d| d.name == *name && d.is_volume()))
                .filter(|_| self.dataset(name).is_none())
            {
                out.push(format!(
                    "swap: '{name}' is a volume of {}; boot.swap names the first pool's \
                     volumes (give that volume filesystem = {{ format = \"swap\" }})",
                    p.name
                ));
            }
        }
        let mut owner: std::collections::HashMap<std::path::PathBuf, &str> = Default::default();
        for pool in std::iter::once(&self.pool).chain(&self.pools) {
            for d in pool.topology().devices() {
                if let Some(first) = owner.insert(d.path.clone(), &pool.name) {
                    if first != pool.name {
                        out.push(format!(
                            "{} is a device of both {first} and {}",
                            d.path.display(),
                            pool.name
                        ));
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A boot pool (`compatibility = "grub2"`, `/boot` legacy) and a root pool (`/`, `/home`,
    /// a blank snapshot), both on files.
    pub(crate) fn boot_and_root() -> Spec {
        Spec::from_toml(
            r#"
[pool]
name = "bpool"
vdevs = [{ path = "/d/b.img", size = "1G" }]
properties = { compatibility = "grub2" }
root_properties = { mountpoint = "none", canmount = "off" }

[[datasets]]
name = "boot"
properties = { mountpoint = "legacy" }

[[pools]]
name = "rpool"
vdevs = [{ path = "/d/r.img", size = "2G" }]
root_properties = { mountpoint = "none" }

[[pools.datasets]]
name = "root"
properties = { mountpoint = "/" }

[[pools.datasets]]
name = "root/home"

[[pools.snapshots]]
dataset = "root"
name = "blank"

[[boot.mounts]]
path = "/boot"
dataset = "boot"
"#,
        )
        .unwrap()
    }

    #[test]
    fn each_pool_is_seen_on_its_own_with_its_datasets_and_mounts() {
        let spec = boot_and_root();
        spec.validate().unwrap();
        assert_eq!(spec.pool_names(), ["bpool", "rpool"]);
        let views = spec.pool_specs();
        assert_eq!(views.len(), 2);
        assert_eq!(views[0].pool.name, "bpool");
        assert_eq!(views[0].datasets.len(), 1);
        assert_eq!(views[0].boot.mounts.len(), 1);
        assert_eq!(views[1].pool.name, "rpool");
        assert!(views[1].pool.datasets.is_empty() && views[1].pools.is_empty());
        assert_eq!(views[1].full_name("root/home"), "rpool/root/home");
        assert_eq!(views[1].mountpoint("root/home"), "/home");
        assert_eq!(views[1].snapshots[0].name, "blank");
        assert!(views[1].boot.mounts.is_empty());
        // Printed and read back, and built in code the same.
        assert_eq!(Spec::from_toml(&spec.to_toml()).unwrap(), spec);
        assert_eq!(Spec::from_json(&spec.to_json()).unwrap(), spec);
        let mut rebuilt = views[0].clone();
        rebuilt.add_pool(views[1].clone()).unwrap();
        assert_eq!(rebuilt, spec);
        // The one-pool spec is its own view.
        assert_eq!(Spec::default().pool_specs(), [Spec::default()]);
    }

    #[test]
    fn what_only_several_pools_can_get_wrong_is_refused_by_name() {
        let mut s = boot_and_root();
        s.pools.push(crate::PoolSpec::new("bpool"));
        s.pools[1].vdevs.push(crate::VdevEntry::new("/d/r.img"));
        s.pool.datasets.push(crate::DatasetSpec::new("misplaced"));
        s.boot
            .mounts
            .push(crate::MountSpec::new("/x", "root").in_pool("nosuch"));
        s.boot
            .sanoid
            .push(crate::SanoidSpec::new("root", 1, 1, 1, 1).in_pool("gone"));
        s.pools[0].datasets.push(crate::DatasetSpec::new("a/b"));
        s.pools[0]
            .datasets
            .push(crate::DatasetSpec::volume("swap", "64M"));
        s.boot.swap.push("swap".into());
        let all = s.validate().unwrap_err().0;
        for needle in [
            "pool bpool is listed twice",
            "pool bpool: the first pool's datasets and snapshots go at the top level",
            "mount '/x': pool 'nosuch' is not in the spec",
            "sanoid 'root': pool 'gone' is not in the spec",
            "/d/r.img is a device of both rpool and bpool",
            "pool rpool: dataset 'a/b' comes before its parent 'a'",
            "swap: 'swap' is a volume of rpool; boot.swap names the first pool's volumes",
        ] {
            assert!(all.iter().any(|p| p.contains(needle)), "{needle}: {all:#?}");
        }
        let mut other = Spec::builder("rpool").build().unwrap();
        assert!(s.add_pool(other.clone()).unwrap_err().0[0].contains("already has a pool"));
        other.pool.name = "third".into();
        other.boot.host_id = Some("12345678".into());
        assert!(s.add_pool(other).unwrap_err().0[0].contains("only boot mounts"));
    }

    #[test]
    fn two_pools_mounting_the_same_path_are_refused() {
        let mut s = boot_and_root();
        s.pools[0].datasets[1]
            .properties
            .insert("mountpoint".into(), "/boot".into());
        let all = s.validate().unwrap_err().0;
        assert!(
            all.iter()
                .any(|p| p.contains("bpool/boot and rpool/root/home are both mounted at /boot")),
            "{all:#?}"
        );
    }
}
