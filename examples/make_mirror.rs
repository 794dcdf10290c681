//! Turns a single-disk pool into a two-way mirror and waits for the resilver, as
//! `zpool attach POOL OLD NEW && zpool wait -t resilver POOL` would; then detaches the new
//! side again and destroys the pool.
//!
//! Usage: `make-mirror [POOL]` (as root, with the zfs module loaded). Both "disks" are sparse
//! files in a temporary directory; the pool gets 32 MiB of data so there is something to copy.
use std::io::Write;
use std::process::ExitCode;

use zfs_core::{
    AttachOptions, CreateDataset, CreatePool, DatasetName, Leaf, PoolName, ScanState,
    UnmountOptions, VdevSpec, WaitActivity, Zfs,
};

fn run(name: &str) -> zfs_core::Result<()> {
    let name = PoolName::new(name)?;
    let dir = std::env::temp_dir().join(format!("make-mirror-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    let [first, second] = ["disk0", "disk1"].map(|d| dir.join(d));
    for disk in [&first, &second] {
        std::fs::File::create(disk)
            .and_then(|f| f.set_len(512 << 20))
            .expect("create a 512 MiB sparse file");
    }

    let zfs = Zfs::open()?;
    let pool = CreatePool::new(name.clone(), VdevSpec::new().file(&first))
        .pool_property("ashift", "12")
        .pool_property("cachefile", "none")
        .mountpoint("none")
        .create(&zfs)?;
    println!("created pool {name} on {}", first.display());

    // Some data, written through a filesystem mounted at a temporary directory.
    let data = DatasetName::new(format!("{name}/data"))?;
    CreateDataset::filesystem(data.clone())
        .property("mountpoint", "legacy")
        .property("compression", "off")
        .create(&zfs)?;
    let fs = zfs.dataset(&data)?;
    let mnt = dir.join("mnt");
    std::fs::create_dir_all(&mnt).expect("create a mount point");
    fs.mount_at(&mnt)?;
    let mut file = std::fs::File::create(mnt.join("blob")).expect("create a file");
    // Incompressible bytes (xorshift), so all 32 MiB take space and have to be copied.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut chunk = vec![0u8; 1 << 20];
    for _ in 0..32 {
        for word in chunk.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes());
        }
        file.write_all(&chunk).expect("write data");
    }
    file.sync_all().expect("sync data");
    drop(file);
    fs.unmount(&UnmountOptions::new())?;
    drop(fs);
    pool.sync()?;
    println!("wrote 32 MiB to {data}");

    // zpool attach POOL disk0 disk1: disk0 becomes mirror-0 with disk1, resilvered.
    pool.attach(&first, &Leaf::file(&second), &AttachOptions::new())?;
    println!("attached {}; resilvering", second.display());
    let waited = zfs.wait(&name, WaitActivity::Resilver)?;
    let status = pool.status()?;
    let scan = status.scan.expect("a resilver ran");
    assert!(scan.is_resilver && scan.state == ScanState::Finished);
    println!(
        "resilver finished (waited: {waited}): {} bytes examined, {} errors",
        scan.examined, scan.errors
    );
    for top in &status.root.children {
        println!("  {} {}", top.name, top.state);
        for side in &top.children {
            println!("    {} {}", side.name, side.state);
        }
    }

    // And back: zpool detach POOL disk1.
    pool.detach(&second)?;
    println!("detached {}", second.display());
    drop(pool);
    zfs.destroy_pool(&name)?;
    std::fs::remove_dir_all(&dir).ok();
    println!("destroyed pool {name}");
    Ok(())
}

fn main() -> ExitCode {
    let name = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "attachdemo".into());
    match run(&name) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
