//! The Debian mirror this machine's apt already uses, read from its sources in both forms: the
//! deb822 `*.sources` files and the one-line `sources.list` / `*.list` files. Setup adds its
//! suites from that same mirror, so that a local or proxied mirror keeps working; no mirror's
//! host name is built in, and a machine without one is told which file to fix.

use std::path::{Path, PathBuf};

/// Where apt keeps its sources.
pub const APT_SOURCES_DIR: &str = "/etc/apt";

/// One place apt downloads packages from, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub uri: String,
    pub suites: Vec<String>,
}

/// The sources of one deb822 file (`Types:`, `URIs:`, `Suites:` stanzas separated by blank
/// lines); binary (`deb`) stanzas only, `Enabled: no` ones left out.
pub fn parse_deb822(text: &str) -> Vec<Source> {
    let mut out = Vec::new();
    let mut fields: Vec<(String, String)> = Vec::new();
    // A blank line ends a stanza; one more at the end flushes the last.
    for line in text.lines().chain([""]) {
        if line.trim().is_empty() {
            stanza_sources(&fields, &mut out);
            fields.clear();
        } else if line.starts_with('#') {
            continue;
        } else if line.starts_with([' ', '\t']) {
            // A continuation line: more values of the field above.
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    out
}

fn stanza_sources(fields: &[(String, String)], out: &mut Vec<Source>) {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    };
    if !field("types").split_whitespace().any(|t| t == "deb")
        || field("enabled").eq_ignore_ascii_case("no")
    {
        return;
    }
    let suites: Vec<String> = field("suites")
        .split_whitespace()
        .map(String::from)
        .collect();
    for uri in field("uris").split_whitespace() {
        out.push(Source {
            uri: uri.to_owned(),
            suites: suites.clone(),
        });
    }
}

/// The sources of one one-line file: `deb [options] URI SUITE COMPONENT...`.
pub fn parse_one_line(text: &str) -> Vec<Source> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next()?.trim();
            let rest = line.strip_prefix("deb")?;
            if !rest.starts_with([' ', '\t']) {
                return None; // deb-src, or not a source line
            }
            let mut rest = rest.trim_start();
            if let Some(options) = rest.strip_prefix('[') {
                rest = options.split_once(']')?.1.trim_start();
            }
            let mut words = rest.split_whitespace();
            let uri = words.next()?.to_owned();
            let suite = words.next()?.to_owned();
            Some(Source {
                uri,
                suites: vec![suite],
            })
        })
        .collect()
}

/// The first source that serves the release `codename` itself (not its security or backports
/// suites, which may live elsewhere); its URI, without a trailing slash.
pub fn mirror_for(sources: &[Source], codename: &str) -> Option<String> {
    sources
        .iter()
        .find(|s| s.suites.iter().any(|suite| suite == codename))
        .map(|s| s.uri.trim_end_matches('/').to_owned())
}

/// The source files under `dir` (an `/etc/apt`), in apt's order: `sources.list`, then
/// `sources.list.d/*.list` and `*.sources` by name. Files whose names start with `skip` (this
/// runner's own) are left out, so that what the machine's owner configured is what counts.
pub fn source_files(dir: &Path, skip: &str) -> Vec<PathBuf> {
    let mut files = vec![dir.join("sources.list")];
    let mut parts: Vec<PathBuf> = std::fs::read_dir(dir.join("sources.list.d"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    (name.ends_with(".list") || name.ends_with(".sources"))
                        && !name.starts_with(skip)
                })
                .collect()
        })
        .unwrap_or_default();
    parts.sort();
    files.extend(parts);
    files
}

