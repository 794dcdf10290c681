//! Pool creation and destruction on the real kernel module. Every error test also checks that
//! nothing changed: no pool appeared, the files are unchanged.

mod common;

use common::*;
use serial_test::serial;
use std::path::Path;
use zfs_core::testing::label_ashifts;

use zfs_core::{
    AllocationClass, AttachOptions, CreatePool, ErrorKind, Leaf, PoolName, TopLevel, VdevSpec,
};

const MIB: u64 = 1 << 20;

/// Runs everywhere: without the module, the one error that says what to do; with it, a handle
/// or the error that says to be root.
#[test]
fn open_says_when_the_module_is_missing() {
    if std::path::Path::new("/dev/zfs").exists() {
        // Where ZFS is loaded: a handle as root, else the error that says to be root.
        if let Err(e) = zfs_core::Zfs::open() {
            assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
        }
        return;
    }
    let e = zfs_core::Zfs::open().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ModuleNotLoaded, "{e}");
    assert!(e.to_string().contains("modprobe zfs"), "{e}");
}

#[test]
#[ignore = "needs ZFS"]
fn open_reports_matching_versions() {
    let _zfs = zfs();
    let v = zfs_core::Versions::detect();
    let kernel = v.kernel.clone().expect("module loaded");
    assert!(
        kernel.starts_with(&zfs_core::BUILT_FOR_VERSION[..3]),
        "{kernel} vs {}",
        zfs_core::BUILT_FOR_VERSION
    );
    // The library's own words at run time, as `zfs version` prints them.
    let cli_userland = cli("zfs", &["version"]);
    let first = cli_userland.lines().next().unwrap();
    assert_eq!(first.strip_prefix("zfs-"), Some(v.userland.as_str()), "{v}");
    assert!(v.userland.starts_with(zfs_core::BUILT_FOR_VERSION), "{v}");
}

#[test]
#[ignore = "needs ZFS"]
#[serial]
fn the_seed_pool_is_created_by_one_call_with_every_property() {
    let dir = tempfile::tempdir().unwrap();
    let vdev = sparse(dir.path(), "zroot.img", 512 * MIB);
    let zfs = zfs();
    let name = PoolName::new("zroot").unwrap();
    assert!(
        !zfs.pool_exists(&name),
        "a zroot pool already exists in the test VM"
    );
    let pool = CreatePool::new(name.clone(), VdevSpec::new().file(&vdev))
        .pool_property("ashift", "12")
        .pool_property("autotrim", "on")
        .pool_property("cachefile", "none")
        .fs_property("compression", "zstd")
        .fs_property("acltype", "posixacl")
        .fs_property("atime", "off")
        .fs_property("xattr", "sa")
        .fs_property("normalization", "formD")
        .fs_property("mountpoint", "none")
        .create(&zfs)
        .unwrap();

    // Pool properties, through zfs-core and through the CLI.
    for (prop, want) in [("ashift", "12"), ("autotrim", "on")] {
        assert_eq!(
            zpool_get("zroot", prop),
            (want.to_owned(), "local".to_owned()),
            "zpool get {prop}"
        );
        let got = pool.property(prop).unwrap();
        assert_eq!(got.value, want, "{prop} through zfs-core");
        assert_eq!(got.source, zfs_core::PropSource::Local, "{prop} source");
    }
    assert_eq!(pool.health().unwrap(), zfs_core::Health::Online);
    // Root filesystem properties, through the CLI (dataset properties come with datasets).
    // normalization can only be set at creation, so `zfs get` shows no source for it.
    for (prop, want, want_source) in [
        ("compression", "zstd", "local"),
        ("acltype", "posix", "local"),
        ("atime", "off", "local"),
        ("normalization", "formD", "-"),
        ("mountpoint", "none", "local"),
    ] {
        let (value, source) = zfs_get("zroot", prop);
        assert_eq!(value, want, "zfs get {prop}");
        assert_eq!(source, want_source, "zfs get {prop} source");
    }
    // xattr=sa reads back as "sa" on some releases and "on" (meaning sa) on 2.3.
    let (xattr, source) = zfs_get("zroot", "xattr");
    assert!(xattr == "sa" || xattr == "on", "xattr is {xattr}");
    assert_eq!(source, "local");
    // Like the CLI, every supported feature is enabled.
    let zstd = pool.property("feature@zstd_compress").unwrap().value;
    assert!(
        zstd == "enabled" || zstd == "active",
        "feature@zstd_compress is {zstd}"
    );
    assert_eq!(zpool_get("zroot", "feature@zstd_compress").0, zstd);

    zfs.destroy_pool(&pool.name().clone()).unwrap();
    assert!(!cli_pools().contains(&"zroot".to_owned()));
}

