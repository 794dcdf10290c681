//! Prepares this machine to run ZFS tests in a VM, idempotently: apt sources (contrib and
//! bookworm-backports), the OpenZFS userland and headers, a 6.12 kernel with the zfs-dkms module,
//! QEMU, and virtme-ng in a venv of its own. A second run only checks (about a second).
//!
//! Supported: Debian 12 (bookworm). Where ZFS is loaded already, nothing is installed.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::apt_mirror;
use crate::error::{harness, Result};
use crate::host;
use crate::progress;

/// From bookworm-backports: OpenZFS 2.3 and the kernel it builds for.
const BACKPORTS_PACKAGES: &[&str] = &[
    "linux-image-amd64",
    "linux-headers-amd64",
    "zfs-dkms",
    "zfsutils-linux",
    "libzfslinux-dev",
    "zfs-test",
    "qemu-system-x86",
];
/// From bookworm: the VM's helpers and what building libzfs-sys needs (bindgen, pkg-config).
const MAIN_PACKAGES: &[&str] = &[
    "busybox-static",
    "libclang-dev",
    "clang",
    "python3-venv",
    "pkg-config",
    "dkms",
];
const VNG_VERSION: &str = "1.42";
const SOURCES_FILE: &str = "/etc/apt/sources.list.d/zfs-rs-harness.sources";

/// Runs the whole preparation; returns a one-line description of what is ready.
pub fn run() -> Result<String> {
    if host::zfs_here() {
        return Ok("ZFS is loaded on this machine: the tests run here, no VM".into());
    }
    if !host::is_root() && which("sudo").is_none() {
        return Err(harness!("setup must run as root, or with sudo available"));
    }
    check_os()?;
    apt_sources()?;
    packages()?;
    let kver = host::guest_kernel()
        .ok_or_else(|| harness!("no kernel under /boot after installing linux-image-amd64"))?;
    if !host::zfs_module_built(&kver) {
        progress::phase(
            "setup",
            format!("building the zfs module for {kver} with DKMS (minutes)"),
        );
        as_root_building(&["dkms", "autoinstall", "-k", &kver])?;
        if !host::zfs_module_built(&kver) {
            return Err(harness!(
                "DKMS did not produce zfs.ko for kernel {kver}; see /var/lib/dkms/zfs/*/build/make.log"
            ));
        }
    }
    virtme_ng()?;
    let zfs = Command::new("pkg-config")
        .args(["--modversion", "libzfs"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    Ok(format!(
        "kernel {kver}, OpenZFS {zfs}, virtme-ng {VNG_VERSION}"
    ))
}

/// Checks that setup has been done, without installing anything.
pub fn check_ready() -> Result<String> {
    let kver = host::guest_kernel()
        .ok_or_else(|| harness!("no kernel under /boot: run `cargo zfs-test setup`"))?;
    if !host::zfs_module_built(&kver) {
        return Err(harness!(
            "no zfs module built for kernel {kver}: run `cargo zfs-test setup`"
        ));
    }
    if !host::vng_venv().join("bin/vng").exists() {
        return Err(harness!(
            "virtme-ng is not installed at {}: run `cargo zfs-test setup`",
            host::vng_venv().display()
        ));
    }
    Ok(kver)
}

fn check_os() -> Result<()> {
    let release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let field = |name: &str| {
        release.lines().find_map(|l| {
            l.strip_prefix(name)?
                .strip_prefix('=')
                .map(|v| v.trim_matches('"').to_owned())
        })
    };
    if field("ID").as_deref() == Some("debian")
        && field("VERSION_CODENAME").as_deref() == Some("bookworm")
    {
        return Ok(());
    }
    Err(harness!(
        "unsupported host `{}`: setup supports Debian 12 (bookworm) only.\nOn a host with ZFS \
         loaded, install your distribution's libzfs headers, clang and pkg-config yourself and \
         run the tests as root: they then run directly, without a VM.",
        field("PRETTY_NAME").unwrap_or_else(|| "unknown".into())
    ))
}

fn apt_sources() -> Result<()> {
    if Path::new(SOURCES_FILE).exists() {
        return Ok(());
    }
    // The mirror this machine already uses, so that a local mirror keeps working; none is
    // built in.
    let mirror = apt_mirror::find(
        Path::new(apt_mirror::APT_SOURCES_DIR),
        "bookworm",
        "zfs-rs-",
    )
    .map_err(|e| harness!("{e}"))?;
    progress::phase(
        "setup",
        format!("adding contrib and bookworm-backports from {mirror}"),
    );
    let text = format!(
        "Types: deb\nURIs: {mirror}\nSuites: bookworm bookworm-updates\nComponents: contrib\n\
         Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n\
         Types: deb\nURIs: {mirror}\nSuites: bookworm-backports\nComponents: main contrib\n\
         Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    );
    let tmp = std::env::temp_dir().join(format!("zfs-test-sources.{}", std::process::id()));
    std::fs::write(&tmp, text).map_err(|e| harness!("writing {}: {e}", tmp.display()))?;
    let tmp_str = tmp.to_string_lossy().into_owned();
    let result = as_root(&["install", "-m", "0644", &tmp_str, SOURCES_FILE]);
    let _ = std::fs::remove_file(&tmp);
    result
}

/// The packages of `names` that dpkg does not list as installed, or (`backports`) installed
/// but not from bookworm-backports: a stock Debian 12 has linux-image-amd64 6.1, which must
/// become 6.12.
pub fn missing_packages<'a>(names: &[&'a str], backports: bool) -> Vec<&'a str> {
    names
        .iter()
        .copied()
        .filter(|p| {
            let out = Command::new("dpkg-query")
                .args(["-W", "-f=${db:Status-Status} ${Version}", p])
                .stderr(Stdio::null())
                .output();
            let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
            !text.is_ok_and(|t| t.starts_with("installed ") && (!backports || t.contains("~bpo12")))
        })
        .collect()
}

