//! Model testing results: the summary (its per-window results dropped as they arrive) and
//! the per-window results a page at a time.

use serde::de::DeserializeOwned;

use super::transport::{read_body, read_chunks};
use super::{MAX_PAGE_BODY_BYTES, StudioClient};
use crate::api::error::ApiError;
use crate::api::models::*;
use crate::api::skim::Skimmer;

/// The members of getClassifyJobResult that hold a row per window.
const PER_SAMPLE_MEMBERS: &[&str] = &["result", "predictions"];

impl StudioClient {
    /// getClassifyJobResult, whole.
    pub async fn model_testing_results(
        &self,
        project: u64,
        impulse: u64,
    ) -> Result<ClassifyJobResponse, ApiError> {
        self.get_capped(
            "getClassifyJobResult",
            &format!("/api/{project}/classify/all/result"),
            &[("impulseId", impulse.to_string())],
            self.max_body_bytes,
        )
        .await
    }

    /// getClassifyJobResult, without the per-sample results: they are dropped from the
    /// body as it arrives (see [`Skimmer`]), so a summary of a large test set (45 MB of
    /// JSON for 24,000 windows) costs no more memory than a small one.
    pub async fn model_testing_summary(
        &self,
        project: u64,
        impulse: u64,
    ) -> Result<ModelTestingSummary, ApiError> {
        let operation = "getClassifyJobResult";
        let url = format!("{}/api/{project}/classify/all/result", self.base);
        self.retrying(operation, || async {
            let request = self
                .http
                .get(&url)
                .query(&[("impulseId", impulse.to_string())]);
            let response = self.start(operation, &url, request).await?;
            let mut skimmer = Skimmer::new(PER_SAMPLE_MEMBERS);
            read_chunks(operation, &url, response, self.max_body_bytes, |chunk| {
                skimmer.feed(chunk);
                Ok(())
            })
            .await?;
            self.decode(operation, &skimmer.finish())
        })
        .await
    }

    /// getClassifyJobResultPage.
    pub async fn model_testing_results_page(
        &self,
        project: u64,
        impulse: u64,
        offset: u64,
        limit: u64,
    ) -> Result<ClassifyJobResponsePage, ApiError> {
        self.results_page(project, impulse, offset, limit)
            .await
            .map(|(page, _)| page)
    }

    /// getClassifyJobResultPage, only what the preview reads of it.
    pub async fn preview_page(
        &self,
        project: u64,
        impulse: u64,
        offset: u64,
        limit: u64,
    ) -> Result<PreviewPage, ApiError> {
        self.results_page(project, impulse, offset, limit)
            .await
            .map(|(page, _)| page)
    }

    /// The first getClassifyJobResultPage as the preview reads it, and its body as
    /// decoded: what the results cache checks its entries against.
    pub async fn first_preview_page(
        &self,
        project: u64,
        impulse: u64,
        limit: u64,
    ) -> Result<(PreviewPage, Vec<u8>), ApiError> {
        self.results_page(project, impulse, 0, limit).await
    }

    /// getClassifyJobResultPage decoded as `P`, and its body.
    async fn results_page<P: DeserializeOwned>(
        &self,
        project: u64,
        impulse: u64,
        offset: u64,
        limit: u64,
    ) -> Result<(P, Vec<u8>), ApiError> {
        let operation = "getClassifyJobResultPage";
        let url = format!("{}/api/{project}/classify/all/result/page", self.base);
        let query = [
            ("impulseId", impulse.to_string()),
            ("limit", limit.to_string()),
            ("offset", offset.to_string()),
        ];
        let cap = self.max_body_bytes.min(MAX_PAGE_BODY_BYTES);
        self.retrying(operation, || async {
            let answer = async {
                let request = self.http.get(&url).query(&query);
                let response = self.start(operation, &url, request).await?;
                let body = read_body(operation, &url, response, cap).await?;
                let body = match self.blanked(&body) {
                    std::borrow::Cow::Owned(blanked) => blanked,
                    std::borrow::Cow::Borrowed(_) => body,
                };
                let page = self.decode_blanked(operation, &body)?;
                Ok((page, body))
            };
            answer.await.map_err(|e| self.redact(e))
        })
        .await
    }
}
