//! The recursive destroy's two paths, one channel program for the tree and one kernel call per
//! object, against each other on the real module: the same trees (depth, clones inside and
//! outside, holds, user properties, mounted and unmounted filesystems, an encrypted subtree,
//! volumes) built twice, destroyed one way each, give the same result and the same error,
//! and a refused destroy by the program changes nothing.

mod common;

use std::path::Path;

use common::*;
use zfs_core::testing::FilePool;
use zfs_core::{CreateDataset, DestroyOptions, ErrorKind, Key, Zfs};

/// What a tree was built with, to refuse or to allow.
#[derive(Default)]
struct Built {
    held: Option<String>,
    outside_clone: Option<String>,
}

/// Builds a random tree under `root` (relative names the same for every root given the same
/// seed); `mnt` holds the mountpoints of the mounted filesystems.
fn build(zfs: &Zfs, root: &str, seed: u64, mnt: &Path) -> Built {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut built = Built::default();
    let mut filesystems = vec![root.to_owned()];
    CreateDataset::filesystem(ds(root))
        .property("mountpoint", "legacy")
        .create(zfs)
        .unwrap();
    // The tree is drawn first and created a level at a time (`create_levels`).
    let mut items = Vec::new();
    let mut mounted = Vec::new();
    let mut next = 0;
    while next < filesystems.len() && filesystems.len() < 14 {
        let parent = filesystems[next].clone();
        next += 1;
        let depth = parent.matches('/').count();
        for i in 0..rng.below(if depth < 4 { 4 } else { 1 }) {
            let name = format!("{parent}/c{i}");
            let mut create = CreateDataset::filesystem(ds(&name));
            create = match rng.below(3) {
                // Mounted at a directory of its own.
                0 => {
                    let dir = mnt.join(name.replace('/', "_"));
                    mounted.push(name.clone());
                    create.property("mountpoint", dir.to_str().unwrap())
                }
                _ => create.property("mountpoint", "legacy"),
            };
            if rng.below(3) == 0 {
                create = create.property("test:owner", &format!("u{i}"));
            }
            let encrypted = rng.below(6) == 0;
            if encrypted {
                create = create.encryption(Key::raw(&[i as u8; 32]).unwrap());
            }
            items.push((create, encrypted));
            filesystems.push(name);
        }
        if rng.below(4) == 0 {
            let vol = CreateDataset::volume(ds(format!("{parent}/vol")), 16 << 20).sparse(true);
            items.push((vol, false));
        }
    }
    create_levels(zfs, items);
    for name in &mounted {
        zfs.dataset(&any(name)).unwrap().mount().unwrap();
    }
    // At least one snapshot, so that every tree has one to hold and to clone. The snapshots
    // of each round are taken in one call (one transaction group).
    let base = format!("{root}@base");
    zfs.snapshot(&[snap(&base)], &[]).unwrap();
    let mut snapshots = vec![base];
    let mut rounds: Vec<Vec<zfs_core::SnapshotName>> = vec![Vec::new(); 2];
    for fs in &filesystems {
        for s in 0..rng.below(3) {
            let name = format!("{fs}@s{s}");
            rounds[s as usize].push(snap(&name));
            snapshots.push(name);
        }
    }
    for round in rounds.iter().filter(|r| !r.is_empty()) {
        zfs.snapshot(round, &[]).unwrap();
    }
    if let Some(origin) = snapshots.get(rng.below(snapshots.len().max(1) as u64) as usize) {
        // A clone inside the tree (destroyed before its origin), of a snapshot of another
        // filesystem of the tree.
        let clone = format!("{root}/clone");
        zfs.create_clone(&snap(origin), &ds(&clone), &[("mountpoint", "legacy")])
            .unwrap();
    }
    built.held = snapshots.last().cloned();
    built.outside_clone = snapshots.first().cloned();
    built
}