#[test]
#[ignore = "needs ZFS"]
fn mirror_raidz_log_cache_and_spare_layouts_are_created() {
    let dir = tempfile::tempdir().unwrap();
    let f: Vec<_> = (0..8)
        .map(|i| sparse(dir.path(), &format!("d{i}"), 128 * MIB))
        .collect();
    let zfs = zfs();
    let name = unique("layout");
    let spec = VdevSpec::new()
        .mirror([&f[0], &f[1]])
        .raidz(1, [&f[2], &f[3], &f[4]])
        .log_file(&f[5])
        .cache_file(&f[6])
        .spare_file(&f[7]);
    let pool = CreatePool::new(name.clone(), spec)
        .pool_property("cachefile", "none")
        .mountpoint("none")
        .create(&zfs)
        .unwrap();
    let status = pool.status().unwrap();
    assert_eq!(status.root.name, name.as_str());
    assert_eq!(status.root.state, zfs_core::Health::Online);
    let kids: Vec<_> = status
        .root
        .children
        .iter()
        .map(|c| (c.name.as_str(), c.is_log))
        .collect();
    assert_eq!(
        kids,
        [
            ("mirror-0", false),
            ("raidz1-1", false),
            (f[5].to_str().unwrap(), true)
        ]
    );
    assert_eq!(status.root.children[0].children.len(), 2);
    assert_eq!(
        status.root.children[1].children[2].name,
        f[4].to_str().unwrap()
    );
    assert!(status
        .root
        .children
        .iter()
        .all(|c| c.read_errors + c.write_errors + c.checksum_errors == 0));
    assert_eq!(status.cache[0].name, f[6].to_str().unwrap());
    assert_eq!(status.spares[0].name, f[7].to_str().unwrap());
    assert!(cli("zpool", &["status", name.as_str()]).contains("mirror-0"));
    zfs.destroy_pool(&pool.name().clone()).unwrap();
}

#[test]
#[ignore = "needs ZFS"]
fn duplicate_pool_name_is_refused_and_the_second_file_stays_unlabelled() {
    let fixture = zfs_core::testing::FilePool::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let other = sparse(dir.path(), "other", 128 * MIB);
    let zfs = zfs();
    let e = CreatePool::new(fixture.name().clone(), VdevSpec::new().file(&other))
        .create(&zfs)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    assert_eq!(e.operation(), "create pool");
    assert_eq!(e.object(), fixture.name().as_str());
    assert!(e.libzfs_code().is_some(), "libzfs reported it: {e:?}");
    assert_eq!(
        zpool_get(fixture.name().as_str(), "guid").0,
        zfs.pool(fixture.name())
            .unwrap()
            .guid()
            .unwrap()
            .to_string()
    );
    // The refused file holds no label: a pool can be made on it without force.
    let name = unique("second");
    CreatePool::new(name.clone(), VdevSpec::new().file(&other))
        .pool_property("cachefile", "none")
        .create(&zfs)
        .unwrap();
    zfs.destroy_pool(&name).unwrap();
}

#[test]
#[ignore = "needs ZFS"]
fn bad_vdevs_are_refused_before_anything_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let small = sparse(dir.path(), "small", 32 * MIB);
    let zfs = zfs();
    let cases = [
        (VdevSpec::new().file(&small), ErrorKind::DeviceTooSmall),
        (
            VdevSpec::new().file(dir.path().join("missing")),
            ErrorKind::NotFound,
        ),
        (
            VdevSpec::new().file("relative.img"),
            ErrorKind::InvalidArgument,
        ),
        (VdevSpec::new(), ErrorKind::InvalidArgument),
        (VdevSpec::new().mirror([&small]), ErrorKind::InvalidArgument),
    ];
    for (spec, kind) in cases {
        let shown = spec.to_string();
        let name = unique("badvdev");
        let e = CreatePool::new(name.clone(), spec)
            .create(&zfs)
            .unwrap_err();
        assert_eq!(e.kind(), kind, "{shown}: {e}");
        assert!(
            !cli_pools().contains(&name.to_string()),
            "{shown} left a pool behind"
        );
    }
    // The small file was not touched.
    assert_eq!(std::fs::metadata(&small).unwrap().len(), 32 * MIB);
    assert!(
        !std::fs::read(&small).unwrap().iter().any(|&b| b != 0),
        "the refused vdev was written to"
    );
}

#[test]
#[ignore = "needs ZFS"]
fn reserved_and_invalid_pool_names_never_reach_zfs() {
    for bad in [
        "mirror", "raidz2", "draid", "spare1", "log", "cache", "special", "dedup", "c0d0", "1tank",
        "a/b", "",
    ] {
        let e = PoolName::new(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidName, "{bad:?}");
    }
}

