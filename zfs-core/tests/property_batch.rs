//! Batches of user property changes, by one channel program (the default) and one call per
//! change, against each other and against what `zfs get` reports: the same random batches on
//! the same random trees (depth, a volume, a snapshot, an encrypted filesystem) give the same properties and the same errors, a refused program
//! changes nothing, and the largest names and values (and a batch past the program's size)
//! land whole.

mod common;

use std::collections::BTreeMap;

use common::*;
use zfs_core::testing::FilePool;
use zfs_core::{
    AnyName, CreateDataset, ErrorKind, InheritOptions, Key, PropertyBatchOptions,
    UserPropertyChange, Zfs, MAX_USER_PROPERTY_NAME, MAX_USER_PROPERTY_VALUE,
};

/// Builds the same random tree under `root` for a seed (filesystems, a volume, snapshots,
/// local user properties); the names of its objects relative to `root` ("" is the root).
fn build(zfs: &Zfs, root: &str, seed: u64) -> Vec<String> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    CreateDataset::filesystem(ds(root))
        .property("mountpoint", "legacy")
        .property("test:owner", "root")
        .create(zfs)
        .unwrap();
    let mut objects = vec![String::new()];
    let mut filesystems = vec![String::new()];
    // Drawn first, then created a level at a time (`create_levels`).
    let mut items = Vec::new();
    let mut next = 0;
    while next < filesystems.len() && filesystems.len() < 10 {
        let parent = filesystems[next].clone();
        next += 1;
        for i in 0..rng.below(4) {
            let rel = format!("{parent}/c{i}");
            let mut create = CreateDataset::filesystem(ds(format!("{root}{rel}")));
            if rng.below(2) == 0 {
                create = create.property("test:owner", &format!("u{i}"));
            }
            items.push((create, false));
            filesystems.push(rel.clone());
            objects.push(rel);
        }
    }
    // An encrypted filesystem (its key loaded): user properties are not encrypted.
    let enc = CreateDataset::filesystem(ds(format!("{root}/enc")))
        .encryption(Key::raw(&[seed as u8; 32]).unwrap())
        .property("test:owner", "enc");
    items.push((enc, true));
    objects.push("/enc".into());
    let vol = CreateDataset::volume(ds(format!("{root}/vol")), 16 << 20)
        .sparse(true)
        .property("test:kind", "disk");
    items.push((vol, false));
    objects.push("/vol".into());
    create_levels(zfs, items);
    zfs.snapshot(&[snap(format!("{root}@s"))], &[]).unwrap();
    objects.push("@s".into());
    objects
}

/// A random batch over `objects` (relative names) of `root`.
fn batch(root: &str, objects: &[String], seed: u64) -> Vec<UserPropertyChange> {
    let mut rng = Rng(seed.wrapping_mul(0xD134_2543_DE82_EF95) | 1);
    let props = ["test:owner", "test:kind", "test:note", "com.example.x:y"];
    (0..10 + rng.below(30))
        .map(|i| {
            let target = AnyName::new(format!(
                "{root}{}",
                objects[rng.below(objects.len() as u64) as usize]
            ))
            .unwrap();
            let prop = props[rng.below(props.len() as u64) as usize];
            if rng.below(3) == 0 {
                UserPropertyChange::inherit(&target, prop)
            } else {
                UserPropertyChange::set(&target, prop, &format!("v{i}-{}", "x".repeat(i as usize)))
            }
        })
        .collect()
}

/// Every user property these tests use (batches, refusals), by name: `zfs get all` would
/// work out every native property of every object too, the most of this file's time under
/// emulation.
const USER_PROPERTIES: &str =
    "test:owner,test:kind,test:note,com.example.x:y,test:keep,test:new,test:x";

/// Every property of [`USER_PROPERTIES`] set locally under `root`, as `zfs get` reports it:
/// relative name -> property -> value.
fn local(root: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let out = cli(
        "zfs",
        &[
            "get",
            "-H",
            "-p",
            "-r",
            "-t",
            "all",
            "-s",
            "local",
            "-o",
            "name,property,value",
            USER_PROPERTIES,
            root,
        ],
    );
    let mut map: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for line in out.lines() {
        let mut it = line.splitn(3, '\t');
        let (name, prop, value) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
        if prop.contains(':') {
            map.entry(name[root.len()..].to_owned())
                .or_default()
                .insert(prop.to_owned(), value.to_owned());
        }
    }
    map
}

