//! Many threads opening, using and closing their own `Zfs` handles on one pool at once: the
//! documented "one `Zfs` per thread" pattern, for `ci/races` to run under valgrind's helgrind.
//!
//! `thread-stress [THREADS] [ROUNDS]` (default 8 threads, 3 rounds each). Each round opens a
//! handle, reads pool and dataset properties, lists, creates and destroys a filesystem of its
//! own, and closes the handle, so every libzfs init and fini overlaps other threads' calls.
//!
//! `thread-stress --canary` races on purpose (two threads write one variable without a lock):
//! `ci/races` runs it first and fails unless helgrind reports it, so a clean stress run means
//! something.
//!
//! Run as root where ZFS is loaded: `ci/vm target/debug/thread-stress`.

use std::sync::Barrier;

use zfs_core::testing::FilePool;
use zfs_core::{CreateDataset, DatasetName, DatasetTypes, DestroyOptions, Zfs};

static mut CANARY: u64 = 0;

#[inline(never)]
fn race_on_purpose() {
    let barrier = Barrier::new(2);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                barrier.wait();
                for _ in 0..1000 {
                    // SAFETY: none; this is the data race the canary exists to show.
                    unsafe {
                        let p = std::ptr::addr_of_mut!(CANARY);
                        p.write_volatile(p.read_volatile() + 1);
                    }
                }
            });
        }
    });
}

fn round(pool: &str, thread: usize, round: usize) -> zfs_core::Result<()> {
    let zfs = Zfs::open()?;
    let p = zfs.pool(&zfs_core::PoolName::new(pool)?)?;
    p.property("ashift")?;
    p.property("feature@zstd_compress")?;
    p.status()?;
    drop(p);
    let name = DatasetName::new(format!("{pool}/t{thread}r{round}"))?;
    CreateDataset::filesystem(name.clone())
        .property("compression", "lz4")
        .property("mountpoint", "none")
        .create(&zfs)?;
    let d = zfs.dataset(&zfs_core::AnyName::new(name.as_str()).unwrap())?;
    d.property("compression")?;
    d.set_property("org.example:round", &round.to_string())?;
    d.user_properties()?;
    drop(d);
    zfs.list_with(
        &zfs_core::DatasetName::new(pool).unwrap(),
        DatasetTypes::FILESYSTEM,
        &["used", "mountpoint"],
    )?;
    zfs.destroy(
        &zfs_core::AnyName::new(name.as_str()).unwrap(),
        &DestroyOptions::new(),
    )?;
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--canary") {
        race_on_purpose();
        println!("thread-stress: raced on purpose");
        return;
    }
    let threads: usize = args.first().map_or(8, |a| a.parse().expect("THREADS"));
    let rounds: usize = args.get(1).map_or(3, |a| a.parse().expect("ROUNDS"));
    let fixture = FilePool::builder()
        .prefix("stress")
        .create()
        .expect("a scratch pool (needs root and the zfs module)");
    let pool = fixture.name().as_str().to_owned();
    // No barrier: std's is built on futexes, which helgrind cannot see, so it would report
    // the threads' first accesses as races. They overlap anyway: each round is many calls.
    std::thread::scope(|s| {
        for t in 0..threads {
            let pool = &pool;
            s.spawn(move || {
                for r in 0..rounds {
                    round(pool, t, r).unwrap_or_else(|e| panic!("thread {t} round {r}: {e}"));
                }
            });
        }
    });
    println!("thread-stress: {threads} threads x {rounds} rounds done");
}
