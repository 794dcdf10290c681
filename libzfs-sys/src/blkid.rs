//! The few calls of util-linux's libblkid that a binding needs to see what a device holds
//! before it writes there (as `zpool create` does): libzfs links libblkid itself, but exports
//! no such check. Written by hand from `blkid/blkid.h`, whose low-level probing API has been
//! stable since util-linux 2.18.

use core::ffi::{c_char, c_int};

/// An opaque probe (`struct blkid_struct_probe`).
#[derive(Debug)]
#[repr(C)]
pub struct blkid_struct_probe {
    _private: [u8; 0],
}

/// A probe handle (`blkid_probe`).
pub type blkid_probe = *mut blkid_struct_probe;

extern "C" {
    /// A probe of the device or file at `filename`, opened read-only; NULL on failure
    /// (errno says why). Free with [`blkid_free_probe`].
    pub fn blkid_new_probe_from_filename(filename: *const c_char) -> blkid_probe;
    /// Frees a probe and closes its device.
    pub fn blkid_free_probe(pr: blkid_probe);
    /// Probes for one unambiguous result: 0 found, 1 nothing, -2 ambivalent (several
    /// signatures), -1 error.
    pub fn blkid_do_safeprobe(pr: blkid_probe) -> c_int;
    /// The value of `name` (`"TYPE"`, `"PTTYPE"`, ...) found by the last probe: 0 and a
    /// pointer valid until the probe is freed or probes again, or -1 when there is none.
    pub fn blkid_probe_lookup_value(
        pr: blkid_probe,
        name: *const c_char,
        data: *mut *const c_char,
        len: *mut usize,
    ) -> c_int;
}
