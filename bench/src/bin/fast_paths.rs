//! The in-kernel fast paths against the paths they replace, on one pool in one VM boot.
//!
//! Recursive destroy: a tree of N filesystems with a snapshot each (made by one batch create
//! and one atomic snapshot call, untimed), destroyed by `Zfs::destroy` recursively through
//! one channel program (the default), through one kernel call per object
//! (`one_call_per_object`), and by the raw libzfs_core loop of the README's table (each
//! filesystem's snapshot, then the filesystem). Two more columns say where the program's
//! time goes: listing the tree as the destroy does (libzfs iteration, three properties), and
//! the floor, the same destroys by one program given the names (nothing read). Medians of
//! `--runs` runs; ratios inside one run.
//!
//! `ci/vm target/release/fast-paths [--n 10,100,1000] [--runs 3]`

use std::time::Duration;

use zfs_bench::raw::Raw;
use zfs_bench::{median, secs, timed};
use zfs_core::testing::FilePool;
use zfs_core::{
    CreateDataset, DatasetName, DatasetTypes, DestroyOptions, ProgramOptions, ProgramTable,
    SnapshotName, Zfs,
};

/// `parent` with `n` children, each with the snapshot `@b`; the children's names.
fn tree(zfs: &Zfs, parent: &str, n: usize) -> Vec<String> {
    let names: Vec<String> = (0..n).map(|i| format!("{parent}/fs{i:05}")).collect();
    let mut batch = vec![CreateDataset::filesystem(DatasetName::new(parent).unwrap())];
    batch.extend(
        names
            .iter()
            .map(|n| CreateDataset::filesystem(DatasetName::new(n.as_str()).unwrap())),
    );
    zfs.create_datasets(&batch).unwrap();
    let snaps: Vec<SnapshotName> = names
        .iter()
        .map(|n| SnapshotName::new(format!("{n}@b")).unwrap())
        .collect();
    zfs.snapshot(&snaps, &[]).unwrap();
    names
}

fn main() {
    let mut ns = vec![10, 100, 1000];
    let mut runs = 3;
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        match (pair[0].as_str(), pair.get(1)) {
            ("--n", Some(v)) => ns = v.split(',').map(|x| x.parse().expect("a number")).collect(),
            ("--runs", Some(v)) => runs = v.parse().expect("a number"),
            _ => panic!("usage: fast-paths [--n 10,100,1000] [--runs 3]"),
        }
    }
    let zfs = Zfs::open().expect("needs root and the zfs module");
    let raw = Raw::open();
    let scratch = FilePool::builder()
        .prefix("zfast")
        .size(4 << 30)
        .create()
        .expect("create the benchmark pool");
    let pool = scratch.name().to_string();
    println!("| recursive destroy, N filesystems with a snapshot each | N | program s | one call per object s | raw loop s | raw / program | per object / program | of which: listing s | floor: the program alone s |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for &n in &ns {
        let mut times: [Vec<Duration>; 5] = Default::default();
        for run in 0..runs {
            for (i, how) in ["program", "per-object", "raw", "list", "kernel"]
                .into_iter()
                .enumerate()
            {
                let parent = format!("{pool}/{how}-{n}-{run}");
                let names = tree(&zfs, &parent, n);
                let name = DatasetName::new(parent.as_str()).unwrap();
                let (t, ()) = timed(|| match how {
                    "program" => zfs
                        .destroy(&name, &DestroyOptions::new().recursive(true))
                        .unwrap(),
                    "per-object" => zfs
                        .destroy(
                            &name,
                            &DestroyOptions::new()
                                .recursive(true)
                                .one_call_per_object(true),
                        )
                        .unwrap(),
                    "raw" => raw.destroy(&names, "b"),
                    // What the destroy reads first: the tree with three properties.
                    "list" => {
                        let listed = zfs
                            .list_with(
                                &name,
                                DatasetTypes::all(),
                                &["mountpoint", "mounted", "canmount"],
                            )
                            .unwrap();
                        assert_eq!(listed.len(), 2 * n + 1);
                    }
                    // The floor: the same destroys by one program, names given, nothing read.
                    _ => {
                        let mut order: Vec<&str> = Vec::new();
                        let snaps: Vec<String> = names.iter().map(|n| format!("{n}@b")).collect();
                        order.extend(snaps.iter().map(String::as_str));
                        order.extend(names.iter().map(String::as_str));
                        order.push(parent.as_str());
                        let opts = ProgramOptions::new()
                            .instruction_limit(100_000_000)
                            .memory_limit(100 << 20)
                            .arg("order", order.into_iter().collect::<ProgramTable>());
                        let script = "for _, o in ipairs((...).order) do assert(zfs.sync.destroy(o) == 0) end";
                        zfs.program(scratch.name(), script, &opts).unwrap();
                    }
                });
                if how == "raw" || how == "list" {
                    zfs.destroy(&name, &DestroyOptions::new().recursive(true))
                        .unwrap();
                }
                times[i].push(t);
            }
        }
        let [program, per_object, raw_loop, list, kernel] = times.map(median);
        let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
        println!(
            "| | {n} | {} | {} | {} | {:.1}x | {:.1}x | {} | {} |",
            secs(program),
            secs(per_object),
            secs(raw_loop),
            ratio(raw_loop, program),
            ratio(per_object, program),
            secs(list),
            secs(kernel)
        );
    }
}
