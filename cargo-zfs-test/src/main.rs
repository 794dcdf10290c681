//! `cargo zfs-test`: runs a crate's tests against the real OpenZFS kernel module.
//!
//! Where `/dev/zfs` exists and we are root, the tests run directly. Elsewhere (a CI runner or a
//! laptop without ZFS) the runner prepares the machine once (`setup`: a Debian kernel with
//! zfs-dkms, QEMU, virtme-ng), builds the test binaries here, boots one throwaway VM that shares
//! this machine's file system, runs them there with `--ignored`, and exits with their result.
//! See `cargo zfs-test --help` and the README for the exit codes and options.

mod apt_mirror;
mod cached;
mod cli;
mod compile;
mod error;
mod guest;
mod host;
mod installed_modules;
mod interrupt;
mod job;
mod progress;
mod run_tests;
mod schedule;
mod setup;
mod timings;
mod vm;
mod watchdog;

use std::path::PathBuf;
use std::process::ExitCode;

use cli::{Command, ExecArgs, TestArgs, VmOptions};
use error::{harness, Error, Result};
use job::{Action, Job};

fn main() -> ExitCode {
    progress::start();
    let command = cli::parse(std::env::args().skip(1), |name| std::env::var(name).ok());
    let result = command.and_then(|command| match command {
        Command::Help => {
            print!("{}", cli::HELP);
            Ok(0)
        }
        Command::Version => {
            println!("cargo-zfs-test {}", env!("CARGO_PKG_VERSION"));
            Ok(0)
        }
        Command::Setup => setup::run().map(|ready| {
            progress::phase("setup", format!("ready: {ready}"));
            0
        }),
        Command::Guest(state) => Ok(guest::run(&state)),
        Command::Exec(args) => exec(args),
        Command::Test(args) => test(args),
    });
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            progress::error(&e);
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}

/// Prepares the machine, unless ZFS is here or a VM can already be booted (so that hosts
/// other than Debian 12 that were set up by hand do not need --no-setup).
fn prepare(vm: &VmOptions) -> Result<()> {
    if vm.setup && !host::zfs_here() && setup::check_ready().is_err() {
        let ready = setup::run()?;
        progress::phase("setup", format!("ready: {ready}"));
    }
    Ok(())
}

/// Runs `job` where ZFS is: here, or in a VM that may write `rwdirs` and reads `cached`
/// through its page cache.
fn run_where_zfs_is(
    job: &Job,
    vm: &VmOptions,
    rwdirs: &[PathBuf],
    cached: &[PathBuf],
) -> Result<i32> {
    if host::zfs_here() {
        if vm.modules.is_some() {
            return Err(Error::Usage(
                "--vm-modules: ZFS is loaded on this machine already; it applies to the VM only"
                    .into(),
            ));
        }
        progress::phase("run", "ZFS is loaded here: running directly");
        return job.execute();
    }
    vm::run(job, vm, rwdirs, cached)
}

fn current_dir() -> Result<PathBuf> {
    std::env::current_dir().map_err(|e| harness!("the current directory: {e}"))
}

fn exec(args: ExecArgs) -> Result<i32> {
    prepare(&args.vm)?;
    let cwd = current_dir()?;
    let job = Job {
        env: job::forwarded_env(std::env::vars(), &args.vm.env),
        cwd: cwd.clone(),
        action: Action::Exec(args.argv),
    };
    let rwdirs = if args.vm.rwdirs.is_empty() {
        vec![cwd]
    } else {
        args.vm.rwdirs.clone()
    };
    let rc = run_where_zfs_is(&job, &args.vm, &rwdirs, &args.vm.cached)?;
    progress::phase("done", format!("exit code {rc}"));
    Ok(rc)
}

fn test(args: TestArgs) -> Result<i32> {
    prepare(&args.vm)?;
    let workspace = compile::workspace(args.manifest_path.as_deref())?;
    let target = args
        .target_dir
        .clone()
        .map_or(workspace.target.clone(), PathBuf::from);
    progress::phase(
        "build",
        format!("cargo test --no-run {}", args.cargo.join(" ")),
    );
    let mut binaries = compile::build(&args.cargo)?;
    if binaries.is_empty() {
        return Err(Error::Harness(
            "cargo built no test binaries (is the package selection right?)".into(),
        ));
    }
    progress::phase("build", format!("{} test binaries", binaries.len()));
    workspace.mark(&mut binaries);
    let times_file = target.join(timings::FILE);
    timings::longest_first(&mut binaries, &timings::load(&times_file));
    let mut cached = cached::binary_dirs(binaries.iter().map(|b| b.path.as_path()));
    cached.extend(args.vm.cached.iter().cloned());
    let job = Job {
        env: job::forwarded_env(std::env::vars(), &args.vm.env),
        cwd: current_dir()?,
        action: Action::Tests {
            binaries,
            args: args.test,
            parallel: args.parallel,
            times_file: Some(times_file),
        },
    };
    let mut rwdirs = args.vm.rwdirs.clone();
    if rwdirs.is_empty() {
        rwdirs = vec![workspace.root, target];
    }
    let rc = run_where_zfs_is(&job, &args.vm, &rwdirs, &cached)?;
    progress::phase(
        "done",
        if rc == 0 {
            "every test passed"
        } else {
            "FAILED"
        },
    );
    Ok(rc)
}
