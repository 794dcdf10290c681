//! How an installer embeds impermanence-layout: a layout described in code (two mirrors,
//! an encrypted `persist` whose passphrase the installer asked for, a swap volume), planned
//! and shown, applied with a progress report, verified against the live pool, written out as
//! the NixOS module, and torn down (unmounted, keys unloaded, exported) as an installer
//! leaves the disks before rebooting. Then the pool is destroyed again, since this is a demo.
//!
//! Usage: `installer [POOL]` (as root, with the zfs module loaded). The disks are four sparse
//! files in a temporary directory; a real installer names `/dev/disk/by-id/...` instead.
use std::path::Path;
use std::process::ExitCode;

use impermanence_layout::{
    apply, nixos_config, teardown, verify, ApplyOptions, DatasetSpec, Inventory, LayoutError,
    MountSpec, Plan, PlanOptions, Spec, StepDone, Topology, VdevEntry, VdevGroup, VdevLayout,
};
use zfs_core::{Key, PoolName, Zfs};

/// The layout: the guide's datasets on two mirrors, `persist` encrypted, 256 MiB of swap.
fn layout(pool: &str, disks: &Path) -> Result<Spec, LayoutError> {
    let disk = |n: &str| VdevEntry::new(disks.join(n)).size("256M");
    let mirror = |a: &str, b: &str| VdevGroup::new(VdevLayout::Mirror, [disk(a), disk(b)]);
    let legacy = |name: &str| DatasetSpec::new(name).property("mountpoint", "legacy");
    let spec = Spec::builder(pool)
        .topology(
            Topology::new()
                .vdev(mirror("a", "b"))
                .vdev(mirror("c", "d")),
        )
        .pool_property("ashift", "12")
        .pool_property("cachefile", "none")
        .root_property("compression", "zstd")
        .root_property("mountpoint", "none")
        .dataset(legacy("root"))
        .dataset(legacy("nix"))
        .dataset(
            legacy("persist")
                .property("encryption", "on")
                .property("keyformat", "passphrase")
                .property("keylocation", "prompt"),
        )
        .dataset(DatasetSpec::volume("swap", "256M").block_size("4K"))
        .snapshot("persist", "blank")
        .mount(MountSpec::new("/nix", "nix").option("noatime"))
        .mount(MountSpec::new("/persist", "persist").needed_for_boot(true))
        .swap("swap")
        .build()?;
    Ok(spec)
}

fn install(zfs: &Zfs, pool: &str, dir: &Path) -> Result<(), LayoutError> {
    let spec = layout(pool, dir)?;
    let mnt = dir.join("mnt");
    let plan = Plan::new(
        &spec,
        &Inventory::read(zfs, &spec)?,
        &PlanOptions::new().mount_root(&mnt),
    );
    println!("plan ({} steps):", plan.steps.len());
    for command in plan.to_commands() {
        println!("  {command}");
    }
    if !plan.conflicts.is_empty() {
        return Err(LayoutError::Conflict(plan.conflicts));
    }
    // The installer asked the user for these (here: a fixed passphrase).
    let mut opts = ApplyOptions::new();
    for root in plan.keys_needed() {
        println!("key needed for {}", root.name);
        opts = opts.key(&root.name, Key::passphrase("correct horse battery staple")?);
    }
    let total = plan.steps.len();
    let mut report = |done: &StepDone<'_>| {
        println!(
            "  [{:>2}/{total}] {:.2}s {}",
            done.number,
            done.took.as_secs_f64(),
            done.step.to_command()
        );
    };
    apply(zfs, &plan, opts.on_step(&mut report))?;
    let differences = verify(zfs, &spec)?;
    println!("verify: {} differences", differences.len());
    for d in &differences {
        println!("  {d}");
    }
    let module = nixos_config(&spec);
    println!("NixOS module: {} lines", module.lines().count());
    for done in teardown(zfs, &PoolName::new(pool)?)? {
        println!("teardown: {done}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let pool = std::env::args()
        .nth(1)
        .unwrap_or_else(|| format!("installdemo{}", std::process::id()));
    let dir = std::env::temp_dir().join(format!("installer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    let zfs = match Zfs::open() {
        Ok(zfs) => zfs,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = install(&zfs, &pool, &dir);
    // A demo cleans up: import the exported pool again and destroy it, remove the files.
    let name = PoolName::new(pool.as_str()).expect("a valid name");
    if !zfs.pool_exists(&name) {
        let _ = zfs.import_pool(&name, &zfs_core::ImportOptions::new().dir(&dir));
    }
    if zfs.destroy_pool(&name).is_ok() {
        println!("destroyed pool {pool}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
