//! Lua values as a channel program sees them: what it returns and what it is given.
//!
//! The kernel turns a program's return value into an nvlist by fixed rules (`zcp.c`): `nil`
//! becomes a name with no value, booleans and strings stay themselves, numbers become `int64`
//! (ZFS's Lua has integers only), and a table becomes a nested list whose keys are strings:
//! `t[1]` arrives as `"1"`, `t[true]` as `"true"`. [`ProgramValue`] is that shape, typed, so a
//! caller reads `value.get("count")?.as_i64()` instead of matching nvpair types.

use std::fmt;

use crate::nvlist::{NvList, NvValue};
use crate::{Error, ErrorKind, Result};

/// One Lua value crossing the kernel boundary.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ProgramValue {
    /// `nil`, and what a program that returns nothing gives.
    #[default]
    Nil,
    /// A Lua boolean.
    Bool(bool),
    /// A Lua number (always an integer in the kernel's Lua).
    Int(i64),
    /// A Lua string.
    String(String),
    /// A Lua table; its keys as the kernel wrote them.
    Table(ProgramTable),
}

impl ProgramValue {
    /// Whether this is `nil`.
    pub fn is_nil(&self) -> bool {
        matches!(self, ProgramValue::Nil)
    }

    /// The boolean, for a `Bool`.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            ProgramValue::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The number, for an `Int`.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            ProgramValue::Int(n) => Some(n),
            _ => None,
        }
    }

    /// The number as an unsigned size or count, for a non-negative `Int`.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_i64().and_then(|n| u64::try_from(n).ok())
    }

    /// The text, for a `String`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ProgramValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The table, for a `Table`.
    pub fn as_table(&self) -> Option<&ProgramTable> {
        match self {
            ProgramValue::Table(t) => Some(t),
            _ => None,
        }
    }

    /// `self[key]` for a table (`None` for any other value, or a missing key).
    pub fn get(&self, key: impl TableKey) -> Option<&ProgramValue> {
        self.as_table()?.get(key)
    }

    /// Reads one nvpair value the kernel produced from a Lua value.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for an nvpair type no Lua value turns into (the list did
    /// not come from a channel program).
    pub fn from_nv(value: &NvValue) -> Result<ProgramValue> {
        Ok(match value {
            NvValue::Flag => ProgramValue::Nil,
            NvValue::Bool(b) => ProgramValue::Bool(*b),
            NvValue::I64(n) => ProgramValue::Int(*n),
            NvValue::String(s) => ProgramValue::String(s.clone()),
            NvValue::List(pairs) => ProgramValue::Table(ProgramTable::from_pairs(pairs)?),
            NvValue::StringArray(items) => {
                ProgramValue::Table(items.iter().map(String::as_str).collect())
            }
            NvValue::I64Array(items) => ProgramValue::Table(items.iter().copied().collect()),
            other => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    "read channel program value",
                    "",
                    format!("no Lua value is stored as {other:?}"),
                ))
            }
        })
    }

    /// The nvpair the kernel turns into this Lua value when it is an argument: `nil` has none
    /// (a missing key already reads as `nil` in Lua). The kernel makes a Lua sequence (keys
    /// `1..=n`, what `ipairs` and `#` see) only of string and integer arrays; every other
    /// table arrives with string keys, so a sequence of strings or of integers goes as an
    /// array.
    pub(crate) fn to_nv(&self) -> Option<NvValue> {
        Some(match self {
            ProgramValue::Nil => return None,
            ProgramValue::Bool(b) => NvValue::Bool(*b),
            ProgramValue::Int(n) => NvValue::I64(*n),
            ProgramValue::String(s) => NvValue::String(s.clone()),
            ProgramValue::Table(t) => match t.as_sequence() {
                Some(items) if !items.is_empty() => {
                    let strings: Option<Vec<String>> = items
                        .iter()
                        .map(|v| v.as_str().map(str::to_owned))
                        .collect();
                    let ints: Option<Vec<i64>> = items.iter().map(|v| v.as_i64()).collect();
                    match (strings, ints) {
                        (Some(s), _) => NvValue::StringArray(s),
                        (_, Some(n)) => NvValue::I64Array(n),
                        _ => NvValue::List(t.to_pairs()),
                    }
                }
                _ => NvValue::List(t.to_pairs()),
            },
        })
    }
}

