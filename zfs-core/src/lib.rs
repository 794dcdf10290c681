//! Safe, idiomatic control of OpenZFS from Rust.
#![deny(missing_docs)]

mod error;
pub mod name;
pub mod nvlist;

pub use error::{Errno, Error, ErrorKind, Result};
pub use name::{BookmarkName, DatasetName, NameRule, PoolName, SnapshotName};

/// The OpenZFS release this crate was built against.
pub const BUILT_FOR_VERSION: &str = libzfs_sys::BUILT_FOR_VERSION;
