//! Host tests: the build found the installed release and emitted the matching cfgs.

use std::process::Command;

fn parse(v: &str) -> (u32, u32) {
    let mut it = v.split('.').map(|p| p.parse::<u32>().unwrap());
    (it.next().unwrap(), it.next().unwrap())
}

#[test]
fn built_for_version_is_what_pkg_config_reports() {
    let out = Command::new("pkg-config")
        .args(["--modversion", "libzfs"])
        .output()
        .expect("pkg-config runs");
    assert!(
        out.status.success(),
        "pkg-config --modversion libzfs failed"
    );
    let installed = String::from_utf8(out.stdout).unwrap();
    // Only meaningful when the test environment uses the same pkg-config view as the build.
    if std::env::var_os("PKG_CONFIG_PATH").is_none()
        && std::env::var_os("PKG_CONFIG_LIBDIR").is_none()
    {
        assert!(
            installed.trim().starts_with(libzfs_sys::BUILT_FOR_VERSION),
            "built for {} but pkg-config reports {}",
            libzfs_sys::BUILT_FOR_VERSION,
            installed.trim()
        );
    }
}

#[test]
fn version_cfgs_match_the_version() {
    let v = parse(libzfs_sys::BUILT_FOR_VERSION);
    assert!(v >= (2, 1), "built for an unsupported release {v:?}");
    assert_eq!(cfg!(zfs_2_2), v >= (2, 2), "cfg(zfs_2_2) for {v:?}");
    assert_eq!(cfg!(zfs_2_3), v >= (2, 3), "cfg(zfs_2_3) for {v:?}");
    assert_eq!(cfg!(zfs_2_4), v >= (2, 4), "cfg(zfs_2_4) for {v:?}");
}

#[test]
fn newtype_enums_accept_values_the_headers_do_not_list() {
    // A value from a newer kernel module must be representable without UB.
    let unknown = libzfs_sys::zfs_prop_t(10_000);
    assert_ne!(unknown, libzfs_sys::zfs_prop_t::ZFS_PROP_TYPE);
    assert_eq!(libzfs_sys::ZFS_MAX_DATASET_NAME_LEN, 256);
}
