//! Checking a spec as a whole before anything touches a disk: every problem listed at once.

use std::collections::HashSet;

use zfs_core::{DatasetName, PoolName};

use super::{parse_size, DatasetSpec, Properties, Spec, SpecErrors, VdevLayout, VolumeSpec};

/// Properties a volume does not have (they belong to filesystems).
const FILESYSTEM_ONLY: &[&str] = &[
    "aclinherit",
    "aclmode",
    "acltype",
    "atime",
    "canmount",
    "casesensitivity",
    "devices",
    "dnodesize",
    "exec",
    "filesystem_limit",
    "mountpoint",
    "nbmand",
    "normalization",
    "overlay",
    "quota",
    "recordsize",
    "refquota",
    "relatime",
    "setuid",
    "sharenfs",
    "sharesmb",
    "snapdir",
    "utf8only",
    "vscan",
    "xattr",
    "zoned",
];

/// The largest block size a volume can have (`volblocksize`, with `large_blocks`).
const MAX_VOLBLOCKSIZE: u64 = 16 << 20;

/// The default `volblocksize` since OpenZFS 2.2 (8K before: a multiple of 16K suits both).
const DEFAULT_VOLBLOCKSIZE: u64 = 16 << 10;

/// Encryption properties of one object (the pool's root or a dataset): an encryption root
/// names its `keyformat`, and its `keylocation` is one zfs-core can use.
fn encryption_problems(object: &str, props: &Properties) -> Vec<String> {
    let mut out = Vec::new();
    let encryption = props.get("encryption").map(String::as_str);
    match props.get("keyformat") {
        Some(f) => {
            if f.parse::<zfs_core::KeyFormat>().is_err() {
                out.push(format!(
                    "{object}: keyformat '{f}' is not raw, hex or passphrase"
                ));
            }
            if encryption == Some("off") {
                out.push(format!("{object}: keyformat is set but encryption is off"));
            }
        }
        None if encryption.is_some_and(|e| e != "off") => out.push(format!(
            "{object}: encryption is {} but no keyformat is given (raw, hex or passphrase)",
            encryption.unwrap_or_default()
        )),
        None => {
            for k in ["keylocation", "pbkdf2iters"] {
                if props.contains_key(k) {
                    out.push(format!(
                        "{object}: {k} is for encryption roots (give keyformat too)"
                    ));
                }
            }
        }
    }
    if let Some(loc) = props.get("keylocation") {
        let file_ok = loc
            .strip_prefix("file://")
            .is_some_and(|p| p.starts_with('/'));
        if loc != "prompt" && !file_ok {
            out.push(format!(
                "{object}: keylocation '{loc}' must be prompt or file:///absolute/path"
            ));
        }
    }
    if props.contains_key("pbkdf2iters")
        && props.get("keyformat").is_some_and(|f| f != "passphrase")
    {
        out.push(format!("{object}: pbkdf2iters is for keyformat=passphrase"));
    }
    out
}

fn volume_problems(name: &str, v: &VolumeSpec, props: &Properties) -> Vec<String> {
    let mut out = Vec::new();
    let block = match &v.block_size {
        None => Some(DEFAULT_VOLBLOCKSIZE),
        Some(b) => match parse_size(b) {
            Some(n) if n.is_power_of_two() && (512..=MAX_VOLBLOCKSIZE).contains(&n) => Some(n),
            _ => {
                out.push(format!(
                    "volume '{name}': block size '{b}' must be a power of two from 512 to 16M"
                ));
                None
            }
        },
    };
    match parse_size(&v.size) {
        None | Some(0) => out.push(format!(
            "volume '{name}': size '{}' is not a size like 4G",
            v.size
        )),
        Some(n) => {
            if let Some(b) = block.filter(|b| n % b != 0) {
                out.push(format!(
                    "volume '{name}': size {} is not a multiple of its block size ({b} bytes)",
                    v.size
                ));
            }
        }
    }
    for k in props.keys() {
        if FILESYSTEM_ONLY.contains(&k.as_str()) {
            out.push(format!("volume '{name}': {k} is a filesystem property"));
        }
        if k == "volsize" || k == "volblocksize" {
            out.push(format!(
                "volume '{name}': give {k} as volume.size / volume.block_size"
            ));
        }
    }
    out
}

/// Properties OpenZFS knows for datasets, plus any `module:name` user property.
fn known_fs_property(name: &str) -> bool {
    const KNOWN: &[&str] = &[
        "aclinherit",
        "aclmode",
        "acltype",
        "atime",
        "canmount",
        "casesensitivity",
        "checksum",
        "compression",
        "context",
        "copies",
        "dedup",
        "defcontext",
        "devices",
        "dnodesize",
        "encryption",
        "exec",
        "filesystem_limit",
        "fscontext",
        "keyformat",
        "keylocation",
        "logbias",
        "mountpoint",
        "nbmand",
        "normalization",
        "overlay",
        "pbkdf2iters",
        "primarycache",
        "quota",
        "readonly",
        "recordsize",
        "redundant_metadata",
        "refquota",
        "refreservation",
        "relatime",
        "reservation",
        "rootcontext",
        "secondarycache",
        "setuid",
        "sharenfs",
        "sharesmb",
        "snapdev",
        "snapdir",
        "snapshot_limit",
        "special_small_blocks",
        "sync",
        "utf8only",
        "version",
        "volmode",
        "volsize",
        "volblocksize",
        "vscan",
        "xattr",
        "zoned",
        "direct",
        "longname",
    ];
    KNOWN.contains(&name) || name.contains(':')
}

