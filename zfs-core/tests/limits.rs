//! Trust at the limits: long values, long names, many clones, several tags, typed properties,
//! each checked against what OpenZFS's own tools say, not only read back through zfs-core.

mod common;

use std::io::{Seek, Write};
use std::path::PathBuf;

use common::*;
use zfs_core::testing::FilePool;
use zfs_core::{
    CreateDataset, DatasetTypes, DestroyOptions, ErrorKind, PropSource, SendFlags, Zfs,
};

fn fs(zfs: &Zfs, name: &str, props: &[(&str, &str)]) {
    let mut c = CreateDataset::filesystem(ds(name));
    for (k, v) in props {
        c = c.property(k, v);
    }
    c.create(zfs).unwrap();
}

/// Names under `root`, with `root` replaced by `ROOT`, sorted.
fn tree(zfs: &Zfs, root: &str) -> Vec<String> {
    let mut names: Vec<String> = zfs
        .list(&ds(root), DatasetTypes::all())
        .unwrap()
        .into_iter()
        .map(|l| l.name.as_str().replacen(root, "ROOT", 1))
        .collect();
    names.sort();
    names
}

/// `P/tN/src@s`, `clones` clones of it under `P/tN/v/` whose names are 250 bytes long, and an
/// unrelated `P/tN/v/precious@keep` (what a cut `clones` string once named).
///
/// The clones are made by 8 threads, each with its own handle: every clone waits for its
/// transaction group, and concurrent ones share them (the 80 of the test below: 17.0 s one
/// after another, 7.2 s so, under emulation).
fn clone_tree(zfs: &Zfs, root: &str, clones: usize) {
    fs(zfs, root, &[]);
    fs(zfs, &format!("{root}/src"), &[]);
    fs(zfs, &format!("{root}/v"), &[]);
    fs(zfs, &format!("{root}/v/precious"), &[]);
    zfs.snapshot(&[snap(format!("{root}/v/precious@keep"))], &[])
        .unwrap();
    let origin = snap(format!("{root}/src@s"));
    zfs.snapshot(std::slice::from_ref(&origin), &[]).unwrap();
    const THREADS: usize = 8;
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let origin = &origin;
            s.spawn(move || {
                let zfs = common::zfs();
                for i in (t..clones).step_by(THREADS) {
                    let head = format!("{root}/v/c{i:03}");
                    let name = format!("{head}{}", "x".repeat(250 - head.len()));
                    zfs.create_clone(origin, &ds(&name), &[]).unwrap();
                }
            });
        }
    });
}

#[test]
#[ignore = "needs ZFS"]
fn destroy_with_dependents_of_many_long_clones_matches_zfs_destroy_r() {
    let f = FilePool::builder().size(512 << 20).create().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    // 40 clones of 250 bytes: their joined names are ~10 KiB, over every fixed buffer.
    let (ours, theirs) = (format!("{p}/t1"), format!("{p}/t2"));
    clone_tree(&zfs, &ours, 40);
    clone_tree(&zfs, &theirs, 40);
    let joined = zfs.dataset(&any(format!("{ours}/src@s"))).unwrap();
    let clones = joined.property("clones").unwrap().value;
    let mut read: Vec<&str> = clones.split(',').collect();
    read.sort();
    let mut made: Vec<String> = zfs
        .list(&ds(format!("{ours}/v")), DatasetTypes::FILESYSTEM)
        .unwrap()
        .into_iter()
        .map(|l| l.name.to_string())
        .filter(|n| n.contains("/v/c"))
        .collect();
    made.sort();
    assert_eq!(read, made, "the clones property is read whole");
    // `zfs get` itself cuts this value at 8191 bytes: the CLI is no oracle here, but what it
    // shows must be the start of ours.
    let shown = zfs_get(&format!("{ours}/src@s"), "clones").0;
    eprintln!(
        "clones: {} bytes read, zfs get shows {}",
        clones.len(),
        shown.len()
    );
    assert!(clones.starts_with(&shown));
    drop(joined);

    zfs.destroy(
        &any(format!("{ours}/src")),
        &DestroyOptions::new().recursive(true).dependents(true),
    )
    .unwrap();
    cli("zfs", &["destroy", "-R", &format!("{theirs}/src")]);
    let (a, b) = (tree(&zfs, &ours), tree(&zfs, &theirs));
    assert_eq!(a, b, "zfs-core's destroy vs zfs destroy -R");
    assert_eq!(
        a,
        ["ROOT", "ROOT/v", "ROOT/v/precious", "ROOT/v/precious@keep"]
    );
}

