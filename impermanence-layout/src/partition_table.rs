//! GPT partition tables: where the spec's partitions go on a disk, what a disk holds, and
//! writing a new table (with the `gpt` crate) then having the kernel and udev see it.

use std::collections::BTreeMap;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::spec::{parse_size, PartitionKind, PartitionSpec};

/// Partitions start on 1 MiB boundaries, as sgdisk, parted and disko place them (and the last
/// one, which takes the rest of the disk, ends on one, as disko's `sgdisk --align-end` ends it).
pub const ALIGN: u64 = 1 << 20;

/// One partition where it goes (or is), in logical sectors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PlacedPartition {
    /// Its number (1-based).
    pub number: u32,
    /// Its GPT name (`PARTLABEL`).
    pub label: String,
    /// Its type GUID.
    pub type_guid: String,
    /// First sector.
    pub first: u64,
    /// Last sector (inclusive).
    pub last: u64,
}

/// The usable sectors of a GPT disk of `bytes` with `sector`-byte sectors: after the
/// protective MBR, the header and 16 KiB of entries; before their backups.
fn usable(bytes: u64, sector: u64) -> (u64, u64) {
    let entries = 16384 / sector;
    let total = bytes / sector;
    (2 + entries, total.saturating_sub(2 + entries))
}

/// Where `partitions` go on a disk of `bytes` with `sector`-byte sectors.
///
/// # Errors
/// What does not fit, or a size that is not one.
pub fn place(
    partitions: &[PartitionSpec],
    bytes: u64,
    sector: u64,
) -> Result<Vec<PlacedPartition>, String> {
    let (_, last_usable) = usable(bytes, sector);
    let align = ALIGN / sector;
    let mut next = align;
    let mut out = Vec::new();
    for (i, p) in partitions.iter().enumerate() {
        let last = match p.size.as_deref() {
            // The rest of the disk, its end aligned down as disko's `sgdisk --align-end
            // --new=N:0:-0` aligns it: a whole number of MiB short of GPT's backup.
            None => ((last_usable + 1) / align * align).saturating_sub(1),
            Some(size) => {
                let bytes =
                    parse_size(size).ok_or_else(|| format!("{}: size '{size}'", p.label))?;
                // Exactly the size, as `sgdisk --new=N:0:+SIZE` makes it (its `--align-end`
                // leaves a sized end where it is); the next partition starts on a MiB boundary.
                let sectors = bytes.div_ceil(sector);
                next + sectors - 1
            }
        };
        if last > last_usable || last < next {
            return Err(format!(
                "partition {} ({}) does not fit: the disk has {} bytes",
                i + 1,
                p.label,
                bytes
            ));
        }
        out.push(PlacedPartition {
            number: u32::try_from(i + 1).unwrap_or(u32::MAX),
            label: p.label.clone(),
            type_guid: p.kind.type_guid().to_owned(),
            first: next,
            last,
        });
        next = (last + 1).div_ceil(align) * align;
    }
    Ok(out)
}

/// The partitions of the GPT on `disk`, or `None` if it has no valid GPT.
pub fn read(disk: &Path, sector: u64) -> Option<Vec<PlacedPartition>> {
    let table = gpt::GptConfig::new()
        .writable(false)
        .logical_block_size(block_size(sector)?)
        .open(disk)
        .ok()?;
    Some(
        table
            .partitions()
            .iter()
            .filter(|(_, p)| p.is_used())
            .map(|(n, p)| PlacedPartition {
                number: *n,
                label: p.name.clone(),
                type_guid: p.part_type_guid.guid.to_string().to_ascii_uppercase(),
                first: p.first_lba,
                last: p.last_lba,
            })
            .collect(),
    )
}

fn block_size(sector: u64) -> Option<gpt::disk::LogicalBlockSize> {
    match sector {
        512 => Some(gpt::disk::LogicalBlockSize::Lb512),
        4096 => Some(gpt::disk::LogicalBlockSize::Lb4096),
        _ => None,
    }
}

fn other(what: String) -> std::io::Error {
    std::io::Error::other(what)
}

/// A disk kept from udev's own re-read of its partition table until this is dropped: a shared
/// BSD lock (`flock`) on the disk's node.
///
/// udev watches every disk: when a writer of it closes it, udevd has the kernel read its table
/// again (`BLKRRPART`), which takes every partition away, links included, and brings it back,
/// a moment later than any reread asked for and waited on. A wipe or a mkfs of a new partition
/// in that moment finds no device. udevd re-reads only a disk it can lock exclusively, so a
/// shared lock stops that, while its rules still run (they take the lock shared) and make the
/// new partitions' links; instead of re-reading, udevd sends the partitions a `change`. Other
/// partitioners that lock as systemd asks (`udevadm lock`, `sfdisk --lock`, `systemd-repart`)
/// wait until it is dropped. (systemd's "Locking Block Device Access" describes the locks.)
#[derive(Debug)]
#[must_use = "udev may read the table again, taking the partitions away for a moment, as soon \
              as the disk is let go"]
