//! Import/export, properties, status and maintenance on the real kernel module.

mod common;

use std::time::{Duration, Instant};

use common::*;
use zfs_core::testing::FilePool;
use zfs_core::{
    CreatePool, DdtPrune, ErrorKind, ImportOptions, PoolState, PropSource, ScanState, VdevSpec,
    WaitActivity,
};

#[test]
#[ignore = "needs ZFS"]
fn export_then_import_by_directory() {
    let fixture = FilePool::new().unwrap();
    let zfs = zfs();
    let guid = zfs.pool(fixture.name()).unwrap().guid().unwrap();
    zfs.export_pool(fixture.name(), &ExportOptions::new())
        .unwrap();
    assert!(!zfs.pool_exists(fixture.name()));
    assert!(!cli_pools().contains(&fixture.name().to_string()));

    let opts = ImportOptions::new().dir(fixture.dir());
    let found = zfs.importable_pools(&opts).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(&found[0].name, fixture.name());
    assert_eq!(found[0].guid, guid);
    assert_eq!(found[0].state, PoolState::Exported);

    let pool = zfs.import_pool(fixture.name(), &opts).unwrap();
    assert_eq!(pool.guid().unwrap(), guid);
    assert_eq!(pool.state().unwrap(), PoolState::Active);
    assert!(cli_pools().contains(&fixture.name().to_string()));
}

#[test]
#[ignore = "needs ZFS"]
fn a_destroyed_pool_is_found_and_imported_only_when_asked_for() {
    let fixture = FilePool::new().unwrap();
    let zfs = zfs();
    let guid = zfs.pool(fixture.name()).unwrap().guid().unwrap();
    zfs.destroy_pool(fixture.name()).unwrap();
    assert!(!cli_pools().contains(&fixture.name().to_string()));

    // As `zpool import`: a destroyed pool is not importable...
    let opts = ImportOptions::new().dir(fixture.dir());
    assert!(zfs.importable_pools(&opts).unwrap().is_empty());
    let e = zfs.import_pool(fixture.name(), &opts).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(!cli_pools().contains(&fixture.name().to_string()));

    // ... unless asked for, as `zpool import -D` (which lists it too).
    let listed = cli(
        "zpool",
        &["import", "-D", "-d", fixture.dir().to_str().unwrap()],
    );
    assert!(listed.contains(fixture.name().as_str()), "{listed}");
    let opts = opts.destroyed(true);
    let found = zfs.importable_pools(&opts).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].guid, found[0].state),
        (guid, PoolState::Destroyed)
    );
    let pool = zfs.import_pool(fixture.name(), &opts).unwrap();
    assert_eq!(pool.guid().unwrap(), guid);
    assert_eq!(pool.state().unwrap(), PoolState::Active);
    assert!(cli_pools().contains(&fixture.name().to_string()));
}

#[test]
#[ignore = "needs ZFS"]
fn import_under_a_new_name() {
    let mut fixture = FilePool::new().unwrap();
    let zfs = zfs();
    let old = fixture.name().clone();
    zfs.export_pool(fixture.name(), &ExportOptions::new())
        .unwrap();
    let new = unique("renamed");
    let pool = zfs
        .import_pool(
            fixture.name(),
            &ImportOptions::new()
                .dir(fixture.dir())
                .new_name(new.clone()),
        )
        .unwrap();
    fixture.renamed(new.clone());
    assert_eq!(pool.name(), &new);
    assert!(!zfs.pool_exists(&old), "the old name is still imported");
    let listed = cli_pools();
    assert!(listed.contains(&new.to_string()));
    assert!(!listed.contains(&old.to_string()));
    assert!(zfs
        .importable_pools(&ImportOptions::new().dir(fixture.dir()))
        .unwrap()
        .is_empty());
}

#[test]
#[ignore = "needs ZFS"]
fn import_read_only() {
    let fixture = FilePool::new().unwrap();
    let zfs = zfs();
    zfs.export_pool(fixture.name(), &ExportOptions::new())
        .unwrap();
    let pool = zfs
        .import_pool(
            fixture.name(),
            &ImportOptions::new().dir(fixture.dir()).readonly(true),
        )
        .unwrap();
    assert_eq!(pool.property("readonly").unwrap().value, "on");
    assert_eq!(zpool_get(fixture.name().as_str(), "readonly").0, "on");
    let e = pool.set_property("comment", "hello").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ReadOnly, "{e}");
}

#[test]
#[ignore = "needs ZFS"]
fn import_errors_change_nothing() {
    let fixture = FilePool::new().unwrap();
    let zfs = zfs();
    let empty = tempfile::tempdir().unwrap();
    // Nothing exported there.
    let e = zfs
        .import_pool(fixture.name(), &ImportOptions::new().dir(empty.path()))
        .unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::AlreadyExists,
        "the name is imported: {e}"
    );
    let e = zfs
        .import_pool(&unique("ghost"), &ImportOptions::new().dir(empty.path()))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e = zfs
        .importable_pools(&ImportOptions::new().dir(empty.path().join("nope")))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    // Exported, then imported under a name that is taken.
    let other = FilePool::new().unwrap();
    zfs.export_pool(fixture.name(), &ExportOptions::new())
        .unwrap();
    let e = zfs
        .import_pool(
            fixture.name(),
            &ImportOptions::new()
                .dir(fixture.dir())
                .new_name(other.name().clone()),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    assert!(
        !zfs.pool_exists(fixture.name()),
        "the refused import imported it anyway"
    );
    assert_eq!(
        zfs.importable_pools(&ImportOptions::new().dir(fixture.dir()))
            .unwrap()
            .len(),
        1
    );
}

