//! Snapshots: taken once their dataset exists, while it is still empty.

use super::{Draft, Step, EMPTY_REFERENCED};

pub(super) fn plan(d: &mut Draft<'_>) {
    let state = d.inv.pool.as_ref();
    for s in &d.spec.snapshots {
        let full_ds = d.spec.full_name(&s.dataset);
        let full = format!("{full_ds}@{}", s.name);
        if state.is_some_and(|st| st.snapshots.contains(&full)) {
            continue;
        }
        if let Some(ds) = state.and_then(|st| st.datasets.get(&full_ds)) {
            if ds.referenced > EMPTY_REFERENCED && !d.opts.adopt {
                d.conflicts.push(format!(
                    "{full_ds} already holds data ({} bytes) but has no @{}: a snapshot taken \
                     now would not be blank",
                    ds.referenced, s.name
                ));
                continue;
            }
        }
        d.steps.push(Step::Snapshot { name: full });
    }
}
