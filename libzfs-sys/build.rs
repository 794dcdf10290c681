//! Finds libzfs and libzfs_core with pkg-config, links them, emits version cfgs and generates
//! the declarations with bindgen from the installed headers.
//!
//! Environment:
//! - `PKG_CONFIG_PATH` / `PKG_CONFIG_LIBDIR` / `PKG_CONFIG_SYSROOT_DIR`: where to look (honoured
//!   by the pkg-config crate); `ci/check-versions` uses them to build against other releases.
//! - `LIBZFS_SYS_NO_LINK=1`: declare only, emit no link lines (for `cargo check` against headers
//!   of a release whose libraries are not installed).
//! - `DOCS_RS`: set by docs.rs, which has no OpenZFS headers: use the bindings shipped in
//!   `src/docs_bindings.rs` (generated from the headers of [`DOCS_VERSION`]; `ci/docs-bindings`
//!   keeps them current) and link nothing.

use std::env;
use std::path::PathBuf;

/// The oldest OpenZFS release whose headers we accept.
const MIN_VERSION: (u32, u32) = (2, 1);
/// Every `zfs_X_Y` cfg we may emit: `zfs_X_Y` is set when the installed release is X.Y or newer.
const VERSION_CFGS: &[(u32, u32)] = &[(2, 2), (2, 3), (2, 4)];

const INSTALL_HINT: &str = "install the OpenZFS development files: on Debian, `apt-get install \
    libzfslinux-dev` (from the `contrib` component; bookworm-backports has 2.3); on Ubuntu, \
    `apt-get install libzfslinux-dev`; on Fedora/RHEL, `dnf install libzfs-devel`. Or point \
    PKG_CONFIG_PATH at a directory holding libzfs.pc and libzfs_core.pc.";

fn main() {
    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=LIBZFS_SYS_NO_LINK");
    for (major, minor) in VERSION_CFGS {
        println!("cargo::rustc-check-cfg=cfg(zfs_{major}_{minor})");
    }

    println!("cargo:rerun-if-env-changed=DOCS_RS");
    if env::var_os("DOCS_RS").is_some() {
        docs_rs();
        return;
    }

    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os != "linux" && target_os != "freebsd" {
        panic!("libzfs-sys supports Linux and FreeBSD targets only (target OS is `{target_os}`)");
    }

    let link = env::var_os("LIBZFS_SYS_NO_LINK").is_none_or(|v| v.is_empty() || v == "0");
    let min = format!("{}.{}", MIN_VERSION.0, MIN_VERSION.1);
    let probe = |name: &str| {
        pkg_config::Config::new()
            .atleast_version(&min)
            // We print our own link lines: nvpair is linked once, by nvpair-sys.
            .cargo_metadata(false)
            .probe(name)
            .unwrap_or_else(|e| {
                panic!(
                    "\n\nlibzfs-sys needs {name} (OpenZFS {min} or newer), which pkg-config \
                        did not find:\n{e}\n\nTo fix: {INSTALL_HINT}\n\n"
                )
            })
    };
    let zfs = probe("libzfs");
    let core = probe("libzfs_core");

    let version = parse_version(&zfs.version).unwrap_or_else(|| {
        panic!(
            "libzfs-sys: cannot parse the libzfs version `{}` from pkg-config",
            zfs.version
        )
    });
    for (major, minor) in VERSION_CFGS {
        if (version.0, version.1) >= (*major, *minor) {
            println!("cargo:rustc-cfg=zfs_{major}_{minor}");
        }
    }
    let version_string = format!("{}.{}.{}", version.0, version.1, version.2);
    // For our own crate (`libzfs_sys::BUILT_FOR_VERSION`) and, through `links`, for dependents'
    // build scripts as DEP_ZFS_VERSION / DEP_ZFS_VERSION_NUMBER.
    println!("cargo:rustc-env=LIBZFS_SYS_ZFS_VERSION={version_string}");
    println!("cargo:version={version_string}");
    println!(
        "cargo:version_number={}",
        version.0 * 10_000 + version.1 * 100 + version.2
    );

    if link {
        let mut dirs: Vec<&PathBuf> = zfs.link_paths.iter().chain(&core.link_paths).collect();
        dirs.dedup();
        for dir in dirs {
            println!("cargo:rustc-link-search=native={}", dir.display());
        }
        println!("cargo:rustc-link-lib=dylib=zfs");
        println!("cargo:rustc-link-lib=dylib=zfs_core");
        // For `blkid`: libzfs links it too, so it is there wherever libzfs is.
        println!("cargo:rustc-link-lib=dylib=blkid");
    }

    let mut include_paths: Vec<&PathBuf> = zfs
        .include_paths
        .iter()
        .chain(&core.include_paths)
        .collect();
    include_paths.dedup();
    detect_header_features(&include_paths);
    generate(&include_paths);
}

