//! Reads an impulse's model testing results page by page into a compact test set, for
//! previews and sweeps computed locally with the same metrics the simulator reports.

use crate::api::models::Impulse;
use crate::api::{ApiError, StudioClient};
use crate::metrics::TestSet;
use crate::metrics::results::TestSetBuilder;

/// Samples per getClassifyJobResultPage request.
pub const PAGE: u64 = 500;
/// The most test samples read: far above any real test set, far below what would
/// exhaust memory (the compact set takes a few dozen bytes a window).
pub const MAX_SAMPLES: u64 = 5_000_000;
/// The most pages read for one test set.
pub const MAX_PAGES: u64 = 20_000;

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
    let mut total = None;
    let mut seen = std::collections::HashSet::new();
    // The server is not trusted to page sensibly: a page must bring samples not seen yet,
    // the total must not change or be absurd, and the set must be whole.
    let broken = |why: String| {
        PreviewError::Unavailable(format!("the results could not be read whole: {why}"))
    };
    loop {
        let page = client
            .model_testing_results_page(project, impulse.id, offset, PAGE)
            .await?;
        if page.total_count == 0 {
            return Err(PreviewError::Unavailable(
                "no model testing results to preview (none yet, or stale until regenerated)".into(),
            ));
        }
        if page.total_count > MAX_SAMPLES {
            return Err(broken(format!(
                "the server counts {} samples, more than the {MAX_SAMPLES} ei-tune reads",
                page.total_count
            )));
        }
        match total {
            Some(t) if t != page.total_count => {
                return Err(broken(format!(
                    "the sample count changed from {t} to {} while reading",
                    page.total_count
                )));
            }
            _ => total = Some(page.total_count),
        }
        if page.result.is_empty() {
            return Err(broken(format!(
                "the pages ended at {offset} of {} samples",
                page.total_count
            )));
        }
        if let Some(repeated) = page.result.iter().find(|r| !seen.insert(r.sample_id)) {
            return Err(broken(format!(
                "sample {} came twice (at offset {offset})",
                repeated.sample_id
            )));
        }
        // Pages too small to reach the total in a sensible number of requests are no
        // paging at all (a server serving two samples a page of four million).
        if offset == 0 && page.total_count / page.result.len() as u64 > MAX_PAGES {
            return Err(broken(format!(
                "pages of {} samples would take more than {MAX_PAGES} requests for {}",
                page.result.len(),
                page.total_count
            )));
        }
        builder
            .add(&page.result)
            .map_err(|e| PreviewError::Unavailable(e.0))?;
        offset += page.result.len() as u64;
        progress(offset.min(page.total_count), page.total_count);
        if offset >= page.total_count {
            break;
        }
    }
    Ok(builder.finish())
}
