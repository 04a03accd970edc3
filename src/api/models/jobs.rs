//! Jobs: starting a classify job and following it.

use serde::{Deserialize, Serialize};

/// `StartClassifyJobRequest`: what a model testing run (startClassifyJob) may skip.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartClassifyJobRequest {
    /// "If enabled, skips feature generation altogether. Used e.g. if you update
    /// thresholds."
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_feature_generation: Option<bool>,
}

/// `StartJobResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartJobResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub id: u64,
}

/// `Job`. A job is running while `finished` is absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: u64,
    pub category: String,
    pub category_key: String,
    pub key: String,
    pub created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_successful: Option<bool>,
    pub job_notification_uids: Vec<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_info: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_time: Option<f64>,
}

impl Job {
    pub fn is_finished(&self) -> bool {
        self.finished.is_some()
    }
}

/// `ListJobsResponse` (listActiveJobs): the project's jobs that have not finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListJobsResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub jobs: Vec<Job>,
    #[serde(default)]
    pub total_job_count: u64,
}

/// `GetJobResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetJobResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub job: Job,
}
