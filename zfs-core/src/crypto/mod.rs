//! Native encryption: keys given from Rust, key status, loading, unloading and changing keys
//! (`zfs load-key`, `unload-key`, `change-key`). Keys never pass through a file or a prompt.

mod key;
mod pbkdf2;

use std::ffi::CString;

use libzfs_sys as sys;

pub use key::{
    Key, KeyFormat, DEFAULT_PBKDF2_ITERATIONS, KEY_LEN, MAX_PBKDF2_ITERATIONS,
    MIN_PBKDF2_ITERATIONS, PASSPHRASE_LEN,
};

use crate::dataset::Dataset;
use crate::handle::lzc;
use crate::nvlist::NvList;
use crate::{Error, ErrorKind, Result};

/// Whether a dataset's key is loaded: its `keystatus` property (`zfs get keystatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyStatus {
    /// Not encrypted.
    None,
    /// Encrypted, key not loaded: contents cannot be read or mounted.
    Unavailable,
    /// Encrypted, key loaded.
    Available,
}

/// Options of [`Dataset::change_key`]: `zfs change-key [-o keylocation=...]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeKeyOptions {
    keylocation: Option<String>,
}

impl ChangeKeyOptions {
    /// As `zfs change-key` without options: an encryption root keeps its `keylocation`; a
    /// dataset that becomes one gets `prompt`.
    ///
    /// The CLI's other `-o` options belong to the new key, so they are set on the [`Key`]
    /// given to [`Dataset::change_key`]: `-o keyformat=raw|hex|passphrase` is
    /// [`Key::raw`]/[`Key::hex`]/[`Key::passphrase`], `-o pbkdf2iters=N` is
    /// [`Key::pbkdf2_iterations`]. A key and a format that disagree cannot be written.
    pub fn new() -> ChangeKeyOptions {
        ChangeKeyOptions::default()
    }

    /// `-o keylocation=LOCATION`: where `zfs load-key` will look for the new key
    /// (`prompt`, `file:///path`, or on OpenZFS 2.2 and later an `https://` URL). zfs-core
    /// itself never reads it: keys are given in memory.
    pub fn keylocation(mut self, location: &str) -> ChangeKeyOptions {
        self.keylocation = Some(location.to_owned());
        self
    }
}

/// The typed key properties of a new wrapping key, as the kernel reads them: `keyformat`,
/// `keylocation`, and for a passphrase a fresh `pbkdf2salt` and `pbkdf2iters`. Returns them with
/// the wrapping key.
pub(crate) fn key_params(key: &Key, keylocation: &str) -> Result<(NvList, key::WrappingKey)> {
    let mut props = NvList::new();
    let format = match key.format() {
        KeyFormat::Raw => sys::zfs_keyformat_t::ZFS_KEYFORMAT_RAW,
        KeyFormat::Hex => sys::zfs_keyformat_t::ZFS_KEYFORMAT_HEX,
        KeyFormat::Passphrase => sys::zfs_keyformat_t::ZFS_KEYFORMAT_PASSPHRASE,
    };
    props.insert_u64("keyformat", u64::from(format.0))?;
    props.insert_str("keylocation", keylocation)?;
    let (salt, rounds) = if key.format() == KeyFormat::Passphrase {
        let salt = key::random_salt()?;
        props.insert_u64("pbkdf2salt", salt)?;
        props.insert_u64("pbkdf2iters", key.iterations())?;
        (salt, key.iterations())
    } else {
        (0, 0)
    };
    Ok((props, key.wrapping_key(salt, rounds)))
}

/// The encryption root from the `encryption` and `encryptionroot` values read together;
/// `encryptionroot` is looked at only when `encryption` is on.
fn encryption_root_of(
    encryption: Result<crate::PropValue>,
    root: Result<crate::PropValue>,
) -> Result<Option<String>> {
    if encryption?.value == "off" {
        return Ok(None);
    }
    let v = root?.value;
    Ok((!v.is_empty() && v != "-").then_some(v))
}

