//! Safe nvlists: the name/value lists that libzfs and the ZFS ioctls speak.
//!
//! [`NvList`] owns an `nvlist_t` and frees it on drop; [`NvListRef`] is a borrowed view (a
//! nested list, or one owned by a libzfs handle), reached as `&NvListRef` with its owner's
//! lifetime. Build lists from Rust with the `insert_*` methods or from an [`NvValue`] tree,
//! read them with [`NvListRef::get`], [`NvListRef::iter`] or [`NvListRef::to_pairs`].
//!
//! ```
//! use zfs_core::nvlist::{NvList, NvValue};
//! let mut props = NvList::new();
//! props.insert_str("compression", "zstd").unwrap();
//! props.insert_u64("quota", 1 << 30).unwrap();
//! assert_eq!(props.get_str("compression"), Some("zstd".to_owned()));
//! assert_eq!(props.get("quota"), Some(NvValue::U64(1 << 30)));
//! ```

mod read;
mod value;

use std::ffi::{c_char, CString};
use std::fmt;
use std::marker::{PhantomData, PhantomPinned};
use std::ops::Deref;
use std::ptr::{self, NonNull};

use nvpair_sys as nv;

pub use read::{NvPair, NvPairs};
pub use value::NvValue;

use crate::{Error, ErrorKind, Result};

/// An owned nvlist (unique names), freed on drop.
///
/// `Send`: the list is plain heap memory that libnvpair does not share. Not `Sync`: nvpair has
/// no locking, and reads through `&NvListRef` share iteration state in C for some calls.
pub struct NvList {
    ptr: NonNull<nv::nvlist_t>,
}

// SAFETY: an nvlist is self-contained heap memory owned by this value alone; moving it to
// another thread moves that ownership.
unsafe impl Send for NvList {}

/// A borrowed nvlist. Only ever used as `&NvListRef`, which cannot outlive its owner.
#[repr(C)]
pub struct NvListRef {
    _opaque: [u8; 0],
    _not_send_sync_unpin: PhantomData<(*mut u8, PhantomPinned)>,
}

impl NvList {
    /// An empty list whose names are unique (a second insert replaces the first).
    pub fn new() -> NvList {
        let mut ptr = ptr::null_mut();
        // SAFETY: nvlist_alloc writes a new list to `ptr` or fails with ENOMEM.
        let rc = unsafe { nv::nvlist_alloc(&mut ptr, nv::NV_UNIQUE_NAME, 0) };
        assert!(
            rc == 0 && !ptr.is_null(),
            "nvlist_alloc failed: out of memory"
        );
        NvList {
            ptr: NonNull::new(ptr).expect("checked non-null"),
        }
    }

    /// Takes ownership of a list allocated by libnvpair or libzfs.
    ///
    /// # Safety
    /// `ptr` must be a live, non-null `nvlist_t` that nothing else frees or uses afterwards.
    pub unsafe fn from_raw(ptr: *mut nv::nvlist_t) -> NvList {
        NvList {
            ptr: NonNull::new(ptr).expect("NvList::from_raw: null pointer"),
        }
    }

    /// Gives up ownership; the caller must free the list with `nvlist_free`.
    pub fn into_raw(self) -> *mut nv::nvlist_t {
        let ptr = self.ptr.as_ptr();
        std::mem::forget(self);
        ptr
    }

