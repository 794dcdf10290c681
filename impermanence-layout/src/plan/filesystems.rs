//! Filesystems on the spec's partitions: made where the partition is new or blank, left alone
//! where they are there, refused where something else is (unless `--wipe`).

use super::{Draft, Step};

pub(super) fn plan(d: &mut Draft<'_>) {
    for disk in &d.spec.disks {
        for (i, part) in disk.partitions.iter().enumerate() {
            let Some(fs) = &part.filesystem else {
                continue;
            };
            let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let format = Step::Format {
                device: part.device(),
                format: fs.format,
                label: fs.label.clone(),
            };
            if d.partitioned.contains(&disk.device) {
                d.steps.push(format);
                continue;
            }
            let Some(have) = d.inv.disks.get(&disk.device) else {
                continue; // the disk's own conflict says why
            };
            let found = have.partition(number).and_then(|p| p.signature.as_deref());
            match found {
                Some(t) if t == fs.format.blkid_type() => {}
                None => d.steps.push(format),
                Some(_) if d.opts.wipe => d.steps.push(format),
                Some(other) => d.conflicts.push(format!(
                    "{} holds {other}, the spec makes {} there: refusing to format it (--wipe)",
                    part.device().display(),
                    fs.format.blkid_type()
                )),
            }
        }
    }
}
