//! Runs the test binaries where ZFS is loaded, each from its package directory as `cargo test`
//! would, several at once (see [`crate::schedule`]), and tallies their own summaries. The last
//! line, `zfs: N passed, N failed`, is the run's verdict.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use crate::job::{exit_code, TestBinary};
use crate::{schedule, timings};

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

/// Beside the times file: each binary's output as it comes, `NAME.log`, so that a run stopped
/// by the VM's timeout still leaves what the binaries running then had printed.
pub const LOG_DIR: &str = "zfs-test-logs";

/// Whether `args` (as the binaries get them) run every ignored test: no name filter, no
/// `--exact`/`--skip`.
fn filters_nothing(args: &[String]) -> bool {
    args.iter()
        .all(|a| a == "--ignored" || a == "--include-ignored" || a == "--nocapture")
}

/// What one binary did: its last summary and exit code, or why it could not start.
type Outcome = std::io::Result<(Option<Summary>, i32)>;

/// The run's tally so far.
#[derive(Default)]
struct Tally {
    total: Summary,
    broken: Vec<String>,
    unstartable: bool,
    times: Vec<(Duration, TestBinary)>,
    /// The times of binaries that ran to a summary and exit code 0: a fair measure.
    clean: Vec<(TestBinary, f64)>,
}

impl Tally {
    fn add(&mut self, bin: &TestBinary, outcome: Outcome, took: Duration) {
        self.times.push((took, bin.clone()));
        match outcome {
            Ok((summary, code)) => {
                if let Some(s) = summary {
                    self.total.passed += s.passed;
                    self.total.failed += s.failed;
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
                    self.broken.push(bin.name.clone());
                } else {
                    self.clean.push((bin.clone(), took.as_secs_f64()));
                }
            }
            Err(e) => {
                println!("[zfs-test] cannot run {}: {e}", bin.path.display());
                self.broken.push(bin.name.clone());
                self.unstartable = true;
            }
        }
    }
}

/// Runs every binary, up to `parallel` at once, and prints the tally; returns 0 when tests ran
/// and none failed, 1 when a test failed, a binary crashed or none ran, and 125 when a binary
/// could not be started.
pub fn run(
    binaries: &[TestBinary],
    args: &[String],
    env: &[(String, String)],
    parallel: usize,
    times_file: Option<&Path>,
) -> i32 {
    let args = binary_args(args);
    // --nocapture asks for output as it comes: one binary at a time, streamed.
    let one_at_a_time = parallel <= 1 || args.iter().any(|a| a == "--nocapture");
    let started = Instant::now();
    let tally = if one_at_a_time {
        run_in_turn(binaries, &args, env)
    } else {
        let logs = times_file.map(|f| f.with_file_name(LOG_DIR));
        run_side_by_side(binaries, &args, env, parallel, logs.as_deref())
    };
    let version = std::fs::read_to_string("/sys/module/zfs/version").unwrap_or_else(|_| "?".into());
    let kernel =
        std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_else(|_| "?".into());
    let mut times = tally.times;
    // Only whole runs are a fair measure: a filtered run times a part of each binary.
    if let (Some(path), true) = (times_file, filters_nothing(&args)) {
        let secs: Vec<(&TestBinary, f64)> = tally.clean.iter().map(|(b, t)| (b, *t)).collect();
        timings::record(path, &secs);
    }
    times.sort_by_key(|t| std::cmp::Reverse(t.0));
    let slowest: Vec<String> = times
        .iter()
        .take(5)
        .map(|(t, b)| format!("{} {:.0} s", b.name, t.as_secs_f64()))
        .collect();
    println!(
        "\nZFS tests (OpenZFS {}, kernel {}), {} binaries, {} at once, {:.0} s; the slowest: {}",
        version.trim(),
        kernel.trim(),
        binaries.len(),
        if one_at_a_time { 1 } else { parallel },
        started.elapsed().as_secs_f64(),
        slowest.join(", ")
    );
    if !tally.broken.is_empty() {
        println!("failed binaries: {}", tally.broken.join(" "));
    }
    println!(
        "zfs: {} passed, {} failed",
        tally.total.passed, tally.total.failed
    );
    let _ = std::io::stdout().flush();
    if tally.unstartable {
        crate::error::HARNESS_FAILED
    } else if !tally.broken.is_empty() || tally.total.failed > 0 {
        1
    } else if tally.total.passed == 0 {
        eprintln!("[zfs-test] error: no ZFS test ran (a filter that matches nothing?)");
        1
    } else {
        0
    }
}

