//! The simulated Studio: the endpoints ei-tune uses, with the same paths, JSON and error
//! shapes as the real service, over a demo project with real model testing data.
//!
//! It binds loopback on a free port by default, so `EI_API_ENDPOINT=http://127.0.0.1:PORT/v1`
//! is the only difference a client sees. Used by `ei-tune serve`, `ei-tune demo` and tests.

pub mod demo;
pub mod faults;
pub mod figures;
pub mod guard;
mod handlers;
pub mod load;
pub mod state;
pub mod variations;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api::models::*;
use demo::{DEMO_PROJECT_ID, demo_impulses, demo_project};
use state::{Refusal, StudioState};

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

/// One startClassifyJob call as the simulator received it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifyCall {
    pub impulse_id: u64,
    /// `skipFeatureGeneration`.
    pub skip_features: bool,
}

/// What the simulator saw: kept under the same lock as the state, so that a call is
/// applied and recorded at once (a reader never sees one without the other).
#[derive(Debug, Default)]
struct Journal {
    set_threshold_calls: Vec<RecordedCall>,
    classify_jobs: Vec<ClassifyCall>,
    requests: HashMap<&'static str, u64>,
    /// Pages of per-window results asked for, by impulse.
    result_pages: HashMap<u64, u64>,
}

/// The state and its journal, behind one lock.
struct Locked {
    state: StudioState,
    journal: Journal,
}

impl std::ops::Deref for Locked {
    type Target = StudioState;
    fn deref(&self) -> &StudioState {
        &self.state
    }
}

impl std::ops::DerefMut for Locked {
    fn deref_mut(&mut self) -> &mut StudioState {
        &mut self.state
    }
}

#[derive(Clone)]
struct Shared {
    locked: Arc<Mutex<Locked>>,
    api_key: Arc<str>,
    jwt: Option<Arc<str>>,
    unreadable_blocks: Arc<[u64]>,
}

impl Shared {
    /// The state with finished jobs applied, and the journal. A panic in one handler must
    /// not take the whole simulator down, hence the poison recovery.
    fn state(&self) -> MutexGuard<'_, Locked> {
        let mut guard = self.lock();
        guard.state.advance(SystemTime::now());
        guard
    }

    fn lock(&self) -> MutexGuard<'_, Locked> {
        self.locked.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A page of the per-window results of `impulse` was asked for.
    fn count_result_page(&self, impulse: u64) {
        *self.lock().journal.result_pages.entry(impulse).or_default() += 1;
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
}

/// A hook of [`Studio`] named an impulse the simulator does not have.
#[derive(Debug, thiserror::Error)]
#[error("the simulator has no impulse {0}")]
pub struct NoSuchImpulse(pub u64);

