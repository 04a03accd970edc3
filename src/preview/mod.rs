//! Reads an impulse's model testing results page by page into a compact test set, for
//! previews and sweeps computed locally with the same metrics the simulator reports; and,
//! when Studio withholds its results, the scores kept from an earlier read of the same
//! model on the same data (see [`crate::cache`]).

use std::sync::Arc;
use std::time::SystemTime;

use futures::StreamExt;

use crate::api::models::Impulse;
use crate::api::{ApiError, StudioClient};
use crate::cache::{CacheKey, Kept, Provenance, ResultsCache, Validator};
use crate::metrics::{Scores, ScoresFrom, TestSet};
use crate::provenance::{Before, ToKeep};

pub use crate::provenance::{SaveWitness, keep};

pub mod builder;

use builder::TestSetBuilder;

/// Samples asked for per getClassifyJobResultPage request. The spec sets no maximum; the
/// simulator serves at most this many, and a server that serves fewer is followed (the
/// first page's length is the page size from then on).
pub const PAGE: u64 = 1000;
/// The most test samples read: far above any real test set, far below what would
/// exhaust memory (the compact set takes a few dozen bytes a window).
pub const MAX_SAMPLES: u64 = 5_000_000;
/// The most windows room is made for at once (more are still read, growing as they come).
const MAX_WINDOWS: usize = 10_000_000;
/// The most pages read for one test set.
pub const MAX_PAGES: u64 = 20_000;

/// What [`read_test_set`] says when Studio has no results and no scores are kept.
pub const NO_RESULTS: &str =
    "no model testing results to preview (none yet, or stale until regenerated)";

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// No preview for this impulse, and why, in plain words.
    #[error("{0}")]
    Unavailable(String),
    /// Studio serves no results now (none yet, or stale), and no scores of the same model
    /// on the same data are kept: why, in plain words.
    #[error("{0}")]
    Withheld(String),
    #[error(transparent)]
    Api(#[from] ApiError),
}

fn broken(why: String) -> PreviewError {
    PreviewError::Unavailable(format!("the results could not be read whole: {why}"))
}

fn kept_scores(kept: Kept) -> Scores {
    Scores {
        set: kept.set,
        from: ScoresFrom::Kept {
            read_at: kept.read_at,
        },
    }
}

/// A read of Studio's results, with what to keep of it once confirmed ([`keep`]).
#[derive(Debug)]
pub struct Read {
    pub scores: Scores,
    pub to_keep: Option<ToKeep>,
}

/// Loads every test window of `impulse`, keeping nothing; `progress(loaded, total)` after
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
    let cache = ResultsCache::in_memory();
    let read = read_test_set(client, project, impulse.id, &cache, report).await?;
    Ok(Arc::unwrap_or_clone(read.scores.set))
}

/// What a read of the per-window results reports before it ends.
#[derive(Debug)]
pub enum Progress {
    /// `loaded` of `total` samples read.
    Pages { loaded: u64, total: u64 },
    /// The set kept from an earlier read of the same results, or of the same model on the
    /// same data (see [`crate::cache`]); the read goes on to check it.
    Cached(Arc<TestSet>),
}

/// Loads every test window of impulse `impulse`, with its definition as Studio serves it
/// now, reporting [`Progress`] on the way.
///
/// The first page says how many samples there are and how large the server's pages are;
/// the others are then asked for a few at a time (the client's `pages_in_flight`) and
/// taken in order. The server is not trusted to page sensibly: a page must bring the
/// samples expected, none seen before, and the total must not change or be absurd. An
/// entry of `cache` made from the same first page, or from the same model on the same
/// data, is reported at once. What produced the scores is asked for beside the first page
/// (see [`crate::provenance`]) and never waited for by Studio's own results.
///
/// When Studio has no results (stale after a threshold change, say) or stops serving them
/// while they are read, the scores kept from what produces them now (asked again) are the
/// answer, marked as kept.
pub async fn read_test_set(
    client: &StudioClient,
    project: u64,
    impulse: u64,
    cache: &ResultsCache,
    mut report: impl FnMut(Progress),
) -> Result<Read, PreviewError> {
    // The project's date is asked for before the first page: what changes during the read
    // shows in it.
    let mut before = Before::start(client, project);
    let ((definition, served), (first, first_body)) = futures::try_join!(
        client.get_impulse_served(project, impulse),
        client.first_preview_page(project, impulse, PAGE)
    )?;
    before.impulse_known(client, project, &definition, served.clone());
    let key = CacheKey::new(client.base_url(), project, impulse);
    let mut builder =
        TestSetBuilder::new(&definition).map_err(|e| PreviewError::Unavailable(e.0))?;
    let total = first.total_count;
    if total == 0 {
        return kept_instead(cache, &key, before.get().await, NO_RESULTS).await;
    }
    let size = first.result.len() as u64;
    check_paging(total, size)?;
    let validator = Validator::new(&served, total, &first_body);
    drop(first_body);
    let mut pages = Pages::new(total, size);
    report(pages.take(&mut builder, 0, first)?);
    // As many windows a sample as the first page has: room for all of them at once.
    let per_sample = builder.len().div_ceil(size as usize).max(1);
    builder.reserve(per_sample.saturating_mul(total as usize), MAX_WINDOWS);
    let offsets = (size..total).step_by(size as usize);
    let mut stream = futures::stream::iter(offsets)
        .map(|offset| async move {
            let page = client.preview_page(project, impulse, offset, size).await;
            (offset, page)
        })
        .buffered(client.pages_in_flight());
    let (cut_short, cached) = CacheBeside {
        cache,
        key: &key,
        before: &mut before,
    }
    .read_pages(
        &mut stream,
        &validator,
        &mut pages,
        &mut builder,
        &mut report,
    )
    .await?;
    drop(stream);
    if let Some(why) = cut_short {
        // What produces the scores now: the model may have been trained again meanwhile.
        let now = crate::provenance::now(client, project, impulse).await;
        return kept_instead(cache, &key, now, &why).await;
    }
    finish(
        builder,
        cached,
        ToKeepParts {
            key,
            validator,
            project,
            impulse,
            before,
        },
    )
}

