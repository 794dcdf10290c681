//! Creating and destroying pools.

use std::ffi::CString;
use std::path::PathBuf;

use libzfs_sys as sys;

use super::Pool;
use crate::handle::Zfs;
use crate::name::PoolName;
use crate::nvlist::NvList;
use crate::vdev::VdevSpec;
use crate::{Error, ErrorKind, Result};

/// Options for [`Zfs::create_pool`]: what `zpool create` takes on its command line.
///
/// Properties are given as strings exactly as on the CLI (`ashift=12`, `compression=zstd`) and
/// validated by libzfs the way `zpool create -o/-O` validates them.
///
/// Unlike `zpool create`, the root dataset is not mounted: an installer decides where and when
/// (use `mountpoint=none` or `legacy`, or an altroot).
///
/// Pools from creation to import: create, status, scrub, export, import.
///
/// ```no_run
/// use zfs_core::{CreatePool, ExportOptions, ImportOptions, PoolName, VdevSpec, Zfs};
///
/// # fn main() -> zfs_core::Result<()> {
/// let zfs = Zfs::open()?;
/// let name = PoolName::new("zroot")?;
/// // zpool create -o ashift=12 -O compression=zstd -m none zroot /dev/sda2
/// let pool = CreatePool::new(name.clone(), VdevSpec::new().disk("/dev/sda2"))
///     .pool_property("ashift", "12")
///     .fs_property("compression", "zstd")
///     .mountpoint("none")
///     .create(&zfs)?;
/// let status = pool.status()?; // zpool status zroot
/// println!("{} is {}", status.root.name, status.root.state);
/// pool.scrub()?; // zpool scrub zroot
/// if let Some(scan) = pool.scan_progress()? {
///     println!("{:?}: {} of {} bytes", scan.state, scan.examined, scan.to_examine);
/// }
/// drop(pool);
/// zfs.export_pool(&name, &ExportOptions::new())?; // zpool export zroot
/// let pool = zfs.import_pool(&name, &ImportOptions::new())?; // zpool import -N zroot
/// println!("{} is back: {}", pool.name(), pool.health()?);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct CreatePool {
    name: PoolName,
    vdevs: VdevSpec,
    pool_props: Vec<(String, String)>,
    fs_props: Vec<(String, String)>,
    altroot: Option<PathBuf>,
    force: bool,
    enable_features: bool,
    key: Option<crate::Key>,
    mount: bool,
}

impl CreatePool {
    /// A pool called `name` on `vdevs`, with default properties (`zpool create NAME VDEVS`).
    pub fn new(name: PoolName, vdevs: VdevSpec) -> CreatePool {
        CreatePool {
            name,
            vdevs,
            pool_props: Vec::new(),
            fs_props: Vec::new(),
            altroot: None,
            force: false,
            enable_features: true,
            key: None,
            mount: false,
        }
    }

    /// Encrypts the root dataset with `key`, making it the encryption root of every dataset
    /// below (`-O encryption=on -O keyformat=...`); the key is loaded afterwards. The cipher
    /// is `aes-256-gcm` unless `fs_property("encryption", ...)` says otherwise, and
    /// `keylocation` is `prompt` unless given. Without a key, `-O encryption=on` is refused:
    /// libzfs would read the key from the terminal.
    pub fn encryption(mut self, key: crate::Key) -> CreatePool {
        self.key = Some(key);
        self
    }