fn known_pool_property(name: &str) -> bool {
    const KNOWN: &[&str] = &[
        "altroot",
        "ashift",
        "autoexpand",
        "autoreplace",
        "autotrim",
        "bootfs",
        "cachefile",
        "comment",
        "compatibility",
        "delegation",
        "failmode",
        "listsnapshots",
        "multihost",
        "readonly",
        "version",
    ];
    KNOWN.contains(&name) || name.starts_with("feature@")
}

impl Spec {
    /// Checks everything that can be checked without a disk, and lists every problem.
    ///
    /// # Errors
    /// [`SpecErrors`] with one line per problem.
    pub fn validate(&self) -> Result<(), SpecErrors> {
        self.check(&|_| true)
    }

    /// [`Spec::validate`] without the device checks: for what needs no disk, like the NixOS
    /// module.
    ///
    /// # Errors
    /// [`SpecErrors`] with one line per problem.
    pub fn validate_without_devices(&self) -> Result<(), SpecErrors> {
        self.check(&|_| false)
    }

    /// [`Spec::validate`] for a run against what exists: a pool that exists needs no devices
    /// (`plan` or `verify` on an installed system reads the pool, not its disks).
    ///
    /// # Errors
    /// [`SpecErrors`] with one line per problem.
    pub fn validate_for(&self, inv: &crate::Inventory) -> Result<(), SpecErrors> {
        let invs = inv.per_pool();
        self.check(&|i| invs.get(i).is_none_or(|v| v.pool.is_none()))
    }

