//! OpenZFS's own `zpool`, run the way a test checks with it.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Runs `zpool ARGS` and returns what it did. An `export` or `destroy` refused only because
/// another process holds the pool for a moment (`zpool: pool is busy`; test binaries side by
/// side read pools all the time, see [`Zfs::export_pool`](crate::Zfs::export_pool)) is run
/// again for up to five seconds; any other outcome is returned as it is.
///
/// # Errors
/// If `zpool` cannot be started.
pub fn zpool(args: &[&str]) -> std::io::Result<Output> {
    let waits = matches!(args.first(), Some(&("export" | "destroy")));
    let start = Instant::now();
    loop {
        let out = Command::new("zpool").args(args).output()?;
        let busy = String::from_utf8_lossy(&out.stderr).contains("pool is busy");
        if out.status.success() || !waits || !busy || start.elapsed() > Duration::from_secs(5) {
            return Ok(out);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