#[test]
#[ignore = "needs ZFS"]
fn properties_get_and_set() {
    let fixture = FilePool::builder()
        .pool_property("ashift", "12")
        .create()
        .unwrap();
    let zfs = zfs();
    let pool = zfs.pool(fixture.name()).unwrap();
    let name = fixture.name().as_str();

    let ashift = pool.property("ashift").unwrap();
    assert_eq!(
        (ashift.value.as_str(), &ashift.source),
        ("12", &PropSource::Local)
    );
    let size = pool.property_u64("size").unwrap();
    assert_eq!(size.to_string(), zpool_get(name, "size").0);
    assert_eq!(
        pool.property("autotrim").unwrap().source,
        PropSource::Default
    );
    assert_eq!(pool.guid().unwrap().to_string(), zpool_get(name, "guid").0);

    pool.set_property("autotrim", "on").unwrap();
    assert_eq!(pool.property("autotrim").unwrap().value, "on");
    assert_eq!(zpool_get(name, "autotrim"), ("on".into(), "local".into()));
    pool.set_property("comment", "made by zfs-core").unwrap();
    assert_eq!(zpool_get(name, "comment").0, "made by zfs-core");
}

#[test]
#[ignore = "needs ZFS"]
fn bad_property_operations_are_typed_and_change_nothing() {
    let fixture = FilePool::new().unwrap();
    let zfs = zfs();
    let pool = zfs.pool(fixture.name()).unwrap();
    let name = fixture.name().as_str();
    let before = zpool_get(name, "autotrim");

    assert_eq!(
        pool.property("nosuchprop").unwrap_err().kind(),
        ErrorKind::InvalidProperty
    );
    assert_eq!(
        pool.property("feature@nosuchfeature").unwrap_err().kind(),
        ErrorKind::InvalidProperty
    );
    assert_eq!(
        pool.property_u64("health").unwrap_err().kind(),
        ErrorKind::InvalidProperty
    );
    let long_comment = "x".repeat(33);
    let long_user_value = "v".repeat(8193);
    let before_comment = zpool_get(name, "comment");
    for (prop, value, kind) in [
        ("autotrim", "maybe", ErrorKind::InvalidProperty),
        ("nosuchprop", "1", ErrorKind::InvalidProperty),
        ("size", "1", ErrorKind::InvalidProperty),
        ("allocated", "1", ErrorKind::InvalidProperty),
        ("guid", "5", ErrorKind::InvalidProperty),
        ("autotrim", "o\0n", ErrorKind::InvalidProperty),
        ("comment", &long_comment, ErrorKind::InvalidProperty),
        ("comment", "tab\there", ErrorKind::InvalidProperty),
        ("ashift", "8", ErrorKind::InvalidProperty),
        ("ashift", "17", ErrorKind::InvalidProperty),
        ("cachefile", "relative", ErrorKind::InvalidProperty),
        ("altroot", "/mnt", ErrorKind::InvalidProperty),
        ("readonly", "on", ErrorKind::InvalidProperty),
        (
            "feature@async_destroy",
            "disabled",
            ErrorKind::InvalidProperty,
        ),
        (
            "feature@nosuchfeature",
            "enabled",
            ErrorKind::InvalidProperty,
        ),
        ("compatibility", "nosuchfile", ErrorKind::InvalidProperty),
        ("org:p", &long_user_value, ErrorKind::InvalidProperty),
        ("bootfs", "otherpool/x", ErrorKind::InvalidName),
        ("version", "5", ErrorKind::NotSupported),
    ] {
        let e = pool.set_property(prop, value).unwrap_err();
        assert_eq!(e.kind(), kind, "{prop}={value:.20?}: {e}");
    }
    assert_eq!(zpool_get(name, "autotrim"), before);
    assert_eq!(zpool_get(name, "comment"), before_comment);
    assert_eq!(zpool_get(name, "org:p").0, "-");
}

#[test]
#[ignore = "needs ZFS"]
fn status_of_a_healthy_pool() {
    let fixture = FilePool::new().unwrap();
    let zfs = zfs();
    let pool = zfs.pool(fixture.name()).unwrap();
    let status = pool.status().unwrap();
    assert_eq!(status.root.state, zfs_core::Health::Online);
    assert_eq!(status.root.kind, zfs_core::VdevKind::Root);
    assert_eq!(status.root.children.len(), 1);
    let leaf = &status.root.children[0];
    assert_eq!(
        (leaf.name.as_str(), leaf.kind.as_str()),
        (fixture.vdev().to_str().unwrap(), "file")
    );
    assert_eq!(
        (leaf.read_errors, leaf.write_errors, leaf.checksum_errors),
        (0, 0, 0)
    );
    assert_eq!(pool.health().unwrap(), zfs_core::Health::Online);
    assert!(status.cache.is_empty() && status.spares.is_empty());
}

/// After `zpool remove` of a log device, the configuration keeps a hole in its place;
/// `zpool status` does not show it, and neither does ours.
#[test]
#[ignore = "needs ZFS"]
fn status_after_a_log_device_is_removed_shows_what_zpool_status_shows() {
    let dir = tempfile::tempdir().unwrap();
    let (data, log) = (
        sparse(dir.path(), "data", 128 << 20),
        sparse(dir.path(), "log", 128 << 20),
    );
    let zfs = zfs();
    let name = unique("logremoved");
    CreatePool::new(name.clone(), VdevSpec::new().file(&data).log_file(&log))
        .pool_property("cachefile", "none")
        .mountpoint("none")
        .create(&zfs)
        .unwrap();
    let pool = zfs.pool(&name).unwrap();
    assert_eq!(pool.status().unwrap().root.children.len(), 2);
    cli("zpool", &["remove", name.as_str(), log.to_str().unwrap()]);
    let status = pool.status().unwrap();
    let ours: Vec<(String, String)> = status
        .root
        .children
        .iter()
        .map(|v| (v.name.clone(), v.kind.to_string()))
        .collect();
    let text = cli("zpool", &["status", "-P", name.as_str()]);
    assert_eq!(
        ours,
        [(data.to_str().unwrap().to_owned(), "file".to_owned())],
        "zpool status:\n{text}"
    );
    assert!(
        !text.contains("hole-") && !text.contains(log.to_str().unwrap()),
        "{text}"
    );
    drop(pool);
    zfs.destroy_pool(&name).unwrap();
}

