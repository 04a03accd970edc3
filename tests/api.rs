//! The real client against the real simulator on 127.0.0.1, and raw HTTP to the
//! simulator: reads, writes, and the errors of each.

mod common;

use std::time::Duration;

use ei_tune::api::ApiError;
use ei_tune::api::models::*;
use ei_tune::studio::demo::DEMO_PROJECT_ID;
use serde_json::{Value, json};

use common::{KEY, client, client_with_key, studio, studio_with_jobs};

const P: u64 = DEMO_PROJECT_ID;

use common::set_request as set;

fn num(v: f64) -> ThresholdValue {
    ThresholdValue::Number(v)
}

/// Asked for it, the simulator compresses (a large answer as it streams), as Studio's
/// front end does; the client asks for it and reads it back the same.
#[tokio::test]
async fn answers_are_compressed_when_asked_for() {
    use std::io::Read;
    let studio = studio().await;
    let url = format!(
        "{}/api/{DEMO_PROJECT_ID}/classify/all/result/page?impulseId=2&limit=1000",
        studio.base_url()
    );
    let raw = common::raw_http_builder()
        .no_gzip()
        .no_brotli()
        .no_zstd()
        .build()
        .unwrap();
    let plain = raw.get(&url).header("x-api-key", KEY).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.unwrap();
    let packed = raw
        .get(&url)
        .header("x-api-key", KEY)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(packed.headers()["content-encoding"], "gzip");
    let packed = packed.bytes().await.unwrap();
    let mut inflated = Vec::new();
    flate2::read::GzDecoder::new(&packed[..])
        .read_to_end(&mut inflated)
        .unwrap();
    assert_eq!(inflated, plain);
    assert!(
        packed.len() * 4 < plain.len(),
        "{} bytes packed from {}",
        packed.len(),
        plain.len()
    );
    // The client's own reads, compressed on the way, decode the same.
    let page = client(&studio)
        .model_testing_results_page(DEMO_PROJECT_ID, 2, 0, 1000)
        .await
        .unwrap();
    assert_eq!(page.result.len(), 1000);
}

#[tokio::test]
async fn every_read_operation_works() {
    let studio = studio().await;
    let c = client(&studio);
    assert_eq!(c.resolve_project(None).await.unwrap(), P);
    let projects = c.list_projects().await.unwrap();
    assert_eq!(projects.len(), 1);
    let impulses = c.list_impulses(P).await.unwrap();
    assert_eq!(impulses.len(), 6);
    let default = c.get_impulse(P, None).await.unwrap();
    assert_eq!(default.id, 1);
    let visual = c.get_impulse(P, Some(3)).await.unwrap();
    let blocks = c.impulse_thresholds(P, &default).await.unwrap().blocks;
    assert_eq!(
        blocks
            .iter()
            .map(|b| (b.block.id, b.thresholds[0].key.as_str()))
            .collect::<Vec<_>>(),
        vec![(3, "min_score"), (4, "min_anomaly_score")]
    );
    // the anomaly block was read with getAnomaly, the classifier with getKeras
    assert_eq!(studio.request_count("getAnomaly"), 1);
    assert_eq!(studio.request_count("getKeras"), 1);
    let visual_blocks = c.impulse_thresholds(P, &visual).await.unwrap().blocks;
    let dropdown = &visual_blocks[0].thresholds[1];
    assert_eq!(dropdown.value, ThresholdValue::Text("max".into()));
    assert_eq!(dropdown.dropdown_options.as_ref().unwrap().len(), 2);

    let results = c.model_testing_results(P, 1).await.unwrap();
    assert!(results.result.len() > 500);
    assert_eq!(results.predictions.len(), results.result.len());
    let summary = c.model_testing_summary(P, 1).await.unwrap();
    assert_eq!(summary.accuracy, results.accuracy);
    let page = c.model_testing_results_page(P, 1, 10, 25).await.unwrap();
    assert_eq!(page.result.len(), 25);
    assert_eq!(page.result[0].sample_id, results.result[10].sample_id);
    assert_eq!(page.total_count as usize, results.result.len());
}

