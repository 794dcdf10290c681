//! Re-emits libzfs-sys's version cfgs (`zfs_2_2`, `zfs_2_3`, `zfs_2_4`) for this crate: libzfs
//! has no stable ABI, so calls whose signature changed between releases are gated on them.
fn main() {
    const CFGS: &[(u32, u32)] = &[(2, 2), (2, 3), (2, 4)];
    for (major, minor) in CFGS {
        println!("cargo::rustc-check-cfg=cfg(zfs_{major}_{minor})");
    }
    println!("cargo:rerun-if-env-changed=DEP_ZFS_VERSION_NUMBER");
    let number: u32 = std::env::var("DEP_ZFS_VERSION_NUMBER")
        .ok()
        .and_then(|v| v.parse().ok())
        .expect("libzfs-sys exports DEP_ZFS_VERSION_NUMBER");
    for (major, minor) in CFGS {
        if number >= major * 10_000 + minor * 100 {
            println!("cargo:rustc-cfg=zfs_{major}_{minor}");
        }
    }
    // Header features libzfs-sys found (see its build.rs).
    const HEADER_FEATURES: &[&str] = &["libpc_handle", "add_check_ashift"];
    for feature in HEADER_FEATURES {
        println!("cargo::rustc-check-cfg=cfg(zfs_{feature})");
        let var = format!("DEP_ZFS_{}", feature.to_uppercase());
        println!("cargo:rerun-if-env-changed={var}");
        if std::env::var_os(&var).is_some() {
            println!("cargo:rustc-cfg=zfs_{feature}");
        }
    }
}