#[test]
#[ignore = "needs ZFS"]
#[serial_test::serial(scan_tunable)]
fn scrub_runs_to_completion_and_stop_without_scrub_is_not_found() {
    let fixture = FilePool::new().unwrap();
    let zfs = zfs();
    let pool = zfs.pool(fixture.name()).unwrap();
    assert_eq!(
        pool.scan_progress().unwrap(),
        None,
        "a new pool has never been scrubbed"
    );
    let e = pool.stop_scrub().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");

    // Nothing to wait for yet: `wait` returns at once, saying so.
    assert!(!zfs.wait(fixture.name(), WaitActivity::Scrub).unwrap());
    pool.scrub().unwrap();
    // `zpool wait -t scrub`: blocks in the kernel until the scrub is done, no polling.
    zfs.wait(fixture.name(), WaitActivity::Scrub).unwrap();
    // The end time reaches the pool's statistics with the transaction group that ends the
    // scrub: let it sync before reading it.
    pool.sync().unwrap();
    let progress = pool.scan_progress().unwrap().expect("a scrub ran");
    assert_eq!(progress.state, ScanState::Finished);
    // Waiting again has nothing to wait for; a pool that is not imported is NotFound.
    assert!(!zfs.wait(fixture.name(), WaitActivity::Scrub).unwrap());
    for activity in [
        WaitActivity::Resilver,
        WaitActivity::Trim,
        WaitActivity::Free,
    ] {
        assert!(!zfs.wait(fixture.name(), activity).unwrap(), "{activity:?}");
    }
    let e = zfs
        .wait(&unique("nosuchpool"), WaitActivity::Scrub)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(!progress.is_resilver);
    assert_eq!(progress.errors, 0);
    assert!(progress.start_time > 0, "{progress:?}");
    assert!(progress.end_time >= progress.start_time, "{progress:?}");
    assert!(cli("zpool", &["status", fixture.name().as_str()]).contains("scrub repaired"));
}

#[test]
#[ignore = "needs ZFS"]
fn sync_checkpoint_and_reguid() {
    let fixture = FilePool::new().unwrap();
    let zfs = zfs();
    let pool = zfs.pool(fixture.name()).unwrap();
    pool.sync().unwrap();

    let before = pool.guid().unwrap();
    pool.reguid().unwrap();
    let after = pool.guid().unwrap();
    assert_ne!(before, after);
    assert_eq!(zfs.pool(fixture.name()).unwrap().guid().unwrap(), after);
    assert_eq!(
        after.to_string(),
        zpool_get(fixture.name().as_str(), "guid").0
    );

    pool.checkpoint().unwrap();
    assert_ne!(zpool_get(fixture.name().as_str(), "checkpoint").0, "-");
    let e = pool.checkpoint().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    assert_eq!(
        e.errno().unwrap().description(),
        "pool already has a checkpoint"
    );
    pool.discard_checkpoint().unwrap();
    // Discarding finishes asynchronously; a second discard is refused either way.
    let e = pool.discard_checkpoint().unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Busy),
        "{e}"
    );

    // While the discard runs, a reguid is refused as busy, not failed obscurely.
    if let Err(e) = pool.reguid() {
        assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    }
}

#[test]
#[ignore = "needs ZFS"]
fn a_pool_exported_under_our_feet_gives_errors_not_crashes() {
    let fixture = FilePool::new().unwrap();
    let zfs = zfs();
    let pool = zfs.pool(fixture.name()).unwrap();
    // Another handle (another part of the program, or another process) exports it.
    let other = zfs_core::Zfs::open().unwrap();
    other
        .export_pool(fixture.name(), &ExportOptions::new())
        .unwrap();

    assert_eq!(pool.refresh().unwrap_err().kind(), ErrorKind::NotFound);
    assert!(pool.status().is_err());
    assert!(pool.sync().is_err());
    assert!(pool.checkpoint().is_err());
    assert!(pool.scrub().is_err());
    drop(pool);
    assert!(!zfs.pool_exists(fixture.name()));
}

#[test]
#[ignore = "needs ZFS"]
fn many_threads_each_with_their_own_handle() {
    let fixtures: Vec<FilePool> = (0..4).map(|_| FilePool::new().unwrap()).collect();
    std::thread::scope(|s| {
        for f in &fixtures {
            s.spawn(move || {
                let zfs = zfs();
                for _ in 0..20 {
                    let pool = zfs.pool(f.name()).unwrap();
                    assert_eq!(pool.health().unwrap(), zfs_core::Health::Online);
                    assert!(zfs.pools().unwrap().contains(f.name()));
                }
            });
        }
    });
}

/// Holds every scan where it is while alive (the module's `zfs_scan_suspend_progress`), so a
/// scrub stays running long enough to be paused; released on drop, also after a panic.
struct ScansHeld;

const SUSPEND: &str = "/sys/module/zfs/parameters/zfs_scan_suspend_progress";

impl ScansHeld {
    fn new() -> ScansHeld {
        std::fs::write(SUSPEND, "1").unwrap();
        ScansHeld
    }
}

impl Drop for ScansHeld {
    fn drop(&mut self) {
        let _ = std::fs::write(SUSPEND, "0");
    }
}