    /// Builds a list from pairs, e.g. the contents of an [`NvValue::List`].
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for a name or string with a NUL byte.
    pub fn from_pairs<'p>(
        pairs: impl IntoIterator<Item = &'p (String, NvValue)>,
    ) -> Result<NvList> {
        let mut list = NvList::new();
        for (name, value) in pairs {
            list.insert(name, value)?;
        }
        Ok(list)
    }

    /// Adds (or replaces) `name` with `value`, of the matching nvpair type.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for a name or string with a NUL byte.
    pub fn insert(&mut self, name: &str, value: &NvValue) -> Result<()> {
        let n = cstring(name)?;
        let l = self.ptr.as_ptr();
        let n = n.as_ptr();
        macro_rules! add {
            ($f:path, $($v:expr),+) => {
                // SAFETY: the list is live and owned by us; `n` is NUL-terminated; nvpair
                // copies the value.
                unsafe { $f(l, n, $($v),+) }
            };
        }
        macro_rules! add_array {
            ($f:path, $v:expr) => {{
                let mut v = $v.clone();
                // SAFETY: as above; `v` holds `len` elements for the duration of the call.
                unsafe { $f(l, n, v.as_mut_ptr(), v.len() as _) }
            }};
        }
        let rc = match value {
            // SAFETY: live list, NUL-terminated name.
            NvValue::Flag => unsafe { nv::nvlist_add_boolean(l, n) },
            NvValue::Bool(b) => add!(nv::nvlist_add_boolean_value, *b as nv::boolean_t::Type),
            NvValue::Byte(v) => add!(nv::nvlist_add_byte, *v),
            NvValue::I8(v) => add!(nv::nvlist_add_int8, *v),
            NvValue::U8(v) => add!(nv::nvlist_add_uint8, *v),
            NvValue::I16(v) => add!(nv::nvlist_add_int16, *v),
            NvValue::U16(v) => add!(nv::nvlist_add_uint16, *v),
            NvValue::I32(v) => add!(nv::nvlist_add_int32, *v),
            NvValue::U32(v) => add!(nv::nvlist_add_uint32, *v),
            NvValue::I64(v) => add!(nv::nvlist_add_int64, *v),
            NvValue::U64(v) => add!(nv::nvlist_add_uint64, *v),
            NvValue::Hrtime(v) => add!(nv::nvlist_add_hrtime, *v),
            NvValue::Double(v) => add!(nv::nvlist_add_double, *v),
            NvValue::String(s) => {
                let s = cstring(s)?;
                add!(nv::nvlist_add_string, s.as_ptr())
            }
            NvValue::List(pairs) => {
                let child = NvList::from_pairs(pairs)?;
                add!(nv::nvlist_add_nvlist, child.ptr.as_ptr())
            }
            NvValue::BoolArray(v) => add_array!(
                nv::nvlist_add_boolean_array,
                v.iter()
                    .map(|&b| b as nv::boolean_t::Type)
                    .collect::<Vec<_>>()
            ),
            NvValue::ByteArray(v) => add_array!(nv::nvlist_add_byte_array, v),
            NvValue::I8Array(v) => add_array!(nv::nvlist_add_int8_array, v),
            NvValue::U8Array(v) => add_array!(nv::nvlist_add_uint8_array, v),
            NvValue::I16Array(v) => add_array!(nv::nvlist_add_int16_array, v),
            NvValue::U16Array(v) => add_array!(nv::nvlist_add_uint16_array, v),
            NvValue::I32Array(v) => add_array!(nv::nvlist_add_int32_array, v),
            NvValue::U32Array(v) => add_array!(nv::nvlist_add_uint32_array, v),
            NvValue::I64Array(v) => add_array!(nv::nvlist_add_int64_array, v),
            NvValue::U64Array(v) => add_array!(nv::nvlist_add_uint64_array, v),
            NvValue::StringArray(v) => {
                let owned = v.iter().map(|s| cstring(s)).collect::<Result<Vec<_>>>()?;
                let ptrs: Vec<*mut c_char> = owned.iter().map(|s| s.as_ptr().cast_mut()).collect();
                // SAFETY: `ptrs` points at NUL-terminated strings kept alive by `owned`;
                // nvpair copies them and does not write through the pointers.
                unsafe { nv::nvlist_add_string_array(l, n, ptrs.as_ptr(), ptrs.len() as _) }
            }
            NvValue::ListArray(v) => {
                let lists = v
                    .iter()
                    .map(NvList::from_pairs)
                    .collect::<Result<Vec<_>>>()?;
                let mut ptrs: Vec<*mut nv::nvlist_t> =
                    lists.iter().map(|c| c.ptr.as_ptr()).collect();
                add!(
                    nv::nvlist_add_nvlist_array,
                    ptrs.as_mut_ptr(),
                    ptrs.len() as _
                )
            }
        };
        if rc != 0 {
            return Err(Error::from_errno("add nvpair", name, rc));
        }
        Ok(())
    }

    /// Adds a string.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for a NUL byte in `name` or `value`.
    pub fn insert_str(&mut self, name: &str, value: &str) -> Result<()> {
        self.insert(name, &NvValue::String(value.to_owned()))
    }

    /// Adds an unsigned 64-bit number.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for a NUL byte in `name`.
    pub fn insert_u64(&mut self, name: &str, value: u64) -> Result<()> {
        self.insert(name, &NvValue::U64(value))
    }

    /// Adds a boolean value (`DATA_TYPE_BOOLEAN_VALUE`).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for a NUL byte in `name`.
    pub fn insert_bool(&mut self, name: &str, value: bool) -> Result<()> {
        self.insert(name, &NvValue::Bool(value))
    }

    /// Adds a valueless flag (`DATA_TYPE_BOOLEAN`), as ZFS ioctls expect for options.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for a NUL byte in `name`.
    pub fn insert_flag(&mut self, name: &str) -> Result<()> {
        self.insert(name, &NvValue::Flag)
    }

    /// Adds a string whose name and value are bytes (neither need be UTF-8).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for a NUL byte in `name` or `value`.
    pub fn insert_str_bytes(&mut self, name: &[u8], value: &[u8]) -> Result<()> {
        let (n, v) = (cstring_bytes(name)?, cstring_bytes(value)?);
        // SAFETY: live list we own; NUL-terminated strings, which nvpair copies.
        let rc = unsafe { nv::nvlist_add_string(self.ptr.as_ptr(), n.as_ptr(), v.as_ptr()) };
        added(name, rc)
    }

    /// Adds a valueless flag whose name is bytes (need not be UTF-8).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for a NUL byte in `name`.
    pub fn insert_flag_bytes(&mut self, name: &[u8]) -> Result<()> {
        let n = cstring_bytes(name)?;
        // SAFETY: live list we own; NUL-terminated name, which nvpair copies.
        let rc = unsafe { nv::nvlist_add_boolean(self.ptr.as_ptr(), n.as_ptr()) };
        added(name, rc)
    }

    /// Adds a copy of `list` as a nested list.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for a NUL byte in `name`.
    pub fn insert_list(&mut self, name: &str, list: &NvListRef) -> Result<()> {
        let n = cstring(name)?;
        // SAFETY: both lists are live; nvpair copies the nested one.
        let rc = unsafe { nv::nvlist_add_nvlist(self.ptr.as_ptr(), n.as_ptr(), list.as_ptr()) };
        if rc != 0 {
            return Err(Error::from_errno("add nvpair", name, rc));
        }
        Ok(())
    }

    /// Adds copies of `lists` as an nvlist array.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for a NUL byte in `name`.
    pub fn insert_list_array(&mut self, name: &str, lists: &[&NvListRef]) -> Result<()> {
        let n = cstring(name)?;
        let mut ptrs: Vec<*mut nv::nvlist_t> = lists.iter().map(|l| l.as_ptr()).collect();
        // SAFETY: every list is live; nvpair copies them.
        let rc = unsafe {
            nv::nvlist_add_nvlist_array(
                self.ptr.as_ptr(),
                n.as_ptr(),
                ptrs.as_mut_ptr(),
                ptrs.len() as _,
            )
        };
        if rc != 0 {
            return Err(Error::from_errno("add nvpair", name, rc));
        }
        Ok(())
    }

    /// Removes every pair called `name`; returns whether there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        let Ok(n) = CString::new(name) else {
            return false;
        };
        // SAFETY: live list we own, NUL-terminated name.
        unsafe { nv::nvlist_remove_all(self.ptr.as_ptr(), n.as_ptr()) == 0 }
    }
}