pub struct HeldDisk {
    _node: std::fs::File,
}

impl HeldDisk {
    /// How long [`HeldDisk::hold`] waits for a program that holds the disk exclusively: udevd
    /// does while it re-reads the table (a moment); a partitioner that locks as systemd asks
    /// (`udevadm lock`, `sfdisk --lock`) does while it works, and is not written over.
    pub const WAIT: Duration = Duration::from_secs(10);

    /// Holds `disk`, waiting up to [`HeldDisk::WAIT`] while another program holds it
    /// exclusively. The node is opened read-only: closing it is no write for udev to act on.
    ///
    /// # Errors
    /// The disk cannot be opened, or is still held exclusively after the wait
    /// ([`std::io::ErrorKind::WouldBlock`]).
    pub fn hold(disk: &Path) -> std::io::Result<HeldDisk> {
        Self::hold_within(disk, Self::WAIT)
    }

    fn hold_within(disk: &Path, wait: Duration) -> std::io::Result<HeldDisk> {
        let node = std::fs::File::open(disk)?;
        let start = std::time::Instant::now();
        loop {
            // SAFETY: an open descriptor; flock does not touch memory.
            if unsafe { libc::flock(node.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) } == 0 {
                return Ok(HeldDisk { _node: node });
            }
            let e = std::io::Error::last_os_error();
            match e.kind() {
                std::io::ErrorKind::Interrupted => continue,
                std::io::ErrorKind::WouldBlock if start.elapsed() < wait => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                std::io::ErrorKind::WouldBlock => {
                    return Err(std::io::Error::new(
                        e.kind(),
                        format!(
                            "another program holds {} exclusively (a BSD lock, as partitioners \
                             take it) and did not let go within {} s",
                            disk.display(),
                            wait.as_secs()
                        ),
                    ))
                }
                kind => {
                    return Err(std::io::Error::new(
                        kind,
                        format!("cannot lock {}: {e}", disk.display()),
                    ))
                }
            }
        }
    }
}

/// Writes a new GPT with `placed` on the block device `disk` (see [`write_table`]) and has the
/// kernel read it again, which it refuses (busy) while a partition of it is in use.
///
/// The disk is held from before the first write: keep the [`HeldDisk`] while working on the
/// new partitions, which udev would otherwise take away and bring back once more.
pub fn write(disk: &Path, sector: u64, placed: &[PlacedPartition]) -> std::io::Result<HeldDisk> {
    let bytes = crate::disk::geometry(disk)
        .map(|(b, _)| b)
        .ok_or_else(|| other(format!("{} is not a block device", disk.display())))?;
    let held = HeldDisk::hold(disk)?;
    // Every signature on the disk itself goes first (the old table's two headers, a
    // filesystem made on the bare disk); wipefs, like the exclusive open below, is refused
    // while anything on the disk is in use (mounted, swap, a mapping, a pool).
    crate::filesystem::wipe(disk)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_EXCL)
        .open(disk)
        .map_err(|e| other(format!("{} is in use: {e}", disk.display())))?;
    write_table(file, bytes, sector, placed)?;
    reread(disk)?;
    Ok(held)
}

/// Writes a protective MBR and a new GPT (both headers) with `placed` to `file` of `bytes`,
/// a disk or an image file open for reading and writing, and flushes it.
pub fn write_table(
    mut file: std::fs::File,
    bytes: u64,
    sector: u64,
    placed: &[PlacedPartition],
) -> std::io::Result<()> {
    use std::io::Write as _;
    let lb = block_size(sector).ok_or_else(|| other(format!("{sector}-byte sectors")))?;
    let sectors = u32::try_from(bytes / sector - 1).unwrap_or(u32::MAX);
    gpt::mbr::ProtectiveMBR::with_lb_size(sectors)
        .overwrite_lba0(&mut file)
        .map_err(|e| other(format!("protective MBR: {e}")))?;
    let mut table = gpt::GptConfig::new()
        .writable(true)
        .logical_block_size(lb)
        .create_from_device(file, None)
        .map_err(|e| other(format!("new GPT: {e}")))?;
    table
        .update_partitions(BTreeMap::new())
        .map_err(|e| other(format!("new GPT: {e}")))?;
    for p in placed {
        let kind = PartitionKind::from_type_guid(&p.type_guid)
            .ok_or_else(|| other(format!("type {}", p.type_guid)))?;
        let part_type = gpt::partition_types::Type::from_name(kind_name(kind))
            .map_err(|e| other(format!("type {}: {e}", p.type_guid)))?;
        table
            .add_partition_at(
                &p.label,
                p.number,
                p.first,
                p.last - p.first + 1,
                part_type,
                0,
            )
            .map_err(|e| other(format!("partition {} ({}): {e}", p.number, p.label)))?;
    }
    let mut file = table
        .write()
        .map_err(|e| other(format!("writing the GPT: {e}")))?;
    file.flush()?;
    file.sync_all()
}

