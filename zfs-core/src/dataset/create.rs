//! Creating filesystems and volumes (`zfs create`).

use std::ffi::CString;

use libzfs_sys as sys;

use crate::crypto::Key;
use crate::handle::Zfs;
use crate::name::DatasetName;
use crate::nvlist::NvList;
use crate::{Error, ErrorKind, Result};

/// Options for [`Zfs::create_dataset`]: `zfs create [-p] [-s] [-V size] [-b bs] [-o k=v]...`.
///
/// Properties are CLI-style strings, validated by libzfs as `zfs create -o` validates them.
///
/// Datasets from creation to destruction: create, list, properties, mount, destroy.
///
/// ```no_run
/// use zfs_core::{CreateDataset, DatasetName, DatasetTypes, Zfs};
/// use zfs_core::{DestroyOptions, UnmountOptions};
///
/// # fn main() -> zfs_core::Result<()> {
/// let zfs = Zfs::open()?;
/// let home = DatasetName::new("tank/home")?;
/// // zfs create -o mountpoint=/srv/home -o compression=zstd tank/home
/// CreateDataset::filesystem(home.clone())
///     .property("mountpoint", "/srv/home")
///     .property("compression", "zstd")
///     .create(&zfs)?;
/// // zfs list -r -t filesystem,volume tank
/// let root = home.pool().root_dataset();
/// for listed in zfs.list(&root, DatasetTypes::FILESYSTEM | DatasetTypes::VOLUME)? {
///     println!("{} ({:?})", listed.name, listed.kind);
/// }
/// let ds = zfs.dataset(&home)?;
/// ds.set_property("atime", "off")?; // zfs set atime=off tank/home
/// println!("{} bytes used", ds.used()?); // zfs get -p used tank/home
/// ds.mount()?; // zfs mount tank/home
/// ds.unmount(&UnmountOptions::new())?; // zfs unmount tank/home
/// drop(ds);
/// zfs.destroy(&home, &DestroyOptions::new().recursive(true))?; // zfs destroy -r tank/home
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct CreateDataset {
    name: DatasetName,
    volume_size: Option<u64>,
    props: Vec<(String, String)>,
    parents: bool,
    sparse: bool,
    key: Option<Key>,
    mount: bool,
}

impl CreateDataset {
    /// A filesystem (`zfs create NAME`).
    pub fn filesystem(name: DatasetName) -> CreateDataset {
        CreateDataset {
            name,
            volume_size: None,
            props: Vec::new(),
            parents: false,
            sparse: false,
            key: None,
            mount: false,
        }
    }

    /// A volume of `size` bytes (`-V`).
    pub fn volume(name: DatasetName, size: u64) -> CreateDataset {
        CreateDataset {
            volume_size: Some(size),
            ..CreateDataset::filesystem(name)
        }
    }

