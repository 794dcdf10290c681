//! A pool's devices after `create`: add, remove, replace, online/offline/fault/clear and
//! labelclear, on the real kernel module, each checked with `zpool status -P` and `zdb -l`.

mod common;

use std::path::Path;

use common::*;
use zfs_core::nvlist::NvList;
use zfs_core::testing::{label_ashifts, FilePool};
use zfs_core::{
    AddOptions, AttachOptions, BootEnv, CreateDataset, DeviceWorkState, ErrorKind, ExportOptions,
    Health, ImportOptions, LabelClearOptions, Leaf, OfflineOptions, OnlineOptions, Reason,
    RemovalState, ReopenOptions, SplitOptions, StatusCode, TopLevel, TrimOptions, VdevSpec,
    WaitActivity, BOOTENV_MAX,
};

/// The state `zpool status -P` shows for `device`, or `None` if it does not list it.
fn cli_state(pool: &str, device: &Path) -> Option<String> {
    let status = zpool_status(pool);
    status.lines().find_map(|l| {
        let mut words = l.split_whitespace();
        (words.next() == Some(device.to_str().unwrap())).then(|| words.next().unwrap().to_owned())
    })
}

fn mirror_of(files: &[&Path]) -> VdevSpec {
    VdevSpec::new().vdev(TopLevel::Mirror(files.iter().map(Leaf::file).collect()))
}

