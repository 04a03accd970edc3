//! The simulator's endpoints: each checks its request and answers with the response type
//! the spec names, or with a [`Refusal`] in Studio's error shape.

use std::collections::HashMap;
use std::time::{Instant, SystemTime};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

use super::demo::{self, SimBlock, anomaly_config, keras_config};
use super::state::{Refusal, classify_response};
use super::{DEFAULT_PAGE, MAX_IMPULSES, MAX_PAGE, RecordedCall, Shared};
use crate::api::models::*;

/// A path segment that must be a positive integer.
fn id<T: std::str::FromStr>(what: &str, raw: &str) -> Result<T, Refusal> {
    raw.parse().map_err(|_| Refusal {
        status: 400,
        error: format!("{what} must be an integer, got `{raw}`"),
    })
}

fn query_id<T: std::str::FromStr>(
    query: &HashMap<String, String>,
    name: &str,
) -> Result<Option<T>, Refusal> {
    query.get(name).map(|raw| id(name, raw)).transpose()
}

/// Checks the project in the path against the key's project.
fn project(shared: &Shared, raw: &str) -> Result<u64, Refusal> {
    let id: u64 = id("projectId", raw)?;
    let ours = shared.state().project.id;
    if id == ours {
        Ok(id)
    } else {
        Err(Refusal {
            status: 403,
            error: format!("No access to project {id} with these credentials"),
        })
    }
}

pub(super) async fn list_projects(State(shared): State<Shared>) -> Json<ListProjectsResponse> {
    let project = shared.state().project.clone();
    Json(ListProjectsResponse {
        success: true,
        error: None,
        projects: vec![project],
    })
}

pub(super) async fn list_impulses(
    State(shared): State<Shared>,
    Path(p): Path<String>,
) -> Result<Json<GetAllImpulsesResponse>, Refusal> {
    project(&shared, &p)?;
    Ok(Json(GetAllImpulsesResponse {
        success: true,
        error: None,
        impulses: shared.state().impulses(),
        max_impulse_count: Some(MAX_IMPULSES),
    }))
}

pub(super) async fn get_impulse(
    State(shared): State<Shared>,
    Path(p): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<GetImpulseResponse>, Refusal> {
    project(&shared, &p)?;
    let impulse_id = query_id(&query, "impulseId")?;
    let impulse = shared.state().impulse(impulse_id)?.impulse.clone();
    Ok(Json(GetImpulseResponse {
        success: true,
        error: None,
        impulse: Some(impulse),
    }))
}

/// Learn block `learn` of project `p`, as the endpoint of its family reads it: the anomaly
/// one (`anomaly`) or the Keras one; a block of the other family is refused, naming
/// `other`, the endpoint that reads it.
fn read_block<T>(
    shared: &Shared,
    p: &str,
    learn: &str,
    anomaly: bool,
    other: &str,
    answer: impl FnOnce(&SimBlock) -> T,
) -> Result<Json<T>, Refusal> {
    project(shared, p)?;
    let learn: u64 = id("learnId", learn)?;
    shared.readable(learn)?;
    let state = shared.state();
    let block = state.block(learn)?;
    if block.block.kind.reads_with_get_anomaly() != anomaly {
        let what = if anomaly { "is not" } else { "is" };
        return Err(Refusal::soft(format!(
            "Learn block {learn} {what} an anomaly block; read it with {other}"
        )));
    }
    Ok(Json(answer(block)))
}

pub(super) async fn get_keras(
    State(shared): State<Shared>,
    Path((p, learn)): Path<(String, String)>,
) -> Result<Json<KerasResponse>, Refusal> {
    read_block(&shared, &p, &learn, false, "getAnomaly", keras_config)
}

pub(super) async fn get_anomaly(
    State(shared): State<Shared>,
    Path((p, learn)): Path<(String, String)>,
) -> Result<Json<AnomalyConfigResponse>, Refusal> {
    read_block(&shared, &p, &learn, true, "getKeras", anomaly_config)
}

/// Applies the call and records it under one lock: whoever reads the journal sees the
/// state it left.
pub(super) async fn set_thresholds(
    State(shared): State<Shared>,
    Path((p, impulse)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<SetImpulseThresholdsResponse>, Refusal> {
    project(&shared, &p)?;
    let impulse: u64 = id("impulseId", &impulse)?;
    let request = parse_set_thresholds(&body)?;
    let mut locked = shared.state();
    let outcome = locked.set_thresholds(impulse, &request, SystemTime::now());
    tracing::info!(
        impulse,
        entries = request.thresholds.len(),
        applied = outcome.is_ok(),
        "set-thresholds"
    );
    locked.journal.set_threshold_calls.push(RecordedCall {
        at: Instant::now(),
        impulse_id: impulse,
        request,
        body: String::from_utf8_lossy(&body).into_owned(),
        applied: outcome.is_ok(),
    });
    outcome.map(Json)
}

/// The body of set-thresholds, with a message naming the offending field.
fn parse_set_thresholds(body: &[u8]) -> Result<SetImpulseThresholdsRequest, Refusal> {
    let bad = |error: String| Refusal { status: 400, error };
    let mut de = serde_json::Deserializer::from_slice(body);
    let request: SetImpulseThresholdsRequest =
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                bad(format!("Request body is not valid JSON: {inner}"))
            } else if path == "." {
                bad(format!("Invalid request body: {inner}"))
            } else {
                bad(format!("Invalid request body at `{path}`: {inner}"))
            }
        })?;
    de.end()
        .map_err(|e| bad(format!("Request body is not valid JSON: {e}")))?;
    Ok(request)
}

