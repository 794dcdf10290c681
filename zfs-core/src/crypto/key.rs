//! Encryption keys given from Rust, and the wrapping keys OpenZFS derives from them.

use std::fmt;

use zeroize::Zeroizing;

use crate::{Error, ErrorKind, Result};

/// Length of a raw key and of every wrapping key, in bytes.
pub const KEY_LEN: usize = libzfs_sys::WRAPPING_KEY_LEN;
/// Passphrase length limits of `zfs create -o keyformat=passphrase`, in bytes.
pub const PASSPHRASE_LEN: std::ops::RangeInclusive<usize> = 8..=512;
/// PBKDF2 rounds `zfs create -o keyformat=passphrase` uses by default (its `pbkdf2iters`).
pub const DEFAULT_PBKDF2_ITERATIONS: u64 = libzfs_sys::DEFAULT_PBKDF2_ITERATIONS as u64;
/// The least PBKDF2 rounds OpenZFS accepts (`-o pbkdf2iters=N`).
pub const MIN_PBKDF2_ITERATIONS: u64 = libzfs_sys::MIN_PBKDF2_ITERATIONS as u64;
/// The most PBKDF2 rounds: libzfs hands the count to OpenSSL as a C `int`, so `zfs load-key`
/// could not derive a key stretched more (`i32::MAX`).
pub const MAX_PBKDF2_ITERATIONS: u64 = i32::MAX as u64;

/// How a key is written: the `keyformat` property (`zfs create -o keyformat=...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyFormat {
    /// 32 bytes.
    Raw,
    /// 64 hexadecimal digits.
    Hex,
    /// 8 to 512 bytes of text, stretched with PBKDF2.
    Passphrase,
}

impl std::str::FromStr for KeyFormat {
    type Err = Error;

    /// `raw`, `hex` or `passphrase`, as the `keyformat` property says it.
    fn from_str(s: &str) -> Result<KeyFormat> {
        match s {
            "raw" => Ok(KeyFormat::Raw),
            "hex" => Ok(KeyFormat::Hex),
            "passphrase" => Ok(KeyFormat::Passphrase),
            other => Err(bad(
                "keyformat",
                format!("'{other}' is not a key format (raw, hex or passphrase)"),
            )),
        }
    }
}

impl KeyFormat {
    /// The property value: `raw`, `hex` or `passphrase`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyFormat::Raw => "raw",
            KeyFormat::Hex => "hex",
            KeyFormat::Passphrase => "passphrase",
        }
    }
}

/// A dataset encryption key held in memory, wiped when dropped. `Debug` never shows it. It
/// stands for what `zfs create`, `zfs load-key` and `zfs change-key` would read from
/// `keylocation` (a prompt or a file): zfs-core takes keys from Rust only.
///
/// Passphrases are stretched with PBKDF2 (350 000 rounds by default) each time they are used:
/// about 25 ms in an optimized build, ten times that unoptimized, so debug builds that use
/// passphrases want `[profile.dev.package.zfs-core] opt-level = 2`.
///
/// ```
/// use zfs_core::Key;
/// let key = Key::passphrase("correct horse battery staple")?;
/// assert!(Key::passphrase("short").is_err());
/// assert!(Key::raw(&[7u8; 32]).is_ok());
/// # Ok::<(), zfs_core::Error>(())
/// ```
///
/// Encrypted datasets: create one with a key, unload and load it, change it.
///
/// ```no_run
/// use zfs_core::{ChangeKeyOptions, CreateDataset, DatasetName, Key, KeyStatus, Zfs};
///
/// # fn main() -> zfs_core::Result<()> {
/// let zfs = Zfs::open()?;
/// let name = DatasetName::new("tank/secret")?;
/// let passphrase = "correct horse battery staple";
/// // zfs create -o encryption=on -o keyformat=passphrase tank/secret
/// CreateDataset::filesystem(name.clone())
///     .encryption(Key::passphrase(passphrase)?)
///     .create(&zfs)?;
/// let ds = zfs.dataset(&name)?;
/// ds.unload_key()?; // zfs unload-key tank/secret (create_dataset does not mount)
/// assert_eq!(ds.key_status()?, KeyStatus::Unavailable);
/// ds.load_key(&Key::passphrase(passphrase)?)?; // zfs load-key tank/secret
/// // zfs change-key -o keyformat=raw -o keylocation=file:///root/secret.key tank/secret
/// let new = Key::raw(&[7u8; 32])?;
/// ds.change_key(&new, &ChangeKeyOptions::new().keylocation("file:///root/secret.key"))?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Key {
    format: KeyFormat,
    /// The passphrase's bytes, or the 32 key bytes (hex already decoded).
    material: Zeroizing<Vec<u8>>,
    iterations: u64,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("format", &self.format)
            .field("material", &"<redacted>")
            .finish()
    }
}