#[test]
#[ignore = "needs ZFS"]
fn unknown_properties_and_bad_values_are_refused_with_no_pool_left() {
    let dir = tempfile::tempdir().unwrap();
    let vdev = sparse(dir.path(), "v", 128 * MIB);
    let zfs = zfs();
    let cases: [(&str, &str, bool); 7] = [
        ("nosuchproperty", "1", true),
        ("ashift", "99", true),
        ("ashift", "17", true),
        ("ashift", "twelve", true),
        ("autotrim", "maybe", true),
        ("compression", "bogus", false),
        ("recordsize", "3", false),
    ];
    for (prop, value, pool_level) in cases {
        let name = unique("badprop");
        let mut opts = CreatePool::new(name.clone(), VdevSpec::new().file(&vdev));
        opts = if pool_level {
            opts.pool_property(prop, value)
        } else {
            opts.fs_property(prop, value)
        };
        let e = opts.create(&zfs).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidProperty, "{prop}={value}: {e}");
        assert!(!e.message().is_empty());
        assert!(
            !cli_pools().contains(&name.to_string()),
            "{prop}={value} left a pool behind"
        );
    }
    // The vdev was never labelled: a pool can be made on it without force.
    let name = unique("afterbad");
    CreatePool::new(name.clone(), VdevSpec::new().file(&vdev))
        .pool_property("cachefile", "none")
        .create(&zfs)
        .unwrap();
    zfs.destroy_pool(&name).unwrap();
}

#[test]
#[ignore = "needs ZFS"]
fn a_vdev_of_an_exported_pool_needs_force() {
    let mut fixture = zfs_core::testing::FilePool::new().unwrap();
    let zfs = zfs();
    zfs.export_pool(fixture.name(), &ExportOptions::new())
        .unwrap();
    let name = unique("reuse");
    let e = CreatePool::new(name.clone(), VdevSpec::new().file(fixture.vdev()))
        .create(&zfs)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    assert!(e.message().contains("exported pool"), "{e}");
    assert!(!zfs.pool_exists(&name));
    // The exported pool is still importable: nothing was overwritten.
    let found = zfs
        .importable_pools(&zfs_core::ImportOptions::new().dir(fixture.dir()))
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(&found[0].name, fixture.name());
    // With force, the file is reused.
    let pool = CreatePool::new(name.clone(), VdevSpec::new().file(fixture.vdev()))
        .force(true)
        .pool_property("cachefile", "none")
        .create(&zfs)
        .unwrap();
    drop(pool);
    fixture.renamed(name);
}

#[test]
#[ignore = "needs ZFS"]
fn destroy_of_an_absent_pool_is_not_found() {
    let zfs = zfs();
    let e = zfs
        .destroy_pool(&PoolName::new("nosuchpoolhere").unwrap())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(e.operation(), "destroy pool");
}

#[test]
#[ignore = "needs ZFS"]
#[serial]
fn destroy_of_a_busy_pool_is_refused_and_the_pool_survives() {
    let fixture = zfs_core::testing::FilePool::builder()
        .fs_property("mountpoint", "legacy")
        .create()
        .unwrap();
    let mnt = tempfile::tempdir().unwrap();
    cli(
        "mount",
        &[
            "-t",
            "zfs",
            fixture.name().as_str(),
            mnt.path().to_str().unwrap(),
        ],
    );
    let file = std::fs::File::create(mnt.path().join("busy")).unwrap();
    let zfs = zfs();
    let result = zfs.destroy_pool(fixture.name());
    drop(file);
    let e = result.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    assert!(
        zfs.pool_exists(fixture.name()),
        "a refused destroy removed the pool"
    );
    // Once nothing holds it, destroy unmounts and succeeds. A child process another test
    // thread is spawning may hold a copy of the closed file's descriptor until its exec
    // (see common::unmount): retry that brief EBUSY.
    let mut delay = std::time::Duration::from_millis(20);
    for _ in 0..8 {
        match zfs.destroy_pool(fixture.name()) {
            Err(e) if e.kind() == ErrorKind::Busy => std::thread::sleep(delay),
            other => {
                other.unwrap();
                break;
            }
        }
        delay *= 2;
    }
    assert!(!zfs.pool_exists(fixture.name()));
}

#[test]
#[ignore = "needs ZFS"]
fn pools_lists_what_zpool_list_lists() {
    let a = zfs_core::testing::FilePool::new().unwrap();
    let zfs = zfs();
    // Other tests create and destroy pools concurrently: every pool `zpool list` shows both
    // before and after our call must be in ours, and ours holds nothing it shows neither time.
    let before = cli_pools();
    let ours: Vec<String> = zfs.pools().unwrap().iter().map(|p| p.to_string()).collect();
    let after = cli_pools();
    assert!(ours.contains(&a.name().to_string()));
    assert!(ours.windows(2).all(|w| w[0] < w[1]), "not sorted: {ours:?}");
    for p in before.iter().filter(|p| after.contains(p)) {
        assert!(ours.contains(p), "{p} is in zpool list but not in pools()");
    }
    for p in &ours {
        assert!(
            before.contains(p) || after.contains(p),
            "pools() invented {p}"
        );
    }
}