/// The `gpt` crate's name of a kind's type.
fn kind_name(kind: PartitionKind) -> &'static str {
    match kind {
        PartitionKind::Esp => "EFI",
        PartitionKind::Zfs => "MACOS_ZFS",
        PartitionKind::Swap => "LINUX_SWAP",
        PartitionKind::Linux => "LINUX_FS",
        PartitionKind::BiosBoot => "BIOS",
    }
}

/// Has the kernel read `disk`'s partition table again (`blockdev --rereadpt`, refused while a
/// partition is in use), then waits for udev to make the links.
fn reread(disk: &Path) -> std::io::Result<()> {
    let mut last = String::new();
    // Right after a write, udev's own probe of the disk can hold it open for a moment.
    for attempt in 0..20 {
        let out = std::process::Command::new("blockdev")
            .arg("--rereadpt")
            .arg(disk)
            .output()?;
        if out.status.success() {
            let _ = std::process::Command::new("udevadm").arg("settle").status();
            return Ok(());
        }
        last = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        std::thread::sleep(Duration::from_millis(100 * (attempt + 1)));
    }
    Err(other(format!(
        "the kernel did not take the new partition table of {}: {last}",
        disk.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A disk that another program holds exclusively (as `udevadm lock` does) is waited for,
    /// then refused with a typed error; one held shared (udev's rules) is held at once, and
    /// the hold keeps an exclusive locker out until dropped.
    #[test]
    fn a_disk_held_exclusively_elsewhere_is_refused_after_the_wait() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let other = std::fs::File::open(file.path()).unwrap();
        // SAFETY: an open descriptor; flock does not touch memory.
        let lock = |how| unsafe { libc::flock(other.as_raw_fd(), how) };
        assert_eq!(lock(libc::LOCK_EX), 0);
        let start = std::time::Instant::now();
        let e = HeldDisk::hold_within(file.path(), Duration::from_millis(300)).unwrap_err();
        assert!(start.elapsed() >= Duration::from_millis(300));
        assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
        assert!(e.to_string().contains("holds"), "{e}");
        assert_eq!(lock(libc::LOCK_SH), 0);
        let held = HeldDisk::hold_within(file.path(), Duration::ZERO).unwrap();
        assert_ne!(lock(libc::LOCK_EX | libc::LOCK_NB), 0);
        drop(held);
        assert_eq!(lock(libc::LOCK_EX | libc::LOCK_NB), 0);
    }

    fn part(label: &str, kind: PartitionKind, size: Option<&str>) -> PartitionSpec {
        PartitionSpec::new(label, kind, size)
    }

    /// An ESP of 512M, 1M of BIOS boot, the rest for ZFS, on a 10 GiB disk of 512-byte
    /// sectors: starts on MiB boundaries, the last one ends on one too, before GPT's backup,
    /// where disko's `sgdisk --align-end --new=3:0:-0` ends it (sector 20969471, read from
    /// sgdisk 1.0.9's own table).
    #[test]
    fn partitions_are_aligned_to_a_mebibyte_and_the_last_takes_the_rest() {
        let parts = [
            part("ESP", PartitionKind::Esp, Some("512M")),
            part("bios", PartitionKind::BiosBoot, Some("1M")),
            part("zfs", PartitionKind::Zfs, None),
        ];
        let placed = place(&parts, 10 << 30, 512).unwrap();
        let spans: Vec<(u64, u64)> = placed.iter().map(|p| (p.first, p.last)).collect();
        let total = (10u64 << 30) / 512;
        assert_eq!(
            spans,
            [
                (2048, 2048 + 1048576 - 1),
                (1050624, 1050624 + 2048 - 1),
                (1052672, 20969471)
            ]
        );
        assert!(20969471 < total - 34 && (20969471 + 1) % 2048 == 0);
        // 4K sectors: the same bytes.
        let placed = place(&parts, 10 << 30, 4096).unwrap();
        assert_eq!((placed[0].first, placed[0].last), (256, 256 + 131072 - 1));
        assert_eq!(placed[2].last, 10239 * 256 - 1);
        // Odd sizes are exact, as sgdisk makes them; the next partition starts on a MiB.
        let placed = place(
            &[
                part("a", PartitionKind::Linux, Some("1000K")),
                part("b", PartitionKind::Linux, Some("1M")),
            ],
            1 << 30,
            512,
        )
        .unwrap();
        assert_eq!((placed[0].first, placed[0].last), (2048, 2048 + 2000 - 1));
        assert_eq!(placed[1].first, 4096);
    }

    #[test]
    fn what_does_not_fit_is_named() {
        let parts = [
            part("ESP", PartitionKind::Esp, Some("1G")),
            part("zfs", PartitionKind::Zfs, Some("2G")),
        ];
        let e = place(&parts, 2 << 30, 512).unwrap_err();
        assert!(e.contains("partition 2 (zfs) does not fit"), "{e}");
    }

    /// A table written to an image file reads back as placed, and `sfdisk --json` (util-linux,
    /// not this crate) sees the same partitions, labels and types.
    #[test]
    fn a_written_table_reads_back_and_sfdisk_agrees() {
        let dir = tempfile::tempdir().unwrap();
        let img = dir.path().join("disk.img");
        let bytes = 256u64 << 20;
        std::fs::File::create(&img).unwrap().set_len(bytes).unwrap();
        let parts = [
            part("ESP", PartitionKind::Esp, Some("64M")),
            part("swap", PartitionKind::Swap, Some("32M")),
            part("zroot", PartitionKind::Zfs, None),
        ];
        let placed = place(&parts, bytes, 512).unwrap();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&img)
            .unwrap();
        write_table(file, bytes, 512, &placed).unwrap();
        assert_eq!(read(&img, 512).unwrap(), placed);
        let Ok(out) = std::process::Command::new("sfdisk")
            .arg("--json")
            .arg(&img)
            .output()
        else {
            panic!("sfdisk (package fdisk) is needed: ci/setup installs it");
        };
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let table = &v["partitiontable"];
        assert_eq!(table["label"], "gpt");
        let seen: Vec<(String, String, u64, u64)> = table["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_owned(),
                    p["type"].as_str().unwrap().to_owned(),
                    p["start"].as_u64().unwrap(),
                    p["size"].as_u64().unwrap(),
                )
            })
            .collect();
        let want: Vec<(String, String, u64, u64)> = placed
            .iter()
            .map(|p| {
                (
                    p.label.clone(),
                    p.type_guid.clone(),
                    p.first,
                    p.last - p.first + 1,
                )
            })
            .collect();
        assert_eq!(seen, want);
    }

    /// The partitions disko makes (`sgdisk --align-end --new=N:0:+SIZE`, the last
    /// `--new=N:0:-0`, one call per partition, as lib/types/gpt.nix runs them) are the ones
    /// `place` puts there, on disks of odd sizes (image files: 512-byte sectors).
    #[test]
    fn disko_s_sgdisk_calls_make_the_placed_table() {
        let dir = tempfile::tempdir().unwrap();
        let parts = [
            part("ESP", PartitionKind::Esp, Some("64M")),
            part("swap", PartitionKind::Swap, Some("1500K")),
            part("zroot", PartitionKind::Zfs, None),
        ];
        for (bytes, sector) in [((300u64 << 20) + 12345 * 512, 512), (777u64 << 20, 512)] {
            let img = dir.path().join(format!("{bytes}.img"));
            std::fs::File::create(&img).unwrap().set_len(bytes).unwrap();
            for (i, size) in ["+64M", "+1500K", "-0"].iter().enumerate() {
                let ok = std::process::Command::new("sgdisk")
                    .arg("--align-end")
                    .arg(format!("--new={}:0:{size}", i + 1))
                    .arg(&img)
                    .output()
                    .unwrap_or_else(|e| panic!("sgdisk (package gdisk; ci/setup installs it): {e}"))
                    .status
                    .success();
                assert!(ok, "sgdisk --new={}:0:{size}", i + 1);
            }
            let theirs: Vec<(u64, u64)> = read(&img, sector)
                .unwrap()
                .iter()
                .map(|p| (p.first, p.last))
                .collect();
            let ours: Vec<(u64, u64)> = place(&parts, bytes, sector)
                .unwrap()
                .iter()
                .map(|p| (p.first, p.last))
                .collect();
            assert_eq!(ours, theirs, "{bytes} bytes");
        }
    }
}
