//! Reading nvpairs: iteration and conversion of one pair's value to [`NvValue`].

use std::ffi::{c_char, c_uint, CStr};
use std::marker::PhantomData;
use std::ptr;

use nvpair_sys as nv;

use super::{NvListRef, NvValue};

/// One name/value pair, borrowed from its list.
#[derive(Clone, Copy)]
pub struct NvPair<'a> {
    ptr: *mut nv::nvpair_t,
    _list: PhantomData<&'a NvListRef>,
}

impl std::fmt::Debug for NvPair<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("NvPair")
            .field(&self.name())
            .field(&self.value())
            .finish()
    }
}

/// Iterator over a list's pairs, in insertion order.
#[derive(Debug)]
pub struct NvPairs<'a> {
    list: &'a NvListRef,
    prev: *mut nv::nvpair_t,
}

impl<'a> NvPairs<'a> {
    pub(super) fn new(list: &'a NvListRef) -> NvPairs<'a> {
        NvPairs {
            list,
            prev: ptr::null_mut(),
        }
    }
}

impl<'a> Iterator for NvPairs<'a> {
    type Item = NvPair<'a>;
    fn next(&mut self) -> Option<NvPair<'a>> {
        // SAFETY: the list is live for 'a; `prev` is null or a pair of this list.
        let next = unsafe { nv::nvlist_next_nvpair(self.list.as_ptr(), self.prev) };
        if next.is_null() {
            return None;
        }
        self.prev = next;
        Some(NvPair {
            ptr: next,
            _list: PhantomData,
        })
    }
}

