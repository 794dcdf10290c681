//! Data races: `thread-stress` (8 threads opening, using and closing their own `Zfs` handles
//! on one pool, 3 rounds each) under valgrind's helgrind, where ZFS is loaded. It fails on any
//! race report whose stack reaches zfs-core, libzfs or libzfs_core, unless
//! `ci/helgrind.supp` suppresses it (each suppression says why it is out of our reach).
//!
//! A clean report means something only if helgrind, with the same flags and suppressions,
//! catches a race: `thread-stress --canary` races on purpose, and the test fails unless that
//! race is reported first.
//!
//! A test binary of its own, so that the ZFS test run takes it side by side with the others
//! in its one VM boot (helgrind keeps one emulated CPU busy for about a minute); `ci/races`
//! runs it alone. The logs are written to `target/races/`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Threads and rounds of each: `ZFS_TEST_RACE_THREADS`, `ZFS_TEST_RACE_ROUNDS` (the runner
/// hands every `ZFS_TEST_*` variable to the guest; `ci/races THREADS ROUNDS` sets them).
fn threads_and_rounds() -> (String, String) {
    let get = |name: &str, default: &str| {
        let v = std::env::var(name).unwrap_or_else(|_| default.to_owned());
        assert!(
            v.parse::<u32>().is_ok_and(|n| n > 0),
            "{name}={v}: not a positive number"
        );
        v
    };
    (
        get("ZFS_TEST_RACE_THREADS", "8"),
        get("ZFS_TEST_RACE_ROUNDS", "3"),
    )
}

/// helgrind's exit status when it reported an error (`--error-exitcode`).
const REPORTED: i32 = 99;

fn log_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is the target directory's `tmp/`; the logs go beside it.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("races");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// Runs `thread-stress ARGS` under helgrind; returns its exit status and the log's text.
fn helgrind(args: &[&str], log: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let supp = concat!(env!("CARGO_MANIFEST_DIR"), "/../ci/helgrind.supp");
    let status = Command::new("valgrind")
        .args([
            "--tool=helgrind",
            "--sim-hints=lax-ioctls",
            &format!("--error-exitcode={REPORTED}"),
            &format!("--suppressions={supp}"),
            "--num-callers=40",
            &format!("--log-file={}", log.display()),
        ])
        .args(extra)
        .arg(env!("CARGO_BIN_EXE_thread-stress"))
        .args(args)
        .status()
        .unwrap_or_else(|e| {
            panic!("valgrind could not start ({e}): it is installed by ci/setup (apt-get install valgrind)")
        });
    let text = std::fs::read_to_string(log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    (status.code(), text)
}

/// The first reports of a helgrind log, each with the lines that follow it.
fn first_reports(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<&str> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.contains("Possible data race") || line.contains("lock order") {
            out.extend_from_slice(&lines[i.saturating_sub(2)..(i + 30).min(lines.len())]);
            if out.len() > 150 {
                break;
            }
        }
    }
    out.join("\n")
}

#[test]
#[ignore = "needs ZFS"]
fn helgrind_catches_a_planted_race_and_reports_none_in_many_threads_on_one_pool() {
    let dir = log_dir();
    let canary_log = dir.join("canary.log");
    let (code, text) = helgrind(&["--canary"], &canary_log, &[]);
    assert!(
        code == Some(REPORTED)
            && text.contains("Possible data race")
            && text.contains("race_on_purpose"),
        "the planted race was NOT caught (exit {code:?}): these flags prove nothing\n{text}"
    );
    eprintln!("races: canary caught: helgrind reports the planted race");

    let (threads, rounds) = threads_and_rounds();
    let stress_log = dir.join("stress.log");
    let (code, text) = helgrind(
        &[&threads, &rounds],
        &stress_log,
        &["--gen-suppressions=all"],
    );
    let summary = text
        .lines()
        .rfind(|l| l.contains("ERROR SUMMARY"))
        .unwrap_or("no ERROR SUMMARY in the log");
    eprintln!("races: {threads} threads x {rounds} rounds: {summary}");
    assert_eq!(
        code,
        Some(0),
        "races reported (exit {code:?}); first reports:\n{}\n(full log: {})",
        first_reports(&text),
        stress_log.display()
    );
}