/// The simulator writes a large result set window by window into the response; the
/// stream must still be the whole, ordered set, equal to its pages and to its summary.
#[tokio::test]
async fn a_large_result_set_streams_whole_and_agrees_with_its_pages() {
    let studio = studio().await;
    let c = client(&studio);
    let whole = c.model_testing_results(P, 2).await.unwrap();
    assert_eq!(whole.result.len(), 24_000);
    assert_eq!(whole.predictions.len(), 24_000);
    assert!(
        whole
            .result
            .iter()
            .zip(&whole.predictions)
            .enumerate()
            .all(|(i, (r, p))| r.sample_id == i as u64 + 1 && p.sample_id == r.sample_id)
    );
    let summary = c.model_testing_summary(P, 2).await.unwrap();
    assert_eq!(summary.accuracy, whole.accuracy);
    assert_eq!(summary.window_count(), 24_000);
    for offset in [0usize, 12_345, 23_990] {
        let page = c
            .model_testing_results_page(P, 2, offset as u64, 1000)
            .await
            .unwrap();
        let end = (offset + 1000).min(24_000);
        assert_eq!(page.total_count, 24_000);
        assert_eq!(page.result, whole.result[offset..end]);
        assert_eq!(page.predictions, whole.predictions[offset..end]);
    }
}

/// A client that hangs up in the middle of a streamed answer costs the simulator nothing
/// but that answer.
#[tokio::test]
async fn a_client_hanging_up_mid_stream_leaves_the_simulator_serving() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let studio = studio().await;
    let addr = studio
        .base_url()
        .trim_start_matches("http://")
        .trim_end_matches("/v1")
        .to_string();
    for _ in 0..3 {
        let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let request = format!(
            "GET /v1/api/{P}/classify/all/result?impulseId=2 HTTP/1.1\r\nhost: {addr}\r\nx-api-key: {}\r\n\r\n",
            common::KEY
        );
        socket.write_all(request.as_bytes()).await.unwrap();
        let mut start = vec![0u8; 64 * 1024];
        let n = socket.read(&mut start).await.unwrap();
        assert!(
            String::from_utf8_lossy(&start[..n]).starts_with("HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&start[..n.min(200)])
        );
    } // each socket is dropped here, long before its 45 MB are sent
    let c = client(&studio);
    assert_eq!(
        c.model_testing_summary(P, 2).await.unwrap().window_count(),
        24_000
    );
    assert_eq!(studio.request_count("getClassifyJobResult"), 4);
}

#[tokio::test]
async fn regenerated_results_are_visible_at_once() {
    let studio = studio().await;
    let c = client(&studio);
    let before = c.model_testing_summary(P, 1).await.unwrap();
    let r = c
        .set_thresholds(P, 1, &set(&[(3, "min_score", num(0.95))], false))
        .await
        .unwrap();
    assert_eq!(
        r.regenerate_model_testing_status,
        RegenerateStatus::Regenerated
    );
    assert!(r.had_model_testing_results);
    assert_eq!(r.regenerate_model_testing_results_job_id, None);
    let after = c.model_testing_summary(P, 1).await.unwrap();
    let uncertain = |s: &ModelTestingSummary| -> f64 {
        s.accuracy
            .confusion_matrix_values
            .values()
            .filter_map(|row| row.get("uncertain"))
            .sum()
    };
    assert!(uncertain(&after) > uncertain(&before));
    assert_eq!(after.no_results_because_thresholds_changed, None);
    let results = c.model_testing_results(P, 1).await.unwrap();
    assert_eq!(
        results.result[0].classifications[0].minimum_confidence_rating,
        0.95
    );
    assert_eq!(
        c.impulse_thresholds(P, &c.get_impulse(P, None).await.unwrap())
            .await
            .unwrap()
            .blocks[0]
            .thresholds[0]
            .value,
        num(0.95)
    );
}

