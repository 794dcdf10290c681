//! The benchmark programs export their `ioctl` (src/work.rs) to the shared libraries they load,
//! so that libzfs's calls go through the counter.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic-symbol=ioctl");
}
