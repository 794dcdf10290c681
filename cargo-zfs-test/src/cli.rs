//! The command line: `cargo zfs-test [OPTIONS] [TESTNAME] [-- TEST_ARGS]`, `cargo zfs-test setup`,
//! `cargo zfs-test exec [OPTIONS] [--] CMD [ARGS]`.
//!
//! Options of `cargo test` pass through to the build (`-p`, `--features`, `--workspace`, ...);
//! what follows `--` goes to every test binary, as with `cargo test`.

use std::path::PathBuf;

use crate::error::{Error, Result};

pub const HELP: &str = "\
cargo zfs-test: run a crate's tests where the OpenZFS kernel module is loaded.

USAGE:
    cargo zfs-test [OPTIONS] [CARGO_TEST_OPTIONS] [TESTNAME] [-- TEST_ARGS]
    cargo zfs-test setup
    cargo zfs-test exec [OPTIONS] [--] CMD [ARGS]...

Runs the tests marked #[ignore = \"needs ZFS\"] (the binaries get --ignored, unless TEST_ARGS
say --include-ignored): directly, as root, where /dev/zfs exists; otherwise it prepares this
machine (Debian 12: a 6.12 kernel with zfs-dkms, QEMU, virtme-ng; idempotent, `setup` does only
that), builds the test binaries here, boots one throwaway VM sharing this machine's file system,
runs them there and exits with their result.

`exec` runs any command the same way (as root, where ZFS is loaded) in the current directory.

OPTIONS:
    --no-setup          do not check or prepare the machine first
    --vm-timeout SECS   give up on the VM after SECS seconds [env ZFS_TEST_VM_TIMEOUT; 2400]
    --vm-memory SIZE    guest memory, e.g. 3G [env ZFS_TEST_VM_MEMORY; 3G]
    --vm-cpus N         guest CPUs [env ZFS_TEST_VM_CPUS; 2]
    ZFS_TEST_VM_CPU     (environment) the CPU model QEMU emulates where KVM is not used
                        (its -cpu option) [max,-avx]
    --parallel N        test binaries run at once, the longest first (by the last whole run's
                        times, target/zfs-test-times.tsv), each on its own threads as under
                        cargo test; each one's output is printed whole when it ends (and kept
                        as it comes in target/zfs-test-logs/NAME.log). 1 runs them one after
                        another, streaming their output (as does --nocapture). A package's
                        [package.metadata.zfs-test] says which may not run side by side:
                        alone = [\"name\", ...] (nothing beside them), groups = { g = [...] }
                        (one of a group at a time) [env ZFS_TEST_PARALLEL; 3]
    --vm-env NAME       also pass NAME from this environment into the guest (repeatable)
                        [env ZFS_TEST_VM_ENV, space-separated]; always passed: RUST_BACKTRACE,
                        RUST_LOG, RUST_TEST_THREADS, NO_COLOR and every ZFS_TEST_* and CI_*
    ZFS_TEST_ARGS       (environment) more TEST_ARGS, space-separated, e.g. \"scrub --nocapture\"
    ZFS_TEST_BINARY_TIMEOUT
                        (environment) seconds one test binary may run; past them the runner
                        prints what its threads and every thread asleep in the kernel were
                        doing and the pools' states, kills it and what it started, and counts
                        it failed; 0 for no limit [900]
    --vm-modules DIR    load DIR/spl.ko and DIR/zfs.ko in the guest instead of the installed
                        module (a release built from source) [env ZFS_TEST_VM_MODULES]
    --rwdir DIR         a directory the guest may write (repeatable); the rest of the host's
                        file system is read-only there. Default: the workspace root and target
                        directory (tests), the current directory (exec)
    --vm-cached DIR     a directory the guest only reads and that does not change while it
                        runs, shared a second time read-only through the guest's page cache
                        (repeatable; a program started from there again and again is read from
                        this machine once). The test binaries' own directory always is,
                        unless it holds a directory the guest writes
    -h, --help          this text
    -V, --version       the runner's version

In the guest, /dev/vda and /dev/vdb (serials zfs-scratch0, zfs-scratch1) are two blank
512 MiB disks for tests that need whole block devices, and /tmp is private.

EXIT CODES:
    0    every test passed (exec: the command's own exit code)
    1    a test failed, a test binary crashed, or no test ran
    2    bad command line
    125  the tests could not run: setup, build, VM boot or module load failed, a test binary
         could not be started, or the run timed out
";

/// What to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Build and run the calling crate's ZFS tests.
    Test(TestArgs),
    /// Only prepare this machine.
    Setup,
    /// Run a command where ZFS is loaded.
    Exec(ExecArgs),
    /// Inside the VM: the guest half of a run (not for users).
    Guest(PathBuf),
    Help,
    Version,
}

/// How the VM is run, shared by tests and exec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmOptions {
    pub setup: bool,
    pub timeout_secs: u64,
    pub memory: String,
    pub cpus: u32,
    pub env: Vec<String>,
    pub rwdirs: Vec<PathBuf>,
    /// Read-only in the guest and cached there (see `cached`).
    pub cached: Vec<PathBuf>,
    /// Load `spl.ko` and `zfs.ko` from here in the guest instead of the installed module.
    pub modules: Option<PathBuf>,
    /// QEMU's `-cpu` under software emulation.
    pub cpu_model: String,
}