#[tokio::test]
async fn not_regenerated_for_object_detection_and_untested_impulses() {
    let studio = studio().await;
    let c = client(&studio);
    let r = c
        .set_thresholds(P, 4, &set(&[(33, "min_score", num(0.4))], false))
        .await
        .unwrap();
    assert_eq!(
        r.regenerate_model_testing_status,
        RegenerateStatus::NotRegenerated
    );
    assert!(r.had_model_testing_results);
    let stale = c.model_testing_summary(P, 4).await.unwrap();
    assert_eq!(
        stale.no_results_because_thresholds_changed,
        Some(StaleReason::ShouldRerunFullJob)
    );
    let refused = c.regenerate_model_testing_summary(P, 4).await.unwrap_err();
    assert!(matches!(refused, ApiError::Refused { .. }), "{refused}");

    let r = c
        .set_thresholds(P, 5, &set(&[(43, "min_score", num(0.4))], false))
        .await
        .unwrap();
    assert_eq!(
        r.regenerate_model_testing_status,
        RegenerateStatus::NotRegenerated
    );
    assert!(!r.had_model_testing_results);
    assert_eq!(
        c.model_testing_summary(P, 5).await.unwrap().window_count(),
        0
    );
}

#[tokio::test]
async fn requires_job_then_a_job_regenerates_and_blocks_changes_meanwhile() {
    let studio = studio_with_jobs(600).await;
    let c = client(&studio);
    let r = c
        .set_thresholds(P, 2, &set(&[(13, "min_score", num(0.5))], false))
        .await
        .unwrap();
    assert_eq!(
        r.regenerate_model_testing_status,
        RegenerateStatus::RequiresJob
    );
    assert!(r.had_model_testing_results);
    let stale = c.model_testing_summary(P, 2).await.unwrap();
    assert_eq!(
        stale.no_results_because_thresholds_changed,
        Some(StaleReason::CanRegenerateModelSummary)
    );

    let job_id = c.regenerate_model_testing_summary(P, 2).await.unwrap();
    let running = c.job_status(P, job_id).await.unwrap();
    assert!(!running.is_finished());
    let blocked = refusal(&c, 1, set(&[(3, "min_score", num(0.1))], false)).await;
    assert_eq!(blocked.blocking_job(), Some(job_id), "{blocked}");
    assert_eq!(studio.threshold(3, "min_score"), Some(num(0.6)));

    let finished = loop {
        let job = c.job_status(P, job_id).await.unwrap();
        if job.is_finished() {
            break job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(finished.started.is_some());
    assert_eq!(finished.finished_successful, Some(true));
    let fresh = c.model_testing_summary(P, 2).await.unwrap();
    assert_eq!(fresh.no_results_because_thresholds_changed, None);
    assert_eq!(fresh.window_count(), 24_000);
}

#[tokio::test]
async fn started_job_when_jobs_are_allowed() {
    let studio = studio_with_jobs(300).await;
    let c = client(&studio);
    let r = c
        .set_thresholds(P, 2, &set(&[(14, "min_anomaly_score", num(0.8))], true))
        .await
        .unwrap();
    assert_eq!(
        r.regenerate_model_testing_status,
        RegenerateStatus::StartedJob
    );
    let job = r.regenerate_model_testing_results_job_id.expect("a job id");
    assert!(!c.job_status(P, job).await.unwrap().is_finished());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(c.job_status(P, job).await.unwrap().is_finished());
    assert_eq!(
        c.model_testing_summary(P, 2)
            .await
            .unwrap()
            .no_results_because_thresholds_changed,
        None
    );
}

#[tokio::test]
async fn a_wrong_key_gets_401_with_a_json_error() {
    let studio = studio().await;
    let err = client_with_key(&studio, "ei_wrong")
        .list_projects()
        .await
        .unwrap_err();
    match err {
        ApiError::Status {
            status, message, ..
        } => {
            assert_eq!(status, 401);
            assert!(message.contains("not valid"), "{message}");
        }
        other => panic!("expected HTTP 401, got {other}"),
    }
    let text = client_with_key(&studio, "ei_wrong")
        .list_projects()
        .await
        .unwrap_err()
        .to_string();
    assert!(!text.contains("ei_wrong"), "the key leaked into {text}");
}

#[tokio::test]
async fn unknown_blocks_keys_and_options_are_refused_by_entry() {
    let studio = studio().await;
    let c = client(&studio);
    let cases: Vec<(u64, SetImpulseThresholdsRequest, &str)> = vec![
        (
            1,
            set(&[(99, "min_score", num(0.5))], false),
            "block 99 is not a learn block",
        ),
        (1, set(&[(3, "nope", num(0.5))], false), "unknown key"),
        (1, set(&[(3, "min_score", num(1.5))], false), "outside 0..1"),
        (
            1,
            set(
                &[(3, "min_score", ThresholdValue::Text("0.5".into()))],
                false,
            ),
            "expects a number",
        ),
        (
            3,
            set(
                &[(
                    23,
                    "anomaly_scoring_aggregation_method",
                    ThresholdValue::Text("median".into()),
                )],
                false,
            ),
            "not an option",
        ),
        (
            3,
            set(
                &[(23, "anomaly_scoring_aggregation_method", num(1.0))],
                false,
            ),
            "expects one of its options",
        ),
    ];
    for (impulse, request, why) in cases {
        let err = c.set_thresholds(P, impulse, &request).await.unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ApiError::Refused { .. }), "{text}");
        assert!(text.contains("thresholds[0]"), "{text}");
        assert!(text.contains(why), "expected `{why}` in {text}");
    }
}

