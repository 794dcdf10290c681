//! libzfs_core's batch calls: one atomic ioctl for many items, with an error list naming each
//! item that failed.

use std::ptr;

use libzfs_sys as sys;

use crate::nvlist::{NvList, NvValue};
use crate::{Error, Result};

/// Runs `call(errlist_out)`; on failure, turns the error list (`name -> errno`) into
/// [`Error::failures`].
pub(crate) fn run(
    operation: &'static str,
    object: &str,
    call: impl FnOnce(*mut *mut sys::nvlist_t) -> i32,
) -> Result<()> {
    let mut errlist: *mut sys::nvlist_t = ptr::null_mut();
    let rc = call(&mut errlist);
    // SAFETY: libzfs_core hands us ownership of the error list, if any.
    let errors = (!errlist.is_null()).then(|| unsafe { NvList::from_raw(errlist) });
    if rc == 0 {
        return Ok(());
    }
    // Each entry is `name -> errno` (an int32).
    let failures: Vec<(String, i32)> = errors
        .iter()
        .flat_map(|l| l.to_pairs())
        .filter_map(|(name, v)| {
            let errno = match v {
                NvValue::I32(x) => x,
                other => i32::try_from(other.as_u64()?).ok()?,
            };
            Some((name, errno))
        })
        .collect();
    Err(Error::from_batch(operation, object, rc, failures))
}
