//! The simulated Studio: the endpoints ei-tune uses, with the same paths, JSON and error
//! shapes as the real service, over a demo project with real model testing data.
//!
//! It binds loopback on a free port by default, so `EI_API_ENDPOINT=http://127.0.0.1:PORT/v1`
//! is the only difference a client sees. Used by `ei-tune serve`, `ei-tune demo` and tests.

pub mod demo;
pub mod faults;
pub mod guard;
pub mod load;
pub mod state;
pub mod variations;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api::models::*;
use demo::{DEMO_PROJECT_ID, demo_impulses, demo_project};
use state::{Refusal, StudioState, classify_response};

/// Largest request body accepted; set-thresholds bodies are a few hundred bytes.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// The impulses a project of the demo's tier may have (`maxImpulseCount`).
const MAX_IMPULSES: i64 = 10;
/// Largest page of getClassifyJobResultPage.
pub const MAX_PAGE: usize = 1000;
const DEFAULT_PAGE: usize = 50;

#[derive(Debug, Clone)]
pub struct StudioConfig {
    pub bind: SocketAddr,
    /// The project API key every request must carry in `x-api-key`.
    pub api_key: String,
    /// Also accepted, in `x-jwt-token`.
    pub jwt: Option<String>,
    /// How long a regeneration job runs.
    pub job_duration: Duration,
    /// Faults to inject, if any.
    pub faults: Option<faults::FaultSpec>,
    /// The words of set-thresholds' refusal while a job runs (the spec leaves them open).
    pub blocked_by_job_message: String,
    /// Answers varied the ways the spec allows, if any.
    pub variations: Option<variations::Variations>,
    /// Learn blocks whose configuration neither getKeras nor getAnomaly serves.
    pub unreadable_blocks: Vec<u64>,
    /// Connections open at once, and how long one may wait for an answer (see [`guard`]).
    pub max_connections: usize,
    pub head_timeout: Duration,
}

impl StudioConfig {
    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            api_key: api_key.into(),
            jwt: None,
            job_duration: Duration::from_secs_f64(crate::defaults::JOB_SECONDS),
            faults: None,
            blocked_by_job_message: state::BLOCKED_BY_JOB_MESSAGE.into(),
            variations: None,
            unreadable_blocks: Vec::new(),
            max_connections: guard::MAX_CONNECTIONS,
            head_timeout: guard::HEAD_TIMEOUT,
        }
    }
}

/// A random project API key in Studio's format.
pub fn random_api_key() -> String {
    let mut rng = fastrand::Rng::new();
    let hex: String = (0..32)
        .map(|_| char::from_digit(rng.u32(..16), 16).unwrap_or('0'))
        .collect();
    format!("ei_{hex}")
}

/// One set-thresholds call as the simulator received it.
#[derive(Debug, Clone)]
pub struct RecordedCall {
    pub at: Instant,
    pub impulse_id: u64,
    pub request: SetImpulseThresholdsRequest,
    /// The body exactly as it arrived.
    pub body: String,
    /// Whether it was applied (`success: true`).
    pub applied: bool,
}

#[derive(Debug, Default)]
struct Journal {
    set_threshold_calls: Vec<RecordedCall>,
    requests: HashMap<&'static str, u64>,
}

#[derive(Clone)]
struct Shared {
    state: Arc<Mutex<StudioState>>,
    journal: Arc<Mutex<Journal>>,
    api_key: Arc<str>,
    jwt: Option<Arc<str>>,
    unreadable_blocks: Arc<[u64]>,
}

impl Shared {
    /// The state with finished jobs applied. A panic in one handler must not take the
    /// whole simulator down, hence the poison recovery.
    fn state(&self) -> MutexGuard<'_, StudioState> {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        guard.advance(SystemTime::now());
        guard
    }

    fn journal(&self) -> MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Refuses to read a block configured as unreadable.
    fn readable(&self, learn: u64) -> Result<(), Refusal> {
        if self.unreadable_blocks.contains(&learn) {
            return Err(Refusal::soft(format!(
                "Learn block {learn} has no configuration this endpoint can return"
            )));
        }
        Ok(())
    }

    fn count(&self, operation: &'static str) {
        *self.journal().requests.entry(operation).or_default() += 1;
    }
}

