//! Administration of datasets on the real module, each compared with the CLI: space per user,
//! group and project with their quotas (`zfs userspace`), ...

mod common;

use std::os::unix::fs::chown;

use common::*;
use zfs_core::testing::FilePool;
use zfs_core::{DefaultQuota, DelegationScope, ErrorKind, Grantee, SpaceOwner, SpaceUsage};

/// `zfs {user,group,project}space -H -n -p -o name,used,quota,objused,objquota FS`, as
/// (id, used, quota, objused, objquota) with `-`/`none` as `None`.
/// (id, used, quota, objects used, object quota).
type Row = (u64, u64, Option<u64>, u64, Option<u64>);

fn cli_space(kind: &str, fs: &str) -> Vec<Row> {
    let opt = |v: &str| v.parse::<u64>().ok().filter(|&n| n != 0);
    let cols = "name,used,quota,objused,objquota";
    let cmd = format!("{kind}space");
    let mut args = vec![cmd.as_str(), "-H", "-p", "-o", cols, fs];
    if kind != "project" {
        args.insert(1, "-n"); // numeric ids (projects have no names)
    }
    let mut rows: Vec<_> = cli("zfs", &args)
        .lines()
        .map(|l| {
            let w: Vec<&str> = l.split('\t').collect();
            (
                w[0].parse().unwrap(),
                w[1].parse().unwrap_or(0),
                opt(w[2]),
                w[3].parse().unwrap_or(0),
                opt(w[4]),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn ours(rows: &[SpaceUsage]) -> Vec<Row> {
    rows.iter()
        .map(|r| (r.id, r.used, r.quota, r.objects_used, r.object_quota))
        .collect()
}

#[test]
#[ignore = "needs ZFS"]
fn space_per_user_group_and_project_is_what_zfs_userspace_lists() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let name = format!("{p}/home");
    with_data(&zfs, &name, &[], |dir| {
        for (file, uid, gid, mib) in [
            ("alice", 1234, 4321, 2),
            ("bob", 1235, 4321, 1),
            ("root", 0, 0, 1),
        ] {
            let path = dir.join(file);
            std::fs::write(&path, incompressible(mib)).unwrap();
            chown(&path, Some(uid), Some(gid)).unwrap();
        }
        std::fs::create_dir(dir.join("proj")).unwrap();
        std::fs::write(dir.join("proj/data"), incompressible(1)).unwrap();
        cli(
            "zfs",
            &[
                "project",
                "-s",
                "-p",
                "77",
                "-r",
                dir.join("proj").to_str().unwrap(),
            ],
        );
    });
    let fs = zfs.dataset(&any(&name)).unwrap();
    fs.set_property("userquota@1234", "10M").unwrap();
    fs.set_property("userobjquota@1234", "100").unwrap();
    fs.set_property("userquota@5555", "1G").unwrap();
    fs.set_property("groupquota@4321", "5M").unwrap();
    fs.set_property("projectquota@77", "3M").unwrap();
    zfs.pool(f.name()).unwrap().sync().unwrap();

    for (owner, kind) in [
        (SpaceOwner::User, "user"),
        (SpaceOwner::Group, "group"),
        (SpaceOwner::Project, "project"),
    ] {
        let rows = fs.userspace(owner).unwrap();
        assert_eq!(ours(&rows), cli_space(kind, &name), "{kind}");
    }
    let users = fs.userspace(SpaceOwner::User).unwrap();
    let alice = users.iter().find(|r| r.id == 1234).unwrap();
    assert!(alice.used >= 2 << 20, "{alice:?}");
    assert_eq!(alice.quota, Some(10 << 20));
    assert_eq!(alice.object_quota, Some(100));
    let root = users.iter().find(|r| r.id == 0).unwrap();
    assert_eq!(root.name.as_deref(), Some("root"));
    let unused = users.iter().find(|r| r.id == 5555).unwrap();
    assert_eq!((unused.used, unused.quota), (0, Some(1 << 30)));
    let project = fs.userspace(SpaceOwner::Project).unwrap();
    assert!(project
        .iter()
        .any(|r| r.id == 77 && r.quota == Some(3 << 20) && r.used >= 1 << 20));

    // A snapshot keeps the accounting of its moment, as `zfs userspace FS@SNAP` shows; a
    // volume has none.
    let s = snap(format!("{name}@s"));
    zfs.snapshot(std::slice::from_ref(&s), &[]).unwrap();
    let at_snapshot = zfs
        .dataset(&s)
        .unwrap()
        .userspace(SpaceOwner::User)
        .unwrap();
    assert_eq!(ours(&at_snapshot), cli_space("user", s.as_str()));
    let vol = ds(format!("{p}/vol"));
    zfs_core::CreateDataset::volume(vol.clone(), 16 << 20)
        .create(&zfs)
        .unwrap();
    let e = zfs
        .dataset(&vol)
        .unwrap()
        .userspace(SpaceOwner::User)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotSupported, "{e}");
}

/// `zfs CMD...` run as uid/gid `id` with no other groups: (succeeded, stderr).
fn as_user(id: u32, args: &[&str]) -> (bool, String) {
    let ids = [format!("--reuid={id}"), format!("--regid={id}")];
    let out = std::process::Command::new("setpriv")
        .args([ids[0].as_str(), ids[1].as_str(), "--clear-groups", "zfs"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Delegation as `zfs allow` shows it, and as the kernel enforces it on a process that is not
/// root: granted, it works; taken back, it is refused.
#[test]
#[ignore = "needs ZFS"]
fn delegated_permissions_let_a_user_do_exactly_what_was_granted() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let name = format!("{p}/deleg");
    for fs in [name.clone(), format!("{name}/kid")] {
        zfs_core::CreateDataset::filesystem(ds(&fs))
            .property("mountpoint", "none")
            .create(&zfs)
            .unwrap();
    }
    let fs = zfs.dataset(&any(&name)).unwrap();
    let user = Grantee::User(1234);

    let (ok, err) = as_user(1234, &["snapshot", &format!("{name}@before")]);
    assert!(!ok, "no permission yet");
    assert!(err.contains("permission denied"), "{err}");

    fs.allow(&user, DelegationScope::Local, &["snapshot", "mount"])
        .unwrap();
    fs.allow(
        &Grantee::Set("@backup".into()),
        DelegationScope::Local,
        &["send", "hold"],
    )
    .unwrap();
    fs.allow(
        &Grantee::Group(4321),
        DelegationScope::Descendants,
        &["@backup"],
    )
    .unwrap();
    let shown = cli("zfs", &["allow", &name]);
    assert!(
        shown.contains("user (unknown: 1234) mount,snapshot"),
        "{shown}"
    );
    assert!(shown.contains("@backup"), "{shown}");
    assert!(shown.contains("group (unknown: 4321) @backup"), "{shown}");
    let ours = fs.delegations().unwrap();
    let find = |g: &Grantee, s: DelegationScope| {
        ours.iter()
            .find(|d| &d.grantee == g && d.scope == s && d.on == name)
            .map(|d| d.permissions.clone())
    };
    assert_eq!(
        find(&user, DelegationScope::Local),
        Some(vec!["mount".into(), "snapshot".into()])
    );
    assert_eq!(
        find(
            &Grantee::Set("@backup".into()),
            DelegationScope::LocalAndDescendants
        ),
        Some(vec!["hold".into(), "send".into()])
    );
    assert_eq!(
        find(&Grantee::Group(4321), DelegationScope::Descendants),
        Some(vec!["@backup".into()])
    );
    // The child sees the parent's grants, marked with where they are set.
    let kid = zfs.dataset(&any(format!("{name}/kid"))).unwrap();
    assert!(kid.delegations().unwrap().iter().any(|d| d.on == name));

    // Granted locally: works here, not on the child.
    let (ok, err) = as_user(1234, &["snapshot", &format!("{name}@mine")]);
    assert!(ok, "{err}");
    let (ok, _) = as_user(1234, &["snapshot", &format!("{name}/kid@mine")]);
    assert!(!ok, "a local grant does not reach descendants");

    // A wrong permission changes nothing.
    let e = fs
        .allow(&user, DelegationScope::Local, &["snapshot", "frobnicate"])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert_eq!(find(&user, DelegationScope::Local).unwrap().len(), 2);

    // Taken back: refused again.
    fs.unallow(&user, DelegationScope::Local, &["snapshot"])
        .unwrap();
    let (ok, _) = as_user(1234, &["snapshot", &format!("{name}@again")]);
    assert!(!ok);
    fs.unallow(&user, DelegationScope::Local, &[]).unwrap();
    let left = fs.delegations().unwrap();
    assert!(!left.iter().any(|d| d.grantee == user), "{left:?}");
    // Not in any grant (the section headers name the dataset, whose pool name holds the
    // test's process id, which can contain "1234").
    let shown = cli("zfs", &["allow", &name]);
    assert!(
        !shown
            .lines()
            .filter(|l| !l.starts_with("----"))
            .any(|l| l.contains("1234")),
        "{shown}"
    );
}

/// `zfs get all`: the same properties, values and sources as the CLI, in one call.
#[test]
#[ignore = "needs ZFS"]
fn all_properties_are_what_zfs_get_all_lists() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let name = format!("{p}/all");
    zfs_core::CreateDataset::filesystem(ds(&name))
        .property("mountpoint", "none")
        .property("compression", "zstd")
        .property("user:owner", "installer")
        .create(&zfs)
        .unwrap();
    let vol = format!("{p}/vol");
    zfs_core::CreateDataset::volume(ds(&vol), 8 << 20)
        .create(&zfs)
        .unwrap();
    zfs.pool(f.name()).unwrap().sync().unwrap();
    for target in [name.as_str(), vol.as_str()] {
        let ours: Vec<(String, String, String)> = zfs
            .dataset(&any(target))
            .unwrap()
            .all_properties()
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, v.value, v.source.to_string()))
            .collect();
        let theirs: Vec<(String, String, String)> = cli(
            "zfs",
            &[
                "get",
                "-H",
                "-p",
                "-o",
                "property,value,source",
                "all",
                target,
            ],
        )
        .lines()
        .map(|l| {
            let w: Vec<&str> = l.split('\t').collect();
            (w[0].to_owned(), w[1].to_owned(), w[2].to_owned())
        })
        .collect();
        assert_eq!(ours, theirs, "{target}");
    }
}

/// `zfs upgrade FS` and `zfs wait -t deleteq FS`.
#[test]
#[ignore = "needs ZFS"]
fn upgrade_raises_an_old_filesystem_version_and_wait_fs_returns() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let name = format!("{p}/old");
    zfs_core::CreateDataset::filesystem(ds(&name))
        .property("mountpoint", "none")
        .property("version", "4")
        .create(&zfs)
        .unwrap();
    let fs = zfs.dataset(&any(&name)).unwrap();
    assert_eq!(zfs_get(&name, "version").0, "4");
    assert!(fs.upgrade().unwrap());
    assert_eq!(zfs_get(&name, "version").0, "5");
    assert!(!fs.upgrade().unwrap());
    let s = snap(format!("{name}@s"));
    zfs.snapshot(std::slice::from_ref(&s), &[]).unwrap();
    let e = zfs.dataset(&s).unwrap().upgrade().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");

    zfs.wait_fs(&ds(&name), zfs_core::FsWaitActivity::DeleteQueue)
        .unwrap();
    let e = zfs
        .wait_fs(
            &ds(format!("{p}/none")),
            zfs_core::FsWaitActivity::DeleteQueue,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}

#[test]
#[ignore = "needs ZFS"]
fn default_quotas_are_what_zfs_get_shows() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let fs = zfs.dataset(&any(p)).unwrap();
    let limits = DefaultQuota {
        bytes: Some(10 << 20),
        objects: Some(100),
    };
    #[cfg(zfs_2_4)]
    {
        for (owner, kind) in [
            (SpaceOwner::User, "user"),
            (SpaceOwner::Group, "group"),
            (SpaceOwner::Project, "project"),
        ] {
            assert_eq!(fs.default_quota(owner).unwrap(), DefaultQuota::default());
            fs.set_default_quota(owner, limits).unwrap();
            let (bytes, objects) = (
                format!("default{kind}quota"),
                format!("default{kind}objquota"),
            );
            assert_eq!(zfs_get(p, &bytes).0, (10u64 << 20).to_string(), "{kind}");
            assert_eq!(zfs_get(p, &objects).0, "100", "{kind}");
            assert_eq!(fs.default_quota(owner).unwrap(), limits, "{kind}");
            // One limit removed, the other kept.
            let bytes_only = DefaultQuota {
                objects: None,
                ..limits
            };
            fs.set_default_quota(owner, bytes_only).unwrap();
            assert_eq!(zfs_get(p, &objects).0, "0", "{kind}");
            assert_eq!(fs.default_quota(owner).unwrap(), bytes_only, "{kind}");
        }
        // A volume has no default quotas, and refusing them changes nothing.
        zfs_core::CreateDataset::volume(ds(format!("{p}/vol")), 16 << 20)
            .create(&zfs)
            .unwrap();
        let vol = zfs.dataset(&any(format!("{p}/vol"))).unwrap();
        assert!(vol.set_default_quota(SpaceOwner::User, limits).is_err());
        assert_eq!(zfs_get(p, "defaultuserquota").0, (10u64 << 20).to_string());
    }
    #[cfg(not(zfs_2_4))]
    {
        let e = fs.set_default_quota(SpaceOwner::User, limits).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotSupported, "{e}");
        let e = fs.default_quota(SpaceOwner::User).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotSupported, "{e}");
    }
}
