//! NvList conversion under random input: any tree of values goes into a C nvlist and comes
//! back the same, or is refused with an error (a NUL in a name or string); nothing panics.
//! 2 000 cases in `cargo test`; `ci/fuzz` sets `FUZZ_CASES` to run millions. Host only.

use proptest::prelude::*;
use zfs_core::nvlist::{NvList, NvValue};

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

/// Short names from a tiny alphabet, so duplicates (replaced) and NULs (refused) are common.
fn name() -> impl Strategy<Value = String> {
    "[ab\\x00é]{0,3}"
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![4 => ".{0,20}", 1 => "[a\\x00]{0,3}"]
}

fn leaf() -> impl Strategy<Value = NvValue> {
    prop_oneof![
        Just(NvValue::Flag),
        any::<bool>().prop_map(NvValue::Bool),
        any::<u8>().prop_map(NvValue::Byte),
        any::<i8>().prop_map(NvValue::I8),
        any::<u8>().prop_map(NvValue::U8),
        any::<i16>().prop_map(NvValue::I16),
        any::<u16>().prop_map(NvValue::U16),
        any::<i32>().prop_map(NvValue::I32),
        any::<u32>().prop_map(NvValue::U32),
        any::<i64>().prop_map(NvValue::I64),
        any::<u64>().prop_map(NvValue::U64),
        any::<i64>().prop_map(NvValue::Hrtime),
        // NaN is not equal to itself; every other double must round-trip exactly.
        any::<f64>()
            .prop_filter("NaN", |d| !d.is_nan())
            .prop_map(NvValue::Double),
        text().prop_map(NvValue::String),
        prop::collection::vec(any::<bool>(), 0..4).prop_map(NvValue::BoolArray),
        prop::collection::vec(any::<u8>(), 0..4).prop_map(NvValue::ByteArray),
        prop::collection::vec(any::<i8>(), 0..4).prop_map(NvValue::I8Array),
        prop::collection::vec(any::<u8>(), 0..4).prop_map(NvValue::U8Array),
        prop::collection::vec(any::<i16>(), 0..4).prop_map(NvValue::I16Array),
        prop::collection::vec(any::<u16>(), 0..4).prop_map(NvValue::U16Array),
        prop::collection::vec(any::<i32>(), 0..4).prop_map(NvValue::I32Array),
        prop::collection::vec(any::<u32>(), 0..4).prop_map(NvValue::U32Array),
        prop::collection::vec(any::<i64>(), 0..4).prop_map(NvValue::I64Array),
        prop::collection::vec(any::<u64>(), 0..4).prop_map(NvValue::U64Array),
        prop::collection::vec(text(), 0..4).prop_map(NvValue::StringArray),
    ]
}

fn pairs() -> impl Strategy<Value = Vec<(String, NvValue)>> {
    let value = leaf().prop_recursive(3, 24, 4, |inner| {
        let list = prop::collection::vec((name(), inner), 0..4).boxed();
        prop_oneof![
            list.clone().prop_map(NvValue::List),
            prop::collection::vec(list, 0..3).prop_map(NvValue::ListArray),
        ]
    });
    prop::collection::vec((name(), value), 0..6)
}

/// What a unique-name nvlist holds after these inserts: a repeated name replaces the earlier
/// pair and moves to the end. `None` if a name or string has a NUL (refused).
fn model(pairs: &[(String, NvValue)]) -> Option<Vec<(String, NvValue)>> {
    let mut out: Vec<(String, NvValue)> = Vec::new();
    for (n, v) in pairs {
        if n.contains('\0') {
            return None;
        }
        let v = match v {
            NvValue::String(s) if s.contains('\0') => return None,
            NvValue::StringArray(a) if a.iter().any(|s| s.contains('\0')) => return None,
            NvValue::List(l) => NvValue::List(model(l)?),
            NvValue::ListArray(ls) => {
                NvValue::ListArray(ls.iter().map(|l| model(l)).collect::<Option<_>>()?)
            }
            other => other.clone(),
        };
        out.retain(|(m, _)| m != n);
        out.push((n.clone(), v));
    }
    Some(out)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]
    #[test]
    fn any_tree_round_trips_or_is_refused(pairs in pairs()) {
        match (NvList::from_pairs(&pairs), model(&pairs)) {
            (Ok(list), Some(expect)) => {
                prop_assert_eq!(list.to_pairs(), expect.clone());
                prop_assert_eq!(list.len(), expect.len());
                let copy = list.clone();
                prop_assert_eq!(copy.to_pairs(), expect);
            }
            (Err(e), None) => prop_assert_eq!(e.kind(), zfs_core::ErrorKind::InvalidArgument),
            (Ok(list), None) => prop_assert!(false, "accepted a NUL: {:?}", list.to_pairs()),
            (Err(e), Some(_)) => prop_assert!(false, "refused a valid tree: {}", e),
        }
    }
}
