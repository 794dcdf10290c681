//! Exporting pools, finding exported ones, importing them.

use std::ffi::{c_char, c_int, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::ptr;

use libzfs_sys as sys;

use super::{Pool, PoolState};
use crate::handle::Zfs;
use crate::name::PoolName;
use crate::nvlist::{NvList, NvListRef, NvValue};
use crate::options::ExportOptions;
use crate::{Error, ErrorKind, Result};

/// Options for [`Zfs::import_pool`], as `zpool import` takes them.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    dirs: Vec<PathBuf>,
    new_name: Option<PoolName>,
    readonly: bool,
    altroot: Option<PathBuf>,
    force: bool,
    destroyed: bool,
    cachefile: Option<PathBuf>,
    missing_log: bool,
    load_keys: bool,
    rewind_to_checkpoint: bool,
    rewind: Rewind,
    /// A dry run: read-only and without cache file (see [`Zfs::import_dry_run`]).
    trial: bool,
}

/// How far back in time an import may go to find a pool state it can open (`zpool import -F`,
/// `-F -X`, `-T TXG`). ZFS never overwrites live data in place, so the labels keep the last
/// transaction groups' roots: when the newest one is damaged (a disk that lied about a cache
/// flush, a crash in the wrong place), an older one often is not. What was written after it
/// is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Rewind {
    /// Never: a pool whose newest state cannot be read fails to import (the default).
    #[default]
    Never,
    /// `-F`: go back at most the few transaction groups whose freed blocks ZFS has not yet
    /// reused, where every older block is known to be intact.
    Recent,
    /// `-F -X`: go back as far as the oldest root the labels still hold. Blocks freed since
    /// may have been overwritten: the pool can come back with damaged files, which a scrub
    /// then lists.
    Extreme,
    /// `-T TXG`: go back to exactly this transaction group (one whose root is still in the
    /// labels: `zdb -lu` lists them).
    ToTxg(u64),
}

impl Rewind {
    /// The `load-policy` list that `zpool import` adds to the pool's configuration.
    pub(super) fn policy(self) -> Result<Option<NvList>> {
        let (rewind, txg) = match self {
            Rewind::Never => return Ok(None),
            Rewind::Recent => (sys::ZPOOL_DO_REWIND, u64::MAX),
            Rewind::Extreme => (sys::ZPOOL_DO_REWIND | sys::ZPOOL_EXTREME_REWIND, u64::MAX),
            Rewind::ToTxg(txg) => (sys::ZPOOL_DO_REWIND | sys::ZPOOL_EXTREME_REWIND, txg),
        };
        let mut policy = NvList::new();
        policy.insert("load-rewind-policy", &NvValue::U32(rewind))?;
        policy.insert("load-request-txg", &NvValue::U64(txg))?;
        Ok(Some(policy))
    }

    /// The `zpool import` flags that ask for it.
    pub(super) fn flags(self) -> String {
        match self {
            Rewind::Never => String::new(),
            Rewind::Recent => " -F".into(),
            Rewind::Extreme => " -F -X".into(),
            Rewind::ToTxg(txg) => format!(" -T {txg}"),
        }
    }
}

impl ImportOptions {
    /// Search the default device directories (`/dev/disk/by-id`, ...), as `zpool import`
    /// without `-d`.
    pub fn new() -> ImportOptions {
        ImportOptions::default()
    }

    /// Search this directory for devices (`-d DIR`); may be given several times. File vdevs
    /// are only found this way.
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> ImportOptions {
        self.dirs.push(dir.into());
        self
    }

    /// Import under another name (`zpool import OLD NEW`).
    pub fn new_name(mut self, name: PoolName) -> ImportOptions {
        self.new_name = Some(name);
        self
    }

    /// Import read-only (`-o readonly=on`).
    pub fn readonly(mut self, readonly: bool) -> ImportOptions {
        self.readonly = readonly;
        self
    }

    /// Alternate root (`-R`), which also keeps the pool out of the cache file.
    pub fn altroot(mut self, dir: impl Into<PathBuf>) -> ImportOptions {
        self.altroot = Some(dir.into());
        self
    }

