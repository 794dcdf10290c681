//! The OpenZFS naming rules, checked in pure Rust so that bad names are refused before any
//! call into ZFS.
//!
//! What libzfs checks, we check the same way: the characters `[A-Za-z0-9_.: -]`, at most 255
//! bytes in all (`ZFS_MAX_DATASET_NAME_LEN` counts the NUL), no empty components, no `.` or `..`
//! components, no leading or trailing `/`, one `@` or `#` at most. Where we are stricter, on
//! purpose:
//! - `%` is refused everywhere. libzfs accepts it in some checks because it names temporary
//!   clones (`%recv`) with it, but refuses it for anything a user creates.
//! - Pool names that begin with `mirror`, `raidz`, `draid` or `spare`, and the names `log`,
//!   `cache`, `special` and `dedup`, are refused: `zpool create` refuses the first group, and
//!   the others are vdev-class words that make `zpool` command lines ambiguous.
//! - The first component of a dataset name must be a valid pool name.
//! - `.` and `..` are refused in every component. libzfs's check lets them through right
//!   before `@` or `#` (`tank/.@snap`), but the dataset `tank/.` can never exist.

use std::fmt;

/// Longest name in bytes, all kinds (`ZFS_MAX_DATASET_NAME_LEN` minus the NUL).
pub const MAX_NAME_LEN: usize = 255;
/// Longest pool name in bytes. OpenZFS keeps room under the pool for the names of its internal
/// datasets (`$ORIGIN`, `%recv` clones); 239 is what OpenZFS 2.3's `pool_namecheck` accepts,
/// found by asking it (see `tests/names_vs_libzfs.rs`).
pub const MAX_POOL_NAME_LEN: usize = 239;

/// Which rule a rejected name broke. `position` is a byte offset into the name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameRule {
    /// The name is empty.
    Empty,
    /// The name is longer than `max` bytes.
    TooLong {
        /// The limit, in bytes.
        max: usize,
        /// The name's length, in bytes.
        len: usize,
    },
    /// A character outside `[A-Za-z0-9_.: -]`.
    InvalidChar {
        /// The character.
        ch: char,
        /// Its byte offset.
        position: usize,
    },
    /// `a//b`, `a/`+`@x`, a leading `@`: a component with nothing in it.
    EmptyComponent {
        /// Byte offset where the empty component starts.
        position: usize,
    },
    /// The name starts with `/`.
    LeadingSlash,
    /// The name ends with `/`.
    TrailingSlash,
    /// A component is `.`.
    SelfReference {
        /// Byte offset of the component.
        position: usize,
    },
    /// A component is `..`.
    ParentReference {
        /// Byte offset of the component.
        position: usize,
    },
    /// A snapshot name without `@`, or a bookmark name without `#`.
    MissingDelimiter(char),
    /// `@` or `#` where this kind of name cannot have one.
    UnexpectedDelimiter {
        /// The delimiter.
        ch: char,
        /// Its byte offset.
        position: usize,
    },
    /// `/` after the `@` or `#`.
    SlashAfterDelimiter {
        /// Byte offset of the `/`.
        position: usize,
    },
    /// A pool name must begin with a letter.
    PoolNoLetter,
    /// A reserved pool name (a vdev type or class word).
    PoolReserved(&'static str),
    /// A pool name like `c0...` that looks like a Solaris disk name.
    PoolDiskLike,
}

impl fmt::Display for NameRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameRule::Empty => write!(f, "name is empty"),
            NameRule::TooLong { max, len } => {
                write!(f, "name is too long ({len} bytes, at most {max})")
            }
            NameRule::InvalidChar { ch, position } => {
                write!(
                    f,
                    "invalid character '{}' at byte {position} in name",
                    ch.escape_debug()
                )
            }
            NameRule::EmptyComponent { position } => {
                write!(f, "empty component at byte {position} in name")
            }
            NameRule::LeadingSlash => write!(f, "leading slash in name"),
            NameRule::TrailingSlash => write!(f, "trailing slash in name"),
            NameRule::SelfReference { position } => {
                write!(f, "component '.' at byte {position} is a self reference")
            }
            NameRule::ParentReference { position } => {
                write!(f, "component '..' at byte {position} is a parent reference")
            }
            NameRule::MissingDelimiter(c) => write!(f, "missing '{c}' delimiter in name"),
            NameRule::UnexpectedDelimiter { ch, position } => {
                write!(
                    f,
                    "delimiter '{ch}' at byte {position} is not expected here"
                )
            }
            NameRule::SlashAfterDelimiter { position } => {
                write!(f, "'/' at byte {position} after the '@' or '#' delimiter")
            }
            NameRule::PoolNoLetter => write!(f, "pool name must begin with a letter"),
            NameRule::PoolReserved(word) => write!(f, "name is reserved ('{word}')"),
            NameRule::PoolDiskLike => write!(f, "pool name is reserved (looks like a disk name)"),
        }
    }
}