pub(super) async fn regenerate(
    State(shared): State<Shared>,
    Path((p, impulse)): Path<(String, String)>,
) -> Result<Json<StartJobResponse>, Refusal> {
    project(&shared, &p)?;
    let impulse: u64 = id("impulseId", &impulse)?;
    let job = shared.state().regenerate(impulse, SystemTime::now())?;
    Ok(Json(StartJobResponse {
        success: true,
        error: None,
        id: job,
    }))
}

/// startClassifyJob: model testing run again on the impulse (the default one without
/// `impulseId`). Skipping feature generation (`skipFeatureGeneration`, what a threshold
/// change allows) makes the job shorter; the body must be a StartClassifyJobRequest.
pub(super) async fn start_classify(
    State(shared): State<Shared>,
    Path(p): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Json<StartJobResponse>, Refusal> {
    project(&shared, &p)?;
    let impulse_id = query_id(&query, "impulseId")?;
    let request: StartClassifyJobRequest = match serde_json::from_slice(&body) {
        Ok(serde_json::Value::Object(fields)) => {
            serde_json::from_value(serde_json::Value::Object(fields))
                .map_err(|e| Refusal::soft(format!("Invalid request body: {e}")))?
        }
        _ => {
            return Err(Refusal::soft(
                "The request body must be a JSON object (StartClassifyJobRequest)",
            ));
        }
    };
    let skip_features = request.skip_feature_generation.unwrap_or(false);
    let mut locked = shared.state();
    let impulse = locked.impulse(impulse_id)?.impulse.id;
    let job = locked.start_classify(impulse, skip_features, SystemTime::now())?;
    tracing::info!(impulse, job, skip_features, "startClassifyJob");
    locked.journal.classify_jobs.push(super::ClassifyCall {
        impulse_id: impulse,
        skip_features,
    });
    Ok(Json(StartJobResponse {
        success: true,
        error: None,
        id: job,
    }))
}

pub(super) async fn last_modification(
    State(shared): State<Shared>,
    Path(p): Path<String>,
) -> Result<Json<LastModificationDateResponse>, Refusal> {
    project(&shared, &p)?;
    let date = shared.state().modified().to_string();
    Ok(Json(LastModificationDateResponse {
        success: true,
        error: None,
        last_modification_date: Some(date.clone()),
        modification_date: Some(date),
        last_version_date: None,
    }))
}

pub(super) async fn get_keras_metadata(
    State(shared): State<Shared>,
    Path((p, learn)): Path<(String, String)>,
) -> Result<Json<KerasModelMetadataResponse>, Refusal> {
    read_block(
        &shared,
        &p,
        &learn,
        false,
        "getAnomalyMetadata",
        demo::keras_metadata,
    )
}

pub(super) async fn get_anomaly_metadata(
    State(shared): State<Shared>,
    Path((p, learn)): Path<(String, String)>,
) -> Result<Json<AnomalyModelMetadataResponse>, Refusal> {
    read_block(
        &shared,
        &p,
        &learn,
        true,
        "getKerasMetadata",
        demo::anomaly_metadata,
    )
}

pub(super) async fn job_status(
    State(shared): State<Shared>,
    Path((p, job)): Path<(String, String)>,
) -> Result<Json<GetJobResponse>, Refusal> {
    project(&shared, &p)?;
    let job: u64 = id("jobId", &job)?;
    let state = shared.state();
    Ok(Json(GetJobResponse {
        success: true,
        error: None,
        job: state.job(job)?.to_api(SystemTime::now()),
    }))
}

pub(super) async fn list_active_jobs(
    State(shared): State<Shared>,
    Path(p): Path<String>,
) -> Result<Json<ListJobsResponse>, Refusal> {
    project(&shared, &p)?;
    let now = SystemTime::now();
    let state = shared.state();
    let jobs: Vec<Job> = state.running_jobs(now).map(|j| j.to_api(now)).collect();
    Ok(Json(ListJobsResponse {
        success: true,
        error: None,
        total_job_count: jobs.len() as u64,
        jobs,
    }))
}

/// getClassifyJobResult, or a page of it: checked here, then written as JSON by a blocking
/// task straight into the response body, a chunk at a time. The result set of a large test
/// set (24,000 windows are 45 MB of JSON) is thus never held whole, neither as values nor
/// as text, and the first bytes leave before the last window is evaluated.
async fn classify(
    shared: &Shared,
    p: &str,
    query: &HashMap<String, String>,
    page: bool,
) -> Result<Response, Refusal> {
    let project_id = project(shared, p)?;
    let impulse_id = query_id(query, "impulseId")?;
    if page && let Some(impulse) = impulse_id {
        shared.count_result_page(impulse);
    }
    let (sim, results) = {
        let state = shared.state();
        let (sim, results) = state.results(impulse_id)?;
        (sim.clone(), results)
    };
    let total = sim.test_set.as_ref().map_or(0, |s| s.len());
    let range = if page {
        let limit: usize = query_id(query, "limit")?
            .unwrap_or(DEFAULT_PAGE)
            .min(MAX_PAGE);
        let offset: usize = query_id(query, "offset")?.unwrap_or(0);
        Some(offset.min(total)..offset.saturating_add(limit).min(total))
    } else {
        None
    };
    let (tx, rx) = tokio::sync::mpsc::channel(STREAM_CHUNKS_IN_FLIGHT);
    tokio::task::spawn_blocking(move || {
        let response = classify_response(project_id, &sim, results, range);
        let mut body = ChunkedBody::new(tx);
        let written = if page {
            let has_results =
                response.accuracy.total_summary.good + response.accuracy.total_summary.bad > 0;
            serde_json::to_writer(
                &mut body,
                &ClassifyJobResponsePage {
                    success: true,
                    error: None,
                    result: response.result,
                    predictions: response.predictions,
                    total_count: if has_results { total as u64 } else { 0 },
                },
            )
        } else {
            serde_json::to_writer(&mut body, &response)
        };
        body.finish(written.map_err(std::io::Error::from));
    });
    // Fused: the compression layer may poll once more after the end.
    let chunks = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    })
    .fuse();
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from_stream(chunks),
    )
        .into_response())
}