#[derive(Debug, PartialEq, Eq)]
pub struct TestArgs {
    /// Passed to `cargo test --no-run`.
    pub cargo: Vec<String>,
    /// `--manifest-path`, if given (also needed by `cargo metadata`).
    pub manifest_path: Option<String>,
    /// `--target-dir`, if given (the guest must be able to write there).
    pub target_dir: Option<String>,
    /// Passed to every test binary.
    pub test: Vec<String>,
    /// Test binaries run at once.
    pub parallel: usize,
    pub vm: VmOptions,
}

#[derive(Debug, PartialEq, Eq)]
pub struct ExecArgs {
    pub argv: Vec<String>,
    pub vm: VmOptions,
}

/// `cargo test` options that take a value, so that the value is not read as a test name.
const CARGO_VALUE_OPTIONS: &[&str] = &[
    "-p",
    "--package",
    "--exclude",
    "-F",
    "--features",
    "--manifest-path",
    "--target-dir",
    "--target",
    "--profile",
    "--bin",
    "--test",
    "--example",
    "--bench",
    "-j",
    "--jobs",
    "--color",
    "--config",
    "-Z",
    "--lockfile-path",
];

/// Options that would break the runner's own use of cargo.
const CARGO_REFUSED: &[&str] = &["--no-run", "--message-format", "--doc"];

impl VmOptions {
    /// Defaults, then the `ZFS_TEST_VM_*` environment.
    pub fn from_env(get: &impl Fn(&str) -> Option<String>) -> Result<VmOptions> {
        let mut vm = VmOptions {
            setup: true,
            timeout_secs: 2400,
            memory: "3G".into(),
            cpus: 2,
            env: Vec::new(),
            rwdirs: Vec::new(),
            cached: Vec::new(),
            modules: None,
            cpu_model: crate::vm::EMULATED_CPU.into(),
        };
        if let Some(v) = get("ZFS_TEST_VM_CPU") {
            vm.cpu_model = v;
        }
        if let Some(v) = get("ZFS_TEST_VM_TIMEOUT") {
            vm.timeout_secs = parse_number("ZFS_TEST_VM_TIMEOUT", &v)?;
        }
        if let Some(v) = get("ZFS_TEST_VM_MEMORY") {
            vm.memory = v;
        }
        if let Some(v) = get("ZFS_TEST_VM_CPUS") {
            vm.cpus = parse_number("ZFS_TEST_VM_CPUS", &v)?;
        }
        if let Some(v) = get("ZFS_TEST_VM_MODULES") {
            vm.modules = Some(v.into());
        }
        if let Some(v) = get("ZFS_TEST_VM_ENV") {
            vm.env.extend(v.split_whitespace().map(str::to_owned));
        }
        Ok(vm)
    }

