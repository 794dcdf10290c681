//! Text that libzfs writes into a caller's buffer, read whole.
//!
//! libzfs cuts what it writes to the buffer it is given (`strlcpy`, `strlcat`, `snprintf`)
//! and reports success either way, so a value that fills the buffer may have been cut. Every
//! such read goes through [`read_whole`], which grows the buffer and asks again until the text
//! leaves a byte spare: no value read from C is ever silently shortened.

use std::ffi::{c_char, c_int};

use crate::{Error, Result};

/// The first buffer: enough for every native value but user properties, `context` and long
/// mountpoints or clone lists.
pub(crate) const FIRST_LEN: usize = 1024;

/// The largest buffer tried. A `clones` list of 200 000 clones of 255-byte names fits.
pub(crate) const MAX_LEN: usize = 64 << 20;

/// Calls `fill(buf, len)` (0 on success) with growing buffers until the NUL-terminated text it
/// writes is shorter than `len - 1`, and returns that text's bytes.
///
/// # Errors
/// The first non-zero return of `fill`; `libc::E2BIG` if the text still fills
/// [`MAX_LEN`] bytes.
pub(crate) fn read_whole(
    mut fill: impl FnMut(*mut c_char, usize) -> c_int,
) -> Result<Vec<u8>, c_int> {
    let mut len = FIRST_LEN;
    loop {
        let mut buf = vec![0u8; len];
        let rc = fill(buf.as_mut_ptr().cast(), len);
        if rc != 0 {
            return Err(rc);
        }
        let end = buf.iter().position(|&b| b == 0).unwrap_or(len);
        if end + 1 < len {
            buf.truncate(end);
            return Ok(buf);
        }
        if len >= MAX_LEN {
            return Err(libc::E2BIG);
        }
        len = (len * 4).min(MAX_LEN);
    }
}

/// [`read_whole`] as the value of property `name`, as a `String` (invalid UTF-8 replaced, as
/// everywhere values are text). A value that fills [`MAX_LEN`] becomes an `E2BIG` error;
/// `failed` decides what any other failure of `fill` means (an error, or a placeholder).
pub(crate) fn read_value(
    op: &'static str,
    name: &str,
    fill: impl FnMut(*mut c_char, usize) -> c_int,
    failed: impl FnOnce(c_int) -> Result<String>,
) -> Result<String> {
    match read_whole(fill) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Err(libc::E2BIG) => Err(
            Error::from_errno(op, name, libc::E2BIG).with_message(format!(
                "the value of '{name}' is longer than zfs-core reads ({} MiB)",
                MAX_LEN >> 20
            )),
        ),
        Err(rc) => failed(rc),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    /// A writer that cuts like `strlcpy`.
    fn strlcpy(value: &[u8]) -> impl FnMut(*mut c_char, usize) -> c_int + '_ {
        move |buf, len| {
            let n = value.len().min(len - 1);
            // SAFETY: `buf` holds `len` bytes; at most `len - 1` plus the NUL are written.
            unsafe {
                std::ptr::copy_nonoverlapping(value.as_ptr(), buf.cast(), n);
                *buf.add(n) = 0;
            }
            0
        }
    }

    #[test]
    fn values_of_every_length_around_the_buffer_sizes_come_back_whole() {
        for n in [0, 1, 1022, 1023, 1024, 1025, 4095, 4096, 8191, 70_000] {
            let value = vec![b'x'; n];
            assert_eq!(read_whole(strlcpy(&value)).unwrap().len(), n, "length {n}");
        }
    }

    #[test]
    fn a_failure_is_returned_and_an_endless_value_is_refused() {
        assert_eq!(read_whole(|_, _| -1), Err(-1));
        let huge = vec![b'y'; MAX_LEN];
        assert_eq!(read_whole(strlcpy(&huge)), Err(libc::E2BIG));
    }

    #[test]
    fn a_value_too_long_is_an_e2big_error_naming_the_property_and_others_go_to_failed() {
        let huge = vec![b'y'; MAX_LEN];
        let err = read_value("get property", "user:big", strlcpy(&huge), |_| {
            unreachable!("E2BIG is handled by read_value")
        })
        .unwrap_err();
        assert_eq!(err.errno(), Some(crate::Errno(libc::E2BIG)));
        assert_eq!(err.object(), "user:big");
        assert!(
            err.to_string()
                .contains("longer than zfs-core reads (64 MiB)"),
            "{err}"
        );

        let placeholder = read_value(
            "list",
            "p/fs",
            |_, _| -1,
            |rc| {
                assert_eq!(rc, -1);
                Ok("-".to_owned())
            },
        );
        assert_eq!(placeholder.unwrap(), "-");
        let refused = read_value(
            "get property",
            "x",
            |_, _| libc::ENOENT,
            |rc| {
                Err(Error::from_errno("get property", "x", rc)
                    .with_kind(ErrorKind::InvalidProperty))
            },
        );
        assert_eq!(refused.unwrap_err().kind(), ErrorKind::InvalidProperty);
        let bytes = read_value("get property", "x", strlcpy(b"caf\xc3"), |_| unreachable!());
        assert_eq!(bytes.unwrap(), "caf\u{fffd}");
    }
}
