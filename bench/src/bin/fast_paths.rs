//! The in-kernel fast paths against the paths they replace, on one pool in one VM boot.
//!
//! Recursive destroy: a tree of N filesystems with a snapshot each (made by one batch create
//! and one atomic snapshot call, untimed), destroyed by `Zfs::destroy` recursively through
//! one channel program (the default), through one kernel call per object
//! (`one_call_per_object`), and by the raw libzfs_core loop of docs/fast-paths.md's table (each
//! filesystem's snapshot, then the filesystem). Two more columns say where the program's
//! time goes: listing the tree as the destroy does (libzfs iteration, three properties), and
//! the floor, the same destroys by one program given the names (nothing read). Medians of
//! `--runs` runs; ratios inside one run.
//!
//! User properties: N filesystems, one user property set on each by
//! `Zfs::change_user_properties` (one program), by the same call one change at a time, and by
//! the raw libzfs loop (`zfs_prop_set` per filesystem); then a recursive inherit of it, by one
//! program and one call per object.
//!
//! Listing: the same N filesystems with a snapshot each, read with three properties by
//! libzfs iteration (`Zfs::list_with`) and by one read-only (no-sync) channel program walking
//! the tree in the kernel, with and without the properties: where a listing's time goes.
//!
//! Calls that are one transaction group already: N bookmarks (of N filesystems' snapshots) by
//! one `Zfs::bookmark` call against one call each, and the N snapshots renamed by one
//! recursive `Zfs::rename` against one rename each.
//!
//! `ci/vm target/release/fast-paths [--n 10,100,1000] [--runs 3] [--only destroy,props,list,batch]
//! | tee OUT`, then `fast-paths --replot OUT SVG` on the host draws the plot from the printed
//! tables (the VM sees the host's files read-only; several runs' outputs in one file make one
//! plot).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use zfs_bench::raw::Raw;
use zfs_bench::work::{measured, median_work, Work};
use zfs_bench::{median, secs, timed};
use zfs_core::testing::FilePool;
use zfs_core::{
    BookmarkName, CreateDataset, DatasetName, DatasetTypes, DestroyOptions, InheritOptions,
    ProgramOptions, ProgramTable, PropertyBatchOptions, RenameOptions, SnapshotName,
    UserPropertyChange, Zfs,
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
    let mut only: Vec<String> = ["destroy", "props", "list", "batch"]
        .map(String::from)
        .to_vec();
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.first().map(String::as_str) == Some("--replot") && argv.len() == 3 {
        // Redraw from a run's saved output (no ZFS needed).
        let text = std::fs::read_to_string(&argv[1]).expect("read the saved output");
        let figures = zfs_bench::fast_plot::parse(&text);
        std::fs::write(&argv[2], zfs_bench::fast_plot::svg(&figures)).expect("write the plot");
        return;
    }
    for pair in argv.chunks(2) {
        match (pair[0].as_str(), pair.get(1)) {
            ("--n", Some(v)) => ns = v.split(',').map(|x| x.parse().expect("a number")).collect(),
            ("--runs", Some(v)) => runs = v.parse().expect("a number"),
            ("--only", Some(v)) => only = v.split(',').map(str::to_owned).collect(),
            ("--fast-only", Some(v)) => FAST_ONLY.store(v == "yes", Ordering::Relaxed),
            _ => {
                panic!("usage: fast-paths [--n 10,100,1000] [--runs 3] [--only destroy,props,list,batch] [--fast-only yes] | --replot SAVED_OUTPUT SVG")
            }
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
    if only.iter().any(|o| o == "props") {
        properties(&zfs, &raw, &pool, &ns, runs);
    }
    if only.iter().any(|o| o == "list") {
        listing(&zfs, &raw, &pool, &ns, runs);
    }
    if only.iter().any(|o| o == "batch") {
        one_call_already(&zfs, &pool, &ns, runs);
    }
    if only.iter().any(|o| o == "destroy") {
        destroy(&zfs, &raw, &scratch, &ns, runs);
    }
}

/// The recursive destroy's paths, and where the program's time goes.
fn destroy(zfs: &Zfs, raw: &Raw, scratch: &FilePool, ns: &[usize], runs: usize) {
    let pool = scratch.name().to_string();
    println!("| recursive destroy, N filesystems with a snapshot each | N | program s | one call per object s | raw loop s | raw / program | per object / program | of which: listing s | floor: the program alone s |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut work_rows = Vec::new();
    for &n in ns {
        let mut times: [Vec<Duration>; 5] = Default::default();
        let mut works: [Vec<Work>; 5] = Default::default();
        for run in 0..runs {
            for (i, how) in ["program", "per-object", "raw", "list", "kernel"]
                .into_iter()
                .enumerate()
            {
                let parent = format!("{pool}/{how}-{n}-{run}");
                let names = tree(zfs, &parent, n);
                let name = DatasetName::new(parent.as_str()).unwrap();
                let (t, w, ()) = measured(&pool, || match how {
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
                works[i].push(w);
            }
        }
        work_rows.push(work_row(n, &works));
        let [program, per_object, raw_loop, list, kernel] = times.map(median);
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
    print_work(
        "recursive destroy",
        &[
            "program",
            "one call per object",
            "raw loop",
            "listing",
            "the program alone",
        ],
        &work_rows,
    );
}

/// Runs `f`, its wall time into `times` and its work on `pool` into `works`.
fn metered<T>(
    pool: &str,
    times: &mut Vec<Duration>,
    works: &mut Vec<Work>,
    f: impl FnOnce() -> T,
) -> T {
    let (t, w, out) = measured(pool, f);
    times.push(t);
    works.push(w);
    out
}

/// A column's median work as `txgs / ioctls`, `–` where it was not measured.
fn work_cell(v: &[Work]) -> String {
    if v.is_empty() {
        "–".into()
    } else {
        let w = median_work(v.to_vec());
        format!("{} / {}", w.txgs, w.ioctls)
    }
}

/// One row of a work table: N, then each column's `txgs / ioctls`.
fn work_row(n: usize, works: &[Vec<Work>]) -> String {
    let cells: Vec<String> = works.iter().map(|w| work_cell(w)).collect();
    format!("| | {n} | {} |", cells.join(" | "))
}

/// The work table that follows a time table: one `txgs / ioctls` cell per column.
fn print_work(title: &str, columns: &[&str], rows: &[String]) {
    println!();
    println!(
        "| work done: {title} | N | {} |",
        columns
            .iter()
            .map(|c| format!("{c}: txgs / ioctls"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("| --- | ---: |{}", " ---: |".repeat(columns.len()));
    for r in rows {
        println!("{r}");
    }
    println!();
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

/// `--fast-only yes`: for an N where the loops would take hours, only the batch program
/// (user properties) and the one-call columns (bookmarks, `rename -r`); the others print `–`
/// (the recursive inherit too: it reads its whole tree first, ~20 ms an object here).
static FAST_ONLY: AtomicBool = AtomicBool::new(false);

fn fast_only() -> bool {
    FAST_ONLY.load(Ordering::Relaxed)
}

/// A column's median, `–` where it was not measured.
fn cell(v: &[Duration]) -> String {
    if v.is_empty() {
        "–".into()
    } else {
        secs(median(v.to_vec()))
    }
}

/// `a / b` of two columns' medians, `–` where one was not measured.
fn ratio_cell(a: &[Duration], b: &[Duration]) -> String {
    if a.is_empty() || b.is_empty() {
        "–".into()
    } else {
        format!("{:.1}x", ratio(median(a.to_vec()), median(b.to_vec())))
    }
}

/// Setting and inheriting one user property on N filesystems.
fn properties(zfs: &Zfs, raw: &Raw, pool: &str, ns: &[usize], runs: usize) {
    println!("| user property on N filesystems | N | program s | one call per object s | raw loop s | raw / program | recursive inherit: program s | one call per object s | per object / program |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut work_rows = Vec::new();
    for &n in ns {
        let parent = format!("{pool}/props-{n}");
        let names = tree(zfs, &parent, n);
        let targets: Vec<DatasetName> = names
            .iter()
            .map(|n| DatasetName::new(n.as_str()).unwrap())
            .collect();
        let top = zfs
            .dataset(&DatasetName::new(parent.as_str()).unwrap())
            .unwrap();
        let mut times: [Vec<Duration>; 5] = Default::default();
        let mut works: [Vec<Work>; 5] = Default::default();
        for run in 0..runs {
            let changes = |v: &str| -> Vec<UserPropertyChange> {
                targets
                    .iter()
                    .map(|t| UserPropertyChange::set(t, "bench:p", v))
                    .collect()
            };
            let (program, per_object) = (changes(&format!("p{run}")), changes(&format!("o{run}")));
            metered(pool, &mut times[0], &mut works[0], || {
                zfs.change_user_properties(&program, &PropertyBatchOptions::new())
                    .unwrap()
            });
            if fast_only() {
                continue;
            }
            metered(pool, &mut times[1], &mut works[1], || {
                zfs.change_user_properties(
                    &per_object,
                    &PropertyBatchOptions::new().one_call_per_object(true),
                )
                .unwrap()
            });
            metered(pool, &mut times[2], &mut works[2], || {
                raw.set(&names, "bench:p", &format!("r{run}"))
            });
            for (i, slow) in [(3, false), (4, true)] {
                let inherit = InheritOptions::new()
                    .recursive(true)
                    .one_call_per_object(slow);
                metered(pool, &mut times[i], &mut works[i], || {
                    top.inherit("bench:p", &inherit).unwrap()
                });
                // Set again for the next inherit (untimed).
                zfs.change_user_properties(&changes("again"), &PropertyBatchOptions::new())
                    .unwrap();
            }
        }
        work_rows.push(work_row(n, &works));
        let [program, per_object, raw_loop, inherit, inherit_slow] = &times;
        println!(
            "| | {n} | {} | {} | {} | {} | {} | {} | {} |",
            cell(program),
            cell(per_object),
            cell(raw_loop),
            ratio_cell(raw_loop, program),
            cell(inherit),
            cell(inherit_slow),
            ratio_cell(inherit_slow, inherit),
        );
        if fast_only() {
            continue; // the pool goes whole at the end
        }
        zfs.destroy(
            &DatasetName::new(parent.as_str()).unwrap(),
            &DestroyOptions::new().recursive(true),
        )
        .unwrap();
    }
    print_work(
        "user property on N filesystems",
        &[
            "program",
            "one call per object",
            "raw loop",
            "recursive inherit: program",
            "one call per object",
        ],
        &work_rows,
    );
}

/// A read-only program that walks `root`'s tree (filesystems, volumes, snapshots) and
/// returns each object's name, with `props` when asked.
const WALK: &str = r#"
local a = ...
local out, n = {}, 0
local function visit(ds)
    n = n + 1
    local row = {ds}
    for _, p in ipairs(a.props or {}) do row[#row + 1] = zfs.get_prop(ds, p) end
    out[n] = row
    for s in zfs.list.snapshots(ds) do n = n + 1; out[n] = {s} end
    for c in zfs.list.children(ds) do visit(c) end
end
visit(a.root)
return {n = n, rows = out}
"#;

/// Reading a tree of N filesystems with a snapshot each: libzfs iteration against a program.
fn listing(zfs: &Zfs, raw: &Raw, pool: &str, ns: &[usize], runs: usize) {
    println!("| listing N filesystems with a snapshot each | N | libzfs, 3 properties s | raw libzfs, filesystems only, 3 properties s | program, names s | program, 3 properties s | libzfs / program with properties |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let props = ["mountpoint", "canmount", "type"];
    for &n in ns {
        let parent = format!("{pool}/list-{n}");
        tree(zfs, &parent, n);
        let name = DatasetName::new(parent.as_str()).unwrap();
        let pool_name = name.pool();
        let walk = |with: bool| {
            let mut args = ProgramTable::new().with("root", parent.as_str());
            if with {
                args.insert("props", props.iter().copied().collect::<ProgramTable>());
            }
            let opts = ProgramOptions::new()
                .no_sync(true)
                .instruction_limit(100_000_000)
                .memory_limit(100 << 20)
                .args(args);
            let out = zfs.program(&pool_name, WALK, &opts).unwrap();
            assert_eq!(
                out.get("n").and_then(|v| v.as_u64()),
                Some(2 * n as u64 + 1)
            );
        };
        let mut times: [Vec<Duration>; 4] = Default::default();
        for _ in 0..runs {
            times[0].push(
                timed(|| {
                    let l = zfs.list_with(&name, DatasetTypes::all(), &props).unwrap();
                    assert_eq!(l.len(), 2 * n + 1);
                })
                .0,
            );
            times[1].push(timed(|| assert_eq!(raw.list(&parent, &props), n)).0);
            times[2].push(timed(|| walk(false)).0);
            times[3].push(timed(|| walk(true)).0);
        }
        let [libzfs, raw_fs, names, with] = times.map(median);
        println!(
            "| | {n} | {} | {} | {} | {} | {:.2}x |",
            secs(libzfs),
            secs(raw_fs),
            secs(names),
            secs(with),
            ratio(libzfs, with),
        );
        zfs.destroy(&name, &DestroyOptions::new().recursive(true))
            .unwrap();
    }
}

/// Bookmarks and a recursive snapshot rename: one call (one transaction group) against a loop.
fn one_call_already(zfs: &Zfs, pool: &str, ns: &[usize], runs: usize) {
    println!("| one kernel call already, N filesystems | N | bookmarks: one call s | one call each s | each / one | snapshot rename: recursive s | one rename each s | each / recursive |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut work_rows = Vec::new();
    for &n in ns {
        let parent = format!("{pool}/batch-{n}");
        let names = tree(zfs, &parent, n);
        let top = DatasetName::new(parent.as_str()).unwrap();
        zfs.snapshot(&[top.snapshot("b").unwrap()], &[]).unwrap();
        // Each filesystem's snapshot (named `current`, which the renames change) and a
        // bookmark of it.
        let marks = |current: &str, tag: &str| -> Vec<(SnapshotName, BookmarkName)> {
            names
                .iter()
                .map(|n| {
                    let fs = DatasetName::new(n.as_str()).unwrap();
                    (fs.snapshot(current).unwrap(), fs.bookmark(tag).unwrap())
                })
                .collect()
        };
        let mut times: [Vec<Duration>; 4] = Default::default();
        let mut works: [Vec<Work>; 4] = Default::default();
        let mut current = "b".to_owned();
        for run in 0..runs {
            let one = marks(&current, &format!("one{run}"));
            metered(pool, &mut times[0], &mut works[0], || {
                zfs.bookmark(&one).unwrap()
            });
            let next = format!("r{run}");
            let from = top.snapshot(&current).unwrap();
            let to = top.snapshot(&next).unwrap();
            metered(pool, &mut times[2], &mut works[2], || {
                zfs.rename(&from, &to, &RenameOptions::new().recursive(true))
                    .unwrap()
            });
            current = next.clone();
            if fast_only() {
                continue;
            }
            let each = marks(&current, &format!("each{run}"));
            metered(pool, &mut times[1], &mut works[1], || {
                for pair in &each {
                    zfs.bookmark(std::slice::from_ref(pair)).unwrap();
                }
            });
            let back = format!("e{run}");
            metered(pool, &mut times[3], &mut works[3], || {
                let mut all = names.clone();
                all.push(parent.clone());
                for fs in &all {
                    let fs = DatasetName::new(fs.as_str()).unwrap();
                    zfs.rename(
                        &fs.snapshot(&next).unwrap(),
                        &fs.snapshot(&back).unwrap(),
                        &RenameOptions::new(),
                    )
                    .unwrap();
                }
            });
            current = back;
        }
        work_rows.push(work_row(n, &works));
        let [one, each, recursive, renames] = &times;
        println!(
            "| | {n} | {} | {} | {} | {} | {} | {} |",
            cell(one),
            cell(each),
            ratio_cell(each, one),
            cell(recursive),
            cell(renames),
            ratio_cell(renames, recursive),
        );
        if fast_only() {
            continue;
        }
        zfs.destroy(&top, &DestroyOptions::new().recursive(true))
            .unwrap();
    }
    print_work(
        "one kernel call already",
        &[
            "bookmarks: one call",
            "one call each",
            "snapshot rename: recursive",
            "one rename each",
        ],
        &work_rows,
    );
}
