//! Jobs: those running in the project, starting a regeneration or a model testing run,
//! and following one.

use super::StudioClient;
use crate::api::error::ApiError;
use crate::api::models::*;

impl StudioClient {
    /// listActiveJobs: the project's jobs that have not finished.
    pub async fn list_active_jobs(&self, project: u64) -> Result<Vec<Job>, ApiError> {
        let r: ListJobsResponse = self
            .get("listActiveJobs", &format!("/api/{project}/jobs"), &[])
            .await?;
        Ok(r.jobs)
    }

    /// regenerateModelTestingSummary: starts a job and returns its id.
    pub async fn regenerate_model_testing_summary(
        &self,
        project: u64,
        impulse: u64,
    ) -> Result<u64, ApiError> {
        let url = format!(
            "{}/api/{project}/impulse/{impulse}/regenerate-model-testing-summary",
            self.base
        );
        let request = self.http.post(&url);
        let r: StartJobResponse = self
            .send(
                "regenerateModelTestingSummary",
                &url,
                request,
                self.small_cap(),
            )
            .await?;
        Ok(r.id)
    }

    /// startClassifyJob: model testing run again on the impulse's test data (what object
    /// detection needs after a threshold change); starts a job and returns its id.
    /// `skip_features`: the features are already there and only thresholds changed, so
    /// feature generation is skipped (`skipFeatureGeneration`, "used e.g. if you update
    /// thresholds").
    pub async fn start_model_testing(
        &self,
        project: u64,
        impulse: u64,
        skip_features: bool,
    ) -> Result<u64, ApiError> {
        let url = format!("{}/api/{project}/jobs/classify", self.base);
        let body = StartClassifyJobRequest {
            skip_feature_generation: skip_features.then_some(true),
        };
        let request = self
            .http
            .post(&url)
            .query(&[("impulseId", impulse.to_string())])
            .json(&body);
        let r: StartJobResponse = self
            .send("startClassifyJob", &url, request, self.small_cap())
            .await?;
        Ok(r.id)
    }

    /// getJobStatus.
    pub async fn job_status(&self, project: u64, job: u64) -> Result<Job, ApiError> {
        let r: GetJobResponse = self
            .get(
                "getJobStatus",
                &format!("/api/{project}/jobs/{job}/status"),
                &[],
            )
            .await?;
        Ok(r.job)
    }
}
