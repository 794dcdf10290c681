//! Helpers shared by the layout's tests on the real module.
#![allow(dead_code)]

mod fault_points;
// Each test binary takes what it needs of these.
#[allow(unused_imports)]
pub use fault_points::{fault_points, fault_points_drawn, json_step_kinds, step_kinds};

use std::path::PathBuf;
use std::process::Command;

use impermanence_layout::{Inventory, LayoutError, Plan, PlanOptions, Spec, VdevEntry};
use zfs_core::{CreatePool, PoolName, VdevSpec, Zfs};

/// A spec for a uniquely named pool on a file in a fresh directory; destroys the pool on drop.
pub struct Case {
    pub spec: Spec,
    pub dir: tempfile::TempDir,
}

impl Case {
    pub fn new(tag: &str) -> Case {
        let dir = tempfile::tempdir().unwrap();
        let mut spec = Spec::default();
        spec.pool.name = format!("zr{tag}{}", std::process::id());
        spec.pool.vdevs = vec![VdevEntry::new(dir.path().join("zroot.img")).size("512M")];
        spec.pool
            .properties
            .insert("cachefile".into(), "none".into());
        Case { spec, dir }
    }
    pub fn vdev(&self) -> PathBuf {
        self.spec.pool.vdevs[0].path.clone()
    }
    pub fn pool(&self) -> PoolName {
        PoolName::new(self.spec.pool.name.as_str()).unwrap()
    }
    /// The spec written to `spec.toml` in the case's directory, for the CLI; its path.
    pub fn spec_file(&self) -> String {
        let path = self.dir.path().join("spec.toml");
        std::fs::write(&path, self.spec.to_toml()).unwrap();
        path.to_str().unwrap().to_owned()
    }
    /// The vdev file, 512 MiB and sparse, as a user would make it before a run.
    pub fn make_vdev(&self) {
        std::fs::File::create(self.vdev())
            .unwrap()
            .set_len(512 << 20)
            .unwrap();
    }
    /// The pool as the guide's `zpool create` makes it, on a new 512 MiB file, with
    /// `autotrim` as given.
    pub fn guide_pool(&self, zfs: &Zfs, autotrim: &str) {
        self.make_vdev();
        CreatePool::new(self.pool(), VdevSpec::new().file(self.vdev()))
            .pool_property("cachefile", "none")
            .pool_property("ashift", "12")
            .pool_property("autotrim", autotrim)
            .fs_property("compression", "zstd")
            .fs_property("acltype", "posixacl")
            .fs_property("atime", "off")
            .fs_property("xattr", "sa")
            .fs_property("normalization", "formD")
            .fs_property("mountpoint", "none")
            .create(zfs)
            .unwrap();
    }
    pub fn plan(&self, zfs: &Zfs) -> Plan {
        Plan::new(
            &self.spec,
            &Inventory::read(zfs, &self.spec).unwrap(),
            &PlanOptions::new(),
        )
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        if let Ok(zfs) = Zfs::open() {
            let _ = zfs.destroy_pool(&self.pool());
        }
    }
}

pub fn zfs() -> Zfs {
    Zfs::open().expect("these tests need root and the zfs module")
}

pub fn zfs_get(name: &str, prop: &str) -> (String, String) {
    let out = Command::new("zfs")
        .args(["get", "-Hp", "-o", "value,source", prop, name])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "zfs get {prop} {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout).unwrap();
    let mut it = line.trim().split('\t');
    (
        it.next().unwrap().to_owned(),
        it.next().unwrap_or("").to_owned(),
    )
}

pub fn everything(zfs: &Zfs, pool: &str) -> Vec<String> {
    if !zfs.pool_exists(&PoolName::new(pool).unwrap()) {
        return Vec::new();
    }
    zfs.list(
        &zfs_core::DatasetName::new(pool).unwrap(),
        zfs_core::DatasetTypes::all(),
    )
    .unwrap()
    .into_iter()
    .map(|l| l.name.to_string())
    .collect()
}

pub fn cli(args: &[&str]) -> (i32, String, String) {
    cli_env(args, &[])
}

/// Runs the CLI with extra environment variables; (exit code, stdout, stderr).
pub fn cli_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_impermanence-layout"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A pool property as `zpool get -Hp` prints it.
pub fn zpool_get(pool: &str, prop: &str) -> String {
    cli_out("zpool", &["get", "-Hp", "-o", "value", prop, pool])
        .trim()
        .to_owned()
}