#[test]
#[ignore = "needs ZFS"]
#[serial_test::serial(scan_tunable)]
fn a_running_scrub_pauses_resumes_and_cancels_as_zpool_status_says() {
    let fixture = FilePool::new().unwrap();
    let zfs = zfs();
    let pool = zfs.pool(fixture.name()).unwrap();
    let p = fixture.name().as_str();
    let held = ScansHeld::new();
    pool.scrub().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while pool.scan_progress().unwrap().map(|s| s.state) != Some(ScanState::Scanning) {
        assert!(
            Instant::now() < deadline,
            "the scrub never showed as running"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    pool.pause_scrub().unwrap();
    let paused = pool.scan_progress().unwrap().unwrap();
    assert!(paused.state == ScanState::Paused, "{paused:?}");
    assert!(cli("zpool", &["status", p]).contains("scrub paused"));
    // Paused: no rate and no time left, as zpool status shows none.
    let now = paused.pass_start + 3600;
    assert_eq!(
        (paused.issue_rate(now), paused.seconds_left(now)),
        (None, None)
    );
    assert!(paused.fraction_done() < 1.0);
    // Resume: `zpool scrub` again.
    pool.scrub().unwrap();
    let resumed = pool.scan_progress().unwrap().unwrap();
    assert!(resumed.state == ScanState::Scanning, "{resumed:?}");
    assert!(resumed.issue_rate(resumed.pass_start + 1).is_some());
    assert!(cli("zpool", &["status", p]).contains("scrub in progress"));
    pool.stop_scrub().unwrap();
    assert_eq!(
        pool.scan_progress().unwrap().unwrap().state,
        ScanState::Canceled
    );
    assert!(cli("zpool", &["status", p]).contains("scrub canceled"));
    drop(held);
}

#[test]
#[ignore = "needs ZFS"]
fn import_under_an_altroot_and_forced() {
    let fixture = FilePool::builder()
        .fs_property("mountpoint", "/data")
        .create()
        .unwrap();
    let zfs = zfs();
    let root = tempfile::tempdir().unwrap();
    zfs.export_pool(fixture.name(), &ExportOptions::new())
        .unwrap();
    let opts = ImportOptions::new()
        .dir(fixture.dir())
        .altroot(root.path())
        .force(true);
    let pool = zfs.import_pool(fixture.name(), &opts).unwrap();
    let p = fixture.name().as_str();
    assert_eq!(zpool_get(p, "altroot").0, root.path().to_str().unwrap());
    assert_eq!(
        pool.property("altroot").unwrap().value,
        root.path().to_str().unwrap()
    );
    // Mountpoints are under the altroot, as the CLI shows them.
    let shown = zfs_get(p, "mountpoint").0;
    assert_eq!(shown, format!("{}/data", root.path().display()));
    assert_eq!(
        zfs.dataset(&any(p))
            .unwrap()
            .property("mountpoint")
            .unwrap()
            .value,
        shown
    );
    let ds = zfs.dataset(&any(p)).unwrap();
    if ds.mounted_at().is_some() {
        unmount(&ds);
    }
    drop(ds);
    drop(pool);
}

/// `zpool attach` and `zpool detach`: a single device becomes a mirror, is resilvered (waited
/// for in the kernel), and becomes a single device again, each state checked with
/// `zpool status`; refused attaches and detaches change nothing.
#[test]
#[ignore = "needs ZFS"]
fn a_single_device_becomes_a_mirror_and_back() {
    use zfs_core::{AttachOptions, Leaf, VdevKind};
    let fixture = FilePool::new().unwrap();
    let zfs = zfs();
    let name = fixture.name();
    let pool = zfs.pool(name).unwrap();
    let first = fixture.vdev().to_path_buf();
    let size = std::fs::metadata(&first).unwrap().len();
    let second = sparse(fixture.dir(), "second", size);
    let small = sparse(fixture.dir(), "small", 64 << 20);
    let status_text = || cli("zpool", &["status", "-P", name.as_str()]);
    let before = status_text();

    // Refusals first: nothing changes.
    for (device, new, kind, what) in [
        (
            fixture.dir().join("nosuch"),
            Leaf::file(&second),
            ErrorKind::NotFound,
            "no such device in the pool",
        ),
        (
            first.clone(),
            Leaf::file(&small),
            ErrorKind::DeviceTooSmall,
            "a device smaller than the one it mirrors",
        ),
        (
            first.clone(),
            Leaf::file(&first),
            ErrorKind::Busy,
            "a device already in the pool",
        ),
        (
            first.clone(),
            Leaf::file(fixture.dir().join("absent")),
            ErrorKind::NotFound,
            "a missing file",
        ),
    ] {
        let e = pool
            .attach(&device, &new, &AttachOptions::new())
            .unwrap_err();
        assert_eq!(e.kind(), kind, "{what}: {e}");
        assert_eq!(status_text(), before, "{what} changed the pool");
    }

    pool.attach(&first, &Leaf::file(&second), &AttachOptions::new())
        .unwrap();
    zfs.wait(name, WaitActivity::Resilver).unwrap();
    let status = pool.status().unwrap();
    let top = &status.root.children[0];
    assert_eq!(top.kind, VdevKind::Mirror);
    let sides: Vec<&str> = top.children.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(sides, [first.to_str().unwrap(), second.to_str().unwrap()]);
    let text = status_text();
    assert!(text.contains("mirror-0"), "{text}");
    assert!(text.contains(second.to_str().unwrap()), "{text}");
    let scan = status.scan.expect("the new side was resilvered");
    assert!(
        scan.is_resilver && scan.state == ScanState::Finished,
        "{scan:?}"
    );

    pool.detach(&second).unwrap();
    let status = pool.status().unwrap();
    assert_eq!(status.root.children.len(), 1);
    assert_eq!(status.root.children[0].kind, VdevKind::File);
    assert!(!status_text().contains("mirror-0"));
    // The last copy of the data cannot be detached; a device not in the pool is not found.
    let after = status_text();
    for (device, kind) in [
        (first.clone(), ErrorKind::InvalidArgument),
        (second.clone(), ErrorKind::NotFound),
    ] {
        let e = pool.detach(&device).unwrap_err();
        assert_eq!(e.kind(), kind, "detach {}: {e}", device.display());
        assert_eq!(status_text(), after);
    }
}

/// A handle that has read the pool's properties once still reads what another process set
/// later (libzfs caches them per handle until asked to reload), and a handle whose pool went
/// away reads `NotFound`, never a cached value.
#[test]
#[ignore = "needs ZFS"]
fn a_long_lived_handle_reads_properties_as_they_are_now() {
    let fixture = FilePool::new().unwrap();
    let zfs = zfs();
    let p = fixture.name().as_str();
    let pool = zfs.pool(fixture.name()).unwrap();
    assert_eq!(pool.property("comment").unwrap().value, "-");
    assert_eq!(pool.property("org.example:note").unwrap().value, "-");

    cli("zpool", &["set", "comment=set elsewhere", p]);
    cli("zpool", &["set", "org.example:note=also", p]);
    assert_eq!(zpool_get(p, "comment").0, "set elsewhere");
    assert_eq!(pool.property("comment").unwrap().value, "set elsewhere");
    let note = pool.property("org.example:note").unwrap();
    assert_eq!(note.value, "also");
    assert_eq!(note.source, PropSource::Local);

    cli("zpool", &["export", p]);
    for name in [
        "comment",
        "size",
        "org.example:note",
        "feature@async_destroy",
    ] {
        let e = pool.property(name).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{name}: {e}");
    }
}

/// Two exported pools of one name: the name is ambiguous, each GUID is not.
#[test]
#[ignore = "needs ZFS"]
fn import_by_guid_picks_one_of_two_pools_of_one_name() {
    let zfs = zfs();
    let name = unique("twin");
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut guids = Vec::new();
    for dir in [&one, &two] {
        let vdev = sparse(dir.path(), "v", 128 << 20);
        let pool = CreatePool::new(name.clone(), VdevSpec::new().file(&vdev))
            .pool_property("cachefile", "none")
            .mountpoint("none")
            .create(&zfs)
            .unwrap();
        guids.push(pool.guid().unwrap());
        drop(pool);
        zfs.export_pool(&name, &ExportOptions::new()).unwrap();
    }
    let both = ImportOptions::new().dir(one.path()).dir(two.path());
    let e = zfs.import_pool(&name, &both).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert!(e.to_string().contains("GUID"), "{e}");
    let e = zfs.import_pool_by_guid(12345, &both).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");

    let pool = zfs.import_pool_by_guid(guids[1], &both).unwrap();
    assert_eq!(pool.guid().unwrap(), guids[1]);
    let status = cli("zpool", &["status", "-P", name.as_str()]);
    assert!(status.contains(two.path().to_str().unwrap()), "{status}");
    drop(pool);
    zfs.destroy_pool(&name).unwrap();
    let pool = zfs.import_pool_by_guid(guids[0], &both).unwrap();
    assert_eq!(pool.guid().unwrap(), guids[0]);
    drop(pool);
    zfs.destroy_pool(&name).unwrap();
}

/// `-c`: a pool found through a copy of its cache file, not by searching devices.
#[test]
#[ignore = "needs ZFS"]
fn import_from_a_cache_file() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("zpool.cache");
    let fixture = FilePool::builder()
        .pool_property("cachefile", cache.to_str().unwrap())
        .create()
        .unwrap();
    let zfs = zfs();
    let guid = zfs.pool(fixture.name()).unwrap().guid().unwrap();
    // Export takes the pool out of its cache file: keep a copy from before.
    let copy = dir.path().join("copy.cache");
    std::fs::copy(&cache, &copy).unwrap();
    zfs.export_pool(fixture.name(), &ExportOptions::new())
        .unwrap();

    let opts = ImportOptions::new().cachefile(&copy);
    let e = zfs
        .import_pool(fixture.name(), &opts.clone().dir(fixture.dir()))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let e = zfs
        .import_pool(
            fixture.name(),
            &ImportOptions::new().cachefile(dir.path().join("none")),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let found = zfs.importable_pools(&opts).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].guid, guid);
    let pool = zfs.import_pool(fixture.name(), &opts).unwrap();
    assert_eq!(pool.guid().unwrap(), guid);
    assert!(cli_pools().contains(&fixture.name().to_string()));
}

