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

fn scratch_cache() -> ResultsCache {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cache-test-{:016x}", fastrand::u64(..)));
    ResultsCache::new(dir)
}

/// Reads the large impulse's results through `cache`: the set, and the one the cache
/// offered.
async fn read(c: &ei_tune::api::StudioClient, cache: &ResultsCache) -> (TestSet, Option<TestSet>) {
    let mut cached = None;
    let set = read_test_set(c, P, LARGE, None, Some(cache), |p| {
        if let Progress::Cached(set) = p {
            cached = Some(*set);
        }
    })
    .await
    .unwrap();
    (set, cached)
}

#[tokio::test]
async fn a_second_read_comes_from_the_cache_until_a_regeneration() {
    let studio = distant_studio().await;
    let c = client(&studio);
    let cache = scratch_cache();
    let (first, cached) = read(&c, &cache).await;
    assert_eq!(cached, None, "nothing cached yet");
    let (second, cached) = read(&c, &cache).await;
    assert_eq!(cached.as_ref(), Some(&first));
    assert_eq!(second, first);

    // A threshold change regenerates the results (each window says at what thresholds it
    // was judged): the entry no longer holds.
    let r = c
        .set_thresholds(
            P,
            LARGE,
            &common::set_request(&[(13, "min_score", ThresholdValue::Number(0.7))], true),
        )
        .await
        .unwrap();
    let job = r.regenerate_model_testing_results_job_id.unwrap();
    while !c.job_status(P, job).await.unwrap().is_finished() {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (third, cached) = read(&c, &cache).await;
    assert_eq!(cached, None, "a regeneration must invalidate the entry");
    // Then the new read is kept.
    let (_, cached) = read(&c, &cache).await;
    assert_eq!(cached, Some(third));
    std::fs::remove_dir_all(cache.dir()).unwrap();
}

#[tokio::test]
async fn an_entry_that_disagrees_with_the_full_read_is_replaced() {
    let studio = distant_studio().await;
    let c = client(&studio);
    let cache = scratch_cache();
    let (truth, _) = read(&c, &cache).await;
    // An entry made from the same first page whose later windows differ: what a sample
    // replaced beyond the first page would leave.
    let impulse = c.get_impulse(P, Some(LARGE)).await.unwrap();
    let (page, body) = c.first_preview_page(P, LARGE, PAGE).await.unwrap();
    let key = CacheKey::new(c.base_url(), P, LARGE);
    let validator = Validator::new(&impulse, page.total_count, &body);
    let mut wrong = truth.clone();
    let last = wrong.expected.len() - 1;
    wrong.expected[last] = (wrong.expected[last] + 1) % wrong.labels.len() as u16;
    cache.write(&key, &validator, &wrong).unwrap();

    let (set, cached) = read(&c, &cache).await;
    assert_eq!(cached, Some(wrong), "offered at once, to be checked");
    assert_eq!(set, truth, "the full read decides");
    assert_eq!(cache.read(&key, &validator), Some(truth), "and is kept");
    std::fs::remove_dir_all(cache.dir()).unwrap();
}
