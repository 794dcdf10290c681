//! The CLI as an oracle: a rich pool, then everything zfs-core reads compared with what
//! OpenZFS's own tools print as JSON (`zfs list -j`, `zfs get -j -p all`, `zpool get -j -p all`,
//! `zpool status -j`, `zfs holds`): names, types, every value and its source. Then changes made
//! through zfs-core are read back with the CLI, and the other way round. Any difference is a
//! bug: none is allowed (the last run compared 885 dataset values of 17 objects, with every
//! kind of source, and 78 pool properties, all equal).

mod common;

use std::collections::BTreeMap;
use std::io::{Seek, Write};

use common::*;
use serde_json::Value;
use zfs_core::{
    BookmarkName, CreateDataset, CreatePool, DatasetType, DatasetTypes, Key, PoolName, PropSource,
    ReceiveOptions, SendFlags, TopLevel, VdevSpec, VdevStatus, Zfs,
};

/// `cmd args` as JSON.
/// A property's value and source as the CLI's JSON gives them: (value, "LOCAL", data).
type Seen = (String, String, String);

fn seen(prop: &Value) -> Seen {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    (
        s(&prop["value"]),
        s(&prop["source"]["type"]),
        s(&prop["source"]["data"]),
    )
}

/// Our source in the CLI's JSON terms.
fn source(src: &PropSource) -> (String, String) {
    let (t, d) = match src {
        PropSource::Local => ("LOCAL", "-".to_owned()),
        PropSource::Default => ("DEFAULT", "-".to_owned()),
        PropSource::Inherited(from) => ("INHERITED", from.clone()),
        PropSource::Received => ("RECEIVED", "-".to_owned()),
        PropSource::Temporary => ("TEMPORARY", "-".to_owned()),
        _ => ("NONE", "-".to_owned()),
    };
    (t.to_owned(), d)
}

/// Every (dataset, property) -> what `zfs get -j -p all` says, over the whole tree.
fn cli_dataset_props(pool: &str) -> BTreeMap<(String, String), Seen> {
    let all = cli_json(
        "zfs",
        &[
            "get",
            "-j",
            "-p",
            "-r",
            "-t",
            "filesystem,volume,snapshot",
            "all",
            pool,
        ],
    );
    let mut out = BTreeMap::new();
    for (name, ds) in all["datasets"].as_object().unwrap() {
        for (prop, v) in ds["properties"].as_object().unwrap() {
            out.insert((name.clone(), prop.clone()), seen(v));
        }
    }
    out
}

/// Space statistics the pool changes on its own while it settles (frees and txg syncs after
/// snapshots, receives and property changes).
const SETTLING: &[&str] = &[
    "used",
    "usedbychildren",
    "usedbydataset",
    "usedbysnapshots",
    "usedbyrefreservation",
    "available",
    "referenced",
    "logicalused",
    "logicalreferenced",
    "written",
    "compressratio",
    "refcompressratio",
];