impl Default for NvList {
    fn default() -> NvList {
        NvList::new()
    }
}

impl Drop for NvList {
    fn drop(&mut self) {
        // SAFETY: we own the list and free it exactly once.
        unsafe { nv::nvlist_free(self.ptr.as_ptr()) }
    }
}

impl Deref for NvList {
    type Target = NvListRef;
    fn deref(&self) -> &NvListRef {
        // SAFETY: the list is live for as long as `self` is borrowed.
        unsafe { NvListRef::from_ptr(self.ptr.as_ptr()) }
    }
}

impl Clone for NvList {
    fn clone(&self) -> NvList {
        self.deref().to_owned()
    }
}

impl NvListRef {
    /// Borrows a list owned by someone else.
    ///
    /// # Safety
    /// `ptr` must be a live, non-null `nvlist_t` that outlives `'a` and is not freed or changed
    /// while borrowed.
    pub unsafe fn from_ptr<'a>(ptr: *const nv::nvlist_t) -> &'a NvListRef {
        assert!(!ptr.is_null(), "NvListRef::from_ptr: null pointer");
        // SAFETY: the caller guarantees a live list; NvListRef is an opaque zero-sized view.
        unsafe { &*ptr.cast::<NvListRef>() }
    }

    /// The raw pointer, for calls into libnvpair and libzfs. libnvpair's read functions take
    /// `*mut` but do not write; do not modify a list through this pointer.
    pub fn as_ptr(&self) -> *mut nv::nvlist_t {
        (self as *const NvListRef).cast_mut().cast()
    }