/// A running simulator.
pub struct Studio {
    addr: SocketAddr,
    api_key: String,
    shared: Shared,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Studio {
    /// Binds and starts serving the demo project.
    pub async fn start(config: StudioConfig) -> std::io::Result<Self> {
        let impulses = demo_impulses().map_err(std::io::Error::other)?;
        let mut state = StudioState::new(demo_project(), impulses, config.job_duration);
        state.blocked_by_job_message = config.blocked_by_job_message.clone();
        let shared = Shared {
            state: Arc::new(Mutex::new(state)),
            journal: Arc::new(Mutex::new(Journal::default())),
            api_key: Arc::from(config.api_key.as_str()),
            jwt: config.jwt.as_deref().map(Arc::from),
            unreadable_blocks: Arc::from(config.unreadable_blocks.as_slice()),
        };
        let listener = tokio::net::TcpListener::bind(config.bind).await?;
        let addr = listener.local_addr()?;
        let listener =
            guard::GuardedListener::new(listener, config.max_connections, config.head_timeout);
        let mut app = router(shared.clone());
        if let Some(v) = config.variations.clone() {
            tracing::info!(?v, "varying answers");
            app = app.layer(middleware::from_fn_with_state(
                Arc::new(v),
                variations::vary,
            ));
        }
        if let Some(spec) = config.faults.clone() {
            tracing::info!(?spec, "injecting faults");
            let faults = Arc::new(faults::Faults::new(spec));
            app = app.layer(middleware::from_fn_with_state(faults, faults::inject));
        }
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!("simulator stopped: {e}");
            }
        });
        tracing::info!(%addr, "simulated Studio listening");
        Ok(Self {
            addr,
            api_key: config.api_key,
            shared,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// Base URL up to `/v1`, as `EI_API_ENDPOINT` takes it.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    pub fn project_id(&self) -> u64 {
        DEMO_PROJECT_ID
    }

    /// Every set-thresholds call received so far, oldest first.
    pub fn set_threshold_calls(&self) -> Vec<RecordedCall> {
        self.shared.journal().set_threshold_calls.clone()
    }

    /// How many requests an operation (by operationId) has received.
    pub fn request_count(&self, operation: &str) -> u64 {
        self.shared
            .journal()
            .requests
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    /// The current value of a threshold.
    pub fn threshold(&self, block_id: u64, key: &str) -> Option<ThresholdValue> {
        let state = self.shared.state();
        let block = state.block(block_id).ok()?;
        block
            .thresholds
            .iter()
            .find(|t| t.key == key)
            .map(|t| t.value.clone())
    }

    /// Stops serving and waits for open connections to close.
    pub async fn shutdown(mut self) {
        self.stop();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for Studio {
    fn drop(&mut self) {
        self.stop();
    }
}

fn router(shared: Shared) -> Router {
    let api = Router::new()
        .route("/v1/api/projects", get(list_projects))
        .route("/v1/api/{project}/impulses", get(list_impulses))
        .route("/v1/api/{project}/impulse", get(get_impulse))
        .route("/v1/api/{project}/training/keras/{learn}", get(get_keras))
        .route(
            "/v1/api/{project}/training/anomaly/{learn}",
            get(get_anomaly),
        )
        .route(
            "/v1/api/{project}/impulse/{impulse}/set-thresholds",
            post(set_thresholds),
        )
        .route(
            "/v1/api/{project}/impulse/{impulse}/regenerate-model-testing-summary",
            post(regenerate),
        )
        .route("/v1/api/{project}/jobs", get(list_active_jobs))
        .route("/v1/api/{project}/jobs/{job}/status", get(job_status))
        .route(
            "/v1/api/{project}/classify/all/result",
            get(classify_result),
        )
        .route(
            "/v1/api/{project}/classify/all/result/page",
            get(classify_result_page),
        )
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), authenticate));
    api.layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(shared)
}

fn failure(status: StatusCode, error: impl Into<String>) -> Response {
    (status, axum::Json(GenericApiResponse::failure(error))).into_response()
}

fn refusal(r: Refusal) -> Response {
    failure(
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST),
        r.error,
    )
}

fn reply<T: Serialize>(result: Result<T, Refusal>) -> Response {
    match result {
        Ok(body) => axum::Json(body).into_response(),
        Err(r) => refusal(r),
    }
}