/// What a whole read keeps beside its scores.
struct ToKeepParts {
    key: CacheKey,
    validator: Validator,
    project: u64,
    impulse: u64,
    before: Before,
}

/// The scores read whole; the same set as one offered from the cache is that one.
fn finish(
    builder: TestSetBuilder,
    cached: Option<Arc<TestSet>>,
    parts: ToKeepParts,
) -> Result<Read, PreviewError> {
    let ToKeepParts {
        key,
        validator,
        project,
        impulse,
        before,
    } = parts;
    let set = Arc::new(
        builder
            .finish()
            .map_err(|e| PreviewError::Unavailable(e.0))?,
    );
    let set = match cached {
        // The same scores as those offered: one copy in memory.
        Some(cached) if cached == set => cached,
        _ => set,
    };
    let read_at = SystemTime::now();
    let to_keep = ToKeep {
        key,
        validator,
        project,
        impulse,
        before,
        set: Arc::clone(&set),
        read_at,
    };
    Ok(Read {
        scores: Scores {
            set,
            from: ScoresFrom::Studio { read_at },
        },
        to_keep: Some(to_keep),
    })
}

/// The cache, looked up beside the pages of a read.
struct CacheBeside<'a> {
    cache: &'a ResultsCache,
    key: &'a CacheKey,
    before: &'a mut Before,
}

impl CacheBeside<'_> {
    /// Takes the pages after the first in order, while the cache is looked up beside them:
    /// why Studio cut the read short (if it did), and the scores the cache offered.
    async fn read_pages<S, P>(
        &mut self,
        stream: &mut S,
        validator: &Validator,
        pages: &mut Pages,
        builder: &mut TestSetBuilder,
        report: &mut impl FnMut(Progress),
    ) -> Result<(Option<String>, Option<Arc<TestSet>>), PreviewError>
    where
        S: futures::Stream<Item = (u64, Result<crate::api::models::PreviewPage, P>)> + Unpin,
        PreviewError: From<P>,
    {
        // The cache is read beside the pages, never before them: a slow disk costs nothing.
        // First for the same first page; then, once what produced the scores is known, for the
        // same model on the same data, whatever the thresholds since.
        let mut lookup: Option<Lookup> = Some(Box::pin(lookup_first_page(
            self.cache.clone(),
            self.key.clone(),
            validator.clone(),
        )));
        let mut cached: Option<Arc<TestSet>> = None;
        let mut kept_looked_up = false;
        let cut_short = loop {
            let look_for_kept = |cached: &Option<Arc<TestSet>>, known: Option<Provenance>| {
                let (cache, key) = (self.cache.clone(), self.key.clone());
                (cached.is_none() && known.is_some()).then(|| -> Lookup {
                    Box::pin(async move { lookup_kept(&cache, &key, known).await.map(|k| k.set) })
                })
            };
            tokio::select! {
                found = async { lookup.as_mut()?.await }, if lookup.is_some() => {
                    lookup = None;
                    if let Some(set) = found {
                        report(Progress::Cached(Arc::clone(&set)));
                        cached = Some(set);
                    } else if self.before.is_read() && !kept_looked_up {
                        kept_looked_up = true;
                        lookup = look_for_kept(&cached, self.before.get().await);
                    }
                }
                known = self.before.get(), if !self.before.is_read() => {
                    if lookup.is_none() && !kept_looked_up {
                        kept_looked_up = true;
                        lookup = look_for_kept(&cached, known);
                    }
                }
                page = stream.next() => match page {
                    Some((offset, page)) => match pages.take(builder, offset, page?) {
                        Ok(progress) => report(progress),
                        Err(PagesError::Withheld(why)) => break Some(why),
                        Err(PagesError::Broken(e)) => return Err(e),
                    },
                    None => break None,
                },
            }
        };
        Ok((cut_short, cached))
    }
}

