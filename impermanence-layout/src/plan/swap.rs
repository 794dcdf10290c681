//! Swap volumes: formatted (`mkswap`) once they exist, so that `swapDevices` finds swap.

use std::path::PathBuf;

use super::{Draft, Step};
use crate::spec::FilesystemFormat;

/// The device node of a volume (`/dev/zvol/zroot/swap`).
pub fn volume_device(full_name: &str) -> PathBuf {
    PathBuf::from(format!("/dev/zvol/{full_name}"))
}

fn format_swap(full: &str) -> Step {
    Step::Format {
        device: volume_device(full),
        format: FilesystemFormat::Swap,
        label: None,
    }
}

pub(super) fn plan(d: &mut Draft<'_>) {
    for name in &d.spec.boot.swap {
        let full = d.spec.full_name(name);
        let existing = d.inv.pool.as_ref().and_then(|s| s.datasets.get(&full));
        match existing {
            // Not a volume: the datasets' plan already says so.
            Some(ds) if !ds.is_volume => {}
            Some(ds) => match ds.signature.as_deref() {
                Some("swap") => {}
                None => d.steps.push(format_swap(&full)),
                Some(other) => d.conflicts.push(format!(
                    "{full} is swap in the spec, and blkid finds {other} on it: refusing to \
                     format it (wipefs -a {} to give it up)",
                    volume_device(&full).display()
                )),
            },
            None => d.steps.push(format_swap(&full)),
        }
    }
}