async fn not_found() -> Response {
    failure(StatusCode::NOT_FOUND, "No such API endpoint")
}

async fn authenticate(
    State(shared): State<Shared>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (key, jwt) = (header("x-api-key"), header("x-jwt-token"));
    let key_ok = key.is_some_and(|k| constant_time_eq(k, &shared.api_key));
    let jwt_ok = match (&shared.jwt, jwt) {
        (Some(expected), Some(given)) => constant_time_eq(given, expected),
        _ => false,
    };
    if key_ok || jwt_ok {
        return next.run(request).await;
    }
    let why = if key.is_some() || jwt.is_some() {
        "Unauthorized: the API key or JWT token is not valid for this project"
    } else {
        "Unauthorized: send a project API key in the x-api-key header"
    };
    failure(StatusCode::UNAUTHORIZED, why)
}

/// Compares without leaking the position of the first difference through timing.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

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

async fn list_projects(State(shared): State<Shared>) -> Response {
    shared.count("listProjects");
    let project = shared.state().project.clone();
    reply::<_>(Ok(ListProjectsResponse {
        success: true,
        error: None,
        projects: vec![project],
    }))
}

async fn list_impulses(State(shared): State<Shared>, Path(p): Path<String>) -> Response {
    shared.count("getAllImpulses");
    reply(project(&shared, &p).map(|_| GetAllImpulsesResponse {
        success: true,
        error: None,
        impulses: shared.state().impulses(),
        max_impulse_count: Some(MAX_IMPULSES),
    }))
}

async fn get_impulse(
    State(shared): State<Shared>,
    Path(p): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    shared.count("getImpulse");
    reply((|| {
        project(&shared, &p)?;
        let impulse_id = query_id(&query, "impulseId")?;
        let impulse = shared.state().impulse(impulse_id)?.impulse.clone();
        Ok(GetImpulseResponse {
            success: true,
            error: None,
            impulse: Some(impulse),
        })
    })())
}

fn dependencies(block: &demo::SimBlock, sample_count: usize) -> DependencyData {
    DependencyData {
        classes: block.classes.clone(),
        block_names: vec!["Image".into()],
        feature_count: 64,
        sample_count: sample_count as u64,
        output_classes: block.classes.clone(),
    }
}

async fn get_keras(
    State(shared): State<Shared>,
    Path((p, learn)): Path<(String, String)>,
) -> Response {
    shared.count("getKeras");
    reply((|| {
        project(&shared, &p)?;
        let learn: u64 = id("learnId", &learn)?;
        shared.readable(learn)?;
        let state = shared.state();
        let block = state.block(learn)?;
        if block.block.kind.reads_with_get_anomaly() {
            return Err(Refusal::soft(format!(
                "Learn block {learn} is an anomaly block; read it with getAnomaly"
            )));
        }
        let min_score = block
            .thresholds
            .iter()
            .find(|t| t.key == "min_score" || t.key == "min_anomaly_score")
            .and_then(|t| t.value.as_number())
            .unwrap_or(0.0);
        Ok(KerasResponse {
            success: true,
            error: None,
            dependencies: dependencies(block, 1077),
            trained: true,
            name: block.block.name.clone(),
            kind: Some(block.block.kind.clone()),
            script: String::new(),
            minimum_confidence_rating: min_score,
            selected_model_type: "float32".into(),
            mode: "visual".into(),
            visual_layers: vec![KerasVisualLayer {
                kind: "dense".into(),
                neurons: Some(20),
                kernel_size: None,
                dropout_rate: None,
                enabled: Some(true),
            }],
            training_cycles: 30,
            learning_rate: 0.0005,
            batch_size: Some(32),
            default_batch_size: 32,
            shape: "(64,)".into(),
            train_test_split: Some(0.2),
            augmentation_policy_image: "none".into(),
            transfer_learning_models: Vec::new(),
            profile_int8: true,
            skip_embeddings_and_memory: false,
            show_advanced_training_settings: false,
            show_augmentation_training_settings: false,
            thresholds: block.thresholds.clone(),
        })
    })())
}

