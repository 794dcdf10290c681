//! Progress lines on standard error: one per phase (setup, build, boot, tests), each with the
//! time since the run began, so a user watching a terminal knows what the minutes are spent on.

use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::time::Instant;

static START: OnceLock<Instant> = OnceLock::new();

/// Starts the clock (the first call wins).
pub fn start() {
    START.get_or_init(Instant::now);
}

/// Seconds since [`start`].
pub fn elapsed() -> f64 {
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

fn emphasis() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// `[zfs-test 12.3s] phase: message`, bold on a terminal.
pub fn phase(phase: &str, message: impl Display) {
    let line = format!("[zfs-test {:6.1}s] {phase}: {message}", elapsed());
    let mut err = std::io::stderr().lock();
    let _ = if emphasis() {
        writeln!(err, "\x1b[1m{line}\x1b[0m")
    } else {
        writeln!(err, "{line}")
    };
}

/// `[zfs-test] error: message`.
pub fn error(message: impl Display) {
    let _ = writeln!(std::io::stderr().lock(), "[zfs-test] error: {message}");
}
