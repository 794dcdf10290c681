//! Creates the ZFS layout of a NixOS impermanence setup in one all-or-nothing step.
//! Work in progress: see the workspace README.
#![deny(missing_docs)]