/// `[A-Za-z0-9_.: -]`
pub(crate) fn valid_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':' | b' ')
}

fn invalid_char(name: &str, position: usize) -> NameRule {
    let ch = name[position..].chars().next().unwrap_or('\u{fffd}');
    NameRule::InvalidChar { ch, position }
}

/// One component (`tank`, `home`, a snapshot's short name), starting at byte `offset`.
pub(crate) fn check_component(name: &str, start: usize, end: usize) -> Result<(), NameRule> {
    let part = &name.as_bytes()[start..end];
    if part.is_empty() {
        return Err(NameRule::EmptyComponent { position: start });
    }
    if let Some(i) = part.iter().position(|&c| !valid_char(c)) {
        return Err(invalid_char(name, start + i));
    }
    match part {
        b"." => Err(NameRule::SelfReference { position: start }),
        b".." => Err(NameRule::ParentReference { position: start }),
        _ => Ok(()),
    }
}

pub(crate) fn check_pool(name: &str) -> Result<(), NameRule> {
    let b = name.as_bytes();
    if b.is_empty() {
        return Err(NameRule::Empty);
    }
    if b.len() > MAX_POOL_NAME_LEN {
        return Err(NameRule::TooLong {
            max: MAX_POOL_NAME_LEN,
            len: b.len(),
        });
    }
    if b[0] == b'/' {
        return Err(NameRule::LeadingSlash);
    }
    if let Some(i) = b.iter().position(|&c| !valid_char(c)) {
        return Err(match b[i] {
            b'/' if i == b.len() - 1 => NameRule::TrailingSlash,
            b'@' | b'#' => NameRule::UnexpectedDelimiter {
                ch: b[i] as char,
                position: i,
            },
            _ => invalid_char(name, i),
        });
    }
    if !b[0].is_ascii_alphabetic() {
        return Err(NameRule::PoolNoLetter);
    }
    for word in ["mirror", "raidz", "draid", "spare"] {
        if name.starts_with(word) {
            return Err(NameRule::PoolReserved(word));
        }
    }
    for word in ["log", "cache", "special", "dedup"] {
        if name == word {
            return Err(NameRule::PoolReserved(word));
        }
    }
    if b[0] == b'c' && b.len() > 1 && b[1].is_ascii_digit() {
        return Err(NameRule::PoolDiskLike);
    }
    Ok(())
}

/// A filesystem or volume name: `pool[/component]*`.
pub(crate) fn check_dataset(name: &str) -> Result<(), NameRule> {
    check_len(name)?;
    check_path(name, name.len())?;
    Ok(())
}

/// `dataset@snap` (`delim` = '@') or `dataset#mark` (`delim` = '#').
pub(crate) fn check_with_delimiter(name: &str, delim: u8) -> Result<(), NameRule> {
    check_len(name)?;
    let other = if delim == b'@' { b'#' } else { b'@' };
    let b = name.as_bytes();
    if let Some(i) = b.iter().position(|&c| c == other) {
        return Err(NameRule::UnexpectedDelimiter {
            ch: other as char,
            position: i,
        });
    }
    let Some(at) = b.iter().position(|&c| c == delim) else {
        if b[0] == b'/' {
            return Err(NameRule::LeadingSlash);
        }
        return Err(NameRule::MissingDelimiter(delim as char));
    };
    check_path(name, at)?;
    let tail = &b[at + 1..];
    if let Some(i) = tail.iter().position(|&c| c == delim) {
        return Err(NameRule::UnexpectedDelimiter {
            ch: delim as char,
            position: at + 1 + i,
        });
    }
    if let Some(i) = tail.iter().position(|&c| c == b'/') {
        return Err(NameRule::SlashAfterDelimiter {
            position: at + 1 + i,
        });
    }
    check_component(name, at + 1, b.len())
}

fn check_len(name: &str) -> Result<(), NameRule> {
    if name.is_empty() {
        return Err(NameRule::Empty);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(NameRule::TooLong {
            max: MAX_NAME_LEN,
            len: name.len(),
        });
    }
    Ok(())
}

/// Checks `name[..end]` as `pool[/component]*`.
fn check_path(name: &str, end: usize) -> Result<(), NameRule> {
    let b = &name.as_bytes()[..end];
    if b.first() == Some(&b'/') {
        return Err(NameRule::LeadingSlash);
    }
    if b.last() == Some(&b'/') {
        return Err(NameRule::TrailingSlash);
    }
    if let Some(i) = b.iter().position(|&c| c == b'@' || c == b'#') {
        return Err(NameRule::UnexpectedDelimiter {
            ch: b[i] as char,
            position: i,
        });
    }
    let mut start = 0;
    loop {
        let stop = b[start..]
            .iter()
            .position(|&c| c == b'/')
            .map_or(end, |i| start + i);
        check_component(name, start, stop)?;
        if start == 0 {
            check_pool(&name[..stop])?;
        }
        if stop == end {
            return Ok(());
        }
        start = stop + 1;
    }
}