impl Dataset<'_> {
    /// Whether this dataset is encrypted and its key loaded (`zfs get keystatus`).
    ///
    /// # Errors
    /// Whatever libzfs reports.
    #[doc(alias = "keystatus")]
    pub fn key_status(&self) -> Result<KeyStatus> {
        // Volatile: another handle or process may have loaded or unloaded the key. The three
        // values are read in one refresh.
        let mut v = self
            .properties(&["encryption", "encryptionroot", "keystatus"])?
            .into_iter();
        let (encryption, root, status) = (
            v.next().expect("asked"),
            v.next().expect("asked"),
            v.next().expect("asked"),
        );
        if encryption_root_of(encryption, root)?.is_none() {
            return Ok(KeyStatus::None);
        }
        let v = status?.value;
        Ok(match v.as_str() {
            "available" => KeyStatus::Available,
            "unavailable" => KeyStatus::Unavailable,
            _ => {
                return Err(crate::dataset::unknown_value(
                    "keystatus",
                    self.name().as_str(),
                    &v,
                ))
            }
        })
    }

    /// The dataset whose key encrypts this one (`zfs get encryptionroot`), or `None` if
    /// unencrypted.
    ///
    /// # Errors
    /// Whatever libzfs reports.
    #[doc(alias = "encryptionroot")]
    pub fn encryption_root(&self) -> Result<Option<String>> {
        let mut v = self
            .properties(&["encryption", "encryptionroot"])?
            .into_iter();
        let (encryption, root) = (v.next().expect("asked"), v.next().expect("asked"));
        encryption_root_of(encryption, root)
    }

    /// The encryption root, failing unless it is this dataset (keys are loaded, unloaded and
    /// changed there).
    fn require_encryption_root(&self, op: &'static str) -> Result<()> {
        match self.encryption_root()? {
            Some(root) if root == self.name().as_str() => Ok(()),
            Some(root) => Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                self.name().as_str(),
                format!("its key belongs to its encryption root '{root}'; use that dataset"),
            )),
            None => Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                self.name().as_str(),
                "dataset is not encrypted",
            )),
        }
    }

    /// The wrapping key `key` gives for this encryption root (its own salt and rounds).
    fn wrapping_key_for(&self, key: &Key) -> Result<key::WrappingKey> {
        let format = self.property("keyformat")?.value;
        if format != key.format().as_str() {
            return Err(Error::new(
                ErrorKind::WrongKey,
                "load key",
                self.name().as_str(),
                format!(
                    "its keyformat is '{format}', not '{}'",
                    key.format().as_str()
                ),
            ));
        }
        let (salt, rounds) = if key.format() == KeyFormat::Passphrase {
            (
                self.property("pbkdf2salt")?.require_u64("pbkdf2salt")?,
                self.property("pbkdf2iters")?.require_u64("pbkdf2iters")?,
            )
        } else {
            (0, 0)
        };
        Ok(key.wrapping_key(salt, rounds))
    }

    fn load_or_check(&self, key: &Key, op: &'static str, check_only: bool) -> Result<()> {
        self.require_encryption_root(op)?;
        let mut wkey = self
            .wrapping_key_for(key)
            .map_err(|e| e.with_operation(op))?;
        let name = CString::new(self.name().as_str()).expect("no NUL");
        let noop = crate::handle::boolean(check_only);
        // SAFETY: NUL-terminated name; the key buffer is KEY_LEN bytes and outlives the call.
        let rc = unsafe { sys::lzc_load_key(name.as_ptr(), noop, wkey.as_mut_ptr(), KEY_LEN as _) };
        lzc(op, self.name().as_str(), rc).map_err(|e| match e.errno().map(|n| n.0) {
            Some(libc::EACCES) => e
                .with_kind(ErrorKind::WrongKey)
                .with_message("incorrect key or passphrase")
                .with_reason(crate::Reason::WrongKey),
            Some(libc::EEXIST) => e
                .with_message("key already loaded")
                .with_reason(crate::Reason::KeyAlreadyLoaded),
            _ => e,
        })?;
        Ok(())
    }

    /// Loads the key of this encryption root (`zfs load-key`), so it and the datasets that
    /// share its key can be mounted.
    ///
    /// # Errors
    /// [`ErrorKind::WrongKey`] for a wrong key or passphrase; [`ErrorKind::AlreadyExists`]
    /// if loaded; [`ErrorKind::InvalidArgument`] if this is not an encryption root.
    #[doc(alias = "lzc_load_key")]
    pub fn load_key(&self, key: &Key) -> Result<()> {
        self.load_or_check(key, "load key", false)
    }

    /// Loads the key of this encryption root from its `keylocation` (`zfs load-key` without
    /// `-L`): a `file://` path or an `https://` URL, read by libzfs. A library never
    /// prompts: `keylocation=prompt` is refused (use [`Dataset::load_key`]).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for `prompt` or a dataset that is not an encryption
    /// root; [`ErrorKind::WrongKey`] if the key found there is wrong; the error of reading
    /// it (a missing file) otherwise.
    #[doc(alias = "zfs_crypto_load_key")]
    pub fn load_key_from_location(&self) -> Result<()> {
        let op = "load key";
        self.require_encryption_root(op)?;
        if self.property("keylocation")?.value == "prompt" {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                self.name().as_str(),
                "the key's location is 'prompt': load it with Dataset::load_key",
            ));
        }
        self.zfs()
            .check(op, self.name().as_str(), || {
                // SAFETY: live dataset handle; NULL: the key from its own keylocation.
                unsafe {
                    sys::zfs_crypto_load_key(
                        self.raw().ptr(),
                        sys::boolean_t::B_FALSE,
                        // `const char *` from OpenZFS 2.2, `char *` before.
                        std::ptr::null_mut(),
                    )
                }
            })
            // The kernel refuses a wrong key with EACCES, as for Dataset::load_key.
            .map_err(|e| match e.kind() {
                ErrorKind::PermissionDenied => e
                    .with_kind(ErrorKind::WrongKey)
                    .with_reason(crate::Reason::WrongKey),
                _ => e,
            })
    }

    /// Checks `key` against this encryption root without loading it (`zfs load-key -n`).
    ///
    /// # Errors
    /// As [`Dataset::load_key`].
    pub fn check_key(&self, key: &Key) -> Result<()> {
        self.load_or_check(key, "check key", true)
    }

    /// Unloads the key of this encryption root (`zfs unload-key`). Its filesystems must be
    /// unmounted first.
    ///
    /// # Errors
    /// [`ErrorKind::Busy`] while a dataset using the key is mounted or in use: at once when
    /// this dataset is mounted, else after up to five seconds (a filesystem unmounted a moment
    /// before is held a little longer by the kernel, and the call waits that out);
    /// [`ErrorKind::InvalidArgument`] if the key is not loaded or this is not an encryption
    /// root.
    #[doc(alias = "lzc_unload_key")]
    pub fn unload_key(&self) -> Result<()> {
        let op = "unload key";
        self.require_encryption_root(op)?;
        let name = CString::new(self.name().as_str()).expect("no NUL");
        // A filesystem unmounted a moment ago can still be held by its objset upgrade task
        // (see the destroy in `dataset/destroy.rs`), and the key with it: EBUSY is waited out
        // while this dataset is not mounted. A mounted one is refused at once.
        let rc = crate::passing::retry(
            // SAFETY: NUL-terminated name.
            |_| unsafe { sys::lzc_unload_key(name.as_ptr()) },
            |&rc| rc == libc::EBUSY && self.mounted_at().is_none(),
        );
        lzc(op, self.name().as_str(), rc).map_err(|e| match e.errno().map(|n| n.0) {
            Some(libc::EACCES) => e
                .with_kind(ErrorKind::InvalidArgument)
                .with_message("key is not loaded")
                .with_reason(crate::Reason::KeyNotLoaded),
            Some(libc::EBUSY) => e
                .with_message("a dataset using this key is mounted or in use; unmount it first")
                .with_reason(crate::Reason::DatasetBusy),
            _ => e,
        })?;
        Ok(())
    }

    /// Replaces the key of this dataset with `new` and makes it an encryption root
    /// (`zfs change-key [-o keylocation=...]`). The current key must be loaded. Data is not
    /// re-encrypted: only the wrapping of the master key changes. `keylocation` becomes the
    /// one given in `opts`, else stays what it was (or is `prompt` for a new root).
    ///
    /// # Errors
    /// [`ErrorKind::PermissionDenied`] if the current key is not loaded;
    /// [`ErrorKind::InvalidArgument`] if the dataset is not encrypted;
    /// [`ErrorKind::InvalidProperty`] for a malformed `keylocation` (nothing changed).
    #[doc(alias = "lzc_change_key")]
    pub fn change_key(&self, new: &Key, opts: &ChangeKeyOptions) -> Result<()> {
        let op = "change key";
        // As `zfs change-key`: an encryption root keeps its keylocation unless told
        // otherwise; a dataset that becomes one starts at `prompt`.
        let root = self.encryption_root()?;
        let kept = match (&opts.keylocation, root.as_deref()) {
            (None, Some(r)) if r == self.name().as_str() => {
                Some(self.property("keylocation")?.value)
            }
            _ => None,
        };
        let keylocation = opts
            .keylocation
            .as_deref()
            .or(kept.as_deref())
            .unwrap_or("prompt");
        let valid = std::ffi::CString::new(keylocation).is_ok_and(|c| {
            // SAFETY: a NUL-terminated string; a pure check of its form.
            let ok = unsafe { sys::zfs_prop_valid_keylocation(c.as_ptr(), sys::boolean_t::B_TRUE) };
            ok != sys::boolean_t::B_FALSE
        });
        if !valid {
            return Err(Error::new(
                ErrorKind::InvalidProperty,
                op,
                self.name().as_str(),
                format!("invalid keylocation '{keylocation}': 'prompt', 'file:///path' or a URL"),
            ));
        }
        if root.is_none() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                self.name().as_str(),
                "dataset is not encrypted",
            ));
        }
        let (props, mut wkey) = key_params(new, keylocation)?;
        self.change_key_raw(
            op,
            sys::dcp_cmd_t::DCP_CMD_NEW_KEY,
            Some(&props),
            &mut wkey[..],
        )
    }

    /// Makes this dataset use its parent's key again (`zfs change-key -i`); it stops being
    /// an encryption root. Both keys must be loaded.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] if it is not an encryption root or the parent is not
    /// encrypted; [`ErrorKind::PermissionDenied`] if a key is not loaded.
    pub fn inherit_key(&self) -> Result<()> {
        let op = "inherit key";
        self.require_encryption_root(op)?;
        self.change_key_raw(op, sys::dcp_cmd_t::DCP_CMD_INHERIT, None, &mut [])
    }

    fn change_key_raw(
        &self,
        op: &'static str,
        cmd: sys::dcp_cmd_t,
        props: Option<&NvList>,
        wkey: &mut [u8],
    ) -> Result<()> {
        let name = CString::new(self.name().as_str()).expect("no NUL");
        let key_ptr = if wkey.is_empty() {
            std::ptr::null_mut()
        } else {
            wkey.as_mut_ptr()
        };
        // SAFETY: NUL-terminated name; a live (or null) property list; the key buffer (or null
        // with length 0) outlives the call.
        let rc = unsafe {
            sys::lzc_change_key(
                name.as_ptr(),
                cmd.0,
                props.map_or(std::ptr::null_mut(), |p| p.as_ptr()),
                key_ptr,
                wkey.len() as _,
            )
        };
        lzc(op, self.name().as_str(), rc).map_err(|e| match e.errno().map(|n| n.0) {
            Some(libc::EACCES) => e
                .with_message("the key must be loaded first")
                .with_reason(crate::Reason::KeyNotLoaded),
            _ => e,
        })?;
        Ok(())
    }
}
