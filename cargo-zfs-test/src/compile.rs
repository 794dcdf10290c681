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
        groups: Vec::new(),
    })
}

/// What `cargo metadata` says of the crates being tested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub root: PathBuf,
    pub target: PathBuf,
    /// What packages declare of their test binaries in `[package.metadata.zfs-test]`.
    pub declared: Vec<Declared>,
}

/// One test binary named in `[package.metadata.zfs-test]` (see [`crate::schedule`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub manifest_dir: PathBuf,
    pub name: String,
    pub alone: bool,
    pub groups: Vec<String>,
}

impl Workspace {
    /// Marks the binaries as their packages declare them.
    pub fn mark(&self, binaries: &mut [TestBinary]) {
        for b in binaries {
            for d in &self.declared {
                if d.manifest_dir == b.manifest_dir && d.name == b.name {
                    b.alone |= d.alone;
                    b.groups.extend(d.groups.iter().cloned());
                }
            }
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
    let mut declared = Vec::new();
    for package in v["packages"].as_array().into_iter().flatten() {
        let ours = &package["metadata"]["zfs-test"];
        if ours.is_null() {
            continue;
        }
        let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap_or("?"));
        let bad =
            |what: &str| harness!("{}: [package.metadata.zfs-test] {what}", manifest.display());
        let dir = manifest
            .parent()
            .ok_or_else(|| bad("belongs to no package directory"))?;
        let names = |v: &Value| {
            v.as_array().and_then(|names| {
                names
                    .iter()
                    .map(|n| n.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
            })
        };
        let entry = |declared: &mut Vec<Declared>, name: String| {
            if let Some(i) = declared
                .iter()
                .position(|d: &Declared| d.manifest_dir == dir && d.name == name)
            {
                i
            } else {
                declared.push(Declared {
                    manifest_dir: dir.to_owned(),
                    name,
                    alone: false,
                    groups: Vec::new(),
                });
                declared.len() - 1
            }
        };
        if !ours["alone"].is_null() {
            let alone = names(&ours["alone"])
                .ok_or_else(|| bad("alone must be a list of test target names"))?;
            for name in alone {
                let i = entry(&mut declared, name);
                declared[i].alone = true;
            }
        }
        if !ours["groups"].is_null() {
            let groups = ours["groups"]
                .as_object()
                .ok_or_else(|| bad("groups must be a table of lists of test target names"))?;
            for (group, members) in groups {
                let members = names(members)
                    .ok_or_else(|| bad("groups must be a table of lists of test target names"))?;
                for name in members {
                    let i = entry(&mut declared, name);
                    declared[i].groups.push(group.clone());
                }
            }
        }
    }
    Ok(Workspace {
        root: root.into(),
        target: target.into(),
        declared,
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
                groups: vec![],
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
    fn metadata_gives_the_root_the_target_and_how_binaries_share_the_machine() {
        let json = br#"{"packages":[
            {"name":"a","manifest_path":"/w/a/Cargo.toml","metadata":{"zfs-test":{"alone":["pool_ops","faults"],"groups":{"scratch":["disks","faults"]}}}},
            {"name":"b","manifest_path":"/w/b/Cargo.toml","metadata":null}
        ],"workspace_root":"/w","target_directory":"/w/target","version":1}"#;
        let ws = parse_metadata(json).unwrap();
        assert_eq!(
            (ws.root.to_str(), ws.target.to_str()),
            (Some("/w"), Some("/w/target"))
        );
        let bin = |name: &str, dir: &str| TestBinary {
            name: name.into(),
            manifest_dir: dir.into(),
            path: "/x".into(),
            alone: false,
            groups: vec![],
        };
        let mut bins = [
            bin("pool_ops", "/w/a"),
            bin("datasets", "/w/a"),
            bin("disks", "/w/a"),
            bin("faults", "/w/a"),
            // The same target name in another package is not declared.
            bin("faults", "/w/b"),
        ];
        ws.mark(&mut bins);
        let marks: Vec<(bool, Vec<String>)> =
            bins.into_iter().map(|b| (b.alone, b.groups)).collect();
        let scratch = || vec!["scratch".to_owned()];
        assert_eq!(
            marks,
            [
                (true, vec![]),
                (false, vec![]),
                (false, scratch()),
                (true, scratch()),
                (false, vec![])
            ]
        );
        assert!(parse_metadata(b"{}").is_err());
        for bad in [
            r#"{"alone":"pool_ops"}"#,
            r#"{"groups":["x"]}"#,
            r#"{"groups":{"g":"x"}}"#,
        ] {
            let json = format!(
                r#"{{"packages":[{{"manifest_path":"/w/a/Cargo.toml","metadata":{{"zfs-test":{bad}}}}}],"workspace_root":"/w","target_directory":"/t"}}"#
            );
            let err = parse_metadata(json.as_bytes()).unwrap_err().to_string();
            assert!(
                err.contains("/w/a/Cargo.toml: [package.metadata.zfs-test]"),
                "{err}"
            );
        }
    }
}