/// Chunks of a streamed body waiting for the connection; with [`STREAM_CHUNK_BYTES`] this
/// bounds what a streamed answer holds in memory.
const STREAM_CHUNKS_IN_FLIGHT: usize = 4;
const STREAM_CHUNK_BYTES: usize = 64 * 1024;

/// A response body written by a blocking task: bytes are sent on in chunks, and a failure
/// ends the stream with an error, so that the connection is cut rather than a truncated
/// body looking complete.
struct ChunkedBody {
    tx: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
    buffer: Vec<u8>,
}

impl ChunkedBody {
    fn new(tx: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>) -> Self {
        Self {
            tx,
            buffer: Vec::with_capacity(STREAM_CHUNK_BYTES),
        }
    }

    fn send_buffer(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(STREAM_CHUNK_BYTES),
        ));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }

    fn finish(mut self, written: std::io::Result<()>) {
        if let Err(e) = written.and_then(|()| self.send_buffer()) {
            tracing::debug!(error = %e, "streamed answer ended early");
            // Nobody may be listening any more; then there is nothing left to tell.
            let _ = self.tx.blocking_send(Err(e));
        }
    }
}

impl std::io::Write for ChunkedBody {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= STREAM_CHUNK_BYTES {
            self.send_buffer()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub(super) async fn classify_result(
    State(shared): State<Shared>,
    Path(p): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    classify(&shared, &p, &query, false).await
}

pub(super) async fn classify_result_page(
    State(shared): State<Shared>,
    Path(p): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    classify(&shared, &p, &query, true).await
}
