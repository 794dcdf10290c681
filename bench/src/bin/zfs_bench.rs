//! zfs-core against the `zfs` CLI and raw libzfs-sys calls, on one pool in one VM boot.
//!
//! For each N and each column it creates N filesystems, sets a property on each, lists them
//! with five properties, snapshots them all in one atomic call, and destroys them; every
//! operation is timed over several runs and the median kept. Prints a table and writes JSON.
//!
//! `ci/vm target/release/zfs-bench [--n 10,100] [--runs 3] [--cli-max 10] [--json F] [--svg F]
//! [--columns cli,raw,zfs-core,zfs-core batch] [--guide-runs R]`
//!
//! Then it lays down the guide's whole layout `--guide-runs` times (default: `--runs`; 0 skips
//! it) with the guide's own shell commands and with `impermanence-layout`, each on a fresh file
//! vdev, and prints both medians.
//!
//! `zfs-bench --replot JSON SVG` draws the plot again from a saved run (no ZFS needed).
//!
//! The CLI column runs only up to `--cli-max` objects: one process per object costs about a
//! second each under software emulation.

use std::process::Command;
use std::time::Duration;

use impermanence_layout::{apply, ApplyOptions};
use zfs_bench::raw::Raw;
use zfs_bench::work::{measured, median_work, Work};
use zfs_bench::{guide, median, secs, sparse_file, timed};
use zfs_core::testing::FilePool;
use zfs_core::{
    CreateDataset, DatasetName, DatasetTypes, DestroyOptions, PoolName, SnapshotName, Zfs,
};

const OPS: [&str; 5] = ["create", "set", "list", "snapshot", "destroy"];
const COLUMNS: [&str; 4] = ["cli", "raw", "zfs-core", "zfs-core batch"];
const LIST_PROPS: [&str; 5] = [
    "used",
    "available",
    "referenced",
    "mountpoint",
    "compression",
];

