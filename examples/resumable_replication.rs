//! Replicates a filesystem from one pool to another with a resumable receive, as
//! `zfs send SNAP | zfs receive -s TARGET` and, after the connection drops,
//! `zfs send -t TOKEN | zfs receive -s TARGET`: the second send carries only what the first
//! did not deliver. Then checks that the copy is the snapshot (same GUID) and destroys both
//! pools.
//!
//! Usage: `resumable-replication [PREFIX]` (as root, with the zfs module loaded). The pools
//! are `PREFIXsrc` and `PREFIXdst` on sparse files in a temporary directory. The streams go
//! through files here; a pipe or a socket (`ssh`) works the same, since every call takes any
//! file descriptor.
use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use zfs_core::{
    CreateDataset, CreatePool, DatasetName, PoolName, ReceiveOptions, SendFlags, SnapshotName,
    UnmountOptions, VdevSpec, Zfs,
};

/// A pool on a 512 MiB sparse file.
fn pool(zfs: &Zfs, name: &PoolName, dir: &Path) -> zfs_core::Result<()> {
    let vdev = dir.join(name.as_str());
    File::create(&vdev)
        .and_then(|f| f.set_len(512 << 20))
        .expect("create a sparse file");
    CreatePool::new(name.clone(), VdevSpec::new().file(&vdev))
        .pool_property("cachefile", "none")
        .mountpoint("none")
        .create(zfs)?;
    Ok(())
}

/// 24 MiB of incompressible bytes in `fs`, through a temporary legacy mount.
fn fill(zfs: &Zfs, fs: &DatasetName, dir: &Path) -> zfs_core::Result<()> {
    CreateDataset::filesystem(fs.clone())
        .property("mountpoint", "legacy")
        .create(zfs)?;
    let handle = zfs.dataset(fs)?;
    let mnt = dir.join("mnt");
    std::fs::create_dir_all(&mnt).expect("create a mount point");
    handle.mount_at(&mnt)?;
    let mut file = File::create(mnt.join("blob")).expect("create a file");
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut chunk = vec![0u8; 1 << 20];
    for _ in 0..24 {
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
    handle.unmount(&UnmountOptions::new())
}

/// Copies the first `limit` bytes of `from` to `to`: a connection that drops mid-stream.
fn relay(from: &Path, to: &Path, limit: u64) -> u64 {
    let mut input = File::open(from).expect("open the stream").take(limit);
    let mut output = File::create(to).expect("create the relayed stream");
    std::io::copy(&mut input, &mut output).expect("relay the stream")
}

fn run(prefix: &str) -> zfs_core::Result<()> {
    let dir = std::env::temp_dir().join(format!("resumable-replication-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    let (src, dst) = (
        PoolName::new(format!("{prefix}src"))?,
        PoolName::new(format!("{prefix}dst"))?,
    );
    let zfs = Zfs::open()?;
    pool(&zfs, &src, &dir)?;
    pool(&zfs, &dst, &dir)?;
    let data = DatasetName::new(format!("{src}/data"))?;
    fill(&zfs, &data, &dir)?;
    let monday = SnapshotName::new(format!("{data}@monday"))?;
    zfs.snapshot(std::slice::from_ref(&monday), &[])?;
    println!("source: {monday}, 24 MiB");

    // zfs send src/data@monday > stream; only 40% of it arrives.
    let (stream, arrived) = (dir.join("stream"), dir.join("arrived"));
    zfs.send(
        &monday,
        None,
        File::create(&stream).expect("create"),
        SendFlags::COMPRESS,
    )?;
    let total = std::fs::metadata(&stream).expect("stream size").len();
    let delivered = relay(&stream, &arrived, total * 2 / 5);
    println!("sent {total} bytes; the connection dropped after {delivered}");

    // zfs receive -s -u dst/data < arrived: fails, and keeps what it got.
    let target = DatasetName::new(format!("{dst}/data"))?;
    let opts = ReceiveOptions::new().resumable(true).no_mount(true);
    let arrived_file = File::open(&arrived).expect("open");
    if let Err(e) = zfs.receive(&target, arrived_file, &opts) {
        println!("receive interrupted: {e}");
    }
    let token = zfs
        .dataset(&target)?
        .receive_resume_token()?
        .expect("an interrupted resumable receive leaves a token");
    println!(
        "resume token: {} bytes of {} received",
        token.bytes, token.to_name
    );

    // zfs send -t TOKEN > rest; zfs receive -s -u dst/data < rest.
    let rest = dir.join("rest");
    zfs.send_resume(&token, File::create(&rest).expect("create"))?;
    let rest_len = std::fs::metadata(&rest).expect("rest size").len();
    zfs.receive(&target, File::open(&rest).expect("open"), &opts)?;
    println!("resumed: {rest_len} more bytes, receive complete");

    let copy = SnapshotName::new(format!("{target}@monday"))?;
    let guid = |s: &SnapshotName| -> zfs_core::Result<String> {
        Ok(zfs.dataset(s)?.property("guid")?.value)
    };
    let same = guid(&copy)? == guid(&monday)?;
    println!("{copy} is {monday}: {same}");
    assert!(same, "the received snapshot must be the sent one");

    zfs.destroy_pool(&src)?;
    zfs.destroy_pool(&dst)?;
    std::fs::remove_dir_all(&dir).ok();
    println!("destroyed pools {src} and {dst}");
    Ok(())
}

fn main() -> ExitCode {
    let prefix = std::env::args().nth(1).unwrap_or_else(|| "repl".into());
    match run(&prefix) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
