//! The host half of a VM run: a state directory the guest can write, two blank scratch disks,
//! virtme-ng booting the newest kernel under QEMU with this machine's root file system shared
//! read-only, and the guest's exit code read back from the state directory.
//!
//! A VM that does not boot, a module that does not load, or a timeout is a harness failure
//! (exit code 125), never a test result.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::VmOptions;
use crate::error::{harness, Error, Result};
use crate::job::Job;
use crate::{cached, host, installed_modules, interrupt, progress, setup};

/// Files in the state directory.
pub const JOB_FILE: &str = "job.json";
pub const BOOTED_FILE: &str = "booted";
pub const RC_FILE: &str = "rc";
pub const GUEST_ERROR_FILE: &str = "guest-error";
/// The kernel modules to load instead of `modprobe zfs`, one path per line, in order.
pub const MODULES_FILE: &str = "modules";
/// What `--vm-modules DIR` loads, in this order.
pub const MODULE_FILES: &[&str] = &["spl.ko", "zfs.ko"];

const SCRATCH_DISKS: usize = 2;
const SCRATCH_BYTES: u64 = 512 << 20;
/// The CPU the guest sees under software emulation, in place of virtme-ng's `max` (QEMU takes
/// the last `-cpu`): the same without AVX. With AVX the guest's kernel, libc and ZFS take AVX
/// code paths (AES-GCM above all) and save the wide vector state at every kernel FPU section,
/// which QEMU emulates slowly: `encryption` took 51 s on `max`, 27 s without AVX, and the rest
/// ran as fast (docs/testing.md, "The emulated CPU").
pub const EMULATED_CPU: &str = "max,-avx";

/// Kernel modules the guest never needs, kept from loading (`module_blacklist=`). At boot
/// virtme-ng starts udev, which loads a driver for every device QEMU's machine has (the
/// SATA controller and its CD-ROM, watchdogs, the PC speaker, mouse, SMBus, KVM inside the
/// guest) and the CPU's crypto and CRC accelerations, which ZFS does not use (it brings its
/// own; ext4, XFS and vfat, which the tests also make, take the generic code). Each is read
/// over 9p and linked under emulation: without them the guest was up in 23 s instead of 32
/// (two boots each, alternated). A name this kernel does not have is ignored.
#[rustfmt::skip]
const UNUSED_MODULES: &[&str] = &[
    // devices of QEMU's machine
    "ahci", "libata", "scsi_mod", "sg", "sr_mod", "cdrom", "button", "qemu_fw_cfg",
    "watchdog", "i6300esb", "iTCO_wdt", "iTCO_vendor_support", "lpc_ich", "intel_pmc_bxt",
    "i2c_smbus", "i2c_i801", "pcspkr", "serio_raw", "evdev", "psmouse",
    // hardware virtualization inside the guest
    "kvm", "kvm_amd", "kvm_intel", "ccp",
    // the CPU's crypto and CRC accelerations
    "cryptd", "aesni_intel", "ghash_clmulni_intel", "sha1_ssse3", "sha256_ssse3",
    "sha512_ssse3", "crc32c_intel", "crc32_pclmul", "crct10dif_pclmul",
];

/// A directory removed on drop, even after an error.
struct StateDir(PathBuf);

