//! Errors of the Studio client, each one something a user can act on.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ApiError {
    /// The configuration cannot work (a malformed base URL, a key with bad characters).
    #[error("configuration: {0}")]
    Config(String),

    /// The request never got an answer: no route, refused, reset, timed out.
    #[error("{operation}: could not reach {url}: {reason}")]
    Network {
        operation: &'static str,
        url: String,
        reason: String,
        /// A timeout or a connection dropped after the request went out: the server may
        /// or may not have applied it.
        outcome_unknown: bool,
    },

    /// The server answered with an HTTP error status.
    #[error("{operation}: HTTP {status}: {message}")]
    Status {
        operation: &'static str,
        status: u16,
        message: String,
    },

    /// The server answered `success: false`.
    #[error("{operation}: {message}")]
    Refused {
        operation: &'static str,
        message: String,
    },

    /// The answer was not what the spec promises.
    #[error("{operation}: unexpected response at `{path}`: {message}")]
    Decode {
        operation: &'static str,
        path: String,
        message: String,
    },
}

impl ApiError {
    /// The API operation (its operationId) that failed, if any.
    pub fn operation(&self) -> Option<&'static str> {
        match self {
            Self::Config(_) => None,
            Self::Network { operation, .. }
            | Self::Status { operation, .. }
            | Self::Refused { operation, .. }
            | Self::Decode { operation, .. } => Some(operation),
        }
    }

    /// A short reason for narrow places (a slider's state, a status line).
    pub fn short_reason(&self) -> String {
        match self {
            Self::Config(_) => "configuration".into(),
            Self::Network {
                outcome_unknown, ..
            } => {
                if *outcome_unknown {
                    "no answer".into()
                } else {
                    "unreachable".into()
                }
            }
            Self::Status { status, .. } => format!("HTTP {status}"),
            Self::Refused { .. } => "refused".into(),
            Self::Decode { .. } => "bad response".into(),
        }
    }

    /// Whether a model testing job running on the project blocked the request.
    pub fn is_blocked_by_job(&self) -> bool {
        matches!(self, Self::Refused { message, .. } if message.contains(BLOCKED_BY_JOB))
    }
}

/// The phrase with which set-thresholds refuses while a model testing job runs.
pub const BLOCKED_BY_JOB: &str = "blocked by a running model testing job";