impl fmt::Display for ProgramValue {
    /// Lua-like text: `nil`, `true`, `42`, `"s"`, `{a = 1, ["1"] = "x"}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProgramValue::Nil => f.write_str("nil"),
            ProgramValue::Bool(b) => write!(f, "{b}"),
            ProgramValue::Int(n) => write!(f, "{n}"),
            ProgramValue::String(s) => write!(f, "{s:?}"),
            ProgramValue::Table(t) => {
                f.write_str("{")?;
                for (i, (k, v)) in t.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "[{k:?}] = {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

impl From<bool> for ProgramValue {
    fn from(b: bool) -> ProgramValue {
        ProgramValue::Bool(b)
    }
}

impl From<i64> for ProgramValue {
    fn from(n: i64) -> ProgramValue {
        ProgramValue::Int(n)
    }
}

impl From<i32> for ProgramValue {
    fn from(n: i32) -> ProgramValue {
        ProgramValue::Int(n.into())
    }
}

impl From<u32> for ProgramValue {
    fn from(n: u32) -> ProgramValue {
        ProgramValue::Int(n.into())
    }
}

impl From<&str> for ProgramValue {
    fn from(s: &str) -> ProgramValue {
        ProgramValue::String(s.to_owned())
    }
}

impl From<String> for ProgramValue {
    fn from(s: String) -> ProgramValue {
        ProgramValue::String(s)
    }
}

impl From<ProgramTable> for ProgramValue {
    fn from(t: ProgramTable) -> ProgramValue {
        ProgramValue::Table(t)
    }
}

impl<T: Into<ProgramValue>> From<Vec<T>> for ProgramValue {
    /// A Lua sequence: keys `1..=n`.
    fn from(items: Vec<T>) -> ProgramValue {
        ProgramValue::Table(items.into_iter().collect())
    }
}

/// A key a table can be read by: a string, or an integer (stored as its decimal text, the way
/// the kernel writes `t[1]`).
pub trait TableKey {
    /// The key as the kernel writes it.
    fn key_text(&self) -> std::borrow::Cow<'_, str>;
}

impl TableKey for &str {
    fn key_text(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(self)
    }
}

impl TableKey for i64 {
    fn key_text(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Owned(self.to_string())
    }
}

/// A Lua table after the kernel's conversion: unique string keys, in the kernel's (hash) order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProgramTable {
    entries: Vec<(String, ProgramValue)>,
}

impl ProgramTable {
    /// An empty table.
    pub fn new() -> ProgramTable {
        ProgramTable::default()
    }

    /// Sets `key` (replacing an entry of the same key).
    pub fn insert(&mut self, key: impl TableKey, value: impl Into<ProgramValue>) {
        let key = key.key_text().into_owned();
        let value = value.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key, value)),
        }
    }

    /// Builder form of [`insert`](Self::insert).
    pub fn with(mut self, key: impl TableKey, value: impl Into<ProgramValue>) -> ProgramTable {
        self.insert(key, value);
        self
    }

    /// `table[key]`.
    pub fn get(&self, key: impl TableKey) -> Option<&ProgramValue> {
        let key = key.key_text();
        self.entries.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The entries, in the order the kernel wrote them (Lua's table order: not sorted).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ProgramValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table has no entries (`{}`).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The values of a Lua sequence (keys exactly `1..=n`) in key order; `None` when any key is
    /// not part of such a sequence. An empty table is an empty sequence.
    pub fn as_sequence(&self) -> Option<Vec<&ProgramValue>> {
        let mut slots: Vec<Option<&ProgramValue>> = vec![None; self.entries.len()];
        for (k, v) in &self.entries {
            let i: usize = k.parse().ok()?;
            // Only the canonical text of 1..=n (no "+1", "01").
            if i == 0 || i > slots.len() || i.to_string() != *k {
                return None;
            }
            slots[i - 1] = Some(v);
        }
        slots.into_iter().collect()
    }

    fn from_pairs(pairs: &[(String, NvValue)]) -> Result<ProgramTable> {
        let entries = pairs
            .iter()
            .map(|(k, v)| Ok((k.clone(), ProgramValue::from_nv(v)?)))
            .collect::<Result<_>>()?;
        Ok(ProgramTable { entries })
    }

    fn to_pairs(&self) -> Vec<(String, NvValue)> {
        self.entries
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.to_nv()?)))
            .collect()
    }

    /// The table as the argument list a program receives as `...`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for a NUL byte in a key or string.
    pub(crate) fn to_nvlist(&self) -> Result<NvList> {
        NvList::from_pairs(&self.to_pairs())
    }
}

