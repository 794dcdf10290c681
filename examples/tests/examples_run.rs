//! The examples run as a user would run them, on the real kernel module, and do what they say:
//! checked with `zpool` afterwards, not only by their own output.

use std::process::Command;

fn run(bin: &str, args: &[&str]) -> String {
    assert!(
        std::path::Path::new("/dev/zfs").exists(),
        "these tests need the zfs module (run them with ci/vm)"
    );
    let out = Command::new(bin).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{bin} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn pool_exists(name: &str) -> bool {
    Command::new("zpool")
        .args(["list", "-H", name])
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
#[ignore = "needs ZFS"]
fn make_mirror_attaches_waits_for_the_resilver_and_cleans_up() {
    let name = format!("attachdemo{}", std::process::id());
    let out = run(env!("CARGO_BIN_EXE_make-mirror"), &[&name]);
    assert!(out.contains("wrote 32 MiB"), "{out}");
    assert!(out.contains("resilver finished (waited: true)"), "{out}");
    // Both sides of mirror-0 online after the resilver, and everything copied.
    assert!(out.contains("  mirror-0 ONLINE"), "{out}");
    for disk in ["disk0 ONLINE", "disk1 ONLINE"] {
        assert!(out.contains(disk), "{out}");
    }
    let examined: u64 = out
        .split("bytes examined")
        .next()
        .and_then(|s| s.rsplit(' ').nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no figure in {out}"));
    assert!(examined >= 32 << 20, "{out}");
    assert!(out.contains(&format!("destroyed pool {name}")), "{out}");
    assert!(!pool_exists(&name));
}

#[test]
#[ignore = "needs ZFS"]
fn create_pool_creates_reports_and_destroys() {
    let name = format!("createdemo{}", std::process::id());
    let out = run(env!("CARGO_BIN_EXE_create-pool"), &[&name]);
    assert!(out.contains(&format!("created pool {name}")), "{out}");
    assert!(out.contains("ashift     12"), "{out}");
    assert!(out.contains(&format!("destroyed pool {name}")), "{out}");
    assert!(!pool_exists(&name));
}

#[test]
#[ignore = "needs ZFS"]
fn resumable_replication_resumes_an_interrupted_receive_and_cleans_up() {
    let prefix = format!("repl{}", std::process::id());
    let out = run(env!("CARGO_BIN_EXE_resumable-replication"), &[&prefix]);
    assert!(out.contains("receive interrupted"), "{out}");
    assert!(out.contains("resume token:"), "{out}");
    assert!(out.contains("receive complete"), "{out}");
    assert!(
        out.contains(&format!(
            "{prefix}dst/data@monday is {prefix}src/data@monday: true"
        )),
        "{out}"
    );
    // The second send carried only the rest: less than the whole stream.
    let figure = |before: &str| -> u64 {
        out.split(before)
            .next()
            .and_then(|s| s.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no figure before {before:?} in {out}"))
    };
    let (total, rest) = (figure(" bytes; the connection"), figure(" more bytes"));
    assert!(rest < total, "{out}");
    for pool in ["src", "dst"] {
        assert!(!pool_exists(&format!("{prefix}{pool}")));
    }
}

#[test]
#[ignore = "needs ZFS"]
fn the_installer_lays_down_verifies_tears_down_and_cleans_up() {
    let name = format!("installdemo{}", std::process::id());
    let out = run(env!("CARGO_BIN_EXE_installer"), &[&name]);
    assert!(
        out.contains(&format!("key needed for {name}/persist")),
        "{out}"
    );
    assert!(
        out.contains(" mirror ") && out.contains("zfs create -V 268435456 -b 4096"),
        "{out}"
    );
    assert!(out.contains("verify: 0 differences"), "{out}");
    assert!(
        out.contains(&format!("teardown: zfs unload-key {name}/persist")),
        "{out}"
    );
    assert!(
        out.contains(&format!("teardown: zpool export {name}")),
        "{out}"
    );
    assert!(out.contains(&format!("destroyed pool {name}")), "{out}");
    assert!(!pool_exists(&name));
}

#[test]
#[ignore = "needs ZFS"]
fn dataset_tree_builds_tags_lists_and_destroys_its_tree() {
    let name = format!("treedemo{}", std::process::id());
    let dir = std::env::temp_dir().join(&name);
    std::fs::create_dir_all(&dir).unwrap();
    let vdev = dir.join("vdev");
    std::fs::File::create(&vdev)
        .unwrap()
        .set_len(256 << 20)
        .unwrap();
    let create = Command::new("zpool")
        .args(["create", "-O", "mountpoint=none", &name])
        .arg(&vdev)
        .status()
        .unwrap();
    assert!(create.success());
    let out = run(env!("CARGO_BIN_EXE_dataset-tree"), &[&name]);
    // Through the library: it waits out another binary reading the pool at that moment.
    let _ = zfs_core::PoolName::new(name.as_str())
        .and_then(|n| zfs_core::Zfs::open()?.destroy_pool(&n));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.contains("took 6 snapshots in one call"), "{out}");
    assert!(
        out.contains("tagged 6 filesystems in one transaction group"),
        "{out}"
    );
    // Every filesystem shows the tag; snapshots inherit it from theirs.
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with(&format!("{name}/demo")))
        .collect();
    assert_eq!(rows.len(), 12, "{out}");
    assert!(rows.iter().all(|r| r.contains(" daily ")), "{out}");
    assert!(out.contains(&format!("destroyed {name}/demo")), "{out}");
}