#[test]
#[ignore = "needs ZFS"]
fn file_pool_cleans_up_even_when_the_test_panics() {
    let (name, vdev) = std::panic::catch_unwind(|| {
        let f = zfs_core::testing::FilePool::new().unwrap();
        let seen = (f.name().clone(), f.vdev().to_owned());
        std::panic::panic_any(seen);
    })
    .unwrap_err()
    .downcast::<(PoolName, std::path::PathBuf)>()
    .map(|b| *b)
    .unwrap();
    assert!(
        !zfs().pool_exists(&name),
        "the pool survived a panicking test"
    );
    assert!(!vdev.exists(), "the vdev file survived");
}

#[test]
#[ignore = "needs ZFS"]
fn ashift_reaches_every_vdev_label_as_with_zpool_create() {
    // The same layout twice: once through zfs-core, once through `zpool create -o ashift=12`;
    // then every device's labels are compared with zdb, not read back through our own API.
    let dir = tempfile::tempdir().unwrap();
    let kinds = ["mirror-a", "mirror-b", "special", "log", "cache", "spare"];
    let mine: Vec<_> = kinds
        .iter()
        .map(|k| sparse(dir.path(), &format!("ours-{k}"), 128 * MIB))
        .collect();
    let theirs: Vec<_> = kinds
        .iter()
        .map(|k| sparse(dir.path(), &format!("cli-{k}"), 128 * MIB))
        .collect();
    let zfs = zfs();
    let ours = unique("ashift");
    let spec = VdevSpec::new()
        .mirror([&mine[0], &mine[1]])
        .special(zfs_core::TopLevel::Single(zfs_core::Leaf::file(&mine[2])))
        .log_file(&mine[3])
        .cache_file(&mine[4])
        .spare(zfs_core::Leaf::file(&mine[5]));
    // A single special device next to a mirror: forced, as the CLI needs -f for it.
    let pool = CreatePool::new(ours.clone(), spec)
        .pool_property("ashift", "12")
        .pool_property("cachefile", "none")
        .mountpoint("none")
        .force(true)
        .create(&zfs)
        .unwrap();
    let cli_pool = unique("ashiftcli");
    let p = |i: usize| theirs[i].to_str().unwrap();
    cli(
        "zpool",
        &[
            "create",
            "-f",
            "-o",
            "ashift=12",
            "-o",
            "cachefile=none",
            "-m",
            "none",
            cli_pool.as_str(),
            "mirror",
            p(0),
            p(1),
            "special",
            p(2),
            "log",
            p(3),
            "cache",
            p(4),
            "spare",
            p(5),
        ],
    );
    let mut table = Vec::new();
    for (i, kind) in kinds.iter().enumerate() {
        table.push((*kind, label_ashifts(&mine[i]), label_ashifts(&theirs[i])));
    }
    cli("zpool", &["destroy", cli_pool.as_str()]);
    assert_eq!(zpool_get(ours.as_str(), "ashift").0, "12");
    zfs.destroy_pool(&pool.name().clone()).unwrap();
    for (kind, ours, cli) in &table {
        assert_eq!(ours, cli, "{kind}: zfs-core's labels vs zpool create's");
    }
    // Every device whose label records an ashift records 12; data, special and log devices
    // (the ones that allocate) must record one.
    for (kind, ours, _) in &table {
        assert!(ours.iter().all(|&a| a == 12), "{kind}: {ours:?}");
        if !matches!(*kind, "cache" | "spare") {
            assert_eq!(ours, &[12], "{kind} has no ashift in its label");
        }
    }
    eprintln!("label ashifts (ours, zpool create's): {table:?}");
}

/// A loop device over a sparse file, detached on drop.
struct Loop(String);

