//! [`NvValue`]: an nvlist's contents as a plain Rust value tree.

/// One nvpair value. Every nvpair data type has a variant, so a list read from ZFS converts to
/// a tree and back without losing types. Strings that are not UTF-8 are converted lossily.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum NvValue {
    /// `DATA_TYPE_BOOLEAN`: a name with no value, present or absent (ZFS uses these as flags).
    Flag,
    /// `DATA_TYPE_BOOLEAN_VALUE`.
    Bool(bool),
    /// `DATA_TYPE_BYTE`.
    Byte(u8),
    /// `DATA_TYPE_INT8`.
    I8(i8),
    /// `DATA_TYPE_UINT8`.
    U8(u8),
    /// `DATA_TYPE_INT16`.
    I16(i16),
    /// `DATA_TYPE_UINT16`.
    U16(u16),
    /// `DATA_TYPE_INT32`.
    I32(i32),
    /// `DATA_TYPE_UINT32`.
    U32(u32),
    /// `DATA_TYPE_INT64`.
    I64(i64),
    /// `DATA_TYPE_UINT64`: most ZFS numbers (sizes, GUIDs, property values).
    U64(u64),
    /// `DATA_TYPE_HRTIME`: nanoseconds.
    Hrtime(i64),
    /// `DATA_TYPE_DOUBLE`.
    Double(f64),
    /// `DATA_TYPE_STRING`.
    String(String),
    /// `DATA_TYPE_NVLIST`: a nested list, pairs in order.
    List(Vec<(String, NvValue)>),
    /// `DATA_TYPE_BOOLEAN_ARRAY`.
    BoolArray(Vec<bool>),
    /// `DATA_TYPE_BYTE_ARRAY`.
    ByteArray(Vec<u8>),
    /// `DATA_TYPE_INT8_ARRAY`.
    I8Array(Vec<i8>),
    /// `DATA_TYPE_UINT8_ARRAY`.
    U8Array(Vec<u8>),
    /// `DATA_TYPE_INT16_ARRAY`.
    I16Array(Vec<i16>),
    /// `DATA_TYPE_UINT16_ARRAY`.
    U16Array(Vec<u16>),
    /// `DATA_TYPE_INT32_ARRAY`.
    I32Array(Vec<i32>),
    /// `DATA_TYPE_UINT32_ARRAY`.
    U32Array(Vec<u32>),
    /// `DATA_TYPE_INT64_ARRAY`.
    I64Array(Vec<i64>),
    /// `DATA_TYPE_UINT64_ARRAY`: e.g. a vdev's statistics.
    U64Array(Vec<u64>),
    /// `DATA_TYPE_STRING_ARRAY`.
    StringArray(Vec<String>),
    /// `DATA_TYPE_NVLIST_ARRAY`: e.g. a vdev's children.
    ListArray(Vec<Vec<(String, NvValue)>>),
}

impl NvValue {
    /// The string, for a `String` value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            NvValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, for any unsigned integer value.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            NvValue::U64(v) => Some(v),
            NvValue::U32(v) => Some(v.into()),
            NvValue::U16(v) => Some(v.into()),
            NvValue::U8(v) | NvValue::Byte(v) => Some(v.into()),
            _ => None,
        }
    }

    /// The pairs, for a nested list.
    pub fn as_list(&self) -> Option<&[(String, NvValue)]> {
        match self {
            NvValue::List(pairs) => Some(pairs),
            _ => None,
        }
    }
}

impl From<&str> for NvValue {
    fn from(v: &str) -> NvValue {
        NvValue::String(v.to_owned())
    }
}

impl From<String> for NvValue {
    fn from(v: String) -> NvValue {
        NvValue::String(v)
    }
}

impl From<u64> for NvValue {
    fn from(v: u64) -> NvValue {
        NvValue::U64(v)
    }
}

impl From<i64> for NvValue {
    fn from(v: i64) -> NvValue {
        NvValue::I64(v)
    }
}

impl From<bool> for NvValue {
    fn from(v: bool) -> NvValue {
        NvValue::Bool(v)
    }
}

impl From<Vec<String>> for NvValue {
    fn from(v: Vec<String>) -> NvValue {
        NvValue::StringArray(v)
    }
}