    /// A property (`-o name=value`).
    pub fn property(mut self, name: &str, value: &str) -> CreateDataset {
        self.props.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Creates missing parent filesystems (`-p`). If the dataset itself then fails, the parents
    /// created for it are destroyed again.
    pub fn create_parents(mut self, yes: bool) -> CreateDataset {
        self.parents = yes;
        self
    }

    /// Encrypts it as a new encryption root with `key` (`-o encryption=on -o keyformat=...`);
    /// the key is loaded afterwards. Another cipher than the default `aes-256-gcm` is chosen
    /// with `.property("encryption", "aes-128-ccm")` and the like; `keylocation` is `prompt`
    /// unless given. Without a key, a dataset inherits its parent's encryption.
    pub fn encryption(mut self, key: Key) -> CreateDataset {
        self.key = Some(key);
        self
    }

    /// For volumes: no reservation (`-s`).
    pub fn sparse(mut self, yes: bool) -> CreateDataset {
        self.sparse = yes;
        self
    }

    /// For volumes: the block size (`-b`, `volblocksize`).
    pub fn block_size(self, bytes: u64) -> CreateDataset {
        self.property("volblocksize", &bytes.to_string())
    }

    /// The name.
    pub fn name(&self) -> &DatasetName {
        &self.name
    }

    /// Mounts the new filesystem where its `mountpoint` says, as `zfs create` does (not for
    /// `canmount=off|noauto`, `mountpoint=none|legacy`, or a volume), and with
    /// [`create_parents`](CreateDataset::create_parents) the parents it made, first, as
    /// `zfs create -p` does. Off by default: see [`Zfs::create_dataset`]. If a mount fails,
    /// the creation is taken back.
    pub fn mount(mut self, yes: bool) -> CreateDataset {
        self.mount = yes;
        self
    }

    pub(super) fn has_key(&self) -> bool {
        self.key.is_some()
    }

    pub(super) fn creates_parents(&self) -> bool {
        self.parents
    }

    /// Creates it (`zfs create`). See [`Zfs::create_dataset`].
    ///
    /// # Errors
    /// As [`Zfs::create_dataset`].
    pub fn create(self, zfs: &Zfs) -> Result<()> {
        zfs.create_dataset(&self)
    }
}

impl Zfs {
    /// Creates a filesystem or volume (`zfs create`). Nothing is left behind when it fails.
    ///
    /// No handle is opened on the new dataset: that is one more round trip to the kernel
    /// (about a fifth of the creation itself under emulation) that most callers do not need.
    /// Open it with [`Zfs::dataset`] when you do. Nor is anything looked up first: the kernel
    /// refuses a taken name or a missing parent itself, and only then are parents created
    /// (with `create_parents`) or the error explained.
    ///
    /// **Not mounted unless asked.** Unlike `zfs create`, a new filesystem is not mounted,
    /// even with a path mountpoint and `canmount=on`: an installer decides when (and under
    /// which root) things get mounted. [`CreateDataset::mount`] mounts it as `zfs create`
    /// would have (and undoes the creation if that fails); or call
    /// [`Dataset::mount`](crate::Dataset::mount) later.
    ///
    /// # Errors
    /// - [`ErrorKind::AlreadyExists`] if it exists.
    /// - [`ErrorKind::NotFound`] if the parent is missing (without `create_parents`).
    /// - [`ErrorKind::InvalidProperty`] for an unknown property or a bad value.
    /// - [`ErrorKind::InvalidArgument`] for a parent that is a volume, and other misuse.
    #[doc(alias = "zfs_create")]
    pub fn create_dataset(&self, opts: &CreateDataset) -> Result<()> {
        let made = self.create_dataset_unmounted(opts)?;
        if !opts.mount {
            return Ok(());
        }
        // As `zfs create -p` does, the parents it made are mounted too, before the child.
        for name in made.iter().chain(std::iter::once(&opts.name)) {
            self.mount_created(name, |zfs| {
                let all: Vec<DatasetName> = made
                    .iter()
                    .cloned()
                    .chain(std::iter::once(opts.name.clone()))
                    .collect();
                zfs.destroy_created(&all)
            })?;
        }
        Ok(())
    }