/// `-m`: a pool whose log device is gone imports only when told to, without it.
#[test]
#[ignore = "needs ZFS"]
fn import_with_a_missing_log_device_only_when_asked() {
    let fixture = FilePool::builder().log().create().unwrap();
    let zfs = zfs();
    zfs.export_pool(fixture.name(), &ExportOptions::new())
        .unwrap();
    std::fs::remove_file(&fixture.log_files()[0]).unwrap();
    let opts = ImportOptions::new().dir(fixture.dir());
    let e = zfs.import_pool(fixture.name(), &opts).unwrap_err();
    assert!(!cli_pools().contains(&fixture.name().to_string()), "{e}");
    let pool = zfs
        .import_pool(fixture.name(), &opts.missing_log(true))
        .unwrap();
    let status = cli("zpool", &["status", fixture.name().as_str()]);
    assert!(status.contains("UNAVAIL"), "{status}");
    assert!(pool
        .status()
        .unwrap()
        .root
        .children
        .iter()
        .any(|v| v.is_log));
}

/// `-l`: keys loaded from their keylocation with the import, or no import at all.
#[test]
#[ignore = "needs ZFS"]
fn import_loading_keys_is_all_or_nothing() {
    let fixture = FilePool::new().unwrap();
    let zfs = zfs();
    let p = fixture.name().as_str();
    let key = fixture.dir().join("key");
    std::fs::write(&key, [7u8; 32]).unwrap();
    let location = format!("file://{}", key.display());
    cli(
        "zfs",
        &[
            "create",
            "-o",
            "encryption=on",
            "-o",
            "keyformat=raw",
            "-o",
            &format!("keylocation={location}"),
            "-o",
            "mountpoint=none",
            &format!("{p}/secret"),
        ],
    );
    let opts = ImportOptions::new().dir(fixture.dir()).load_keys(true);
    zfs.export_pool(fixture.name(), &ExportOptions::new())
        .unwrap();
    zfs.import_pool(fixture.name(), &opts).unwrap();
    assert_eq!(zfs_get(&format!("{p}/secret"), "keystatus").0, "available");

    // The wrong key in the file: the pool is not left imported.
    zfs.export_pool(fixture.name(), &ExportOptions::new())
        .unwrap();
    std::fs::write(&key, [8u8; 32]).unwrap();
    let e = zfs.import_pool(fixture.name(), &opts).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::WrongKey, "{e}");
    assert!(!cli_pools().contains(&p.to_owned()), "{e}");
    // Without -l it imports, the key unloaded.
    zfs.import_pool(fixture.name(), &ImportOptions::new().dir(fixture.dir()))
        .unwrap();
    assert_eq!(
        zfs_get(&format!("{p}/secret"), "keystatus").0,
        "unavailable"
    );
}

