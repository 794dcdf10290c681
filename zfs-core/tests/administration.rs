//! Administration of datasets on the real module, each compared with the CLI: space per user,
//! group and project with their quotas (`zfs userspace`), ...

mod common;

use std::os::unix::fs::chown;

use common::*;
use zfs_core::testing::FilePool;
use zfs_core::{ErrorKind, SpaceOwner, SpaceUsage};

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
    assert!(
        matches!(
            e.kind(),
            ErrorKind::NotSupported | ErrorKind::InvalidArgument
        ),
        "{e}"
    );
}