/// Refuses paging no sane server serves: an absurd total, an empty first page, pages too
/// small to reach the total in a sensible number of requests (two samples a page of four
/// million).
fn check_paging(total: u64, size: u64) -> Result<(), PreviewError> {
    if total > MAX_SAMPLES {
        return Err(broken(format!(
            "the server counts {total} samples, more than the {MAX_SAMPLES} ei-tune reads"
        )));
    }
    if size == 0 {
        return Err(broken(format!("the pages ended at 0 of {total} samples")));
    }
    if total / size > MAX_PAGES {
        return Err(broken(format!(
            "pages of {size} samples would take more than {MAX_PAGES} requests for {total}"
        )));
    }
    Ok(())
}

/// Studio serves no results now (`why`): the scores kept from the same model on the same
/// data, if any.
async fn kept_instead(
    cache: &ResultsCache,
    key: &CacheKey,
    provenance: Option<Provenance>,
    why: &str,
) -> Result<Read, PreviewError> {
    let unknown = provenance.is_none();
    match lookup_kept(cache, key, provenance).await {
        Some(kept) => Ok(Read {
            scores: kept_scores(kept),
            to_keep: None,
        }),
        None if unknown && cache.kept_date(key).is_some() => Err(PreviewError::Withheld(format!(
            "{why}; scores are kept, but Studio did not say what produces them now \
                 (the model's training date, the project's modification date)"
        ))),
        None => Err(PreviewError::Withheld(why.to_string())),
    }
}

/// Whether the pages keep their promise, and where they stand.
struct Pages {
    total: u64,
    size: u64,
    seen: std::collections::HashSet<u64>,
}

enum PagesError {
    /// Studio stopped serving the results (they went stale while read).
    Withheld(String),
    Broken(PreviewError),
}

impl From<PagesError> for PreviewError {
    fn from(e: PagesError) -> Self {
        match e {
            PagesError::Withheld(why) => Self::Unavailable(why),
            PagesError::Broken(e) => e,
        }
    }
}

impl From<PreviewError> for PagesError {
    fn from(e: PreviewError) -> Self {
        Self::Broken(e)
    }
}

impl Pages {
    fn new(total: u64, size: u64) -> Self {
        Self {
            total,
            size,
            seen: std::collections::HashSet::new(),
        }
    }

    /// Adds the page at `offset` to `builder`: the progress, or why the read cannot go on.
    fn take(
        &mut self,
        builder: &mut TestSetBuilder,
        offset: u64,
        page: crate::api::models::PreviewPage,
    ) -> Result<Progress, PagesError> {
        let total = self.total;
        if page.total_count == 0 {
            return Err(PagesError::Withheld(format!(
                "Studio stopped serving the results at {offset} of {total} samples (a \
                 threshold changed while they were read)"
            )));
        }
        if page.total_count != total {
            return Err(broken(format!(
                "the sample count changed from {total} to {} while reading",
                page.total_count
            ))
            .into());
        }
        let expected = self.size.min(total - offset);
        if (page.result.len() as u64) < expected {
            return Err(broken(format!(
                "the pages ended at {} of {total} samples",
                offset + page.result.len() as u64
            ))
            .into());
        }
        if let Some(repeated) = page.result.iter().find(|r| !self.seen.insert(r.sample_id)) {
            return Err(broken(format!(
                "sample {} came twice (at offset {offset})",
                repeated.sample_id
            ))
            .into());
        }
        builder
            .add(&page.result)
            .map_err(|e| PreviewError::Unavailable(e.0))?;
        let loaded = (offset + page.result.len() as u64).min(total);
        Ok(Progress::Pages { loaded, total })
    }
}

/// A lookup of the cache under way.
type Lookup = std::pin::Pin<Box<dyn std::future::Future<Output = Option<Arc<TestSet>>> + Send>>;

/// The set kept from the same first page, read off the runtime's threads.
async fn lookup_first_page(
    cache: ResultsCache,
    key: CacheKey,
    validator: Validator,
) -> Option<Arc<TestSet>> {
    tokio::task::spawn_blocking(move || cache.read(&key, &validator))
        .await
        .ok()
        .flatten()
        .map(|kept| kept.set)
}

/// The set kept from the same model on the same data, read off the runtime's threads.
async fn lookup_kept(
    cache: &ResultsCache,
    key: &CacheKey,
    provenance: Option<Provenance>,
) -> Option<Kept> {
    let (cache, key, provenance) = (cache.clone(), key.clone(), provenance?);
    tokio::task::spawn_blocking(move || cache.read_kept(&key, &provenance))
        .await
        .ok()
        .flatten()
}