    /// Import even if the pool looks in use by another host (`-f`).
    pub fn force(mut self, force: bool) -> ImportOptions {
        self.force = force;
        self
    }

    /// Look for destroyed pools only (`-D`), which are otherwise never found: a destroyed
    /// pool comes back only when asked for.
    pub fn destroyed(mut self, yes: bool) -> ImportOptions {
        self.destroyed = yes;
        self
    }

    /// Read the pools' configurations from this cache file (`-c FILE`, the pool property
    /// `cachefile`) instead of searching devices; not together with [`ImportOptions::dir`].
    pub fn cachefile(mut self, file: impl Into<PathBuf>) -> ImportOptions {
        self.cachefile = Some(file.into());
        self
    }

    /// Import even if a separate log device is missing (`-m`); what was in it is lost.
    pub fn missing_log(mut self, yes: bool) -> ImportOptions {
        self.missing_log = yes;
        self
    }

    /// Load the keys of encrypted datasets from their `keylocation` after the import (`-l`).
    /// If a key cannot be loaded, the pool is exported again and the error returned: the
    /// import happens with its keys or not at all.
    pub fn load_keys(mut self, yes: bool) -> ImportOptions {
        self.load_keys = yes;
        self
    }

    /// Import the pool as it was at its checkpoint (`--rewind-to-checkpoint`), throwing away
    /// every change made since [`Pool::checkpoint`](crate::Pool::checkpoint): the undo of a
    /// risky change (an upgrade, an installer's run) after an export.
    pub fn rewind_to_checkpoint(mut self, yes: bool) -> ImportOptions {
        self.rewind_to_checkpoint = yes;
        self
    }

    /// Go back to an earlier state if the newest one cannot be opened (`-F`, `-F -X`,
    /// `-T TXG`); a healthy pool imports as it is. Try it first with [`Zfs::import_dry_run`].
    pub fn rewind(mut self, rewind: Rewind) -> ImportOptions {
        self.rewind = rewind;
        self
    }
}

/// A pool that could be imported: one entry of what `zpool import` lists.
#[derive(Debug)]
#[non_exhaustive]
pub struct ImportablePool {
    /// Its name.
    pub name: PoolName,
    /// Its GUID (the `id:` that `zpool import` shows).
    pub guid: u64,
    /// Usually [`PoolState::Exported`].
    pub state: PoolState,
    /// The configuration read from its labels.
    pub config: NvList,
}

impl Zfs {
    /// Pools found on the devices in `opts`' directories that are not imported (`zpool import
    /// [-d DIR]...` without a pool name).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] for a directory that does not exist.
    #[doc(alias = "zpool_search_import")]
    pub fn importable_pools(&self, opts: &ImportOptions) -> Result<Vec<ImportablePool>> {
        self.search(opts, None)
    }