impl Drop for StateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `job` in a fresh VM; `rwdirs` are the host directories the guest may write, `cached`
/// ones it only reads and that do not change while it runs (see [`cached`]).
pub fn run(job: &Job, vm: &VmOptions, rwdirs: &[PathBuf], cached: &[PathBuf]) -> Result<i32> {
    let kver = setup::check_ready()?;
    interrupt::catch();
    let runs = host::cache_dir().join("runs");
    std::fs::create_dir_all(&runs).map_err(|e| harness!("creating {}: {e}", runs.display()))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let state = StateDir(runs.join(format!("run-{}-{nanos}", std::process::id())));
    std::fs::create_dir(&state.0).map_err(|e| harness!("creating {}: {e}", state.0.display()))?;
    // The job file holds the forwarded environment: ours alone to read.
    std::fs::set_permissions(&state.0, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| harness!("chmod {}: {e}", state.0.display()))?;
    check_memory(&vm.memory)?;
    std::fs::write(state.0.join(JOB_FILE), job.to_json()?)
        .map_err(|e| harness!("writing the job file: {e}"))?;
    // The modules the guest loads with insmod, spl first; none: `modprobe zfs`.
    let modules = match &vm.modules {
        Some(dir) => Some(
            MODULE_FILES
                .iter()
                .map(|name| {
                    std::fs::canonicalize(dir.join(name)).map_err(|e| {
                        Error::Usage(format!("--vm-modules: {}: {e}", dir.join(name).display()))
                    })
                })
                .collect::<Result<Vec<_>>>()?,
        ),
        None => installed_modules::uncompressed(&kver),
    };
    if let Some(modules) = modules {
        let list: String = modules
            .iter()
            .map(|m| format!("{}\n", m.display()))
            .collect();
        std::fs::write(state.0.join(MODULES_FILE), list)
            .map_err(|e| harness!("writing the module list: {e}"))?;
    }

    let mut qemu_opts = String::new();
    for i in 0..SCRATCH_DISKS {
        let disk = state.0.join(format!("scratch{i}"));
        std::fs::File::create(&disk)
            .and_then(|f| f.set_len(SCRATCH_BYTES))
            .map_err(|e| harness!("creating scratch disk {}: {e}", disk.display()))?;
        // raw, said explicitly, so that QEMU does not guard block 0 against the guest.
        qemu_opts.push_str(&format!(
            " -drive if=none,id=scratch{i},format=raw,file={} -device virtio-blk-pci,drive=scratch{i},serial=zfs-scratch{i}",
            disk.display()
        ));
    }

    let exe = std::env::current_exe().map_err(|e| harness!("where is the runner? {e}"))?;
    let writable = writable_dirs(rwdirs, &state.0);
    let cached = cached_dirs(cached, &vm.cached, rwdirs, &state.0)?;
    let (cached_opts, cached_list) = cached::qemu_options(&cached);
    qemu_opts.push_str(&cached_opts);
    std::fs::write(state.0.join(cached::LIST_FILE), cached_list)
        .map_err(|e| harness!("writing the list of cached directories: {e}"))?;
    for path in writable.iter().chain([&exe]) {
        check_vng_path(path)?;
    }
    let venv = host::vng_venv();
    let path = std::env::join_paths(std::iter::once(venv.join("bin")).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .map_err(|e| harness!("PATH: {e}"))?;

    let launch = |kvm: bool, timeout_secs: u64| -> Result<Waited> {
        let mut cmd = Command::new("timeout");
        cmd.arg("--kill-after=30")
            .arg(timeout_secs.to_string())
            .arg(venv.join("bin/vng"))
            .arg("--run")
            .arg(format!("/boot/vmlinuz-{kver}"));
        if !kvm {
            cmd.arg("--disable-kvm");
        }
        cmd.args([
            // virtio-fs would be chosen where virtiofsd is installed: not under emulation
            // (see `cached`).
            "--force-9p",
            "--cpus",
            &vm.cpus.to_string(),
            "--memory",
            &vm.memory,
        ]);
        for dir in &writable {
            cmd.arg("--rwdir").arg(dir);
        }
        // Debian's kernel zeroes every allocation (CONFIG_INIT_ON_ALLOC_DEFAULT_ON), a
        // hardening a throwaway test guest does not need: under emulation that zeroing was
        // 7 % of the guest's busy time, most of it in ZFS's own caches.
        cmd.args(["--append", "init_on_alloc=0"]);
        cmd.arg("--append")
            .arg(format!("module_blacklist={}", UNUSED_MODULES.join(",")));
        cmd.args(["--overlay-rwdir", "/etc", "--exec"])
            .arg(format!(
                "{} __guest {}",
                shell_quote(&exe.to_string_lossy()),
                shell_quote(&state.0.to_string_lossy())
            ))
            .arg(if kvm {
                format!("--qemu-opts={qemu_opts}")
            } else {
                format!("--qemu-opts={qemu_opts} -cpu {}", vm.cpu_model)
            })
            .env("PATH", &path)
            .stdin(Stdio::null())
            // Pipes, not our own stdout: when that is a regular file the VM console would
            // reopen and truncate it, wiping what the caller logged there before.
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        progress::phase(
            "vm",
            format!(
                "booting {kver} ({}, {} CPUs, {} memory)",
                if kvm {
                    "KVM"
                } else {
                    "QEMU software emulation"
                },
                vm.cpus,
                vm.memory
            ),
        );
        let mut child = cmd
            .spawn()
            .map_err(|e| harness!("cannot start virtme-ng: {e}"))?;
        let kvm_error = Arc::new(AtomicBool::new(false));
        let copiers = [
            copy_thread(child.stdout.take(), std::io::stdout, kvm_error.clone()),
            copy_thread(child.stderr.take(), std::io::stderr, kvm_error.clone()),
        ];
        let watch = kvm.then(|| KvmWatch {
            deadline: Instant::now() + KVM_BOOT_DEADLINE,
            error: kvm_error,
        });
        let waited = wait_reporting_boot(&mut child, &state.0, watch.as_ref())?;
        for c in copiers.into_iter().flatten() {
            let _ = c.join();
        }
        Ok(waited)
    };
    // /dev/kvm can open and still fail: QEMU may exit at once (nested virtualisation without
    // the MSRs it wants), or report a KVM internal error and sit paused forever (an instruction
    // KVM cannot emulate). A KVM VM that failed quickly, or that was stopped for such an error
    // or for not coming up within KVM_BOOT_DEADLINE, is retried once under software emulation,
    // with the time that is left.
    let started = Instant::now();
    let kvm = host::kvm_usable();
    let (mut status, kvm_stuck) = match launch(kvm, vm.timeout_secs)? {
        Waited::Exited(status) => (status, None),
        Waited::KvmStuck(why, status) => (status, Some(why)),
    };
    let quick = started.elapsed() < Duration::from_secs(60);
    let kvm_failed =
        kvm_stuck.is_some() || (quick && !timed_out(status) && !state.0.join(BOOTED_FILE).exists());
    if kvm && kvm_failed {
        host::remember_kvm_failed();
        progress::phase(
            "vm",
            format!(
                "KVM did not boot the guest ({}); trying software emulation",
                kvm_stuck.as_deref().unwrap_or("QEMU exited")
            ),
        );
        let left = vm
            .timeout_secs
            .saturating_sub(started.elapsed().as_secs())
            .max(1);
        status = match launch(false, left)? {
            Waited::Exited(status) | Waited::KvmStuck(_, status) => status,
        };
    }
    let timed_out = timed_out(status);
    if !state.0.join(BOOTED_FILE).exists() {
        return Err(if timed_out {
            harness!(
                "the VM did not come up within {} s (timed out)",
                vm.timeout_secs
            )
        } else {
            harness!("the VM did not boot (virtme-ng: {status})")
        });
    }
    if let Ok(message) = std::fs::read_to_string(state.0.join(GUEST_ERROR_FILE)) {
        return Err(harness!("in the guest: {message}"));
    }
    let rc = std::fs::read_to_string(state.0.join(RC_FILE)).ok();
    match rc.as_deref().map(str::trim).map(str::parse::<i32>) {
        Some(Ok(rc)) => Ok(rc),
        _ if timed_out => Err(harness!(
            "the job did not finish within {} s (--vm-timeout)",
            vm.timeout_secs
        )),
        _ => Err(harness!(
            "the VM stopped before the job finished (virtme-ng: {status})"
        )),
    }
}

/// `timeout` says 124 when it stopped the VM, 137 when it had to kill it.
fn timed_out(status: std::process::ExitStatus) -> bool {
    matches!(status.code(), Some(124 | 137))
}

/// virtme-ng puts paths and sizes into a shell command line unquoted and refuses some
/// characters in writable directories: refuse what it would mangle, naming it.
fn check_vng_path(path: &Path) -> Result<()> {
    let ok = path.to_str().is_some_and(|s| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_+/.-".contains(&b))
    });
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{}: virtme-ng cannot share a path with characters other than A-Z a-z 0-9 _ + / . -",
            path.display()
        )))
    }
}

