//! Every response of the simulator and every body the client sends, checked against the
//! published OpenAPI spec; the smallest answers the spec allows, decoded.

mod common;

use std::time::Duration;

use ei_tune::api::models::*;
use ei_tune::studio::demo::DEMO_PROJECT_ID;
use serde_json::{Value, json};

use common::{KEY, client, openapi::spec, studio};

const P: u64 = DEMO_PROJECT_ID;

use common::set_request as set;

fn num(v: f64) -> ThresholdValue {
    ThresholdValue::Number(v)
}

/// Fetches `path` and checks the body against the spec's schema for `spec_path`.
async fn conforms(
    studio: &ei_tune::studio::Studio,
    method: &str,
    spec_path: &str,
    path: &str,
) -> Value {
    let url = format!("{}{path}", studio.base_url());
    let client = common::raw_http();
    let request = match method {
        "post" => client.post(url),
        _ => client.get(url),
    };
    let body: Value = request
        .header("x-api-key", KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["success"], json!(true), "{path}: {body}");
    let spec = spec();
    let errors = spec.validate(spec.response_schema(method, spec_path), &body);
    assert!(
        errors.is_empty(),
        "{path} breaks its schema:\n{}",
        errors.join("\n")
    );
    body
}

/// A job's status while it runs and once it ended, and the list of jobs while it runs.
async fn job_conforms(studio: &ei_tune::studio::Studio, job: u64) {
    let status = format!("/api/{P}/jobs/{job}/status");
    conforms(
        studio,
        "get",
        "/api/{projectId}/jobs/{jobId}/status",
        &status,
    )
    .await;
    let jobs = format!("/api/{P}/jobs");
    let active = conforms(studio, "get", "/api/{projectId}/jobs", &jobs).await;
    assert_eq!(active["jobs"][0]["id"], json!(job), "{active}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    conforms(
        studio,
        "get",
        "/api/{projectId}/jobs/{jobId}/status",
        &status,
    )
    .await;
}

#[tokio::test]
async fn every_read_conforms_to_the_published_spec() {
    let studio = studio().await;
    let mut reads: Vec<(&str, String)> = vec![
        ("/api/projects", "/api/projects".into()),
        ("/api/{projectId}/impulses", format!("/api/{P}/impulses")),
        ("/api/{projectId}/impulse", format!("/api/{P}/impulse")),
        (
            "/api/{projectId}/impulse",
            format!("/api/{P}/impulse?impulseId=3"),
        ),
        (
            "/api/{projectId}/training/anomaly/{learnId}",
            format!("/api/{P}/training/anomaly/4"),
        ),
        (
            "/api/{projectId}/last-modification",
            format!("/api/{P}/last-modification"),
        ),
        (
            "/api/{projectId}/training/anomaly/{learnId}/metadata",
            format!("/api/{P}/training/anomaly/4/metadata"),
        ),
        (
            "/api/{projectId}/classify/all/result/page",
            format!("/api/{P}/classify/all/result/page?impulseId=2&limit=100&offset=200"),
        ),
    ];
    for learn in [3, 23, 33] {
        reads.push((
            "/api/{projectId}/training/keras/{learnId}",
            format!("/api/{P}/training/keras/{learn}"),
        ));
        reads.push((
            "/api/{projectId}/training/keras/{learnId}/metadata",
            format!("/api/{P}/training/keras/{learn}/metadata?excludeLabels=true"),
        ));
    }
    for impulse in [1, 3, 4, 5] {
        reads.push((
            "/api/{projectId}/classify/all/result",
            format!("/api/{P}/classify/all/result?impulseId={impulse}"),
        ));
    }
    for (spec_path, path) in reads {
        conforms(&studio, "get", spec_path, &path).await;
    }
}

#[tokio::test]
async fn writes_jobs_and_stale_results_conform_to_the_published_spec() {
    let studio = studio().await;
    let c = client(&studio);
    // set-thresholds answers and a stale result set
    c.set_thresholds(P, 2, &set(&[(13, "min_score", num(0.5))], false))
        .await
        .unwrap();
    conforms(
        &studio,
        "get",
        "/api/{projectId}/classify/all/result",
        &format!("/api/{P}/classify/all/result?impulseId=2"),
    )
    .await;
    let spec = spec();
    let set_schema = spec.response_schema(
        "post",
        "/api/{projectId}/impulse/{impulseId}/set-thresholds",
    );
    for (impulse, block, allow) in [(1, 3, false), (2, 13, true), (4, 33, false)] {
        let response = c
            .set_thresholds(P, impulse, &set(&[(block, "min_score", num(0.55))], allow))
            .await
            .unwrap();
        let errors = spec.validate(set_schema, &serde_json::to_value(&response).unwrap());
        assert!(errors.is_empty(), "{errors:?}");
        if let Some(job) = response.regenerate_model_testing_results_job_id {
            job_conforms(&studio, job).await;
        }
    }
    conforms(
        &studio,
        "post",
        "/api/{projectId}/impulse/{impulseId}/regenerate-model-testing-summary",
        &format!("/api/{P}/impulse/1/regenerate-model-testing-summary"),
    )
    .await;
}