fn bad(what: &str, message: String) -> Error {
    Error::new(ErrorKind::InvalidArgument, "use key", what, message)
}

impl Key {
    /// A passphrase (`keyformat=passphrase`) of 8 to 512 bytes, without NUL, newline or
    /// carriage return.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for a length out of range, a NUL byte or a line break:
    /// `zfs load-key` reads a passphrase as one line of a C string, so a key derived from
    /// the bytes after either could never be entered again (the dataset would be locked out).
    pub fn passphrase(passphrase: impl Into<String>) -> Result<Key> {
        let bytes = Zeroizing::new(passphrase.into().into_bytes());
        if bytes.contains(&0) {
            return Err(bad(
                "passphrase",
                "a passphrase cannot contain a NUL byte (zfs load-key would stop reading there)"
                    .to_owned(),
            ));
        }
        if bytes.iter().any(|&b| b == b'\n' || b == b'\r') {
            return Err(bad(
                "passphrase",
                "a passphrase cannot contain a line break (zfs load-key reads one line)".to_owned(),
            ));
        }
        if !PASSPHRASE_LEN.contains(&bytes.len()) {
            return Err(bad(
                "passphrase",
                format!(
                    "a passphrase must be {} to {} bytes long (this one has {})",
                    PASSPHRASE_LEN.start(),
                    PASSPHRASE_LEN.end(),
                    bytes.len()
                ),
            ));
        }
        Ok(Key {
            format: KeyFormat::Passphrase,
            material: bytes,
            iterations: DEFAULT_PBKDF2_ITERATIONS,
        })
    }

    /// A raw 32-byte key (`keyformat=raw`).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] unless exactly 32 bytes.
    pub fn raw(bytes: &[u8]) -> Result<Key> {
        if bytes.len() != KEY_LEN {
            return Err(bad(
                "raw key",
                format!(
                    "a raw key is exactly {KEY_LEN} bytes (this one has {})",
                    bytes.len()
                ),
            ));
        }
        Ok(Key {
            format: KeyFormat::Raw,
            material: Zeroizing::new(bytes.to_vec()),
            iterations: 0,
        })
    }

    /// A key written as 64 hexadecimal digits (`keyformat=hex`).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for another length or a non-hex character.
    pub fn hex(digits: &str) -> Result<Key> {
        let d = digits.as_bytes();
        if d.len() != 2 * KEY_LEN {
            return Err(bad(
                "hex key",
                format!(
                    "a hex key is exactly {} digits (this one has {})",
                    2 * KEY_LEN,
                    d.len()
                ),
            ));
        }
        let nibble = |c: u8| (c as char).to_digit(16);
        let mut bytes = Zeroizing::new(vec![0u8; KEY_LEN]);
        for (i, pair) in d.chunks(2).enumerate() {
            match (nibble(pair[0]), nibble(pair[1])) {
                (Some(h), Some(l)) => bytes[i] = (h * 16 + l) as u8,
                _ => {
                    return Err(bad(
                        "hex key",
                        "a hex key has only the digits 0-9 and a-f".into(),
                    ))
                }
            }
        }
        Ok(Key {
            format: KeyFormat::Hex,
            material: bytes,
            iterations: 0,
        })
    }

    /// For a passphrase: the PBKDF2 rounds of a new wrapping key (`pbkdf2iters`; default
    /// 350 000, least 100 000, most [`MAX_PBKDF2_ITERATIONS`]). Ignored for raw and hex keys,
    /// and when loading a key (the dataset's own count is used then).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] below the least or above the most.
    pub fn pbkdf2_iterations(mut self, rounds: u64) -> Result<Key> {
        if !(MIN_PBKDF2_ITERATIONS..=MAX_PBKDF2_ITERATIONS).contains(&rounds) {
            return Err(bad(
                "passphrase",
                format!(
                    "pbkdf2iters must be {MIN_PBKDF2_ITERATIONS} to {MAX_PBKDF2_ITERATIONS} \
                     (got {rounds})"
                ),
            ));
        }
        self.iterations = rounds;
        Ok(self)
    }