fn packages() -> Result<()> {
    let backports = missing_packages(BACKPORTS_PACKAGES, true);
    let main = missing_packages(MAIN_PACKAGES, false);
    if backports.is_empty() && main.is_empty() {
        return Ok(());
    }
    progress::phase(
        "setup",
        format!(
            "installing {}",
            [&main[..], &backports[..]].concat().join(" ")
        ),
    );
    as_root(&["apt-get", "update", "-q"])?;
    let install = |extra: &[&str], names: &[&str]| {
        if names.is_empty() {
            return Ok(());
        }
        let mut argv = vec!["apt-get", "install", "-y", "-q", "--no-install-recommends"];
        argv.extend_from_slice(extra);
        argv.extend_from_slice(names);
        // zfs-dkms' install script builds the module for every installed kernel.
        as_root_building(&argv)
    };
    install(&[], &main)?;
    install(&["-t", "bookworm-backports"], &backports)
}

fn virtme_ng() -> Result<()> {
    let venv = host::vng_venv();
    let vng = venv.join("bin/vng");
    if Command::new(&vng)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        return Ok(());
    }
    progress::phase(
        "setup",
        format!("installing virtme-ng {VNG_VERSION} into {}", venv.display()),
    );
    // A broken venv is rebuilt; a directory that is not a venv (VNG_VENV pointed elsewhere)
    // is never removed.
    if venv.join("pyvenv.cfg").exists() {
        let _ = std::fs::remove_dir_all(&venv);
    } else if venv.exists() {
        return Err(harness!(
            "{} exists and is not a Python venv: point VNG_VENV elsewhere",
            venv.display()
        ));
    }
    let python = if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    run_checked(Command::new(python).args(["-m", "venv"]).arg(&venv))?;
    run_checked(
        Command::new(venv.join("bin/pip"))
            .args(["install", "-q"])
            .arg(format!("virtme-ng=={VNG_VERSION}")),
    )
}

/// Runs `argv` as root, as [`as_root`], where it builds the zfs module with DKMS: without
/// ftrace's entry hooks (`CC_FLAGS_FTRACE=`, a make variable every `make` below takes from
/// MAKEFLAGS). Loading a module with them, the kernel looks up the symbol of each hooked
/// function in the module's whole symbol table, one by one: for zfs.ko under the test VM's
/// emulation that was most of the 7 s `modprobe zfs` took at every boot. Nothing traces the
/// test guest's module.
fn as_root_building(argv: &[&str]) -> Result<()> {
    let mut flags = std::env::var("MAKEFLAGS").unwrap_or_default();
    if !flags.is_empty() {
        flags.push(' ');
    }
    flags.push_str(NO_FTRACE);
    as_root_env(argv, &[("MAKEFLAGS", &flags)])
}

/// The make variable that builds a kernel module without ftrace's hooks.
const NO_FTRACE: &str = "CC_FLAGS_FTRACE=";

/// Runs `argv` as root: directly when we are root, else through `sudo -E`.
fn as_root(argv: &[&str]) -> Result<()> {
    as_root_env(argv, &[])
}

/// [`as_root`] with `env` set for the command.
fn as_root_env(argv: &[&str], env: &[(&str, &str)]) -> Result<()> {
    let mut cmd = if host::is_root() {
        let mut c = Command::new(argv[0]);
        c.args(&argv[1..]);
        c
    } else {
        let mut c = Command::new("sudo");
        c.arg("-E").args(argv);
        c
    };
    cmd.env("DEBIAN_FRONTEND", "noninteractive");
    cmd.envs(env.iter().copied());
    run_checked(&mut cmd)
}

/// Runs `cmd` with its standard output sent to our standard error: what apt, dkms and pip
/// print is progress, and our standard output carries only the result.
fn run_checked(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .stdout(std::io::stderr())
        .status()
        .map_err(|e| harness!("cannot run {:?}: {e}", cmd.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(harness!("{cmd:?} failed ({status})"))
    }
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}