/// Header features: (cfg name, header, text whose presence means the feature).
/// - libzutil: `zpool_search_import(libpc_handle_t *, importargs_t *)` (newer) versus
///   `zpool_search_import(void *, importargs_t *, const pool_config_ops_t *)` (2.1).
/// - libzfs: `zpool_add(zpool_handle_t *, nvlist_t *, boolean_t check_ashift)` from 2.2.4 and
///   2.3 (the kernel's ashift check can be lifted), two arguments before.
const HEADER_FEATURES: &[(&str, &str, &str)] = &[
    (
        "libpc_handle",
        "libzutil.h",
        "zpool_search_import(libpc_handle_t *",
    ),
    (
        "add_check_ashift",
        "libzfs.h",
        "zpool_add(zpool_handle_t *, nvlist_t *, boolean_t",
    ),
];

/// Where a version number is not precise enough, look at the header itself. Each feature found
/// becomes `cfg(zfs_<feature>)` here and `DEP_ZFS_<FEATURE>=1` for dependents.
fn detect_header_features(include_paths: &[&PathBuf]) {
    for (feature, header, needle) in HEADER_FEATURES {
        println!("cargo::rustc-check-cfg=cfg(zfs_{feature})");
        let found = include_paths.iter().any(|dir| {
            std::fs::read_to_string(dir.join(header)).is_ok_and(|text| text.contains(needle))
        });
        if found {
            println!("cargo:rustc-cfg=zfs_{feature}");
            println!("cargo:{feature}=1");
        }
    }
}

/// "2.3.2" / "2.1.11" / "2.3.0-rc5" -> (major, minor, patch).
fn parse_version(s: &str) -> Option<(u32, u32, u32)> {
    let mut parts = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    Some((major, minor, patch))
}