impl<V: Into<ProgramValue>> FromIterator<V> for ProgramTable {
    /// A Lua sequence: the items under keys `1..=n`.
    fn from_iter<I: IntoIterator<Item = V>>(items: I) -> ProgramTable {
        ProgramTable {
            entries: items
                .into_iter()
                .enumerate()
                .map(|(i, v)| ((i + 1).to_string(), v.into()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nvpairs_become_lua_values() {
        let pairs = vec![
            ("n".to_owned(), NvValue::I64(-5)),
            ("s".to_owned(), NvValue::String("x".into())),
            ("b".to_owned(), NvValue::Bool(true)),
            ("nil".to_owned(), NvValue::Flag),
            (
                "t".to_owned(),
                NvValue::List(vec![
                    ("2".into(), NvValue::String("b".into())),
                    ("1".into(), NvValue::String("a".into())),
                ]),
            ),
        ];
        let v = ProgramValue::from_nv(&NvValue::List(pairs)).unwrap();
        assert_eq!(v.get("n").and_then(ProgramValue::as_i64), Some(-5));
        assert_eq!(v.get("n").and_then(ProgramValue::as_u64), None);
        assert_eq!(v.get("s").and_then(ProgramValue::as_str), Some("x"));
        assert_eq!(v.get("b").and_then(ProgramValue::as_bool), Some(true));
        assert!(v.get("nil").unwrap().is_nil());
        assert!(v.get("missing").is_none());
        let t = v.get("t").and_then(ProgramValue::as_table).unwrap();
        assert_eq!(t.get(1).and_then(ProgramValue::as_str), Some("a"));
        let seq: Vec<_> = t.as_sequence().unwrap();
        assert_eq!(seq, [&"a".into(), &"b".into()]);
        assert_eq!(
            ProgramValue::from_nv(&NvValue::U64(1)).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }

    #[test]
    fn sequences_are_exactly_one_to_n() {
        let seq: ProgramTable = ["a", "b", "c"].into_iter().collect();
        assert_eq!(seq.as_sequence().unwrap().len(), 3);
        assert_eq!(ProgramTable::new().as_sequence(), Some(vec![]));
        for keys in [&["1", "3"][..], &["0"], &["01"], &["+1"], &["x"], &["-1"]] {
            let mut t = ProgramTable::new();
            for k in keys {
                t.insert(*k, true);
            }
            assert_eq!(t.as_sequence(), None, "{keys:?}");
        }
    }

    #[test]
    fn tables_become_argument_lists() {
        let mut t = ProgramTable::new()
            .with("fs", "tank/a")
            .with("n", 3)
            .with("skip", ProgramValue::Nil)
            .with("names", vec!["x", "y"]);
        t.insert("n", 4);
        let nv = t.to_nvlist().unwrap();
        assert_eq!(nv.get("n"), Some(NvValue::I64(4)));
        assert!(!nv.contains("skip"), "nil is left out");
        assert_eq!(
            nv.get("names"),
            Some(NvValue::StringArray(vec!["x".into(), "y".into()])),
            "a sequence of strings goes as the array the kernel makes a Lua sequence of"
        );
        let back = ProgramValue::from_nv(&NvValue::List(nv.to_pairs())).unwrap();
        assert_eq!(
            back.get("names")
                .and_then(ProgramValue::as_table)
                .unwrap()
                .as_sequence()
                .unwrap(),
            [&"x".into(), &"y".into()]
        );
        assert!(ProgramTable::new().with("a\0b", 1).to_nvlist().is_err());
        assert_eq!(
            ProgramValue::from(ProgramTable::new().with("k", vec![1i64, 2])).to_string(),
            r#"{["k"] = {["1"] = 1, ["2"] = 2}}"#
        );
    }
}
