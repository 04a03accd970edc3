//! Reads an impulse's model testing results page by page into a compact test set, for
//! previews and sweeps computed locally with the same metrics the simulator reports.

use crate::api::models::Impulse;
use crate::api::{ApiError, StudioClient};
use crate::cache::{CacheKey, ResultsCache, Validator};
use crate::metrics::TestSet;
use crate::metrics::results::TestSetBuilder;

/// Samples asked for per getClassifyJobResultPage request. The spec sets no maximum; the
/// simulator serves at most this many, and a server that serves fewer is followed (the
/// first page's length is the page size from then on).
pub const PAGE: u64 = 1000;
/// Pages requested at once after the first: on a link 100 ms away, one page at a time
/// spends most of its time waiting.
pub const PAGES_IN_FLIGHT: usize = 4;
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

fn broken(why: String) -> PreviewError {
    PreviewError::Unavailable(format!("the results could not be read whole: {why}"))
}

/// Loads every test window of `impulse`, without a cache; `progress(loaded, total)` after
/// each page. See [`read_test_set`].
pub async fn load_test_set(
    client: &StudioClient,
    project: u64,
    impulse: &Impulse,
    mut progress: impl FnMut(u64, u64),
) -> Result<TestSet, PreviewError> {
    let report = |p: Progress| {
        if let Progress::Pages { loaded, total } = p {
            progress(loaded, total);
        }
    };
    read_test_set(
        client,
        project,
        impulse.id,
        Some(impulse.clone()),
        None,
        report,
    )
    .await
}

/// What a read of the per-window results reports before it ends.
#[derive(Debug)]
pub enum Progress {
    /// `loaded` of `total` samples read.
    Pages { loaded: u64, total: u64 },
    /// The set kept from an earlier read of the same results (see [`crate::cache`]); the
    /// read goes on to check it.
    Cached(Box<TestSet>),
}

/// Loads every test window of impulse `impulse` (whose definition is read alongside the
/// first page when not given), reporting [`Progress`] on the way.
///
/// The first page says how many samples there are and how large the server's pages are;
/// the others are then asked for [`PAGES_IN_FLIGHT`] at a time and taken in order. The
/// server is not trusted to page sensibly: a page must bring the samples expected, none
/// seen before, and the total must not change or be absurd. With a `cache`, an entry made
/// from the same first page is reported at once, and the set read is kept for next time.
pub async fn read_test_set(
    client: &StudioClient,
    project: u64,
    impulse: u64,
    definition: Option<Impulse>,
    cache: Option<&ResultsCache>,
    mut report: impl FnMut(Progress),
) -> Result<TestSet, PreviewError> {
    use futures::StreamExt;
    let definition = async {
        match definition {
            Some(known) => Ok(known),
            None => client.get_impulse(project, Some(impulse)).await,
        }
    };
    let (definition, (first, first_body)) = futures::try_join!(
        definition,
        client.first_preview_page(project, impulse, PAGE)
    )?;
    let mut builder =
        TestSetBuilder::new(&definition).map_err(|e| PreviewError::Unavailable(e.0))?;
    let total = first.total_count;
    if total == 0 {
        return Err(PreviewError::Unavailable(
            "no model testing results to preview (none yet, or stale until regenerated)".into(),
        ));
    }
    if total > MAX_SAMPLES {
        return Err(broken(format!(
            "the server counts {total} samples, more than the {MAX_SAMPLES} ei-tune reads"
        )));
    }
    let size = first.result.len() as u64;
    if size == 0 {
        return Err(broken(format!("the pages ended at 0 of {total} samples")));
    }
    // Pages too small to reach the total in a sensible number of requests are no paging
    // at all (a server serving two samples a page of four million).
    if total / size > MAX_PAGES {
        return Err(broken(format!(
            "pages of {size} samples would take more than {MAX_PAGES} requests for {total}"
        )));
    }
    let key = CacheKey::new(client.base_url(), project, impulse);
    let validator = Validator::new(&definition, total, &first_body);
    drop(first_body);
    let mut seen = std::collections::HashSet::new();
    let mut take = |offset: u64, page: crate::api::models::PreviewPage| {
        if page.total_count != total {
            return Err(broken(format!(
                "the sample count changed from {total} to {} while reading",
                page.total_count
            )));
        }
        let expected = size.min(total - offset);
        if (page.result.len() as u64) < expected {
            return Err(broken(format!(
                "the pages ended at {} of {total} samples",
                offset + page.result.len() as u64
            )));
        }
        if let Some(repeated) = page.result.iter().find(|r| !seen.insert(r.sample_id)) {
            return Err(broken(format!(
                "sample {} came twice (at offset {offset})",
                repeated.sample_id
            )));
        }
        builder
            .add(&page.result)
            .map_err(|e| PreviewError::Unavailable(e.0))?;
        let loaded = (offset + page.result.len() as u64).min(total);
        Ok(Progress::Pages { loaded, total })
    };
    report(take(0, first)?);
    let offsets = (size..total).step_by(size as usize);
    let mut pages = futures::stream::iter(offsets)
        .map(|offset| async move {
            let page = client.preview_page(project, impulse, offset, size).await;
            (offset, page)
        })
        .buffered(PAGES_IN_FLIGHT);
    // The cache is read beside the pages, never before them: a slow disk costs nothing.
    let mut reading_cache = cache.map(|c| Box::pin(read_cache(c, &key, &validator)));
    let mut cached = None;
    loop {
        tokio::select! {
            found = async {
                match reading_cache.as_mut() {
                    Some(read) => read.await,
                    None => std::future::pending().await,
                }
            }, if reading_cache.is_some() => {
                reading_cache = None;
                if let Some(set) = found {
                    report(Progress::Cached(Box::new(set.clone())));
                    cached = Some(set);
                }
            }
            page = pages.next() => match page {
                Some((offset, page)) => report(take(offset, page?)?),
                None => break,
            },
        }
    }
    drop(reading_cache);
    let set = builder.finish();
    if let Some(cache) = cache
        && cached.as_ref() != Some(&set)
    {
        write_cache(cache, key, validator, set.clone()).await;
    }
    Ok(set)
}

async fn read_cache(
    cache: &ResultsCache,
    key: &CacheKey,
    validator: &Validator,
) -> Option<TestSet> {
    let (cache, key, validator) = (cache.clone(), key.clone(), validator.clone());
    tokio::task::spawn_blocking(move || cache.read(&key, &validator))
        .await
        .ok()
        .flatten()
}

/// A cache that cannot be written costs the next start its head start, nothing more.
async fn write_cache(cache: &ResultsCache, key: CacheKey, validator: Validator, set: TestSet) {
    let cache = cache.clone();
    let dir = cache.dir().to_path_buf();
    let written = tokio::task::spawn_blocking(move || cache.write(&key, &validator, &set)).await;
    if let Ok(Err(e)) = written {
        tracing::warn!(dir = %dir.display(), "the results cache could not be written: {e}");
    }
}