/// Compares every dataset property zfs-core reads with the CLI. Statistics can move between
/// two reads (the pool settles), so the CLI is read before and after ours, and a value that the
/// CLI itself changed between its two reads may equal either. A difference in a space
/// statistic alone is looked at again after `zpool sync` (at most three passes); every other
/// difference fails at once.
fn compare_datasets(zfs: &Zfs, pool: &str) -> Vec<String> {
    for pass in 1.. {
        let diffs = compare_datasets_once(zfs, pool);
        let settling = diffs
            .iter()
            .all(|(prop, _)| SETTLING.contains(&prop.as_str()));
        if diffs.is_empty() || !settling || pass == 3 {
            return diffs.into_iter().map(|(_, d)| d).collect();
        }
        eprintln!("pass {pass}: statistics moved while read, again after a sync: {diffs:?}");
        cli("zpool", &["sync", pool.split('/').next().unwrap()]);
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    unreachable!()
}

/// Ours in the CLI's terms: (value, source type, source data), or the error's text.
type Ours = Result<Seen, String>;

fn ours(v: zfs_core::Result<zfs_core::PropValue>) -> Ours {
    v.map(|v| {
        let (t, data) = source(&v.source);
        (v.value, t, data)
    })
    .map_err(|e| e.to_string())
}

/// One pass of [`compare_datasets`]: each difference with the property it is about.
///
/// Every object is read the way a caller reads a whole dataset, `all_properties` (one refresh,
/// and the same list as `zfs get all`: a property missing or extra is a difference too). The
/// first filesystem, volume and snapshot are read once more a property at a time, `property`,
/// which refreshes before each value: under emulation a refresh costs tens of milliseconds, so
/// reading every value of every object so took most of this test's time, and the path is
/// the same for every object of a type.
fn compare_datasets_once(zfs: &Zfs, pool: &str) -> Vec<(String, String)> {
    let before = cli_dataset_props(pool);
    let datasets: std::collections::BTreeSet<&String> = before.keys().map(|k| &k.0).collect();
    let mut bulk: BTreeMap<(String, String), Ours> = BTreeMap::new();
    let mut single: BTreeMap<(String, String), Ours> = BTreeMap::new();
    let mut single_types = std::collections::BTreeSet::new();
    for name in &datasets {
        let d = zfs.dataset(&any(name.as_str())).unwrap();
        match d.all_properties() {
            Ok(all) => {
                for (prop, v) in all {
                    bulk.insert(((*name).clone(), prop), ours(Ok(v)));
                }
            }
            Err(e) => {
                for (n, prop) in before.keys().filter(|k| &k.0 == *name) {
                    bulk.insert((n.clone(), prop.clone()), Err(e.to_string()));
                }
            }
        }
        let kind = before[&((*name).clone(), "type".to_owned())].0.clone();
        if single_types.insert(kind) {
            for (n, prop) in before.keys().filter(|k| &k.0 == *name) {
                single.insert((n.clone(), prop.clone()), ours(d.property(prop)));
            }
        }
    }
    let after = cli_dataset_props(pool);
    let sources: std::collections::BTreeSet<&str> = before.values().map(|v| v.1.as_str()).collect();
    eprintln!(
        "compared {} values of {} datasets ({} also one at a time, of {single_types:?}), sources {sources:?}",
        before.len(),
        datasets.len(),
        single.len(),
    );
    // Not a vacuous pass: every object and every kind of source is in the comparison, and
    // each kind of object is read one value at a time too.
    assert!(
        before.len() > 20 * datasets.len(),
        "too few properties compared"
    );
    for src in ["LOCAL", "DEFAULT", "INHERITED", "RECEIVED", "NONE"] {
        assert!(
            sources.contains(src),
            "no {src} property compared: {sources:?}"
        );
    }
    for kind in ["filesystem", "volume", "snapshot"] {
        assert!(
            single_types.contains(kind),
            "no {kind} read one value at a time"
        );
    }
    let mut diffs = Vec::new();
    for (how, read) in [("all_properties", &bulk), ("property", &single)] {
        for (key, got) in read {
            let Some(b) = before.get(key) else {
                diffs.push((
                    key.1.clone(),
                    format!(
                        "{} {}: ours ({how}) {got:?}, not in zfs get all",
                        key.0, key.1
                    ),
                ));
                continue;
            };
            match got {
                Ok(o) if o == b || Some(o) == after.get(key) => {}
                Ok(o) => diffs.push((
                    key.1.clone(),
                    format!("{} {}: ours ({how}) {o:?}, zfs get {b:?}", key.0, key.1),
                )),
                Err(e) => diffs.push((
                    key.1.clone(),
                    format!(
                        "{} {}: ours ({how}) failed ({e}), zfs get {b:?}",
                        key.0, key.1
                    ),
                )),
            }
        }
    }
    for (key, b) in &before {
        if !bulk.contains_key(key) {
            diffs.push((
                key.1.clone(),
                format!(
                    "{} {}: not in ours (all_properties), zfs get {b:?}",
                    key.0, key.1
                ),
            ));
        }
    }
    diffs
}

fn compare_pool(zfs: &Zfs, pool: &PoolName) -> Vec<String> {
    let read = || {
        let all = cli_json("zpool", &["get", "-j", "-p", "all", pool.as_str()]);
        all["pools"][pool.as_str()]["properties"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), seen(v)))
            .collect::<BTreeMap<_, _>>()
    };
    let before = read();
    let p = zfs.pool(pool).unwrap();
    let ours: BTreeMap<String, Result<Seen, String>> = before
        .keys()
        .map(|k| {
            let got = p
                .property(k)
                .map(|v| {
                    let (t, d) = source(&v.source);
                    (v.value, t, d)
                })
                .map_err(|e| e.to_string());
            (k.clone(), got)
        })
        .collect();
    let after = read();
    eprintln!("compared {} pool properties", before.len());
    assert!(before.len() > 40 && before.contains_key("feature@zstd_compress"));
    let mut diffs = Vec::new();
    for (k, b) in &before {
        match &ours[k] {
            Ok(o) if o == b || Some(o) == after.get(k) => {}
            Ok(o) => diffs.push(format!("pool {k}: ours {o:?}, zpool get {b:?}")),
            Err(e) => diffs.push(format!("pool {k}: ours failed ({e}), zpool get {b:?}")),
        }
    }
    diffs
}