#[test]
#[ignore = "needs ZFS"]
fn add_widens_the_pool_with_its_ashift_and_refuses_what_zpool_add_refuses() {
    let f = FilePool::builder()
        .pool_property("ashift", "12")
        .create()
        .unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let pool = zfs.pool(f.name()).unwrap();
    let b = f.new_file("b").unwrap();
    pool.add(&VdevSpec::new().file(&b), &AddOptions::new())
        .unwrap();
    assert_eq!(cli_state(p, &b).as_deref(), Some("ONLINE"));
    // The new disk is labelled 4 KiB like the pool, whatever its own sector size.
    assert_eq!(label_ashifts(&b), [12]);
    let status = pool.status().unwrap();
    assert_eq!(status.root.children.len(), 2);
    assert_eq!(status.root.children[1].ashift, Some(12));

    // A mirror on a pool of single devices: refused as `zpool add` refuses it.
    let (c, d) = (f.new_file("c").unwrap(), f.new_file("d").unwrap());
    let before = zpool_status(p);
    let e = pool
        .add(&mirror_of(&[&c, &d]), &AddOptions::new())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert_eq!(e.reason(), Some(Reason::ReplicationMismatch), "{e}");
    assert!(
        e.to_string()
            .contains("pool uses file and new vdev is mirror"),
        "{e}"
    );
    let cli = cli_fails("zpool", &["add", "-n", p, "mirror", path(&c), path(&d)]);
    assert!(
        cli.contains("mismatched replication level: pool uses file and new vdev is mirror"),
        "{cli}"
    );
    // Other refusals, each changing nothing.
    let other = FilePool::new().unwrap();
    let e = pool
        .add(&VdevSpec::new().file(other.vdev()), &AddOptions::new())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    assert_eq!(e.reason(), Some(Reason::DeviceInUse), "{e}");
    let e = pool
        .add(&VdevSpec::new().file(&c), &AddOptions::new().ashift(17))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let e = pool.add(&VdevSpec::new(), &AddOptions::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let e = pool
        .add(
            &VdevSpec::new().file(f.dir().join("missing")),
            &AddOptions::new(),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let small = f.dir().join("small");
    std::fs::File::create(&small)
        .unwrap()
        .set_len(32 << 20)
        .unwrap();
    let e = pool
        .add(&VdevSpec::new().file(&small), &AddOptions::new())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DeviceTooSmall, "{e}");
    assert_eq!(zpool_status(p), before);
    assert_eq!(zfs.device_label(&c).unwrap(), None);

    // Forced, the mirror goes in.
    pool.add(
        &mirror_of(&[&c, &d]),
        &AddOptions::new().allow_replication_mismatch(true),
    )
    .unwrap();
    assert_eq!(cli_state(p, &c).as_deref(), Some("ONLINE"));
    assert!(zpool_status(p).contains("mirror-2"));
    assert_eq!(label_ashifts(&c), [12]);

    // Log, cache and spare devices, which never count for redundancy.
    let (log, cache, spare) = (
        f.new_file("log").unwrap(),
        f.new_file("cache").unwrap(),
        f.new_file("spare").unwrap(),
    );
    let extras = VdevSpec::new()
        .log(TopLevel::Single(Leaf::file(&log)))
        .cache(Leaf::file(&cache))
        .spare(Leaf::file(&spare));
    pool.add(&extras, &AddOptions::new()).unwrap();
    let status = pool.status().unwrap();
    assert!(status
        .root
        .children
        .iter()
        .any(|v| v.is_log && v.name == path(&log)));
    assert_eq!(status.cache[0].name, path(&cache));
    assert_eq!(status.spares[0].name, path(&spare));
    assert_eq!(status.spares[0].state, Health::Available);
    assert_eq!(cli_state(p, &spare).as_deref(), Some("AVAIL"));
    assert_eq!(cli_state(p, &cache).as_deref(), Some("ONLINE"));
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
#[ignore = "needs ZFS"]
fn remove_evacuates_a_data_vdev_and_drops_logs_caches_and_spares() {
    let f = FilePool::builder().log().cache().spare().create().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let pool = zfs.pool(f.name()).unwrap();
    let b = f.new_file("b").unwrap();
    pool.add(&VdevSpec::new().file(&b), &AddOptions::new())
        .unwrap();
    assert_eq!(pool.status().unwrap().removal, None);

    // Nothing to stop, nothing to remove.
    let e = pool.stop_remove().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e = pool.remove(&f.dir().join("missing")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");

    // b's top-level index (the log device added at creation is index 1).
    let index = pool
        .status()
        .unwrap()
        .root
        .children
        .iter()
        .position(|v| v.name == path(&b))
        .unwrap() as u64;
    assert_eq!(index, 2);
    pool.remove(&b).unwrap();
    zfs.wait(f.name(), WaitActivity::Remove).unwrap();
    let status = pool.status().unwrap();
    let removal = status.removal.expect("a removal ran");
    assert_eq!(removal.state, RemovalState::Finished);
    assert_eq!(removal.vdev, index);
    assert_eq!(removal.copied, removal.to_copy);
    assert!(removal.end_time >= removal.start_time && removal.start_time > 0);
    // The indirect vdev left behind is not a device, as `zpool status` shows.
    assert_eq!(cli_state(p, &b), None);
    let data: Vec<_> = status.root.children.iter().filter(|v| !v.is_log).collect();
    assert_eq!(data.len(), 1, "{:?}", status.root.children);
    let cli = zpool_status(p);
    assert!(
        cli.contains(&format!("Removal of vdev {index} copied")),
        "{cli}"
    );

    // The last data vdev cannot go.
    let e = pool.remove(f.vdev()).unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::InvalidArgument | ErrorKind::Busy | ErrorKind::NoSpace
        ),
        "{e}"
    );
    assert_eq!(cli_state(p, f.vdev()).as_deref(), Some("ONLINE"));

    for extra in [&f.log_files()[0], &f.cache_files()[0], &f.spare_files()[0]] {
        assert!(cli_state(p, extra).is_some());
        pool.remove(extra).unwrap();
        assert_eq!(cli_state(p, extra), None, "{}", extra.display());
    }
    let status = pool.status().unwrap();
    assert!(status.cache.is_empty() && status.spares.is_empty());
    assert!(status.root.children.iter().all(|v| !v.is_log));
}

#[test]
#[ignore = "needs ZFS"]
fn a_mirror_side_goes_offline_faulted_and_back() {
    let f = FilePool::builder().mirror(2).create().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let pool = zfs.pool(f.name()).unwrap();
    let [a, b] = [&f.data_files()[0], &f.data_files()[1]];

    pool.offline(a, &OfflineOptions::new()).unwrap();
    assert_eq!(cli_state(p, a).as_deref(), Some("OFFLINE"));
    assert_eq!(pool.health().unwrap(), Health::Degraded);
    let status = pool.status().unwrap();
    let side = &status.root.children[0].children[0];
    assert_eq!((side.name.as_str(), side.state), (path(a), Health::Offline));
    assert_eq!(status.code, StatusCode::OfflineDevice);
    assert!(cli("zpool", &["status", p]).contains("taken offline by the administrator"));
    // The other side holds the only copy of the data: ZFS keeps it.
    let e = pool.offline(b, &OfflineOptions::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    assert_eq!(cli_state(p, b).as_deref(), Some("ONLINE"));
    assert_eq!(
        pool.online(a, &OnlineOptions::new()).unwrap(),
        Health::Online
    );
    zfs.wait(f.name(), WaitActivity::Resilver).unwrap();
    assert_eq!(cli_state(p, a).as_deref(), Some("ONLINE"));
    assert_eq!(pool.health().unwrap(), Health::Online);

    // Faulted (zpool offline -f), then cleared.
    pool.offline(a, &OfflineOptions::new().fault(true)).unwrap();
    assert_eq!(cli_state(p, a).as_deref(), Some("FAULTED"));
    assert_eq!(pool.health().unwrap(), Health::Degraded);
    pool.clear(Some(a)).unwrap();
    zfs.wait(f.name(), WaitActivity::Resilver).unwrap();
    assert_eq!(cli_state(p, a).as_deref(), Some("ONLINE"));
    pool.clear(None).unwrap();

    // Temporarily offline: back online after the next import.
    pool.offline(b, &OfflineOptions::new().temporary(true))
        .unwrap();
    assert_eq!(cli_state(p, b).as_deref(), Some("OFFLINE"));
    drop(pool);
    zfs.export_pool(f.name(), &ExportOptions::new()).unwrap();
    zfs.import_pool(f.name(), &ImportOptions::new().dir(f.dir()))
        .unwrap();
    zfs.wait(f.name(), WaitActivity::Resilver).unwrap();
    assert_eq!(cli_state(p, b).as_deref(), Some("ONLINE"));

    // Devices the pool does not have.
    let pool = zfs.pool(f.name()).unwrap();
    let missing = f.dir().join("missing");
    for e in [
        pool.offline(&missing, &OfflineOptions::new()).unwrap_err(),
        pool.offline(&missing, &OfflineOptions::new().fault(true))
            .unwrap_err(),
        pool.online(&missing, &OnlineOptions::new()).unwrap_err(),
        pool.clear(Some(&missing)).unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    }
}

#[test]
#[ignore = "needs ZFS"]
fn replace_a_mirror_side_with_another_disk_and_in_place() {
    let f = FilePool::builder().mirror(2).create().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let pool = zfs.pool(f.name()).unwrap();
    let [a, b] = [f.data_files()[0].clone(), f.data_files()[1].clone()];

    let c = f.new_file("c").unwrap();
    pool.replace(&a, Some(&Leaf::file(&c)), &AttachOptions::new())
        .unwrap();
    zfs.wait(f.name(), WaitActivity::Replace).unwrap();
    assert_eq!(cli_state(p, &a), None);
    assert_eq!(cli_state(p, &c).as_deref(), Some("ONLINE"));

    // A swapped disk at the same path: a blank file where `b` was.
    pool.offline(&b, &OfflineOptions::new()).unwrap();
    std::fs::remove_file(&b).unwrap();
    std::fs::File::create(&b)
        .unwrap()
        .set_len(256 << 20)
        .unwrap();
    pool.replace(&b, None, &AttachOptions::new()).unwrap();
    zfs.wait(f.name(), WaitActivity::Replace).unwrap();
    assert_eq!(cli_state(p, &b).as_deref(), Some("ONLINE"));
    assert_eq!(pool.health().unwrap(), Health::Online);

    // Refusals: a device of another pool, one too small, a missing old device.
    let before = zpool_status(p);
    let other = FilePool::new().unwrap();
    let e = pool
        .replace(&c, Some(&Leaf::file(other.vdev())), &AttachOptions::new())
        .unwrap_err();
    assert_eq!(e.reason(), Some(Reason::DeviceInUse), "{e}");
    let small = f.dir().join("small");
    std::fs::File::create(&small)
        .unwrap()
        .set_len(100 << 20)
        .unwrap();
    let e = pool
        .replace(&c, Some(&Leaf::file(&small)), &AttachOptions::new())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DeviceTooSmall, "{e}");
    let d = f.new_file("d").unwrap();
    let e = pool
        .replace(
            &f.dir().join("missing"),
            Some(&Leaf::file(&d)),
            &AttachOptions::new(),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(zpool_status(p), before);
}

#[test]
#[ignore = "needs ZFS"]
fn labelclear_wipes_an_exported_pools_disk_and_never_a_live_one() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let vdev = f.vdev().to_owned();
    let force = LabelClearOptions::new().force(true);

    // A device of an imported pool: refused, forced or not.
    for opts in [LabelClearOptions::new(), force] {
        let e = zfs.labelclear(&vdev, &opts).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
        assert_eq!(e.reason(), Some(Reason::DeviceInUse), "{e}");
    }
    assert_eq!(label_ashifts(&vdev).len(), 1);

    zfs.export_pool(f.name(), &ExportOptions::new()).unwrap();
    let e = zfs
        .labelclear(&vdev, &LabelClearOptions::new())
        .unwrap_err();
    assert_eq!(e.reason(), Some(Reason::DeviceInUse), "{e}");
    assert!(e.to_string().contains("exported pool"), "{e}");
    assert_eq!(
        zfs.importable_pools(&ImportOptions::new().dir(f.dir()))
            .unwrap()
            .len(),
        1
    );

    zfs.labelclear(&vdev, &force).unwrap();
    let zdb = std::process::Command::new("zdb")
        .arg("-l")
        .arg(&vdev)
        .output()
        .unwrap();
    let zdb = String::from_utf8_lossy(&zdb.stdout);
    assert!(zdb.contains("failed to unpack label"), "{zdb}");
    assert!(label_ashifts(&vdev).is_empty());
    assert_eq!(zfs.device_label(&vdev).unwrap(), None);
    assert!(zfs
        .importable_pools(&ImportOptions::new().dir(f.dir()))
        .unwrap()
        .is_empty());
    // Nothing left to clear: success, as the caller wanted a device without a label.
    zfs.labelclear(&vdev, &LabelClearOptions::new()).unwrap();
    let blank = f.dir().join("blank");
    std::fs::File::create(&blank)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    zfs.labelclear(&blank, &LabelClearOptions::new()).unwrap();

    let e = zfs
        .labelclear(&f.dir().join("missing"), &LabelClearOptions::new())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}

/// A mirror side whose file is emptied under the pool and then restored: `reopen` makes the
/// pool see each, as `zpool reopen` does (a file vdev is reopened through the descriptor it
/// already has, so a rename would go unnoticed: its size is what changes). GUIDs are those
/// `zpool status -g` prints.
#[test]
#[ignore = "needs ZFS"]
fn reopen_sees_a_device_go_and_come_back_and_guids_match_zpool_status() {
    let f = FilePool::builder().mirror(2).create().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let pool = zfs.pool(f.name()).unwrap();
    let status = pool.status().unwrap();
    let by_guid = cli("zpool", &["status", "-g", p]);
    let mirror = &status.root.children[0];
    for v in [mirror, &mirror.children[0], &mirror.children[1]] {
        assert!(
            v.guid != 0 && by_guid.contains(&v.guid.to_string()),
            "{v:?}\n{by_guid}"
        );
    }
    assert_eq!(status.root.guid, pool.guid().unwrap());

    let side = &f.data_files()[1];
    let saved = f.dir().join("saved");
    cli("cp", &["--sparse=always", path(side), path(&saved)]);
    std::fs::OpenOptions::new()
        .write(true)
        .open(side)
        .unwrap()
        .set_len(0)
        .unwrap();
    pool.reopen(&ReopenOptions::new()).unwrap();
    assert_eq!(cli_state(p, side).as_deref(), Some("UNAVAIL"));
    let status = pool.status().unwrap();
    assert_eq!(status.root.children[0].children[1].state, Health::Unavail);
    assert_eq!(pool.health().unwrap(), Health::Degraded);

    // The same file (same inode) gets its contents back.
    cli(
        "dd",
        &[
            &format!("if={}", path(&saved)),
            &format!("of={}", path(side)),
            "conv=notrunc,sparse",
            "bs=1M",
            "status=none",
        ],
    );
    pool.reopen(&ReopenOptions::new().no_scrub_restart(true))
        .unwrap();
    zfs.wait(f.name(), WaitActivity::Resilver).unwrap();
    assert_eq!(cli_state(p, side).as_deref(), Some("ONLINE"));
    assert_eq!(pool.health().unwrap(), Health::Online);
}

/// The `(...)` note `zpool status -i`/`-t` prints after `device`, if any.
fn cli_note(pool: &str, flag: &str, device: &Path) -> String {
    let out = cli("zpool", &["status", "-P", flag, pool]);
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(path(device)))
        .and_then(|l| {
            l.split_once('(')
                .map(|(_, note)| note.trim_end_matches(')').to_owned())
        })
        .unwrap_or_default()
}

