//! How long each test binary took last time, kept in the target directory
//! (`zfs-test-times.tsv`), so that the next run starts the longest first: with binaries side
//! by side, a long one started last would run on alone while the other lanes stand empty.
//!
//! A binary is known by its package's directory name and its own, not by absolute paths, so
//! that the times hold in another checkout of the same workspace (a CI clone, a target
//! directory kept in a cache) and a workspace can ship a file of them for a machine's first
//! run. Two packages in directories of the same name share their binaries' times: it is only
//! a hint.

use std::collections::HashMap;
use std::path::Path;

use crate::job::TestBinary;

/// The file's name in the target directory.
pub const FILE: &str = "zfs-test-times.tsv";

/// A binary's key: its package directory's name and its target name (the file name changes
/// with its hash).
type Key = (String, String);

/// The key of the binary `name` of the package in `dir` (an absolute path, or a name already).
fn key(dir: &Path, name: &str) -> Key {
    let dir = dir.file_name().map_or_else(
        || dir.to_string_lossy().into_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    (dir, name.to_owned())
}

/// Seconds per binary, from `seconds \t package dir \t name` lines; a line that does not read
/// so is skipped (the file is only a hint).
pub fn parse(text: &str) -> HashMap<Key, f64> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let secs: f64 = fields.next()?.parse().ok()?;
            let dir = fields.next()?;
            let name = fields.next()?;
            (fields.next().is_none() && secs.is_finite() && secs >= 0.0)
                .then(|| (key(Path::new(dir), name), secs))
        })
        .collect()
}

/// The file's times, or none where it cannot be read.
pub fn load(path: &Path) -> HashMap<Key, f64> {
    std::fs::read_to_string(path)
        .map(|t| parse(&t))
        .unwrap_or_default()
}

/// Orders `binaries` longest first by `known` times; binaries never timed go first (a new
/// test may be long), in their given order.
pub fn longest_first(binaries: &mut [TestBinary], known: &HashMap<Key, f64>) {
    let time = |b: &TestBinary| {
        known
            .get(&key(&b.manifest_dir, &b.name))
            .copied()
            .unwrap_or(f64::INFINITY)
    };
    binaries.sort_by(|a, b| time(b).total_cmp(&time(a)));
}

/// Adds this run's times to the file (best effort: a read-only target directory only costs
/// the next run its order).
pub fn record(path: &Path, times: &[(&TestBinary, f64)]) {
    let mut all = load(path);
    for (b, secs) in times {
        all.insert(key(&b.manifest_dir, &b.name), *secs);
    }
    let mut lines: Vec<String> = all
        .iter()
        .map(|((dir, name), secs)| format!("{secs:.1}\t{dir}\t{name}\n"))
        .collect();
    lines.sort();
    let tmp = path.with_extension(format!("tsv.{}", std::process::id()));
    if std::fs::write(&tmp, lines.concat()).is_ok() {
        let _ = std::fs::rename(&tmp, path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bin(name: &str) -> TestBinary {
        TestBinary {
            name: name.into(),
            manifest_dir: "/w/c".into(),
            path: format!("/w/target/{name}-0").into(),
            alone: false,
            groups: Vec::new(),
        }
    }

    #[test]
    fn the_longest_go_first_and_the_untimed_before_them() {
        let known = parse("3.0\t/w/c\tshort\n90.5\t/w/c\tlong\nbad line\n-1\t/w/c\tneg\n");
        assert_eq!(known.len(), 2);
        let mut bins = [bin("short"), bin("new"), bin("long"), bin("newer")];
        longest_first(&mut bins, &known);
        let names: Vec<&str> = bins.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["new", "newer", "long", "short"]);
    }

    #[test]
    fn times_hold_in_another_checkout_and_old_absolute_lines_still_count() {
        let known = parse("90.5\t/old/clone/c\tlong\n3.0\tc\tshort\n");
        let mut bins = [bin("short"), bin("long")];
        for b in &mut bins {
            b.manifest_dir = "/another/checkout/c".into();
        }
        longest_first(&mut bins, &known);
        let names: Vec<&str> = bins.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["long", "short"]);
    }

    #[test]
    fn times_are_kept_across_runs() {
        let dir = std::env::temp_dir().join(format!("zfs-test-times-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(FILE);
        let (a, b) = (bin("a"), bin("b"));
        record(&path, &[(&a, 10.0), (&b, 2.0)]);
        record(&path, &[(&b, 20.0)]);
        let known = load(&path);
        assert_eq!(known[&("c".into(), "a".into())], 10.0);
        assert_eq!(known[&("c".into(), "b".into())], 20.0);
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains("10.0\tc\ta\n"));
        // Unwritable: nothing happens.
        record(Path::new("/nonexistent/dir/times.tsv"), &[(&a, 1.0)]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
