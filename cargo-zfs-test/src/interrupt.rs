//! Ctrl-C, SIGTERM and SIGHUP while a VM runs. `timeout` puts the VM in a process group of its
//! own, out of the terminal's reach, so the runner notes the signal and stops that group itself
//! (and removes its state directory) instead of dying and leaving the VM running.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// From now on, the three signals only set the flag [`interrupted`] reads.
pub fn catch() {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: `on_signal` only stores to an atomic (async-signal-safe) and, being a plain
        // function, stays valid for the life of the process.
        unsafe {
            libc::signal(signal, on_signal as *const () as libc::sighandler_t);
        }
    }
}

/// True once one of the signals came.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}