#[test]
#[ignore = "needs ZFS"]
fn initialize_and_trim_every_device_report_progress_and_refuse_what_they_cannot_do() {
    let f = FilePool::builder()
        .mirror(2)
        .log()
        .spare()
        .create()
        .unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let pool = zfs.pool(f.name()).unwrap();
    let a = &f.data_files()[0];

    // Nothing running: nothing to pause or stop.
    for e in [
        pool.pause_initialize(&[a]).unwrap_err(),
        pool.stop_initialize(&[a]).unwrap_err(),
        pool.pause_trim(&[a]).unwrap_err(),
        pool.stop_trim(&[a]).unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    }
    let missing = f.dir().join("missing");
    let e = pool.initialize(&[&missing]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e = pool.initialize(&[&f.spare_files()[0]]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let e = pool
        .trim(&[a], &TrimOptions::new().secure(true))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotSupported, "{e}");

    // One device, waited for by itself (what `zpool initialize -w POOL DEVICE` does).
    pool.initialize(&[a]).unwrap();
    pool.wait_device(a, WaitActivity::Initialize).unwrap();
    let progress = leaf_of(&pool.status().unwrap(), a).initialize.unwrap();
    assert_eq!(progress.state, DeviceWorkState::Complete);
    assert!(!pool.wait_device(a, WaitActivity::Initialize).unwrap());
    assert!(!pool.wait_device(a, WaitActivity::Trim).unwrap());
    let e = pool.wait_device(a, WaitActivity::Scrub).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let e = pool
        .wait_device(&missing, WaitActivity::Initialize)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    pool.uninitialize(&[a]).unwrap();

    // Every data and log device, to the end.
    pool.initialize(&[]).unwrap();
    zfs.wait(f.name(), WaitActivity::Initialize).unwrap();
    let status = pool.status().unwrap();
    let devices = [a, &f.data_files()[1], &f.log_files()[0]];
    for d in devices {
        let progress = leaf_of(&status, d).initialize.expect("initialized");
        assert_eq!(progress.state, DeviceWorkState::Complete, "{}", d.display());
        // The estimate is the whole device; only its free space is written.
        assert!(progress.bytes_done > 0 && progress.bytes_done <= progress.bytes_total);
        assert!(progress.action_time > 0 && progress.errors == 0);
        assert!(
            cli_note(p, "-i", d).starts_with("100% initialized"),
            "{}",
            cli_note(p, "-i", d)
        );
    }
    assert_eq!(leaf_of(&status, a).slow_ios, 0);
    pool.uninitialize(&[a]).unwrap();
    assert_eq!(leaf_of(&pool.status().unwrap(), a).initialize, None);
    assert_eq!(cli_note(p, "-i", a), "uninitialized");

    pool.trim(&[], &TrimOptions::new().rate(1 << 30)).unwrap();
    zfs.wait(f.name(), WaitActivity::Trim).unwrap();
    let status = pool.status().unwrap();
    for d in devices {
        let progress = leaf_of(&status, d).trim.expect("trimmed");
        assert_eq!(progress.state, DeviceWorkState::Complete, "{}", d.display());
        assert!(
            cli_note(p, "-t", d).starts_with("100% trimmed"),
            "{}",
            cli_note(p, "-t", d)
        );
    }

    // Slowed down to 1 MiB/s, a trim is caught running: paused, resumed, stopped.
    pool.trim(&[a], &TrimOptions::new().rate(1 << 20)).unwrap();
    let state = |pool: &zfs_core::Pool<'_>| leaf_of(&pool.status().unwrap(), a).trim.unwrap().state;
    assert_eq!(state(&pool), DeviceWorkState::Active);
    // Started again while it runs: refused as busy ("currently trimming"), the trim untouched.
    let e = pool.trim(&[a], &TrimOptions::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    assert_eq!(state(&pool), DeviceWorkState::Active);
    pool.pause_trim(&[a]).unwrap();
    assert_eq!(state(&pool), DeviceWorkState::Suspended);
    assert!(
        cli_note(p, "-t", a).contains("suspended"),
        "{}",
        cli_note(p, "-t", a)
    );
    pool.trim(&[a], &TrimOptions::new().rate(1 << 20)).unwrap();
    assert_eq!(state(&pool), DeviceWorkState::Active);
    pool.stop_trim(&[a]).unwrap();
    assert_eq!(state(&pool), DeviceWorkState::Canceled);
    assert!(!zfs.wait(f.name(), WaitActivity::Trim).unwrap());
}

fn leaf_of<'a>(status: &'a zfs_core::PoolStatus, device: &Path) -> &'a zfs_core::VdevStatus {
    fn find<'a>(v: &'a zfs_core::VdevStatus, name: &str) -> Option<&'a zfs_core::VdevStatus> {
        (v.name == name)
            .then_some(v)
            .or_else(|| v.children.iter().find_map(|c| find(c, name)))
    }
    find(&status.root, path(device)).expect("the device is in the pool")
}