#[tokio::test]
async fn the_bodies_the_client_sends_conform_to_the_request_schema() {
    let studio = studio().await;
    let c = client(&studio);
    c.set_thresholds(
        P,
        1,
        &set(
            &[
                (3, "min_score", num(0.7)),
                (4, "min_anomaly_score", num(2.5)),
            ],
            false,
        ),
    )
    .await
    .unwrap();
    c.set_thresholds(
        P,
        3,
        &set(
            &[(
                23,
                "anomaly_scoring_aggregation_method",
                ThresholdValue::Text("mean".into()),
            )],
            false,
        ),
    )
    .await
    .unwrap();
    let spec = spec();
    let schema = spec.request_schema(
        "post",
        "/api/{projectId}/impulse/{impulseId}/set-thresholds",
    );
    let calls = studio.set_threshold_calls();
    assert_eq!(calls.len(), 2);
    for call in calls {
        let body: Value = serde_json::from_str(&call.body).unwrap();
        let errors = spec.validate(schema, &body);
        assert!(errors.is_empty(), "{}: {errors:?}", call.body);
        assert_eq!(
            body["allowCreatingRegenerateModelTestingJobs"],
            json!(false)
        );
    }
}

#[tokio::test]
async fn the_classify_job_body_conforms_to_the_request_schema() {
    // startClassifyJob's body, with and without skipping feature generation.
    let spec = spec();
    let schema = spec.request_schema("post", "/api/{projectId}/jobs/classify");
    for skip in [None, Some(true)] {
        let body = serde_json::to_value(StartClassifyJobRequest {
            skip_feature_generation: skip,
        })
        .unwrap();
        let errors = spec.validate(schema, &body);
        assert!(errors.is_empty(), "{body}: {errors:?}");
    }
    let studio = studio().await;
    client(&studio)
        .start_model_testing(P, 4, true)
        .await
        .unwrap();
    assert_eq!(
        studio.classify_calls(),
        vec![ei_tune::studio::ClassifyCall {
            impulse_id: 4,
            skip_features: true
        }]
    );
}

#[tokio::test]
async fn the_validator_catches_what_it_should() {
    // A check that cannot fail proves nothing: feed it broken bodies.
    let spec = spec();
    let schema = spec.response_schema(
        "post",
        "/api/{projectId}/impulse/{impulseId}/set-thresholds",
    );
    let good = json!({"success": true, "hadModelTestingResults": true, "regenerateModelTestingStatus": "regenerated"});
    assert!(spec.validate(schema, &good).is_empty());
    let missing = json!({"success": true, "regenerateModelTestingStatus": "regenerated"});
    assert!(spec.validate(schema, &missing)[0].contains("hadModelTestingResults"));
    let bad_enum = json!({"success": true, "hadModelTestingResults": true, "regenerateModelTestingStatus": "done"});
    assert!(!spec.validate(schema, &bad_enum).is_empty());
    let bad_type = json!({"success": "yes", "hadModelTestingResults": true, "regenerateModelTestingStatus": "regenerated"});
    assert!(!spec.validate(schema, &bad_type).is_empty());
    let threshold = spec.schema("BlockThreshold");
    let both = json!({"key": "k", "description": "d", "helpText": "h", "value": [1]});
    assert!(!spec.validate(threshold, &both).is_empty());
}

#[test]
fn the_committed_spec_subset_is_derived_from_the_published_spec() {
    let Some(published) = common::openapi::published_spec() else {
        eprintln!(
            "skipped: the published spec is not at {}; the committed subset stands",
            common::openapi::spec_path().display()
        );
        return;
    };
    let derived = common::spec_subset::render(&common::spec_subset::derive(&published).unwrap());
    let committed = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(common::spec_subset::SUBSET_FILE),
    )
    .unwrap();
    assert!(
        derived == committed,
        "{} differs from what the published spec gives: run `cargo run --example derive_spec`",
        common::spec_subset::SUBSET_FILE
    );
}

/// The client decodes the smallest answer the spec allows for every operation it uses
/// (required fields only, whole numbers as integers), with and without fields the spec
/// does not list: it must not depend on what the simulator happens to send.
#[test]
fn the_client_decodes_the_smallest_answers_the_spec_allows() {
    use ei_tune::api::client::decode_body;
    fn decodes<T: serde::de::DeserializeOwned>(operation: &'static str) -> Vec<String> {
        let spec = spec();
        let schema = spec.response_schema_of(operation);
        [false, true]
            .into_iter()
            .filter_map(|extra| {
                let mut body = spec.minimal(schema, extra);
                body["success"] = json!(true);
                let errors = spec.validate(schema, &body);
                assert!(
                    errors.is_empty(),
                    "{operation}: the test's body: {errors:?}"
                );
                decode_body::<T>(operation, body.to_string().as_bytes())
                    .err()
                    .map(|e| format!("{e} in {body}"))
            })
            .collect()
    }
    let failures: Vec<String> = [
        decodes::<ListProjectsResponse>("listProjects"),
        decodes::<GetAllImpulsesResponse>("getAllImpulses"),
        decodes::<GetImpulseResponse>("getImpulse"),
        decodes::<BlockConfigThresholds>("getKeras"),
        decodes::<BlockConfigThresholds>("getAnomaly"),
        decodes::<SetImpulseThresholdsResponse>("setImpulseThresholds"),
        decodes::<StartJobResponse>("regenerateModelTestingSummary"),
        decodes::<ListJobsResponse>("listActiveJobs"),
        decodes::<GetJobResponse>("getJobStatus"),
        decodes::<ClassifyJobResponse>("getClassifyJobResult"),
        decodes::<ModelTestingSummary>("getClassifyJobResult"),
        decodes::<ClassifyJobResponsePage>("getClassifyJobResultPage"),
        decodes::<LastModificationDateResponse>("getProjectLastModificationDate"),
        decodes::<ModelTrained>("getKerasMetadata"),
        decodes::<ModelTrained>("getAnomalyMetadata"),
        decodes::<StartJobResponse>("startClassifyJob"),
    ]
    .concat();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
