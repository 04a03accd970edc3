//! Object detection against the simulator: the preview of any `min_score`, computed from
//! the stored detections, equals what Studio reports after model testing runs again at
//! that `min_score`, for every demo detection impulse.

mod common;

use ei_tune::api::models::{RegenerateStatus, StaleReason, ThresholdValue};
use ei_tune::metrics::detection::Matching;
use ei_tune::metrics::{Summary, Thresholds};
use ei_tune::preview::load_test_set;
use ei_tune::studio::demo::DEMO_PROJECT_ID;
use ei_tune::studio::figures as detection;

use common::{client, studio_with_jobs};

const P: u64 = DEMO_PROJECT_ID;

/// Sets `min_score` (the results go stale: a full run is needed), runs model testing
/// again and waits for it: the summary then.
async fn set_then_rerun(
    c: &ei_tune::api::StudioClient,
    impulse: u64,
    block: u64,
    min_score: f64,
) -> ei_tune::api::models::ModelTestingSummary {
    let value = ThresholdValue::Number(min_score);
    let request = common::set_request(&[(block, "min_score", value)], false);
    let r = c.set_thresholds(P, impulse, &request).await.unwrap();
    assert_eq!(
        r.regenerate_model_testing_status,
        RegenerateStatus::NotRegenerated
    );
    let stale = c.model_testing_summary(P, impulse).await.unwrap();
    assert_eq!(
        stale.no_results_because_thresholds_changed,
        Some(StaleReason::ShouldRerunFullJob)
    );
    let job = c.start_model_testing(P, impulse, true).await.unwrap();
    while !c.job_status(P, job).await.unwrap().is_finished() {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let rerun = c.model_testing_summary(P, impulse).await.unwrap();
    assert_eq!(rerun.no_results_because_thresholds_changed, None);
    rerun
}

#[tokio::test]
async fn the_preview_equals_studios_figures_after_a_full_rerun() {
    let studio = studio_with_jobs(50).await;
    let c = client(&studio);
    for (impulse, block, boxes) in [(4, 33, true), (6, 53, false)] {
        let definition = c.get_impulse(P, Some(impulse)).await.unwrap();
        let set = load_test_set(&c, P, &definition, |_, _| {}).await.unwrap();
        let detections = set.detection.as_ref().expect("a detection set");
        assert_eq!(detections.matching == Matching::Boxes, boxes);
        for min_score in [0.15, 0.42, 0.6, 0.83] {
            let rerun = set_then_rerun(&c, impulse, block, min_score).await;
            let local = detections.evaluate(min_score, true);
            let reported: Vec<(String, f64)> = rerun.additional_metrics_by_learn_block[0]
                .additional_metrics
                .iter()
                .map(|m| (m.name.clone(), m.full_precision_value))
                .collect();
            let mut expected = Vec::new();
            if boxes {
                expected.push((detection::METRIC_MAP.to_string(), local.all.ap.unwrap()));
                expected.push((detection::METRIC_MAP50.to_string(), local.all.ap50.unwrap()));
            }
            expected.push((
                detection::METRIC_PRECISION.into(),
                local.all.precision().unwrap(),
            ));
            expected.push((detection::METRIC_RECALL.into(), local.all.recall().unwrap()));
            expected.push((detection::METRIC_F1.into(), local.all.f1().unwrap()));
            assert_eq!(reported, expected, "impulse {impulse} at {min_score}");
            let at = set.evaluate(&Thresholds {
                min_score,
                ..Thresholds::default()
            });
            assert_eq!(at, Summary::of_detection(local.clone()));
            assert_eq!(
                rerun.accuracy,
                detection::accuracy(&at, &set),
                "impulse {impulse} at {min_score}"
            );
        }
    }
}
