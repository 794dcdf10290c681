//! Filesystems on block devices, with util-linux's own tools: the signature `blkid` reads,
//! swap made by `mkswap`, signatures wiped by `wipefs`. Their output is what users check with,
//! so it is what the layout goes by.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// How long a new volume's device node may take to appear (udev makes `/dev/zvol/...` links
/// after the volume exists; under emulation this takes seconds).
pub(crate) const DEVICE_WAIT: Duration = Duration::from_secs(60);

/// Waits until `device` exists, for up to `timeout`.
pub(crate) fn wait_for_device(device: &Path, timeout: Duration) -> std::io::Result<()> {
    let start = Instant::now();
    while !device.exists() {
        if start.elapsed() > timeout {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "{} did not appear within {} s (is udev running?)",
                    device.display(),
                    timeout.as_secs()
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Runs a util-linux tool; its standard error becomes the error's text.
fn run(tool: &str, args: &[&std::ffi::OsStr]) -> std::io::Result<std::process::Output> {
    Command::new(tool)
        .args(args)
        .output()
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot run {tool} (util-linux): {e}")))
}

fn failed(tool: &str, out: &std::process::Output) -> std::io::Error {
    std::io::Error::other(format!(
        "{tool} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    ))
}

/// The filesystem or other signature on `device` (`swap`, `ext4`, `zfs_member`), as
/// `blkid -p` reads it from the device itself (not udev's cache); `None` when blank.
pub(crate) fn signature(device: &Path) -> std::io::Result<Option<String>> {
    let out = run(
        "blkid",
        &[
            "-p".as_ref(),
            "-o".as_ref(),
            "value".as_ref(),
            "-s".as_ref(),
            "TYPE".as_ref(),
            device.as_os_str(),
        ],
    )?;
    match out.status.code() {
        Some(0) => {
            let value = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            Ok((!value.is_empty()).then_some(value))
        }
        // 2: nothing found.
        Some(2) => Ok(None),
        _ => Err(failed("blkid", &out)),
    }
}

/// Formats `device` as swap.
pub(crate) fn make_swap(device: &Path) -> std::io::Result<()> {
    let out = run("mkswap", &[device.as_os_str()])?;
    if out.status.success() {
        Ok(())
    } else {
        Err(failed("mkswap", &out))
    }
}

/// Erases every signature on `device` (what [`make_swap`] wrote).
pub(crate) fn wipe(device: &Path) -> std::io::Result<()> {
    let out = run("wipefs", &["--all".as_ref(), device.as_os_str()])?;
    if out.status.success() {
        Ok(())
    } else {
        Err(failed("wipefs", &out))
    }
}
