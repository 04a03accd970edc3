//! Reads an impulse's model testing results page by page into a compact test set, for
//! previews and sweeps computed locally with the same metrics the simulator reports.

use crate::api::models::Impulse;
use crate::api::{ApiError, StudioClient};
use crate::metrics::TestSet;
use crate::metrics::results::TestSetBuilder;

/// Samples per getClassifyJobResultPage request.
pub const PAGE: u64 = 500;

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// No preview for this impulse, and why, in plain words.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// Loads every test window of `impulse`; `progress(loaded, total)` after each page.
pub async fn load_test_set(
    client: &StudioClient,
    project: u64,
    impulse: &Impulse,
    mut progress: impl FnMut(u64, u64),
) -> Result<TestSet, PreviewError> {
    let mut builder = TestSetBuilder::new(impulse).map_err(|e| PreviewError::Unavailable(e.0))?;
    let mut offset = 0;
    loop {
        let page = client
            .model_testing_results_page(project, impulse.id, offset, PAGE)
            .await?;
        if page.total_count == 0 {
            return Err(PreviewError::Unavailable(
                "no model testing results to preview (none yet, or stale until regenerated)".into(),
            ));
        }
        builder
            .add(&page.result)
            .map_err(|e| PreviewError::Unavailable(e.0))?;
        offset += page.result.len() as u64;
        progress(offset.min(page.total_count), page.total_count);
        if page.result.is_empty() || offset >= page.total_count {
            break;
        }
    }
    Ok(builder.finish())
}