    /// Takes `arg` (and its value from `rest`) if it is one of ours.
    fn take(&mut self, arg: &str, rest: &mut impl Iterator<Item = String>) -> Result<bool> {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
            _ => (arg, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| rest.next())
                .ok_or_else(|| Error::Usage(format!("{name} needs a value")))
        };
        match name {
            "--no-setup" => self.setup = false,
            "--vm-timeout" => self.timeout_secs = parse_number(name, &value()?)?,
            "--vm-memory" => self.memory = value()?,
            "--vm-cpus" => self.cpus = parse_number(name, &value()?)?,
            "--vm-env" => self.env.push(value()?),
            "--rwdir" => self.rwdirs.push(PathBuf::from(value()?)),
            "--vm-cached" => self.cached.push(PathBuf::from(value()?)),
            "--vm-modules" => self.modules = Some(PathBuf::from(value()?)),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Test binaries run at once unless told: most of a ZFS test's time is spent waiting for a
/// transaction group to sync, so three binaries on two guest CPUs keep them busy.
const DEFAULT_PARALLEL: usize = 3;

fn parse_parallel(what: &str, value: &str) -> Result<usize> {
    match parse_number(what, value)? {
        0 => Err(Error::Usage(format!("{what}: at least 1"))),
        n => Ok(n),
    }
}

fn parse_number<T: std::str::FromStr>(what: &str, value: &str) -> Result<T> {
    value
        .parse()
        .map_err(|_| Error::Usage(format!("{what}: `{value}` is not a number")))
}

/// Parses the arguments after the program name. `cargo zfs-test X` runs us as
/// `cargo-zfs-test zfs-test X`: the subcommand's own name is dropped first.
pub fn parse(
    args: impl IntoIterator<Item = String>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Command> {
    let mut args = args.into_iter().peekable();
    if args.peek().map(String::as_str) == Some("zfs-test") {
        args.next();
    }
    let env = |name: &str| env(name).filter(|v| !v.is_empty());
    let vm = VmOptions::from_env(&env)?;
    match args.peek().map(String::as_str) {
        Some("setup") => {
            args.next();
            if let Some(extra) = args.next() {
                return Err(Error::Usage(format!(
                    "setup takes no arguments (got `{extra}`)"
                )));
            }
            Ok(Command::Setup)
        }
        Some("exec") => {
            args.next();
            parse_exec(args, vm)
        }
        Some("__guest") => {
            args.next();
            let state = args
                .next()
                .ok_or_else(|| Error::Usage("__guest needs the state directory".into()))?;
            Ok(Command::Guest(PathBuf::from(state)))
        }
        Some("-h" | "--help" | "help") => Ok(Command::Help),
        Some("-V" | "--version") => Ok(Command::Version),
        _ => {
            let mut command = parse_test(args, vm, env("ZFS_TEST_PARALLEL"))?;
            if let (Command::Test(t), Some(extra)) = (&mut command, env("ZFS_TEST_ARGS")) {
                t.test.extend(extra.split_whitespace().map(str::to_owned));
            }
            Ok(command)
        }
    }
}

fn parse_exec(mut args: impl Iterator<Item = String>, mut vm: VmOptions) -> Result<Command> {
    let mut argv = Vec::new();
    while let Some(arg) = args.next() {
        if arg == "--" {
            argv.extend(args.by_ref());
            break;
        }
        if arg.starts_with('-') && vm.take(&arg, &mut args)? {
            continue;
        }
        if arg.starts_with('-') {
            return Err(Error::Usage(format!(
                "exec: unknown option `{arg}` (put `--` before CMD)"
            )));
        }
        argv.push(arg);
        argv.extend(args.by_ref());
    }
    if argv.is_empty() {
        return Err(Error::Usage("exec needs a command".into()));
    }
    Ok(Command::Exec(ExecArgs { argv, vm }))
}

fn parse_test(
    mut args: impl Iterator<Item = String>,
    mut vm: VmOptions,
    parallel_env: Option<String>,
) -> Result<Command> {
    let mut cargo = Vec::new();
    let mut filters = Vec::new();
    let mut test = Vec::new();
    let mut manifest_path = None;
    let mut target_dir = None;
    let mut parallel = None;
    while let Some(arg) = args.next() {
        if arg == "--" {
            test.extend(args.by_ref());
            break;
        }
        if !arg.starts_with('-') {
            filters.push(arg);
            continue;
        }
        if vm.take(&arg, &mut args)? {
            continue;
        }
        if let Some(v) = arg.strip_prefix("--parallel=") {
            parallel = Some(parse_parallel("--parallel", v)?);
            continue;
        }
        if arg == "--parallel" {
            let v = args
                .next()
                .ok_or_else(|| Error::Usage("--parallel needs a value".into()))?;
            parallel = Some(parse_parallel("--parallel", &v)?);
            continue;
        }
        let name = arg.split_once('=').map_or(arg.as_str(), |(n, _)| n);
        if CARGO_REFUSED.contains(&name) {
            return Err(Error::Usage(format!(
                "`{name}` is not supported: the runner builds with --no-run and reads JSON messages"
            )));
        }
        let takes_value = CARGO_VALUE_OPTIONS.contains(&name) && !arg.contains('=');
        let value = if takes_value {
            Some(
                args.next()
                    .ok_or_else(|| Error::Usage(format!("{name} needs a value")))?,
            )
        } else {
            None
        };
        let given = || {
            value
                .clone()
                .or_else(|| arg.split_once('=').map(|(_, v)| v.to_owned()))
        };
        match name {
            "--manifest-path" => manifest_path = given(),
            "--target-dir" => target_dir = given(),
            _ => {}
        }
        cargo.push(arg);
        cargo.extend(value);
    }
    filters.extend(test);
    // The option wins over the environment, even over a value there that is no number.
    let parallel = match (parallel, parallel_env) {
        (Some(n), _) => n,
        (None, Some(v)) => parse_parallel("ZFS_TEST_PARALLEL", &v)?,
        (None, None) => DEFAULT_PARALLEL,
    };
    Ok(Command::Test(TestArgs {
        cargo,
        manifest_path,
        target_dir,
        test: filters,
        parallel,
        vm,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_args(args: &[&str]) -> Result<Command> {
        parse(args.iter().map(|s| s.to_string()), |_| None)
    }

    fn test_args(args: &[&str]) -> TestArgs {
        match parse_args(args).unwrap() {
            Command::Test(t) => t,
            other => panic!("not a test run: {other:?}"),
        }
    }

    #[test]
    fn cargo_options_pass_through_and_names_become_filters() {
        let t = test_args(&[
            "zfs-test",
            "-p",
            "zfs-core",
            "--features=testing",
            "pool",
            "--locked",
            "--",
            "--nocapture",
        ]);
        assert_eq!(
            t.cargo,
            ["-p", "zfs-core", "--features=testing", "--locked"]
        );
        assert_eq!(t.test, ["pool", "--nocapture"]);
        assert!(t.vm.setup);
    }

    #[test]
    fn how_many_binaries_run_at_once_comes_from_the_option_or_the_environment() {
        assert_eq!(test_args(&[]).parallel, DEFAULT_PARALLEL);
        let t = test_args(&["--parallel", "1", "-p", "x", "--", "--nocapture"]);
        assert_eq!(t.parallel, 1);
        assert_eq!(t.cargo, ["-p", "x"]);
        assert_eq!(test_args(&["--parallel=4"]).parallel, 4);
        let from_env = |v: &str, args: &[&str]| {
            parse(args.iter().map(|s| s.to_string()), |name| {
                (name == "ZFS_TEST_PARALLEL").then(|| v.to_owned())
            })
        };
        match from_env("2", &[]).unwrap() {
            Command::Test(t) => assert_eq!(t.parallel, 2),
            other => panic!("{other:?}"),
        }
        match from_env("2", &["--parallel", "5"]).unwrap() {
            Command::Test(t) => assert_eq!(t.parallel, 5),
            other => panic!("{other:?}"),
        }
        for bad in [
            &["--parallel", "0"][..],
            &["--parallel", "x"],
            &["--parallel"],
        ] {
            assert!(matches!(parse_args(bad), Err(Error::Usage(_))), "{bad:?}");
        }
        assert!(matches!(from_env("0", &[]), Err(Error::Usage(_))));
        match from_env("x", &["--parallel=2"]).unwrap() {
            Command::Test(t) => assert_eq!(t.parallel, 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_manifest_path_is_remembered_in_both_spellings() {
        let t = test_args(&["--manifest-path", "a/Cargo.toml"]);
        assert_eq!(t.manifest_path.as_deref(), Some("a/Cargo.toml"));
        assert_eq!(t.cargo, ["--manifest-path", "a/Cargo.toml"]);
        let t = test_args(&[
            "--manifest-path=b/Cargo.toml",
            "--lib",
            "--target-dir",
            "/t",
        ]);
        assert_eq!(t.manifest_path.as_deref(), Some("b/Cargo.toml"));
        assert_eq!(t.target_dir.as_deref(), Some("/t"));
        assert_eq!(
            t.cargo,
            [
                "--manifest-path=b/Cargo.toml",
                "--lib",
                "--target-dir",
                "/t"
            ]
        );
    }

    #[test]
    fn runner_options_are_taken_out() {
        let t = test_args(&[
            "--no-setup",
            "--vm-timeout",
            "60",
            "--vm-memory=2G",
            "--vm-env",
            "A",
            "--vm-cpus",
            "1",
            "--rwdir",
            "/x",
            "--vm-cached=/c",
            "--vm-modules",
            "/m",
            "--workspace",
        ]);
        assert_eq!(t.cargo, ["--workspace"]);
        assert_eq!(
            t.vm,
            VmOptions {
                setup: false,
                timeout_secs: 60,
                memory: "2G".into(),
                cpus: 1,
                env: vec!["A".into()],
                rwdirs: vec!["/x".into()],
                cached: vec!["/c".into()],
                modules: Some("/m".into()),
                cpu_model: crate::vm::EMULATED_CPU.into(),
            }
        );
    }

    #[test]
    fn the_environment_sets_vm_defaults_and_options_win() {
        let env = |k: &str| match k {
            "ZFS_TEST_VM_TIMEOUT" => Some("99".to_string()),
            "ZFS_TEST_VM_ENV" => Some("A B".to_string()),
            "ZFS_TEST_VM_CPU" => Some("qemu64".to_string()),
            "ZFS_TEST_ARGS" => Some("scrub --nocapture".to_string()),
            _ => None,
        };
        let Command::Test(t) = parse(["--vm-timeout", "5"].map(String::from), env).unwrap() else {
            panic!()
        };
        assert_eq!(t.vm.timeout_secs, 5);
        assert_eq!(t.vm.env, ["A", "B"]);
        assert_eq!(t.vm.cpu_model, "qemu64");
        assert_eq!(t.test, ["scrub", "--nocapture"]);
        assert!(matches!(
            parse(Vec::<String>::new(), |_| Some("x".into())),
            Err(Error::Usage(_))
        ));
    }

    #[test]
    fn exec_takes_options_then_the_command_verbatim() {
        let Command::Exec(e) =
            parse_args(&["exec", "--vm-timeout=7", "bash", "-c", "--vm-timeout 1"]).unwrap()
        else {
            panic!()
        };
        assert_eq!(e.argv, ["bash", "-c", "--vm-timeout 1"]);
        assert_eq!(e.vm.timeout_secs, 7);
        let Command::Exec(e) = parse_args(&["exec", "--", "-weird"]).unwrap() else {
            panic!()
        };
        assert_eq!(e.argv, ["-weird"]);
    }

    #[test]
    fn bad_command_lines_are_usage_errors() {
        for args in [
            &["exec"][..],
            &["exec", "--what", "x"],
            &["--no-run"],
            &["--message-format=json"],
            &["-p"],
            &["--vm-timeout", "soon"],
            &["setup", "now"],
            &["__guest"],
        ] {
            assert!(
                matches!(parse_args(args), Err(Error::Usage(_))),
                "{args:?} was accepted"
            );
        }
    }

    #[test]
    fn subcommands() {
        assert_eq!(parse_args(&["zfs-test", "setup"]).unwrap(), Command::Setup);
        assert_eq!(parse_args(&["--help"]).unwrap(), Command::Help);
        assert_eq!(parse_args(&["-V"]).unwrap(), Command::Version);
        assert_eq!(
            parse_args(&["__guest", "/s"]).unwrap(),
            Command::Guest("/s".into())
        );
    }
}
