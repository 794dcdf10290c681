use super::*;

fn rule_of<T>(r: Result<T>) -> NameRule {
    match r {
        Ok(_) => panic!("expected an invalid name"),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::InvalidName);
            e.name_rule()
                .cloned()
                .expect("name errors carry their rule")
        }
    }
}

#[test]
fn good_pool_names() {
    for n in [
        "tank",
        "zroot",
        "a",
        "Tank-1_2.3:4",
        "pool with space",
        "mirrorless".replace("mirror", "m").as_str(),
        "logs",
        "caches",
        "c",
        "cx0",
    ] {
        assert!(PoolName::new(n).is_ok(), "{n:?} should be valid");
    }
}

#[test]
fn bad_pool_names() {
    use NameRule::*;
    assert_eq!(rule_of(PoolName::new("")), Empty);
    assert_eq!(rule_of(PoolName::new("1tank")), PoolNoLetter);
    assert_eq!(rule_of(PoolName::new("-tank")), PoolNoLetter);
    assert_eq!(rule_of(PoolName::new("mirror")), PoolReserved("mirror"));
    assert_eq!(rule_of(PoolName::new("mirror2")), PoolReserved("mirror"));
    assert_eq!(rule_of(PoolName::new("raidz")), PoolReserved("raidz"));
    assert_eq!(rule_of(PoolName::new("raidz3")), PoolReserved("raidz"));
    assert_eq!(rule_of(PoolName::new("draid2:4d")), PoolReserved("draid"));
    assert_eq!(rule_of(PoolName::new("spare")), PoolReserved("spare"));
    for w in ["log", "cache", "special", "dedup"] {
        assert_eq!(rule_of(PoolName::new(w)), PoolReserved(w));
    }
    assert_eq!(rule_of(PoolName::new("c0t0d0")), PoolDiskLike);
    assert_eq!(
        rule_of(PoolName::new("ta%nk")),
        InvalidChar {
            ch: '%',
            position: 2
        }
    );
    assert_eq!(
        rule_of(PoolName::new("tänk")),
        InvalidChar {
            ch: 'ä',
            position: 1
        }
    );
    assert_eq!(
        rule_of(PoolName::new("tank/a")),
        InvalidChar {
            ch: '/',
            position: 4
        }
    );
    assert_eq!(rule_of(PoolName::new("tank/")), TrailingSlash);
    assert_eq!(rule_of(PoolName::new("/tank")), LeadingSlash);
    assert_eq!(
        rule_of(PoolName::new("tank@s")),
        UnexpectedDelimiter {
            ch: '@',
            position: 4
        }
    );
    let long = "a".repeat(MAX_POOL_NAME_LEN + 1);
    assert_eq!(
        rule_of(PoolName::new(long)),
        TooLong {
            max: MAX_POOL_NAME_LEN,
            len: 240
        }
    );
    assert!(PoolName::new("a".repeat(MAX_POOL_NAME_LEN)).is_ok());
}

#[test]
fn good_dataset_names() {
    for n in ["tank", "tank/a", "tank/a/b c/d.e:f-g_h", "zroot/persist"] {
        assert!(DatasetName::new(n).is_ok(), "{n:?} should be valid");
    }
    let max = format!("tank/{}", "x".repeat(MAX_NAME_LEN - 5));
    assert_eq!(max.len(), MAX_NAME_LEN);
    assert!(DatasetName::new(max).is_ok());
}

#[test]
fn bad_dataset_names() {
    use NameRule::*;
    assert_eq!(rule_of(DatasetName::new("")), Empty);
    assert_eq!(rule_of(DatasetName::new("/tank")), LeadingSlash);
    assert_eq!(rule_of(DatasetName::new("tank/")), TrailingSlash);
    assert_eq!(
        rule_of(DatasetName::new("tank//a")),
        EmptyComponent { position: 5 }
    );
    assert_eq!(
        rule_of(DatasetName::new("tank/./a")),
        SelfReference { position: 5 }
    );
    assert_eq!(
        rule_of(DatasetName::new("tank/..")),
        ParentReference { position: 5 }
    );
    assert_eq!(
        rule_of(DatasetName::new("tank/a%b")),
        InvalidChar {
            ch: '%',
            position: 6
        }
    );
    assert_eq!(
        rule_of(DatasetName::new("tank/a@s")),
        UnexpectedDelimiter {
            ch: '@',
            position: 6
        }
    );
    assert_eq!(
        rule_of(DatasetName::new("tank/a#b")),
        UnexpectedDelimiter {
            ch: '#',
            position: 6
        }
    );
    assert_eq!(rule_of(DatasetName::new("1tank/a")), PoolNoLetter);
    assert_eq!(
        rule_of(DatasetName::new("mirror/a")),
        PoolReserved("mirror")
    );
    let long = format!("tank/{}", "x".repeat(MAX_NAME_LEN - 4));
    assert_eq!(
        rule_of(DatasetName::new(long)),
        TooLong { max: 255, len: 256 }
    );
}

