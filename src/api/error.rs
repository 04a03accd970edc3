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
        /// How long the server asked to wait (`Retry-After`), if it did.
        retry_after: Option<std::time::Duration>,
    },

    /// A 2xx answer that is not JSON at all (a proxy's error page, an empty or cut body).
    #[error("{operation}: the answer was not JSON: {message}")]
    Garbled {
        operation: &'static str,
        message: String,
    },

    /// The server answered `success: false`.
    #[error("{operation}: {message}")]
    Refused {
        operation: &'static str,
        message: String,
    },

    /// Studio refused a change while a job was running in the project: the refusal's
    /// words are not fixed by the spec, so the client asks listActiveJobs instead.
    #[error(
        "{operation}: job {job_id} ({category}) runs in the project: try again when it ends (Studio said: {message})"
    )]
    BlockedByJob {
        operation: &'static str,
        message: String,
        job_id: u64,
        /// The job's category as Studio names it, control characters removed.
        category: String,
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
            | Self::Garbled { operation, .. }
            | Self::Refused { operation, .. }
            | Self::BlockedByJob { operation, .. }
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
            Self::BlockedByJob { job_id, .. } => format!("job {job_id} running"),
            Self::Decode { .. } => "bad response".into(),
            Self::Garbled { .. } => "garbled answer".into(),
        }
    }

    /// Whether trying again may succeed: the network, a busy or failing gateway, a garbled
    /// answer. A refusal, a 4xx or an answer of the wrong shape will not change.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network { .. } | Self::Garbled { .. } => true,
            Self::Status { status, .. } => matches!(status, 429 | 502 | 503 | 504),
            Self::Config(_)
            | Self::Refused { .. }
            | Self::BlockedByJob { .. }
            | Self::Decode { .. } => false,
        }
    }

    /// The wait the server asked for.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the request may have been applied although no answer came.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Self::Network {
                outcome_unknown, ..
            } => *outcome_unknown,
            // A cut, garbled or unreadable 2xx body: the server did answer success, maybe.
            Self::Garbled { .. } | Self::Decode { .. } => true,
            // A gateway's failure may come after the service applied the request.
            Self::Status { status, .. } => matches!(status, 500 | 502 | 504),
            _ => false,
        }
    }

    /// The job that was running in the project when Studio refused a change.
    pub fn blocking_job(&self) -> Option<u64> {
        match self {
            Self::BlockedByJob { job_id, .. } => Some(*job_id),
            _ => None,
        }
    }

    /// Whether a job running in the project may be why Studio refused: a refusal of a
    /// well-formed request (`success: false`, or a 4xx that is not about access, the path
    /// or the rate).
    pub fn may_be_blocked_by_job(&self) -> bool {
        match self {
            Self::Refused { .. } => true,
            Self::Status { status, .. } => {
                (400..500).contains(status) && !matches!(status, 401 | 403 | 404 | 413 | 429)
            }
            _ => false,
        }
    }
}