    /// The key a `file://` keylocation holds, read as `zfs load-key` reads it: the first line
    /// (without its newline) for a passphrase or hex key, exactly 32 bytes for a raw one.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for a location that is not `file://` (zfs-core never
    /// prompts) or a key that is not valid for `format`; the I/O error reading the file.
    pub fn from_location(location: &str, format: KeyFormat) -> Result<Key> {
        let Some(path) = location.strip_prefix("file://") else {
            return Err(bad(
                location,
                "only file:// locations are read: give other keys from Rust".into(),
            ));
        };
        let bytes = Zeroizing::new(
            std::fs::read(path).map_err(|e| Error::io("read key from", location, &e))?,
        );
        match format {
            KeyFormat::Raw => Key::raw(&bytes),
            KeyFormat::Hex | KeyFormat::Passphrase => {
                let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
                let text = std::str::from_utf8(line)
                    .map_err(|_| bad(location, "the key is not UTF-8 text".into()))?;
                match format {
                    KeyFormat::Hex => Key::hex(text),
                    _ => Key::passphrase(text),
                }
            }
        }
    }

    /// How the key is written (the `keyformat` it gives a dataset).
    pub fn format(&self) -> KeyFormat {
        self.format
    }

    /// The key as `zfs load-key` reads it from a `file://` keylocation: the passphrase, the 64
    /// hex digits, or the 32 raw bytes.
    pub(crate) fn file_form(&self) -> Zeroizing<Vec<u8>> {
        match self.format {
            KeyFormat::Raw | KeyFormat::Passphrase => self.material.clone(),
            KeyFormat::Hex => {
                // Straight into the wiped buffer, sized once so that it never moves: no digit
                // is left in a freed String or a grown Vec.
                const DIGITS: &[u8; 16] = b"0123456789abcdef";
                let mut out = Zeroizing::new(Vec::with_capacity(2 * KEY_LEN));
                for &b in self.material.iter() {
                    out.push(DIGITS[usize::from(b >> 4)]);
                    out.push(DIGITS[usize::from(b & 0xf)]);
                }
                out
            }
        }
    }

    /// PBKDF2 rounds for a new passphrase wrapping key; 0 for raw and hex keys.
    pub(crate) fn iterations(&self) -> u64 {
        self.iterations
    }

    /// The 32-byte wrapping key handed to the kernel: the key itself, or for a passphrase
    /// PBKDF2-HMAC-SHA1 over the passphrase with the dataset's salt (its 8 bytes in
    /// little-endian order, as OpenZFS stores them) and round count.
    ///
    /// Written straight into a heap block that is wiped when dropped: only the pointer moves,
    /// so no copy of the key is left behind in a moved-from stack slot.
    pub(crate) fn wrapping_key(&self, salt: u64, iterations: u64) -> WrappingKey {
        let mut out = Zeroizing::new(vec![0u8; KEY_LEN]);
        match self.format {
            KeyFormat::Raw | KeyFormat::Hex => out.copy_from_slice(&self.material),
            KeyFormat::Passphrase => {
                let rounds = u32::try_from(iterations).unwrap_or(u32::MAX);
                super::pbkdf2::pbkdf2_hmac_sha1(
                    &self.material,
                    &salt.to_le_bytes(),
                    rounds,
                    &mut out[..],
                );
            }
        }
        out
    }
}

/// A wrapping key on the heap, wiped on drop.
pub(crate) type WrappingKey = Zeroizing<Vec<u8>>;