/// The mirror of `codename` configured under `dir`, or an error that says where to add one.
pub fn find(dir: &Path, codename: &str, skip: &str) -> Result<String, String> {
    let mut sources = Vec::new();
    for file in source_files(dir, skip) {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        if file.extension().is_some_and(|e| e == "sources") {
            sources.extend(parse_deb822(&text));
        } else {
            sources.extend(parse_one_line(&text));
        }
    }
    mirror_for(&sources, codename).ok_or_else(|| {
        format!(
            "apt has no source for Debian `{codename}` in {}/sources.list or {}/sources.list.d/*.{{sources,list}}: \
             add your Debian mirror there (e.g. a line `deb MIRROR {codename} main` in {}/sources.list), \
             run `apt-get update`, and try again",
            dir.display(),
            dir.display(),
            dir.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEB822: &str = "Types: deb\n# a comment\nURIs: http://mirror.example/debian/\n\
        Suites: bookworm bookworm-updates\nComponents: main\n\n\
        Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n\
        Components: main\n";

    #[test]
    fn deb822_stanzas_are_read_with_their_suites() {
        let sources = parse_deb822(DEB822);
        assert_eq!(sources.len(), 2);
        assert_eq!(sources[0].uri, "http://mirror.example/debian/");
        assert_eq!(sources[0].suites, ["bookworm", "bookworm-updates"]);
        assert_eq!(
            mirror_for(&sources, "bookworm").as_deref(),
            Some("http://mirror.example/debian")
        );
        // The security archive serves bookworm-security only: never taken for the mirror.
        assert_eq!(mirror_for(&sources[1..], "bookworm"), None);
    }

    #[test]
    fn deb822_skips_source_only_and_disabled_stanzas_and_reads_continuations() {
        let text = "Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n\n\
            Types: deb\nEnabled: no\nURIs: http://off.example/debian\nSuites: bookworm\n\n\
            Types: deb deb-src\nURIs:\n http://a.example/d\n http://b.example/d\nSuites: bookworm\n";
        let sources = parse_deb822(text);
        let uris: Vec<&str> = sources.iter().map(|s| s.uri.as_str()).collect();
        assert_eq!(uris, ["http://a.example/d", "http://b.example/d"]);
    }

    #[test]
    fn one_line_sources_are_read_with_options_and_comments() {
        let text = "# deb http://commented.example/debian bookworm main\n\
            deb-src http://src.example/debian bookworm main\n\
            deb [arch=amd64 signed-by=/k.gpg] http://local.example/mirror bookworm main contrib\n\
            deb http://security.example/debian-security bookworm-security main\n";
        let sources = parse_one_line(text);
        assert_eq!(sources.len(), 2);
        assert_eq!(
            mirror_for(&sources, "bookworm").as_deref(),
            Some("http://local.example/mirror")
        );
    }

    #[test]
    fn both_forms_are_found_under_a_directory_and_our_own_file_is_skipped() {
        let dir = std::env::temp_dir().join(format!("apt-mirror-test.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sources.list.d")).unwrap();
        // Nothing configured: the error names the files to fix.
        let err = find(&dir, "bookworm", "zfs-rs-").unwrap_err();
        assert!(err.contains("sources.list"), "{err}");
        std::fs::write(
            dir.join("sources.list.d/zfs-rs-harness.sources"),
            "Types: deb\nURIs: http://ours.example/debian\nSuites: bookworm\n",
        )
        .unwrap();
        assert!(find(&dir, "bookworm", "zfs-rs-").is_err());
        std::fs::write(
            dir.join("sources.list.d/debian.sources"),
            "Types: deb\nURIs: http://deb822.example/debian\nSuites: bookworm\n",
        )
        .unwrap();
        assert_eq!(
            find(&dir, "bookworm", "zfs-rs-").unwrap(),
            "http://deb822.example/debian"
        );
        // sources.list comes first, as apt reads it first.
        std::fs::write(
            dir.join("sources.list"),
            "deb http://oneline.example/debian bookworm main\n",
        )
        .unwrap();
        assert_eq!(
            find(&dir, "bookworm", "zfs-rs-").unwrap(),
            "http://oneline.example/debian"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
