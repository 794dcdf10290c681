//! A test binary that runs far past its usual time is stuck, most often in the kernel (a pool
//! whose I/O is suspended, a lock a ZFS thread never gives back). Without a limit the whole run
//! waits for the VM's timeout and ends with nothing said about where it hung; with one, the
//! runner writes down what the binary's threads and every thread blocked in the kernel were
//! doing, and the state of each pool, then kills the binary and goes on.
//!
//! Everything here reads `/proc` and runs `dmesg`; none of it calls into ZFS, which may be the
//! thing that hangs.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Sets each binary's limit in seconds; 0 sets none.
pub const ENV: &str = "ZFS_TEST_BINARY_TIMEOUT";

/// Four times the slowest binary's usual time in the emulated guest (about 235 s), so that
/// only a binary that is stuck meets it, long before the VM's own timeout (2400 s).
pub const DEFAULT_LIMIT: Duration = Duration::from_secs(900);

/// How long a killed binary has to be gone: one still there then sleeps in the kernel where
/// even SIGKILL does not reach it.
pub const KILL_GRACE: Duration = Duration::from_secs(30);

/// The most threads a report lists (a stuck pool can block hundreds of kernel threads alike).
const MAX_TASKS: usize = 80;

/// The limit `env` (a job's variables) sets, else [`DEFAULT_LIMIT`]; `None` for no limit.
pub fn limit(env: &[(String, String)]) -> Result<Option<Duration>, String> {
    match env.iter().rev().find(|(k, _)| k == ENV) {
        None => Ok(Some(DEFAULT_LIMIT)),
        Some((_, v)) => match v.trim().parse::<u64>() {
            Ok(0) => Ok(None),
            Ok(secs) => Ok(Some(Duration::from_secs(secs))),
            Err(_) => Err(format!("{ENV}={v}: not a number of seconds")),
        },
    }
}

/// Kills `pid` and every process it started (a `zfs` or `zpool` it waits for). They stay in
/// the runner's process group, so that Ctrl-C on a host with ZFS still reaches them.
pub fn kill_family(pid: u32) {
    for pid in family(pid) {
        if let Ok(pid) = libc::pid_t::try_from(pid) {
            // SAFETY: kill(2) takes plain integers; no memory is involved.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

/// One thread (or process) as its `stat` file describes it.
#[derive(Debug, PartialEq, Eq)]
struct Task {
    comm: String,
    state: char,
    ppid: u32,
}

/// Reads a `stat` line: `TID (COMM) STATE PPID ...`; COMM may hold spaces and parentheses, so
/// it ends at the last `)`.
fn parse_stat(line: &str) -> Option<Task> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let comm = line.get(open + 1..close)?.to_owned();
    let mut rest = line.get(close + 1..)?.split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some(Task { comm, state, ppid })
}

fn read_stat(path: &Path) -> Option<Task> {
    parse_stat(&std::fs::read_to_string(path).ok()?)
}

/// `root` and its descendants, as `/proc` shows them now.
fn family(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = numeric_entries(Path::new("/proc"))
        .into_iter()
        .filter_map(|pid| {
            Some((
                pid,
                read_stat(&Path::new("/proc").join(pid.to_string()).join("stat"))?.ppid,
            ))
        })
        .collect();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|(pid, ppid)| *ppid == parent && !found.contains(pid))
                .map(|(pid, _)| *pid)
                .collect::<Vec<_>>(),
        );
        i += 1;
    }
    found
}

fn numeric_entries(dir: &Path) -> Vec<u32> {
    let mut ids: Vec<u32> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    ids.sort_unstable();
    ids
}

/// The last `n` lines of `text`, a run of equal lines as one (with how many there were): a
/// stuck pool repeats one message for ever.
fn tail(text: &str, n: usize) -> Vec<String> {
    let mut runs: Vec<(&str, usize)> = Vec::new();
    for line in text.lines() {
        match runs.last_mut() {
            Some((last, count)) if *last == line => *count += 1,
            _ => runs.push((line, 1)),
        }
    }
    runs[runs.len().saturating_sub(n)..]
        .iter()
        .map(|&(line, count)| match count {
            1 => line.to_owned(),
            _ => format!("{line}  [{count} times]"),
        })
        .collect()
}