/// What zfs-core changes is in the pool's history as `zpool history` shows commands, and
/// `history()` reads the same records the CLI prints.
#[test]
#[ignore = "needs ZFS"]
fn changes_are_logged_in_the_pool_history_as_zpool_history_shows_them() {
    let fixture = FilePool::new().unwrap();
    let zfs = zfs();
    let p = fixture.name().as_str();
    let pool = zfs.pool(fixture.name()).unwrap();
    pool.set_property("comment", "logged").unwrap();
    let extra = fixture.new_file("extra").unwrap();
    pool.add(&VdevSpec::new().file(&extra), &zfs_core::AddOptions::new())
        .unwrap();
    pool.scrub().unwrap();
    zfs.wait(fixture.name(), WaitActivity::Scrub).unwrap();
    pool.clear(None).unwrap();
    // A refused change logs nothing.
    assert!(pool.set_property("comment", "bad\u{1}").is_err());

    let cli_lines = cli("zpool", &["history", p]);
    let commands: Vec<String> = pool
        .history()
        .unwrap()
        .into_iter()
        .filter_map(|r| r.command)
        .collect();
    let expected = [
        format!("zpool create {p} {}", fixture.vdev().display()),
        format!("zpool set comment=logged {p}"),
        format!("zpool add {p} {}", extra.display()),
        format!("zpool scrub {p}"),
        format!("zpool clear {p}"),
    ];
    for command in &expected {
        let line = format!("(zfs-core): {command}");
        assert!(cli_lines.contains(&line), "{line} not in\n{cli_lines}");
        assert!(
            commands.iter().any(|c| c.ends_with(&line)),
            "{line} not in {commands:?}"
        );
    }
    // Every command the CLI lists, and only those, in order.
    let cli_commands: Vec<&str> = cli_lines
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(' ').map(|(_, c)| c))
        .collect();
    assert_eq!(commands, cli_commands);
    // (Not just "bad": each record names the program, and a test binary's hash may hold it.)
    assert!(
        !commands.iter().any(|c| c.contains("comment=bad")),
        "{commands:?}"
    );

    // The internal events -i shows: the property set, with its value.
    let records = pool.history().unwrap();
    let set = records
        .iter()
        .find(|r| {
            r.event.as_deref() == Some("set") && r.detail.as_deref() == Some("comment=logged")
        })
        .unwrap_or_else(|| panic!("{records:#?}"));
    assert!(set.txg.unwrap() > 0 && set.time > 0);
    assert!(cli("zpool", &["history", "-i", p]).contains("comment=logged"));
}

