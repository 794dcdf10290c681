//! Runs the test binaries where ZFS is loaded, each from its package directory as `cargo test`
//! would, several at once (see [`crate::schedule`]), and tallies their own summaries. The last
//! line, `zfs: N passed, N failed`, is the run's verdict.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::job::{exit_code, TestBinary};
use crate::{schedule, timings, watchdog};

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

/// Whether `args` (as the binaries get them) run every ignored test, or all but a few named
/// with `--skip`: no name filter, no `--exact`. A run that skips a few tests is whole enough
/// for the times file, which only orders the binaries (`ci/test` skips three on its second
/// release, and would otherwise order that run by stale times forever).
fn filters_nothing(args: &[String]) -> bool {
    let mut args = args.iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--ignored" | "--include-ignored" | "--nocapture" => {}
            "--skip" if args.next().is_some() => {}
            _ => return false,
        }
    }
    true
}

/// How a binary's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// It exited with this code (128 + signal when a signal ended it).
    Exited(i32),
    /// It ran past its limit and was killed.
    Killed,
    /// It ran past its limit and was still there [`watchdog::KILL_GRACE`] after SIGKILL: asleep
    /// in the kernel, where whatever holds it will hold the binaries after it too.
    Stuck,
}

impl End {
    fn code(self) -> i32 {
        match self {
            End::Exited(code) => code,
            End::Killed | End::Stuck => 128 + libc::SIGKILL,
        }
    }
}

/// What one binary did: its last summary and how it ended, or why it could not start.
type Outcome = std::io::Result<(Option<Summary>, End)>;

/// The run's tally so far.
#[derive(Default)]
struct Tally {
    total: Summary,
    broken: Vec<String>,
    unstartable: bool,
    /// A binary is stuck in the kernel: start no more.
    stuck: bool,
    times: Vec<(Duration, TestBinary)>,
    /// The times of binaries that ran to a summary and exit code 0: a fair measure.
    clean: Vec<(TestBinary, f64)>,
}

