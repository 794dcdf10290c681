//! The crate's error type.

use crate::plan::Step;
use crate::spec::SpecErrors;

/// Why a layout could not be planned, applied or verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// The spec is invalid; nothing was touched.
    #[error(transparent)]
    Spec(#[from] SpecErrors),
    /// What exists conflicts with the spec; nothing was changed.
    #[error("refusing to change what exists; it differs from the spec:\n  - {}\n(nothing was changed; adopt the existing objects to settle these differences)", .0.join("\n  - "))]
    Conflict(Vec<String>),
    /// A step failed; everything this run had done was undone.
    #[error("step {index} failed: `{command}`: {source}{}", undo_note(.undo_failures))]
    Step {
        /// 1-based step number.
        index: usize,
        /// The step's command.
        command: String,
        /// Why.
        source: zfs_core::Error,
        /// Undo actions that failed too (empty: the system is as it was).
        undo_failures: Vec<String>,
    },
    /// Another run is applying a layout to this pool; nothing was changed.
    #[error("another impermanence-layout apply of pool '{pool}' is running{}; nothing was changed (wait for it, then run again)", .holder.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    Locked {
        /// The pool.
        pool: String,
        /// The process holding the lock, if it said.
        holder: Option<u32>,
    },
    /// An encryption root's key is missing or wrong; nothing was changed.
    #[error("no usable key for encryption root '{dataset}': {reason}; nothing was changed")]
    Key {
        /// The encryption root.
        dataset: String,
        /// What is wrong.
        reason: String,
    },
    /// Reading the system failed.
    #[error(transparent)]
    Zfs(#[from] zfs_core::Error),
}

fn undo_note(failures: &[String]) -> String {
    if failures.is_empty() {
        "\neverything this run had created was removed again; the system is as it was".into()
    } else {
        format!(
            "\nundoing it failed too, clean up by hand:\n  - {}",
            failures.join("\n  - ")
        )
    }
}

impl LayoutError {
    /// The CLI's exit code: 2 for a bad spec, 1 for a refusal or failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            LayoutError::Spec(_) => 2,
            _ => 1,
        }
    }

    pub(crate) fn step(
        index: usize,
        step: &Step,
        source: zfs_core::Error,
        undo_failures: Vec<String>,
    ) -> LayoutError {
        LayoutError::Step {
            index,
            command: step.to_command(),
            source,
            undo_failures,
        }
    }
}
