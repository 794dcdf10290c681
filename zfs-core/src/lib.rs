//! Safe, idiomatic control of OpenZFS from Rust. Work in progress: see the workspace README.
#![deny(missing_docs)]

/// The OpenZFS release this crate was built against.
pub const BUILT_FOR_VERSION: &str = libzfs_sys::BUILT_FOR_VERSION;
