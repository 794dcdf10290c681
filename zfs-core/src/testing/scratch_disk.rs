//! The VM's scratch disks, emptied for a test of whole-disk or partition code.

use std::io;
use std::path::PathBuf;
use std::process::Command;

/// `cmd args`, which must succeed; its standard output.
fn run(cmd: &str, args: &[&str]) -> io::Result<String> {
    let out = Command::new(cmd).args(args).output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{cmd} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The VM's scratch disk `n` (`ci/vm` attaches two of 512 MiB,
/// `/dev/disk/by-id/virtio-zfs-scratch0` and `...1`), emptied: what an earlier test left in
/// its partitions goes first (a partition still mounted, as a test that failed halfway leaves
/// an ESP, is unmounted; a pool's labels are cleared; every signature is wiped), then the
/// partition table. The disks are shared by every test binary of one VM boot, so each test
/// starts with this.
///
/// # Errors
/// [`io::ErrorKind::NotFound`] where there is no such disk (not under `ci/vm`); the failing
/// tool's words otherwise.
pub fn blank_scratch_disk(n: u32) -> io::Result<PathBuf> {
    let disk = PathBuf::from(format!("/dev/disk/by-id/virtio-zfs-scratch{n}"));
    if !disk.exists() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no scratch disk {} (run under ci/vm)", disk.display()),
        ));
    }
    let d = disk.to_str().expect("a UTF-8 path");
    let listed = run("lsblk", &["-ln", "-o", "PATH,TYPE", d])?;
    let parts: Vec<&str> = listed
        .lines()
        .filter(|l| l.ends_with(" part"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    // Every mount on any partition, deepest first (an ESP mounted inside a root on another
    // partition of the same disk goes before the root).
    let mut targets = Vec::new();
    for path in &parts {
        // findmnt exits 1 when nothing is mounted: not an error here.
        let found = Command::new("findmnt")
            .args(["-rn", "-o", "TARGET", "-S", path])
            .output()?;
        targets.extend(
            String::from_utf8_lossy(&found.stdout)
                .lines()
                .map(str::to_owned),
        );
    }
    targets.sort_by_key(|t| std::cmp::Reverse(t.matches('/').count()));
    for target in &targets {
        run("umount", &[target])?;
    }
    for path in parts {
        // Fails where there is no label: nothing to clear.
        let _ = Command::new("zpool")
            .args(["labelclear", "-f", path])
            .output();
        run("wipefs", &["-a", "-q", path])?;
    }
    run("wipefs", &["-a", "-q", d])?;
    run("blockdev", &["--rereadpt", d])?;
    run("udevadm", &["settle"])?;
    Ok(disk)
}
