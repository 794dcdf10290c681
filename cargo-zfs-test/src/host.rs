//! Facts about this machine: is ZFS loaded here, which kernel the VM boots, where virtme-ng is.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// True where the tests can run directly: `/dev/zfs` exists and we are root.
pub fn zfs_here() -> bool {
    Path::new("/dev/zfs").exists() && is_root()
}

/// Our effective user is root (`/proc/self` belongs to the effective uid).
pub fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The runner's cache: `$XDG_CACHE_HOME/cargo-zfs-test` or `~/.cache/cargo-zfs-test`.
pub fn cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/var/cache"));
    base.join("cargo-zfs-test")
}

/// Where virtme-ng is installed: `$VNG_VENV`, else a venv in the cache.
pub fn vng_venv() -> PathBuf {
    std::env::var_os("VNG_VENV")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| cache_dir().join("vng-venv"))
}

/// The newest kernel under /boot (`vmlinuz-VERSION`): the one the VM boots.
pub fn guest_kernel() -> Option<String> {
    let names = std::fs::read_dir("/boot").ok()?.filter_map(|e| {
        e.ok()?
            .file_name()
            .to_str()?
            .strip_prefix("vmlinuz-")
            .map(str::to_owned)
    });
    names.max_by(|a, b| version_cmp(a, b))
}

/// Compares kernel versions the way `sort -V` does: runs of digits as numbers.
pub fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn chunks(s: &str) -> Vec<Result<u64, String>> {
        let mut out = Vec::new();
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            let digit = c.is_ascii_digit();
            let end = rest
                .find(|ch: char| ch.is_ascii_digit() != digit)
                .unwrap_or(rest.len());
            let (chunk, tail) = rest.split_at(end);
            out.push(if digit {
                Ok(chunk.parse().unwrap_or(u64::MAX))
            } else {
                Err(chunk.to_owned())
            });
            rest = tail;
        }
        out
    }
    chunks(a).cmp(&chunks(b))
}

/// True when a zfs module (`zfs.ko`, possibly compressed) is installed for kernel `kver`.
pub fn zfs_module_built(kver: &str) -> bool {
    fn find(dir: &Path, depth: u32) -> bool {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return false;
        };
        entries.flatten().any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name == "zfs.ko" || name.starts_with("zfs.ko.") {
                return true;
            }
            depth > 0 && e.file_type().is_ok_and(|t| t.is_dir()) && find(&e.path(), depth - 1)
        })
    }
    find(&Path::new("/lib/modules").join(kver), 8)
}

/// True when KVM can be used (much faster than software emulation).
pub fn kvm_usable() -> bool {
    std::fs::read_to_string("/proc/cpuinfo").is_ok_and(|c| hardware_virtualization(&c))
        && std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/kvm")
            .is_ok()
        && !kvm_failed_since_boot()
}

/// Whether the CPU offers hardware virtualization (`vmx` or `svm` among `/proc/cpuinfo`'s
/// flags). A `/dev/kvm` without it is a paravirtual one (`kvm_pvm` on some cloud sandboxes)
/// that runs only kernels built for it: it stops an ordinary guest kernel early with an
/// "emulation failure", and trying it first cost every fresh host a failed boot.
fn hardware_virtualization(cpuinfo: &str) -> bool {
    cpuinfo
        .lines()
        .find(|l| l.starts_with("flags"))
        .and_then(|l| l.split_once(':'))
        .is_some_and(|(_, flags)| flags.split_whitespace().any(|f| f == "vmx" || f == "svm"))
}

/// Where a KVM failure is remembered: the host's boot id at the time.
fn kvm_failed_file() -> PathBuf {
    cache_dir().join("kvm-failed")
}

fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_owned())
}

/// True when KVM failed to boot a guest earlier since this host booted: it fails the same way
/// every time, so later VMs go straight to software emulation.
fn kvm_failed_since_boot() -> bool {
    let recorded = std::fs::read_to_string(kvm_failed_file()).ok();
    recorded.is_some_and(|r| Some(r.trim().to_owned()) == boot_id())
}

/// Remembers, until the host reboots, that KVM cannot boot a guest here.
pub fn remember_kvm_failed() {
    if let Some(id) = boot_id() {
        let _ = std::fs::create_dir_all(cache_dir());
        let _ = std::fs::write(kvm_failed_file(), id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::*;

    #[test]
    fn kvm_needs_the_cpus_virtualization_flag() {
        let amd = "processor\t: 0\nflags\t\t: fpu vme sse2 svm lahf_lm\n";
        let intel = "flags\t\t: fpu vmx ept\nflags\t\t: fpu vmx ept\n";
        let sandbox = "model name\t: AMD EPYC\nflags\t\t: fpu sse2 hypervisor lahf_lm\n";
        assert!(hardware_virtualization(amd));
        assert!(hardware_virtualization(intel));
        assert!(!hardware_virtualization(sandbox));
        assert!(!hardware_virtualization("flags\t\t: fpu svmx vmxe\n"));
        assert!(!hardware_virtualization(""));
    }

    #[test]
    fn kernel_versions_sort_numerically() {
        assert_eq!(
            version_cmp("6.12.38+deb12-amd64", "6.1.0-37-amd64"),
            Greater
        );
        assert_eq!(version_cmp("6.1.0-9-amd64", "6.1.0-37-amd64"), Less);
        assert_eq!(version_cmp("6.12.9", "6.12.9"), Equal);
    }
}
