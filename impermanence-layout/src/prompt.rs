//! The CLI's key entry (not part of the library): keys of `keylocation=prompt` encryption
//! roots, asked for on the terminal without echo, twice, or read from standard input when it
//! is not a terminal (one line per key, or 32 bytes for a raw key), as `zfs create` does.

use std::io::{BufRead, IsTerminal, Read, Write};

use impermanence_layout::EncryptionRoot;
use zfs_core::{Key, KeyFormat};

/// Terminal echo off until dropped.
struct NoEcho {
    saved: libc::termios,
}

impl NoEcho {
    fn new() -> Option<NoEcho> {
        // SAFETY: an all-zero termios is a valid buffer for tcgetattr to fill.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: fd 0 is open for the process; `saved` is a valid termios to write.
        if unsafe { libc::tcgetattr(0, &mut saved) } != 0 {
            return None;
        }
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        // SAFETY: as above; `quiet` is a valid termios read from the terminal.
        (unsafe { libc::tcsetattr(0, libc::TCSANOW, &quiet) } == 0).then_some(NoEcho { saved })
    }
}

impl Drop for NoEcho {
    fn drop(&mut self) {
        // SAFETY: restores the settings read in `new` on the same descriptor.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &self.saved) };
    }
}

fn read_line(stdin: &mut impl BufRead) -> Result<String, String> {
    let mut line = String::new();
    match stdin.read_line(&mut line) {
        Ok(0) => Err("standard input ended before the key".into()),
        Ok(_) => Ok(line.trim_end_matches(['\n', '\r']).to_owned()),
        Err(e) => Err(format!("cannot read the key: {e}")),
    }
}

fn make(root: &EncryptionRoot, text: &str) -> Result<Key, String> {
    match root.format {
        KeyFormat::Hex => Key::hex(text),
        _ => Key::passphrase(text),
    }
    .map_err(|e| e.message().to_owned())
}

/// The key of `root`, from the terminal or standard input.
pub fn ask(root: &EncryptionRoot) -> Result<Key, String> {
    let stdin = std::io::stdin();
    let mut lock = stdin.lock();
    let what = root.format.as_str();
    if !stdin.is_terminal() {
        if root.format == KeyFormat::Raw {
            let mut raw = [0u8; 32];
            lock.read_exact(&mut raw)
                .map_err(|e| format!("cannot read a 32-byte raw key: {e}"))?;
            return Key::raw(&raw).map_err(|e| e.message().to_owned());
        }
        return make(root, &read_line(&mut lock)?);
    }
    if root.format == KeyFormat::Raw {
        return Err(
            "a raw key cannot be typed: pipe its 32 bytes to standard input, or use \
                    keylocation=file://"
                .into(),
        );
    }
    let _quiet = NoEcho::new();
    let mut ask = |prompt: &str| -> Result<String, String> {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        let line = read_line(&mut lock);
        eprintln!();
        line
    };
    let first = ask(&format!("Enter new {what} for '{}': ", root.name))?;
    let key = make(root, &first)?;
    let again = ask(&format!("Re-enter new {what} for '{}': ", root.name))?;
    if again != first {
        return Err("the two entries differ".into());
    }
    Ok(key)
}