async fn get_anomaly(
    State(shared): State<Shared>,
    Path((p, learn)): Path<(String, String)>,
) -> Response {
    shared.count("getAnomaly");
    reply((|| {
        project(&shared, &p)?;
        let learn: u64 = id("learnId", &learn)?;
        shared.readable(learn)?;
        let state = shared.state();
        let block = state.block(learn)?;
        if !block.block.kind.reads_with_get_anomaly() {
            return Err(Refusal::soft(format!(
                "Learn block {learn} is not an anomaly block; read it with getKeras"
            )));
        }
        let min_anomaly = block
            .thresholds
            .iter()
            .find(|t| t.key == "min_anomaly_score")
            .and_then(|t| t.value.as_number())
            .unwrap_or(0.0);
        Ok(AnomalyConfigResponse {
            success: true,
            error: None,
            dependencies: dependencies(block, 1077),
            name: block.block.name.clone(),
            axes: (0..12)
                .map(|ix| AnomalyAxis {
                    ix,
                    label: format!("PCA {}", ix + 1),
                    selected: true,
                    favourite: false,
                })
                .collect(),
            trained: true,
            cluster_count: Some(12),
            selected_axes: (0..12).collect(),
            minimum_confidence_rating: min_anomaly,
            thresholds: block.thresholds.clone(),
        })
    })())
}

async fn set_thresholds(
    State(shared): State<Shared>,
    Path((p, impulse)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    shared.count("setImpulseThresholds");
    let parsed = (|| {
        project(&shared, &p)?;
        let impulse: u64 = id("impulseId", &impulse)?;
        let request = parse_set_thresholds(&body)?;
        Ok::<_, Refusal>((impulse, request))
    })();
    let (impulse, request) = match parsed {
        Ok(parsed) => parsed,
        Err(r) => return refusal(r),
    };
    let outcome = shared
        .state()
        .set_thresholds(impulse, &request, SystemTime::now());
    tracing::info!(
        impulse,
        entries = request.thresholds.len(),
        applied = outcome.is_ok(),
        "set-thresholds"
    );
    shared.journal().set_threshold_calls.push(RecordedCall {
        at: Instant::now(),
        impulse_id: impulse,
        request,
        body: String::from_utf8_lossy(&body).into_owned(),
        applied: outcome.is_ok(),
    });
    reply(outcome)
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

async fn regenerate(
    State(shared): State<Shared>,
    Path((p, impulse)): Path<(String, String)>,
) -> Response {
    shared.count("regenerateModelTestingSummary");
    reply((|| {
        project(&shared, &p)?;
        let impulse: u64 = id("impulseId", &impulse)?;
        let job = shared.state().regenerate(impulse, SystemTime::now())?;
        Ok(StartJobResponse {
            success: true,
            error: None,
            id: job,
        })
    })())
}

async fn job_status(
    State(shared): State<Shared>,
    Path((p, job)): Path<(String, String)>,
) -> Response {
    shared.count("getJobStatus");
    reply((|| {
        project(&shared, &p)?;
        let job: u64 = id("jobId", &job)?;
        let state = shared.state();
        Ok(GetJobResponse {
            success: true,
            error: None,
            job: state.job(job)?.to_api(SystemTime::now()),
        })
    })())
}

async fn list_active_jobs(State(shared): State<Shared>, Path(p): Path<String>) -> Response {
    shared.count("listActiveJobs");
    reply((|| {
        project(&shared, &p)?;
        let now = SystemTime::now();
        let state = shared.state();
        let jobs: Vec<Job> = state.running_jobs(now).map(|j| j.to_api(now)).collect();
        Ok(ListJobsResponse {
            success: true,
            error: None,
            total_job_count: jobs.len() as u64,
            jobs,
        })
    })())
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
    let chunks = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
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

async fn classify_result(
    State(shared): State<Shared>,
    Path(p): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    shared.count("getClassifyJobResult");
    classify(&shared, &p, &query, false)
        .await
        .unwrap_or_else(refusal)
}

async fn classify_result_page(
    State(shared): State<Shared>,
    Path(p): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    shared.count("getClassifyJobResultPage");
    classify(&shared, &p, &query, true)
        .await
        .unwrap_or_else(refusal)
}

/// Per-operation request counts, for `serve`'s log on exit.
pub fn summarize_counts(studio: &Studio) -> BTreeMap<&'static str, u64> {
    studio
        .shared
        .journal()
        .requests
        .iter()
        .map(|(k, v)| (*k, *v))
        .collect()
}
