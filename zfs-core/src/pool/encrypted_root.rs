//! An encrypted root dataset at pool creation (`zpool create -O encryption=on`), with the key
//! from Rust.
//!
//! `zpool_create` has libzfs read a new encryption root's key from its `keylocation`, from the
//! terminal for `prompt`. zfs-core never lets libzfs prompt: the key goes into a pipe, libzfs
//! reads it as the file `/proc/self/fd/N`, and once the pool exists its `keylocation` is set
//! to what the caller asked for.

use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::handle::Zfs;
use crate::name::PoolName;
use crate::nvlist::NvList;
use crate::{Error, ErrorKind, Key, KeyFormat, Result};

/// The read end of the key's pipe, held until the pool is made, and the keylocation to set
/// then.
pub(super) struct KeyPipe {
    read: OwnedFd,
    keylocation: String,
}

/// Checks the root's encryption properties and, with a key, puts it in a pipe and points
/// `keylocation` at it.
pub(super) fn prepare(
    op: &'static str,
    pool: &str,
    key: Option<&Key>,
    fsprops: &mut NvList,
) -> Result<Option<KeyPipe>> {
    let bad = |why: String| Error::new(ErrorKind::InvalidArgument, op, pool, why);
    let encryption = fsprops.get_str("encryption");
    let keylocation = fsprops
        .get_str("keylocation")
        .unwrap_or_else(|| "prompt".into());
    let Some(key) = key else {
        if encryption.as_deref().is_some_and(|e| e != "off") && !keylocation.starts_with("file://")
        {
            return Err(bad(
                "an encrypted root needs its key: give it with encryption(key) (libzfs would \
                 read it from the terminal)"
                    .into(),
            ));
        }
        return Ok(None);
    };
    if encryption.as_deref() == Some("off") {
        return Err(bad("a key was given but 'encryption' is 'off'".into()));
    }
    for k in ["keyformat", "pbkdf2iters", "pbkdf2salt"] {
        if fsprops.contains(k) {
            return Err(Error::new(
                ErrorKind::InvalidProperty,
                op,
                pool,
                format!("'{k}' comes from the key given to encryption(); do not set it"),
            ));
        }
    }
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(Error::from_errno(op, pool, crate::handle::last_errno()));
    }
    // SAFETY: pipe2 just opened both descriptors, and nothing else owns them.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // A key is at most 512 bytes: far below a pipe's buffer, so this cannot block. The write
    // end closes here, so libzfs reads to the end of the key.
    std::fs::File::from(write)
        .write_all(&key.file_form())
        .map_err(|e| Error::io(op, pool, &e))?;
    if encryption.is_none() {
        fsprops.insert_str("encryption", "on")?;
    }
    fsprops.insert_str("keyformat", key.format().as_str())?;
    if key.format() == KeyFormat::Passphrase {
        fsprops.insert_u64("pbkdf2iters", key.iterations())?;
    }
    fsprops.insert_str(
        "keylocation",
        &format!("file:///proc/self/fd/{}", read.as_raw_fd()),
    )?;
    Ok(Some(KeyPipe { read, keylocation }))
}

impl KeyPipe {
    /// Closes the pipe and sets the root's `keylocation` to the one asked for.
    pub(super) fn finish(self, zfs: &Zfs, pool: &PoolName) -> Result<()> {
        drop(self.read);
        zfs.dataset(&pool.root_dataset())?
            .set_property("keylocation", &self.keylocation)
    }
}