#[tokio::test]
async fn an_option_among_the_listed_ones_is_set() {
    let studio = studio().await;
    let c = client(&studio);
    let mean = ThresholdValue::Text("mean".into());
    let request = set(&[(23, "anomaly_scoring_aggregation_method", mean)], false);
    let ok = c.set_thresholds(P, 3, &request).await.unwrap();
    assert_eq!(
        ok.regenerate_model_testing_status,
        RegenerateStatus::Regenerated
    );
    assert_eq!(
        studio.threshold(23, "anomaly_scoring_aggregation_method"),
        Some(ThresholdValue::Text("mean".into()))
    );
}

#[tokio::test]
async fn a_mixed_request_is_applied_all_or_nothing() {
    let studio = studio().await;
    let c = client(&studio);
    let err = c
        .set_thresholds(
            P,
            1,
            &set(
                &[
                    (3, "min_score", num(0.9)),
                    (4, "min_anomaly_score", num(f64::MAX)),
                ],
                false,
            ),
        )
        .await;
    // f64::MAX is finite: this one passes, and both change together.
    assert!(err.is_ok());
    let err = c
        .set_thresholds(
            P,
            1,
            &set(
                &[(3, "min_score", num(0.2)), (4, "no_such_key", num(1.0))],
                false,
            ),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("thresholds[1]"), "{err}");
    assert_eq!(studio.threshold(3, "min_score"), Some(num(0.9)));
    let calls = studio.set_threshold_calls();
    assert_eq!(calls.len(), 2);
    assert!(calls[0].applied && !calls[1].applied);
}

async fn raw_post(url: &str, body: &str, key: Option<&str>) -> (u16, Value) {
    let mut request = common::raw_http()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let json = response.json().await.expect("every answer is JSON");
    (status, json)
}

#[tokio::test]
async fn malformed_bodies_get_400_and_a_clear_error() {
    let studio = studio().await;
    let url = format!("{}/api/{P}/impulse/1/set-thresholds", studio.base_url());
    let cases = [
        ("{not json", "not valid JSON"),
        ("", "not valid JSON"),
        (
            r#"{"thresholds": []}"#,
            "allowCreatingRegenerateModelTestingJobs",
        ),
        (
            r#"{"thresholds": [{"blockId": "3", "key": "min_score", "value": 0.5}], "allowCreatingRegenerateModelTestingJobs": false}"#,
            "thresholds[0].blockId",
        ),
        (
            r#"{"thresholds": [{"blockId": 3, "key": "min_score", "value": true}], "allowCreatingRegenerateModelTestingJobs": false}"#,
            "thresholds[0].value",
        ),
        (
            r#"{"thresholds": [{"blockId": 3, "value": 0.5}], "allowCreatingRegenerateModelTestingJobs": false}"#,
            "key",
        ),
        (
            r#"{"thresholds": {}, "allowCreatingRegenerateModelTestingJobs": false}"#,
            "thresholds",
        ),
        (r#"[1, 2]"#, "Invalid request body"),
    ];
    for (body, why) in cases {
        let (status, json) = raw_post(&url, body, Some(KEY)).await;
        assert_eq!(status, 400, "{body}: {json}");
        assert_eq!(json["success"], json!(false), "{body}");
        let error = json["error"].as_str().unwrap_or_default();
        assert!(error.contains(why), "{body}: expected `{why}` in `{error}`");
    }
    assert_eq!(studio.threshold(3, "min_score"), Some(num(0.6)));

    let (status, json) = raw_post(&url, "{}", None).await;
    assert_eq!(status, 401);
    assert_eq!(json["success"], json!(false));

    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(200_000));
    let response = common::raw_http()
        .post(&url)
        .header("x-api-key", KEY)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
}

