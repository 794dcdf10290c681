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
    })
}

/// The workspace root and target directory of the crate being tested.
pub fn workspace_dirs(manifest_path: Option<&str>) -> Result<(PathBuf, PathBuf)> {
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
    parse_metadata(&out.stdout).ok_or_else(|| harness!("cargo metadata printed no workspace"))
}

fn parse_metadata(json: &[u8]) -> Option<(PathBuf, PathBuf)> {
    let v: Value = serde_json::from_slice(json).ok()?;
    Some((
        v["workspace_root"].as_str()?.into(),
        v["target_directory"].as_str()?.into(),
    ))
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
    fn metadata_gives_the_root_and_target() {
        let json =
            br#"{"packages":[],"workspace_root":"/w","target_directory":"/w/target","version":1}"#;
        assert_eq!(
            parse_metadata(json),
            Some(("/w".into(), "/w/target".into()))
        );
        assert_eq!(parse_metadata(b"{}"), None);
    }
}