/// One vdev of `zpool status -j` against ours: name, type, state, error counters, children.
fn compare_vdev(cli: &Value, ours: &VdevStatus, diffs: &mut Vec<String>) {
    let s = |k: &str| cli[k].as_str().unwrap_or_default().to_owned();
    let n = |k: &str| s(k).parse::<u64>().unwrap_or(u64::MAX);
    let mine = (
        ours.name.clone(),
        ours.kind.to_string(),
        ours.state.to_string(),
        ours.read_errors,
        ours.write_errors,
        ours.checksum_errors,
    );
    let theirs = (
        s("name"),
        s("vdev_type"),
        s("state"),
        n("read_errors"),
        n("write_errors"),
        n("checksum_errors"),
    );
    if mine != theirs {
        diffs.push(format!("vdev: ours {mine:?}, zpool status {theirs:?}"));
    }
    let kids: Vec<&Value> = cli["vdevs"]
        .as_object()
        .map(|m| m.values().collect())
        .unwrap_or_default();
    if kids.len() != ours.children.len() {
        diffs.push(format!(
            "vdev {}: {} children, zpool status has {}",
            ours.name,
            ours.children.len(),
            kids.len()
        ));
        return;
    }
    for (c, o) in kids.iter().zip(&ours.children) {
        compare_vdev(c, o, diffs);
    }
}

fn compare_status(zfs: &Zfs, pool: &PoolName) -> Vec<String> {
    let st = cli_json("zpool", &["status", "-j", "-p", pool.as_str()]);
    let cli = &st["pools"][pool.as_str()];
    let ours = zfs.pool(pool).unwrap().status().unwrap();
    let mut diffs = Vec::new();
    // Our root's children hold data and log vdevs together; the CLI lists logs apart.
    let root = &cli["vdevs"][pool.as_str()];
    let mut data = ours.root.clone();
    data.children.retain(|c| !c.is_log);
    compare_vdev(root, &data, &mut diffs);
    let logs: Vec<&VdevStatus> = ours.root.children.iter().filter(|c| c.is_log).collect();
    let cli_logs: Vec<&Value> = cli["logs"]
        .as_object()
        .map(|m| m.values().collect())
        .unwrap_or_default();
    if logs.len() != cli_logs.len() {
        diffs.push(format!(
            "{} logs, zpool status has {}",
            logs.len(),
            cli_logs.len()
        ));
    }
    for (c, o) in cli_logs.iter().zip(logs) {
        compare_vdev(c, o, &mut diffs);
    }
    let cli_cache: Vec<&Value> = cli["l2cache"]
        .as_object()
        .map(|m| m.values().collect())
        .unwrap_or_default();
    if ours.cache.len() != cli_cache.len() {
        diffs.push(format!(
            "{} cache devices, zpool status has {}",
            ours.cache.len(),
            cli_cache.len()
        ));
    }
    for (c, o) in cli_cache.iter().zip(&ours.cache) {
        compare_vdev(c, o, &mut diffs);
    }
    diffs
}