#[test]
#[ignore = "needs ZFS"]
fn split_makes_a_new_pool_from_one_side_of_each_mirror() {
    let zfs = zfs();
    let single = FilePool::new().unwrap();
    let e = zfs
        .pool(single.name())
        .unwrap()
        .split(&unique("half"), &SplitOptions::new())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let e = zfs
        .pool(single.name())
        .unwrap()
        .split(single.name(), &SplitOptions::new())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");

    let f = FilePool::builder().mirror(3).create().unwrap();
    let p = f.name().as_str();
    CreateDataset::filesystem(ds(format!("{p}/kept")))
        .create(&zfs)
        .unwrap();
    let pool = zfs.pool(f.name()).unwrap();
    let [a, b, c] = [&f.data_files()[0], &f.data_files()[1], &f.data_files()[2]];

    // The last side, left exported.
    let half = unique("half");
    pool.split(&half, &SplitOptions::new()).unwrap();
    assert!(!zfs.pool_exists(&half));
    assert_eq!(cli_state(p, c), None);
    let found = zfs
        .importable_pools(&ImportOptions::new().dir(f.dir()))
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name, half);
    let new = zfs
        .import_pool(&half, &ImportOptions::new().dir(f.dir()))
        .unwrap();
    assert_eq!(cli_state(half.as_str(), c).as_deref(), Some("ONLINE"));
    assert!(zfs.exists(&ds(format!("{half}/kept"))));
    drop(new);
    zfs.destroy_pool(&half).unwrap();

    // A chosen side, left imported.
    let other = unique("other");
    pool.split(&other, &SplitOptions::new().device(a).import(true))
        .unwrap();
    assert!(zfs.pool_exists(&other));
    assert_eq!(cli_state(other.as_str(), a).as_deref(), Some("ONLINE"));
    assert_eq!(cli_state(p, a), None);
    assert_eq!(cli_state(p, b).as_deref(), Some("ONLINE"));
    zfs.destroy_pool(&other).unwrap();
}