/// A hook of [`Studio`] named a learn block (or a threshold of it) the simulator does not
/// have.
#[derive(Debug, thiserror::Error)]
#[error("the simulator has no such threshold in learn block {0}")]
pub struct NoSuchBlock(pub u64);

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
        state.thresholds_touch_project = config
            .variations
            .as_ref()
            .is_some_and(|v| v.thresholds_touch_project);
        let shared = Shared {
            locked: Arc::new(Mutex::new(Locked {
                state,
                journal: Journal::default(),
            })),
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
        // Compressed when the client asks (Accept-Encoding), as Studio's front end does:
        // after the answer is varied, before the network's faults (bandwidth counts the
        // compressed bytes). Large answers are compressed as they stream.
        app = app.layer(
            tower_http::compression::CompressionLayer::new()
                .quality(tower_http::compression::CompressionLevel::Fastest),
        );
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
        self.shared.lock().journal.set_threshold_calls.clone()
    }

    /// Every startClassifyJob call received so far, oldest first.
    pub fn classify_calls(&self) -> Vec<ClassifyCall> {
        self.shared.lock().journal.classify_jobs.clone()
    }

    /// Trains the impulse's models again: new scores and dates, and no model testing
    /// results until model testing runs again (`startClassifyJob`).
    pub fn retrain(&self, impulse: u64) -> Result<(), NoSuchImpulse> {
        self.shared
            .state()
            .retrain(impulse, SystemTime::now())
            .map_err(|_| NoSuchImpulse(impulse))
    }

    /// Changes the impulse's test data (its last window goes): no model testing results
    /// until model testing runs again.
    pub fn replace_test_data(&self, impulse: u64) -> Result<(), NoSuchImpulse> {
        self.shared
            .state()
            .replace_test_data(impulse, SystemTime::now())
            .map_err(|_| NoSuchImpulse(impulse))
    }

    /// Changes the impulse's definition (its input images' size).
    pub fn change_impulse(&self, impulse: u64) -> Result<(), NoSuchImpulse> {
        self.shared
            .state()
            .change_impulse(impulse)
            .map_err(|_| NoSuchImpulse(impulse))
    }

    /// How many requests an operation (by operationId) has received.
    /// How many pages of the per-window results of `impulse` were asked for.
    pub fn result_page_requests(&self, impulse: u64) -> u64 {
        self.shared
            .lock()
            .journal
            .result_pages
            .get(&impulse)
            .copied()
            .unwrap_or(0)
    }

    pub fn request_count(&self, operation: &str) -> u64 {
        self.shared
            .lock()
            .journal
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

    /// Sets thresholds of `impulse` as another writer would, at once (no request, no
    /// fault): for tests of what a client does when a value changes under it.
    pub fn set_thresholds_now(
        &self,
        impulse: u64,
        thresholds: Vec<crate::api::models::ThresholdUpdate>,
    ) -> Result<(), NoSuchImpulse> {
        let request = crate::api::models::SetImpulseThresholdsRequest::without_jobs(thresholds);
        self.shared
            .state()
            .set_thresholds(impulse, &request, SystemTime::now())
            .map(drop)
            .map_err(|_| NoSuchImpulse(impulse))
    }

    /// Offers one more option for the dropdown threshold `key` of a block and sets it, as
    /// a later Studio may: for tests of what a client does with an option it does not
    /// know.
    pub fn offer_and_set_option(
        &self,
        block_id: u64,
        key: &str,
        value: &str,
    ) -> Result<(), NoSuchBlock> {
        let mut state = self.shared.state();
        let threshold = state
            .block_mut(block_id)
            .and_then(|b| b.thresholds.iter_mut().find(|t| t.key == key))
            .ok_or(NoSuchBlock(block_id))?;
        threshold
            .dropdown_options
            .get_or_insert_with(Vec::new)
            .push(crate::api::models::DropdownOption {
                value: value.to_string(),
                description: "an option added since".into(),
            });
        threshold.value = ThresholdValue::Text(value.to_string());
        Ok(())
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

/// The operations served, by route: request counts are kept per operationId.
const OPERATIONS: &[(&str, &str)] = &[
    ("/v1/api/projects", "listProjects"),
    ("/v1/api/{project}/impulses", "getAllImpulses"),
    ("/v1/api/{project}/impulse", "getImpulse"),
    ("/v1/api/{project}/training/keras/{learn}", "getKeras"),
    ("/v1/api/{project}/training/anomaly/{learn}", "getAnomaly"),
    (
        "/v1/api/{project}/impulse/{impulse}/set-thresholds",
        "setImpulseThresholds",
    ),
    (
        "/v1/api/{project}/impulse/{impulse}/regenerate-model-testing-summary",
        "regenerateModelTestingSummary",
    ),
    (
        "/v1/api/{project}/last-modification",
        "getProjectLastModificationDate",
    ),
    (
        "/v1/api/{project}/training/keras/{learn}/metadata",
        "getKerasMetadata",
    ),
    (
        "/v1/api/{project}/training/anomaly/{learn}/metadata",
        "getAnomalyMetadata",
    ),
    ("/v1/api/{project}/jobs", "listActiveJobs"),
    ("/v1/api/{project}/jobs/classify", "startClassifyJob"),
    ("/v1/api/{project}/jobs/{job}/status", "getJobStatus"),
    (
        "/v1/api/{project}/classify/all/result",
        "getClassifyJobResult",
    ),
    (
        "/v1/api/{project}/classify/all/result/page",
        "getClassifyJobResultPage",
    ),
];

fn router(shared: Shared) -> Router {
    use handlers::*;
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
        .route(
            "/v1/api/{project}/last-modification",
            get(last_modification),
        )
        .route(
            "/v1/api/{project}/training/keras/{learn}/metadata",
            get(get_keras_metadata),
        )
        .route(
            "/v1/api/{project}/training/anomaly/{learn}/metadata",
            get(get_anomaly_metadata),
        )
        .route("/v1/api/{project}/jobs", get(list_active_jobs))
        .route("/v1/api/{project}/jobs/classify", post(start_classify))
        .route("/v1/api/{project}/jobs/{job}/status", get(job_status))
        .route(
            "/v1/api/{project}/classify/all/result",
            get(classify_result),
        )
        .route(
            "/v1/api/{project}/classify/all/result/page",
            get(classify_result_page),
        )
        .route_layer(middleware::from_fn_with_state(shared.clone(), count))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), authenticate));
    api.layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(shared)
}

/// Counts each request by its operation, once authenticated and routed.
async fn count(
    State(shared): State<Shared>,
    path: MatchedPath,
    request: Request,
    next: Next,
) -> Response {
    let operation = OPERATIONS
        .iter()
        .find(|(p, _)| *p == path.as_str())
        .map_or("unknown", |(_, op)| *op);
    *shared.lock().journal.requests.entry(operation).or_default() += 1;
    next.run(request).await
}

fn failure(status: StatusCode, error: impl Into<String>) -> Response {
    (status, axum::Json(GenericApiResponse::failure(error))).into_response()
}

/// How Studio refuses: `success: false` and the reason, with the refusal's status.
impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        failure(
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST),
            self.error,
        )
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

/// Per-operation request counts, for `serve`'s log on exit.
pub fn summarize_counts(studio: &Studio) -> BTreeMap<&'static str, u64> {
    studio
        .shared
        .lock()
        .journal
        .requests
        .iter()
        .map(|(k, v)| (*k, *v))
        .collect()
}