/// A fresh random PBKDF2 salt.
pub(crate) fn random_salt() -> Result<u64> {
    let mut bytes = [0u8; 8];
    let mut filled = 0;
    while filled < bytes.len() {
        // SAFETY: writes at most the remaining bytes of `bytes`.
        let n = unsafe {
            libc::getrandom(bytes[filled..].as_mut_ptr().cast(), bytes.len() - filled, 0)
        };
        if n < 0 {
            let errno = crate::handle::last_errno();
            if errno == libc::EINTR {
                continue;
            }
            return Err(Error::from_errno("generate salt", "getrandom", errno));
        }
        filled += n as usize;
    }
    Ok(u64::from_ne_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_from_files_as_zfs_load_key_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, bytes: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            format!("file://{}", p.display())
        };
        // The first line, without its newline, for text keys; file_form gives it back.
        let pass = Key::from_location(
            &file("p", b"correct horse\nsecond line"),
            KeyFormat::Passphrase,
        )
        .unwrap();
        assert_eq!(&pass.file_form()[..], b"correct horse");
        let hex = "ab".repeat(32);
        let k =
            Key::from_location(&file("h", format!("{hex}\n").as_bytes()), KeyFormat::Hex).unwrap();
        assert_eq!(k.file_form().as_slice(), hex.as_bytes());
        let every =
            Key::hex("0123456789abcdefABCDEF00ff102030405060708090a0b0c0d0e0f0fedcba98").unwrap();
        let form = every.file_form();
        assert_eq!(
            form.as_slice(),
            b"0123456789abcdefabcdef00ff102030405060708090a0b0c0d0e0f0fedcba98"
        );
        assert_eq!(form.capacity(), 2 * KEY_LEN, "allocated once, never grown");
        // Raw keys are exactly 32 bytes, newlines and all.
        let raw = [b'\n'; 32];
        assert_eq!(
            &Key::from_location(&file("r", &raw), KeyFormat::Raw)
                .unwrap()
                .file_form()[..],
            &raw
        );
        assert!(Key::from_location(&file("r2", &[1; 33]), KeyFormat::Raw).is_err());
        assert!(Key::from_location(&file("short", b"short\n"), KeyFormat::Passphrase).is_err());
        for (loc, kind) in [
            ("prompt", ErrorKind::InvalidArgument),
            ("https://example.com/k", ErrorKind::InvalidArgument),
            ("file:///nonexistent/key", ErrorKind::NotFound),
        ] {
            assert_eq!(
                Key::from_location(loc, KeyFormat::Passphrase)
                    .unwrap_err()
                    .kind(),
                kind,
                "{loc}"
            );
        }
        assert_eq!("hex".parse::<KeyFormat>().unwrap(), KeyFormat::Hex);
        assert!("pass".parse::<KeyFormat>().is_err());
    }

    #[test]
    fn lengths_and_digits_are_checked() {
        assert_eq!(
            Key::passphrase("1234567").unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert!(Key::passphrase("12345678").is_ok());
        assert!(Key::passphrase("x".repeat(512)).is_ok());
        assert!(Key::passphrase("x".repeat(513)).is_err());
        assert!(Key::raw(&[0; 31]).is_err());
        assert!(Key::raw(&[0; 33]).is_err());
        assert!(Key::hex(&"0".repeat(63)).is_err());
        assert!(Key::hex(&"g".repeat(64)).is_err());
        assert!(Key::hex("+f").is_err());
        let k = Key::hex(&"0f".repeat(32)).unwrap();
        assert_eq!(&k.wrapping_key(0, 0)[..], &[0x0f; 32]);
        for (rounds, ok) in [
            (99_999, false),
            (100_000, true),
            (i32::MAX as u64, true),
            (i32::MAX as u64 + 1, false),
            (u64::MAX, false),
        ] {
            let e = Key::passphrase("12345678")
                .unwrap()
                .pbkdf2_iterations(rounds);
            assert_eq!(e.is_ok(), ok, "{rounds}");
            if let Err(e) = e {
                assert_eq!(e.kind(), ErrorKind::InvalidArgument);
            }
        }
    }

    #[test]
    fn a_passphrase_with_a_nul_byte_is_refused() {
        let e = Key::passphrase("12345678\0tail-zfs-would-never-read").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.to_string().contains("NUL"), "{e}");
    }

    #[test]
    fn a_passphrase_with_a_line_break_is_refused() {
        for p in [
            "12345678\nsecond-line",
            "12345678\rsecond-line",
            "12345678\r\n",
        ] {
            let e = Key::passphrase(p).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument);
            assert!(e.to_string().contains("line break"), "{e}");
        }
    }

    #[test]
    fn debug_never_shows_the_key() {
        let k = Key::passphrase("hunter22-secret").unwrap();
        let shown = format!("{k:?}");
        assert!(!shown.contains("hunter22"), "{shown}");
    }

    #[test]
    fn passphrase_wrapping_key_is_pbkdf2_hmac_sha1() {
        // RFC 6070 test vector 2: "password", salt "salt", 2 rounds (first 20 bytes).
        // The salt here is the u64 whose little-endian bytes are "saltsalt"; check against
        // the RFC by computing the same derivation directly.
        let k = Key::passphrase("password").unwrap();
        let salt = u64::from_le_bytes(*b"saltsalt");
        let mut expect = [0u8; KEY_LEN];
        pbkdf2::pbkdf2_hmac::<sha1::Sha1>(b"password", b"saltsalt", 2, &mut expect);
        assert_eq!(&k.wrapping_key(salt, 2)[..], &expect);
        // And the primitive itself against RFC 6070 (salt "salt", 2 rounds).
        let mut rfc = [0u8; 20];
        pbkdf2::pbkdf2_hmac::<sha1::Sha1>(b"password", b"salt", 2, &mut rfc);
        assert_eq!(
            rfc,
            [
                0xea, 0x6c, 0x01, 0x4d, 0xc7, 0x2d, 0x6f, 0x8c, 0xcd, 0x1e, 0xd9, 0x2a, 0xce, 0x1d,
                0x41, 0xf0, 0xd8, 0xde, 0x89, 0x57
            ]
        );
    }
}