/// What `changes` should leave, applied in order to `before`.
fn model(
    root: &str,
    mut state: BTreeMap<String, BTreeMap<String, String>>,
    changes: &[UserPropertyChange],
) -> BTreeMap<String, BTreeMap<String, String>> {
    for c in changes {
        let rel = c.target().as_str()[root.len()..].to_owned();
        let props = state.entry(rel.clone()).or_default();
        match c.value() {
            Some(v) => {
                props.insert(c.property().to_owned(), v.to_owned());
            }
            None => {
                props.remove(c.property());
            }
        }
        if props.is_empty() {
            state.remove(&rel);
        }
    }
    state
}

fn rebase(changes: &[UserPropertyChange], from: &str, to: &str) -> Vec<UserPropertyChange> {
    changes
        .iter()
        .map(|c| {
            let target = AnyName::new(c.target().as_str().replacen(from, to, 1)).unwrap();
            match c.value() {
                Some(v) => UserPropertyChange::set(&target, c.property(), v),
                None => UserPropertyChange::inherit(&target, c.property()),
            }
        })
        .collect()
}

fn path(slow: bool) -> PropertyBatchOptions {
    PropertyBatchOptions::new().one_call_per_object(slow)
}

#[test]
#[ignore = "needs ZFS"]
fn both_property_paths_agree_with_each_other_and_with_zfs_get() {
    let f = FilePool::builder().size(512 << 20).create().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    for seed in seeds(2) {
        let (fast, slow) = (format!("{p}/fast{seed}"), format!("{p}/slow{seed}"));
        let objects = build(&zfs, &fast, seed);
        assert_eq!(build(&zfs, &slow, seed), objects);
        let changes = batch(&fast, &objects, seed);
        let before = local(&fast);
        assert_eq!(before, local(&slow), "seed {seed}");
        zfs.change_user_properties(&changes, &path(false))
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        zfs.change_user_properties(&rebase(&changes, &fast, &slow), &path(true))
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let expected = model(&fast, before, &changes);
        assert_eq!(local(&fast), expected, "seed {seed}: the program");
        assert_eq!(local(&slow), expected, "seed {seed}: one call per change");

        // A recursive inherit clears the property everywhere below, both ways.
        for (root, slow) in [(&fast, false), (&slow, true)] {
            zfs.dataset(&any(root))
                .unwrap()
                .inherit(
                    "test:owner",
                    &InheritOptions::new()
                        .recursive(true)
                        .one_call_per_object(slow),
                )
                .unwrap();
            let left = local(root);
            assert!(
                left.values().all(|props| !props.contains_key("test:owner")),
                "seed {seed}: {left:?}"
            );
        }
        assert_eq!(local(&fast), local(&slow), "seed {seed}");
    }
}