impl Loop {
    fn new(file: &std::path::Path) -> Loop {
        // The VM's kernel has loop as a module, not loaded at boot; its device nodes appear
        // a moment after it loads.
        let _ = std::process::Command::new("/sbin/modprobe")
            .arg("loop")
            .status();
        for _ in 0..50 {
            let out = std::process::Command::new("losetup")
                .args(["--find", "--show", file.to_str().unwrap()])
                .output()
                .unwrap();
            if out.status.success() {
                return Loop(String::from_utf8(out.stdout).unwrap().trim().to_owned());
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("no loop device for {}", file.display());
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = std::process::Command::new("losetup")
            .args(["-d", &self.0])
            .status();
    }
}

#[test]
#[ignore = "needs ZFS"]
fn a_block_device_is_used_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Loop::new(&sparse(dir.path(), "disk", 256 * MIB));
    let zfs = zfs();
    let name = unique("disk");
    let pool = CreatePool::new(name.clone(), VdevSpec::new().disk(&dev.0))
        .pool_property("ashift", "12")
        .pool_property("cachefile", "none")
        .mountpoint("none")
        .create(&zfs)
        .unwrap();
    let status = pool.status().unwrap();
    let leaf = &status.root.children[0];
    assert_eq!(
        (leaf.name.as_str(), leaf.kind.as_str()),
        (dev.0.as_str(), "disk")
    );
    assert_eq!(leaf.ashift, Some(12));
    // Used as given: no partition table written (whole_disk is 0), the label is on the device.
    // `zpool status` names a device under /dev by its short name; ours is the full path.
    let short = dev.0.trim_start_matches("/dev/");
    assert!(cli("zpool", &["status", name.as_str()]).contains(short));
    assert_eq!(label_ashifts(std::path::Path::new(&dev.0)), [12]);
    assert!(!std::path::Path::new(&format!("{}p1", dev.0)).exists());
    zfs.destroy_pool(&pool.name().clone()).unwrap();
}

#[test]
#[ignore = "needs ZFS"]
fn an_altroot_pool_without_features_as_zpool_create_r_d_makes_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let vdev = sparse(dir.path(), "v", 128 * MIB);
    let zfs = zfs();
    let name = unique("altroot");
    let pool = CreatePool::new(name.clone(), VdevSpec::new().file(&vdev))
        .altroot(root.path())
        .enable_features(false)
        .mountpoint("/srv")
        .create(&zfs)
        .unwrap();
    let p = name.as_str();
    assert_eq!(zpool_get(p, "altroot").0, root.path().to_str().unwrap());
    // An altroot keeps the pool out of the cache file, as `zpool create -R` does.
    assert_eq!(zpool_get(p, "cachefile").0, "none");
    assert_eq!(zpool_get(p, "feature@zstd_compress").0, "disabled");
    assert_eq!(
        pool.property("feature@zstd_compress").unwrap().value,
        "disabled"
    );
    assert_eq!(
        zfs_get(p, "mountpoint").0,
        format!("{}/srv", root.path().display())
    );
    // The label of a destroyed pool no longer counts as in use.
    zfs.destroy_pool(&pool.name().clone()).unwrap();
    assert_eq!(zfs.device_label(&vdev).unwrap(), None);
}

/// The configuration keys of every top-level vdev as `zdb -C` prints them (type, parity,
/// dRAID geometry, allocation class), in order.
fn zdb_tops(cachefile: &std::path::Path, pool: &str) -> Vec<Vec<String>> {
    let out = cli("zdb", &["-U", cachefile.to_str().unwrap(), "-C", pool]);
    let mut tops: Vec<Vec<String>> = Vec::new();
    let mut depth_of_top = None;
    for line in out.lines() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        if t.starts_with("children[") {
            match depth_of_top {
                None => depth_of_top = Some(indent),
                Some(d) if indent > d => continue,
                Some(_) => {}
            }
            if Some(indent) == depth_of_top {
                tops.push(Vec::new());
            }
            continue;
        }
        let keys = [
            "type:",
            "nparity:",
            "draid_ndata:",
            "draid_nspares:",
            "draid_ngroups:",
            "alloc_bias:",
        ];
        if let (Some(top), Some(d)) = (tops.last_mut(), depth_of_top) {
            if indent == d + 4 && keys.iter().any(|k| t.starts_with(k)) {
                top.push(t.to_owned());
            }
        }
    }
    tops
}

