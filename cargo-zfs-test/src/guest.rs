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