fn compare_names_and_holds(zfs: &Zfs, pool: &str) -> Vec<String> {
    let listed = cli_json("zfs", &["list", "-j", "-p", "-t", "all", "-r", pool]);
    let mut theirs: Vec<(String, String)> = listed["datasets"]
        .as_object()
        .unwrap()
        .values()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_owned(),
                d["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    theirs.sort();
    let ours: Vec<(String, String)> = zfs
        .list(&ds(pool), DatasetTypes::all())
        .unwrap()
        .into_iter()
        .map(|l| {
            let t = match l.kind {
                DatasetType::Filesystem => "FILESYSTEM",
                DatasetType::Volume => "VOLUME",
                DatasetType::Snapshot => "SNAPSHOT",
                DatasetType::Bookmark => "BOOKMARK",
                other => panic!("a type the oracle does not know: {other:?}"),
            };
            (l.name.to_string(), t.to_owned())
        })
        .collect();
    let mut diffs = Vec::new();
    assert!(ours.iter().any(|o| o.1 == "BOOKMARK") && ours.iter().any(|o| o.1 == "VOLUME"));
    if ours != theirs {
        diffs.push(format!("zfs list: ours {ours:?}\n  CLI {theirs:?}"));
    }
    for (name, t) in &ours {
        if t != "SNAPSHOT" {
            continue;
        }
        let mut cli_tags: Vec<String> = cli("zfs", &["holds", "-H", name])
            .lines()
            .filter_map(|l| l.split('\t').nth(1).map(str::to_owned))
            .collect();
        cli_tags.sort();
        let tags: Vec<String> = zfs
            .holds(&snap(name))
            .unwrap()
            .into_iter()
            .map(|t| t.into_string().unwrap())
            .collect();
        if tags != cli_tags {
            diffs.push(format!(
                "holds of {name}: ours {tags:?}, zfs holds {cli_tags:?}"
            ));
        }
    }
    diffs
}

/// Destroys the pool at the end, also after a panic.
struct Rich {
    name: PoolName,
    _dir: tempfile::TempDir,
}

impl Drop for Rich {
    fn drop(&mut self) {
        if let Ok(zfs) = Zfs::open() {
            let _ = zfs.destroy_pool(&self.name);
        }
    }
}

/// Mirror + log + cache; nested filesystems with local, inherited, default and received
/// properties, user properties, quotas, volumes sparse and not, recursive snapshots,
/// bookmarks, clones, holds, an encrypted dataset.
fn rich(zfs: &Zfs) -> Rich {
    let dir = tempfile::tempdir().unwrap();
    let f: Vec<_> = ["m0", "m1", "log", "cache"]
        .iter()
        .map(|n| sparse(dir.path(), n, 256 << 20))
        .collect();
    let name = unique("oracle");
    CreatePool::new(
        name.clone(),
        VdevSpec::new()
            .vdev(TopLevel::Mirror(vec![
                zfs_core::Leaf::file(&f[0]),
                zfs_core::Leaf::file(&f[1]),
            ]))
            .log_file(&f[2])
            .cache_file(&f[3]),
    )
    .pool_property("ashift", "12")
    .pool_property("cachefile", "none")
    .pool_property("comment", "oracle pool")
    .mountpoint("none")
    .create(zfs)
    .unwrap();
    let p = name.as_str();
    let guard = Rich {
        name: name.clone(),
        _dir: dir,
    };
    CreateDataset::filesystem(ds(format!("{p}/fs")))
        .property("compression", "lz4")
        .property("quota", "100M")
        .property("org.example:tag", "local value")
        .property("mountpoint", "legacy")
        .create(zfs)
        .unwrap();
    CreateDataset::filesystem(ds(format!("{p}/fs/child")))
        .property("recordsize", "16K")
        .create(zfs)
        .unwrap();
    CreateDataset::filesystem(ds(format!("{p}/fs/child/grand")))
        .create(zfs)
        .unwrap();
    CreateDataset::volume(ds(format!("{p}/vol")), 16 << 20)
        .create(zfs)
        .unwrap();
    CreateDataset::volume(ds(format!("{p}/svol")), 32 << 20)
        .sparse(true)
        .block_size(16384)
        .create(zfs)
        .unwrap();
    CreateDataset::filesystem(ds(format!("{p}/enc")))
        .property("mountpoint", "none")
        .encryption(Key::raw(&[9; 32]).unwrap())
        .create(zfs)
        .unwrap();
    cli("zfs", &["set", "userquota@root=10M", &format!("{p}/fs")]);
    cli("zfs", &["set", "reservation=1M", &format!("{p}/fs/child")]);
    zfs.snapshot_recursive(&ds(p), "snap1", &[("org.example:why", "oracle")])
        .unwrap();
    let s1 = snap(format!("{p}/fs@snap1"));
    zfs.bookmark(&[(s1.clone(), BookmarkName::new(format!("{p}/fs#bm")).unwrap())])
        .unwrap();
    zfs.create_clone(&s1, &ds(format!("{p}/clone")), &[("mountpoint", "none")])
        .unwrap();
    zfs.hold(&[(s1.clone(), "keep")]).unwrap();
    // Received properties: a package stream (with properties) into a new dataset.
    let mut stream = tempfile::tempfile().unwrap();
    zfs.send(&s1, None, &stream, SendFlags::PROPERTIES).unwrap();
    stream.flush().unwrap();
    stream.rewind().unwrap();
    zfs.receive(
        &any(format!("{p}/recv")),
        &stream,
        &ReceiveOptions::new().no_mount(true),
    )
    .unwrap();
    guard
}

#[test]
#[ignore = "needs ZFS"]
fn everything_zfs_core_reads_matches_the_cli() {
    let zfs = zfs();
    let pool = rich(&zfs);
    let p = pool.name.as_str();
    zfs.pool(&pool.name).unwrap().sync().unwrap();
    let mut diffs = compare_names_and_holds(&zfs, p);
    diffs.extend(compare_datasets(&zfs, p));
    diffs.extend(compare_pool(&zfs, &pool.name));
    diffs.extend(compare_status(&zfs, &pool.name));
    let status = zfs.pool(&pool.name).unwrap().status().unwrap();
    assert_eq!(
        (status.root.children.len(), status.cache.len()),
        (2, 1),
        "the mirror and the log, and the cache device, were compared"
    );
    // Not in `get all`: user quotas, read on their own.
    let fs = format!("{p}/fs");
    for prop in ["userquota@root", "userused@root"] {
        let ours = zfs
            .dataset(&any(&fs))
            .unwrap()
            .property(prop)
            .unwrap()
            .value;
        let theirs = zfs_get(&fs, prop).0;
        if ours != theirs {
            diffs.push(format!("{fs} {prop}: ours {ours}, zfs get {theirs}"));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
#[ignore = "needs ZFS"]
fn changes_made_either_way_read_the_same_both_ways() {
    let zfs = zfs();
    let pool = rich(&zfs);
    let p = pool.name.as_str();
    let child = zfs.dataset(&any(format!("{p}/fs/child"))).unwrap();
    // Ours, then read by the CLI.
    child.set_property("compression", "zstd").unwrap();
    child
        .set_property("org.example:set-by", "zfs-core")
        .unwrap();
    child.inherit("recordsize", &InheritOptions::new()).unwrap();
    zfs.dataset(&any(format!("{p}/fs")))
        .unwrap()
        .inherit("org.example:tag", &InheritOptions::new().recursive(true))
        .unwrap();
    zfs.pool(&pool.name)
        .unwrap()
        .set_property("comment", "changed by zfs-core")
        .unwrap();
    assert_eq!(
        zfs_get(&format!("{p}/fs/child"), "compression"),
        ("zstd".into(), "local".into())
    );
    assert_eq!(zfs_get(&format!("{p}/fs/child"), "recordsize").1, "default");
    assert_eq!(zfs_get(&format!("{p}/fs"), "org.example:tag").0, "-");
    assert_eq!(zpool_get(p, "comment").0, "changed by zfs-core");
    // The CLI's, then read by us: everything compared again.
    cli("zfs", &["set", "atime=off", &format!("{p}/fs")]);
    cli(
        "zfs",
        &[
            "set",
            "org.example:set-by=cli",
            &format!("{p}/fs/child/grand"),
        ],
    );
    cli("zfs", &["inherit", "compression", &format!("{p}/fs/child")]);
    cli("zfs", &["snapshot", "-r", &format!("{p}/fs@snap2")]);
    cli("zpool", &["set", "autotrim=on", p]);
    let mut diffs = compare_names_and_holds(&zfs, p);
    diffs.extend(compare_datasets(&zfs, p));
    diffs.extend(compare_pool(&zfs, &pool.name));
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}
