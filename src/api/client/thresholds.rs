//! setImpulseThresholds, and the words of a write: what the writer believed Studio held,
//! what someone else changed meanwhile, and what became of the write. The write itself,
//! guarded, retried and read back, is `crate::write`.

use super::StudioClient;
use crate::api::error::ApiError;
use crate::api::models::*;

/// A threshold as the client last knew it on Studio, before changing it.
#[derive(Debug, Clone, PartialEq)]
pub struct Believed {
    pub block: ImpulseLearnBlock,
    pub key: String,
    pub value: ThresholdValue,
    /// Values this client sent without learning whether they were applied: finding one
    /// of them on Studio is no sign of another writer.
    pub maybe_ours: Vec<ThresholdValue>,
}

/// A threshold that someone else changed on Studio since the client read it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangedElsewhere {
    pub block_id: u64,
    pub key: String,
    /// What Studio holds now.
    pub value: ThresholdValue,
}

/// What to write: the values, and what the writer last knew Studio held for each.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    pub project: u64,
    pub impulse: u64,
    pub request: SetImpulseThresholdsRequest,
    /// One per value sent: what it was believed to be on Studio. A value without one is
    /// sent unguarded.
    pub believed: Vec<Believed>,
}

/// How hard a write tries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Attempts while the call surely was not applied; 1 for a caller that schedules its
    /// own retries.
    pub attempts: u32,
    /// After a lost answer, read back what Studio holds (a caller with its own read-back
    /// schedule does not).
    pub read_back: bool,
    /// The writer lives on after the write (the tuner): what follows the answer (keeping
    /// the kept scores standing) may finish in the background instead of delaying it.
    pub lives_on: bool,
}

impl Policy {
    /// A command: a few attempts, a quarter second apart and doubling, and a read-back.
    pub const COMMAND: Self = Self {
        attempts: 4,
        read_back: true,
        lives_on: false,
    };
    /// The tuner: one attempt; it schedules retries and read-backs itself.
    pub const ONCE: Self = Self {
        attempts: 1,
        read_back: false,
        lives_on: true,
    };
}

/// What became of a write.
#[derive(Debug)]
pub enum Outcome {
    /// Every value sent was applied. `response`: Studio's answer, `None` when the answer
    /// was lost and reading back found every value applied.
    Applied {
        response: Option<SetImpulseThresholdsResponse>,
    },
    /// Some values had been changed elsewhere since they were read and were left out; the
    /// others were applied.
    Partial {
        response: SetImpulseThresholdsResponse,
        changed_elsewhere: Vec<ChangedElsewhere>,
    },
    /// Every value had been changed elsewhere: nothing was sent.
    ChangedElsewhere(Vec<ChangedElsewhere>),
    /// The values could not be read before writing (the guard): nothing was sent.
    NotSent { error: ApiError },
    /// Studio did not apply the call: it refused it, or it surely never arrived.
    NotApplied { error: ApiError },
    /// No answer says whether Studio applied the call: not read back, reading back
    /// failed, or Studio did not hold every value yet when read back (a call in transit
    /// may still land).
    Unknown { error: ApiError },
}

impl Outcome {
    /// Studio's answer, when it gave one.
    pub fn response(&self) -> Option<&SetImpulseThresholdsResponse> {
        match self {
            Self::Applied { response } => response.as_ref(),
            Self::Partial { response, .. } => Some(response),
            _ => None,
        }
    }

    /// Values left out because someone else changed them.
    pub fn changed_elsewhere(&self) -> &[ChangedElsewhere] {
        match self {
            Self::Partial {
                changed_elsewhere, ..
            }
            | Self::ChangedElsewhere(changed_elsewhere) => changed_elsewhere,
            _ => &[],
        }
    }

    /// Whether Studio holds every value sent.
    pub fn applied(&self) -> bool {
        matches!(self, Self::Applied { .. } | Self::Partial { .. })
    }
}

impl From<Result<SetImpulseThresholdsResponse, ApiError>> for Outcome {
    /// One unguarded attempt's answer.
    fn from(answer: Result<SetImpulseThresholdsResponse, ApiError>) -> Self {
        match answer {
            Ok(response) => Self::Applied {
                response: Some(response),
            },
            Err(error) if error.outcome_unknown() => Self::Unknown { error },
            Err(error) => Self::NotApplied { error },
        }
    }
}

impl StudioClient {
    /// setImpulseThresholds, once, as it is: guarding it, trying it again and reading it
    /// back are `crate::write`'s.
    pub async fn set_thresholds(
        &self,
        project: u64,
        impulse: u64,
        request: &SetImpulseThresholdsRequest,
    ) -> Result<SetImpulseThresholdsResponse, ApiError> {
        self.post(
            "setImpulseThresholds",
            &format!("/api/{project}/impulse/{impulse}/set-thresholds"),
            request,
        )
        .await
    }
}
