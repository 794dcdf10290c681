//! The CLI's commands that need no pool: they run on any host, ZFS or not (`plan` reads the
//! system where ZFS is there, and plans from nothing where it is not).

use std::process::Command;

use impermanence_layout::{Spec, Topology, VdevEntry, VdevGroup, VdevLayout};

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

/// Installers in other languages write JSON: the schema the CLI prints accepts every spec
/// the crate writes (the guide's, a topology with bare and sized devices) and rejects what
/// the parser rejects; a JSON spec plans like its TOML twin.
#[test]
fn json_specs_and_their_schema_agree_with_the_parser() {
    let (code, out, _) = run(&["schema"]);
    assert_eq!(code, 0);
    let schema: serde_json::Value = serde_json::from_str(&out).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");

    let mut topo = Spec::default();
    topo.pool.topology = Some(
        Topology::new()
            .vdev(VdevGroup::new(VdevLayout::Mirror, ["/dev/a", "/dev/b"]))
            .log(VdevGroup::new(
                VdevLayout::Stripe,
                [VdevEntry::new("/var/tmp/log.img").size("1G")],
            ))
            .cache("/dev/c"),
    );
    for spec in [Spec::default(), topo.clone()] {
        let json: serde_json::Value = serde_json::from_str(&spec.to_json()).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:#?}\n{json:#}");
        assert_eq!(Spec::parse(&spec.to_json()).unwrap(), spec);
    }
    // What the parser refuses, the schema refuses.
    for bad in [
        r#"{"pool": {"name": "t", "colour": 1}}"#,
        r#"{"pool": {"name": "t", "layout": "raidz9"}}"#,
        r#"{"pool": {"name": "t", "topology": {"vdev": [{"members": [7]}]}}}"#,
        r#"{"pool": {"name": "t", "topology": {"vdev": [{"members": [{"size": "1G"}]}]}}}"#,
        r#"{"datasets": []}"#,
    ] {
        let json: serde_json::Value = serde_json::from_str(bad).unwrap();
        assert!(!validator.is_valid(&json), "schema accepted {bad}");
        assert!(Spec::from_json(bad).is_err(), "parser accepted {bad}");
    }

    // `show-spec --json`, planned from a .json file, gives the same commands as the TOML.
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = run(&["show-spec", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(Spec::from_json(&out).unwrap(), Spec::default());
    topo.pool.name = format!("zrjson{}", std::process::id());
    let (json_file, toml_file) = (dir.path().join("s.json"), dir.path().join("s.toml"));
    std::fs::write(&json_file, topo.to_json()).unwrap();
    std::fs::write(&toml_file, topo.to_toml()).unwrap();
    let plan = |f: &std::path::Path| run(&["plan", "--spec", f.to_str().unwrap()]);
    let (from_json, from_toml) = (plan(&json_file), plan(&toml_file));
    assert_eq!(from_json, from_toml);
    assert!(
        from_json
            .1
            .contains(" mirror /dev/a /dev/b log /var/tmp/log.img cache /dev/c"),
        "{from_json:?}"
    );
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"pool\": {\"name\": 5}}").unwrap();
    let (code, _, err) = plan(&bad);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("line 1 column"), "{err}");
}

/// The README's second spec reads, validates, and plans what the README shows.
#[test]
fn the_readme_real_install_spec_plans() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/specs/real-install.toml");
    let spec = Spec::parse(&std::fs::read_to_string(file).unwrap()).unwrap();
    spec.validate().unwrap();
    assert_eq!(spec.encryption_roots().len(), 1);
    let plan = impermanence_layout::Plan::new(
        &spec,
        &impermanence_layout::Inventory::default(),
        &impermanence_layout::PlanOptions::new(),
    );
    let commands = plan.to_commands().join("\n");
    for want in [
        "zroot mirror /var/tmp/zroot-a.img /var/tmp/zroot-b.img mirror /var/tmp/zroot-c.img /var/tmp/zroot-d.img",
        "zfs create -o mountpoint=legacy -o encryption=on -o keyformat=passphrase -o keylocation=prompt zroot/persist",
        "zfs create -V 1073741824 -b 4096 -o compression=zle",
    ] {
        assert!(commands.contains(want), "{want}\n{commands}");
    }
}