    /// Imports the exported pool `name` (searching `opts`' directories) and opens it. Datasets
    /// are not mounted (`zpool import -N [-d DIR]... NAME [NEWNAME]`).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if no such exported pool is found; [`ErrorKind::AlreadyExists`]
    /// if a pool with the (new) name is imported; [`ErrorKind::InvalidArgument`] if several
    /// exported pools have that name.
    #[doc(alias = "zpool_import")]
    pub fn import_pool(&self, name: &PoolName, opts: &ImportOptions) -> Result<Pool<'_>> {
        let target = opts.new_name.as_ref().unwrap_or(name);
        if self.pool_exists(target) {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                "import pool",
                target.as_str(),
                "a pool with that name is already imported",
            ));
        }
        let found = self.search(opts, Some(name))?;
        self.import_one(name.as_str(), found, opts)
    }

    /// Imports the exported pool whose GUID is `guid` (`zpool import ID [NEWNAME]`, the `id:`
    /// `zpool import` lists): the way to pick one of several exported pools of one name.
    ///
    /// # Errors
    /// As [`Zfs::import_pool`]; [`ErrorKind::NotFound`] if no exported pool has that GUID.
    pub fn import_pool_by_guid(&self, guid: u64, opts: &ImportOptions) -> Result<Pool<'_>> {
        let mut found = self.search(opts, None)?;
        found.retain(|p| p.guid == guid);
        self.import_one(&guid.to_string(), found, opts)
    }

    /// Whether [`Zfs::import_pool`] with these options would succeed, and nothing else: the
    /// pool is imported read-only and without a cache file, then exported again, so nothing
    /// is written to its devices. The question `zpool import -F -n` asks before a rewind
    /// (libzfs answers that one only on standard output); a pool that needs features this
    /// system can only read passes here and fails a writable import.
    ///
    /// ```no_run
    /// use zfs_core::{ImportOptions, PoolName, Rewind, Zfs};
    ///
    /// # fn main() -> zfs_core::Result<()> {
    /// let zfs = Zfs::open()?;
    /// let tank = PoolName::new("tank")?;
    /// let opts = ImportOptions::new().rewind(Rewind::Recent);
    /// zfs.import_dry_run(&tank, &opts)?; // zpool import -F -n tank
    /// zfs.import_pool(&tank, &opts)?; // zpool import -F tank
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Zfs::import_pool`].
    pub fn import_dry_run(&self, name: &PoolName, opts: &ImportOptions) -> Result<()> {
        let mut trial = opts.clone();
        trial.readonly = true;
        trial.load_keys = false;
        trial.trial = true;
        let pool = self.import_pool(name, &trial)?;
        let imported = pool.name().clone();
        drop(pool);
        self.export_pool(&imported, &ExportOptions::new())
    }

    /// Imports the one pool of `found`, as `opts` say; `shown` is what the caller asked for.
    fn import_one(
        &self,
        shown: &str,
        mut found: Vec<ImportablePool>,
        opts: &ImportOptions,
    ) -> Result<Pool<'_>> {
        let op = "import pool";
        let candidate = match found.len() {
            0 => {
                let dirs: Vec<_> = opts.dirs.iter().map(|d| d.display().to_string()).collect();
                let place = match (&opts.cachefile, dirs.is_empty()) {
                    (Some(file), _) => format!("cache file {}", file.display()),
                    (None, true) => "the default device directories".to_owned(),
                    (None, false) => dirs.join(", "),
                };
                return Err(Error::new(
                    ErrorKind::NotFound,
                    op,
                    shown,
                    format!("no such exported pool in {place}"),
                ));
            }
            1 => found.remove(0),
            n => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    op,
                    shown,
                    format!("{n} exported pools have that name: import one by its GUID"),
                ));
            }
        };
        let target = opts.new_name.as_ref().unwrap_or(&candidate.name).clone();
        if self.pool_exists(&target) {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                op,
                target.as_str(),
                "a pool with that name is already imported",
            ));
        }
        let mut props = NvList::new();
        if opts.readonly {
            props.insert_str("readonly", "on")?;
        }
        if let Some(root) = &opts.altroot {
            let root = root.to_str().ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    op,
                    shown,
                    "altroot is not UTF-8",
                )
            })?;
            props.insert_str("altroot", root)?;
            props.insert_str("cachefile", "none")?;
        }
        if opts.trial && opts.altroot.is_none() {
            props.insert_str("cachefile", "none")?;
        }
        let mut flags = sys::ZFS_IMPORT_NORMAL;
        if opts.force {
            flags |= sys::ZFS_IMPORT_ANY_HOST;
        }
        if opts.missing_log {
            flags |= sys::ZFS_IMPORT_MISSING_LOG;
        }
        if opts.rewind_to_checkpoint {
            flags |= sys::ZFS_IMPORT_CHECKPOINT;
        }
        let new_name = opts
            .new_name
            .as_ref()
            .map(|n| CString::new(n.as_str()).expect("no NUL"));
        let new_ptr = new_name.as_ref().map_or(ptr::null(), |c| c.as_ptr());
        let mut config = candidate.config;
        if let Some(policy) = opts.rewind.policy()? {
            config.insert_list("load-policy", &policy)?;
        }
        let rewind = opts.rewind.flags();
        let command = || match &opts.new_name {
            Some(new) => format!("zpool import{rewind} {} {new}", candidate.name),
            None => format!("zpool import{rewind} {}", candidate.name),
        };
        self.check_logged(op, shown, command, || {
            // SAFETY: live handle; config and props are live lists; new_ptr is NULL or a
            // NUL-terminated name.
            unsafe {
                sys::zpool_import_props(
                    self.raw().ptr(),
                    config.as_ptr(),
                    new_ptr,
                    props.as_ptr(),
                    flags as c_int,
                )
            }
        })?;
        if opts.load_keys {
            if let Err(e) = self.load_pool_keys(&target) {
                // All or nothing: the pool goes back to where it was.
                let _ = self.export_pool(&target, &ExportOptions::new());
                return Err(e);
            }
        }
        self.pool(&target)
    }

    /// `zfs load-key -r POOL`, as `zpool import -l` does after the import: every encryption
    /// root of the pool whose key is not loaded, from its `keylocation`. (libzfs's own loop,
    /// `zfs_crypto_attempt_load_keys`, prints to standard output and prompts on the
    /// terminal; a library must do neither.)
    pub(crate) fn load_pool_keys(&self, pool: &PoolName) -> Result<()> {
        let root = crate::name::DatasetName::new(pool.as_str())?;
        let types = crate::DatasetTypes::FILESYSTEM | crate::DatasetTypes::VOLUME;
        let props = ["encryptionroot", "keystatus"];
        for row in self.list_with(&root, types, &props)? {
            let [encryption_root, status] = [0, 1].map(|i| row.values[i].as_str());
            if encryption_root == row.name.as_str() && status == "unavailable" {
                self.dataset(&row.name)?.load_key_from_location()?;
            }
        }
        Ok(())
    }

    fn search(&self, opts: &ImportOptions, name: Option<&PoolName>) -> Result<Vec<ImportablePool>> {
        if opts.cachefile.is_some() && !opts.dirs.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "search for pools in",
                name.map_or("", |n| n.as_str()),
                "a cache file and device directories exclude each other",
            ));
        }
        for dir in &opts.dirs {
            if !dir.is_dir() {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    "search for pools in",
                    dir.display().to_string(),
                    "no such directory",
                ));
            }
        }
        let dirs: Vec<CString> = opts
            .dirs
            .iter()
            .map(|d| path_cstring(d))
            .collect::<Result<_>>()?;
        let mut dir_ptrs: Vec<*mut c_char> = dirs.iter().map(|d| d.as_ptr().cast_mut()).collect();
        let cname = name.map(|n| CString::new(n.as_str()).expect("no NUL"));
        // SAFETY: importargs_t is a plain C struct for which all-zero is "no options".
        let mut args: sys::importargs_t = unsafe { std::mem::zeroed() };
        if !dir_ptrs.is_empty() {
            args.path = dir_ptrs.as_mut_ptr();
            args.paths = dir_ptrs.len() as c_int;
        }
        args.poolname = cname.as_ref().map_or(ptr::null(), |c| c.as_ptr());
        // As `zpool import -T`: the search opens each pool at the transaction group asked for.
        let policy = opts.rewind.policy()?;
        if let Some(policy) = &policy {
            args.policy = policy.as_ptr();
        }
        let cachefile = match &opts.cachefile {
            Some(file) => {
                if !file.is_file() {
                    return Err(Error::new(
                        ErrorKind::NotFound,
                        "read cache file",
                        file.display().to_string(),
                        "no such file",
                    ));
                }
                Some(path_cstring(file)?)
            }
            None => None,
        };
        args.cachefile = cachefile.as_ref().map_or(ptr::null(), |c| c.as_ptr());
        args.scan = crate::handle::boolean(cachefile.is_none());
        let raw = self.search_import(&mut args);
        if raw.is_null() {
            return Ok(Vec::new());
        }
        // SAFETY: zpool_search_import returns a list we own.
        let pools = unsafe { NvList::from_raw(raw) };
        let mut out = Vec::new();
        for pair in pools.iter() {
            let Some(config) = pair.as_list() else {
                continue;
            };
            let pool = importable(config);
            // As `zpool import`: destroyed pools with -D only, and then only those.
            if (pool.state == PoolState::Destroyed) == opts.destroyed {
                out.push(pool);
            }
        }
        Ok(out)
    }

    #[cfg(zfs_libpc_handle)]
    fn search_import(&self, args: &mut sys::importargs_t) -> *mut sys::nvlist_t {
        let _tables = crate::handle::tables();
        // SAFETY: libpc_handle_t is a plain C struct; zero is a valid starting state.
        let mut lpch: sys::libpc_handle_t = unsafe { std::mem::zeroed() };
        lpch.lpc_lib_handle = self.raw().ptr().cast();
        // libzfs's own ops table, which it only reads.
        lpch.lpc_ops = std::ptr::addr_of!(sys::libzfs_config_ops).cast_mut();
        lpch.lpc_printerr = sys::boolean_t::B_FALSE;
        // SAFETY: both structs live for the call; the result is a list we own or NULL.
        unsafe { sys::zpool_search_import(&mut lpch, args) }
    }

    #[cfg(not(zfs_libpc_handle))]
    fn search_import(&self, args: &mut sys::importargs_t) -> *mut sys::nvlist_t {
        // SAFETY: live handle, args live for the call, the ops table is libzfs's own; the
        // result is a list we own or NULL.
        unsafe {
            sys::zpool_search_import(
                self.raw().ptr().cast(),
                args,
                std::ptr::addr_of!(sys::libzfs_config_ops),
            )
        }
    }
}

fn importable(config: &NvListRef) -> ImportablePool {
    ImportablePool {
        name: PoolName::trusted(config.get_str("name").unwrap_or_default()),
        guid: config.get_u64("pool_guid").unwrap_or(0),
        state: PoolState::from_raw(config.get_u64("state").unwrap_or(u64::MAX) as i32),
        config: config.to_owned(),
    }
}

impl Zfs {
    /// Exports a pool, unmounting its datasets first (`zpool export`).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if no such pool is imported; [`ErrorKind::Busy`] if a dataset
    /// cannot be unmounted or the pool is in use. A pool another process is only reading
    /// (`zpool list`, `zpool status`) is busy for that moment: the export is tried again for
    /// up to five seconds before it is reported busy (with its datasets unmounted, as a
    /// refused `zpool export` leaves them).
    #[doc(alias = "zpool_export")]
    pub fn export_pool(&self, name: &PoolName, opts: &ExportOptions) -> Result<()> {
        let op = "export pool";
        let pool = self.pool(name).map_err(|e| e.with_operation(op))?;
        let force = crate::handle::boolean(opts.force);
        self.check(op, name.as_str(), || {
            // SAFETY: live pool handle.
            unsafe { sys::zpool_disable_datasets(pool.raw().ptr(), force) }
        })?;
        super::busy::while_referenced(c"zfs-core export", |log| {
            self.check(op, name.as_str(), || {
                // SAFETY: live pool handle, closed later by Drop; `log` is the history line or
                // null (none).
                unsafe { sys::zpool_export(pool.raw().ptr(), force, log) }
            })
        })
    }
}

/// `path` as libzfs takes it: its bytes as they are (a lossy conversion of a name that is not
/// UTF-8 would name another directory, and the search would find nothing).
fn path_cstring(path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        Error::new(
            ErrorKind::InvalidArgument,
            "search for pools in",
            path.display().to_string(),
            "a path cannot contain a NUL byte",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn paths_reach_libzfs_byte_for_byte() {
        let latin1 = Path::new(OsStr::from_bytes(b"/dev/disks-\xe9t\xe9"));
        assert_eq!(
            path_cstring(latin1).unwrap().as_bytes(),
            b"/dev/disks-\xe9t\xe9"
        );
        let e = path_cstring(Path::new(OsStr::from_bytes(b"/a\0b"))).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    }
}
