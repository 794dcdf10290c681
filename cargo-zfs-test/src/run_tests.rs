//! Runs the test binaries where ZFS is loaded, one after another, each from its package
//! directory as `cargo test` would, and tallies their own summaries. The last line,
//! `zfs: N passed, N failed`, is the run's verdict.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use crate::job::{exit_code, TestBinary};

/// Counts from one `test result:` line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub passed: u64,
    pub failed: u64,
}

/// Reads libtest's `test result: ok. 3 passed; 0 failed; 1 ignored; ...`.
pub fn parse_summary(line: &str) -> Option<Summary> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let count = |what: &str| {
        rest.split(';').find_map(|part| {
            let mut words = part.split_whitespace().rev();
            (words.next()? == what)
                .then(|| words.next()?.parse().ok())
                .flatten()
        })
    };
    Some(Summary {
        passed: count("passed")?,
        failed: count("failed")?,
    })
}

/// The arguments each binary gets: `args`, with `--ignored` first unless `args` already choose
/// (`--ignored` or `--include-ignored`).
pub fn binary_args(args: &[String]) -> Vec<String> {
    let chooses = args
        .iter()
        .any(|a| a == "--ignored" || a == "--include-ignored");
    let mut out = Vec::with_capacity(args.len() + 1);
    if !chooses {
        out.push("--ignored".to_owned());
    }
    out.extend(args.iter().cloned());
    out
}

/// Runs every binary and prints the tally; returns 0 when tests ran and none failed, 1 when a
/// test failed, a binary crashed or none ran, and 125 when a binary could not be started.
pub fn run(binaries: &[TestBinary], args: &[String], env: &[(String, String)]) -> i32 {
    let args = binary_args(args);
    let mut total = Summary::default();
    let mut broken = Vec::new();
    let mut unstartable = false;
    for bin in binaries {
        println!("\n---- {} ({})", bin.name, bin.path.display());
        let _ = std::io::stdout().flush();
        match run_one(bin, &args, env) {
            Ok((summary, code)) => {
                if let Some(s) = summary {
                    total.passed += s.passed;
                    total.failed += s.failed;
                }
                // No summary at all, even with exit code 0 (a test that called
                // process::exit), means the binary's tests did not all run.
                if summary.is_none() {
                    println!(
                        "[zfs-test] {} exited {code} without a summary (crashed?)",
                        bin.name
                    );
                }
                if code != 0 || summary.is_none() {
                    broken.push(bin.name.clone());
                }
            }
            Err(e) => {
                println!("[zfs-test] cannot run {}: {e}", bin.path.display());
                broken.push(bin.name.clone());
                unstartable = true;
            }
        }
    }
    let version = std::fs::read_to_string("/sys/module/zfs/version").unwrap_or_else(|_| "?".into());
    let kernel =
        std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_else(|_| "?".into());
    println!(
        "\nZFS tests (OpenZFS {}, kernel {}), {} binaries:",
        version.trim(),
        kernel.trim(),
        binaries.len()
    );
    if !broken.is_empty() {
        println!("failed binaries: {}", broken.join(" "));
    }
    println!("zfs: {} passed, {} failed", total.passed, total.failed);
    let _ = std::io::stdout().flush();
    if unstartable {
        crate::error::HARNESS_FAILED
    } else if !broken.is_empty() || total.failed > 0 {
        1
    } else if total.passed == 0 {
        eprintln!("[zfs-test] error: no ZFS test ran (a filter that matches nothing?)");
        1
    } else {
        0
    }
}

/// Runs one binary, echoing its output, and returns its last summary and exit code.
fn run_one(
    bin: &TestBinary,
    args: &[String],
    env: &[(String, String)],
) -> std::io::Result<(Option<Summary>, i32)> {
    let mut child = Command::new(&bin.path)
        .args(args)
        .current_dir(&bin.manifest_dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("CARGO_MANIFEST_DIR", &bin.manifest_dir)
        .stdout(Stdio::piped())
        .spawn()?;
    let mut summary = None;
    let stdout = child.stdout.take().expect("stdout was piped");
    let mut out = std::io::stdout();
    for line in BufReader::new(stdout).split(b'\n') {
        let line = line?;
        out.write_all(&line)?;
        out.write_all(b"\n")?;
        if let Some(s) = parse_summary(&String::from_utf8_lossy(&line)) {
            summary = Some(s);
        }
    }
    out.flush()?;
    Ok((summary, exit_code(child.wait()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_read_from_libtest_output() {
        assert_eq!(
            parse_summary(
                "test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 2 filtered out; finished in 0.01s"
            ),
            Some(Summary { passed: 3, failed: 0 })
        );
        assert_eq!(
            parse_summary("test result: FAILED. 12 passed; 4 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.00s\n"),
            Some(Summary { passed: 12, failed: 4 })
        );
        assert_eq!(parse_summary("test foo ... ok"), None);
        assert_eq!(parse_summary("test result: weird"), None);
    }

    #[test]
    fn ignored_tests_are_chosen_unless_the_user_chose() {
        let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        assert_eq!(binary_args(&s(&["pool"])), s(&["--ignored", "pool"]));
        assert_eq!(
            binary_args(&s(&["--include-ignored"])),
            s(&["--include-ignored"])
        );
        assert_eq!(binary_args(&s(&["x", "--ignored"])), s(&["x", "--ignored"]));
    }
}