/// A command's stdout; panics if it fails.
pub fn cli_out(cmd: &str, args: &[&str]) -> String {
    let out = match cmd {
        "zpool" => zfs_core::testing::zpool(args),
        _ => Command::new(cmd).args(args).output(),
    }
    .unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A command's `-j` output, parsed.
pub fn cli_json(cmd: &str, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&cli_out(cmd, args)).unwrap_or_else(|e| panic!("{cmd} {args:?}: {e}"))
}

/// Runs the CLI with `stdin` on its standard input (a pipe, not a terminal); (exit code,
/// stderr).
pub fn cli_stdin(args: &[&str], stdin: &str) -> (Option<i32>, String) {
    let child = spawn_with_stdin(args, stdin, std::process::Stdio::piped());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Starts `apply --yes --spec SPEC` with `stdin` on its standard input and kills it (SIGKILL)
/// once it has reported `steps` finished steps, or lets it end if it has fewer.
pub fn apply_killed_after(spec: &str, stdin: &str, steps: usize) {
    use std::io::BufRead;
    let mut child = spawn_with_stdin(
        &["apply", "--yes", "--spec", spec],
        stdin,
        std::process::Stdio::null(),
    );
    let out = std::io::BufReader::new(child.stdout.take().unwrap());
    for (n, _) in out.lines().enumerate() {
        if n + 1 == steps {
            child.kill().unwrap();
            break;
        }
    }
    child.wait().unwrap();
}

/// Starts the CLI with `args`, its standard output piped, and `stdin` written to its standard
/// input, which is then closed (as an empty or finished standard input would be).
fn spawn_with_stdin(
    args: &[&str],
    stdin: &str,
    stderr: std::process::Stdio,
) -> std::process::Child {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_impermanence-layout"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child
}

/// The VM's scratch disks, held until the result is dropped (test binaries run side by side):
/// `.blank(n)` empties disk `n`.
pub fn hold_scratch_disks() -> zfs_core::testing::ScratchDisks {
    zfs_core::testing::ScratchDisks::take().unwrap()
}

/// `sfdisk --json`'s partitions of a GPT disk: (name, type GUID, start, size in sectors).
pub fn sfdisk_partitions(disk: &std::path::Path) -> Vec<(String, String, u64, u64)> {
    let v = cli_json("sfdisk", &["--json", disk.to_str().unwrap()]);
    assert_eq!(v["partitiontable"]["label"], "gpt", "{v:#}");
    v["partitiontable"]["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["type"].as_str().unwrap().to_owned(),
                p["start"].as_u64().unwrap(),
                p["size"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Every mount target at or below `dir`, as findmnt lists them (parents first).
pub fn mounts_under(dir: &std::path::Path) -> Vec<String> {
    cli_out("findmnt", &["-rn", "-o", "TARGET"])
        .lines()
        .filter(|t| std::path::Path::new(t).starts_with(dir))
        .map(str::to_owned)
        .collect()
}

/// `blkid -p -o export DEV`'s output (empty where it finds nothing). Opening a volume fails
/// with ERESTARTSYS ("Unknown error 512") while another pool's import, creation or export
/// holds the module's namespace lock for over a second (Linux's zvol driver gives up then),
/// as the tests beside this one do: blkid is asked again then, for up to 30 s.
pub fn blkid_export(dev: &str) -> String {
    let start = std::time::Instant::now();
    loop {
        let out = Command::new("blkid")
            .args(["-p", "-o", "export", dev])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("Unknown error 512") && start.elapsed().as_secs() < 30 {
            std::thread::sleep(std::time::Duration::from_millis(200));
            continue;
        }
        // 0: found; 2: nothing found, said without a word (blkid says 2 of a device it could
        // not open too, with the reason).
        assert!(
            out.status.code() == Some(0) || (out.status.code() == Some(2) && err.trim().is_empty()),
            "blkid -p {dev}: {err}"
        );
        return String::from_utf8(out.stdout).unwrap();
    }
}

/// The signature `blkid -p` finds on a device (`swap`, `ext4`, `zfs_member`), empty if none.
pub fn signature(dev: &str) -> String {
    blkid_export(dev)
        .lines()
        .find_map(|l| l.strip_prefix("TYPE="))
        .unwrap_or("")
        .to_owned()
}

/// Asserts that `e` is the fault injected at step `k` of an apply (`fail_at(k)`), and that
/// undoing the steps before it went cleanly.
pub fn assert_fault_undone(e: &LayoutError, k: usize) {
    match e {
        LayoutError::Step {
            index,
            undo_failures,
            ..
        } => {
            assert_eq!(*index, k, "step {k}");
            assert!(
                undo_failures.is_empty(),
                "step {k}: undo failed: {undo_failures:?}"
            );
        }
        other => panic!("step {k}: unexpected {other}"),
    }
}
