//! The installed release's spl and zfs modules, decompressed once on the host for the guest.
//!
//! Debian compresses its kernel's modules with xz, and DKMS then compresses zfs.ko and spl.ko
//! the same way. `modprobe zfs` in the guest would decompress them at every boot, under
//! emulation: about 3 s of each boot (5.8 and 6.0 s to load the module and run one command,
//! against 2.6 to 3.6 s for uncompressed modules). The host's `xz` does it once, natively,
//! into the runner's cache, and the guest loads the copies with `insmod`, spl first, as it
//! loads modules built from source. Where that does not fit (modules not compressed, or with
//! xz's rival formats, dependencies besides spl, no `xz`), the guest runs `modprobe zfs` as
//! before.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The uncompressed copies of spl.ko and zfs.ko, in the order to load them, or `None` when
/// the guest should run `modprobe zfs` itself.
pub fn uncompressed(kver: &str) -> Option<Vec<PathBuf>> {
    if !modinfo(kver, &["-F", "depends", "spl"])?.is_empty()
        || modinfo(kver, &["-F", "depends", "zfs"])? != "spl"
    {
        return None;
    }
    let dir = crate::host::cache_dir().join("modules").join(kver);
    ["spl", "zfs"]
        .into_iter()
        .map(|name| {
            let installed = PathBuf::from(modinfo(kver, &["-n", name])?);
            installed.to_str()?.ends_with(".ko.xz").then_some(())?;
            decompressed(&installed, &dir, name)
        })
        .collect()
}

/// `modinfo -k KVER ARGS`, trimmed; `None` if it fails.
fn modinfo(kver: &str, args: &[&str]) -> Option<String> {
    let out = Command::new("modinfo")
        .args(["-k", kver])
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// `installed` decompressed into `dir`, named by its size and time so that a module built
/// again is decompressed again; made under a temporary name and renamed, so that two runners
/// never load a half-written copy.
fn decompressed(installed: &Path, dir: &Path, name: &str) -> Option<PathBuf> {
    let meta = std::fs::metadata(installed).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    let copy = dir.join(format!("{name}-{}-{mtime}.ko", meta.len()));
    if copy.exists() {
        return Some(copy);
    }
    std::fs::create_dir_all(dir).ok()?;
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let out = std::fs::File::create(&tmp).ok()?;
    let ok = Command::new("xz")
        .args(["-dc", "--"])
        .arg(installed)
        .stdout(out)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok && std::fs::rename(&tmp, &copy).is_ok() {
        Some(copy)
    } else {
        let _ = std::fs::remove_file(&tmp);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory of its own under the temporary directory, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new() -> Scratch {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos();
            let dir = std::env::temp_dir().join(format!(
                "installed-modules-test.{}.{nanos}",
                std::process::id()
            ));
            std::fs::create_dir(&dir).unwrap();
            Scratch(dir)
        }

        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// An xz file decompresses once into the cache under its size and time; a second call
    /// finds the copy; a file that is not xz gives no copy and leaves nothing behind.
    #[test]
    fn a_module_is_decompressed_once_and_a_bad_one_leaves_nothing() {
        Command::new("xz")
            .arg("--version")
            .output()
            .expect("xz is not installed (Debian's xz-utils)");
        let tmp = Scratch::new();
        let src = tmp.path().join("zfs.ko");
        std::fs::write(&src, b"\x7fELF a module").unwrap();
        assert!(Command::new("xz").arg(&src).status().unwrap().success());
        let xz = tmp.path().join("zfs.ko.xz");
        let cache = tmp.path().join("cache");
        let copy = decompressed(&xz, &cache, "zfs").unwrap();
        assert_eq!(std::fs::read(&copy).unwrap(), b"\x7fELF a module");
        assert!(copy
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("zfs-"));
        assert_eq!(decompressed(&xz, &cache, "zfs").unwrap(), copy);

        let bad = tmp.path().join("spl.ko.xz");
        std::fs::write(&bad, b"not xz").unwrap();
        assert_eq!(decompressed(&bad, &cache, "spl"), None);
        let left: Vec<_> = std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![copy.file_name().unwrap().to_owned()]);
    }
}
