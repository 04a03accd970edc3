//! The local preview against the simulator: results read page by page reproduce, with the
//! same metrics module, exactly the figures the server reports after `regenerated`.

mod common;

use ei_tune::api::models::*;
use ei_tune::metrics::{Summary, Thresholds};
use ei_tune::preview::{PreviewError, load_test_set};
use ei_tune::studio::demo::DEMO_PROJECT_ID;

use common::{client, studio, studio_with_jobs};

const P: u64 = DEMO_PROJECT_ID;

async fn set(
    c: &ei_tune::api::StudioClient,
    impulse: u64,
    entries: &[(u64, &str, ThresholdValue)],
) -> SetImpulseThresholdsResponse {
    c.set_thresholds(P, impulse, &common::set_request(entries, false))
        .await
        .unwrap()
}

fn n(v: f64) -> ThresholdValue {
    ThresholdValue::Number(v)
}

/// Checks the local evaluation at `thresholds` against what the server reports now.
async fn same_as_server(c: &ei_tune::api::StudioClient, impulse: &Impulse, thresholds: Thresholds) {
    let local_set = load_test_set(c, P, impulse, |_, _| {}).await.unwrap();
    let server = c.model_testing_summary(P, impulse.id).await.unwrap();
    let local = local_set.evaluate(&thresholds);
    let reported = Summary::from_api(&server.accuracy, &local_set).unwrap();
    assert_eq!(local, reported, "impulse {} at {thresholds:?}", impulse.id);
    assert_eq!(local.accuracy(), server.accuracy.accuracy_score);
    assert_eq!(
        local.anomaly_accuracy(),
        server.accuracy.anomaly_accuracy_score
    );
    assert_eq!(local.total(), server.accuracy.total_summary);
}

#[tokio::test]
async fn the_preview_equals_the_servers_figures_for_every_demo_impulse() {
    let studio = studio().await;
    let c = client(&studio);
    let digits = c.get_impulse(P, Some(1)).await.unwrap();
    for (min_score, min_anomaly) in [
        (0.6, 0.3),
        (0.0, 0.0),
        (0.42, 0.53),
        (0.99, 5.0),
        (0.75, -0.2),
    ] {
        let r = set(
            &c,
            1,
            &[
                (3, "min_score", n(min_score)),
                (4, "min_anomaly_score", n(min_anomaly)),
            ],
        )
        .await;
        assert_eq!(
            r.regenerate_model_testing_status,
            RegenerateStatus::Regenerated
        );
        let th = Thresholds {
            min_score,
            min_anomaly_score: min_anomaly,
            ..Thresholds::default()
        };
        same_as_server(&c, &digits, th).await;
    }
    let visual = c.get_impulse(P, Some(3)).await.unwrap();
    for (score, aggregation) in [(10.0, "max"), (8.5, "mean"), (11.09, "max"), (0.0, "mean")] {
        set(
            &c,
            3,
            &[
                (23, "min_anomaly_score", n(score)),
                (
                    23,
                    "anomaly_scoring_aggregation_method",
                    ThresholdValue::Text(aggregation.into()),
                ),
            ],
        )
        .await;
        let th = Thresholds {
            min_anomaly_score: score,
            aggregation: ei_tune::metrics::Aggregation::parse(aggregation).unwrap(),
            ..Thresholds::default()
        };
        same_as_server(&c, &visual, th).await;
    }
}

#[tokio::test]
async fn the_large_impulse_loads_page_by_page_and_matches_after_a_job() {
    let studio = studio_with_jobs(200).await;
    let c = client(&studio);
    let large = c.get_impulse(P, Some(2)).await.unwrap();
    let mut pages = Vec::new();
    let set_local = load_test_set(&c, P, &large, |loaded, total| pages.push((loaded, total)))
        .await
        .unwrap();
    assert_eq!(set_local.len(), 24_000);
    assert_eq!(pages.len() as u64, 24_000 / ei_tune::preview::PAGE);
    assert_eq!(pages.last(), Some(&(24_000, 24_000)));
    set(&c, 2, &[(13, "min_score", n(0.8))]).await;
    let job = c.regenerate_model_testing_summary(P, 2).await.unwrap();
    while !c.job_status(P, job).await.unwrap().is_finished() {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let server = c.model_testing_summary(P, 2).await.unwrap();
    let local = set_local.evaluate(&Thresholds {
        min_score: 0.8,
        ..Thresholds::default()
    });
    assert_eq!(
        local,
        Summary::from_api(&server.accuracy, &set_local).unwrap()
    );
}

#[tokio::test]
async fn where_no_preview_is_possible_it_says_why() {
    let studio = studio().await;
    let c = client(&studio);
    let untested = c.get_impulse(P, Some(5)).await.unwrap();
    match load_test_set(&c, P, &untested, |_, _| {}).await {
        Err(PreviewError::Unavailable(why)) => {
            assert!(why.contains("no model testing results"), "{why}")
        }
        other => panic!("{other:?}"),
    }
}
