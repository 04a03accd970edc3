//! The results cache against the simulator: a second read is served from it at once, and
//! anything that changes Studio's results (a regeneration here) makes it miss.

mod common;

use ei_tune::api::models::ThresholdValue;
use ei_tune::cache::{CacheKey, ResultsCache, Validator};
use ei_tune::metrics::TestSet;
use ei_tune::preview::{PAGE, Progress, read_test_set};
use ei_tune::studio::demo::DEMO_PROJECT_ID;

use common::{client, studio};

const P: u64 = DEMO_PROJECT_ID;

fn scratch_cache() -> ResultsCache {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cache-test-{:016x}", fastrand::u64(..)));
    ResultsCache::new(dir)
}

/// Reads impulse 1's results through `cache`: the set, and the one the cache offered.
async fn read(c: &ei_tune::api::StudioClient, cache: &ResultsCache) -> (TestSet, Option<TestSet>) {
    let mut cached = None;
    let set = read_test_set(c, P, 1, None, Some(cache), |p| {
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
    let studio = studio().await;
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
            1,
            &common::set_request(&[(3, "min_score", ThresholdValue::Number(0.7))], false),
        )
        .await
        .unwrap();
    assert_eq!(
        r.regenerate_model_testing_status,
        ei_tune::api::models::RegenerateStatus::Regenerated
    );
    let (third, cached) = read(&c, &cache).await;
    assert_eq!(cached, None, "a regeneration must invalidate the entry");
    // Then the new read is kept.
    let (_, cached) = read(&c, &cache).await;
    assert_eq!(cached, Some(third));
    std::fs::remove_dir_all(cache.dir()).unwrap();
}

#[tokio::test]
async fn an_entry_that_disagrees_with_the_full_read_is_replaced() {
    let studio = studio().await;
    let c = client(&studio);
    let cache = scratch_cache();
    let (truth, _) = read(&c, &cache).await;
    // An entry made from the same first page whose later windows differ: what a sample
    // replaced beyond the first page would leave.
    let impulse = c.get_impulse(P, Some(1)).await.unwrap();
    let (page, body) = c.first_preview_page(P, 1, PAGE).await.unwrap();
    let key = CacheKey::new(c.base_url(), P, 1);
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
