//! Disks: a new GPT where the spec's partitions are not there yet.
//!
//! A disk already partitioned as the spec says is left alone (a second run). Otherwise it gets
//! a new table: at once when it is blank, with `--wipe` when it holds anything (partitions, a
//! partition table, a filesystem), never while something uses it (mounted, swap, a live
//! pool's). The new table is the one change an undo cannot take back.

use super::{Draft, Step};
use crate::partition_table::place;

pub(super) fn plan(d: &mut Draft<'_>) {
    for disk in &d.spec.disks {
        let name = disk.device.display();
        let Some(have) = d.inv.disks.get(&disk.device) else {
            d.conflicts.push(format!("disk {name} does not exist"));
            continue;
        };
        let placed = match place(&disk.partitions, have.bytes, have.sector) {
            Ok(p) => p,
            Err(e) => {
                d.conflicts.push(format!("disk {name}: {e}"));
                continue;
            }
        };
        if have.table.as_ref() == Some(&placed) {
            // The kernel must have read it too: after a failed reread it still has the old
            // partitions, and their links lead there.
            let current = have.partitions.len() == placed.len()
                && placed.iter().all(|p| {
                    let want = (p.first * have.sector, (p.last - p.first + 1) * have.sector);
                    have.partition(p.number).and_then(|k| k.span) == Some(want)
                });
            if !current {
                d.conflicts.push(format!(
                    "disk {name} has the spec's partition table, but the kernel has not read \
                     it (blockdev --rereadpt {name}, or reboot)"
                ));
            }
            continue;
        }
        if !have.in_use.is_empty() {
            d.conflicts.push(format!(
                "disk {name} is in use ({}): refusing to repartition it",
                have.in_use.join("; ")
            ));
            continue;
        }
        if !have.is_blank() && !d.opts.wipe {
            let holds = match (&have.table, have.partitions.len(), &have.signature) {
                (Some(t), _, _) => format!(
                    "a GPT of {} partition(s) that differs from the spec",
                    t.len()
                ),
                (None, n, _) if n > 0 => format!("{n} partition(s)"),
                (_, _, Some(sig)) => format!("a {sig} signature"),
                _ => "data".to_owned(),
            };
            d.conflicts.push(format!(
                "disk {name} holds {holds}: refusing to repartition it (--wipe gives it a new \
                 partition table, which cannot be undone)"
            ));
            continue;
        }
        d.partitioned.push(disk.device.clone());
        d.steps.push(Step::PartitionDisk {
            disk: disk.device.clone(),
            sector: have.sector,
            partitions: placed,
        });
    }
}