#[test]
fn snapshots_and_bookmarks() {
    use NameRule::*;
    let s = SnapshotName::new("tank/a@monday").unwrap();
    assert_eq!(s.dataset(), "tank/a");
    assert_eq!(s.short_name(), "monday");
    let b = BookmarkName::new("tank/a#mark").unwrap();
    assert_eq!(b.dataset(), "tank/a");
    assert_eq!(b.short_name(), "mark");
    assert_eq!(rule_of(SnapshotName::new("tank/a")), MissingDelimiter('@'));
    assert_eq!(
        rule_of(SnapshotName::new("tank/a@")),
        EmptyComponent { position: 7 }
    );
    assert_eq!(
        rule_of(SnapshotName::new("@snap")),
        EmptyComponent { position: 0 }
    );
    assert_eq!(
        rule_of(SnapshotName::new("tank@a@b")),
        UnexpectedDelimiter {
            ch: '@',
            position: 6
        }
    );
    assert_eq!(
        rule_of(SnapshotName::new("tank@a/b")),
        SlashAfterDelimiter { position: 6 }
    );
    assert_eq!(
        rule_of(SnapshotName::new("tank#a")),
        UnexpectedDelimiter {
            ch: '#',
            position: 4
        }
    );
    assert_eq!(
        rule_of(SnapshotName::new("tank@a!")),
        InvalidChar {
            ch: '!',
            position: 6
        }
    );
    assert_eq!(
        rule_of(BookmarkName::new("tank@a")),
        UnexpectedDelimiter {
            ch: '@',
            position: 4
        }
    );
    assert_eq!(rule_of(BookmarkName::new("tank")), MissingDelimiter('#'));
    let long = format!("tank@{}", "s".repeat(MAX_NAME_LEN - 4));
    assert_eq!(
        rule_of(SnapshotName::new(long)),
        TooLong { max: 255, len: 256 }
    );
}

#[test]
fn relations() {
    let d = DatasetName::new("zroot/persist/home").unwrap();
    assert_eq!(d.pool(), "zroot");
    assert_eq!(d.parent().unwrap(), "zroot/persist");
    assert_eq!(d.depth(), 2);
    assert!(d.is_within(&DatasetName::new("zroot/persist").unwrap()));
    assert!(!DatasetName::new("zroot/persistent")
        .unwrap()
        .is_within(&DatasetName::new("zroot/persist").unwrap()));
    assert_eq!(d.child("alice").unwrap(), "zroot/persist/home/alice");
    assert_eq!(d.snapshot("blank").unwrap(), "zroot/persist/home@blank");
    assert!(
        d.child("a/b").is_ok(),
        "a child path of several components is still a dataset name"
    );
    assert!(d.child("").is_err());
    assert_eq!(
        PoolName::new("zroot").unwrap().root_dataset().parent(),
        None
    );
}

#[test]
fn messages_say_what_rule_and_where() {
    let e = DatasetName::new("tank/a b/c!").unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot use dataset name 'tank/a b/c!': invalid character '!' at byte 10 in name"
    );
}

#[test]
fn names_convert_from_text_every_way_and_compare_with_it() {
    use std::str::FromStr;
    let a: DatasetName = "tank/a".parse().unwrap();
    assert_eq!(DatasetName::from_str("tank/a").unwrap(), a);
    assert_eq!(DatasetName::try_from("tank/a").unwrap(), a);
    assert_eq!(DatasetName::try_from(String::from("tank/a")).unwrap(), a);
    assert!(a == *"tank/a");
    assert!(SnapshotName::try_from("tank/a").is_err());
    assert!(BookmarkName::from_str("tank/a#b").is_ok());
    // Text that says what it is goes through the matching rules.
    assert!(check_any("use", "tank/a@s").is_ok());
    assert!(check_any("use", "tank/a#b").is_ok());
    let e = check_any("look up", "tank/a@s!").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidName);
    assert_eq!(e.operation(), "look up");
    assert!(check_any("use", "tank/a#b!").is_err());
    assert!(check_any("use", "tank//a").is_err());
}
