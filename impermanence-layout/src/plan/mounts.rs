//! `--mount-root DIR`: the layout mounted under DIR as the installed system will see it.
//!
//! What gets mounted where, parents first:
//! - every filesystem ZFS mounts itself (`canmount=on` and a path mountpoint, the pool's root
//!   included) at DIR + its mountpoint, as `zpool import -R DIR` and `zfs mount -a` do;
//! - every `[[boot.mounts]]` entry (the `legacy` ones of an impermanence layout) at DIR + its path;
//! - the guide's convention: a `legacy` dataset named `root`, when nothing else goes to `/`, at
//!   DIR itself (the guide's `mount -t zfs zroot/root /mnt`).
//!
//! A filesystem already mounted where the plan would mount it is left alone, so a second run
//! is a no-op; mounted anywhere else, it is a conflict.

use std::path::{Path, PathBuf};

use super::{Draft, Step};
use crate::spec::Spec;

/// One mount the install makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InstallMount {
    /// What is mounted: a full dataset name, or a partition's device.
    pub source: String,
    /// `zfs`, or the partition's filesystem (`vfat`).
    pub fstype: &'static str,
    /// Where, as the installed system sees it (`/`, `/nix`).
    pub path: String,
    /// `mount -o` options.
    pub options: Vec<String>,
    /// `neededForBoot` (a boot mount's).
    pub needed_for_boot: bool,
}

/// What `--mount-root` mounts, parents first (by the depth of the path; the spec's order
/// otherwise), of every pool of the spec.
pub(crate) fn install_mounts(spec: &Spec) -> Vec<InstallMount> {
    if !spec.has_several_pools() {
        return install_mounts_one(spec);
    }
    let mut out: Vec<InstallMount> = Vec::new();
    for m in spec.pool_specs().iter().flat_map(install_mounts_one) {
        // The partitions' filesystems are in every pool's view.
        if !out.contains(&m) {
            out.push(m);
        }
    }
    out.sort_by_key(|m| depth(&m.path));
    out
}

fn install_mounts_one(spec: &Spec) -> Vec<InstallMount> {
    let mut out: Vec<InstallMount> = spec
        .boot
        .mounts
        .iter()
        .map(|m| InstallMount {
            source: spec.full_name(&m.dataset),
            fstype: "zfs",
            path: m.path.clone(),
            options: mount_options(spec, m),
            needed_for_boot: m.needed_for_boot,
        })
        .collect();
    let relatives = std::iter::once("").chain(
        spec.datasets
            .iter()
            .filter(|d| !d.is_volume())
            .map(|d| d.name.as_str()),
    );
    for relative in relatives {
        let dataset = full(spec, relative);
        let path = spec.mountpoint(relative);
        if path.starts_with('/')
            && spec.canmount(relative) == "on"
            && !out.iter().any(|m| m.source == dataset)
        {
            out.push(InstallMount {
                source: dataset,
                fstype: "zfs",
                path,
                options: vec!["zfsutil".into()],
                needed_for_boot: false,
            });
        }
    }
    let root_taken = out.iter().any(|m| m.path.trim_end_matches('/').is_empty());
    let guide_root =
        spec.dataset("root").is_some_and(|d| !d.is_volume()) && spec.mountpoint("root") == "legacy";
    if guide_root && !root_taken {
        out.push(InstallMount {
            source: spec.full_name("root"),
            fstype: "zfs",
            path: "/".into(),
            options: zfs_mount_options(spec, "root", &[]),
            needed_for_boot: false,
        });
    }
    for (device, fs) in spec.block_filesystems() {
        if let Some(path) = &fs.mountpoint {
            out.push(InstallMount {
                source: device.display().to_string(),
                fstype: fs.format.blkid_type(),
                path: path.clone(),
                options: fs.options.clone(),
                needed_for_boot: false,
            });
        }
    }
    out.sort_by_key(|m| depth(&m.path));
    out
}

/// Where a partition of the spec's disks (whose disk is not partitioned anew by this plan) or
/// a volume of the spec is mounted now: everywhere it is.
fn device_mounted_at<'i>(d: &Draft<'i>, device: &Path) -> &'i [PathBuf] {
    let partition = d.spec.disks.iter().find_map(|disk| {
        let i = disk.partitions.iter().position(|p| p.device() == device)?;
        Some((disk, u32::try_from(i + 1).ok()?))
    });
    let found = match partition {
        Some((disk, _)) if d.partitioned.contains(&disk.device) => None,
        Some((disk, number)) => d
            .inv
            .disks
            .get(&disk.device)
            .and_then(|have| have.partition(number))
            .map(|p| p.mounted_at.as_slice()),
        None => device
            .strip_prefix("/dev/zvol")
            .ok()
            .and_then(|v| v.to_str())
            .and_then(|v| d.inv.pool.as_ref()?.datasets.get(v))
            .map(|ds| ds.device_mounted_at.as_slice()),
    };
    found.unwrap_or_default()
}

/// `/` is 0, `/nix` 1, `/nix/store` 2.
pub(super) fn depth(path: &str) -> usize {
    Path::new(path)
        .components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .count()
}

fn full(spec: &Spec, relative: &str) -> String {
    if relative.is_empty() {
        spec.pool.name.clone()
    } else {
        spec.full_name(relative)
    }
}

/// `path` (absolute) under `root`.
fn under(root: &Path, path: &str) -> PathBuf {
    match path.trim_matches('/') {
        "" => root.to_path_buf(),
        rest => root.join(rest),
    }
}

pub(super) fn plan(d: &mut Draft<'_>) {
    let Some(root) = d.opts.mount_root.as_deref() else {
        return;
    };
    let mounted = d.inv.pool.as_ref().map(|s| &s.mounted);
    for m in install_mounts(d.spec) {
        let path = under(root, &m.path);
        let is_zfs = m.fstype == "zfs";
        let now: &[PathBuf] = if is_zfs {
            mounted
                .and_then(|all| all.get(&m.source))
                .map(std::slice::from_ref)
                .unwrap_or_default()
        } else {
            device_mounted_at(d, Path::new(&m.source))
        };
        match now.first() {
            _ if now.contains(&path) => {}
            Some(at) => d.conflicts.push(format!(
                "{} is mounted at {}, and --mount-root mounts it at {}: unmount it first",
                m.source,
                at.display(),
                path.display(),
            )),
            None if is_zfs => d.steps.push(Step::Mount {
                dataset: m.source,
                path,
                options: m.options,
            }),
            None => d.steps.push(Step::MountDevice {
                device: PathBuf::from(m.source),
                path,
                fstype: m.fstype.to_owned(),
                options: m.options,
            }),
        }
    }
}

/// The options a mount of the spec gets: its own, and `zfsutil` where the dataset's
/// mountpoint is not `legacy` (mount(8) of such a dataset needs it, as NixOS documents).
fn mount_options(spec: &Spec, mount: &crate::spec::MountSpec) -> Vec<String> {
    zfs_mount_options(spec, &mount.dataset, &mount.options)
}

/// `own`, with `zfsutil` first where the spec's dataset `relative` has a mountpoint other
/// than `legacy`: the options of every mount the plan makes, so that its printed `mount`
/// runs as printed.
fn zfs_mount_options(spec: &Spec, relative: &str, own: &[String]) -> Vec<String> {
    let mut out = own.to_vec();
    if spec.mountpoint(relative) != "legacy" && !out.iter().any(|o| o == "zfsutil") {
        out.insert(0, "zfsutil".into());
    }
    out
}
