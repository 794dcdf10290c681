//! Prints the OpenZFS release the workspace was built against.
fn main() {
    println!("built against OpenZFS {}", zfs_core::BUILT_FOR_VERSION);
}