/// A size QEMU reads, and nothing a shell would read more into: `3G`, `512M`, `2048`.
fn check_memory(memory: &str) -> Result<()> {
    let digits = memory.trim_end_matches(['K', 'M', 'G', 'T']);
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && memory.len() - digits.len() <= 1
    {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "--vm-memory: `{memory}` is not a size like 3G or 512M"
        )))
    }
}

/// The directories to cache (see [`cached`]), canonical: of `all`, those [`cached::select`]
/// keeps. One the user named (`--vm-cached`, in `named`) that does not exist, is not a
/// directory or cannot be cached is refused up front, before QEMU would fail on it.
fn cached_dirs(
    all: &[PathBuf],
    named: &[PathBuf],
    rwdirs: &[PathBuf],
    state: &Path,
) -> Result<Vec<PathBuf>> {
    let canonical = |d: &PathBuf| std::fs::canonicalize(d).unwrap_or_else(|_| d.clone());
    let written: Vec<PathBuf> = rwdirs
        .iter()
        .chain([&state.to_owned()])
        .map(canonical)
        .collect();
    let shareable = |d: &Path| check_vng_path(d).is_ok();
    for dir in named {
        let refused = |why: String| Error::Usage(format!("--vm-cached {}: {why}", dir.display()));
        let path = std::fs::canonicalize(dir).map_err(|e| refused(e.to_string()))?;
        if !path.is_dir() {
            return Err(refused("not a directory".into()));
        }
        if let Some(why) = cached::refusal(&path, &written, shareable) {
            return Err(refused(why));
        }
    }
    let all: Vec<PathBuf> = all.iter().map(canonical).collect();
    Ok(cached::select(&all, &written, shareable))
}