impl Tally {
    fn add(&mut self, bin: &TestBinary, outcome: Outcome, took: Duration) {
        self.times.push((took, bin.clone()));
        match outcome {
            Ok((summary, end)) => {
                let code = end.code();
                match end {
                    End::Exited(_) => {}
                    End::Killed => println!(
                        "[zfs-test] {} ran past its limit and was killed ({})",
                        bin.name,
                        watchdog::ENV
                    ),
                    End::Stuck => {
                        println!(
                            "[zfs-test] {} is stuck in the kernel, even SIGKILL did not end it: \
                             starting no more binaries",
                            bin.name
                        );
                        self.stuck = true;
                    }
                }
                if let Some(s) = summary {
                    self.total.passed += s.passed;
                    self.total.failed += s.failed;
                }
                // No summary at all, even with exit code 0 (a test that called
                // process::exit), means the binary's tests did not all run.
                if summary.is_none() && end == End::Exited(code) {
                    println!(
                        "[zfs-test] {} exited {code} without a summary (crashed?)",
                        bin.name
                    );
                }
                if code != 0 || summary.is_none() || end != End::Exited(code) {
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
    let limit = match watchdog::limit(env) {
        Ok(limit) => limit,
        Err(message) => {
            eprintln!("[zfs-test] error: {message}");
            return crate::error::HARNESS_FAILED;
        }
    };
    // --nocapture asks for output as it comes: one binary at a time, streamed.
    let one_at_a_time = parallel <= 1 || args.iter().any(|a| a == "--nocapture");
    let started = Instant::now();
    let run = Run {
        args: &args,
        env,
        limit,
    };
    let mut tally = if one_at_a_time {
        run_in_turn(binaries, &run)
    } else {
        let logs = times_file.map(|f| f.with_file_name(LOG_DIR));
        run_side_by_side(binaries, &run, parallel, logs.as_deref())
    };
    let ran: Vec<&str> = tally.times.iter().map(|(_, b)| b.name.as_str()).collect();
    let not_run: Vec<String> = binaries
        .iter()
        .filter(|b| !ran.contains(&b.name.as_str()))
        .map(|b| b.name.clone())
        .collect();
    if !not_run.is_empty() {
        println!("[zfs-test] not run: {}", not_run.join(" "));
        tally.broken.extend(not_run);
    }
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

/// What every binary of a run gets.
struct Run<'a> {
    args: &'a [String],
    env: &'a [(String, String)],
    /// How long one binary may run (see [`watchdog`]).
    limit: Option<Duration>,
}

/// One binary after another, each one's output as it comes.
fn run_in_turn(binaries: &[TestBinary], run: &Run) -> Tally {
    let mut tally = Tally::default();
    for bin in binaries {
        if tally.stuck {
            break;
        }
        println!("\n---- {} ({})", bin.name, bin.path.display());
        let _ = std::io::stdout().flush();
        let started = Instant::now();
        let outcome =
            run_captured(bin, run, None, true).map(|captured| (captured.summary(), captured.end));
        tally.add(bin, outcome, started.elapsed());
    }
    tally
}

/// Up to `parallel` binaries at once; each one's output, whole, when it ends (and as it comes
/// into `logs/NAME.log`, where given).
fn run_side_by_side(
    binaries: &[TestBinary],
    run: &Run,
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
        while !tally.stuck {
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
            let (bin2, args, env, limit, done) = (
                bin.clone(),
                run.args.to_vec(),
                run.env.to_vec(),
                run.limit,
                done_tx.clone(),
            );
            let spawned = std::thread::Builder::new().spawn(move || {
                let started = Instant::now();
                let run = Run {
                    args: &args,
                    env: &env,
                    limit,
                };
                // A panic here must still report, or the run would wait for it forever.
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run_captured(&bin2, &run, log.as_deref(), false)
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
            (captured.summary(), captured.end)
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
    end: End,
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

/// Output shared between a pipe's reader and the runner, which takes what came so far even
/// when the pipe never closes.
type Kept = Arc<Mutex<Vec<u8>>>;

/// Which of the runner's own streams a pipe is echoed to.
#[derive(Clone, Copy)]
enum Echo {
    None,
    Stdout,
    Stderr,
}

/// Everything `pipe` gives until it closes, into `kept` and copied into `log` (best effort)
/// and to `echo` as it comes.
fn drain(mut pipe: impl Read, kept: &Kept, log: Option<&Mutex<std::fs::File>>, echo: Echo) {
    let mut buf = [0u8; 8192];
    loop {
        match pipe.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if let Ok(mut all) = kept.lock() {
                    all.extend_from_slice(&buf[..n]);
                }
                if let Some(mut file) = log.and_then(|l| l.lock().ok()) {
                    let _ = file.write_all(&buf[..n]);
                }
                let _ = match echo {
                    Echo::None => Ok(()),
                    Echo::Stdout => std::io::stdout().write_all(&buf[..n]),
                    Echo::Stderr => std::io::stderr().write_all(&buf[..n]),
                };
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
}

/// How long the runner waits for a binary's pipes to close once it has ended: a process it
/// left behind may hold them open.
const PIPES_GRACE: Duration = Duration::from_secs(10);

/// Runs one binary to its end or its limit, keeping what it prints (and copying it to `log`,
/// and to the runner's own output where `echo`). Past its limit it dies with every process it
/// started.
fn run_captured(
    bin: &TestBinary,
    run: &Run,
    log: Option<&Path>,
    echo: bool,
) -> std::io::Result<Captured> {
    let log = log
        .and_then(|path| std::fs::File::create(path).ok())
        .map(|f| Arc::new(Mutex::new(f)));
    let mut child = command(bin, run.args, run.env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let pid = child.id();
    let (stdout, stderr): (Kept, Kept) = Default::default();
    let pipes = [
        (
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
            &stdout,
            Echo::Stdout,
        ),
        (
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
            &stderr,
            Echo::Stderr,
        ),
    ];
    let readers: Vec<_> = pipes
        .into_iter()
        .filter_map(|(pipe, kept, to)| {
            let (pipe, kept, log) = (pipe?, kept.clone(), log.clone());
            let to = if echo { to } else { Echo::None };
            Some(std::thread::spawn(move || {
                drain(pipe, &kept, log.as_deref(), to)
            }))
        })
        .collect();
    let (exited_tx, exited) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = exited_tx.send(child.wait());
    });
    let waited = match run.limit {
        Some(limit) => exited.recv_timeout(limit),
        None => exited.recv().map_err(|_| RecvTimeoutError::Disconnected),
    };
    let end = match waited {
        Ok(status) => End::Exited(exit_code(status?)),
        Err(RecvTimeoutError::Disconnected) => {
            return Err(std::io::Error::other("the thread waiting for it died"))
        }
        Err(RecvTimeoutError::Timeout) => {
            let limit = run.limit.unwrap_or_default().as_secs();
            let message = format!(
                "\n[zfs-test] {} still runs after {limit} s, its limit ({}): killing it. \
                 Its threads, every thread asleep in the kernel, the pools:\n{}",
                bin.name,
                watchdog::ENV,
                watchdog::report(pid)
            );
            print!("{message}");
            let _ = std::io::stdout().flush();
            if let Some(mut file) = log.as_deref().and_then(|l| l.lock().ok()) {
                let _ = file.write_all(message.as_bytes());
            }
            watchdog::kill_family(pid);
            match exited.recv_timeout(watchdog::KILL_GRACE) {
                Ok(_) => End::Killed,
                Err(_) => End::Stuck,
            }
        }
    };
    // A stuck binary holds its pipes forever: take what came.
    if end != End::Stuck {
        let deadline = Instant::now() + PIPES_GRACE;
        while readers.iter().any(|r| !r.is_finished()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let take = |kept: &Kept| kept.lock().map(|k| k.clone()).unwrap_or_default();
    Ok(Captured {
        stdout: take(&stdout),
        stderr: take(&stderr),
        end,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_that_only_skips_named_tests_counts_as_whole_for_the_times() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(filters_nothing(&args(&["--ignored"])));
        assert!(filters_nothing(&args(&[
            "--ignored",
            "--skip",
            "a",
            "--skip",
            "b"
        ])));
        assert!(!filters_nothing(&args(&["--ignored", "pool"])));
        assert!(!filters_nothing(&args(&["--ignored", "--exact", "pool"])));
        // A `--skip` without its name: libtest refuses it; nothing is recorded.
        assert!(!filters_nothing(&args(&["--ignored", "--skip"])));
    }

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
    fn a_binary_past_its_limit_is_killed_with_what_it_started_and_reported() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("zfs-test-limit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("slow");
        // A child that keeps the pipes open: the run must not wait for it either.
        std::fs::write(&path, "#!/bin/sh\necho begun\nsleep 120 &\nsleep 120\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let slow = TestBinary {
            name: "slow".into(),
            manifest_dir: dir.clone(),
            path,
            alone: false,
            groups: vec![],
        };
        let env = [(watchdog::ENV.to_owned(), "1".to_owned())];
        let times = dir.join(timings::FILE);
        for parallel in [1, 2] {
            let started = Instant::now();
            assert_eq!(
                run(
                    std::slice::from_ref(&slow),
                    &[],
                    &env,
                    parallel,
                    Some(&times)
                ),
                1
            );
            assert!(started.elapsed() < Duration::from_secs(30));
        }
        let log = std::fs::read_to_string(dir.join(LOG_DIR).join("slow.log")).unwrap();
        assert!(log.contains("begun"), "{log}");
        assert!(log.contains("slow still runs after 1 s"), "{log}");
        assert!(log.contains(" sleep state S"), "{log}");
        let bad = [(watchdog::ENV.to_owned(), "soon".to_owned())];
        assert_eq!(
            run(&[slow], &[], &bad, 2, None),
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