#[tokio::test]
async fn bad_paths_and_ids_get_json_errors() {
    let studio = studio().await;
    let get = |path: String| {
        let url = format!("{}{path}", studio.base_url());
        async move {
            let r = common::raw_http()
                .get(url)
                .header("x-api-key", KEY)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    for (path, status) in [
        (format!("/api/{P}/impulse?impulseId=77"), 404),
        (format!("/api/{P}/impulse?impulseId=x"), 400),
        (format!("/api/{P}/training/keras/abc"), 400),
        (format!("/api/{P}/training/keras/999"), 404),
        (format!("/api/{P}/jobs/12345/status"), 404),
        ("/api/1/impulses".to_string(), 403),
        ("/api/nothing/here/at/all".to_string(), 404),
    ] {
        let (got, json) = get(path.clone()).await;
        assert_eq!(got, status, "{path}: {json}");
        assert_eq!(json["success"], json!(false), "{path}");
        assert!(
            json["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{path}"
        );
    }
    let (status, json) = get(format!("/api/{P}/training/keras/4")).await;
    assert_eq!(status, 200);
    assert_eq!(
        json["success"],
        json!(false),
        "an anomaly block via getKeras"
    );
}

/// A write through the one write path that Studio refuses: why.
async fn refusal(
    c: &ei_tune::api::StudioClient,
    impulse: u64,
    request: ei_tune::api::models::SetImpulseThresholdsRequest,
) -> ApiError {
    let write = ei_tune::api::Write {
        project: P,
        impulse,
        request,
        believed: Vec::new(),
    };
    let cache = ei_tune::cache::ResultsCache::in_memory();
    let policy = ei_tune::api::Policy::ONCE;
    match ei_tune::write::write(c, &cache, &write, policy, None)
        .await
        .outcome
    {
        ei_tune::api::Outcome::NotApplied { error, .. } => error,
        other => panic!("not refused: {other:?}"),
    }
}

#[tokio::test]
async fn a_refusal_while_a_job_runs_is_recognised_whatever_its_words() {
    for words in [
        "Another job is in progress",
        "Bitte warten ⏳ – Auftrag läuft",
    ] {
        let mut config = ei_tune::studio::StudioConfig::new(KEY);
        config.job_duration = Duration::from_millis(500);
        config.blocked_by_job_message = words.into();
        let studio = ei_tune::studio::Studio::start(config).await.unwrap();
        let c = client(&studio);
        let job = c.regenerate_model_testing_summary(P, 2).await.unwrap();
        let blocked = refusal(&c, 1, set(&[(3, "min_score", num(0.5))], false)).await;
        assert_eq!(blocked.blocking_job(), Some(job), "{blocked}");
        assert!(blocked.to_string().contains(words), "{blocked}");
        assert_eq!(studio.request_count("listActiveJobs"), 1);
        while !c.job_status(P, job).await.unwrap().is_finished() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // With no job running, a refusal is just that.
        let refused = refusal(&c, 1, set(&[(3, "min_score", num(2.0))], false)).await;
        assert_eq!(refused.blocking_job(), None, "{refused}");
        assert!(matches!(refused, ApiError::Refused { .. }), "{refused}");
    }
}
