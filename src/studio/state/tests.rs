use super::*;
use crate::studio::demo::{demo_impulses, demo_project};

fn state() -> StudioState {
    StudioState::new(
        demo_project(),
        demo_impulses().unwrap(),
        Duration::from_secs(2),
    )
}

fn request(entries: &[(u64, &str, ThresholdValue)], allow: bool) -> SetImpulseThresholdsRequest {
    let mut request = SetImpulseThresholdsRequest::without_jobs(
        entries
            .iter()
            .map(|(b, k, v)| ThresholdUpdate::new(*b, *k, v.clone()))
            .collect(),
    );
    request.allow_creating_regenerate_model_testing_jobs = allow;
    request
}

#[test]
fn a_mixed_request_changes_nothing() {
    let mut s = state();
    let now = SystemTime::now();
    let err = s
        .set_thresholds(
            1,
            &request(
                &[
                    (3, "min_score", ThresholdValue::Number(0.7)),
                    (4, "min_anomaly_score", ThresholdValue::Text("x".into())),
                ],
                false,
            ),
            now,
        )
        .unwrap_err();
    assert!(
        err.error.contains("thresholds[1] (block 4"),
        "{}",
        err.error
    );
    assert_eq!(
        s.block(3).unwrap().thresholds[0].value,
        ThresholdValue::Number(0.6)
    );
}

#[test]
fn a_job_blocks_set_thresholds_until_it_finishes() {
    let mut s = state();
    let t0 = SystemTime::now();
    let r = s
        .set_thresholds(
            2,
            &request(&[(13, "min_score", ThresholdValue::Number(0.5))], true),
            t0,
        )
        .unwrap();
    assert_eq!(
        r.regenerate_model_testing_status,
        RegenerateStatus::StartedJob
    );
    let job = r.regenerate_model_testing_results_job_id.unwrap();
    let blocked = s
        .set_thresholds(
            1,
            &request(&[(3, "min_score", ThresholdValue::Number(0.5))], false),
            t0,
        )
        .unwrap_err();
    assert!(blocked.error.contains(BLOCKED_BY_JOB_MESSAGE));
    assert_eq!(s.running_jobs(t0).count(), 1);
    let later = t0 + Duration::from_secs(3);
    s.advance(later);
    assert!(s.job(job).unwrap().to_api(later).is_finished());
    assert!(matches!(s.results(Some(2)).unwrap().1, Results::Current(_)));
    assert!(
        s.set_thresholds(
            1,
            &request(&[(3, "min_score", ThresholdValue::Number(0.5))], false),
            later
        )
        .is_ok()
    );
}