    /// A deep copy that you own.
    pub fn to_owned(&self) -> NvList {
        let mut out = ptr::null_mut();
        // SAFETY: the list is live; nvlist_dup writes a fresh copy to `out`.
        let rc = unsafe { nv::nvlist_dup(self.as_ptr(), &mut out, 0) };
        assert!(
            rc == 0 && !out.is_null(),
            "nvlist_dup failed: out of memory"
        );
        // SAFETY: `out` is a fresh list nobody else owns.
        unsafe { NvList::from_raw(out) }
    }

    /// The pairs in insertion order.
    pub fn iter(&self) -> NvPairs<'_> {
        NvPairs::new(self)
    }

    /// Whether the list has no pairs.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The number of pairs.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether a pair called `name` exists.
    pub fn contains(&self, name: &str) -> bool {
        self.pair(name).is_some()
    }

    /// The pair called `name`.
    pub fn pair(&self, name: &str) -> Option<NvPair<'_>> {
        self.iter().find(|p| p.name_bytes() == name.as_bytes())
    }

    /// The value called `name`, converted to Rust.
    pub fn get(&self, name: &str) -> Option<NvValue> {
        self.pair(name).map(|p| p.value())
    }

    /// The string called `name`, if it is a string.
    pub fn get_str(&self, name: &str) -> Option<String> {
        match self.get(name)? {
            NvValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The unsigned number called `name`, if it is one.
    pub fn get_u64(&self, name: &str) -> Option<u64> {
        self.get(name)?.as_u64()
    }

    /// The array of unsigned numbers called `name` (statistics such as `vdev_stats`), if it
    /// is one.
    pub fn get_u64_array(&self, name: &str) -> Option<Vec<u64>> {
        match self.get(name)? {
            NvValue::U64Array(v) => Some(v),
            _ => None,
        }
    }

    /// The nested list called `name`, borrowed.
    pub fn get_list(&self, name: &str) -> Option<&NvListRef> {
        self.pair(name)?.as_list()
    }

    /// The list array called `name`, borrowed.
    pub fn get_list_array(&self, name: &str) -> Option<Vec<&NvListRef>> {
        self.pair(name)?.as_list_array()
    }

    /// The whole list as a Rust value tree, pairs in order.
    pub fn to_pairs(&self) -> Vec<(String, NvValue)> {
        self.iter()
            .map(|p| (p.name().into_owned(), p.value()))
            .collect()
    }
}

impl fmt::Debug for NvListRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for pair in self.iter() {
            map.entry(&pair.name(), &pair.value());
        }
        map.finish()
    }
}

impl fmt::Debug for NvList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.deref(), f)
    }
}

impl PartialEq for NvListRef {
    fn eq(&self, other: &NvListRef) -> bool {
        self.to_pairs() == other.to_pairs()
    }
}

impl PartialEq for NvList {
    fn eq(&self, other: &NvList) -> bool {
        self.deref() == other.deref()
    }
}

/// The result of an `nvlist_add_*` of the pair called `name` (0 or an errno).
fn added(name: &[u8], rc: i32) -> Result<()> {
    match rc {
        0 => Ok(()),
        _ => Err(Error::from_errno(
            "add nvpair",
            String::from_utf8_lossy(name),
            rc,
        )),
    }
}

fn cstring_bytes(s: &[u8]) -> Result<CString> {
    CString::new(s).map_err(|_| {
        Error::new(
            ErrorKind::InvalidArgument,
            "pass",
            String::from_utf8_lossy(s).replace('\0', "\\0"),
            "string contains a NUL byte",
        )
    })
}

pub(crate) fn cstring(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| {
        Error::new(
            ErrorKind::InvalidArgument,
            "pass",
            s.replace('\0', "\\0"),
            "string contains a NUL byte",
        )
    })
}

#[cfg(test)]
mod tests;