#[test]
#[ignore = "needs ZFS"]
fn a_mountpoint_over_1000_bytes_reads_whole_and_destroy_removes_only_what_zfs_would() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let base = tempfile::tempdir().unwrap();
    // A 1023-byte directory (what a cut value named), and the mountpoint below it.
    let mut prefix = base.path().to_path_buf();
    while prefix.as_os_str().len() < 1023 - 201 {
        prefix.push("d".repeat(200));
    }
    let pad = 1023 - prefix.as_os_str().len() - 1;
    prefix.push("e".repeat(pad));
    assert_eq!(prefix.as_os_str().len(), 1023);
    std::fs::create_dir_all(&prefix).unwrap();
    let mountpoint: PathBuf = prefix.join("m".repeat(186));
    assert_eq!(mountpoint.as_os_str().len(), 1210);

    // The parent names the 1023-byte directory (canmount=off: never mounted); the child
    // inherits its mountpoint below it, 1210 bytes.
    let parent = format!("{p}/lp");
    fs(
        &zfs,
        &parent,
        &[
            ("mountpoint", prefix.to_str().unwrap()),
            ("canmount", "off"),
        ],
    );
    let name = format!("{parent}/{}", "m".repeat(186));
    fs(&zfs, &name, &[]);
    let d = zfs.dataset(&any(&name)).unwrap();
    if d.mounted_at().is_none() {
        d.mount().unwrap();
    }
    let got = d.property("mountpoint").unwrap();
    assert_eq!(got.value, mountpoint.to_str().unwrap());
    assert_eq!(got.value, zfs_get(&name, "mountpoint").0);
    let listed = zfs
        .list_with(&ds(&name), DatasetTypes::FILESYSTEM, &["mountpoint"])
        .unwrap();
    assert_eq!(listed[0].values[0], got.value);
    assert_eq!(d.mounted_at().as_deref(), Some(mountpoint.as_path()));
    unmount(&d);
    d.mount().unwrap();
    drop(d);

    let recursive = DestroyOptions::new().recursive(true);
    zfs.destroy(&any(&name), &recursive).unwrap();
    assert!(
        !mountpoint.exists(),
        "its inherited, empty mountpoint is removed, like zfs destroy"
    );
    assert!(prefix.is_dir(), "the directory above it is left alone");
    // A mountpoint named locally stays, with zfs-core as with zfs destroy.
    for (who, fs_name) in [("zfs-core", "ours"), ("zfs destroy", "cli")] {
        let dir = base.path().join(fs_name);
        let full = format!("{p}/{fs_name}");
        fs(&zfs, &full, &[("mountpoint", dir.to_str().unwrap())]);
        zfs.dataset(&any(&full)).unwrap().mount().unwrap();
        unmount(&zfs.dataset(&any(&full)).unwrap());
        if who == "zfs-core" {
            zfs.destroy(&any(&full), &recursive).unwrap();
        } else {
            cli("zfs", &["destroy", "-r", &full]);
        }
        assert!(dir.is_dir(), "{who} removed a locally named mountpoint");
    }
}

#[test]
#[ignore = "needs ZFS"]
fn the_longest_property_values_read_whole() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let name = format!("{p}/values");
    fs(&zfs, &name, &[("mountpoint", "none")]);
    // The longest user property value OpenZFS takes, set by the CLI and read by us.
    let long = "v".repeat(8191);
    cli("zfs", &["set", &format!("org.example:long={long}"), &name]);
    let d = zfs.dataset(&any(&name)).unwrap();
    assert_eq!(d.property("org.example:long").unwrap().value, long);
    // `context` is a native string property: the buffer path, not the user-property list.
    let context = format!("system_u:object_r:{}:s0", "t".repeat(8191 - 21));
    assert_eq!(context.len(), 8191);
    cli("zfs", &["set", &format!("context={context}"), &name]);
    let d = zfs.dataset(&any(&name)).unwrap();
    let got = d.property("context").unwrap();
    let shown = zfs_get(&name, "context").0;
    eprintln!(
        "context: set {} bytes, read {}, zfs get shows {}",
        context.len(),
        got.value.len(),
        shown.len()
    );
    assert_eq!(got.value, shown);
    assert_eq!(got.value.len(), 8191);
    assert_eq!(got.source, PropSource::Local);
    let listed = zfs
        .list_with(&ds(&name), DatasetTypes::FILESYSTEM, &["context"])
        .unwrap();
    assert_eq!(listed[0].values[0], context);
    // And the other way round: set by zfs-core, read by the CLI.
    let other = "w".repeat(8191);
    d.set_property("org.example:other", &other).unwrap();
    assert_eq!(zfs_get(&name, "org.example:other").0, other);
}