/// The directories given (or none), without any that lie inside another, plus the state dir.
fn writable_dirs(rwdirs: &[PathBuf], state: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = rwdirs
        .iter()
        .map(|d| std::fs::canonicalize(d).unwrap_or_else(|_| d.clone()))
        .collect();
    dirs.push(state.to_owned());
    dirs.sort();
    dirs.dedup();
    let all = dirs.clone();
    dirs.retain(|d| !all.iter().any(|o| o != d && d.starts_with(o)));
    dirs
}

/// What QEMU prints when KVM fails inside the guest; it then pauses the VM instead of exiting.
const KVM_ERROR_TEXT: &[u8] = b"KVM internal error";
/// A guest under KVM is up in seconds; one that is not after this is stuck.
const KVM_BOOT_DEADLINE: Duration = Duration::from_secs(90);

/// Copies the VM's output through, setting `kvm_error` when QEMU reports a KVM internal error.
fn copy_thread<R: Read + Send + 'static, W: Write + 'static>(
    from: Option<R>,
    to: fn() -> W,
    kvm_error: Arc<AtomicBool>,
) -> Option<std::thread::JoinHandle<()>> {
    let mut from = from?;
    Some(std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        // The end of the previous read, so that the text is found across two reads.
        let mut tail: Vec<u8> = Vec::new();
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            let mut out = to();
            let _ = out.write_all(&buf[..n]);
            let _ = out.flush();
            tail.extend_from_slice(&buf[..n]);
            if contains(&tail, KVM_ERROR_TEXT) {
                kvm_error.store(true, Ordering::SeqCst);
            }
            let keep = tail.len().saturating_sub(KVM_ERROR_TEXT.len());
            tail.drain(..keep);
        }
    }))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// How a KVM VM is watched until its guest comes up.
struct KvmWatch {
    deadline: Instant,
    error: Arc<AtomicBool>,
}

/// How waiting for the VM ended.
enum Waited {
    Exited(std::process::ExitStatus),
    /// A KVM VM that reported an internal error, or missed its boot deadline, before the guest
    /// came up; it has been stopped.
    KvmStuck(String, std::process::ExitStatus),
}

/// Stops the VM: `timeout` leads its own process group (the VM's), so the whole group. By
/// kill(2), not a `kill` program: a minimal root has none (procps is not installed), and a
/// failed stop would leave us waiting for a VM that never ends.
fn stop_group(child: &mut Child) -> Result<std::process::ExitStatus> {
    let group = libc::pid_t::try_from(child.id())
        .map_err(|_| harness!("the VM's process id {} is out of range", child.id()))?;
    // SAFETY: kill(2) with a negative pid signals that process group; it touches no memory.
    if unsafe { libc::kill(-group, libc::SIGTERM) } != 0 {
        let err = std::io::Error::last_os_error();
        // Already gone (ESRCH) is fine: wait reaps it.
        if err.raw_os_error() != Some(libc::ESRCH) {
            let _ = child.kill();
            return Err(harness!("stopping the VM (process group {group}): {err}"));
        }
    }
    child
        .wait()
        .map_err(|e| harness!("waiting for the VM: {e}"))
}

/// How long the guest has to power off once its job has ended: a test that left a process
/// asleep in the kernel can keep it from ever getting there.
const POWER_OFF_GRACE: Duration = Duration::from_secs(60);

