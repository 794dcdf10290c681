//! The CLI's commands that need no pool: they run on any host, ZFS or not (`plan` reads the
//! system where ZFS is there, and plans from nothing where it is not).

use std::process::Command;

use impermanence_layout::Spec;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_impermanence-layout"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn show_spec_prints_the_guides_layout_as_toml_that_reads_back() {
    let (code, out, _) = run(&["show-spec"]);
    assert_eq!(code, 0);
    assert_eq!(Spec::from_toml(&out).unwrap(), Spec::default());
}

#[test]
fn nixos_config_prints_the_module_and_refuses_a_bad_spec() {
    let (code, out, _) = run(&["nixos-config"]);
    assert_eq!(code, 0);
    assert!(out.contains("fileSystems.\"/nix\""), "{out}");
    assert!(
        out.contains("boot.supportedFilesystems = [ \"zfs\" ]"),
        "{out}"
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[pool]\nname = \"mirror\"\n").unwrap();
    let (code, _, err) = run(&["nixos-config", "--spec", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("pool name 'mirror'"), "{err}");
}

#[test]
fn plan_works_without_a_pool_and_sizes_devices_named_in_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let vdev = dir.path().join("zroot.img");
    let name = format!("zrhost{}", std::process::id());
    // The device comes from the spec, its size from the command line.
    let mut spec = Spec::default();
    spec.pool.name = name.clone();
    spec.pool
        .vdevs
        .push(impermanence_layout::VdevEntry::new(&vdev));
    let file = dir.path().join("spec.toml");
    std::fs::write(&file, spec.to_toml()).unwrap();
    let (code, out, err) = run(&[
        "plan",
        "--spec",
        file.to_str().unwrap(),
        "--vdev-size",
        "2G",
    ]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        format!("truncate -s {} {}", 2u64 << 30, vdev.display())
    );
    assert!(
        lines[1].starts_with("zpool create -o ashift=12 -o autotrim=on"),
        "{out}"
    );
    assert!(lines
        .iter()
        .any(|l| *l == format!("zfs snapshot {name}/persist@blank")));
    assert!(!vdev.exists(), "planning touched the disk");
    // JSON for programs.
    let (code, out, _) = run(&[
        "plan",
        "--json",
        "--spec",
        file.to_str().unwrap(),
        "--vdev-size",
        "2G",
    ]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["steps"][1]["step"], "create_pool");
}

#[test]
fn an_unreadable_spec_is_bad_usage() {
    let (code, _, err) = run(&["plan", "--spec", "/nonexistent/spec.toml"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot read /nonexistent/spec.toml"), "{err}");
}
