//! What runs where ZFS is: a command, or a list of test binaries. The host writes it as JSON
//! into the VM's state directory and the guest half of the runner reads it back; where ZFS is
//! loaded on the host itself, the same [`Job`] runs in-process.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::error::{harness, Result};
use crate::run_tests;

/// One test executable built by `cargo test --no-run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestBinary {
    /// The cargo target's name (`pool_create`, `zfs_core`).
    pub name: String,
    /// Its package's directory: the tests run there, as under `cargo test`.
    pub manifest_dir: PathBuf,
    pub path: PathBuf,
    /// Its package says it must run with no other binary beside it (see [`crate::schedule`]).
    pub alone: bool,
    /// The groups its package puts it in: it never runs beside another of them.
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Run this command and exit with its code.
    Exec(Vec<String>),
    /// Run every binary with these arguments and tally the results.
    Tests {
        binaries: Vec<TestBinary>,
        args: Vec<String>,
        /// How many binaries may run at once.
        parallel: usize,
        /// Where the binaries' times are kept for the next run's order (see [`crate::timings`]).
        times_file: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub cwd: PathBuf,
    /// Set for the command or for every test binary.
    pub env: Vec<(String, String)>,
    pub action: Action,
}

/// Variables always passed into the guest, besides every `ZFS_TEST_*` and `CI_*`.
const FORWARDED: &[&str] = &[
    "RUST_BACKTRACE",
    "RUST_LOG",
    "RUST_TEST_THREADS",
    "NO_COLOR",
];

/// The variables of `vars` a job carries into the guest: the standard ones and `extra`.
pub fn forwarded_env(
    vars: impl IntoIterator<Item = (String, String)>,
    extra: &[String],
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vars
        .into_iter()
        .filter(|(k, _)| {
            FORWARDED.contains(&k.as_str())
                || (k.starts_with("ZFS_TEST_") && !k.starts_with("ZFS_TEST_VM_"))
                || k.starts_with("CI_")
                || extra.contains(k)
        })
        .collect();
    env.sort();
    env
}

fn path_str(path: &Path) -> Result<&str> {
    path.to_str()
        .ok_or_else(|| harness!("{}: the runner handles UTF-8 paths only", path.display()))
}

impl Job {
    pub fn to_json(&self) -> Result<String> {
        let action = match &self.action {
            Action::Exec(argv) => json!({ "exec": argv }),
            Action::Tests {
                binaries,
                args,
                parallel,
                times_file,
            } => {
                let bins = binaries
                    .iter()
                    .map(|b| {
                        Ok(json!({
                            "name": b.name,
                            "manifest_dir": path_str(&b.manifest_dir)?,
                            "path": path_str(&b.path)?,
                            "alone": b.alone,
                            "groups": b.groups,
                        }))
                    })
                    .collect::<Result<Vec<_>>>()?;
                let times = times_file.as_deref().map(path_str).transpose()?;
                json!({ "tests": {
                    "binaries": bins,
                    "args": args,
                    "parallel": parallel,
                    "times_file": times,
                } })
            }
        };
        let env: Vec<Value> = self.env.iter().map(|(k, v)| json!([k, v])).collect();
        Ok(json!({ "cwd": path_str(&self.cwd)?, "env": env, "action": action }).to_string())
    }

    pub fn from_json(text: &str) -> Result<Job> {
        let bad = || harness!("the job file is not one the runner wrote");
        let v: Value = serde_json::from_str(text).map_err(|_| bad())?;
        let string = |v: &Value| v.as_str().map(str::to_owned).ok_or_else(bad);
        let strings = |v: &Value| -> Result<Vec<String>> {
            v.as_array().ok_or_else(bad)?.iter().map(string).collect()
        };
        let env = v["env"]
            .as_array()
            .ok_or_else(bad)?
            .iter()
            .map(|pair| Ok((string(&pair[0])?, string(&pair[1])?)))
            .collect::<Result<Vec<_>>>()?;
        let action = &v["action"];
        let action = if let Some(argv) = action.get("exec") {
            Action::Exec(strings(argv)?)
        } else {
            let tests = action.get("tests").ok_or_else(bad)?;
            let binaries = tests["binaries"]
                .as_array()
                .ok_or_else(bad)?
                .iter()
                .map(|b| {
                    Ok(TestBinary {
                        name: string(&b["name"])?,
                        manifest_dir: string(&b["manifest_dir"])?.into(),
                        path: string(&b["path"])?.into(),
                        alone: b["alone"].as_bool().ok_or_else(bad)?,
                        groups: strings(&b["groups"])?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Action::Tests {
                binaries,
                args: strings(&tests["args"])?,
                parallel: tests["parallel"]
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(bad)?,
                times_file: match &tests["times_file"] {
                    Value::Null => None,
                    v => Some(string(v)?.into()),
                },
            }
        };
        Ok(Job {
            cwd: string(&v["cwd"])?.into(),
            env,
            action,
        })
    }

    /// Runs the job here (ZFS must be loaded) and returns the exit code the runner exits with.
    pub fn execute(&self) -> Result<i32> {
        match &self.action {
            Action::Exec(argv) => {
                let status = Command::new(&argv[0])
                    .args(&argv[1..])
                    .current_dir(&self.cwd)
                    .envs(self.env.iter().map(|(k, v)| (k, v)))
                    .status()
                    .map_err(|e| harness!("cannot run `{}`: {e}", argv[0]))?;
                Ok(exit_code(status))
            }
            Action::Tests {
                binaries,
                args,
                parallel,
                times_file,
            } => Ok(run_tests::run(
                binaries,
                args,
                &self.env,
                *parallel,
                times_file.as_deref(),
            )),
        }
    }
}

/// A child's exit code, or 128 + signal as a shell reports it.
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_survive_the_trip_through_json() {
        let jobs = [
            Job {
                cwd: "/w".into(),
                env: vec![("A".into(), "x y \"z\"\n".into())],
                action: Action::Exec(vec!["bash".into(), "-c".into(), "echo 'é'".into()]),
            },
            Job {
                cwd: "/w/c".into(),
                env: vec![],
                action: Action::Tests {
                    binaries: vec![TestBinary {
                        name: "pool".into(),
                        manifest_dir: "/w/c".into(),
                        path: "/w/target/debug/deps/pool-1".into(),
                        alone: true,
                        groups: vec!["scratch-disks".into()],
                    }],
                    args: vec!["--ignored".into(), "create".into()],
                    parallel: 3,
                    times_file: Some("/w/target/zfs-test-times.tsv".into()),
                },
            },
        ];
        for job in jobs {
            assert_eq!(Job::from_json(&job.to_json().unwrap()).unwrap(), job);
        }
        for bad in [
            "",
            "{}",
            r#"{"cwd":"/","env":[],"action":{}}"#,
            r#"{"cwd":1}"#,
        ] {
            assert!(Job::from_json(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_the_named_variables_are_forwarded() {
        let vars = [
            ("HOME", "/root"),
            ("RUST_LOG", "debug"),
            ("ZFS_TEST_POOL", "p"),
            ("ZFS_TEST_VM_MODULES", "/m"),
            ("CI_X", "1"),
            ("MINE", "m"),
            ("PATH", "/bin"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let env = forwarded_env(vars, &["MINE".into()]);
        let names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["CI_X", "MINE", "RUST_LOG", "ZFS_TEST_POOL"]);
    }
}
