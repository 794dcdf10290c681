//! Every property of a pool in one read (`zpool get all`), and the common ones typed.

use std::collections::BTreeMap;
use std::ffi::{CStr, CString};
use std::path::PathBuf;

use libzfs_sys as sys;

use super::{Health, Pool};
use crate::property::PropValue;
use crate::{DatasetName, Error, ErrorKind, Result};

/// What a pool does when its devices fail (`failmode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailMode {
    /// `wait`: I/O blocks until the devices are back (the default).
    Wait,
    /// `continue`: new writes fail with EIO, reads of healthy data go on.
    Continue,
    /// `panic`: the system panics.
    Panic,
}

impl FailMode {
    /// The word `zpool get failmode` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            FailMode::Wait => "wait",
            FailMode::Continue => "continue",
            FailMode::Panic => "panic",
        }
    }
}

/// Where the pool's configuration is cached (`cachefile`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CacheFile {
    /// `-`: the system's default cache file (`/etc/zfs/zpool.cache`).
    Default,
    /// `none`: in no cache file; the pool is not imported at boot from one.
    None,
    /// A file of the caller's choosing.
    Path(PathBuf),
}

/// The pool properties a program most often needs, typed, from one read of
/// [`Pool::all_properties`]: what `zpool get -p` prints for each, as Rust values.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PoolProperties {
    /// `size`: total size in bytes.
    pub size: u64,
    /// `allocated`: bytes allocated.
    pub allocated: u64,
    /// `free`: bytes free.
    pub free: u64,
    /// `capacity`: percentage allocated (0-100).
    pub capacity: u64,
    /// `fragmentation`: percentage of free space fragmented; `None` when the pool cannot say
    /// (`-`, e.g. without the `spacemap_histogram` feature).
    pub fragmentation: Option<u64>,
    /// `dedupratio`: the deduplication ratio (1.0 without deduplication).
    pub dedupratio: f64,
    /// `health`.
    pub health: Health,
    /// `guid`.
    pub guid: u64,
    /// `ashift`: the sector size exponent new vdevs get; 0 means detected per device.
    pub ashift: u64,
    /// `autoexpand`.
    pub autoexpand: bool,
    /// `autotrim`.
    pub autotrim: bool,
    /// `autoreplace`.
    pub autoreplace: bool,
    /// `readonly`: imported read-only.
    pub readonly: bool,
    /// `failmode`.
    pub failmode: FailMode,
    /// `comment`; `None` when unset.
    pub comment: Option<String>,
    /// `cachefile`.
    pub cachefile: CacheFile,
    /// `bootfs`; `None` when unset.
    pub bootfs: Option<DatasetName>,
    /// `altroot`; `None` when the pool was imported without one.
    pub altroot: Option<PathBuf>,
    /// `compatibility`: `off`, `legacy`, or the feature-set files' names.
    pub compatibility: String,
}

