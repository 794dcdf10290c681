//! `impermanence-layout plan|apply|verify|nixos-config`: the guide's ZFS layout in one step.
//!
//! Exit codes: 0 done or nothing to do; 1 refused or failed, with nothing changed (`verify`:
//! differences found); 2 bad usage or bad spec.
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use impermanence_layout::{
    apply, nixos_config, verify, ApplyLock, ApplyOptions, Inventory, LayoutError, Plan,
    PlanOptions, Spec, VdevEntry,
};
use zfs_core::Zfs;

#[derive(Parser)]
#[command(
    name = "impermanence-layout",
    version,
    about = "Creates the ZFS layout of a NixOS impermanence setup, all or nothing"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print what apply would do, as the equivalent zpool/zfs commands (or JSON).
    Plan(Common),
    /// Create the layout. Without --yes, prints the plan and asks first.
    Apply {
        #[command(flatten)]
        common: Common,
        /// Do not ask.
        #[arg(long)]
        yes: bool,
        /// Settle conflicting properties of existing objects by setting them, instead of refusing.
        #[arg(long)]
        adopt: bool,
    },
    /// Compare the live pool with the spec; exit 1 if they differ.
    Verify(Common),
    /// Print the NixOS module for the boot side of the layout.
    NixosConfig(Common),
    /// Print the spec (the guide's layout by default) as TOML, to start your own.
    ShowSpec(Common),
}

#[derive(Args)]
struct Common {
    /// Layout spec (TOML). Default: the guide's layout.
    #[arg(long, value_name = "FILE")]
    spec: Option<PathBuf>,
    /// Pool name (overrides the spec).
    #[arg(long, value_name = "NAME")]
    pool: Option<String>,
    /// A device: file or block device (repeatable; replaces the spec's devices).
    #[arg(long = "vdev", value_name = "PATH")]
    vdevs: Vec<PathBuf>,
    /// Create missing --vdev files sparse with this size (e.g. 2G).
    #[arg(long, value_name = "SIZE")]
    vdev_size: Option<String>,
    /// Mount the layout under this directory at the end (e.g. /mnt), as the guide does.
    #[arg(long, value_name = "DIR")]
    mount_root: Option<PathBuf>,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

/// What the user asked for, resolved and validated except for its devices, which only a pool
/// still to be created needs (see [`Spec::validate_for`]).
fn load(c: &Common) -> Result<Spec, LayoutError> {
    let spec = load_unchecked(c)?;
    spec.validate_without_devices()?;
    Ok(spec)
}

/// The spec with the command line's overrides, not yet validated.
fn load_unchecked(c: &Common) -> Result<Spec, LayoutError> {
    let mut spec = match &c.spec {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                impermanence_layout::SpecErrors(vec![format!(
                    "cannot read {}: {e}",
                    path.display()
                )])
            })?;
            Spec::from_toml(&text)?
        }
        None => Spec::default(),
    };
    if let Some(p) = &c.pool {
        spec.pool.name.clone_from(p);
    }
    if !c.vdevs.is_empty() {
        // `--vdev` replaces the spec's devices: each its own top-level vdev, or one group of
        // the spec's `layout` when it gave `vdevs`.
        let layout = spec.pool.layout;
        spec.pool.topology = None;
        spec.pool.layout = layout;
        spec.pool.vdevs = c.vdevs.iter().map(VdevEntry::new).collect();
    }
    if let Some(size) = &c.vdev_size {
        for v in spec.pool.devices_mut() {
            v.size.get_or_insert_with(|| size.clone());
        }
    }
    Ok(spec)
}

/// Opens ZFS if it is there; planning works without it when nothing exists.
fn inventory(spec: &Spec) -> Result<(Option<Zfs>, Inventory), LayoutError> {
    match Zfs::open() {
        Ok(zfs) => {
            let inv = Inventory::read(&zfs, spec)?;
            Ok((Some(zfs), inv))
        }
        Err(e) if e.kind() == zfs_core::ErrorKind::ModuleNotLoaded => {
            Ok((None, Inventory::without_zfs(spec)))
        }
        Err(e) => Err(e.into()),
    }
}