#[test]
#[ignore = "needs ZFS"]
fn pool_user_properties_read_like_zpool_get() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let pool = zfs.pool(f.name()).unwrap();
    let unset = pool.property("com.example:tag").unwrap();
    assert_eq!(unset.value, zpool_get(p, "com.example:tag").0);
    let long = "t".repeat(8191);
    cli("zpool", &["set", &format!("com.example:tag={long}"), p]);
    let pool = zfs.pool(f.name()).unwrap();
    let got = pool.property("com.example:tag").unwrap();
    assert_eq!(got.value, long);
    assert_eq!(got.source, PropSource::Local);
    assert_eq!(zpool_get(p, "com.example:tag"), (long, "local".to_owned()));
    pool.set_property("com.example:mine", "set by zfs-core")
        .unwrap();
    assert_eq!(zpool_get(p, "com.example:mine").0, "set by zfs-core");
}

#[test]
#[ignore = "needs ZFS"]
fn quota_and_written_properties_read_like_zfs_get() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let name = format!("{p}/q");
    fs(&zfs, &name, &[("mountpoint", "none")]);
    let d = zfs.dataset(&any(&name)).unwrap();
    d.set_property("userquota@root", "10M").unwrap();
    d.set_property("groupquota@0", "20M").unwrap();
    d.set_property("userobjquota@root", "1000").unwrap();
    zfs.snapshot(&[snap(format!("{name}@s1"))], &[]).unwrap();
    let d = zfs.dataset(&any(&name)).unwrap();
    for prop in [
        "userquota@root",
        "groupquota@0",
        "userobjquota@root",
        "userused@root",
        "groupused@0",
        "written@s1",
    ] {
        let ours = d.property(prop).unwrap_or_else(|e| panic!("{prop}: {e}"));
        assert_eq!(ours.value, zfs_get(&name, prop).0, "{prop}");
    }
    assert_eq!(d.property("userquota@root").unwrap().value, "10485760");
    let e = d.property("written@nosuchsnap").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidProperty, "{e}");
}

#[test]
#[ignore = "needs ZFS"]
fn several_tags_on_one_snapshot_in_one_call_all_or_none() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    fs(&zfs, &format!("{p}/h"), &[("mountpoint", "none")]);
    let (s, t) = (snap(format!("{p}/h@1")), snap(format!("{p}/h@2")));
    zfs.snapshot(std::slice::from_ref(&s), &[]).unwrap();
    zfs.snapshot(std::slice::from_ref(&t), &[]).unwrap();
    zfs.hold(&[(s.clone(), "a"), (s.clone(), "b"), (t.clone(), "a")])
        .unwrap();
    assert_eq!(zfs.holds(&s).unwrap(), ["a", "b"]);
    let mut cli_tags: Vec<String> = cli("zfs", &["holds", "-H", s.as_str()])
        .lines()
        .map(|l| l.split('\t').nth(1).unwrap().to_owned())
        .collect();
    cli_tags.sort();
    assert_eq!(cli_tags, ["a", "b"]);
    // `c` would go in the first call, `a` (already held) fails in the second: `c` is undone.
    let e = zfs.hold(&[(t.clone(), "c"), (t.clone(), "a")]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    assert_eq!(zfs.holds(&t).unwrap(), ["a"]);
    zfs.release(&[(s.clone(), "a"), (s.clone(), "b"), (t.clone(), "a")])
        .unwrap();
    assert!(zfs.holds(&s).unwrap().is_empty());
}

#[test]
#[ignore = "needs ZFS"]
fn clone_and_receive_take_numeric_and_index_properties() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    fs(&zfs, &format!("{p}/o"), &[("mountpoint", "none")]);
    let origin = snap(format!("{p}/o@s"));
    zfs.snapshot(std::slice::from_ref(&origin), &[]).unwrap();
    let clone = format!("{p}/c");
    zfs.create_clone(
        &origin,
        &ds(&clone),
        &[
            ("compression", "lz4"),
            ("quota", "100M"),
            ("mountpoint", "none"),
        ],
    )
    .unwrap();
    assert_eq!(
        zfs_get(&clone, "compression"),
        ("lz4".into(), "local".into())
    );
    assert_eq!(zfs_get(&clone, "quota").0, (100u64 << 20).to_string());
    let e = zfs
        .create_clone(&origin, &ds(format!("{p}/bad")), &[("compression", "nope")])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidProperty, "{e}");
    assert!(!zfs.exists(&any(format!("{p}/bad"))));

    let mut stream = tempfile::tempfile().unwrap();
    zfs.send(&origin, None, &stream, SendFlags::empty())
        .unwrap();
    stream.flush().unwrap();
    stream.rewind().unwrap();
    let target = snap(format!("{p}/r@s"));
    let opts = ReceiveSnapshotOptions::new()
        .property("compression", "lz4")
        .property("quota", "50M")
        .property("mountpoint", "none");
    zfs.receive_snapshot(&target, &stream, &opts).unwrap();
    let r = format!("{p}/r");
    assert_eq!(zfs_get(&r, "compression").0, "lz4");
    assert_eq!(zfs_get(&r, "quota").0, (50u64 << 20).to_string());
}