    /// A pool property (`-o name=value`).
    pub fn pool_property(mut self, name: &str, value: &str) -> CreatePool {
        self.pool_props.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A property of the root filesystem (`-O name=value`).
    pub fn fs_property(mut self, name: &str, value: &str) -> CreatePool {
        self.fs_props.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The root dataset's mountpoint (`-m`): a path, `none` or `legacy`.
    pub fn mountpoint(self, mountpoint: &str) -> CreatePool {
        self.fs_property("mountpoint", mountpoint)
    }

    /// Mounts the root dataset where its `mountpoint` says (under the altroot), as
    /// `zpool create` does, unless it is `none`/`legacy` or `canmount` is not `on`. Off by
    /// default: an installer decides when, and under which root, things are mounted (a new
    /// pool's default mountpoint `/NAME` is on the running system). If the mount fails, the
    /// pool is destroyed again and the mount's error returned.
    pub fn mount(mut self, yes: bool) -> CreatePool {
        self.mount = yes;
        self
    }

    /// An alternate root (`-R`): mountpoints are taken relative to it, and the pool is kept out
    /// of the cache file.
    pub fn altroot(mut self, dir: impl Into<PathBuf>) -> CreatePool {
        self.altroot = Some(dir.into());
        self
    }

    /// `-f`: use devices even if they hold another (exported) pool's label, and vdevs that
    /// differ in redundancy (a mirror next to a single device), which `zpool create` refuses
    /// without it.
    pub fn force(mut self, force: bool) -> CreatePool {
        self.force = force;
        self
    }

    /// Whether to enable every feature the kernel module supports (default `true`), or only
    /// those given as `feature@NAME=enabled` (`false`: `zpool create -d`). Either way a
    /// `compatibility` property limits them to its files' set, as `zpool create` does (a
    /// feature enabled outside it is refused), and `feature@NAME=disabled` leaves one out.
    pub fn enable_features(mut self, enable: bool) -> CreatePool {
        self.enable_features = enable;
        self
    }

    /// The `ashift` pool property as a number, for the leaves (`zpool create -o ashift=N`
    /// does the same); libzfs checks its range with the other properties. The last one given
    /// wins, as on the command line.
    fn leaf_ashift(&self) -> Result<Option<u64>> {
        let Some((_, value)) = self.pool_props.iter().rev().find(|(k, _)| k == "ashift") else {
            return Ok(None);
        };
        value.trim().parse::<u64>().map(Some).map_err(|_| {
            Error::new(
                ErrorKind::InvalidProperty,
                "create pool",
                self.name.as_str(),
                format!("ashift '{value}' is not a number (0 for automatic, or 9 to 16)"),
            )
        })
    }

    /// Creates the pool (`zpool create`). See [`Zfs::create_pool`].
    ///
    /// # Errors
    /// As [`Zfs::create_pool`].
    pub fn create(self, zfs: &Zfs) -> Result<Pool<'_>> {
        zfs.create_pool(&self)
    }
}

impl VdevSpec {
    /// The check of the devices alone that `zpool create` makes without `-f`, and
    /// [`Zfs::create_pool`] without [`CreatePool::force`]: the vdevs that count (data,
    /// special, dedup; not logs, cache or spares) alike in redundancy, and no mirror or raidz
    /// mixing files and disks. Touches nothing, so a caller can refuse a layout before it
    /// starts (the devices' use by other pools or filesystems is checked at creation).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] with [`Reason::ReplicationMismatch`](crate::Reason),
    /// saying which vdevs differ (`mismatched replication level: ...`).
    pub fn check_replication(&self, pool: &PoolName) -> Result<()> {
        super::replication::check_spec("create pool", pool.as_str(), self).map(drop)
    }
}

impl Zfs {
    /// Creates a pool (`zpool create`). Nothing is left behind when it fails. Unlike
    /// `zpool create`, its root dataset is not mounted unless [`CreatePool::mount`] asks.
    ///
    /// # Errors
    /// - [`ErrorKind::AlreadyExists`]: a pool of that name is imported.
    /// - [`ErrorKind::InvalidArgument`], [`ErrorKind::NotFound`], [`ErrorKind::DeviceTooSmall`]:
    ///   see [`VdevSpec::validate`].
    /// - [`ErrorKind::Busy`]: a device belongs to another pool (exported ones only without
    ///   `force`).
    /// - [`ErrorKind::InvalidProperty`]: an unknown property or bad value.
    #[doc(alias = "zpool_create")]
    pub fn create_pool(&self, opts: &CreatePool) -> Result<Pool<'_>> {
        let name = opts.name.as_str();
        let op = "create pool";
        opts.vdevs.validate()?;
        if !opts.force {
            // As `zpool create` without -f: vdevs alike in redundancy, devices not in use
            // (no live pool's label, no other filesystem, on any partition of a whole disk).
            opts.vdevs.check_replication(&opts.name)?;
            for leaf in opts.vdevs.leaves() {
                self.refuse_in_use(op, name, leaf)?;
            }
        }
        let vdevs = self.partition_whole_disks(op, None, &opts.vdevs)?;
        let nvroot = vdevs.to_nvlist_with_ashift(opts.leaf_ashift()?)?;
        // Features as `zpool create` chooses them: libzfs would enable any it is handed.
        let features = super::features::features_to_enable(
            op,
            name,
            crate::handle::supported_features(),
            opts.enable_features,
            &opts.pool_props,
        )?;
        let mut props = NvList::new();
        for (k, v) in &opts.pool_props {
            if !k.starts_with("feature@") {
                props.insert_str(k, v)?;
            }
        }
        if let Some(root) = &opts.altroot {
            let root = root.to_str().ok_or_else(|| {
                Error::new(ErrorKind::InvalidArgument, op, name, "altroot is not UTF-8")
            })?;
            props.insert_str("altroot", root)?;
            if !props.contains("cachefile") {
                props.insert_str("cachefile", "none")?;
            }
        }
        for feature in features {
            props.insert_str(&format!("feature@{feature}"), "enabled")?;
        }
        let mut fsprops = NvList::new();
        for (k, v) in &opts.fs_props {
            fsprops.insert_str(k, v)?;
        }
        // libzfs reads a new encryption root's key from its keylocation; ours is in memory,
        // so it reads it from a pipe, and the keylocation asked for is set afterwards.
        let key_pipe = super::encrypted_root::prepare(op, name, opts.key.as_ref(), &mut fsprops)?;
        let cname = CString::new(name).expect("pool names have no NUL");
        let command = || format!("zpool create {name} {}", opts.vdevs);
        self.check_logged(op, name, command, || {
            // SAFETY: live handle; every list is live for the call and libzfs copies what it
            // keeps.
            unsafe {
                sys::zpool_create(
                    self.raw().ptr(),
                    cname.as_ptr(),
                    nvroot.as_ptr(),
                    props.as_ptr(),
                    fsprops.as_ptr(),
                )
            }
        })?;
        if let Some(pipe) = key_pipe {
            if let Err(e) = pipe.finish(self, &opts.name) {
                // The pool was made, but not as asked: take it back.
                let _ = self.destroy_pool(&opts.name);
                return Err(e);
            }
        }
        if opts.mount {
            self.mount_created(&opts.name.root_dataset(), |zfs| {
                zfs.destroy_pool(&opts.name)
            })?;
        }
        self.pool(&opts.name)
    }

    /// Destroys an imported pool and everything in it, unmounting its datasets first
    /// (`zpool destroy`).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if no such pool is imported; [`ErrorKind::Busy`] if a dataset
    /// cannot be unmounted or the pool is in use (retried for up to five seconds first, as
    /// [`Zfs::export_pool`] is).
    #[doc(alias = "zpool_destroy")]
    pub fn destroy_pool(&self, name: &PoolName) -> Result<()> {
        let op = "destroy pool";
        let pool = self.pool(name).map_err(|e| e.with_operation(op))?;
        self.check(op, name.as_str(), || {
            // SAFETY: live pool handle; unmounts without force.
            unsafe { sys::zpool_disable_datasets(pool.raw().ptr(), sys::boolean_t::B_FALSE) }
        })?;
        super::busy::while_referenced(c"zfs-core destroy", |log| {
            self.check(op, name.as_str(), || {
                // SAFETY: live pool handle; the handle stays valid (closed by Drop); `log` is
                // the history line or null (none).
                unsafe { sys::zpool_destroy(pool.raw().ptr(), log) }
            })
        })
    }
}