#[test]
#[ignore = "needs ZFS"]
fn both_property_paths_refuse_alike_and_the_program_changes_nothing() {
    let f = FilePool::builder().size(512 << 20).create().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let a = ds(format!("{p}/a"));
    CreateDataset::filesystem(a.clone())
        .property("test:keep", "1")
        .create(&zfs)
        .unwrap();
    let before = local(p);
    let missing = ds(format!("{p}/nosuch"));
    let other_pool = ds("otherpool/x");
    let refusals: Vec<(Vec<UserPropertyChange>, ErrorKind)> = vec![
        // The kernel's refusal (a dataset missing), after a change that would succeed.
        (
            vec![
                UserPropertyChange::set(&a, "test:new", "1"),
                UserPropertyChange::set(&missing, "test:new", "1"),
            ],
            ErrorKind::NotFound,
        ),
        // Refused before anything is tried: not a user property, too long, NUL, two pools.
        (
            vec![
                UserPropertyChange::set(&a, "test:new", "1"),
                UserPropertyChange::set(&a, "compression", "lz4"),
            ],
            ErrorKind::InvalidProperty,
        ),
        (
            vec![UserPropertyChange::set(
                &a,
                "test:new",
                &"v".repeat(MAX_USER_PROPERTY_VALUE + 1),
            )],
            ErrorKind::InvalidProperty,
        ),
        (
            vec![UserPropertyChange::inherit(
                &a,
                &format!("test:{}", "n".repeat(MAX_USER_PROPERTY_NAME)),
            )],
            ErrorKind::InvalidProperty,
        ),
        (
            vec![
                UserPropertyChange::set(&a, "test:new", "1"),
                UserPropertyChange::set(&other_pool, "test:new", "1"),
            ],
            ErrorKind::InvalidArgument,
        ),
    ];
    for (changes, kind) in refusals {
        let fast = zfs
            .change_user_properties(&changes, &path(false))
            .unwrap_err();
        assert_eq!(fast.kind(), kind, "{fast}");
        assert_eq!(
            local(p),
            before,
            "a refused batch changed something: {fast}"
        );
        let slow = zfs
            .change_user_properties(&changes, &path(true))
            .unwrap_err();
        assert_eq!(
            (slow.kind(), slow.object()),
            (fast.kind(), fast.object()),
            "fast {fast} / slow {slow}"
        );
        // The slow path stops at the refusal: what came before it may have been made.
        zfs.dataset(&any(a.as_str()))
            .unwrap()
            .inherit("test:new", &InheritOptions::new())
            .unwrap();
    }
    // The refusal names the missing dataset, and says what the kernel said.
    let e = zfs
        .change_user_properties(
            &[UserPropertyChange::set(&missing, "test:x", "1")],
            &path(false),
        )
        .unwrap_err();
    assert_eq!(e.object(), missing.as_str(), "{e}");
    assert_eq!(e.failures().len(), 1, "{e}");
}

#[test]
#[ignore = "needs ZFS"]
fn the_longest_names_and_values_and_a_batch_past_one_program_land_whole() {
    let f = FilePool::builder().size(1 << 30).create().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let datasets: Vec<_> = (0..8).map(|i| ds(format!("{p}/d{i}"))).collect();
    let create: Vec<CreateDataset> = datasets
        .iter()
        .map(|d| CreateDataset::filesystem(d.clone()))
        .collect();
    zfs.create_datasets(&create).unwrap();
    // Longest name and value.
    let name = format!("a:{}", "n".repeat(MAX_USER_PROPERTY_NAME - 2));
    let value = "v".repeat(MAX_USER_PROPERTY_VALUE);
    zfs.change_user_properties(
        &[UserPropertyChange::set(&datasets[0], &name, &value)],
        &path(false),
    )
    .unwrap();
    let got = cli_json("zfs", &["get", "-j", "-p", &name, datasets[0].as_str()]);
    let shown = got["datasets"][datasets[0].as_str()]["properties"][&name]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("{got}"));
    assert_eq!(shown, value);

    // More bytes of values than one program takes: ~3200 changes of the longest value,
    // 400 properties on each of 8 datasets, made in several programs, every one whole.
    let per = 400;
    let mut changes = Vec::new();
    for d in &datasets {
        for i in 0..per {
            let v = format!("{i:04}{}", "x".repeat(MAX_USER_PROPERTY_VALUE - 4));
            changes.push(UserPropertyChange::set(d, &format!("big:p{i:04}"), &v));
        }
    }
    zfs.change_user_properties(&changes, &path(false)).unwrap();
    for d in [&datasets[0], &datasets[7]] {
        let out = cli(
            "zfs",
            &[
                "get",
                "-H",
                "-p",
                "-s",
                "local",
                "-o",
                "property,value",
                "all",
                d.as_str(),
            ],
        );
        let big: Vec<&str> = out.lines().filter(|l| l.starts_with("big:")).collect();
        assert_eq!(big.len(), per, "{d}");
        for line in big {
            let (prop, v) = line.split_once('\t').unwrap();
            assert_eq!(v.len(), MAX_USER_PROPERTY_VALUE, "{prop}");
            assert_eq!(&v[..4], &prop[5..], "{prop}");
        }
    }
}