/// dRAID and the dedup class made as `zpool create` makes them: the same configuration in
/// `zdb -C`, the same names in `zpool status`.
#[test]
#[ignore = "needs ZFS"]
fn draid_and_dedup_vdevs_match_what_zpool_create_makes() {
    let zfs = zfs();
    let dir = tempfile::tempdir().unwrap();
    let files = |prefix: &str, n: usize| -> Vec<std::path::PathBuf> {
        (0..n)
            .map(|i| sparse(dir.path(), &format!("{prefix}{i}"), 128 << 20))
            .collect()
    };
    let (ours, theirs) = (files("a", 9), files("b", 9));
    let leaves = |f: &[std::path::PathBuf]| f.iter().map(Leaf::file).collect::<Vec<_>>();
    let spec = VdevSpec::new()
        .vdev(TopLevel::Draid {
            parity: 2,
            data: Some(3),
            spares: 1,
            devices: leaves(&ours[..7]),
        })
        .dedup(TopLevel::Mirror(leaves(&ours[7..])));
    assert_eq!(spec.to_string().split(' ').next(), Some("draid2:3d:7c:1s"));
    let name = unique("dr");
    // Refused as `zpool create` refuses it: a 2-way mirror protects less than draid2.
    let e = CreatePool::new(name.clone(), spec.clone())
        .create(&zfs)
        .unwrap_err();
    assert_eq!(
        e.reason(),
        Some(zfs_core::Reason::ReplicationMismatch),
        "{e}"
    );
    assert!(!cli_pools().contains(&name.to_string()));
    let cache = dir.path().join("zpool.cache");
    let pool = CreatePool::new(name.clone(), spec)
        .pool_property("cachefile", cache.to_str().unwrap())
        .mountpoint("none")
        .force(true)
        .create(&zfs)
        .unwrap();
    let cli_name = unique("clidraid");
    let cli_cache = dir.path().join("cli.cache");
    let cache_prop = format!("cachefile={}", cli_cache.display());
    let mut args = vec!["create", "-f", "-o", &cache_prop, "-O", "mountpoint=none"];
    args.push(cli_name.as_str());
    args.push("draid2:3d:1s");
    let paths: Vec<&str> = theirs.iter().map(|p| p.to_str().unwrap()).collect();
    args.extend(&paths[..7]);
    args.extend(["dedup", "mirror"]);
    args.extend(&paths[7..]);
    cli("zpool", &args);

    let tops = zdb_tops(&cache, name.as_str());
    assert_eq!(tops, zdb_tops(&cli_cache, cli_name.as_str()));
    // 6 usable devices (one is the spare's space) hold whole rows of 5-wide groups: 6 groups.
    assert!(tops[0].contains(&"draid_ngroups: 6".to_owned()), "{tops:?}");
    let cli_status = zpool_status(name.as_str());
    assert!(cli_status.contains("\tdedup"), "{cli_status}");
    let status = pool.status().unwrap();
    let top = &status.root.children[0];
    assert_eq!(top.name, "draid2:3d:7c:1s-0");
    assert!(zpool_status(name.as_str()).contains("draid2:3d:7c:1s-0"));
    assert_eq!(
        status.root.children[1].allocation_class,
        Some(AllocationClass::Dedup)
    );
    assert_eq!(status.spares.len(), 1);
    assert_eq!(status.spares[0].name, "draid2-0-0");
    assert_eq!(status.spares[0].state, zfs_core::Health::Available);
    zfs.destroy_pool(&name).unwrap();
    cli("zpool", &["destroy", cli_name.as_str()]);

    // Geometry the kernel could not build is refused first, with nothing created.
    for (parity, data, spares, n) in [(4, None, 0, 6), (1, Some(5), 1, 5), (1, Some(0), 0, 3)] {
        let spec = VdevSpec::new().vdev(TopLevel::Draid {
            parity,
            data,
            spares,
            devices: leaves(&ours[..n]),
        });
        let e = spec.validate().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    }
}

/// The VM's two scratch disks (`ci/vm` attaches them), by their stable names, emptied, and the
/// hold that keeps other tests off them.
fn scratch_disks() -> (zfs_core::testing::ScratchDisks, [std::path::PathBuf; 2]) {
    let disks = hold_scratch_disks();
    let paths = [0, 1].map(|n| disks.blank(n).unwrap());
    (disks, paths)
}

/// A whole disk, partitioned as `zpool create` partitions one (GPT, partition 1 for the pool
/// and 9 reserved, `whole_disk=1`), given by its /dev/disk/by-id name; the second disk
/// attached as a whole disk makes a mirror.
#[test]
#[ignore = "needs ZFS"]
#[serial]
fn whole_disks_are_partitioned_as_zpool_create_partitions_them() {
    let (_disks, [a, b]) = scratch_disks();
    let zfs = zfs();
    let name = unique("whole");
    let pool = CreatePool::new(
        name.clone(),
        VdevSpec::new().vdev(TopLevel::Single(Leaf::whole_disk(&a))),
    )
    .pool_property("cachefile", "none")
    .mountpoint("none")
    .create(&zfs)
    .unwrap();
    // udev re-creates the partition's links after the new table is read: when a partition
    // was there before (an earlier test), the CLI must wait for that, as an admin would.
    cli("udevadm", &["settle"]);
    let part = format!("{}-part1", a.display());
    let status = pool.status().unwrap();
    assert_eq!(status.root.children[0].name, part);
    let zdb = cli("zdb", &["-l", &part]);
    assert!(zdb.contains("whole_disk: 1"), "{zdb}");
    // The partition table the CLI writes: a GPT with partitions 1 and 9, the first at 1 MiB.
    let node = std::fs::canonicalize(&a).unwrap();
    assert_eq!(
        partitions(&node),
        [(1, 2048), (9, partition_start(&node, 9))]
    );
    assert!(gpt(&node));

    // zpool attach with a whole disk: partitioned the same way, then resilvered.
    pool.attach(
        Path::new(&part),
        &Leaf::whole_disk(&b),
        &AttachOptions::new(),
    )
    .unwrap();
    zfs.wait(&name, zfs_core::WaitActivity::Resilver).unwrap();
    cli("udevadm", &["settle"]);
    let b_part = format!("{}-part1", b.display());
    let status = cli("zpool", &["status", "-P", name.as_str()]);
    assert!(
        status.contains("mirror-0") && status.contains(&b_part),
        "{status}"
    );
    assert!(cli("zdb", &["-l", &b_part]).contains("whole_disk: 1"));
    drop(pool);
    zfs.destroy_pool(&name).unwrap();

    // A disk in use by a pool is refused, and its partition table left alone.
    let other = unique("whole");
    CreatePool::new(
        other.clone(),
        VdevSpec::new().vdev(TopLevel::Single(Leaf::whole_disk(&a))),
    )
    .pool_property("cachefile", "none")
    .mountpoint("none")
    .create(&zfs)
    .unwrap();
    let before = partitions(&node);
    let e = CreatePool::new(
        unique("whole"),
        VdevSpec::new().vdev(TopLevel::Single(Leaf::whole_disk(&a))),
    )
    .create(&zfs)
    .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Busy), "{e}");
    assert_eq!(partitions(&node), before);
    zfs.destroy_pool(&other).unwrap();

    // A "whole disk" that is a file is refused before anything is written to it.
    let dir = tempfile::tempdir().unwrap();
    let file = sparse(dir.path(), "not-a-disk", 128 * MIB);
    let e = CreatePool::new(
        unique("whole"),
        VdevSpec::new().vdev(TopLevel::Single(Leaf::whole_disk(&file))),
    )
    .create(&zfs)
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert!(e.to_string().contains("under /dev"), "{e}");
    assert!(label_ashifts(&file).is_empty());
}

