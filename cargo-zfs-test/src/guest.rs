//! The guest half of a VM run, started by virtme-ng's `--exec`: says it booted, loads the zfs
//! module, runs the job the host wrote and records its exit code. Not for users.

use std::path::Path;
use std::process::Command;

use crate::cached;
use crate::error::HARNESS_FAILED;
use crate::job::Job;
use crate::vm::{BOOTED_FILE, GUEST_ERROR_FILE, JOB_FILE, MODULES_FILE, RC_FILE};

/// Returns the job's exit code, also written to `state/rc` for the host; a failure of the
/// guest itself goes to `state/guest-error` instead, so it never reads as the job's result.
pub fn run(state: &Path) -> i32 {
    let _ = std::fs::write(state.join(BOOTED_FILE), "up\n");
    match prepare_and_run(state) {
        Ok(rc) => {
            let _ = std::fs::write(state.join(RC_FILE), format!("{rc}\n"));
            rc
        }
        Err(message) => {
            eprintln!("[zfs-test guest] error: {message}");
            let _ = std::fs::write(state.join(GUEST_ERROR_FILE), message);
            HARNESS_FAILED
        }
    }
}

fn prepare_and_run(state: &Path) -> Result<i32, String> {
    quiet_udev_rules();
    match std::fs::read_to_string(state.join(MODULES_FILE)) {
        // Modules built from source, or the installed ones decompressed by the host
        // (installed_modules): their dependency, spl, comes first in the list.
        Ok(list) => {
            for module in list.lines() {
                load(Command::new("insmod").arg(module), module)?;
            }
        }
        Err(_) => load(Command::new("modprobe").arg("zfs"), "zfs")?,
    }
    if !Path::new("/dev/zfs").exists() {
        return Err("the zfs module loaded but /dev/zfs is missing".into());
    }
    if let Ok(list) = std::fs::read_to_string(state.join(cached::LIST_FILE)) {
        cached::mount_in_guest(&list);
    }
    let text = std::fs::read_to_string(state.join(JOB_FILE))
        .map_err(|e| format!("reading the job file: {e}"))?;
    let job = Job::from_json(&text).map_err(|e| e.to_string())?;
    job.execute().map_err(|e| e.to_string())
}

/// Lines of packaged udev rules that start a program at every block device event and do
/// nothing in the guest: (rule file, what marks the lines, a file whose presence keeps them),
/// with the reason each is idle there. Each start costs a tenth of a second or more under
/// emulation, and a test that partitions a disk or makes volumes causes dozens of events:
/// four rounds of partitioning a scratch disk and making, exporting, importing and destroying
/// a pool on it took 12.9, 12.0 and 11.5 s without these lines against 15.6, 15.5 and 14.0 s
/// with them (alternated in one guest). The rest of each file stays in force (90-zfs.rules
/// also opens `/dev/zfs` to every user, which delegation tests need).
const IDLE_UDEV_LINES: &[(&str, &str, &str)] = &[
    // `/dev/disk/by-vdev` names from /etc/zfs/vdev_id.conf (a bash script per event), which
    // the guest has only when the host has one: kept then.
    ("69-vdev.rules", "vdev_id", "/etc/zfs/vdev_id.conf"),
    // `modprobe zfs` when a device with a ZFS label appears: the guest loaded zfs at boot.
    ("90-zfs.rules", "/sbin/modprobe zfs", ""),
];

/// Drops the [`IDLE_UDEV_LINES`] in the guest: a rule file of the same name in
/// /etc/udev/rules.d overrides the packaged one, and holds the packaged text without those
/// lines (the guest's /etc is an overlay that the host never sees). Only in the VM: a host's
/// own udev is never touched. Best effort: a guest without udev or the rules runs as it is.
fn quiet_udev_rules() {
    let mut changed = false;
    for (rule, marker, kept_when) in IDLE_UDEV_LINES {
        let local = Path::new("/etc/udev/rules.d").join(rule);
        if local.exists() || (!kept_when.is_empty() && Path::new(kept_when).exists()) {
            continue;
        }
        let Some(packaged) = ["/usr/lib/udev/rules.d", "/lib/udev/rules.d"]
            .iter()
            .find_map(|dir| std::fs::read_to_string(Path::new(dir).join(rule)).ok())
        else {
            continue;
        };
        let Some(kept) = without_lines(&packaged, marker) else {
            continue;
        };
        if std::fs::create_dir_all("/etc/udev/rules.d").is_ok()
            && std::fs::write(&local, kept).is_ok()
        {
            changed = true;
        }
    }
    if changed {
        let _ = Command::new("udevadm")
            .args(["control", "--reload"])
            .status();
    }
}

/// `text` without its lines that hold `marker`, or `None` when none does.
fn without_lines(text: &str, marker: &str) -> Option<String> {
    let kept: String = text
        .lines()
        .filter(|l| !l.contains(marker))
        .map(|l| format!("{l}\n"))
        .collect();
    (kept.lines().count() < text.lines().count()).then(|| {
        format!("# The packaged rules, without the lines this test guest has no use for (cargo-zfs-test)\n{kept}")
    })
}

/// Runs `modprobe`/`insmod` and says what the kernel refused.
fn load(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "loading {what} failed in the guest: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_marked_lines_of_a_rule_file_go() {
        let packaged = "ENV{ID_FS_TYPE}==\"zfs\", RUN+=\"/sbin/modprobe zfs\"\n\
                        KERNEL==\"zfs\", MODE=\"0666\", OPTIONS+=\"static_node=zfs\"\n";
        let kept = without_lines(packaged, "/sbin/modprobe zfs").unwrap();
        assert!(!kept.contains("modprobe"), "{kept}");
        assert!(kept.contains("MODE=\"0666\""), "{kept}");
        assert_eq!(without_lines(packaged, "vdev_id"), None);
    }
}
