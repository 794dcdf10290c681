//! Issue 5's question: what does it cost to build the layout under a temporary pool name and
//! rename it (export, import under the final name) so `zroot` never exists half-made, against
//! the journal property alone? Prints medians of several fresh applies of the guide's layout.
//!
//! Run as root where ZFS is loaded: `ci/vm target/release/layout-strategies [RUNS]`.

use std::time::Duration;

use impermanence_layout::{apply, ApplyOptions};
use zfs_bench::{median, secs, sparse_file, timed};
use zfs_core::{ImportOptions, PoolName, Zfs};

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .map_or(5, |a| a.parse().expect("RUNS is a number"));
    let zfs = Zfs::open().expect("needs root and the zfs module");
    let final_name = format!("zrootbench{}", std::process::id());
    let temp_name = format!("{final_name}-building");
    let (mut journal, mut renamed, mut export_import) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        // The journal strategy: build under the final name.
        let dir = tempfile::tempdir().unwrap();
        let vdev = sparse_file(dir.path(), "vdev", 1 << 30);
        let plan = zfs_bench::guide::plan(&final_name, &vdev);
        let (t, r) = timed(|| apply(&zfs, &plan, ApplyOptions::new()));
        r.expect("apply");
        journal.push(t);
        zfs.destroy_pool(&PoolName::new(final_name.as_str()).unwrap())
            .unwrap();

        // The rename strategy: build under a temporary name, then export and import.
        let dir = tempfile::tempdir().unwrap();
        let vdev = sparse_file(dir.path(), "vdev", 1 << 30);
        let plan = zfs_bench::guide::plan(&temp_name, &vdev);
        let (t_apply, r) = timed(|| apply(&zfs, &plan, ApplyOptions::new()));
        r.expect("apply");
        let (t_rename, r) = timed(|| {
            let tmp = PoolName::new(temp_name.as_str()).unwrap();
            zfs.export_pool(&tmp, &zfs_core::ExportOptions::new())?;
            zfs.import_pool(
                &tmp,
                &ImportOptions::new()
                    .dir(dir.path())
                    .new_name(PoolName::new(final_name.as_str()).unwrap()),
            )
            .map(drop)
        });
        r.expect("export and import under the final name");
        renamed.push(t_apply + t_rename);
        export_import.push(t_rename);
        zfs.destroy_pool(&PoolName::new(final_name.as_str()).unwrap())
            .unwrap();
        eprintln!(
            "run {}: journal {} s, temporary name {} s (of which export+import {} s)",
            run + 1,
            secs(journal[run]),
            secs(renamed[run]),
            secs(t_rename)
        );
    }
    let (j, r, e) = (median(journal), median(renamed), median(export_import));
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!("strategy                       median s   vs journal");
    println!("journal only                   {:>8}   1.00", secs(j));
    println!(
        "temporary name + rename        {:>8}   {:.2}",
        secs(r),
        ratio(r, j)
    );
    println!(
        "  of which export + import     {:>8}   {:.2}",
        secs(e),
        ratio(e, j)
    );
    println!(
        "runs: {runs}, OpenZFS {}",
        zfs_core::Versions::detect().userland
    );
}