fn text(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: nvpair strings are NUL-terminated and live as long as their list.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// Reads a scalar with `$f(pair, &mut out)`.
macro_rules! scalar {
    ($pair:expr, $f:path, $t:ty) => {{
        let mut v: $t = Default::default();
        // SAFETY: the pair is live and of the type `$f` reads (checked by the caller's match).
        unsafe { $f($pair, &mut v) };
        v
    }};
}

/// Reads an array with `$f(pair, &mut ptr, &mut len)` into a Vec.
macro_rules! array {
    ($pair:expr, $f:path, $t:ty) => {{
        let mut p: *mut $t = ptr::null_mut();
        let mut n: c_uint = 0;
        // SAFETY: the pair is live and of the array type `$f` reads.
        unsafe { $f($pair, &mut p, &mut n) };
        if p.is_null() || n == 0 {
            Vec::new()
        } else {
            // SAFETY: nvpair returns `n` contiguous elements owned by the list.
            unsafe { std::slice::from_raw_parts(p, n as usize) }.to_vec()
        }
    }};
}

impl<'a> NvPair<'a> {
    /// The pair's name, exactly as stored (names need not be UTF-8: hold tags, for one).
    pub fn name_bytes(&self) -> &'a [u8] {
        // SAFETY: the pair is live for 'a and its name is a NUL-terminated string it owns.
        unsafe { CStr::from_ptr(nv::nvpair_name(self.ptr)) }.to_bytes()
    }

    /// The pair's name as text; bytes that are not UTF-8 show as U+FFFD, so two such names
    /// can read alike: compare [`NvPair::name_bytes`] where that matters.
    pub fn name(&self) -> std::borrow::Cow<'a, str> {
        String::from_utf8_lossy(self.name_bytes())
    }

    /// The pair's value, converted to a Rust value (nested lists included).
    pub fn value(&self) -> NvValue {
        use nv::data_type_t as T;
        let p = self.ptr;
        // SAFETY: the pair is live.
        match unsafe { nv::nvpair_type(p) } {
            T::DATA_TYPE_BOOLEAN => NvValue::Flag,
            T::DATA_TYPE_BOOLEAN_VALUE => {
                NvValue::Bool(scalar!(p, nv::nvpair_value_boolean_value, nv::boolean_t::Type) != 0)
            }
            T::DATA_TYPE_BYTE => NvValue::Byte(scalar!(p, nv::nvpair_value_byte, u8)),
            T::DATA_TYPE_INT8 => NvValue::I8(scalar!(p, nv::nvpair_value_int8, i8)),
            T::DATA_TYPE_UINT8 => NvValue::U8(scalar!(p, nv::nvpair_value_uint8, u8)),
            T::DATA_TYPE_INT16 => NvValue::I16(scalar!(p, nv::nvpair_value_int16, i16)),
            T::DATA_TYPE_UINT16 => NvValue::U16(scalar!(p, nv::nvpair_value_uint16, u16)),
            T::DATA_TYPE_INT32 => NvValue::I32(scalar!(p, nv::nvpair_value_int32, i32)),
            T::DATA_TYPE_UINT32 => NvValue::U32(scalar!(p, nv::nvpair_value_uint32, u32)),
            T::DATA_TYPE_INT64 => NvValue::I64(scalar!(p, nv::nvpair_value_int64, i64)),
            T::DATA_TYPE_UINT64 => NvValue::U64(scalar!(p, nv::nvpair_value_uint64, u64)),
            T::DATA_TYPE_HRTIME => NvValue::Hrtime(scalar!(p, nv::nvpair_value_hrtime, i64)),
            T::DATA_TYPE_DOUBLE => NvValue::Double(scalar!(p, nv::nvpair_value_double, f64)),
            T::DATA_TYPE_STRING => {
                let mut s: *mut c_char = ptr::null_mut();
                // SAFETY: a string pair; `s` points into the list afterwards.
                unsafe { nv::nvpair_value_string(p, &mut s) };
                NvValue::String(text(s))
            }
            T::DATA_TYPE_NVLIST => {
                let mut l: *mut nv::nvlist_t = ptr::null_mut();
                // SAFETY: an nvlist pair; `l` is owned by the outer list.
                unsafe { nv::nvpair_value_nvlist(p, &mut l) };
                // SAFETY: `l` is a live list borrowed for 'a.
                NvValue::List(unsafe { NvListRef::from_ptr(l) }.to_pairs())
            }
            T::DATA_TYPE_BOOLEAN_ARRAY => NvValue::BoolArray(
                array!(p, nv::nvpair_value_boolean_array, nv::boolean_t::Type)
                    .into_iter()
                    .map(|b| b != 0)
                    .collect(),
            ),
            T::DATA_TYPE_BYTE_ARRAY => {
                NvValue::ByteArray(array!(p, nv::nvpair_value_byte_array, u8))
            }
            T::DATA_TYPE_INT8_ARRAY => NvValue::I8Array(array!(p, nv::nvpair_value_int8_array, i8)),
            T::DATA_TYPE_UINT8_ARRAY => {
                NvValue::U8Array(array!(p, nv::nvpair_value_uint8_array, u8))
            }
            T::DATA_TYPE_INT16_ARRAY => {
                NvValue::I16Array(array!(p, nv::nvpair_value_int16_array, i16))
            }
            T::DATA_TYPE_UINT16_ARRAY => {
                NvValue::U16Array(array!(p, nv::nvpair_value_uint16_array, u16))
            }
            T::DATA_TYPE_INT32_ARRAY => {
                NvValue::I32Array(array!(p, nv::nvpair_value_int32_array, i32))
            }
            T::DATA_TYPE_UINT32_ARRAY => {
                NvValue::U32Array(array!(p, nv::nvpair_value_uint32_array, u32))
            }
            T::DATA_TYPE_INT64_ARRAY => {
                NvValue::I64Array(array!(p, nv::nvpair_value_int64_array, i64))
            }
            T::DATA_TYPE_UINT64_ARRAY => {
                NvValue::U64Array(array!(p, nv::nvpair_value_uint64_array, u64))
            }
            T::DATA_TYPE_STRING_ARRAY => NvValue::StringArray(
                array!(p, nv::nvpair_value_string_array, *mut c_char)
                    .into_iter()
                    .map(|s| text(s))
                    .collect(),
            ),
            T::DATA_TYPE_NVLIST_ARRAY => NvValue::ListArray(
                array!(p, nv::nvpair_value_nvlist_array, *mut nv::nvlist_t)
                    .into_iter()
                    // SAFETY: each element is a live list owned by the outer list.
                    .map(|l| unsafe { NvListRef::from_ptr(l) }.to_pairs())
                    .collect(),
            ),
            other => NvValue::String(format!("<unsupported nvpair type {other}>")),
        }
    }

    /// For nested-list pairs: the list, borrowed without copying.
    pub fn as_list(&self) -> Option<&'a NvListRef> {
        let mut l: *mut nv::nvlist_t = ptr::null_mut();
        // SAFETY: the pair is live; the call fails (non-zero) unless it holds an nvlist.
        let rc = unsafe { nv::nvpair_value_nvlist(self.ptr, &mut l) };
        // SAFETY: on success `l` is a live list owned by the outer list, borrowed for 'a.
        (rc == 0 && !l.is_null()).then(|| unsafe { NvListRef::from_ptr(l) })
    }

    /// For list-array pairs: the lists, borrowed without copying.
    pub fn as_list_array(&self) -> Option<Vec<&'a NvListRef>> {
        let mut p: *mut *mut nv::nvlist_t = ptr::null_mut();
        let mut n: c_uint = 0;
        // SAFETY: the pair is live; the call fails unless it holds an nvlist array.
        let rc = unsafe { nv::nvpair_value_nvlist_array(self.ptr, &mut p, &mut n) };
        if rc != 0 {
            return None;
        }
        if p.is_null() {
            return Some(Vec::new());
        }
        // SAFETY: `n` live list pointers owned by the outer list.
        let lists = unsafe { std::slice::from_raw_parts(p, n as usize) };
        // SAFETY: each is a live list borrowed for 'a.
        Some(
            lists
                .iter()
                .map(|&l| unsafe { NvListRef::from_ptr(l) })
                .collect(),
        )
    }
}
