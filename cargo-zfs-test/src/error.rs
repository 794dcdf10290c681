//! The runner's one error type, and the exit codes it maps to.

/// Why a run could not report a test result.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line makes no sense (exit code 2).
    #[error("{0}\n(see `cargo zfs-test --help`)")]
    Usage(String),
    /// The machine could not be prepared, the tests did not build, or the VM did not run them
    /// (exit code 125: never a test result).
    #[error("{0}")]
    Harness(String),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            Error::Harness(_) => HARNESS_FAILED,
        }
    }
}

/// Exit code when the tests could not run at all (as `git bisect run` reads 125: "cannot test").
pub const HARNESS_FAILED: i32 = 125;

/// Shorthand for a harness error with a formatted message.
macro_rules! harness {
    ($($arg:tt)*) => { $crate::error::Error::Harness(format!($($arg)*)) };
}
pub(crate) use harness;

pub type Result<T, E = Error> = std::result::Result<T, E>;
