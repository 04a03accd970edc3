//! The results cache against the simulator: a second read is served from it at once, and
//! anything that changes Studio's results (a regeneration here) makes it miss. The large
//! impulse, 40 ms away: the cache is read beside the pages and reported while they come.

mod common;

use ei_tune::api::models::ThresholdValue;
use ei_tune::cache::{CacheKey, ResultsCache, Validator};
use ei_tune::metrics::TestSet;
use ei_tune::preview::{PAGE, Progress, read_test_set};
use ei_tune::studio::demo::DEMO_PROJECT_ID;

use common::{KEY, client};

const P: u64 = DEMO_PROJECT_ID;
const LARGE: u64 = 2;

async fn distant_studio() -> ei_tune::studio::Studio {
    let mut config = ei_tune::studio::StudioConfig::new(KEY);
    config.job_duration = std::time::Duration::from_millis(50);
    config.faults = Some(ei_tune::studio::faults::FaultSpec::parse("latency=40ms").unwrap());
    ei_tune::studio::Studio::start(config).await.unwrap()
}

fn scratch_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cache-test-{:016x}", fastrand::u64(..)))
}

/// Reads the large impulse's results through `cache`: the set, and the one the cache
/// offered.
async fn read(c: &ei_tune::api::StudioClient, cache: &ResultsCache) -> (TestSet, Option<TestSet>) {
    let mut cached = None;
    let read = read_test_set(c, P, LARGE, cache, |p| {
        if let Progress::Cached(set) = p {
            cached = Some(TestSet::clone(&set));
        }
    })
    .await
    .unwrap();
    if let Some(to_keep) = read.to_keep {
        ei_tune::preview::keep(c, cache, to_keep).await;
    }
    (TestSet::clone(&read.scores.set), cached)
}

#[tokio::test]
async fn a_second_read_comes_from_the_cache_until_the_model_changes() {
    let studio = distant_studio().await;
    let c = client(&studio);
    let dir = scratch_dir();
    // Each read as a new process would make it: the disk alone.
    let (first, cached) = read(&c, &ResultsCache::new(&dir)).await;
    assert_eq!(cached, None, "nothing cached yet");
    let (second, cached) = read(&c, &ResultsCache::new(&dir)).await;
    assert_eq!(cached.as_ref(), Some(&first));
    assert_eq!(second, first);

    // A threshold change regenerates the results (each window says at what thresholds it
    // was judged): the first page is another, but the scores are the same model's on the
    // same data, and are offered at once.
    let r = c
        .set_thresholds(
            P,
            LARGE,
            &common::set_request(&[(13, "min_score", ThresholdValue::Number(0.7))], true),
        )
        .await
        .unwrap();
    wait_for(&c, r.regenerate_model_testing_results_job_id.unwrap()).await;
    let (third, cached) = read(&c, &ResultsCache::new(&dir)).await;
    assert_eq!(cached.as_ref(), Some(&first), "the same model's scores");
    assert_eq!(third, first);

    // The model trained again and tested again: nothing kept is offered.
    studio.retrain(LARGE).unwrap();
    wait_for(&c, c.start_model_testing(P, LARGE, false).await.unwrap()).await;
    let (fourth, cached) = read(&c, &ResultsCache::new(&dir)).await;
    assert_eq!(
        cached, None,
        "a new model must not be offered the old scores"
    );
    assert_ne!(fourth, first);
    // Then the new read is kept.
    let (_, cached) = read(&c, &ResultsCache::new(&dir)).await;
    assert_eq!(cached, Some(fourth));
    std::fs::remove_dir_all(dir).unwrap();
}

async fn wait_for(c: &ei_tune::api::StudioClient, job: u64) {
    while !c.job_status(P, job).await.unwrap().is_finished() {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_entry_that_disagrees_with_the_full_read_is_replaced() {
    let studio = distant_studio().await;
    let c = client(&studio);
    let dir = scratch_dir();
    let (truth, _) = read(&c, &ResultsCache::new(&dir)).await;
    // An entry made from the same first page whose later windows differ: what a sample
    // replaced beyond the first page would leave.
    let (_, served) = c.get_impulse_served(P, LARGE).await.unwrap();
    let (page, body) = c.first_preview_page(P, LARGE, PAGE).await.unwrap();
    let key = CacheKey::new(c.base_url(), P, LARGE);
    let validator = Validator::new(&served, page.total_count, &body);
    let mut wrong = truth.clone();
    let last = wrong.expected.len() - 1;
    wrong.expected[last] = (wrong.expected[last] + 1) % wrong.labels.len() as u16;
    ResultsCache::new(&dir)
        .write(
            &key,
            &validator,
            None,
            &std::sync::Arc::new(wrong.clone()),
            std::time::SystemTime::now(),
        )
        .unwrap();

    let (set, cached) = read(&c, &ResultsCache::new(&dir)).await;
    assert_eq!(cached, Some(wrong), "offered at once, to be checked");
    assert_eq!(set, truth, "the full read decides");
    let kept = ResultsCache::new(&dir).read(&key, &validator).unwrap();
    assert_eq!(*kept.set, truth, "and is kept");
    std::fs::remove_dir_all(dir).unwrap();
}