/// Every object under `root`, relative to it.
fn relative(zfs: &Zfs, root: &str) -> Vec<String> {
    if !zfs.exists(&any(root)) {
        return Vec::new();
    }
    let mut names: Vec<String> = all(zfs, root)
        .into_iter()
        .map(|n| n[root.len()..].to_owned())
        .collect();
    names.sort();
    names
}

/// Every object under `root` relative to it, with whether it is mounted: the state a refused
/// destroy must leave as it was.
fn state(zfs: &Zfs, root: &str) -> Vec<String> {
    relative(zfs, root)
        .into_iter()
        .map(|rel| {
            let name = format!("{root}{rel}");
            let mounted = !rel.contains('@')
                && zfs
                    .dataset(&any(&name))
                    .is_ok_and(|d| d.mounted_at().is_some());
            format!("{rel}{}", if mounted { " (mounted)" } else { "" })
        })
        .collect()
}

/// One path's destroy of a tree: the result, the state before and after.
struct Outcome {
    result: Result<(), zfs_core::Error>,
    before: Vec<String>,
    after: Vec<String>,
}

/// Builds the same tree under `p/fast<seed>` and `p/slow<seed>`, lets `prepare` add
/// something to each (a refusal), and destroys each one way. Both give the same result, the
/// same error, and the same trees before; (fast, slow).
fn compare(zfs: &Zfs, p: &str, seed: u64, prepare: impl Fn(&str, &Built)) -> (Outcome, Outcome) {
    let mnt = tempfile::tempdir().unwrap();
    let mut outcomes = Vec::new();
    for (path, slow) in [("fast", false), ("slow", true)] {
        let root = format!("{p}/{path}{seed}");
        let built = build(zfs, &root, seed, mnt.path());
        // udev opens each new volume to probe it; a destroy while it does is refused (Busy),
        // and with other test binaries beside this one udev can be seconds behind. The
        // volume's device appears asynchronously (a taskq makes it), so `udevadm settle` alone
        // can return before its event is even queued: wait for each volume's link first (made
        // once udev has probed it), then settle.
        for vol in cli(
            "zfs",
            &["list", "-H", "-o", "name", "-t", "volume", "-r", &root],
        )
        .lines()
        {
            let link = format!("/dev/zvol/{vol}");
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
            while !Path::new(&link).exists() {
                assert!(std::time::Instant::now() < deadline, "no {link}");
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
        cli("udevadm", &["settle"]);
        prepare(&root, &built);
        let before = state(zfs, &root);
        let opts = DestroyOptions::new()
            .recursive(true)
            .one_call_per_object(slow);
        let result = zfs.destroy(&ds(&root), &opts);
        let after = state(zfs, &root);
        outcomes.push(Outcome {
            result,
            before,
            after,
        });
    }
    let (slow, fast) = (outcomes.pop().unwrap(), outcomes.pop().unwrap());
    match (&fast.result, &slow.result) {
        (Ok(()), Ok(())) => {}
        (Err(f), Err(s)) => {
            assert_eq!(
                (f.kind(), f.reason(), f.errno()),
                (s.kind(), s.reason(), s.errno()),
                "seed {seed}: fast {f} / slow {s}"
            );
        }
        (f, s) => panic!("seed {seed}: fast {f:?}, slow {s:?}"),
    }
    assert_eq!(
        fast.before, slow.before,
        "seed {seed}: the two trees differ"
    );
    (fast, slow)
}

/// Both refused alike, and the program left everything as it was (the slow path may have
/// gone part of the way: clones inside the tree and unmounts come before its refusal).
fn refused(fast: &Outcome, kind: ErrorKind) {
    let e = fast.result.as_ref().unwrap_err();
    assert_eq!(e.kind(), kind, "{e}");
    assert_eq!(
        fast.after, fast.before,
        "a refused destroy changed something: {e}"
    );
}

#[test]
#[ignore = "needs ZFS"]
fn both_destroy_paths_agree_on_random_trees() {
    let f = FilePool::builder().size(1 << 30).create().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    for seed in seeds(2) {
        let (fast, slow) = compare(&zfs, p, seed, |_, _| {});
        fast.result.unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert!(fast.before.len() > 1, "seed {seed}: {:?}", fast.before);
        assert!(
            fast.after.is_empty() && slow.after.is_empty(),
            "seed {seed}"
        );
    }
}

#[test]
#[ignore = "needs ZFS"]
fn both_destroy_paths_refuse_alike_and_the_program_changes_nothing() {
    let f = FilePool::builder().size(1 << 30).create().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();

    // A held snapshot deep in the tree.
    let (fast, _) = compare(&zfs, p, 11, |_, built| {
        let held = built.held.clone().unwrap();
        zfs.hold(&[(snap(&held), "keep")]).unwrap();
    });
    refused(&fast, ErrorKind::Busy);

    // A clone outside the tree, without `dependents`.
    let (fast, _) = compare(&zfs, p, 12, |root, built| {
        let origin = built.outside_clone.clone().unwrap();
        let outside = format!("{}-outside", root);
        zfs.create_clone(&snap(&origin), &ds(&outside), &[("mountpoint", "legacy")])
            .unwrap();
    });
    refused(&fast, ErrorKind::Busy);

    // A filesystem in use (a file open on it), without force.
    let open = std::cell::RefCell::new(Vec::new());
    let (fast, _) = compare(&zfs, p, 13, |root, _| {
        let name = format!("{root}/busy");
        let dir = tempfile::tempdir().unwrap().keep();
        CreateDataset::filesystem(ds(&name))
            .property("mountpoint", dir.to_str().unwrap())
            .create(&zfs)
            .unwrap();
        zfs.dataset(&any(&name)).unwrap().mount().unwrap();
        open.borrow_mut()
            .push(std::fs::File::create(dir.join("open")).unwrap());
    });
    refused(&fast, ErrorKind::Busy);
    drop(open);

    // Missing.
    for slow in [false, true] {
        let e = zfs
            .destroy(
                &ds(format!("{p}/nosuch")),
                &DestroyOptions::new()
                    .recursive(true)
                    .one_call_per_object(slow),
            )
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    }
}

/// A volume held open: the one-call-per-object path destroys the snapshots and whatever
/// comes before the volume, then stops; the program sees the open volume first and changes
/// nothing. The same error from both.
#[test]
#[ignore = "needs ZFS"]
fn an_open_volume_stops_the_program_before_anything_goes() {
    let f = FilePool::builder().size(1 << 30).create().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let mut errors = Vec::new();
    for slow in [false, true] {
        let root = format!("{p}/vols{}", slow as u8);
        CreateDataset::filesystem(ds(&root)).create(&zfs).unwrap();
        for child in ["a", "b"] {
            CreateDataset::filesystem(ds(format!("{root}/{child}")))
                .create(&zfs)
                .unwrap();
            zfs.snapshot(&[snap(format!("{root}/{child}@s"))], &[])
                .unwrap();
        }
        let vol = format!("{root}/a/vol");
        CreateDataset::volume(ds(&vol), 16 << 20)
            .sparse(true)
            .create(&zfs)
            .unwrap();
        cli("udevadm", &["settle"]);
        let device = format!("/dev/zvol/{vol}");
        // udev makes the link; under emulation on a loaded host that took over 20 s once.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while !Path::new(&device).exists() {
            assert!(std::time::Instant::now() < deadline, "no {device}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let held_open = std::fs::File::open(&device).unwrap();
        let before = state(&zfs, &root);
        let e = zfs
            .destroy(
                &ds(&root),
                &DestroyOptions::new()
                    .recursive(true)
                    .one_call_per_object(slow),
            )
            .unwrap_err();
        let after = state(&zfs, &root);
        if !slow {
            assert_eq!(after, before, "the program changed something: {e}");
        } else {
            assert!(
                after.len() < before.len(),
                "the slow path went part of the way"
            );
        }
        errors.push((e.kind(), e.errno()));
        drop(held_open);
    }
    assert_eq!(errors[0], errors[1]);
    assert_eq!(errors[0].0, ErrorKind::Busy);
}
