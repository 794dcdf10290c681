use super::*;

fn sample() -> Vec<(String, NvValue)> {
    let p = |n: &str, v: NvValue| (n.to_owned(), v);
    vec![
        p("flag", NvValue::Flag),
        p("bool", NvValue::Bool(true)),
        p("byte", NvValue::Byte(7)),
        p("i8", NvValue::I8(-8)),
        p("u8", NvValue::U8(8)),
        p("i16", NvValue::I16(-16)),
        p("u16", NvValue::U16(16)),
        p("i32", NvValue::I32(-32)),
        p("u32", NvValue::U32(32)),
        p("i64", NvValue::I64(i64::MIN)),
        p("u64", NvValue::U64(u64::MAX)),
        p("hrtime", NvValue::Hrtime(123_456_789)),
        p("double", NvValue::Double(0.5)),
        p("string", NvValue::String("zstd".into())),
        p("empty string", NvValue::String(String::new())),
        p(
            "list",
            NvValue::List(vec![p("type", "file".into()), p("path", "/tmp/x".into())]),
        ),
        p("bools", NvValue::BoolArray(vec![true, false])),
        p("bytes", NvValue::ByteArray(vec![1, 2, 3])),
        p("i8s", NvValue::I8Array(vec![-1])),
        p("u8s", NvValue::U8Array(vec![1])),
        p("i16s", NvValue::I16Array(vec![-2])),
        p("u16s", NvValue::U16Array(vec![2])),
        p("i32s", NvValue::I32Array(vec![-3])),
        p("u32s", NvValue::U32Array(vec![3])),
        p("i64s", NvValue::I64Array(vec![-4, 4])),
        p("u64s", NvValue::U64Array(vec![u64::MAX, 0])),
        p(
            "strings",
            NvValue::StringArray(vec!["a".into(), "b c".into()]),
        ),
        p("empty strings", NvValue::StringArray(vec![])),
        p(
            "lists",
            NvValue::ListArray(vec![vec![p("a", NvValue::U64(1))], vec![]]),
        ),
    ]
}

#[test]
fn every_type_round_trips() {
    let pairs = sample();
    let list = NvList::from_pairs(&pairs).unwrap();
    assert_eq!(list.to_pairs(), pairs);
    assert_eq!(list.len(), pairs.len());
    let copy = list.clone();
    assert_eq!(copy, list);
    assert_eq!(copy.to_pairs(), pairs);
}

#[test]
fn lookups() {
    let list = NvList::from_pairs(&sample()).unwrap();
    assert_eq!(list.get_str("string").as_deref(), Some("zstd"));
    assert_eq!(list.get_u64("u64"), Some(u64::MAX));
    assert_eq!(list.get_u64("string"), None);
    assert_eq!(list.get_u64_array("u64s"), Some(vec![u64::MAX, 0]));
    assert_eq!(list.get_u64_array("u64"), None);
    assert_eq!(list.get_u64_array("nope"), None);
    assert!(list.contains("flag"));
    assert!(!list.contains("nope"));
    let nested = list.get_list("list").unwrap();
    assert_eq!(nested.get_str("type").as_deref(), Some("file"));
    let arr = list.get_list_array("lists").unwrap();
    assert_eq!(arr.len(), 2);
    assert_eq!(arr[0].get_u64("a"), Some(1));
    assert!(arr[1].is_empty());
    assert!(list.get_list("string").is_none());
}

#[test]
fn unique_names_replace() {
    let mut list = NvList::new();
    list.insert_str("a", "1").unwrap();
    list.insert_u64("a", 2).unwrap();
    assert_eq!(list.to_pairs(), vec![("a".to_owned(), NvValue::U64(2))]);
    assert!(list.remove("a"));
    assert!(list.is_empty());
    assert!(!list.remove("a"));
}

#[test]
fn nul_bytes_are_refused() {
    let mut list = NvList::new();
    let e = list.insert_str("a\0b", "x").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = list.insert_str("a", "x\0").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(
        list.is_empty(),
        "a refused insert leaves the list unchanged"
    );
}

#[test]
fn debug_prints_contents() {
    let mut list = NvList::new();
    list.insert_str("compression", "zstd").unwrap();
    list.insert_u64("quota", 5).unwrap();
    assert_eq!(
        format!("{list:?}"),
        r#"{"compression": String("zstd"), "quota": U64(5)}"#
    );
}

#[test]
fn raw_ownership_round_trips() {
    let mut list = NvList::new();
    list.insert_bool("x", true).unwrap();
    let raw = list.into_raw();
    // SAFETY: `raw` came from into_raw and is owned by nobody else.
    let back = unsafe { NvList::from_raw(raw) };
    assert_eq!(back.get("x"), Some(NvValue::Bool(true)));
}

#[test]
fn value_accessors_take_only_their_own_types() {
    assert_eq!(NvValue::from("zstd").as_str(), Some("zstd"));
    assert_eq!(NvValue::from(String::from("lz4")).as_str(), Some("lz4"));
    assert_eq!(NvValue::U64(1).as_str(), None);
    // Every unsigned width reads as u64; signed and other types do not.
    for (v, want) in [
        (NvValue::from(u64::MAX), Some(u64::MAX)),
        (NvValue::U32(u32::MAX), Some(u64::from(u32::MAX))),
        (NvValue::U16(7), Some(7)),
        (NvValue::U8(8), Some(8)),
        (NvValue::Byte(9), Some(9)),
        (NvValue::from(-1i64), None),
        (NvValue::I32(1), None),
        (NvValue::from(true), None),
        (NvValue::Flag, None),
    ] {
        assert_eq!(v.as_u64(), want, "{v:?}");
    }
    let list = NvValue::List(vec![("k".to_owned(), NvValue::Flag)]);
    assert_eq!(list.as_list().map(<[_]>::len), Some(1));
    assert_eq!(NvValue::Flag.as_list(), None);
    assert_eq!(
        NvValue::from(vec!["a".to_owned(), "b".to_owned()]),
        NvValue::StringArray(vec!["a".into(), "b".into()])
    );
    assert_eq!(NvValue::from(false), NvValue::Bool(false));
}