/// One binary after another, each one's output as it comes.
fn run_in_turn(binaries: &[TestBinary], args: &[String], env: &[(String, String)]) -> Tally {
    let mut tally = Tally::default();
    for bin in binaries {
        println!("\n---- {} ({})", bin.name, bin.path.display());
        let _ = std::io::stdout().flush();
        let started = Instant::now();
        let outcome = run_one(bin, args, env);
        tally.add(bin, outcome, started.elapsed());
    }
    tally
}

/// Up to `parallel` binaries at once; each one's output, whole, when it ends (and as it comes
/// into `logs/NAME.log`, where given).
fn run_side_by_side(
    binaries: &[TestBinary],
    args: &[String],
    env: &[(String, String)],
    parallel: usize,
    logs: Option<&Path>,
) -> Tally {
    let mut tally = Tally::default();
    let mut waiting = binaries.to_vec();
    let mut running: Vec<TestBinary> = Vec::new();
    let (done_tx, done_rx) = mpsc::channel();
    if let Some(dir) = logs {
        let _ = std::fs::create_dir_all(dir);
    }
    loop {
        loop {
            let beside: Vec<&TestBinary> = running.iter().collect();
            let Some(i) = schedule::next_to_start(&waiting, &beside, parallel) else {
                break;
            };
            let bin = waiting.remove(i);
            let log = logs.map(|dir| dir.join(format!("{}.log", bin.name)));
            println!(
                "[zfs-test] started {}{}{}",
                bin.name,
                if bin.alone { " (alone)" } else { "" },
                log.as_ref()
                    .map(|l| format!(", output in {}", l.display()))
                    .unwrap_or_default()
            );
            let _ = std::io::stdout().flush();
            let (bin2, args, env, done) =
                (bin.clone(), args.to_vec(), env.to_vec(), done_tx.clone());
            let spawned = std::thread::Builder::new().spawn(move || {
                let started = Instant::now();
                // A panic here must still report, or the run would wait for it forever.
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run_captured(&bin2, &args, &env, log.as_deref())
                }))
                .unwrap_or_else(|_| Err(std::io::Error::other("the runner's thread panicked")));
                let _ = done.send((bin2, run, started.elapsed()));
            });
            if let Err(e) = spawned {
                tally.add(&bin, Err(e), Duration::ZERO);
                continue;
            }
            running.push(bin);
        }
        if running.is_empty() {
            break;
        }
        let (bin, run, took) = done_rx
            .recv()
            .expect("we hold a sender, so the channel stays open");
        running.retain(|b| b.path != bin.path);
        // One `print!` of the whole block: atomic on the terminal, and captured like any
        // other output where the runner itself runs under a test harness.
        let mut block = format!(
            "\n---- {} ({}), {:.1} s\n",
            bin.name,
            bin.path.display(),
            took.as_secs_f64()
        );
        let outcome = run.map(|captured| {
            block.push_str(&String::from_utf8_lossy(&captured.stdout));
            if !captured.stderr.is_empty() {
                block.push_str(&format!("---- {}: standard error\n", bin.name));
                block.push_str(&String::from_utf8_lossy(&captured.stderr));
            }
            (captured.summary(), captured.code)
        });
        print!("{block}");
        let _ = std::io::stdout().flush();
        tally.add(&bin, outcome, took);
    }
    tally
}

/// A binary's output, kept until it ends.
struct Captured {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    code: i32,
}

impl Captured {
    /// The last `test result:` line's counts.
    fn summary(&self) -> Option<Summary> {
        String::from_utf8_lossy(&self.stdout)
            .lines()
            .rev()
            .find_map(parse_summary)
    }
}

