//! 1,000 set-thresholds calls from 50 concurrent clients: every call is applied whole.

mod common;

use ei_tune::api::models::ThresholdValue;
use ei_tune::studio::load;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_calls_from_fifty_clients_leave_no_torn_update() {
    let studio = common::studio().await;
    load::run(&studio.base_url(), common::KEY, studio.project_id(), 50, 20)
        .await
        .unwrap();
    let calls = studio.set_threshold_calls();
    assert_eq!(calls.len(), 1000);
    assert!(calls.iter().all(|c| c.applied));
    let score = studio
        .threshold(3, "min_score")
        .and_then(|v| v.as_number())
        .unwrap();
    let anomaly = studio
        .threshold(4, "min_anomaly_score")
        .and_then(|v| v.as_number())
        .unwrap();
    // Both from one request: min_score = k / 1000 and min_anomaly_score = k.
    assert_eq!(
        score,
        anomaly / 1000.0,
        "a torn update: {score} with {anomaly}"
    );
    // And it is the last request applied.
    let last = &calls.last().unwrap().request;
    assert_eq!(last.thresholds[1].value, ThresholdValue::Number(anomaly));
}
