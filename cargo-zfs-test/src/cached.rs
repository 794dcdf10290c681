//! Directories the guest only reads, shared a second time with the guest's page cache on.
//!
//! virtme-ng shares the host's root and the writable directories over 9p without a cache
//! (coherent with the host, as it must be for directories both sides write), so every start
//! of a program reads its pages from the host again. Under software emulation that is dear: a
//! 26 MB debug binary took 0.5 s to start from such a share and 0.16 s from a cached one, and
//! the layout's tests start its CLI hundreds of times. A test run's binaries do not change
//! while it runs, so the directory they are in is shared again, read-only with `cache=loose`,
//! and mounted over its own path in the guest: the same paths, read from the page cache after
//! the first start. Read-only on purpose: a test that wrote there would write into a cache the
//! host never sees, so it fails (`EROFS`) instead.
//!
//! virtio-9p (served by QEMU itself) and not virtio-fs: virtiofsd writes the guest's memory
//! from outside QEMU, which software emulation does not see, so code it read in could run
//! stale (the guest's init died of a general protection fault at boot, tried 2026-12-06).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The state directory's list of cached directories, one `TAG PATH` per line.
pub const LIST_FILE: &str = "cached-dirs";

/// The directories a test run's `binaries` are in: each one's profile directory
/// (`target/debug`, which holds `deps/` and the packages' own executables that tests start
/// through `CARGO_BIN_EXE_*`), or its own directory when that is not `deps/`.
pub fn binary_dirs<'a>(binaries: impl IntoIterator<Item = &'a Path>) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = binaries
        .into_iter()
        .filter_map(|path| {
            let dir = path.parent()?;
            Some(match dir.file_name() {
                Some(name) if name == "deps" => dir.parent()?.to_owned(),
                _ => dir.to_owned(),
            })
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

/// Where the guest writes besides the shared writable directories: virtme-ng's overlays and
/// the guest's own file systems. A cached directory holding one would hide it.
pub const GUEST_WRITES: &[&str] = &[
    "/dev", "/etc", "/home", "/proc", "/run", "/sys", "/tmp", "/var",
];

/// Why `dir` (canonical) cannot be cached, if it cannot: virtme-ng would mangle its path (it
/// puts QEMU's options on a shell command line, `shareable` says), or it holds a directory
/// the guest writes (`written`: every writable share, canonical, nested ones too, the run's
/// state directory), which the mount would hide.
pub fn refusal(
    dir: &Path,
    written: &[PathBuf],
    shareable: impl Fn(&Path) -> bool,
) -> Option<String> {
    if !shareable(dir) {
        return Some(
            "virtme-ng cannot share a path with characters other than A-Z a-z 0-9 _ + / . -".into(),
        );
    }
    let hidden = written
        .iter()
        .map(PathBuf::as_path)
        .chain(GUEST_WRITES.iter().map(Path::new))
        .find(|w| w.starts_with(dir))?;
    Some(format!(
        "it holds {}, which the guest writes",
        hidden.display()
    ))
}

/// The cached directories among `dirs` (canonical): those [`refusal`] has nothing against, none
/// inside another. One left out is still shared as before, uncached.
pub fn select(
    dirs: &[PathBuf],
    written: &[PathBuf],
    shareable: impl Fn(&Path) -> bool,
) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = dirs
        .iter()
        .filter(|d| refusal(d, written, &shareable).is_none())
        .cloned()
        .collect();
    dirs.sort();
    dirs.dedup();
    let all = dirs.clone();
    dirs.retain(|d| !all.iter().any(|o| o != d && d.starts_with(o)));
    dirs
}

/// QEMU's options for sharing `dirs`, and the list the guest mounts them by.
pub fn qemu_options(dirs: &[PathBuf]) -> (String, String) {
    let mut opts = String::new();
    let mut list = String::new();
    for (i, dir) in dirs.iter().enumerate() {
        let tag = format!("zfs-test-cached{i}");
        opts.push_str(&format!(
            " -fsdev local,id={tag},path={},security_model=none,readonly=on \
             -device virtio-9p-pci,fsdev={tag},mount_tag={tag}",
            dir.display()
        ));
        list.push_str(&format!("{tag} {}\n", dir.display()));
    }
    (opts, list)
}

/// In the guest: mounts every directory of the list over its own path. One that does not mount
/// stays as it was (uncached, still correct) and is named on stderr. Test binaries in `deps/`
/// are cached too: each starts once, but keeping `deps/` out (a bind mount moved back) changed
/// nothing measurable (a five-binary run 293 s against 288 s, 2026-12-06), so the simpler way.
pub fn mount_in_guest(list: &str) {
    for line in list.lines() {
        let Some((tag, path)) = line.split_once(' ') else {
            continue;
        };
        let out = Command::new("mount")
            .args(["-t", "9p", "-o"])
            .arg("ro,trans=virtio,version=9p2000.L,cache=loose,msize=512000")
            .args([tag, path])
            .output();
        match out {
            Ok(out) if out.status.success() => {}
            Ok(out) => eprintln!(
                "[zfs-test guest] {path} stays uncached: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            Err(e) => eprintln!("[zfs-test guest] {path} stays uncached: mount: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_directory_once_for_all_its_binaries() {
        let bins = [
            Path::new("/t/debug/deps/a-1"),
            Path::new("/t/debug/deps/b-2"),
            Path::new("/t/debug/cli"),
            Path::new("/other/bin/c"),
        ];
        assert_eq!(
            binary_dirs(bins),
            vec![PathBuf::from("/other/bin"), PathBuf::from("/t/debug")]
        );
    }

    #[test]
    fn nothing_nested_nothing_over_a_written_directory_nothing_unshareable() {
        let dirs: Vec<PathBuf> = [
            "/t/debug",
            "/t/debug/deps",
            "/w",
            "/w/target",
            "/u v",
            "/opt/z",
            "/",
        ]
        .map(PathBuf::from)
        .into();
        // The workspace and its target directory, the second inside the first, both written.
        let written = ["/w".into(), "/w/target".into(), "/s/state".into()];
        let shareable = |d: &Path| !d.to_string_lossy().contains(' ');
        assert_eq!(
            select(&dirs, &written, shareable),
            vec![PathBuf::from("/opt/z"), PathBuf::from("/t/debug")]
        );
        let why = refusal(Path::new("/w/target"), &written, shareable).unwrap();
        assert!(why.contains("/w/target"), "{why}");
        assert!(refusal(Path::new("/s"), &written, shareable).is_some());
        assert!(refusal(Path::new("/"), &written, shareable).is_some());
    }

    #[test]
    fn the_guest_finds_each_tag_and_path_in_the_list() {
        let (opts, list) = qemu_options(&["/t/debug".into(), "/x".into()]);
        assert!(opts.contains("path=/t/debug,security_model=none,readonly=on"));
        assert!(opts.contains("mount_tag=zfs-test-cached1"));
        assert_eq!(list, "zfs-test-cached0 /t/debug\nzfs-test-cached1 /x\n");
    }
}