fn zfs_cli(args: &[&str]) {
    let out = Command::new("zfs").args(args).output().expect("run zfs");
    assert!(
        out.status.success(),
        "zfs {}: {}",
        args.first().unwrap_or(&""),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One column doing all five operations on `names` under `parent`; times and work done in OPS
/// order (the CLI's ioctls are its processes', not counted here).
fn run_column(
    column: &str,
    zfs: &Zfs,
    raw: &Raw,
    parent: &str,
    names: &[String],
) -> [(Duration, Work); 5] {
    let pool = parent.split('/').next().unwrap_or(parent);
    if column == "zfs-core batch" {
        // Only creation differs from the zfs-core column.
        let batch: Vec<_> = names
            .iter()
            .map(|n| CreateDataset::filesystem(DatasetName::new(n.as_str()).unwrap()))
            .collect();
        let (create, create_w, r) = measured(pool, || zfs.create_datasets(&batch));
        r.unwrap();
        let opts = DestroyOptions::new().recursive(true);
        let (destroy, destroy_w, ()) = measured(pool, || {
            names.iter().for_each(|n| {
                zfs.destroy(&zfs_core::AnyName::new(n).unwrap(), &opts)
                    .unwrap()
            })
        });
        let none = (Duration::ZERO, Work::default());
        return [(create, create_w), none, none, none, (destroy, destroy_w)];
    }
    let dn = |n: &String| DatasetName::new(n.as_str()).unwrap();
    let snaps: Vec<String> = names.iter().map(|n| format!("{n}@b")).collect();
    let (create, create_w, ()) = measured(pool, || match column {
        "cli" => names.iter().for_each(|n| zfs_cli(&["create", n])),
        "raw" => raw.create(names),
        "zfs-core" => names.iter().for_each(|n| {
            zfs.create_dataset(&CreateDataset::filesystem(dn(n)))
                .unwrap();
        }),
        _ => {
            let batch: Vec<_> = names
                .iter()
                .map(|n| CreateDataset::filesystem(dn(n)))
                .collect();
            zfs.create_datasets(&batch).unwrap();
        }
    });
    let (set, set_w, ()) = measured(pool, || match column {
        "cli" => names
            .iter()
            .for_each(|n| zfs_cli(&["set", "compression=lz4", n])),
        "raw" => raw.set(names, "compression", "lz4"),
        _ => names.iter().for_each(|n| {
            zfs.dataset(&zfs_core::AnyName::new(n).unwrap())
                .unwrap()
                .set_property("compression", "lz4")
                .unwrap();
        }),
    });
    let (list, list_w, rows) = measured(pool, || match column {
        "cli" => {
            let out = Command::new("zfs")
                .args(["list", "-Hp", "-t", "filesystem", "-r", "-o"])
                .arg(format!("name,{}", LIST_PROPS.join(",")))
                .arg(parent)
                .output()
                .unwrap();
            assert!(out.status.success());
            String::from_utf8_lossy(&out.stdout).lines().count()
        }
        "raw" => raw.list(parent, &LIST_PROPS) + 1,
        _ => zfs
            .list_with(
                &zfs_core::DatasetName::new(parent).unwrap(),
                DatasetTypes::FILESYSTEM,
                &LIST_PROPS,
            )
            .unwrap()
            .len(),
    });
    assert_eq!(rows, names.len() + 1, "{column} listed {rows} rows");
    let (snapshot, snapshot_w, ()) = measured(pool, || match column {
        "cli" => {
            let mut args = vec!["snapshot"];
            args.extend(snaps.iter().map(String::as_str));
            zfs_cli(&args);
        }
        "raw" => raw.snapshot(names, "b"),
        _ => {
            let s: Vec<_> = snaps
                .iter()
                .map(|s| SnapshotName::new(s.as_str()).unwrap())
                .collect();
            zfs.snapshot(&s, &[]).unwrap();
        }
    });
    let (destroy, destroy_w, ()) = measured(pool, || match column {
        "cli" => names.iter().for_each(|n| zfs_cli(&["destroy", "-r", n])),
        "raw" => raw.destroy(names, "b"),
        // The same calls as the raw loop: each filesystem's snapshot, then the filesystem.
        _ => names.iter().for_each(|n| {
            zfs.destroy_snapshots(
                &[SnapshotName::new(format!("{n}@b")).unwrap()],
                &zfs_core::DestroySnapshotsOptions::new(),
            )
            .unwrap();
            zfs.destroy(&zfs_core::AnyName::new(n).unwrap(), &DestroyOptions::new())
                .unwrap();
        }),
    });
    [
        (create, create_w),
        (set, set_w),
        (list, list_w),
        (snapshot, snapshot_w),
        (destroy, destroy_w),
    ]
}

/// The guide's layout `runs` times by its shell commands and by impermanence-layout, each on a
/// fresh file vdev and destroyed after; (runs, median shell, median layout), or None for 0 runs.
fn guide_layout(zfs: &Zfs, runs: usize) -> Option<(usize, Duration, Duration)> {
    if runs == 0 {
        return None;
    }
    let pool = format!("zguide{}", std::process::id());
    let destroy = || {
        zfs.destroy_pool(&PoolName::new(pool.as_str()).unwrap())
            .unwrap()
    };
    let (mut shell, mut layout) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let dir = tempfile::tempdir().unwrap();
        let vdev = sparse_file(dir.path(), "shell.img", 1 << 30);
        let (t, ()) = timed(|| guide::run_shell(&pool, &vdev));
        shell.push(t);
        destroy();
        let vdev = sparse_file(dir.path(), "layout.img", 1 << 30);
        let plan = guide::plan(&pool, &vdev);
        let (t, r) = timed(|| apply(zfs, &plan, ApplyOptions::new()));
        r.expect("apply the guide's layout");
        layout.push(t);
        destroy();
        eprintln!(
            "guide layout run {}: shell {} s, impermanence-layout {} s",
            run + 1,
            secs(shell[run]),
            secs(layout[run])
        );
    }
    Some((runs, median(shell), median(layout)))
}

struct Args {
    ns: Vec<usize>,
    runs: usize,
    cli_max: usize,
    json: Option<String>,
    svg: Option<String>,
    columns: Vec<String>,
    guide_runs: Option<usize>,
}

fn args() -> Args {
    let mut a = Args {
        ns: vec![10, 100],
        runs: 3,
        cli_max: 10,
        json: None,
        svg: None,
        columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
        guide_runs: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--n" => {
                a.ns = v
                    .split(',')
                    .map(|x| x.parse().expect("--n 10,100"))
                    .collect()
            }
            "--runs" => a.runs = v.parse().expect("--runs N"),
            "--cli-max" => a.cli_max = v.parse().expect("--cli-max N"),
            "--json" => a.json = Some(v),
            "--svg" => a.svg = Some(v),
            "--guide-runs" => a.guide_runs = Some(v.parse().expect("--guide-runs R")),
            "--columns" => {
                a.columns = v.split(',').map(str::to_owned).collect();
                if let Some(c) = a.columns.iter().find(|c| !COLUMNS.contains(&c.as_str())) {
                    panic!("unknown column {c}; the columns are {}", COLUMNS.join(","));
                }
            }
            _ => panic!("unknown option {k}"),
        }
    }
    a
}