#[test]
#[ignore = "needs ZFS"]
fn recursive_inherit_clears_user_properties_of_snapshots_too() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let (a, b) = (format!("{p}/a"), format!("{p}/b"));
    for root in [&a, &b] {
        fs(&zfs, root, &[("mountpoint", "none")]);
        fs(&zfs, &format!("{root}/kid"), &[]);
        zfs.snapshot_recursive(&ds(root), "s", &[]).unwrap();
        for obj in [
            root.clone(),
            format!("{root}/kid"),
            format!("{root}@s"),
            format!("{root}/kid@s"),
        ] {
            cli("zfs", &["set", "org.example:k=v", &obj]);
        }
        // A native property too: it does not apply to snapshots and must be skipped there.
        cli("zfs", &["set", "compression=lz4", &format!("{root}/kid")]);
    }
    let d = zfs.dataset(&any(&a)).unwrap();
    d.inherit("org.example:k", &InheritOptions::new().recursive(true))
        .unwrap();
    d.inherit("compression", &InheritOptions::new().recursive(true))
        .unwrap();
    cli("zfs", &["inherit", "-r", "org.example:k", &b]);
    cli("zfs", &["inherit", "-r", "compression", &b]);
    // Both trees as `zfs get` shows them, in one start of the command: (name, property) ->
    // (value, source).
    let listed = cli(
        "zfs",
        &[
            "get",
            "-Hp",
            "-r",
            "-t",
            "filesystem,snapshot",
            "-o",
            "name,property,value,source",
            "org.example:k,compression",
            p,
        ],
    );
    let got: std::collections::HashMap<(String, String), (String, String)> = listed
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 4, "{l}");
            ((f[0].into(), f[1].into()), (f[2].into(), f[3].into()))
        })
        .collect();
    let get = |name: String, prop: &str| got[&(name, prop.to_owned())].clone();
    for suffix in ["", "/kid", "@s", "/kid@s"] {
        for prop in ["org.example:k", "compression"] {
            let ours = get(format!("{a}{suffix}"), prop);
            let cli = get(format!("{b}{suffix}"), prop);
            assert_eq!(
                ours.0, cli.0,
                "{prop} of ROOT{suffix}: zfs-core vs zfs inherit -r"
            );
            assert_eq!(
                ours.1.replace(&a, "R"),
                cli.1.replace(&b, "R"),
                "{prop} source"
            );
        }
    }
    assert_eq!(get(format!("{a}@s"), "org.example:k").0, "-");
}

#[test]
#[ignore = "needs ZFS"]
fn hot_spares_read_avail_and_inuse_like_zpool_status() {
    let dir = tempfile::tempdir().unwrap();
    let data = sparse(dir.path(), "data", 128 << 20);
    let spare = sparse(dir.path(), "spare", 128 << 20);
    let zfs = zfs();
    let name = unique("hot");
    let pool = zfs_core::CreatePool::new(
        name.clone(),
        zfs_core::VdevSpec::new()
            .mirror([&data, &sparse(dir.path(), "data2", 128 << 20)])
            .spare(zfs_core::Leaf::file(&spare)),
    )
    .pool_property("cachefile", "none")
    .mountpoint("none")
    .create(&zfs)
    .unwrap();
    let cli_state = |path: &std::path::Path| -> String {
        let status = cli("zpool", &["status", name.as_str()]);
        let spares = status.split("spares").nth(1).expect("a spares section");
        let line = spares
            .lines()
            .find(|l| l.contains(path.to_str().unwrap()))
            .expect("the spare's line");
        line.split_whitespace().nth(1).unwrap().to_owned()
    };
    assert_eq!(
        pool.status().unwrap().spares[0].state,
        zfs_core::Health::Available
    );
    assert_eq!(cli_state(&spare), "AVAIL");
    cli(
        "zpool",
        &[
            "replace",
            name.as_str(),
            data.to_str().unwrap(),
            spare.to_str().unwrap(),
        ],
    );
    assert_eq!(
        pool.status().unwrap().spares[0].state,
        zfs_core::Health::InUse
    );
    assert_eq!(cli_state(&spare), "INUSE");
    zfs.destroy_pool(&pool.name().clone()).unwrap();
}

