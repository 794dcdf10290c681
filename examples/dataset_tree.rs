//! Scripts a small dataset tree with properties and snapshots on an existing pool: what people
//! otherwise do with a shell loop over `zfs create -o ...` and `zfs snapshot -r`.
//!
//! Usage: `dataset-tree POOL` (as root). Creates POOL/demo/{home/alice,home/bob,srv/www} with
//! properties, snapshots the whole tree atomically, tags every filesystem with a user property
//! in one transaction group, lists it, then destroys POOL/demo.
use std::process::ExitCode;

use zfs_core::{
    CreateDataset, DatasetName, DatasetTypes, DestroyOptions, PropertyBatchOptions,
    UserPropertyChange, Zfs,
};

fn run(pool: &str) -> zfs_core::Result<()> {
    let zfs = Zfs::open()?;
    let root = DatasetName::new(format!("{pool}/demo"))?;
    let tree: [(&str, &[(&str, &str)]); 3] = [
        (
            "home/alice",
            &[("quota", "10M"), ("org.example:owner", "alice")],
        ),
        (
            "home/bob",
            &[("quota", "20M"), ("org.example:owner", "bob")],
        ),
        ("srv/www", &[("recordsize", "16K"), ("atime", "off")]),
    ];
    CreateDataset::filesystem(root.clone())
        .property("compression", "zstd")
        .property("mountpoint", "none")
        .create(&zfs)?;
    for (path, props) in tree {
        let mut create = CreateDataset::filesystem(root.child(path)?).create_parents(true);
        for (k, v) in props {
            create = create.property(k, v);
        }
        create.create(&zfs)?;
    }
    // One atomic snapshot of the whole tree, tagged with a user property.
    let snaps = zfs.snapshot_recursive(&root, "initial", &[("org.example:reason", "demo")])?;
    println!("took {} snapshots in one call", snaps.len());
    // Tag every filesystem for backups: one channel program, one transaction group (a loop
    // of `zfs set` waits for one per filesystem).
    let tags: Vec<UserPropertyChange> = zfs
        .list(&root, DatasetTypes::FILESYSTEM)?
        .iter()
        .map(|fs| UserPropertyChange::set(&fs.name, "org.example:backup", "daily"))
        .collect();
    zfs.change_user_properties(&tags, &PropertyBatchOptions::new())?;
    println!("tagged {} filesystems in one transaction group", tags.len());

    println!(
        "{:<32} {:<12} {:<10} {:<8} {:<22}",
        "NAME", "COMPRESSION", "QUOTA", "BACKUP", "OWNER (SOURCE)"
    );
    for item in zfs.list(&root, DatasetTypes::FILESYSTEM | DatasetTypes::SNAPSHOT)? {
        let ds = zfs.dataset(&item.name)?;
        // Snapshots have no compression or quota of their own.
        let (compression, quota) = match ds.kind() {
            zfs_core::DatasetType::Filesystem => {
                let quota = ds
                    .quota()?
                    .map_or("none".into(), |q| format!("{}M", q >> 20));
                (ds.compression()?, quota)
            }
            _ => ("-".into(), "-".into()),
        };
        let owner = ds.property("org.example:owner")?;
        let backup = ds.property("org.example:backup")?.value;
        let (name, value, source) = (&item.name, owner.value, owner.source);
        println!("{name:<32} {compression:<12} {quota:<10} {backup:<8} {value} ({source})");
    }
    zfs.destroy(&root, &DestroyOptions::new().recursive(true))?;
    println!("destroyed {root} and everything below it");
    Ok(())
}

fn main() -> ExitCode {
    let Some(pool) = std::env::args().nth(1) else {
        eprintln!("usage: dataset-tree POOL");
        return ExitCode::from(2);
    };
    match run(&pool) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