/// What the threads of `pid` and its descendants, and every thread in uninterruptible sleep
/// (`D`), were doing, with their kernel stacks; each pool's state; the tails of ZFS's debug
/// log and the kernel's.
pub fn report(pid: u32) -> String {
    let family = family(pid);
    let mut out = String::new();
    let mut listed = 0;
    let mut left_out = 0;
    for pid in numeric_entries(Path::new("/proc")) {
        let tasks = Path::new("/proc").join(pid.to_string()).join("task");
        for tid in numeric_entries(&tasks) {
            let dir = tasks.join(tid.to_string());
            let Some(task) = read_stat(&dir.join("stat")) else {
                continue;
            };
            if !family.contains(&pid) && task.state != 'D' {
                continue;
            }
            if listed == MAX_TASKS {
                left_out += 1;
                continue;
            }
            listed += 1;
            let wchan = std::fs::read_to_string(dir.join("wchan")).unwrap_or_default();
            let _ = writeln!(
                out,
                "  {pid}/{tid} {} state {} wchan {}",
                task.comm,
                task.state,
                if wchan.is_empty() { "?" } else { &wchan }
            );
            // Kernel stacks are readable by root only; the guest runs as root.
            if let Ok(stack) = std::fs::read_to_string(dir.join("stack")) {
                for frame in stack.lines() {
                    let _ = writeln!(out, "      {frame}");
                }
            }
        }
    }
    if left_out > 0 {
        let _ = writeln!(out, "  ... and {left_out} more threads");
    }
    let kstat = Path::new("/proc/spl/kstat/zfs");
    if let Ok(entries) = std::fs::read_dir(kstat) {
        let mut pools: Vec<String> = entries
            .flatten()
            .filter_map(|e| {
                let state = std::fs::read_to_string(e.path().join("state")).ok()?;
                Some(format!(
                    "  pool {}: {}",
                    e.file_name().to_string_lossy(),
                    state.trim()
                ))
            })
            .collect();
        pools.sort();
        for line in pools {
            let _ = writeln!(out, "{line}");
        }
    }
    if let Ok(log) = std::fs::read_to_string(kstat.join("dbgmsg")) {
        let _ = writeln!(out, "  ZFS's debug log, the last lines:");
        for line in tail(&log, 40) {
            let _ = writeln!(out, "    {line}");
        }
    }
    if let Ok(dmesg) = Command::new("dmesg").output() {
        let _ = writeln!(out, "  the kernel's log, the last lines:");
        let text = match dmesg.stdout.is_empty() {
            true => String::from_utf8_lossy(&dmesg.stderr),
            false => String::from_utf8_lossy(&dmesg.stdout),
        };
        for line in tail(&text, 30) {
            let _ = writeln!(out, "    {line}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_names_are_read() {
        assert_eq!(
            parse_stat("1234 (a (b) c) D 1 77 77 0 -1"),
            Some(Task {
                comm: "a (b) c".into(),
                state: 'D',
                ppid: 1
            })
        );
        assert_eq!(parse_stat("1234 (x"), None);
        assert_eq!(parse_stat(""), None);
    }

    #[test]
    fn a_tail_folds_repeated_lines() {
        assert_eq!(tail("a\nb\nb\nb\nc\n", 2), ["b  [3 times]", "c"]);
        assert_eq!(tail("a\na", 5), ["a  [2 times]"]);
        assert!(tail("", 3).is_empty());
    }

    #[test]
    fn the_limit_comes_from_the_job_env() {
        let env = |v: &str| vec![(ENV.to_owned(), v.to_owned())];
        assert_eq!(limit(&[]), Ok(Some(DEFAULT_LIMIT)));
        assert_eq!(limit(&env("5")), Ok(Some(Duration::from_secs(5))));
        assert_eq!(limit(&env("0")), Ok(None));
        assert!(limit(&env("soon")).is_err());
    }

    #[test]
    fn a_report_lists_the_family_s_threads_and_a_kill_ends_them() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 60 & sleep 60; wait"])
            .spawn()
            .unwrap();
        let pid = child.id();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while family(pid).len() < 3 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let kin = family(pid);
        assert_eq!(kin.len(), 3, "{kin:?}");
        let text = report(pid);
        for k in &kin {
            assert!(text.contains(&format!("  {k}/{k} ")), "{text}");
        }
        assert!(text.contains(" sleep state S"), "{text}");
        kill_family(pid);
        child.wait().unwrap();
        for k in &kin[1..] {
            let gone_or_dead = || {
                read_stat(&Path::new("/proc").join(k.to_string()).join("stat"))
                    .is_none_or(|t| t.state == 'Z')
            };
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while !gone_or_dead() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            assert!(gone_or_dead(), "{k} still runs");
        }
    }
}