/// `zpool replace POOL DEVICE` of a whole disk swapped for a blank one in the same slot: the
/// new disk is partitioned as the old one was, and resilvered from the other side.
#[test]
#[ignore = "needs ZFS"]
#[serial]
fn a_whole_disk_replaced_in_place_is_partitioned_again_and_resilvered() {
    use std::io::{Seek, SeekFrom, Write};
    let (_disks, [a, b]) = scratch_disks();
    let zfs = zfs();
    let name = unique("swap");
    let pool = CreatePool::new(
        name.clone(),
        VdevSpec::new().vdev(TopLevel::Mirror(vec![
            Leaf::whole_disk(&a),
            Leaf::whole_disk(&b),
        ])),
    )
    .pool_property("cachefile", "none")
    .mountpoint("none")
    .create(&zfs)
    .unwrap();
    with_data(&zfs, &format!("{name}/data"), &[], |dir| {
        std::fs::write(dir.join("blob"), incompressible(16)).unwrap();
    });
    let part = std::path::PathBuf::from(format!("{}-part1", a.display()));
    // The disk is taken out and a blank one put in: its table and labels are gone.
    pool.offline(&part, &zfs_core::OfflineOptions::new())
        .unwrap();
    let node = std::fs::canonicalize(&a).unwrap();
    {
        let mut disk = std::fs::OpenOptions::new().write(true).open(&node).unwrap();
        let size = disk.seek(SeekFrom::End(0)).unwrap();
        let zeros = vec![0u8; 8 << 20];
        for at in [0, size - (8 << 20)] {
            disk.seek(SeekFrom::Start(at)).unwrap();
            disk.write_all(&zeros).unwrap();
        }
        disk.sync_all().unwrap();
    }
    cli("blockdev", &["--rereadpt", node.to_str().unwrap()]);
    cli("udevadm", &["settle"]);
    assert!(partitions(&node).is_empty());
    assert!(!gpt(&node));

    pool.replace(&part, None, &zfs_core::ReplaceOptions::new())
        .unwrap();
    zfs.wait(&name, zfs_core::WaitActivity::Replace).unwrap();
    cli("udevadm", &["settle"]);
    assert!(gpt(&node));
    assert_eq!(
        partitions(&node),
        [(1, 2048), (9, partition_start(&node, 9))]
    );
    assert!(cli("zdb", &["-l", part.to_str().unwrap()]).contains("whole_disk: 1"));
    let status = cli("zpool", &["status", "-P", name.as_str()]);
    let line = status
        .lines()
        .find(|l| l.trim_start().starts_with(part.to_str().unwrap()))
        .unwrap_or_else(|| panic!("{status}"));
    assert!(line.contains("ONLINE"), "{status}");
    assert!(!status.contains("replacing"), "{status}");
    drop(pool);
    zfs.destroy_pool(&name).unwrap();
}

/// (number, first sector) of each partition of the disk at `node`, as the kernel reads them
/// (`/sys/block/DISK/DISKN/start`).
fn partitions(node: &Path) -> Vec<(u32, u64)> {
    let disk = node.file_name().unwrap().to_str().unwrap();
    let mut found: Vec<(u32, u64)> = std::fs::read_dir(format!("/sys/block/{disk}"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            let n: u32 = name.strip_prefix(disk)?.parse().ok()?;
            Some((n, partition_start(node, n)))
        })
        .collect();
    found.sort_unstable();
    found
}