#[test]
#[ignore = "needs ZFS"]
fn names_of_exactly_255_bytes_work_end_to_end() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let head = format!("{p}/");
    let name = format!("{head}{}", "n".repeat(255 - head.len()));
    assert_eq!(name.len(), 255);
    fs(&zfs, &name, &[("mountpoint", "none")]);
    let d = zfs.dataset(&any(&name)).unwrap();
    assert_eq!(d.property("name").unwrap().value, name);
    drop(d);
    // A snapshot of exactly 255 bytes of a shorter dataset.
    let short = format!("{p}/s");
    fs(&zfs, &short, &[("mountpoint", "none")]);
    let s = snap(format!("{short}@{}", "z".repeat(255 - short.len() - 1)));
    assert_eq!(s.as_str().len(), 255);
    zfs.snapshot(std::slice::from_ref(&s), &[]).unwrap();
    zfs.hold(&[(s.clone(), "t".repeat(255).as_str())]).unwrap();
    assert_eq!(
        cli("zfs", &["list", "-H", "-o", "name", s.as_str()]),
        s.as_str()
    );
    zfs.release(&[(s.clone(), "t".repeat(255).as_str())])
        .unwrap();
    zfs.destroy(&any(&name), &DestroyOptions::new()).unwrap();
    zfs.destroy(&any(&short), &DestroyOptions::new().recursive(true))
        .unwrap();
    assert_eq!(all(&zfs, p), [p]);
}

#[test]
#[ignore = "needs ZFS"]
fn the_deepest_nesting_the_module_allows_and_one_more() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let max: usize = std::fs::read_to_string("/sys/module/zfs/parameters/zfs_max_dataset_nesting")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let at_depth = |depth: usize| {
        let mut name = p.to_owned();
        for i in 1..=depth {
            name.push_str(&format!("/{}", i % 10));
        }
        name
    };
    // One level under the limit works, parents and all.
    let deep = at_depth(max - 1);
    CreateDataset::filesystem(ds(&deep))
        .create_parents(true)
        .property("mountpoint", "none")
        .create(&zfs)
        .unwrap();
    assert_eq!(cli("zfs", &["list", "-H", "-o", "name", &deep]), deep);
    // Past it, a typed error and nothing made (not even the missing parents): nothing at
    // the first missing level, so nothing under it. (Listing the whole chain instead costs
    // seconds under emulation: every objset opened looks each property up the whole chain.)
    let too_deep = at_depth(max + 2);
    let e = CreateDataset::filesystem(ds(&too_deep))
        .create_parents(true)
        .create(&zfs)
        .unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::InvalidName | ErrorKind::InvalidArgument
        ),
        "{e:?}"
    );
    assert!(zfs.exists(&any(&deep)));
    assert!(
        !zfs.exists(&any(at_depth(max))),
        "a missing parent was left"
    );
    eprintln!(
        "nesting: depth {} made, depth {} refused: {e}",
        max - 1,
        max + 2
    );
}

#[test]
#[ignore = "needs ZFS"]
fn a_recursive_destroy_of_a_tree_holding_its_own_clones_matches_zfs_destroy_r() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    for t in ["t1", "t2"] {
        let root = format!("{p}/{t}");
        fs(&zfs, &root, &[("mountpoint", "none")]);
        fs(&zfs, &format!("{root}/src"), &[]);
        let s = snap(format!("{root}/src@s"));
        zfs.snapshot(std::slice::from_ref(&s), &[]).unwrap();
        // A clone inside the tree, and a clone of a snapshot of that clone.
        zfs.create_clone(&s, &ds(format!("{root}/c")), &[]).unwrap();
        let cs = snap(format!("{root}/c@s2"));
        zfs.snapshot(std::slice::from_ref(&cs), &[]).unwrap();
        zfs.create_clone(&cs, &ds(format!("{root}/src/cc")), &[])
            .unwrap();
    }
    zfs.destroy(
        &any(format!("{p}/t1")),
        &DestroyOptions::new().recursive(true),
    )
    .unwrap();
    cli("zfs", &["destroy", "-r", &format!("{p}/t2")]);
    assert_eq!(all(&zfs, p), [p]);
}