/// Everything `pipe` gives until it closes, copied into `log` as it comes (best effort).
fn drain(mut pipe: impl Read, log: Option<&Mutex<std::fs::File>>) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match pipe.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                all.extend_from_slice(&buf[..n]);
                if let Some(mut file) = log.and_then(|l| l.lock().ok()) {
                    let _ = file.write_all(&buf[..n]);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    all
}

/// Runs one binary to its end, keeping what it prints (and copying it to `log`).
fn run_captured(
    bin: &TestBinary,
    args: &[String],
    env: &[(String, String)],
    log: Option<&Path>,
) -> std::io::Result<Captured> {
    let log = log
        .and_then(|path| std::fs::File::create(path).ok())
        .map(|f| Arc::new(Mutex::new(f)));
    let mut child = command(bin, args, env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr_pipe = child.stderr.take().expect("stderr was piped");
    let stderr_log = log.clone();
    let stderr_reader = std::thread::spawn(move || drain(stderr_pipe, stderr_log.as_deref()));
    let stdout = drain(
        child.stdout.take().expect("stdout was piped"),
        log.as_deref(),
    );
    let stderr = stderr_reader.join().unwrap_or_default();
    let status = match child.wait() {
        Ok(status) => status,
        Err(e) => {
            let _ = child.kill();
            return Err(e);
        }
    };
    Ok(Captured {
        stdout,
        stderr,
        code: exit_code(status),
    })
}

/// The command that runs `bin` as `cargo test` would.
fn command(bin: &TestBinary, args: &[String], env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(&bin.path);
    cmd.args(args)
        .current_dir(&bin.manifest_dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("CARGO_MANIFEST_DIR", &bin.manifest_dir);
    cmd
}

/// Runs one binary, echoing its output, and returns its last summary and exit code.
fn run_one(bin: &TestBinary, args: &[String], env: &[(String, String)]) -> Outcome {
    let mut child = command(bin, args, env).stdout(Stdio::piped()).spawn()?;
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
    fn binaries_side_by_side_are_tallied_timed_and_logged() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("zfs-test-run-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = |name: &str, body: &str| {
            let path = dir.join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            TestBinary {
                name: name.into(),
                manifest_dir: dir.clone(),
                path,
                alone: false,
                groups: vec![],
            }
        };
        let result = |word: &str, passed: u32, failed: u32| {
            format!("echo 'test result: {word}. {passed} passed; {failed} failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s'")
        };
        let ok = script("ok", &format!("{}; echo to-stderr >&2", result("ok", 2, 0)));
        let failed = script("failed", &format!("{}; exit 101", result("FAILED", 1, 1)));
        let crashed = script("crashed", "echo half way; exit 0");
        let alone = TestBinary {
            alone: true,
            ..script("alone", &result("ok", 1, 0))
        };
        let times = dir.join(timings::FILE);
        let all = [ok.clone(), alone, failed, crashed];
        assert_eq!(run(&all[..2], &[], &[], 2, Some(&times)), 0);
        assert_eq!(run(&all, &[], &[], 3, Some(&times)), 1);
        // Only binaries that passed whole are timed.
        let known = timings::load(&times);
        let package = dir.file_name().unwrap().to_string_lossy().into_owned();
        let timed = |name: &str| known.contains_key(&(package.clone(), name.to_owned()));
        assert!(timed("ok") && timed("alone"));
        assert!(!timed("failed") && !timed("crashed"));
        // The output as it came, both streams.
        let log = std::fs::read_to_string(dir.join(LOG_DIR).join("ok.log")).unwrap();
        assert!(
            log.contains("2 passed") && log.contains("to-stderr"),
            "{log}"
        );
        // A binary that cannot start is the harness's failure, not a test's.
        let missing = TestBinary {
            path: dir.join("nonexistent"),
            ..ok
        };
        assert_eq!(
            run(&[missing], &[], &[], 2, None),
            crate::error::HARNESS_FAILED
        );
        std::fs::remove_dir_all(&dir).unwrap();
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
