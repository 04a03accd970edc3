//! set-thresholds, and what says whether kept scores still hold: the project's
//! modification date, when each model was trained.

use super::impulse::{BlockThreshold, ThresholdValue};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One entry of a set-thresholds request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThresholdUpdate {
    pub block_id: u64,
    pub key: String,
    pub value: ThresholdValue,
}

impl ThresholdUpdate {
    pub fn new(block_id: u64, key: impl Into<String>, value: ThresholdValue) -> Self {
        Self {
            block_id,
            key: key.into(),
            value,
        }
    }
}

/// `SetImpulseThresholdsRequest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetImpulseThresholdsRequest {
    pub thresholds: Vec<ThresholdUpdate>,
    pub allow_creating_regenerate_model_testing_jobs: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_run_regenerate_model_testing_in_job: Option<bool>,
}

impl SetImpulseThresholdsRequest {
    /// A request that lets Studio start no regeneration job: a running job would block
    /// every further change, so interactive edits never allow one.
    pub fn without_jobs(thresholds: Vec<ThresholdUpdate>) -> Self {
        Self {
            thresholds,
            allow_creating_regenerate_model_testing_jobs: false,
            force_run_regenerate_model_testing_in_job: None,
        }
    }
}

open_enum! {
    /// What set-thresholds did about model testing results.
    RegenerateStatus {
        NotRegenerated = "not_regenerated",
        Regenerated = "regenerated",
        StartedJob = "started_job",
        RequiresJob = "requires_job",
    }
}

impl RegenerateStatus {
    /// What the status means for the user, in plain words.
    pub fn explanation(&self) -> String {
        match self {
            Self::NotRegenerated => {
                "saved; results were not regenerated (none existed, or this model needs a full test run)".into()
            }
            Self::Regenerated => "saved; model testing results were regenerated".into(),
            Self::StartedJob => "saved; a job is regenerating the results".into(),
            Self::RequiresJob => "saved; results are stale until a regeneration job runs".into(),
            Self::Other(text) => format!(
                "saved; Studio answered `{}`, which ei-tune does not know",
                crate::text::clean(text)
            ),
        }
    }
}

/// `SetImpulseThresholdsResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetImpulseThresholdsResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub had_model_testing_results: bool,
    pub regenerate_model_testing_status: RegenerateStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regenerate_model_testing_results_job_id: Option<u64>,
}

/// `LastModificationDateResponse` (getProjectLastModificationDate): "upped when data is
/// modified, or when an impulse is trained". The spec requires `modificationDate` while it
/// lists `lastModificationDate` (the bindings' name): either is read, and both are sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastModificationDateResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modification_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modification_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_version_date: Option<String>,
}

impl LastModificationDateResponse {
    /// The date, under whichever name it came; `None` when the server sent neither.
    pub fn date(&self) -> Option<&str> {
        fn given(d: &Option<String>) -> Option<&str> {
            d.as_deref().filter(|d| !d.is_empty())
        }
        given(&self.last_modification_date).or(given(&self.modification_date))
    }
}

/// The one part of KerasModelMetadataResponse and AnomalyModelMetadataResponse ei-tune
/// reads: `created`, "Date when the model was trained". The rest (layers, validation
/// metrics with a prediction per validation window) is dropped as it arrives.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModelTrained {
    pub created: String,
}

/// `KerasModelMetadataResponse`, as the simulator serves it: every field the spec requires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KerasModelMetadataResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub created: String,
    pub layers: Vec<serde_json::Value>,
    pub class_names: Vec<String>,
    pub labels: Vec<String>,
    pub available_model_types: Vec<String>,
    pub recommended_model_type: String,
    pub model_validation_metrics: Vec<serde_json::Value>,
    pub has_trained_model: bool,
    pub mode: String,
    pub image_input_scaling: String,
    pub thresholds: Vec<BlockThreshold>,
}

/// `AnomalyModelMetadataResponse`, as the simulator serves it: every field the spec
/// requires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnomalyModelMetadataResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub created: String,
    pub scale: Vec<f64>,
    pub mean: Vec<f64>,
    pub clusters: Vec<serde_json::Value>,
    pub axes: Vec<u64>,
    pub default_minimum_confidence_rating: f64,
    pub thresholds: Vec<BlockThreshold>,
}
