//! Studio's answer to a call, as the history writes it down.

use serde::{Deserialize, Serialize};

use crate::api::models::SetImpulseThresholdsResponse;

/// Studio's answer, or why there was none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    pub saved: bool,
    /// `regenerateModelTestingStatus` as Studio sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regenerate_model_testing_status: Option<String>,
    /// ei-tune's short reason for a failed call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// No answer says whether Studio applied the call: it may hold the values.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unknown: bool,
}

impl Answer {
    pub fn saved(response: &SetImpulseThresholdsResponse) -> Self {
        Self {
            saved: true,
            regenerate_model_testing_status: Some(crate::text::clean(
                response.regenerate_model_testing_status.as_str(),
            )),
            error: None,
            unknown: false,
        }
    }

    /// The answer of a command's call.
    pub fn of(result: &Result<SetImpulseThresholdsResponse, crate::api::ApiError>) -> Self {
        match result {
            Ok(response) => Self::saved(response),
            Err(e) => Self::failed(&e.short_reason()),
        }
    }

    /// A call whose answer was lost, and whose values a read-back found applied.
    pub fn applied_after_lost_answer() -> Self {
        Self {
            saved: true,
            ..Self::failed("the answer was lost; the values were read back")
        }
    }

    pub fn failed(reason: &str) -> Self {
        Self {
            saved: false,
            regenerate_model_testing_status: None,
            error: Some(crate::text::clean(reason)),
            unknown: false,
        }
    }

    /// A call whose answer was lost: Studio may or may not hold its values.
    pub fn unknown(reason: &str) -> Self {
        Self {
            unknown: true,
            ..Self::failed(&format!("outcome unknown: {reason}"))
        }
    }

    /// One short word or phrase for a list.
    pub fn summary(&self) -> String {
        // Cleaned again: the file may have been edited by hand.
        match (&self.regenerate_model_testing_status, &self.error) {
            (_, Some(error)) if self.saved || self.unknown => crate::text::clean(error),
            (_, Some(error)) => crate::text::clean(&format!("failed: {error}")),
            (Some(status), None) => crate::text::clean(status),
            (None, None) if self.saved => "saved".into(),
            (None, None) => "not saved".into(),
        }
    }
}