/// Waits for the VM, saying once when the guest has come up; with `kvm`, stops a VM whose
/// guest is not up by the deadline or whose QEMU reported a KVM internal error. A VM still
/// there [`POWER_OFF_GRACE`] after its job ended is stopped.
fn wait_reporting_boot(child: &mut Child, state: &Path, kvm: Option<&KvmWatch>) -> Result<Waited> {
    let mut reported = false;
    let mut job_ended: Option<Instant> = None;
    loop {
        if interrupt::interrupted() {
            stop_group(child)?;
            return Err(harness!("interrupted: the VM was stopped"));
        }
        if let Some(status) = child
            .try_wait()
            .map_err(|e| harness!("waiting for the VM: {e}"))?
        {
            return Ok(Waited::Exited(status));
        }
        if job_ended.is_none()
            && (state.join(RC_FILE).exists() || state.join(GUEST_ERROR_FILE).exists())
        {
            job_ended = Some(Instant::now());
        }
        if job_ended.is_some_and(|t| t.elapsed() > POWER_OFF_GRACE) {
            progress::phase(
                "vm",
                format!(
                    "the job ended, but the guest had not powered off {} s later; stopping it",
                    POWER_OFF_GRACE.as_secs()
                ),
            );
            return Ok(Waited::Exited(stop_group(child)?));
        }
        let booted = state.join(BOOTED_FILE).exists();
        if !reported && booted {
            reported = true;
            progress::phase("vm", "the guest is up; loading zfs and running the job");
        }
        if let (Some(watch), false) = (kvm, booted) {
            let why = if watch.error.load(Ordering::SeqCst) {
                Some("QEMU reported a KVM internal error".to_owned())
            } else if Instant::now() > watch.deadline {
                Some(format!(
                    "the guest was not up after {} s",
                    KVM_BOOT_DEADLINE.as_secs()
                ))
            } else {
                None
            };
            if let Some(why) = why {
                let status = stop_group(child)?;
                return Ok(Waited::KvmStuck(why, status));
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `s` quoted for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the harness and the tests load in the guest stays loadable: the ZFS modules, the
    /// scratch disks' and the shared root's drivers, loop devices, and the file systems the
    /// layout makes.
    #[test]
    fn no_module_the_guest_uses_is_kept_from_loading() {
        for needed in [
            "spl",
            "zfs",
            "virtio_blk",
            "virtio_pci",
            "9p",
            "9pnet",
            "9pnet_virtio",
            "overlay",
            "loop",
            "ext4",
            "xfs",
            "vfat",
            "fat",
            "crc32c_generic",
            "libcrc32c",
            "jbd2",
        ] {
            assert!(!UNUSED_MODULES.contains(&needed), "{needed}");
        }
        assert!(UNUSED_MODULES
            .iter()
            .all(|m| !m.is_empty() && !m.contains([',', ' ', '-'])));
    }

    /// Hands out its chunks one read at a time.
    struct Chunks(Vec<&'static [u8]>);
    impl Read for Chunks {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Ok(0);
            }
            let chunk = self.0.remove(0);
            buf[..chunk.len()].copy_from_slice(chunk);
            Ok(chunk.len())
        }
    }

    fn sees_kvm_error(chunks: Vec<&'static [u8]>) -> bool {
        let flag = Arc::new(AtomicBool::new(false));
        copy_thread(Some(Chunks(chunks)), std::io::sink, flag.clone())
            .unwrap()
            .join()
            .unwrap();
        flag.load(Ordering::SeqCst)
    }

    #[test]
    fn a_kvm_internal_error_is_seen_even_across_two_reads() {
        assert!(sees_kvm_error(vec![
            b"boot\nKVM internal error. Suberror: 1\n"
        ]));
        assert!(sees_kvm_error(vec![
            b"...KVM inter",
            b"nal error. Suberror: 1"
        ]));
        assert!(sees_kvm_error(vec![b"K", b"VM internal", b" error"]));
        assert!(!sees_kvm_error(vec![b"KVM internal", b"\nerror"]));
        assert!(!sees_kvm_error(vec![b"[    0.000000] Linux version 6.12"]));
    }

    #[test]
    fn nested_writable_dirs_collapse_into_their_parent() {
        let dirs = writable_dirs(
            &["/w".into(), "/w/target".into(), "/x".into(), "/w".into()],
            Path::new("/c/run-1"),
        );
        assert_eq!(dirs, [PathBuf::from("/c/run-1"), "/w".into(), "/x".into()]);
    }

    #[test]
    fn what_virtme_ng_would_mangle_is_refused() {
        for good in [
            "/work/main",
            "/root/.cache/cargo-zfs-test/runs/run-1-2",
            "/a+b_c.d-e",
        ] {
            assert!(check_vng_path(Path::new(good)).is_ok(), "{good}");
        }
        for bad in ["/ws@2", "/a b", "/x;rm", "", "/é"] {
            assert!(check_vng_path(Path::new(bad)).is_err(), "{bad}");
        }
        for good in ["3G", "512M", "2048", "1T"] {
            assert!(check_memory(good).is_ok(), "{good}");
        }
        for bad in ["", "G", "3GG", "3G;reboot", "-1", "3 G"] {
            assert!(check_memory(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shell_quoting_survives_quotes() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