/// The kernel's `zfs_removal_suspend_progress` tunable, set for the life of the guard: a
/// removal started meanwhile stays running, so it can be watched and stopped.
struct RemovalHeld;

impl RemovalHeld {
    fn new() -> RemovalHeld {
        std::fs::write(
            "/sys/module/zfs/parameters/zfs_removal_suspend_progress",
            "1",
        )
        .unwrap();
        RemovalHeld
    }
}

impl Drop for RemovalHeld {
    fn drop(&mut self) {
        let _ = std::fs::write(
            "/sys/module/zfs/parameters/zfs_removal_suspend_progress",
            "0",
        );
    }
}

/// A removal caught running (`zpool status` says so) and stopped with `zpool remove -s`: the
/// device stays. Forced options: an exported pool's device added with `force`, a sequential
/// (`-s`) rebuild for an attach.
#[test]
#[ignore = "needs ZFS"]
fn a_running_removal_is_stopped_and_forced_options_do_what_the_cli_flags_do() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let pool = zfs.pool(f.name()).unwrap();
    let b = f.new_file("b").unwrap();
    pool.add(&VdevSpec::new().file(&b), &AddOptions::new())
        .unwrap();
    // Data on both vdevs, so that removing one has something to copy.
    with_data(&zfs, &format!("{p}/data"), &[], |dir| {
        std::fs::write(dir.join("blob"), incompressible(16)).unwrap();
    });
    let held = RemovalHeld::new();
    pool.remove(&b).unwrap();
    let removal = pool.status().unwrap().removal.unwrap();
    assert_eq!(removal.state, RemovalState::Running);
    assert!(
        zpool_status(p).contains("Evacuation of"),
        "{}",
        zpool_status(p)
    );
    pool.stop_remove().unwrap();
    drop(held);
    let removal = pool.status().unwrap().removal.unwrap();
    assert_eq!(removal.state, RemovalState::Canceled);
    assert_eq!(cli_state(p, &b).as_deref(), Some("ONLINE"));
    assert!(zpool_status(p).contains("canceled"), "{}", zpool_status(p));

    // A device of an exported pool: refused, then taken with -f.
    let other = FilePool::new().unwrap();
    zfs.export_pool(other.name(), &ExportOptions::new())
        .unwrap();
    let spec = VdevSpec::new().file(other.vdev());
    let e = pool.add(&spec, &AddOptions::new()).unwrap_err();
    assert_eq!(e.reason(), Some(Reason::DeviceInUse), "{e}");
    pool.add(&spec, &AddOptions::new().force(true)).unwrap();
    assert_eq!(cli_state(p, other.vdev()).as_deref(), Some("ONLINE"));
    let c = f.new_file("c").unwrap();
    pool.add(
        &VdevSpec::new().file(&c),
        &AddOptions::new()
            .allow_in_use(true)
            .allow_ashift_mismatch(true),
    )
    .unwrap();

    // A sequential rebuild (-s) for a new mirror side.
    let d = f.new_file("d").unwrap();
    pool.attach(
        &c,
        &Leaf::file(&d),
        &AttachOptions::new().sequential(true).force(true),
    )
    .unwrap();
    zfs.wait(f.name(), WaitActivity::Resilver).unwrap();
    assert_eq!(cli_state(p, &d).as_deref(), Some("ONLINE"));
    assert!(cli("zpool", &["history", p]).contains(&format!(
        "zpool attach -f -s {p} {} {}",
        c.display(),
        d.display()
    )));
    let e = pool.detach(Path::new("/dev/a\0b")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
}