    /// Destroys `made` (parents first in it) again, children first, mounted or not; the
    /// first failure, after trying every one.
    fn destroy_created(&self, made: &[DatasetName]) -> Result<()> {
        let mut first = None;
        for d in made.iter().rev() {
            if let Err(e) = self.destroy(d, &crate::DestroyOptions::new()) {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// [`Zfs::create_dataset`] up to the mount; returns the parents it created.
    fn create_dataset_unmounted(&self, opts: &CreateDataset) -> Result<Vec<DatasetName>> {
        let name = opts.name.as_str();
        let op = "create";
        let Some(parent) = opts.name.parent() else {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                op,
                name,
                "a pool's root dataset is created with the pool",
            ));
        };
        let (props, ty) = self.string_props(opts)?;
        match self.create_one(opts, &props, ty) {
            Err(e) if e.kind() == ErrorKind::NotFound && !self.exists(&parent) => {
                if !opts.parents {
                    return Err(e
                        .with_message(format!("parent '{parent}' does not exist"))
                        .with_reason(crate::Reason::ParentNotFound));
                }
                let made = self.create_parents(&parent)?;
                match self.create_one(opts, &props, ty) {
                    Ok(()) => Ok(made),
                    Err(e) => {
                        self.undo_created(&made);
                        Err(e)
                    }
                }
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Err(e
                .with_message("dataset already exists")
                .with_reason(crate::Reason::DatasetExists)),
            // libzfs's own check of a volume's parent says EZFS_BADTYPE, where the kernel
            // (a filesystem's fast path) says ZFS_ERR_WRONG_PARENT: one case.
            Err(e) if e.libzfs_code() == Some(sys::zfs_error_t::EZFS_BADTYPE.0 as i32) => {
                Err(e.with_reason(crate::Reason::WrongParent))
            }
            other => other.map(|()| Vec::new()),
        }
    }

    /// One creation attempt, by the cheapest path that does all `zfs create` would.
    fn create_one(&self, opts: &CreateDataset, props: &NvList, ty: sys::zfs_type_t) -> Result<()> {
        let name = opts.name.as_str();
        match &opts.key {
            // The fast path: a filesystem needs nothing from zfs_create that libzfs_core's
            // create does not do, once its properties are checked (and zfs_create would open
            // the pool and the parent each time).
            None if ty == sys::zfs_type_t::ZFS_TYPE_FILESYSTEM => {
                self.create_filesystem_fast(&opts.name, props)
            }
            None => {
                let c = CString::new(name).expect("no NUL");
                self.check("create", name, || {
                    // SAFETY: live handle, NUL-terminated name, live property list (libzfs
                    // copies it).
                    unsafe { sys::zfs_create(self.raw().ptr(), c.as_ptr(), ty, props.as_ptr()) }
                })
            }
            Some(key) => self.create_encrypted(&opts.name, ty, props.clone(), key),
        }
    }

    /// Creates the missing ancestors of a dataset, `parent` last; returns those it made. If
    /// one fails, those made before it are destroyed again.
    fn create_parents(&self, parent: &DatasetName) -> Result<Vec<DatasetName>> {
        let mut missing = Vec::new();
        let mut p = Some(parent.clone());
        while let Some(d) = p.filter(|d| !self.exists(d)) {
            p = d.parent();
            missing.push(d);
        }
        let mut made: Vec<DatasetName> = Vec::new();
        for d in missing.into_iter().rev() {
            if let Err(e) = self.create_filesystem_fast(&d, &NvList::new()) {
                self.undo_created(&made);
                return Err(e);
            }
            made.push(d);
        }
        Ok(made)
    }

    /// The reservation `zfs create -V` gives a non-sparse volume: its size plus metadata, for
    /// its block size and the pool's layout.
    fn volume_reservation(
        &self,
        name: &DatasetName,
        size: u64,
        props: &[(String, String)],
    ) -> Result<u64> {
        let pool = self
            .pool(&name.pool())
            .map_err(|e| e.with_operation("create"))?;
        let mut numeric = NvList::new();
        if let Some((_, bs)) = props.iter().find(|(k, _)| k == "volblocksize") {
            if let Some(bytes) = crate::parse_size(bs) {
                numeric.insert_u64("volblocksize", bytes)?;
            }
        }
        // SAFETY: live pool handle and list; a pure computation.
        Ok(unsafe { sys::zvol_volsize_to_reservation(pool.raw().ptr(), size, numeric.as_ptr()) })
    }

    /// `zfs_create` would ask libzfs to read the key from `keylocation` (a prompt or a file);
    /// we have it in memory, so validate the properties as libzfs does and hand the kernel the
    /// wrapping key through `lzc_create`.
    fn create_encrypted(
        &self,
        name: &DatasetName,
        ty: sys::zfs_type_t,
        mut props: NvList,
        key: &Key,
    ) -> Result<()> {
        let op = "create";
        match props.get_str("encryption").as_deref() {
            None => props.insert_str("encryption", "on")?,
            Some("off") => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    op,
                    name.as_str(),
                    "a key was given but 'encryption' is 'off'",
                ))
            }
            Some(_) => {}
        }
        let keylocation = props
            .get_str("keylocation")
            .unwrap_or_else(|| "prompt".into());
        for k in ["keyformat", "pbkdf2iters", "pbkdf2salt"] {
            if props.remove(k) {
                return Err(Error::new(
                    ErrorKind::InvalidProperty,
                    op,
                    name.as_str(),
                    format!("'{k}' comes from the key given to encryption(); do not set it"),
                ));
            }
        }
        let mut props = self.validate_props(name, ty, &props)?;
        // libzfs checked the form of keylocation; the key parameters set it with the rest.
        props.remove("keylocation");
        let (key_props, mut wkey) = crate::crypto::key_params(key, &keylocation)?;
        for (k, v) in key_props.to_pairs() {
            props.insert(&k, &v)?;
        }
        let c = CString::new(name.as_str()).expect("no NUL");
        let lzc_type = if ty == sys::zfs_type_t::ZFS_TYPE_VOLUME {
            sys::lzc_dataset_type::LZC_DATSET_TYPE_ZVOL
        } else {
            sys::lzc_dataset_type::LZC_DATSET_TYPE_ZFS
        };
        // SAFETY: NUL-terminated name, live property list, key buffer of its stated length.
        let rc = unsafe {
            sys::lzc_create(
                c.as_ptr(),
                lzc_type,
                props.as_ptr(),
                wkey.as_mut_ptr(),
                wkey.len() as _,
            )
        };
        crate::handle::lzc(op, name.as_str(), rc).map_err(|e| match e.errno().map(|n| n.0) {
            Some(libc::EOPNOTSUPP) => {
                e.with_message("the pool's 'encryption' feature is not enabled")
            }
            _ => e,
        })
    }

    /// The CLI-style properties of `opts` as strings, with `volsize` and the default
    /// reservation of a volume; and the type to create.
    fn string_props(&self, opts: &CreateDataset) -> Result<(NvList, sys::zfs_type_t)> {
        let mut props = NvList::new();
        for (k, v) in &opts.props {
            props.insert_str(k, v)?;
        }
        let ty = match opts.volume_size {
            Some(size) => {
                props.insert_str("volsize", &size.to_string())?;
                if !opts.sparse && !props.contains("refreservation") {
                    let reserve = self.volume_reservation(&opts.name, size, &opts.props)?;
                    props.insert_str("refreservation", &reserve.to_string())?;
                }
                sys::zfs_type_t::ZFS_TYPE_VOLUME
            }
            None => sys::zfs_type_t::ZFS_TYPE_FILESYSTEM,
        };
        Ok((props, ty))
    }