/// `--replot JSON SVG`: draws the plot again from a saved run.
fn replot(json: &str, svg: &str) {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).expect("read JSON")).expect("JSON");
    let rows = doc["rows"].as_array().expect("rows");
    let mut ns: Vec<usize> = rows
        .iter()
        .map(|r| r["n"].as_u64().unwrap() as usize)
        .collect();
    ns.sort_unstable();
    ns.dedup();
    let get = |n: usize, col: &str, op: usize| {
        rows.iter()
            .find(|r| r["n"].as_u64() == Some(n as u64) && r["operation"] == OPS[op])
            .and_then(|r| r["median_seconds"][col].as_f64())
            .unwrap_or(f64::NAN)
    };
    std::fs::write(svg, zfs_bench::plot::svg(&ns, &OPS, &COLUMNS, &get)).expect("write SVG");
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("--replot") && argv.len() == 4 {
        return replot(&argv[2], &argv[3]);
    }
    let a = args();
    let zfs = Zfs::open().expect("needs root and the zfs module");
    let raw = Raw::open();
    // Destroyed with its file when dropped, also on a panic.
    let scratch = FilePool::builder()
        .prefix("zbench")
        .size(4 << 30)
        .create()
        .expect("create the benchmark pool");
    let pool_name = scratch.name().to_string();

    // results[n][column][op] = median
    let mut rows = Vec::new();
    for &n in &a.ns {
        for column in COLUMNS {
            if !a.columns.iter().any(|c| c == column) || (column == "cli" && n > a.cli_max) {
                // One process per object costs about a second each under emulation.
                continue;
            }
            let mut per_op: Vec<Vec<Duration>> = vec![Vec::new(); OPS.len()];
            let mut work_per_op: Vec<Vec<Work>> = vec![Vec::new(); OPS.len()];
            for run in 0..a.runs {
                let parent = format!("{pool_name}/{}-{n}-{run}", column.replace(' ', "-"));
                zfs.create_dataset(&CreateDataset::filesystem(
                    DatasetName::new(parent.as_str()).unwrap(),
                ))
                .unwrap();
                let names: Vec<String> = (0..n).map(|i| format!("{parent}/fs{i:05}")).collect();
                let t = run_column(column, &zfs, &raw, &parent, &names);
                for (i, (d, w)) in t.into_iter().enumerate() {
                    per_op[i].push(d);
                    work_per_op[i].push(w);
                }
                zfs.destroy(
                    &zfs_core::AnyName::new(&parent).unwrap(),
                    &DestroyOptions::new(),
                )
                .unwrap();
            }
            let medians: Vec<Duration> = per_op.into_iter().map(median).collect();
            eprintln!(
                "N={n:<5} {column:<15} {}",
                OPS.iter()
                    .zip(&medians)
                    .map(|(o, d)| format!("{o} {}", secs(*d)))
                    .collect::<Vec<_>>()
                    .join("  ")
            );
            let works: Vec<Work> = work_per_op.into_iter().map(median_work).collect();
            rows.push((n, column, medians, works));
        }
    }
    drop(scratch);
    let guide = guide_layout(&zfs, a.guide_runs.unwrap_or(a.runs));

    let get = |n: usize, col: &str, op: usize| {
        rows.iter()
            .find(|(rn, c, _, _)| *rn == n && *c == col)
            .map_or(f64::NAN, |(_, _, m, _)| m[op].as_secs_f64())
    };
    let work = |n: usize, col: &str, op: usize| {
        rows.iter()
            .find(|(rn, c, _, _)| *rn == n && *c == col)
            .map(|(_, _, _, w)| w[op])
    };
    println!(
        "| operation | N | CLI s | raw FFI s | zfs-core s | zfs-core batch s | CLI / zfs-core | zfs-core / raw | batch / raw |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut json = Vec::new();
    for (op_i, op) in OPS.iter().enumerate() {
        for &n in &a.ns {
            let (cli, rawt, core, batch) = (
                get(n, "cli", op_i),
                get(n, "raw", op_i),
                get(n, "zfs-core", op_i),
                get(n, "zfs-core batch", op_i),
            );
            let cell = |v: f64| {
                if v.is_nan() {
                    "–".to_owned()
                } else {
                    format!("{v:.3}")
                }
            };
            let ratio = |v: f64| {
                if v.is_nan() {
                    "–".to_owned()
                } else {
                    format!("{v:.2}")
                }
            };
            // Only creation differs between the zfs-core and batch columns.
            let (batch_cell, batch_ratio) = if *op == "create" {
                (cell(batch), ratio(batch / rawt))
            } else {
                ("=".into(), "".into())
            };
            println!(
                "| {op} | {n} | {} | {} | {} | {batch_cell} | {} | {} | {batch_ratio} |",
                cell(cli),
                cell(rawt),
                cell(core),
                ratio(cli / core),
                ratio(core / rawt)
            );
            json.push(serde_json::json!({
                "operation": op, "n": n, "runs": a.runs,
                "median_seconds": {"cli": cli, "raw": rawt, "zfs-core": core, "zfs-core batch": batch},
            }));
        }
    }
    println!("\n| work done: operation | N | CLI txgs | raw FFI txgs / ioctls | zfs-core txgs / ioctls | zfs-core batch txgs / ioctls |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (op_i, op) in OPS.iter().enumerate() {
        for &n in &a.ns {
            let both = |col: &str| {
                work(n, col, op_i)
                    .map_or("–".to_owned(), |w| format!("{} / {}", w.txgs, w.ioctls))
            };
            let batch = if *op == "create" {
                both("zfs-core batch")
            } else {
                "=".into()
            };
            println!(
                "| {op} | {n} | {} | {} | {} | {batch} |",
                work(n, "cli", op_i).map_or("–".to_owned(), |w| w.txgs.to_string()),
                both("raw"),
                both("zfs-core"),
            );
            if let Some(row) = json
                .iter_mut()
                .find(|r| r["operation"] == *op && r["n"] == n)
            {
                let mut cols = serde_json::Map::new();
                for col in COLUMNS {
                    if let Some(w) = work(n, col, op_i) {
                        cols.insert(
                            col.into(),
                            serde_json::json!({"txgs": w.txgs, "ioctls": w.ioctls}),
                        );
                    }
                }
                row["median_work"] = serde_json::Value::Object(cols);
            }
        }
    }
    let versions = zfs_core::Versions::detect();
    println!(
        "\nmedians of {} runs; OpenZFS {} (kernel module {}); QEMU software emulation when run by ci/vm",
        a.runs,
        versions.userland,
        versions.kernel.as_deref().unwrap_or("?")
    );
    let guide_json = guide.map(|(runs, shell, layout)| {
        println!(
            "\n| guide layout | shell commands s | impermanence-layout s | shell / layout |\n\
             | --- | ---: | ---: | ---: |\n\
             | pool + 5 datasets + snapshot | {} | {} | {:.2} |\n\nmedians of {runs} runs",
            secs(shell),
            secs(layout),
            shell.as_secs_f64() / layout.as_secs_f64()
        );
        serde_json::json!({"runs": runs, "median_seconds": {
            "shell": shell.as_secs_f64(), "impermanence-layout": layout.as_secs_f64()}})
    });
    if let Some(path) = a.json {
        let doc = serde_json::json!({"openzfs": versions.userland, "runs": a.runs, "rows": json,
            "guide_layout": guide_json});
        std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    }
    if let Some(path) = a.svg {
        std::fs::write(&path, zfs_bench::plot::svg(&a.ns, &OPS, &COLUMNS, &get)).unwrap();
    }
}