/// How many of the four labels of the device file `file` hold `needle` in their boot
/// environment block (bytes 8 to 16 KiB of each 256 KiB label; two labels at the front of the
/// device, two at its end), read from the file itself.
fn labels_holding(file: &Path, needle: &[u8]) -> usize {
    let bytes = std::fs::read(file).unwrap();
    let label = 256 << 10;
    let end = bytes.len() / label * label;
    [0, label, end - 2 * label, end - label]
        .iter()
        .filter(|&&at| {
            bytes[at + 8192..at + 16384]
                .windows(needle.len())
                .any(|w| w == needle)
        })
        .count()
}

/// The boot environment (`libzfsbootenv`'s block) is written to every label of every device,
/// in both of its forms, and refused whole when it does not fit.
#[test]
#[ignore = "needs ZFS"]
fn the_boot_environment_is_written_to_every_label_and_read_back() {
    let f = FilePool::builder().mirror(2).create().unwrap();
    let zfs = zfs();
    let pool = zfs.pool(f.name()).unwrap();
    assert!(matches!(pool.bootenv().unwrap(), BootEnv::Raw(t) if t.is_empty()));

    let mut pairs = NvList::new();
    pairs
        .insert_str("linux:zfs-core-test", "once=zroot/root@blank")
        .unwrap();
    pool.set_bootenv(&BootEnv::Pairs(pairs)).unwrap();
    let BootEnv::Pairs(read) = pool.bootenv().unwrap() else {
        panic!("pairs were written")
    };
    let value = read.get_str("linux:zfs-core-test");
    assert_eq!(value.as_deref(), Some("once=zroot/root@blank"));
    for file in f.data_files() {
        assert_eq!(labels_holding(file, b"once=zroot/root@blank"), 4);
    }

    // GRUB's raw block, to the last byte it holds; one more is refused, as are pairs too
    // large for the label, and what was written stays.
    let grub = "# GRUB Environment Block\nsaved_entry=nixos\n";
    let block = |pad: usize| BootEnv::Raw(format!("{grub}{}", "#".repeat(pad)));
    let (mut fits, mut too_big) = (0, BOOTENV_MAX);
    while too_big - fits > 1 {
        let mid = (fits + too_big) / 2;
        match pool.set_bootenv(&block(mid)) {
            Ok(()) => fits = mid,
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
                too_big = mid;
            }
        }
    }
    // Within the packing's few dozen bytes of the block's size.
    assert!(grub.len() + fits > BOOTENV_MAX - 100, "{fits}");
    let text = format!("{grub}{}", "#".repeat(fits));
    pool.set_bootenv(&BootEnv::Raw(text.clone())).unwrap();
    assert!(matches!(pool.bootenv().unwrap(), BootEnv::Raw(t) if t == text));
    for file in f.data_files() {
        assert_eq!(labels_holding(file, b"saved_entry=nixos"), 4);
        assert_eq!(labels_holding(file, b"once=zroot/root@blank"), 0);
    }
    let e = pool.set_bootenv(&block(fits + 1)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let mut big = NvList::new();
    big.insert_str("linux:big", &"x".repeat(9000)).unwrap();
    let e = pool.set_bootenv(&BootEnv::Pairs(big)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert!(matches!(pool.bootenv().unwrap(), BootEnv::Raw(t) if t == text));
    let history = cli("zpool", &["history", f.name().as_str()]);
    assert!(
        history.contains("(zfs-core): zpool_set_bootenv"),
        "{history}"
    );
}