impl Pool<'_> {
    /// Every property of the pool with its source, as `zpool get -H -p all POOL` lists them
    /// and in its order: the native properties, the pool's user properties, then every
    /// feature (`feature@...`) and any feature this system does not know
    /// (`unsupported@...`). Read in one refresh, so the values belong together.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the pool has gone away.
    #[doc(alias = "zpool_expand_proplist")]
    #[doc(alias = "zprop_get_list")]
    pub fn all_properties(&self) -> Result<Vec<(String, PropValue)>> {
        let op = "get properties";
        self.refresh().map_err(|e| e.with_operation(op))?;
        let names = self.property_names(op)?;
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let Ok(cname) = CString::new(name.as_str()) else {
                continue;
            };
            match self.cached_property(&name, &cname) {
                Ok(v) => out.push((name, v)),
                // What libzfs cannot read for this pool, `zpool get all` leaves out too.
                Err(e) if e.kind() == ErrorKind::InvalidProperty => {}
                Err(e) => return Err(e.with_operation(op)),
            }
        }
        Ok(out)
    }

    /// The common pool properties typed (see [`PoolProperties`]), from one read.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the pool has gone away; [`ErrorKind::Other`] if a value is
    /// not what this OpenZFS release is known to print.
    pub fn properties(&self) -> Result<PoolProperties> {
        let all: BTreeMap<String, String> = self
            .all_properties()?
            .into_iter()
            .map(|(k, v)| (k, v.value))
            .collect();
        PoolProperties::from_values(self.name.as_str(), &all)
    }

    /// The names `zpool get all` goes through, in its order (its `name` placeholder left out).
    fn property_names(&self, op: &'static str) -> Result<Vec<String>> {
        /// Frees libzfs's property list however the walk ends.
        struct List(*mut sys::zprop_list_t);
        impl Drop for List {
            fn drop(&mut self) {
                // SAFETY: a list libzfs allocated (or null), freed once.
                unsafe { sys::zprop_free_list(self.0) }
            }
        }
        let mut all = *b"all\0";
        let mut list = List(std::ptr::null_mut());
        let _tables = crate::handle::tables();
        self.zfs.check(op, self.name.as_str(), || {
            // SAFETY: live library handle; a writable NUL-terminated "all"; `list.0` is written.
            unsafe {
                sys::zprop_get_list(
                    self.zfs.raw().ptr(),
                    all.as_mut_ptr().cast(),
                    &mut list.0,
                    sys::zfs_type_t::ZFS_TYPE_POOL,
                )
            }
        })?;
        self.zfs.check(op, self.name.as_str(), || {
            // SAFETY: live pool handle; `list.0` is the list made above.
            unsafe { expand(self.raw().ptr(), &mut list.0) }
        })?;
        let mut names = Vec::new();
        let mut entry = list.0;
        let mut first = true;
        while !entry.is_null() {
            // SAFETY: a node of the list libzfs built, alive until `list` drops.
            let e = unsafe { &*entry };
            if e.pl_prop >= 0 {
                let prop = sys::zpool_prop_t(e.pl_prop);
                // `name` leads the list as the CLI's placeholder, and is skipped as it skips it.
                if !(first && prop == sys::zpool_prop_t::ZPOOL_PROP_NAME) {
                    // SAFETY: a property number from libzfs's own table; a static name.
                    let name = unsafe { CStr::from_ptr(sys::zpool_prop_to_name(prop)) };
                    names.push(name.to_string_lossy().into_owned());
                }
            } else if !e.pl_user_prop.is_null() {
                // SAFETY: a NUL-terminated name libzfs allocated for this node.
                let name = unsafe { CStr::from_ptr(e.pl_user_prop) };
                names.push(name.to_string_lossy().into_owned());
            }
            first = false;
            entry = e.pl_next;
        }
        Ok(names)
    }
}

/// `zpool_expand_proplist` for the pool's own properties (2.2 added the type argument).
///
/// # Safety
/// `zhp` is a live pool handle, `list` a list from `zprop_get_list`.
#[cfg(zfs_2_2)]
unsafe fn expand(zhp: *mut sys::zpool_handle_t, list: &mut *mut sys::zprop_list_t) -> i32 {
    // SAFETY: the caller's promise.
    unsafe {
        sys::zpool_expand_proplist(
            zhp,
            list,
            sys::zfs_type_t::ZFS_TYPE_POOL,
            sys::boolean_t::B_TRUE,
        )
    }
}

/// `zpool_expand_proplist` for the pool's own properties (before 2.2: no type argument).
///
/// # Safety
/// `zhp` is a live pool handle, `list` a list from `zprop_get_list`.
#[cfg(not(zfs_2_2))]
unsafe fn expand(zhp: *mut sys::zpool_handle_t, list: &mut *mut sys::zprop_list_t) -> i32 {
    // SAFETY: the caller's promise.
    unsafe { sys::zpool_expand_proplist(zhp, list, sys::boolean_t::B_TRUE) }
}