/// The README's real install on disks: an ESP, swap on both, the pool's mirror on partitions;
/// valid, and its NixOS module mounts the ESP and lists both swap partitions. (Applied by
/// `ci/transcript-real-install`, whose output is in docs/layout.md.)
#[test]
fn the_readme_real_install_on_disks_spec_is_valid_and_boots() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/specs/real-install-disks.toml");
    let spec = Spec::parse(&std::fs::read_to_string(file).unwrap()).unwrap();
    spec.validate().unwrap();
    assert_eq!(spec.encryption_roots().len(), 1);
    let module = impermanence_layout::nixos_config(&spec);
    for want in [
        "fileSystems.\"/boot\" = {\n    device = \"/dev/disk/by-partlabel/ESP\";\n    fsType = \"vfat\";",
        "swapDevices = [ { device = \"/dev/disk/by-partlabel/swap-a\"; } { device = \"/dev/disk/by-partlabel/swap-b\"; } ];",
        "boot.zfs.requestEncryptionCredentials = [ \"zroot/persist\" ];",
    ] {
        assert!(module.contains(want), "{want}\n{module}");
    }
}

/// `plan | head`: a reader that goes away ends the program as it ends any Unix tool, by
/// SIGPIPE, quietly; it panicked ("failed printing to stdout: Broken pipe") with a backtrace.
#[test]
fn a_closed_pipe_ends_plan_quietly() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    // More output than a pipe holds (64 KiB), so the plan is still writing when the reader
    // is gone, however soon it goes.
    let mut spec = Spec::default();
    spec.pool.name = format!("zrpipe{}", std::process::id());
    spec.pool
        .vdevs
        .push(VdevEntry::new(dir.path().join("zroot.img")).size("1G"));
    let mut toml = spec.to_toml();
    for i in 0..5000 {
        toml.push_str(&format!("\n[[datasets]]\nname = \"d{i}\"\n"));
    }
    let file = dir.path().join("spec.toml");
    std::fs::write(&file, toml).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_impermanence-layout"))
        .args(["plan", "--spec", file.to_str().unwrap()])
        .env("RUST_BACKTRACE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away without reading.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.is_empty(), "{err}");
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{:?}", out.status);
}

/// Vdevs that differ in redundancy (a mirror next to a single device), which `zpool create`
/// and apply refuse without `-f`: plan refuses them too, and says how to ask for them; the
/// spec's `force = true` (or `--force`) plans `zpool create -f`.
#[test]
fn plan_refuses_mixed_redundancy_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let f = |n: &str| VdevEntry::new(dir.path().join(format!("{n}.img"))).size("1G");
    let mut spec = Spec::default();
    spec.pool.name = format!("zrforce{}", std::process::id());
    spec.pool.topology = Some(
        Topology::new()
            .vdev(VdevGroup::new(VdevLayout::Mirror, [f("a"), f("b")]))
            .vdev(VdevGroup::new(VdevLayout::Stripe, [f("c")])),
    );
    let file = dir.path().join("spec.toml");
    std::fs::write(&file, spec.to_toml()).unwrap();
    let file = file.to_str().unwrap();
    let (code, out, err) = run(&["plan", "--spec", file]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("# conflict: ") && out.contains("mismatched replication level"),
        "{out}"
    );
    assert!(out.contains("force = true"), "{out}");
    let create = |out: &str| {
        out.lines()
            .find(|l| l.starts_with("zpool create"))
            .unwrap_or_else(|| panic!("no zpool create in {out}"))
            .to_owned()
    };
    assert!(!create(&out).starts_with("zpool create -f "), "{out}");

    let (code, out, err) = run(&["plan", "--spec", file, "--force"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(create(&out).starts_with("zpool create -f "), "{out}");

    // In the spec, where `[pool]` begins.
    let text =
        std::fs::read_to_string(file)
            .unwrap()
            .replacen("[pool]\n", "[pool]\nforce = true\n", 1);
    std::fs::write(file, &text).unwrap();
    let (code, out, err) = run(&["plan", "--spec", file]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(create(&out).starts_with("zpool create -f "), "{out}");
    assert!(!out.contains("conflict"), "{out}");
}