fn partition_start(node: &Path, n: u32) -> u64 {
    let disk = node.file_name().unwrap().to_str().unwrap();
    std::fs::read_to_string(format!("/sys/block/{disk}/{disk}{n}/start"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Whether the disk carries a GPT header (`EFI PART` at LBA 1).
fn gpt(node: &Path) -> bool {
    use std::io::{Read, Seek};
    let mut f = std::fs::File::open(node).unwrap();
    f.seek(std::io::SeekFrom::Start(512)).unwrap();
    let mut sig = [0u8; 8];
    f.read_exact(&mut sig).unwrap();
    &sig == b"EFI PART"
}

#[test]
#[ignore = "needs ZFS"]
fn creation_mounts_only_when_asked_and_takes_itself_back_when_it_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let zfs = zfs();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"a file, not a directory").unwrap();
    let unmountable = blocker.join("sub");

    // A pool under an altroot, mounted as `zpool create -R` mounts it.
    let name = unique("mounted");
    let root = dir.path().join("root");
    CreatePool::new(
        name.clone(),
        VdevSpec::new().file(sparse(dir.path(), "v1", 128 * MIB)),
    )
    .altroot(&root)
    .mount(true)
    .create(&zfs)
    .unwrap();
    let p = name.as_str();
    assert_eq!(zfs_get(p, "mounted").0, "yes");
    let at = root.join(p);
    let source = cli("findmnt", &["-n", "-o", "SOURCE", at.to_str().unwrap()]);
    assert_eq!(source.trim(), p);

    // Filesystems: mounted when asked, where `zfs create` would; otherwise not.
    use zfs_core::CreateDataset;
    CreateDataset::filesystem(ds(format!("{p}/asked")))
        .mount(true)
        .create(&zfs)
        .unwrap();
    assert_eq!(zfs_get(&format!("{p}/asked"), "mounted").0, "yes");
    assert!(at.join("asked").is_dir());
    CreateDataset::filesystem(ds(format!("{p}/not_asked")))
        .create(&zfs)
        .unwrap();
    assert_eq!(zfs_get(&format!("{p}/not_asked"), "mounted").0, "no");
    for (leaf, prop, value) in [
        ("legacy", "mountpoint", "legacy"),
        ("none", "mountpoint", "none"),
        ("noauto", "canmount", "noauto"),
    ] {
        CreateDataset::filesystem(ds(format!("{p}/{leaf}")))
            .property(prop, value)
            .mount(true)
            .create(&zfs)
            .unwrap();
        assert_eq!(zfs_get(&format!("{p}/{leaf}"), "mounted").0, "no", "{leaf}");
    }
    // Parents made for it are mounted too, before it, as `zfs create -p` mounts them.
    CreateDataset::filesystem(ds(format!("{p}/parent/child")))
        .create_parents(true)
        .mount(true)
        .create(&zfs)
        .unwrap();
    for made in ["parent", "parent/child"] {
        assert_eq!(
            zfs_get(&format!("{p}/{made}"), "mounted").0,
            "yes",
            "{made}"
        );
    }
    let child = cli(
        "findmnt",
        &[
            "-n",
            "-o",
            "SOURCE",
            at.join("parent/child").to_str().unwrap(),
        ],
    );
    assert_eq!(child, format!("{p}/parent/child"));
    // A mount that fails takes back the creation, parents made for it included. (Under the
    // altroot: a mountpoint below a file there.)
    std::fs::write(at.join("blocker"), b"a file").unwrap();
    let e = CreateDataset::filesystem(ds(format!("{p}/made/for_it")))
        .create_parents(true)
        .property("mountpoint", &format!("/{p}/blocker/sub"))
        .mount(true)
        .create(&zfs)
        .unwrap_err();
    assert!(e.message().contains("taken back"), "{e}");
    for gone in ["made/for_it", "made"] {
        assert!(!zfs.exists(&any(format!("{p}/{gone}"))), "{gone}: {e}");
    }
    zfs.destroy_pool(&name).unwrap();

    // A pool whose root cannot be mounted is destroyed again; its file can be used again.
    let other = unique("unmountable");
    let vdev = sparse(dir.path(), "v2", 128 * MIB);
    let e = CreatePool::new(other.clone(), VdevSpec::new().file(&vdev))
        .pool_property("cachefile", "none")
        .mountpoint(unmountable.to_str().unwrap())
        .mount(true)
        .create(&zfs)
        .unwrap_err();
    assert!(e.message().contains("taken back"), "{e}");
    assert!(zfs.pool(&other).is_err(), "{e}");
    CreatePool::new(other.clone(), VdevSpec::new().file(&vdev))
        .pool_property("cachefile", "none")
        .create(&zfs)
        .unwrap();
    zfs.destroy_pool(&other).unwrap();
}
