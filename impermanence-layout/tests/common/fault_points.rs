//! Where a fault-injection loop fails a plan.
//!
//! A fault at step k runs the plan's first k - 1 steps and undoes them, so a fault at every
//! step of an n-step plan runs about n^2 / 2 steps: under emulation that was most of the
//! layout tests' time. How a step is undone depends on its kind and on what ran before it;
//! each kind's first and last occurrence bound that (its first has the fewest of its kind
//! before it, its last the most, and the first and last of a batch of dataset creations are
//! the batch's edges); the plan's first and last step are among them. One more step, drawn
//! anew each run among the others, covers every step over many runs, as the random trees of
//! zfs-core's tests cover many shapes.
//!
//! `ZFS_TEST_FAULT_DRAW=D` makes that draw again (a failure's output names it);
//! `ZFS_TEST_FAULT_STEPS=all` fails at every step instead (worth it after a change to the
//! undo code). The runner hands every `ZFS_TEST_*` variable to the guest.

/// The 1-based steps to fail at, ascending, for a plan whose steps are of `kinds` (one entry
/// per step, equal entries for steps of one kind): see the module's doc. Prints them and how
/// to draw them again.
pub fn fault_points<K: PartialEq>(kinds: &[K]) -> Vec<usize> {
    if let Ok(v) = std::env::var("ZFS_TEST_FAULT_STEPS") {
        assert_eq!(v, "all", "ZFS_TEST_FAULT_STEPS={v:?}: only `all` is known");
        eprintln!("faults at every step, 1 to {}", kinds.len());
        return (1..=kinds.len()).collect();
    }
    let draw = match std::env::var("ZFS_TEST_FAULT_DRAW") {
        Ok(v) => v
            .parse::<u64>()
            .unwrap_or_else(|_| panic!("ZFS_TEST_FAULT_DRAW={v:?} is not a number")),
        Err(_) => {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            (t.as_nanos() as u64 ^ u64::from(std::process::id()) << 32)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                >> 40
        }
    };
    let points = fault_points_drawn(kinds, draw);
    eprintln!(
        "faults at steps {points:?} of {} (ZFS_TEST_FAULT_DRAW={draw} draws them again)",
        kinds.len()
    );
    points
}

/// [`fault_points`] with its draw given: each kind's first and last step, and the
/// `draw % m`-th of the m other steps, if there are any.
pub fn fault_points_drawn<K: PartialEq>(kinds: &[K], draw: u64) -> Vec<usize> {
    let edge = |i: usize| {
        kinds.iter().position(|k| *k == kinds[i]) == Some(i)
            || kinds.iter().rposition(|k| *k == kinds[i]) == Some(i)
    };
    let (mut points, others): (Vec<usize>, Vec<usize>) = (0..kinds.len()).partition(|&i| edge(i));
    if !others.is_empty() {
        points.push(others[(draw % others.len() as u64) as usize]);
        points.sort_unstable();
    }
    points.into_iter().map(|i| i + 1).collect()
}

/// The kind of each step of `plan`, for [`fault_points`].
pub fn step_kinds(
    plan: &impermanence_layout::Plan,
) -> Vec<std::mem::Discriminant<impermanence_layout::Step>> {
    plan.steps.iter().map(std::mem::discriminant).collect()
}

/// The kind of each step of a plan printed by `impermanence-layout plan --json` (its `step`
/// field), for [`fault_points`].
pub fn json_step_kinds(steps: &[serde_json::Value]) -> Vec<String> {
    steps
        .iter()
        .map(|s| s["step"].as_str().unwrap_or_default().to_owned())
        .collect()
}