    /// `opts`' properties checked and converted by libzfs, as `zfs create -o` checks them,
    /// ready for `lzc_create`; and the type to create.
    /// `pools` keeps the pool handles opened for the checks, for the next call.
    pub(super) fn validated_props<'z>(
        &'z self,
        opts: &CreateDataset,
        pools: &mut Vec<crate::Pool<'z>>,
    ) -> Result<(NvList, sys::zfs_type_t)> {
        let (props, ty) = self.string_props(opts)?;
        if props.is_empty() {
            // Nothing to check (a volume always has its size): skip opening the pool.
            return Ok((props, ty));
        }
        let pool_name = opts.name.pool();
        let at = match pools.iter().position(|p| p.name() == &pool_name) {
            Some(at) => at,
            None => {
                pools.push(
                    self.pool(&pool_name)
                        .map_err(|e| e.with_operation("create"))?,
                );
                pools.len() - 1
            }
        };
        Ok((
            self.validate_props_in(&pools[at], &opts.name, ty, &props)?,
            ty,
        ))
    }

    /// `lzc_create` of a filesystem with `props` (strings, checked here first).
    fn create_filesystem_fast(&self, name: &DatasetName, props: &NvList) -> Result<()> {
        let typed = if props.is_empty() {
            NvList::new()
        } else {
            self.validate_props(name, sys::zfs_type_t::ZFS_TYPE_FILESYSTEM, props)?
        };
        let c = CString::new(name.as_str()).expect("no NUL");
        // SAFETY: NUL-terminated name, live property list, no key.
        let rc = unsafe {
            sys::lzc_create(
                c.as_ptr(),
                sys::lzc_dataset_type::LZC_DATSET_TYPE_ZFS,
                typed.as_ptr(),
                std::ptr::null_mut(),
                0,
            )
        };
        crate::handle::lzc("create", name.as_str(), rc).map_err(|e| match e.errno().map(|n| n.0) {
            Some(libc::EACCES) => e
                .with_message("the parent's encryption key is not loaded")
                .with_reason(crate::Reason::KeyNotLoaded),
            // Names are checked for length before any call: this is the nesting limit.
            Some(libc::ENAMETOOLONG) => e.with_message(format!(
                "nested {} levels deep, past the module's limit (zfs_max_dataset_nesting)",
                name.depth()
            )),
            _ => e,
        })
    }

    /// Checks and converts string properties with `zfs_valid_proplist` (as `zfs create` does):
    /// numbers and index values (`compression=lz4`, `quota=100M`) become the integers the
    /// kernel takes; libzfs_core passes strings through, which the kernel accepts only for
    /// string properties.
    pub(crate) fn validate_props(
        &self,
        name: &DatasetName,
        ty: sys::zfs_type_t,
        props: &NvList,
    ) -> Result<NvList> {
        let pool = self
            .pool(&name.pool())
            .map_err(|e| e.with_operation("create"))?;
        self.validate_props_in(&pool, name, ty, props)
    }

    /// [`Zfs::validate_props`] with the pool already open.
    fn validate_props_in(
        &self,
        pool: &crate::Pool<'_>,
        name: &DatasetName,
        ty: sys::zfs_type_t,
        props: &NvList,
    ) -> Result<NvList> {
        let op = "create";
        let mut out = NvList::new();
        let errbuf = CString::new(format!("cannot create '{name}'")).expect("no NUL");
        let checked = self.check(op, name.as_str(), || {
            // SAFETY: live handles and list; libzfs returns a new list or NULL with its error
            // recorded in the handle.
            let list = unsafe {
                sys::zfs_valid_proplist(
                    self.raw().ptr(),
                    ty,
                    props.as_ptr(),
                    0,
                    std::ptr::null_mut(),
                    pool.raw().ptr(),
                    sys::boolean_t::B_TRUE,
                    errbuf.as_ptr(),
                )
            };
            if list.is_null() {
                -1
            } else {
                // SAFETY: a new list we own from here on.
                out = unsafe { NvList::from_raw(list) };
                0
            }
        });
        checked?;
        Ok(out)
    }

    /// Destroys datasets this call created, deepest first (best effort: they are empty).
    fn undo_created(&self, made: &[DatasetName]) {
        for d in made.iter().rev() {
            let _ = self.destroy(d, &crate::DestroyOptions::new());
        }
    }
}