    /// Every problem: those of the pools together, then each pool's (named when there are
    /// several), then the mounts of them all. `devices(i)`: whether pool `i`'s devices are
    /// checked (only a pool still to be created needs them).
    fn check(&self, devices: &dyn Fn(usize) -> bool) -> Result<(), SpecErrors> {
        let mut problems = self.pools_problems();
        problems.extend(super::disks::problems(self));
        let views = self.pool_specs();
        let several = views.len() > 1;
        for (i, view) in views.iter().enumerate() {
            let prefix = match several {
                true => format!("pool {}: ", view.pool.name),
                false => String::new(),
            };
            problems.extend(
                view.pool_problems(devices(i))
                    .into_iter()
                    .map(|p| format!("{prefix}{p}")),
            );
        }
        problems.extend(self.mount_problems());
        if let Some(id) = &self.boot.host_id {
            if id.len() != 8 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
                problems.push(format!("host_id '{id}' must be 8 hex digits"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SpecErrors(problems))
        }
    }

    /// The problems of a one-pool spec's pool, datasets, snapshots and boot entries.
    fn pool_problems(&self, devices: bool) -> Vec<String> {
        let mut problems = Vec::new();
        if let Err(e) = PoolName::new(self.pool.name.as_str()) {
            problems.push(format!("pool name '{}': {}", self.pool.name, e.message()));
        }
        if self.pool.topology.is_some()
            && (!self.pool.vdevs.is_empty() || self.pool.layout != VdevLayout::Stripe)
        {
            problems.push(
                "give the devices either as vdevs (with layout) or as topology, not both".into(),
            );
        }
        problems.extend(self.pool.topology().problems(devices));
        for k in self.pool.properties.keys() {
            if !known_pool_property(k) {
                problems.push(format!("unknown pool property '{k}'"));
            }
        }
        if let Some(bootfs) = self.pool.properties.get("bootfs") {
            let in_spec = bootfs
                .strip_prefix(&format!("{}/", self.pool.name))
                .is_some_and(|rel| self.datasets.iter().any(|d| d.name == rel));
            let in_spec = in_spec
                && bootfs
                    .strip_prefix(&format!("{}/", self.pool.name))
                    .and_then(|rel| self.dataset(rel))
                    .is_some_and(|d| !d.is_volume());
            if !in_spec && *bootfs != self.pool.name {
                problems.push(format!(
                    "pool property bootfs '{bootfs}' must name the pool or one of the spec's \
                     datasets (e.g. {}/root)",
                    self.pool.name
                ));
            }
        }
        problems.extend(encryption_problems(
            &format!("pool root '{}'", self.pool.name),
            &self.pool.root_properties,
        ));
        for k in self.pool.root_properties.keys() {
            if !known_fs_property(k) {
                problems.push(format!(
                    "unknown filesystem property '{k}' (root_properties)"
                ));
            }
        }
        let mut names = HashSet::new();
        for d in &self.datasets {
            let full = self.full_name(&d.name);
            if let Err(e) = DatasetName::new(full.as_str()) {
                problems.push(format!("dataset '{}': {}", d.name, e.message()));
            }
            if !names.insert(d.name.as_str()) {
                problems.push(format!("dataset '{}' is listed twice", d.name));
            }
            if let Some((parent, _)) = d.name.rsplit_once('/') {
                if !names.contains(parent) {
                    problems.push(format!(
                        "dataset '{}' comes before its parent '{parent}' (list parents first)",
                        d.name
                    ));
                }
            }
            for k in d.properties.keys() {
                if !known_fs_property(k) {
                    problems.push(format!("dataset '{}': unknown property '{k}'", d.name));
                }
            }
            problems.extend(encryption_problems(
                &format!("dataset '{}'", d.name),
                &d.properties,
            ));
            if let Some((parent, _)) = d.name.rsplit_once('/') {
                if self.dataset(parent).is_some_and(DatasetSpec::is_volume) {
                    problems.push(format!(
                        "dataset '{}': its parent '{parent}' is a volume, which has no children",
                        d.name
                    ));
                }
            }
            match &d.volume {
                Some(v) => problems.extend(volume_problems(&d.name, v, &d.properties)),
                None => {
                    for k in ["volsize", "volblocksize"] {
                        if d.properties.contains_key(k) {
                            problems.push(format!(
                                "dataset '{}': {k} is for volumes (give volume = {{ size = ... }})",
                                d.name
                            ));
                        }
                    }
                }
            }
        }
        let mut snaps = HashSet::new();
        for s in &self.snapshots {
            // `""` is the pool's root (`zroot@blank`).
            if !s.dataset.is_empty() && !names.contains(s.dataset.as_str()) {
                problems.push(format!(
                    "snapshot '{}@{}': dataset '{}' is not in the spec",
                    s.dataset, s.name, s.dataset
                ));
            }
            if let Err(e) =
                zfs_core::SnapshotName::new(format!("{}@{}", self.full_name(&s.dataset), s.name))
            {
                problems.push(format!(
                    "snapshot '{}@{}': {}",
                    s.dataset,
                    s.name,
                    e.message()
                ));
            }
            if !snaps.insert((&s.dataset, &s.name)) {
                problems.push(format!(
                    "snapshot '{}@{}' is listed twice",
                    s.dataset, s.name
                ));
            }
        }
        for m in &self.boot.mounts {
            if !names.contains(m.dataset.as_str()) {
                problems.push(format!(
                    "mount '{}': dataset '{}' is not in the spec",
                    m.path, m.dataset
                ));
            }
            if !m.path.starts_with('/') {
                problems.push(format!("mount '{}': path must be absolute", m.path));
            }
            if self.dataset(&m.dataset).is_some_and(DatasetSpec::is_volume) {
                problems.push(format!(
                    "mount '{}': '{}' is a volume; mount a filesystem",
                    m.path, m.dataset
                ));
            }
            for o in &m.options {
                if o.is_empty() || o.contains(|c: char| c == ',' || c.is_whitespace()) {
                    problems.push(format!(
                        "mount '{}': option '{o}' must be one word (list options apart)",
                        m.path
                    ));
                }
            }
        }
        for name in &self.boot.swap {
            if !self.dataset(name).is_some_and(DatasetSpec::is_volume) {
                problems.push(format!("swap: '{name}' is not a volume of the spec"));
            }
        }
        for s in &self.boot.sanoid {
            if !names.contains(s.dataset.as_str()) {
                problems.push(format!(
                    "sanoid: dataset '{}' is not in the spec",
                    s.dataset
                ));
            }
        }
        problems
    }

    /// The problems of what the pools and partitions mount, all of them together.
    fn mount_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.boot.root_tmpfs_mode.is_some() && self.boot.root_tmpfs_size.is_none() {
            problems.push(
                "boot: root_tmpfs_mode without root_tmpfs_size (the size makes the tmpfs root)"
                    .into(),
            );
        }
        let mut at: std::collections::HashMap<String, String> = Default::default();
        for m in crate::plan::install_mounts(self) {
            let path = match m.path.trim_end_matches('/') {
                "" => "/".to_owned(),
                p => p.to_owned(),
            };
            if let Some(first) = at.insert(path.clone(), m.source.clone()) {
                problems.push(format!(
                    "{first} and {} are both mounted at {path}",
                    m.source
                ));
            }
            // What is not the guide's legacy root: a dataset with its own mountpoint, or a
            // partition's filesystem.
            let own_mountpoint = m.fstype != "zfs" || m.options.iter().any(|o| o == "zfsutil");
            if path == "/" && own_mountpoint && self.boot.root_tmpfs_size.is_some() {
                problems.push(format!(
                    "{} has mountpoint / and the root is a tmpfs (boot.root_tmpfs_size): give \
                     it mountpoint=legacy or leave the tmpfs root out",
                    m.source
                ));
            }
        }
        problems
    }
}
