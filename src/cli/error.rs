//! A command's failure, and the exit code it deserves.

use crate::api::ApiError;

/// The exit code when a change was sent and whether Studio applied it is unknown.
pub const EXIT_OUTCOME_UNKNOWN: u8 = 3;
/// The exit code when a file on this machine could not be written.
pub const EXIT_LOCAL: u8 = 4;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Bad input from the user: exit code 2.
    #[error("{0}")]
    Usage(String),
    /// Anything else that failed: exit code 1.
    #[error("{0}")]
    Failed(String),
    /// A change was sent, no answer came and reading back failed too: exit code 3.
    #[error("{0}")]
    OutcomeUnknown(String),
    /// A file on this machine could not be written (a path that does not exist, a full
    /// disk): exit code 4, apart from Studio's failures.
    #[error("{0}")]
    Local(String),
    /// A check ran and found what it checks unmet: its report goes to standard output
    /// (a pipeline reads it), exit code 1.
    #[error("{0}")]
    Unmet(String),
    /// A command declined to do what it was asked (`suggest --apply` without `--force`
    /// when a figure gets much worse): what it would have done goes to standard output,
    /// `reason` last on standard error; exit code 1.
    #[error("{reason}")]
    Refused { report: String, reason: String },
    /// Studio, or the way to it: exit code 2 for a configuration mistake, 1 otherwise.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl CommandError {
    pub fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Self::Failed(message.into())
    }

    /// `path` could not be written, for `why`.
    pub fn cannot_write(path: &std::path::Path, why: &std::io::Error) -> Self {
        Self::Local(format!(
            "cannot write {}: {why}",
            crate::text::clean(&path.display().to_string())
        ))
    }

    /// The process's exit code: 1 failed, 2 bad input, 3 outcome unknown, 4 a local file
    /// could not be written.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) | Self::Api(ApiError::Config(_)) => 2,
            Self::OutcomeUnknown(_) => EXIT_OUTCOME_UNKNOWN,
            Self::Local(_) => EXIT_LOCAL,
            Self::Failed(_) | Self::Unmet(_) | Self::Refused { .. } | Self::Api(_) => 1,
        }
    }
}
