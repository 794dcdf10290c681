//! Carrying out a [`Plan`] all or nothing.
//!
//! `step.rs` runs one step and records how to take it back; `create.rs` runs consecutive
//! dataset creations as one batch; `undo.rs` takes a failed run back, newest first;
//! `devices.rs` turns the spec's topology into zfs-core's device tree.

mod create;
mod devices;
mod step;
mod undo;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use zfs_core::{Key, Zfs};

use self::create::{create_group, group_end, new_root_keys, Keys};
use self::step::run;
use self::undo::{roll_back, Undo};
use crate::error::LayoutError;
use crate::plan::{Plan, Step};

pub(crate) use self::devices::vdev_spec;
/// A progress callback, called once per finished step.
pub type OnStep<'a> = &'a mut dyn FnMut(&StepDone<'_>);

/// A progress callback, called as each step starts, with its 1-based number and the step
/// (the steps of a batch start together).
pub type OnStart<'a> = &'a mut dyn FnMut(usize, &Step);

/// One finished step, as reported to [`ApplyOptions::on_step`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StepDone<'p> {
    /// Its number, 1-based.
    pub number: usize,
    /// The step.
    pub step: &'p Step,
    /// How long it took; for a step done in a batch, how long the whole batch took.
    pub took: Duration,
    /// The numbers of the first and last steps of the batch it was done in (dataset
    /// creations run together), or `None` for a step done on its own.
    pub batch: Option<(usize, usize)>,
}

/// Options for [`apply`].
#[derive(Default)]
pub struct ApplyOptions<'a> {
    on_step: Option<OnStep<'a>>,
    on_start: Option<OnStart<'a>>,
    fail_at: Option<usize>,
    keys: HashMap<String, Key>,
}

impl<'a> ApplyOptions<'a> {
    /// No progress reports.
    pub fn new() -> ApplyOptions<'a> {
        ApplyOptions::default()
    }

    /// Called after each step with its number, the step and how long it took.
    pub fn on_step(mut self, f: OnStep<'a>) -> ApplyOptions<'a> {
        self.on_step = Some(f);
        self
    }

    /// Called as each step starts (an installer's progress bar shows what runs now).
    pub fn on_start(mut self, f: OnStart<'a>) -> ApplyOptions<'a> {
        self.on_start = Some(f);
        self
    }

    /// The key of an encryption root whose `keylocation` is `prompt` (by full name; the pool's
    /// name for its root): used to create it, and to load it before mounting it if it is
    /// locked. Keys of `file://` locations are read from their files.
    pub fn key(mut self, encryption_root: &str, key: Key) -> ApplyOptions<'a> {
        self.keys.insert(encryption_root.to_owned(), key);
        self
    }

    /// Test hook (feature `testing`): step `k` (1-based) fails as if ZFS had refused it.
    #[cfg(feature = "testing")]
    pub fn fail_at(mut self, k: usize) -> ApplyOptions<'a> {
        self.fail_at = Some(k);
        self
    }
}