fn generate(include_paths: &[&PathBuf]) {
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    let newtype = bindgen::EnumVariation::NewType {
        is_bitfield: false,
        is_global: false,
    };
    let mut builder = bindgen::Builder::default()
        .header("wrapper.h")
        .clang_arg("-D_GNU_SOURCE")
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        // Newtype enums: a value C returns that we do not list is still a valid Rust value
        // (a rustified enum would be undefined behaviour there).
        .default_enum_style(newtype)
        .bitfield_enum("zfs_type_t")
        .prepend_enum_name(false)
        // nvlist/nvpair come from nvpair-sys, so every crate shares one `nvlist_t`.
        .blocklist_type("nvlist")
        .blocklist_type("nvlist_t")
        .blocklist_type("nvpair")
        .blocklist_type("nvpair_t")
        .allowlist_function("libzfs_.*")
        .allowlist_function("zfs_.*")
        .allowlist_function("zpool_.*")
        .allowlist_function("zprop_.*")
        .allowlist_function("lzc_.*")
        .allowlist_function("zvol_.*")
        .allowlist_function(".*_namecheck")
        .allowlist_function("vdev_name_to_prop")
        .allowlist_function("vdev_prop_user")
        .allowlist_type("namecheck_err_t")
        // Import by directory scan lives in libzutil (inside libzfs.so).
        .allowlist_function("zpool_search_import")
        .allowlist_function("zpool_find_config")
        // Shares its name with an enum of the same header.
        .blocklist_function("zfs_nicenum_format")
        .allowlist_type("importargs_t")
        .allowlist_type("libpc_handle_t")
        .allowlist_var("libzfs_config_ops")
        // Pool feature flags, which `zpool create` enables by default.
        .allowlist_var("spa_feature_table")
        .allowlist_function("zfeature_.*")
        .allowlist_type("zfs_errno_t")
        .allowlist_type("zfs_prop_t")
        .allowlist_type("zpool_prop_t")
        .allowlist_type("zfs_type_t")
        .allowlist_type("pool_state_t")
        .allowlist_type("zfs_error_t")
        .allowlist_type("zprop_source_t")
        .allowlist_type("vdev_state_t")
        .allowlist_type("vdev_aux_t")
        .allowlist_type("vdev_stat_t")
        .allowlist_type("pool_scan_stat_t")
        .allowlist_type("pool_scan_func_t")
        .allowlist_type("pool_removal_stat_t")
        .allowlist_type("vdev_initializing_state_t")
        .allowlist_type("vdev_trim_state_t")
        .allowlist_type("pool_scrub_cmd_t")
        .allowlist_type("dsl_scan_state_t")
        .allowlist_type("zpool_status_t")
        .allowlist_type("lzc_.*")
        .allowlist_type("zfs_keystatus_t")
        .allowlist_type("zfs_keyformat_t")
        .allowlist_type("zfs_canmount_type_t")
        .allowlist_type("diff_flags_t")
        .allowlist_type("dcp_cmd_t")
        .allowlist_var("DEFAULT_PBKDF2_ITERATIONS")
        .allowlist_var("MIN_PBKDF2_ITERATIONS")
        .allowlist_var("WRAPPING_KEY_LEN")
        .allowlist_var("ZFS_.*")
        .allowlist_var("ZPOOL_.*")
        .allowlist_var("ZPROP_.*")
        .allowlist_var("VDEV_TYPE_.*")
        .allowlist_var("SPA_.*")
        .allowlist_var("ZCP_.*")
        .allowlist_var("LZC_.*")
        .allowlist_var("MAXNAMELEN")
        .allowlist_var("ZFS_MAX_DATASET_NAME_LEN")
        .use_core()
        .derive_default(true)
        .generate_comments(false)
        .layout_tests(true);
    for path in include_paths {
        builder = builder.clang_arg(format!("-I{}", path.display()));
    }
    let bindings = builder.generate().unwrap_or_else(|e| {
        panic!(
            "libzfs-sys: bindgen failed on the OpenZFS headers ({e}); is libclang installed \
                (Debian: libclang-dev)? {INSTALL_HINT}"
        )
    });
    bindings
        .write_to_file(out.join("bindings.rs"))
        .expect("libzfs-sys: cannot write bindings.rs to OUT_DIR");
}

/// The OpenZFS release whose headers `src/docs_bindings.rs` was generated from, and the header
/// features those headers have: what docs.rs documents.
const DOCS_VERSION: (u32, u32, u32) = (2, 3, 2);
const DOCS_FEATURES: &[&str] = &["libpc_handle", "add_check_ashift"];

/// The docs.rs build: no headers, no libraries, no libclang; the shipped bindings stand in.
fn docs_rs() {
    println!("cargo:rerun-if-changed=src/docs_bindings.rs");
    let (major, minor, patch) = DOCS_VERSION;
    for (m, n) in VERSION_CFGS {
        if (major, minor) >= (*m, *n) {
            println!("cargo:rustc-cfg=zfs_{m}_{n}");
        }
    }
    for (feature, _, _) in HEADER_FEATURES {
        println!("cargo::rustc-check-cfg=cfg(zfs_{feature})");
    }
    for feature in DOCS_FEATURES {
        println!("cargo:rustc-cfg=zfs_{feature}");
        println!("cargo:{feature}=1");
    }
    println!("cargo:rustc-env=LIBZFS_SYS_ZFS_VERSION={major}.{minor}.{patch}");
    println!("cargo:version={major}.{minor}.{patch}");
    println!(
        "cargo:version_number={}",
        major * 10_000 + minor * 100 + patch
    );
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    std::fs::copy("src/docs_bindings.rs", out.join("bindings.rs"))
        .expect("libzfs-sys: cannot copy src/docs_bindings.rs to OUT_DIR");
}
