//! Creates a pool on a sparse file vdev with zfs-core, prints its status, and destroys it.
//!
//! Usage: `create-pool [POOL] [--keep]` (as root, with the zfs module loaded). The vdev file is
//! made in a temporary directory; with `--keep` the pool and file are left for you to inspect.
use std::process::ExitCode;

use zfs_core::{CreatePool, PoolName, VdevSpec, Zfs};

fn run(name: &str, keep: bool) -> zfs_core::Result<()> {
    let name = PoolName::new(name)?;
    let dir = std::env::temp_dir().join(format!("create-pool-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    let vdev = dir.join("vdev0");
    std::fs::File::create(&vdev)
        .and_then(|f| f.set_len(1 << 30))
        .expect("create a 1 GiB sparse file");

    let zfs = Zfs::open()?;
    println!("{}", zfs_core::Versions::detect());
    let pool = CreatePool::new(name, VdevSpec::new().file(&vdev))
        .pool_property("ashift", "12")
        .pool_property("autotrim", "on")
        .pool_property("cachefile", "none")
        .fs_property("compression", "zstd")
        .fs_property("atime", "off")
        .mountpoint("none")
        .create(&zfs)?;
    println!("created pool {} on {}", pool.name(), vdev.display());

    let status = pool.status()?;
    println!(
        "  {:<40} {:<8} {:>5} {:>5} {:>5}",
        "NAME", "STATE", "READ", "WRITE", "CKSUM"
    );
    let mut stack = vec![(0, &status.root)];
    while let Some((depth, v)) = stack.pop() {
        let name = format!("{}{}", "  ".repeat(depth), v.name);
        println!(
            "  {name:<40} {:<8} {:>5} {:>5} {:>5}",
            v.state, v.read_errors, v.write_errors, v.checksum_errors
        );
        stack.extend(v.children.iter().rev().map(|c| (depth + 1, c)));
    }
    for prop in ["size", "free", "ashift", "autotrim", "health"] {
        let p = pool.property(prop)?;
        println!("  {prop:<10} {:<22} {}", p.value, p.source);
    }
    if keep {
        println!(
            "kept pool {} (destroy it with `zpool destroy {}`)",
            pool.name(),
            pool.name()
        );
        return Ok(());
    }
    let shown = pool.name().clone();
    zfs.destroy_pool(&shown)?;
    std::fs::remove_dir_all(&dir).ok();
    println!("destroyed pool {shown}");
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let keep = args.iter().any(|a| a == "--keep");
    let name = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or("demo", String::as_str);
    match run(name, keep) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