impl std::fmt::Debug for ApplyOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplyOptions")
            .field("on_step", &self.on_step.is_some())
            .field("on_start", &self.on_start.is_some())
            .field("fail_at", &self.fail_at)
            .field("keys", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Carries out `plan`. If a step fails, every step this call did is undone, newest first, and
/// the error says whether the undo was complete. Refuses a plan with conflicts.
///
/// Consecutive dataset creations run as one [`Zfs::create_datasets`] batch (siblings share
/// transaction groups); each of them is reported to `on_step` when the batch is done, with the
/// batch's duration.
///
/// # Errors
/// [`LayoutError::Conflict`] before doing anything; [`LayoutError::Step`] after undoing.
pub fn apply(zfs: &Zfs, plan: &Plan, mut opts: ApplyOptions<'_>) -> Result<(), LayoutError> {
    if !plan.conflicts.is_empty() {
        return Err(LayoutError::Conflict(plan.conflicts.clone()));
    }
    let steps = &plan.steps;
    // Every key the plan needs, before anything changes.
    let keys = Keys {
        new_roots: new_root_keys(steps, &opts.keys)?,
        given: &opts.keys,
    };
    let mut undo: Vec<Undo> = Vec::new();
    let mut i = 0;
    while i < steps.len() {
        let started = Instant::now();
        let mut end = group_end(steps, i);
        // An injected failure inside a group: the steps before it run, then it fails.
        let injected = opts
            .fail_at
            .and_then(|k| k.checked_sub(1))
            .filter(|k| (i..end).contains(k));
        if let Some(k) = injected {
            end = k;
        }
        if let Some(cb) = opts.on_start.as_mut() {
            for (j, step) in steps.iter().enumerate().take(end.max(i + 1)).skip(i) {
                cb(j + 1, step);
            }
        }
        let result = match &steps[i..end] {
            [] => Ok(()),
            [one] => run(zfs, one, &keys, &mut undo).map_err(|e| (i, e)),
            group => create_group(zfs, group, &keys, &mut undo).map_err(|(j, e)| (i + j, e)),
        };
        let result = match (result, injected) {
            (Ok(()), Some(k)) => Err((k, injected_failure(&steps[k]))),
            (other, _) => other,
        };
        if let Err((k, e)) = result {
            let failures = roll_back(zfs, undo);
            return Err(LayoutError::step(k + 1, &steps[k], e, failures));
        }
        if let Some(cb) = opts.on_step.as_mut() {
            let took = started.elapsed();
            let batch = (end - i > 1).then_some((i + 1, end));
            for (j, step) in steps.iter().enumerate().take(end).skip(i) {
                cb(&StepDone {
                    number: j + 1,
                    step,
                    took,
                    batch,
                });
            }
        }
        i = end;
    }
    Ok(())
}

/// The failure a `fail_at` hook makes.
#[cfg(feature = "testing")]
fn injected_failure(step: &Step) -> zfs_core::Error {
    zfs_core::Error::injected(&step.to_command())
}

/// Without the `testing` feature `fail_at` is never set.
#[cfg(not(feature = "testing"))]
fn injected_failure(_step: &Step) -> zfs_core::Error {
    unreachable!("fail_at is only settable with the testing feature")
}

#[cfg(test)]
mod tests {
    use super::*;
    use zfs_core::{Leaf, TopLevel, VdevSpec};

    /// The tree apply builds for classes that mix groups and single devices: each class's
    /// single devices, then its groups, as the printed `zpool create` words give them (see
    /// `a_class_mixing_mirrors_and_single_devices_prints_the_tree_apply_builds`).
    #[test]
    fn a_class_mixing_mirrors_and_single_devices_is_built_as_printed() {
        let t = crate::test_support::mixed_topology();
        let files = |names: &[&str]| names.iter().map(Leaf::file).collect::<Vec<_>>();
        let want = VdevSpec::new()
            .vdev(TopLevel::Single(Leaf::file("/d/c")))
            .vdev(TopLevel::Mirror(files(&["/d/a", "/d/b"])))
            .log(TopLevel::Single(Leaf::file("/d/l3")))
            .log(TopLevel::Mirror(files(&["/d/l1", "/d/l2"])))
            .special(TopLevel::Single(Leaf::file("/d/s3")))
            .special(TopLevel::Single(Leaf::file("/d/s4")))
            .special(TopLevel::Mirror(files(&["/d/s1", "/d/s2"])))
            .special(TopLevel::Mirror(files(&["/d/s5", "/d/s6"])))
            .dedup(TopLevel::Single(Leaf::file("/d/x1")))
            .dedup(TopLevel::Mirror(files(&["/d/x2", "/d/x3"])))
            .cache(Leaf::file("/d/k"));
        assert_eq!(vdev_spec(&t), want);
    }

    #[test]
    fn options_show_the_fault_hook_and_whether_a_callback_is_set() {
        let shown = format!(
            "{:?}",
            ApplyOptions {
                on_step: None,
                on_start: None,
                fail_at: Some(3),
                keys: HashMap::new(),
            }
            .key("zroot/secret", Key::passphrase("never shown").unwrap())
        );
        assert_eq!(
            shown,
            "ApplyOptions { on_step: false, on_start: false, fail_at: Some(3), keys: [\"zroot/secret\"] }"
        );
    }
}