fn print_plan(plan: &Plan, json: bool) {
    if json {
        println!("{}", plan.to_json());
        return;
    }
    if plan.resumes {
        println!("# an earlier apply was interrupted; this plan completes it");
    }
    if plan.is_empty() {
        println!("# nothing to do: the layout is already in place");
    }
    for c in plan.to_commands() {
        println!("{c}");
    }
    for c in &plan.conflicts {
        println!("# conflict: {c}");
    }
}

fn confirm() -> bool {
    if !std::io::stdin().is_terminal() {
        eprintln!("refusing to apply without --yes when standard input is not a terminal");
        return false;
    }
    eprint!("apply this plan? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).is_ok() && matches!(line.trim(), "y" | "Y" | "yes")
}

fn run(cli: Cli) -> Result<ExitCode, LayoutError> {
    match cli.command {
        Command::ShowSpec(c) => {
            print!("{}", load_unchecked(&c)?.to_toml());
        }
        Command::NixosConfig(c) => {
            let spec = load_unchecked(&c)?;
            spec.validate_without_devices()?;
            print!("{}", nixos_config(&spec));
        }
        Command::Plan(c) => {
            let spec = load(&c)?;
            let (_, inv) = inventory(&spec)?;
            spec.validate_for(&inv)?;
            let plan = Plan::new(&spec, &inv, &plan_options(false, c.mount_root.as_deref()));
            print_plan(&plan, c.json);
            if !plan.conflicts.is_empty() {
                return Ok(ExitCode::from(1));
            }
        }
        Command::Verify(c) => {
            let spec = load(&c)?;
            let zfs = Zfs::open()?;
            let diffs = verify(&zfs, &spec)?;
            if c.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&diffs).expect("serialises")
                );
            } else if diffs.is_empty() {
                println!("{}: the layout matches the spec", spec.pool.name);
            } else {
                for d in &diffs {
                    println!("{d}");
                }
            }
            if !diffs.is_empty() {
                return Ok(ExitCode::from(1));
            }
        }
        Command::Apply {
            common: c,
            yes,
            adopt,
        } => {
            let spec = load(&c)?;
            let zfs = Zfs::open()?;
            // Held from reading the system to the last step.
            let _lock = ApplyLock::acquire(&spec.pool.name)?;
            let inv = Inventory::read(&zfs, &spec)?;
            spec.validate_for(&inv)?;
            let plan = Plan::new(&spec, &inv, &plan_options(adopt, c.mount_root.as_deref()));
            if !plan.conflicts.is_empty() {
                return Err(LayoutError::Conflict(plan.conflicts));
            }
            if plan.is_empty() {
                println!("nothing to do: the layout is already in place");
                return Ok(ExitCode::SUCCESS);
            }
            if !yes {
                print_plan(&plan, false);
                if !confirm() {
                    println!("nothing was changed");
                    return Ok(ExitCode::from(1));
                }
            }
            let total = plan.steps.len();
            let mut progress = |done: &impermanence_layout::StepDone<'_>| {
                let took = match done.batch {
                    Some((first, last)) => format!(
                        "steps {first}-{last} together: {:.2}s",
                        done.took.as_secs_f64()
                    ),
                    None => format!("{:.2}s", done.took.as_secs_f64()),
                };
                println!(
                    "[{}/{total}] {} ({took})",
                    done.number,
                    done.step.to_command()
                );
            };
            let opts = ApplyOptions::new().on_step(&mut progress);
            // Test hook, only in builds with the `testing` feature (the crate's own tests).
            #[cfg(feature = "testing")]
            let opts = match std::env::var("IMPERMANENCE_LAYOUT_FAIL_AT")
                .ok()
                .and_then(|v| v.parse().ok())
            {
                Some(k) => opts.fail_at(k),
                None => opts,
            };
            apply(&zfs, &plan, opts)?;
            println!("done: {} steps", total);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// The plan options of the command line.
fn plan_options(adopt: bool, mount_root: Option<&std::path::Path>) -> PlanOptions {
    let opts = PlanOptions::new().adopt(adopt);
    match mount_root {
        Some(dir) => opts.mount_root(dir),
        None => opts,
    }
}
