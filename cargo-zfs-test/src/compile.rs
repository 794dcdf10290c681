//! Builds the test binaries on the host with `cargo test --no-run` and reads their paths from
//! cargo's JSON messages; `cargo metadata` says which directories the guest must be able to write.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::error::{harness, Result};
use crate::job::TestBinary;

/// The cargo the user ran us with (`cargo zfs-test` sets `CARGO`), else the one on PATH.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Builds every test target selected by `cargo_args` and returns the executables.
pub fn build(cargo_args: &[String]) -> Result<Vec<TestBinary>> {
    let mut child = cargo()
        .args([
            "test",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ])
        .args(cargo_args)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| harness!("cannot run cargo: {e}"))?;
    let stdout = child.stdout.take().expect("stdout was piped");
    let mut binaries = Vec::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.map_err(|e| harness!("reading cargo's output: {e}"))?;
        binaries.extend(test_binary(&line));
    }
    let status = child
        .wait()
        .map_err(|e| harness!("waiting for cargo: {e}"))?;
    if !status.success() {
        return Err(harness!(
            "the tests did not build (cargo test --no-run failed: {status})"
        ));
    }
    Ok(binaries)
}

/// A test executable, if `line` is cargo's message that one was built.
pub fn test_binary(line: &str) -> Option<TestBinary> {
    let msg: Value = serde_json::from_str(line).ok()?;
    if msg["reason"] != "compiler-artifact" || msg["profile"]["test"] != true {
        return None;
    }
    let path = msg["executable"].as_str()?;
    let manifest = PathBuf::from(msg["manifest_path"].as_str()?);
    Some(TestBinary {
        name: msg["target"]["name"].as_str()?.to_owned(),
        manifest_dir: manifest.parent()?.to_owned(),
        path: path.into(),
        alone: false,
    })
}

/// What `cargo metadata` says of the crates being tested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub root: PathBuf,
    pub target: PathBuf,
    /// (package directory, test target) of every binary declared
    /// `[package.metadata.zfs-test] alone = [...]`.
    pub alone: Vec<(PathBuf, String)>,
}

impl Workspace {
    /// Marks the binaries their packages declare `alone`.
    pub fn mark_alone(&self, binaries: &mut [TestBinary]) {
        for b in binaries {
            b.alone = self
                .alone
                .iter()
                .any(|(dir, name)| *dir == b.manifest_dir && *name == b.name);
        }
    }
}

/// The workspace of the crate being tested.
pub fn workspace(manifest_path: Option<&str>) -> Result<Workspace> {
    let mut cmd = cargo();
    cmd.args(["metadata", "--no-deps", "--format-version", "1"]);
    if let Some(path) = manifest_path {
        cmd.args(["--manifest-path", path]);
    }
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| harness!("cannot run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(harness!("cargo metadata failed ({})", out.status));
    }
    parse_metadata(&out.stdout)
}

fn parse_metadata(json: &[u8]) -> Result<Workspace> {
    let v: Value = serde_json::from_slice(json)
        .map_err(|e| harness!("cargo metadata printed no JSON: {e}"))?;
    let (Some(root), Some(target)) = (v["workspace_root"].as_str(), v["target_directory"].as_str())
    else {
        return Err(harness!("cargo metadata printed no workspace"));
    };
    let mut alone = Vec::new();
    for package in v["packages"].as_array().into_iter().flatten() {
        let declared = &package["metadata"]["zfs-test"]["alone"];
        if declared.is_null() {
            continue;
        }
        let manifest = package["manifest_path"].as_str().map(PathBuf::from);
        let dir = manifest.as_deref().and_then(|m| m.parent());
        let names = declared.as_array().and_then(|names| {
            names
                .iter()
                .map(|n| n.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
        });
        let (Some(dir), Some(names)) = (dir, names) else {
            return Err(harness!(
                "{}: [package.metadata.zfs-test] alone must be a list of test target names",
                manifest
                    .as_deref()
                    .unwrap_or(std::path::Path::new("?"))
                    .display()
            ));
        };
        alone.extend(names.into_iter().map(|n| (dir.to_owned(), n)));
    }
    Ok(Workspace {
        root: root.into(),
        target: target.into(),
        alone,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_test_executables_are_taken() {
        let test = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/c#0.1.0","manifest_path":"/w/c/Cargo.toml","target":{"kind":["test"],"name":"pool"},"profile":{"test":true},"executable":"/w/target/debug/deps/pool-abc","fresh":true}"#;
        assert_eq!(
            test_binary(test),
            Some(TestBinary {
                name: "pool".into(),
                manifest_dir: "/w/c".into(),
                path: "/w/target/debug/deps/pool-abc".into(),
                alone: false,
            })
        );
        let lib = r#"{"reason":"compiler-artifact","manifest_path":"/w/c/Cargo.toml","target":{"name":"c"},"profile":{"test":false},"executable":null}"#;
        let bin = r#"{"reason":"compiler-artifact","manifest_path":"/w/c/Cargo.toml","target":{"name":"c"},"profile":{"test":false},"executable":"/w/target/debug/c"}"#;
        for line in [
            lib,
            bin,
            r#"{"reason":"build-finished","success":true}"#,
            "Compiling",
            "",
        ] {
            assert_eq!(test_binary(line), None, "{line}");
        }
    }

    #[test]
    fn metadata_gives_the_root_the_target_and_who_runs_alone() {
        let json = br#"{"packages":[
            {"name":"a","manifest_path":"/w/a/Cargo.toml","metadata":{"zfs-test":{"alone":["pool_ops","faults"]}}},
            {"name":"b","manifest_path":"/w/b/Cargo.toml","metadata":null}
        ],"workspace_root":"/w","target_directory":"/w/target","version":1}"#;
        let ws = parse_metadata(json).unwrap();
        assert_eq!(
            (ws.root.to_str(), ws.target.to_str()),
            (Some("/w"), Some("/w/target"))
        );
        let mut bins = ["pool_ops", "datasets"].map(|name| TestBinary {
            name: name.into(),
            manifest_dir: "/w/a".into(),
            path: "/x".into(),
            alone: false,
        });
        ws.mark_alone(&mut bins);
        assert_eq!(bins.map(|b| b.alone), [true, false]);
        // The same target name in another package is not declared.
        let mut other = [TestBinary {
            name: "faults".into(),
            manifest_dir: "/w/b".into(),
            path: "/y".into(),
            alone: false,
        }];
        ws.mark_alone(&mut other);
        assert!(!other[0].alone);
        assert!(parse_metadata(b"{}").is_err());
        let bad = br#"{"packages":[{"manifest_path":"/w/a/Cargo.toml","metadata":{"zfs-test":{"alone":"pool_ops"}}}],"workspace_root":"/w","target_directory":"/t"}"#;
        let err = parse_metadata(bad).unwrap_err().to_string();
        assert!(err.contains("alone must be a list"), "{err}");
    }
}