/// Events as `zpool events` lists them: a pool's creation and a scrub's start and end, with
/// the pool's name; a reader that skipped to the end sees only what comes after.
#[test]
#[ignore = "needs ZFS"]
fn events_of_a_pool_are_read_as_zpool_events_lists_them() {
    let zfs = zfs();
    let mut late = zfs.events().unwrap();
    late.skip_to_end().unwrap();
    assert_eq!(late.poll().unwrap(), None);
    // Waiting blocks until something happens (here: a pool is created on another thread).
    let waiter = std::thread::spawn(|| {
        let zfs = zfs_core::Zfs::open().unwrap();
        let mut events = zfs.events().unwrap();
        events.skip_to_end().unwrap();
        events.wait().unwrap().class
    });

    std::thread::sleep(Duration::from_millis(500));
    let fixture = FilePool::new().unwrap();
    let p = fixture.name().as_str();
    let pool = zfs.pool(fixture.name()).unwrap();
    pool.scrub().unwrap();
    zfs.wait(fixture.name(), WaitActivity::Scrub).unwrap();
    // (Joined after the scrub: if the thread started late, the scrub's events wake it.)
    assert!(waiter.join().unwrap().starts_with("sysevent.fs.zfs."));
    // Events are posted asynchronously: wait until the scrub's end is in.
    let mut mine = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !mine
        .iter()
        .any(|e: &zfs_core::Event| e.class.ends_with("scrub_finish"))
    {
        assert!(Instant::now() < deadline, "{mine:#?}");
        match late.poll().unwrap() {
            Some(e) if e.pool.as_deref() == Some(p) => mine.push(e),
            Some(_) => {}
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    let classes: Vec<&str> = mine.iter().map(|e| e.class.as_str()).collect();
    for class in ["sysevent.fs.zfs.pool_create", "sysevent.fs.zfs.scrub_start"] {
        assert!(classes.contains(&class), "{classes:?}");
    }
    assert!(mine.windows(2).all(|w| w[0].eid < w[1].eid));
    assert!(mine.iter().all(|e| e.time > 0));
    // The CLI lists the same events by their numbers.
    let cli_events = cli("zpool", &["events", "-H"]);
    for class in classes {
        assert!(cli_events.contains(class), "{class} not in {cli_events}");
    }
    // A reader from the start sees them too.
    let mut all = zfs.events().unwrap();
    let mut seen = Vec::new();
    while let Some(e) = all.poll().unwrap() {
        seen.push(e.eid);
    }
    assert!(mine.iter().all(|e| seen.contains(&e.eid)));
    // Cleared (zpool events -c): the kernel forgets them.
    assert!(zfs.clear_events().unwrap() >= seen.len().min(mine.len()));
    let mut after = zfs.events().unwrap();
    while let Some(e) = after.poll().unwrap() {
        assert!(!seen.contains(&e.eid), "{e:?}");
    }
    // No `all.dropped() == 0`: the other tests of this binary post events meanwhile, and once
    // the kernel's queue is full (zfs_zevent_len_max) each new one drops the oldest under a
    // reader that starts at the beginning (26 once, in a full run). What the reader must see,
    // this pool's events, is checked above.
}

/// `zpool upgrade`: a pool made without features (and one of legacy version 28) gets every
/// supported feature, as `zpool upgrade` leaves it; an up-to-date pool is left alone.
#[test]
#[ignore = "needs ZFS"]
fn upgrade_enables_every_supported_feature() {
    let zfs = zfs();
    for (what, prop) in [("no features", None), ("version 28", Some("28"))] {
        let dir = tempfile::tempdir().unwrap();
        let vdev = sparse(dir.path(), "v", 128 << 20);
        let name = unique("upg");
        let mut create = CreatePool::new(name.clone(), VdevSpec::new().file(&vdev))
            .pool_property("cachefile", "none")
            .mountpoint("none")
            .enable_features(false);
        if let Some(v) = prop {
            create = create.pool_property("version", v);
        }
        let pool = create.create(&zfs).unwrap();
        let p = name.as_str();
        let before = if prop.is_some() {
            zfs_core::StatusCode::VersionOlder
        } else {
            zfs_core::StatusCode::FeaturesDisabled
        };
        assert_eq!(pool.status().unwrap().code, before, "{what}");
        let enabled = pool.upgrade().unwrap();
        assert!(
            enabled.contains(&"zstd_compress".to_owned()),
            "{what}: {enabled:?}"
        );
        assert_eq!(zpool_get(p, "version").0, "-", "{what}");
        let all = cli("zpool", &["get", "-H", "-o", "property,value", "all", p]);
        let disabled: Vec<&str> = all
            .lines()
            .filter(|l| l.starts_with("feature@") && l.ends_with("disabled"))
            .collect();
        assert!(disabled.is_empty(), "{what}: {disabled:?}");
        assert!(
            cli("zpool", &["upgrade"]).contains("all supported"),
            "{what}"
        );
        assert_eq!(
            pool.status().unwrap().code,
            zfs_core::StatusCode::Ok,
            "{what}"
        );
        assert!(pool.upgrade().unwrap().is_empty(), "{what}");
        drop(pool);
        zfs.destroy_pool(&name).unwrap();
    }
}

/// Vdev properties (OpenZFS 2.2+), checked with `zpool get PROP POOL VDEV`.
#[test]
#[ignore = "needs ZFS"]
fn vdev_properties_read_and_set_as_zpool_get_shows_them() {
    let fixture = FilePool::builder().mirror(2).create().unwrap();
    let zfs = zfs();
    let p = fixture.name().as_str();
    let pool = zfs.pool(fixture.name()).unwrap();
    let leaf = &fixture.data_files()[0];
    let cli_get = |prop: &str, vdev: &str| {
        cli(
            "zpool",
            &["get", "-Hp", "-o", "value,source", prop, p, vdev],
        )
    };
    for prop in ["size", "ashift", "allocating", "failfast", "checksum_n"] {
        let ours = pool.vdev_property(leaf, prop).unwrap();
        let cli = cli_get(prop, leaf.to_str().unwrap());
        assert_eq!(format!("{}\t{}", ours.value, ours.source), cli, "{prop}");
    }
    let top = std::path::Path::new("mirror-0");
    assert_eq!(pool.vdev_property(top, "allocating").unwrap().value, "on");

    pool.set_vdev_property(leaf, "comment", "slot 3").unwrap();
    pool.set_vdev_property(leaf, "org.example:bay", "7")
        .unwrap();
    assert_eq!(cli_get("comment", leaf.to_str().unwrap()), "slot 3\tlocal");
    assert_eq!(
        pool.vdev_property(leaf, "org.example:bay").unwrap().value,
        "7"
    );
    assert_eq!(
        cli_get("org.example:bay", leaf.to_str().unwrap()),
        "7\tlocal"
    );

    let e = pool.vdev_property(leaf, "nonsense").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidProperty, "{e}");
    let e = pool.set_vdev_property(leaf, "size", "1").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidProperty, "{e}");
    let e = pool
        .vdev_property(&fixture.dir().join("missing"), "size")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    for e in [
        pool.set_vdev_property(leaf, "failfast", "maybe")
            .unwrap_err(),
        pool.set_vdev_property(leaf, "comment", "a\0b").unwrap_err(),
        pool.vdev_property(leaf, "com\0ment").unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::InvalidProperty, "{e}");
    }
    let e = pool
        .vdev_property(std::path::Path::new("/dev/a\0b"), "size")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert_eq!(cli_get("comment", leaf.to_str().unwrap()), "slot 3\tlocal");
}

/// `zpool import --rewind-to-checkpoint`: what was done after the checkpoint is gone.
#[test]
#[ignore = "needs ZFS"]
fn import_rewinds_to_the_checkpoint_when_asked() {
    let fixture = FilePool::new().unwrap();
    let zfs = zfs();
    let p = fixture.name().as_str();
    let pool = zfs.pool(fixture.name()).unwrap();
    pool.checkpoint().unwrap();
    zfs_core::CreateDataset::filesystem(ds(format!("{p}/after")))
        .create(&zfs)
        .unwrap();
    pool.set_property("comment", "after").unwrap();
    drop(pool);
    zfs.export_pool(fixture.name(), &ExportOptions::new())
        .unwrap();
    let pool = zfs
        .import_pool(
            fixture.name(),
            &ImportOptions::new()
                .dir(fixture.dir())
                .rewind_to_checkpoint(true),
        )
        .unwrap();
    assert!(!zfs.exists(&ds(format!("{p}/after"))));
    assert!(!cli("zfs", &["list", "-H", "-r", "-o", "name", p]).contains("after"));
    // (The pool's comment lives in its labels, which a checkpoint does not keep: it stays.)
    assert_eq!(pool.property("comment").unwrap().value, "after");
    // The checkpoint is consumed by the rewind: a second one can be taken, and discarded.
    pool.checkpoint().unwrap();
    pool.discard_checkpoint().unwrap();
    zfs.wait(fixture.name(), WaitActivity::CheckpointDiscard)
        .unwrap();
    assert!(pool.discard_checkpoint().is_err());
}