impl PoolProperties {
    /// Typed values from `zpool get -p` words; the first word that does not read names itself.
    fn from_values(pool: &str, all: &BTreeMap<String, String>) -> Result<PoolProperties> {
        let bad = |name: &str, value: &str| {
            Error::new(
                ErrorKind::Other,
                "get properties",
                pool,
                format!("property {name} reads '{value}', which is not a value it can have"),
            )
        };
        let word = |name: &str| -> Result<&str> {
            all.get(name)
                .map(String::as_str)
                .ok_or_else(|| bad(name, "(missing)"))
        };
        let number = |name: &str| -> Result<u64> {
            let w = word(name)?;
            w.parse().map_err(|_| bad(name, w))
        };
        let maybe_number = |name: &str| -> Result<Option<u64>> {
            match word(name)? {
                "-" => Ok(None),
                w => w.parse().map(Some).map_err(|_| bad(name, w)),
            }
        };
        let flag = |name: &str| -> Result<bool> {
            match word(name)? {
                "on" => Ok(true),
                "off" => Ok(false),
                w => Err(bad(name, w)),
            }
        };
        let text = |name: &str| -> Result<Option<String>> {
            Ok(match word(name)? {
                "-" => None,
                w => Some(w.to_owned()),
            })
        };
        let dedup = word("dedupratio")?;
        let health = word("health")?;
        let failmode = match word("failmode")? {
            "wait" => FailMode::Wait,
            "continue" => FailMode::Continue,
            "panic" => FailMode::Panic,
            w => return Err(bad("failmode", w)),
        };
        let cachefile = match word("cachefile")? {
            "-" | "" => CacheFile::Default,
            "none" => CacheFile::None,
            w => CacheFile::Path(PathBuf::from(w)),
        };
        let bootfs = match text("bootfs")? {
            None => None,
            Some(w) => Some(DatasetName::new(&w).map_err(|_| bad("bootfs", &w))?),
        };
        Ok(PoolProperties {
            size: number("size")?,
            allocated: number("allocated")?,
            free: number("free")?,
            capacity: number("capacity")?,
            fragmentation: maybe_number("fragmentation")?,
            dedupratio: dedup
                .trim_end_matches('x')
                .parse()
                .map_err(|_| bad("dedupratio", dedup))?,
            health: Health::from_name(health).ok_or_else(|| bad("health", health))?,
            guid: number("guid")?,
            ashift: number("ashift")?,
            autoexpand: flag("autoexpand")?,
            autotrim: flag("autotrim")?,
            autoreplace: flag("autoreplace")?,
            readonly: flag("readonly")?,
            failmode,
            comment: text("comment")?,
            cachefile,
            bootfs,
            altroot: text("altroot")?.map(PathBuf::from),
            compatibility: word("compatibility").unwrap_or("off").to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut all: BTreeMap<String, String> = [
            ("size", "1073741824"),
            ("allocated", "110592"),
            ("free", "1073631232"),
            ("capacity", "0"),
            ("fragmentation", "0"),
            ("dedupratio", "1.00"),
            ("health", "ONLINE"),
            ("guid", "123"),
            ("ashift", "12"),
            ("autoexpand", "off"),
            ("autotrim", "on"),
            ("autoreplace", "off"),
            ("readonly", "off"),
            ("failmode", "continue"),
            ("comment", "-"),
            ("cachefile", "none"),
            ("bootfs", "tank/root"),
            ("altroot", "/mnt"),
            ("compatibility", "grub2"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in pairs {
            all.insert((*k).to_owned(), (*v).to_owned());
        }
        all
    }

    #[test]
    fn zpool_get_words_read_as_typed_values() {
        let p = PoolProperties::from_values("tank", &values(&[])).unwrap();
        assert_eq!(p.capacity, 0);
        assert_eq!(p.fragmentation, Some(0));
        assert!((p.dedupratio - 1.0).abs() < f64::EPSILON);
        assert_eq!(p.health, Health::Online);
        assert!(p.autotrim && !p.autoexpand);
        assert_eq!(p.failmode, FailMode::Continue);
        assert_eq!(p.comment, None);
        assert_eq!(p.cachefile, CacheFile::None);
        assert_eq!(p.bootfs.unwrap().as_str(), "tank/root");
        assert_eq!(p.altroot, Some(PathBuf::from("/mnt")));
        let p = PoolProperties::from_values(
            "tank",
            &values(&[
                ("fragmentation", "-"),
                ("cachefile", "-"),
                ("bootfs", "-"),
                ("dedupratio", "2.50x"),
            ]),
        )
        .unwrap();
        assert_eq!(p.fragmentation, None);
        assert_eq!(p.cachefile, CacheFile::Default);
        assert_eq!(p.bootfs, None);
        assert!((p.dedupratio - 2.5).abs() < f64::EPSILON);
    }

    #[test]
    fn a_word_that_cannot_be_is_an_error_naming_the_property() {
        for (k, v) in [
            ("autotrim", "maybe"),
            ("failmode", "retry"),
            ("size", "1G"),
            ("health", "GREAT"),
        ] {
            let e = PoolProperties::from_values("tank", &values(&[(k, v)])).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Other);
            assert!(
                e.to_string().contains(k) && e.to_string().contains(v),
                "{e}"
            );
        }
        let mut all = values(&[]);
        all.remove("guid");
        let e = PoolProperties::from_values("tank", &all).unwrap_err();
        assert!(e.to_string().contains("guid"), "{e}");
    }
}