/// raidz expansion (OpenZFS 2.3): a device attached to a raidz vdev widens it.
#[test]
#[ignore = "needs ZFS"]
fn attaching_to_a_raidz_vdev_expands_it() {
    let fixture = FilePool::builder().raidz(1, 3).create().unwrap();
    let zfs = zfs();
    let p = fixture.name().as_str();
    let pool = zfs.pool(fixture.name()).unwrap();
    let new = fixture.new_file("wider").unwrap();
    let kernel = zfs_core::Versions::detect().kernel.unwrap_or_default();
    let result = pool.attach(
        std::path::Path::new("raidz1-0"),
        &zfs_core::Leaf::file(&new),
        &zfs_core::AttachOptions::new(),
    );
    if kernel.starts_with("2.1") || kernel.starts_with("2.2") {
        assert!(result.is_err(), "raidz expansion needs 2.3");
        return;
    }
    result.unwrap();
    // (WaitActivity::RaidzExpand exists only when built against 2.3: poll what zpool shows.)
    let deadline = Instant::now() + Duration::from_secs(120);
    while !cli("zpool", &["status", p]).contains("expanded raidz1-0") {
        assert!(
            Instant::now() < deadline,
            "{}",
            cli("zpool", &["status", p])
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = pool.status().unwrap();
    assert_eq!(status.root.children[0].children.len(), 4);
    let cli_status = cli("zpool", &["status", "-P", p]);
    assert!(cli_status.contains(new.to_str().unwrap()), "{cli_status}");
    assert!(cli_status.contains("expand:"), "{cli_status}");
    assert_eq!(pool.health().unwrap(), zfs_core::Health::Online);
}

/// The dedup table (OpenZFS 2.3): pruned of unique entries as `zpool ddtprune` prunes it, and
/// prefetched; checked with `zpool status -D`'s entry count.
#[test]
#[ignore = "needs ZFS"]
fn the_dedup_table_is_pruned_and_prefetched() {
    let fixture = FilePool::new().unwrap();
    let zfs = zfs();
    let p = fixture.name().as_str();
    // 64 different 128 KiB blocks: 64 unique entries.
    with_data(&zfs, &format!("{p}/dd"), &[("dedup", "on")], |dir| {
        let mut data = vec![0u8; 128 << 10];
        for i in 0..64u8 {
            data.fill(i.wrapping_add(1));
            data[0..8].copy_from_slice(&u64::from(i).to_le_bytes());
            std::fs::write(dir.join(format!("f{i}")), &data).unwrap();
        }
    });
    let pool = zfs.pool(fixture.name()).unwrap();
    let entries = || {
        let out = cli("zpool", &["status", "-D", p]);
        out.lines()
            .find_map(|l| l.trim().strip_prefix("dedup: DDT entries "))
            .and_then(|l| l.split(',').next())
            .and_then(|n| n.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let before = entries();
    assert!(before >= 64, "{before}");

    let e = pool.ddt_prune(DdtPrune::Percent(0)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    pool.ddt_prune(DdtPrune::Percent(50)).unwrap();
    pool.sync().unwrap();
    // The entries written a moment ago may still be in the table's log, which pruning leaves
    // alone: the count does not grow, whatever it prunes now.
    let after = entries();
    assert!(after <= before, "{before} -> {after}");
    pool.prefetch_ddt().unwrap();
    assert!(cli("zpool", &["history", p]).contains(&format!("zpool ddtprune -p 50 {p}")));
}

/// A pool whose `compatibility` property limits its features is not upgraded wholesale.
#[test]
#[ignore = "needs ZFS"]
fn upgrade_refuses_a_pool_held_to_a_compatibility_set() {
    let fixture = FilePool::builder()
        .pool_property("compatibility", "openzfs-2.1-linux")
        .create()
        .unwrap();
    let zfs = zfs();
    let pool = zfs.pool(fixture.name()).unwrap();
    let before = cli(
        "zpool",
        &["get", "-H", "-o", "value", "all", fixture.name().as_str()],
    );
    let e = pool.upgrade().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotSupported, "{e}");
    assert!(e.to_string().contains("openzfs-2.1-linux"), "{e}");
    let after = cli(
        "zpool",
        &["get", "-H", "-o", "value", "all", fixture.name().as_str()],
    );
    assert_eq!(before, after);
}

#[test]
#[ignore = "needs ZFS"]
#[serial_test::serial(scan_tunable)]
fn scrubs_of_what_is_new_read_only_that() {
    let fixture = FilePool::builder().size(256 << 20).create().unwrap();
    let zfs = zfs();
    let p = fixture.name().as_str();
    let old = incompressible(24);
    with_data(&zfs, &format!("{p}/old"), &[], |dir| {
        std::fs::write(dir.join("old"), &old).unwrap()
    });
    let pool = zfs.pool(fixture.name()).unwrap();
    let scrubbed = |start: &dyn Fn() -> zfs_core::Result<()>| {
        start().unwrap();
        zfs.wait(fixture.name(), WaitActivity::Scrub).unwrap();
        pool.sync().unwrap();
        let progress = pool.scan_progress().unwrap().expect("a scrub ran");
        assert_eq!(progress.state, ScanState::Finished, "{progress:?}");
        progress.issued
    };
    let full = scrubbed(&|| pool.scrub());
    let after_full = zpool_get(p, "last_scrubbed_txg").0.parse::<u64>().unwrap();
    assert!(after_full > 0 && full >= 24 << 20, "{after_full} {full}");

    // 2 MiB more, then a scrub from the last scrubbed txg reads about that much.
    let new = incompressible(2);
    with_data(&zfs, &format!("{p}/new"), &[], |dir| {
        std::fs::write(dir.join("new"), &new).unwrap()
    });
    let since = scrubbed(&|| pool.scrub_since_last_scrub());
    assert!(
        since >= 2 << 20 && since < full / 4,
        "since the last scrub {since}, full {full}"
    );
    assert!(zpool_get(p, "last_scrubbed_txg").0.parse::<u64>().unwrap() > after_full);

    let hour = Duration::from_secs(3600);
    let now = std::time::SystemTime::now();
    let e = pool
        .scrub_written_between(Some(now + hour), Some(now))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    #[cfg(zfs_2_4)]
    {
        // A range around now covers everything this pool ever wrote.
        let ranged = scrubbed(&|| pool.scrub_written_between(Some(now - hour), Some(now + hour)));
        assert!(ranged >= full * 9 / 10, "ranged {ranged}, full {full}");
        let history = cli("zpool", &["history", p]);
        assert!(history.contains("zpool scrub -S"), "{history}");
    }
    #[cfg(not(zfs_2_4))]
    {
        let e = pool.scrub_written_between(None, Some(now)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotSupported, "{e}");
    }
}
