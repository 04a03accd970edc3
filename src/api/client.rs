//! The Studio API client: typed operations over reqwest.

use std::time::Duration;

use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::models::*;
use super::secret::Secret;
use super::skim::Skimmer;

pub const DEFAULT_HOST: &str = "https://studio.edgeimpulse.com/v1";
/// Larger answers are refused rather than buffered: a full result set of a 20,000-sample
/// test set is far below this.
pub const MAX_BODY_BYTES: usize = 256 * 1024 * 1024;
/// Every other answer (a project, an impulse, a block's configuration, a job) is a few KB:
/// larger ones are refused, so that a few reads at once stay within a few MB.
pub const MAX_SMALL_BODY_BYTES: usize = 4 * 1024 * 1024;
/// The cap of one page of results: a page of 1000 windows is about 2 MB of JSON, and it
/// is decoded whole (several times its size in memory), so a page may not be huge.
pub const MAX_PAGE_BODY_BYTES: usize = 32 * 1024 * 1024;
/// The longest wait between two reads, unless the server asks for more.
const MAX_READ_BACKOFF: Duration = Duration::from_secs(4);
/// Pages of results asked for at once after the first: on a link 100 ms away, one page at
/// a time spends most of its time waiting.
pub const DEFAULT_PAGES_IN_FLIGHT: usize = 4;
/// The longest `Retry-After` obeyed: a server that asks for more gets this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How to reach and authenticate with Studio.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL up to and including `/v1`.
    pub host: String,
    pub api_key: Option<Secret>,
    pub jwt: Option<Secret>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Allow credentials over plain http:// to a host other than this machine.
    pub allow_insecure_http: bool,
    /// Larger answers are refused, not buffered.
    pub max_body_bytes: usize,
    /// How reads that fail for a passing reason are tried again.
    pub read_retries: RetryPolicy,
    /// Ask for compressed answers (zstd, brotli, gzip). Off only where the server runs in
    /// the same process (the demo): there compressing costs both sides CPU and memory and
    /// saves nothing.
    pub compress: bool,
    /// Pages of results asked for at once after the first: enough to hide a network's
    /// round trips; where there is none (the demo) two keep both cores busy, and each more
    /// is a page decoded at once, in memory.
    pub pages_in_flight: usize,
}

/// Tries again after a transient failure: `base` × 2ⁿ between attempts (at least what
/// `Retry-After` asks, at most [`MAX_RETRY_AFTER`]), within `attempts` and `max_total`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base: Duration,
    pub max_total: Duration,
}

impl RetryPolicy {
    pub const NONE: Self = Self {
        attempts: 1,
        base: Duration::ZERO,
        max_total: Duration::ZERO,
    };

    /// The wait before attempt `attempt + 1`, if there is one. A host that refuses the
    /// connection is tried only twice more (a wrong address should fail fast); a busy or
    /// failing one as often as the policy allows.
    fn wait(&self, attempt: u32, error: &ApiError, spent: Duration) -> Option<Duration> {
        let unreachable = matches!(
            error,
            ApiError::Network {
                outcome_unknown: false,
                ..
            }
        );
        let attempts = if unreachable {
            self.attempts.min(3)
        } else {
            self.attempts
        };
        if attempt >= attempts || !error.is_transient() {
            return None;
        }
        let backoff = self
            .base
            .saturating_mul(1 << attempt.min(16))
            .min(MAX_READ_BACKOFF);
        let wait = backoff.max(error.retry_after().unwrap_or_default());
        (spent + wait <= self.max_total).then_some(wait)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 8,
            base: Duration::from_millis(200),
            max_total: Duration::from_secs(30),
        }
    }
}

impl ClientConfig {
    pub fn new(host: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            api_key: None,
            jwt: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            allow_insecure_http: false,
            max_body_bytes: MAX_BODY_BYTES,
            read_retries: RetryPolicy::default(),
            compress: true,
            pages_in_flight: DEFAULT_PAGES_IN_FLIGHT,
        }
    }

    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(Secret::new(key));
        self
    }
}

/// The thresholds of one learn block, as read from getKeras or getAnomaly.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockThresholds {
    pub block: ImpulseLearnBlock,
    pub thresholds: Vec<BlockThreshold>,
}

/// A learn block whose thresholds could not be read, and why in the server's words.
#[derive(Debug, Clone, PartialEq)]
pub struct UnreadableBlock {
    pub block: ImpulseLearnBlock,
    pub reason: String,
}

impl UnreadableBlock {
    /// One line for a warning: `block 7 (vlm, "Captioner"): why`.
    pub fn describe(&self) -> String {
        crate::text::clean(&format!(
            "block {} ({}, \"{}\"): {}",
            self.block.id, self.block.kind, self.block.title, self.reason
        ))
    }
}

/// Every threshold of an impulse: the blocks that could be read, and those that could not
/// (one block a server cannot serve does not sink the others).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImpulseThresholds {
    pub blocks: Vec<BlockThresholds>,
    pub unreadable: Vec<UnreadableBlock>,
}

/// A threshold as the client last knew it on Studio, before changing it.
#[derive(Debug, Clone, PartialEq)]
pub struct Believed {
    pub block: ImpulseLearnBlock,
    pub key: String,
    pub value: ThresholdValue,
    /// Values this client sent without learning whether they were applied: finding one
    /// of them on Studio is no sign of another writer.
    pub maybe_ours: Vec<ThresholdValue>,
}

/// A threshold that someone else changed on Studio since the client read it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangedElsewhere {
    pub block_id: u64,
    pub key: String,
    /// What Studio holds now.
    pub value: ThresholdValue,
}

/// What a set-thresholds guarded against other writers did: the answer, if anything was
/// left to send, and the values it left alone because they had changed.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardedSet {
    pub response: Option<SetImpulseThresholdsResponse>,
    pub changed_elsewhere: Vec<ChangedElsewhere>,
}

impl From<SetImpulseThresholdsResponse> for GuardedSet {
    fn from(response: SetImpulseThresholdsResponse) -> Self {
        Self {
            response: Some(response),
            changed_elsewhere: Vec::new(),
        }
    }
}

/// Learn blocks read at once: enough to hide latency, few enough to spare a server.
pub const BLOCK_READS_IN_FLIGHT: usize = 4;

#[derive(Debug, Clone)]
pub struct StudioClient {
    http: reqwest::Client,
    base: String,
    max_body_bytes: usize,
    read_retries: RetryPolicy,
    pages_in_flight: usize,
    /// The credentials sent, to blank out of what a server says back.
    secrets: Vec<Secret>,
}

impl StudioClient {
    pub fn new(config: &ClientConfig) -> Result<Self, ApiError> {
        let base = config.host.trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base).map_err(|e| {
            // The text may hold a password: quote it only when it cannot.
            if base.contains('@') {
                ApiError::Config(format!("the host is not a URL: {e}"))
            } else {
                ApiError::Config(format!("host `{base}` is not a URL: {e}"))
            }
        })?;
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(ApiError::Config(format!(
                "the host URL must end at /v1, with no `?` or `#` part (host: {})",
                parsed.host_str().unwrap_or_default()
            )));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(ApiError::Config(format!(
                "the host URL holds a user name or password; give credentials with \
                 --api-key, --api-key-file or EI_API_KEY instead (host: {})",
                parsed.host_str().unwrap_or_default()
            )));
        }
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ApiError::Config(format!(
                "host `{base}` must start with http:// or https://"
            )));
        }
        let has_credentials = config.api_key.is_some() || config.jwt.is_some();
        if parsed.scheme() == "http" && has_credentials && !config.allow_insecure_http {
            let host = parsed.host_str().unwrap_or_default();
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = host.eq_ignore_ascii_case("localhost")
                || bare
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if !loopback {
                return Err(ApiError::Config(format!(
                    "refusing to send credentials over plain http:// to {}; use https://, \
                     or --allow-insecure-http if you mean it",
                    parsed.host_str().unwrap_or_default()
                )));
            }
        }
        let mut headers = HeaderMap::new();
        if let Some(key) = &config.api_key {
            headers.insert("x-api-key", sensitive_header("API key", key)?);
        }
        if let Some(jwt) = &config.jwt {
            headers.insert("x-jwt-token", sensitive_header("JWT token", jwt)?);
        }
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("ei-tune/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // A redirect would carry the key (and a request body) to wherever it points,
            // maybe over plain http: none is followed, the error says where it led.
            .redirect(reqwest::redirect::Policy::none())
            .gzip(config.compress)
            .brotli(config.compress)
            .zstd(config.compress)
            .build()
            .map_err(|e| ApiError::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            base,
            max_body_bytes: config.max_body_bytes,
            read_retries: config.read_retries,
            pages_in_flight: config.pages_in_flight.max(1),
            secrets: config.api_key.iter().chain(&config.jwt).cloned().collect(),
        })
    }

    /// The base URL (up to `/v1`).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Pages of results to ask for at once.
    pub fn pages_in_flight(&self) -> usize {
        self.pages_in_flight
    }

    /// listProjects. With a project API key this is exactly the key's project.
    pub async fn list_projects(&self) -> Result<Vec<Project>, ApiError> {
        let r: ListProjectsResponse = self.get("listProjects", "/api/projects", &[]).await?;
        Ok(r.projects)
    }

    /// The project to work on: the one given, or the only one the credentials reach.
    pub async fn resolve_project(&self, explicit: Option<u64>) -> Result<u64, ApiError> {
        if let Some(id) = explicit {
            return Ok(id);
        }
        Ok(only_project(&self.list_projects().await?)?.id)
    }

    /// getAllImpulses.
    pub async fn list_impulses(&self, project: u64) -> Result<Vec<Impulse>, ApiError> {
        let r: GetAllImpulsesResponse = self
            .get("getAllImpulses", &format!("/api/{project}/impulses"), &[])
            .await?;
        Ok(r.impulses)
    }

    /// getImpulse: the given impulse, or the project's default one.
    pub async fn get_impulse(
        &self,
        project: u64,
        impulse: Option<u64>,
    ) -> Result<Impulse, ApiError> {
        let query: Vec<(&str, String)> = impulse
            .map(|id| vec![("impulseId", id.to_string())])
            .unwrap_or_default();
        let r: GetImpulseResponse = self
            .get("getImpulse", &format!("/api/{project}/impulse"), &query)
            .await?;
        r.impulse.ok_or_else(|| ApiError::Refused {
            operation: "getImpulse",
            message: match impulse {
                Some(id) => format!("project {project} has no impulse {id}"),
                None => format!("project {project} has no impulse yet"),
            },
        })
    }

    /// getImpulse, with a digest of the impulse exactly as served (every field, those
    /// ei-tune does not model too): what identifies the impulse's definition.
    pub async fn get_impulse_served(
        &self,
        project: u64,
        impulse: u64,
    ) -> Result<(Impulse, String), ApiError> {
        let operation = "getImpulse";
        let query = [("impulseId", impulse.to_string())];
        let body: serde_json::Value = self
            .get(operation, &format!("/api/{project}/impulse"), &query)
            .await?;
        let served = body.get("impulse").cloned().unwrap_or_default();
        let digest = crate::text::digest(&serde_json::to_vec(&served).unwrap_or_default());
        let r: GetImpulseResponse = decode_body(operation, body.to_string().as_bytes())?;
        let impulse = r.impulse.ok_or_else(|| ApiError::Refused {
            operation,
            message: format!("project {project} has no impulse {impulse}"),
        })?;
        Ok((impulse, digest))
    }

    /// Whether `text` holds a credential this client sends (a server echoing it back).
    pub fn mentions_secret(&self, text: &str) -> bool {
        self.secrets
            .iter()
            .any(|s| !s.expose().is_empty() && text.contains(s.expose()))
    }

    /// getKeras.
    pub async fn get_keras(&self, project: u64, learn_id: u64) -> Result<KerasResponse, ApiError> {
        self.get(
            "getKeras",
            &format!("/api/{project}/training/keras/{learn_id}"),
            &[],
        )
        .await
    }

    /// getAnomaly.
    pub async fn get_anomaly(
        &self,
        project: u64,
        learn_id: u64,
    ) -> Result<AnomalyConfigResponse, ApiError> {
        self.get(
            "getAnomaly",
            &format!("/api/{project}/training/anomaly/{learn_id}"),
            &[],
        )
        .await
    }

    /// The thresholds of one learn block, from the endpoint that serves its type (for a
    /// type this version does not know, its family's endpoint, then the other). Only the
    /// thresholds are decoded. A transient failure ends the attempt at once: the block
    /// may be readable a moment later.
    pub async fn block_thresholds(
        &self,
        project: u64,
        block: &ImpulseLearnBlock,
    ) -> Result<BlockThresholds, ApiError> {
        let mut first_error = None;
        for endpoint in block.kind.config_endpoints() {
            let (operation, family) = match endpoint {
                ConfigEndpoint::Keras => ("getKeras", "keras"),
                ConfigEndpoint::Anomaly => ("getAnomaly", "anomaly"),
            };
            let read: Result<BlockConfigThresholds, ApiError> = self
                .get(
                    operation,
                    &format!("/api/{project}/training/{family}/{}", block.id),
                    &[],
                )
                .await;
            match read {
                Ok(config) => {
                    return Ok(BlockThresholds {
                        block: block.clone(),
                        thresholds: config.thresholds,
                    });
                }
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or_else(|| {
            ApiError::Config(format!("no endpoint reads blocks of type {}", block.kind))
        }))
    }

    /// Every threshold of an impulse, a few blocks read at a time, in block order. A
    /// block that cannot be read for good is listed apart; a transient failure fails
    /// the whole read, to be tried again.
    pub async fn impulse_thresholds(
        &self,
        project: u64,
        impulse: &Impulse,
    ) -> Result<ImpulseThresholds, ApiError> {
        let reads = self
            .read_blocks(project, impulse.learn_blocks.iter().cloned())
            .await;
        let mut all = ImpulseThresholds::default();
        for (block, read) in reads {
            match read {
                Ok(thresholds) => all.blocks.push(thresholds),
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => all.unreadable.push(UnreadableBlock {
                    block,
                    reason: e.to_string(),
                }),
            }
        }
        Ok(all)
    }

    /// setImpulseThresholds. When Studio refuses, listActiveJobs says whether a job running
    /// in the project is why (further changes are blocked while one runs): then the error
    /// is [`ApiError::BlockedByJob`]. The refusal's words are never read for that.
    pub async fn set_thresholds(
        &self,
        project: u64,
        impulse: u64,
        request: &SetImpulseThresholdsRequest,
    ) -> Result<SetImpulseThresholdsResponse, ApiError> {
        let refusal = match self
            .post(
                "setImpulseThresholds",
                &format!("/api/{project}/impulse/{impulse}/set-thresholds"),
                request,
            )
            .await
        {
            Err(e) if e.may_be_blocked_by_job() => e,
            answer => return answer,
        };
        // If the jobs cannot be listed, the refusal stands as it came.
        let Ok(jobs) = self.list_active_jobs(project).await else {
            return Err(refusal);
        };
        // A job listed as active but finished is no reason.
        match (jobs.iter().find(|j| !j.is_finished()), refusal) {
            (
                Some(job),
                ApiError::Refused { operation, message }
                | ApiError::Status {
                    operation, message, ..
                },
            ) => Err(ApiError::BlockedByJob {
                operation,
                message,
                job_id: job.id,
                category: crate::text::clean(&job.category),
            }),
            (_, refusal) => Err(refusal),
        }
    }

    /// Reads blocks' thresholds, [`BLOCK_READS_IN_FLIGHT`] at a time, in order.
    async fn read_blocks(
        &self,
        project: u64,
        blocks: impl IntoIterator<Item = ImpulseLearnBlock>,
    ) -> Vec<(ImpulseLearnBlock, Result<BlockThresholds, ApiError>)> {
        futures::stream::iter(blocks)
            .map(|block| async move {
                let read = self.block_thresholds(project, &block).await;
                (block, read)
            })
            .buffered(BLOCK_READS_IN_FLIGHT)
            .collect()
            .await
    }

    /// setImpulseThresholds for the values whose thresholds Studio still holds as
    /// `believed`: the blocks are read first (one read per call), and a value someone else
    /// changed meanwhile is left out and reported, never overwritten unawares. Studio has
    /// no conditional write, so a change in the moment between the read and the write can
    /// still be lost; the read makes that window one round trip long.
    pub async fn set_thresholds_unless_changed(
        &self,
        project: u64,
        impulse: u64,
        request: &SetImpulseThresholdsRequest,
        believed: &[Believed],
    ) -> Result<GuardedSet, ApiError> {
        let mut blocks: Vec<ImpulseLearnBlock> = Vec::new();
        for b in believed {
            if !blocks.iter().any(|known| known.id == b.block.id) {
                blocks.push(b.block.clone());
            }
        }
        let mut now_held = Vec::new();
        for (_, read) in self.read_blocks(project, blocks).await {
            now_held.push(read?);
        }
        let changed_elsewhere: Vec<ChangedElsewhere> = believed
            .iter()
            .filter_map(|b| {
                let held = now_held
                    .iter()
                    .find(|h| h.block.id == b.block.id)?
                    .thresholds
                    .iter()
                    .find(|t| t.key == b.key)?;
                let wanted = request
                    .thresholds
                    .iter()
                    .find(|u| u.block_id == b.block.id && u.key == b.key)
                    .map(|u| &u.value);
                let ours = held.value == b.value
                    || Some(&held.value) == wanted
                    || b.maybe_ours.contains(&held.value);
                (!ours).then(|| ChangedElsewhere {
                    block_id: b.block.id,
                    key: b.key.clone(),
                    value: held.value.clone(),
                })
            })
            .collect();
        let mut request = request.clone();
        request.thresholds.retain(|u| {
            !changed_elsewhere
                .iter()
                .any(|c| c.block_id == u.block_id && c.key == u.key)
        });
        let response = if request.thresholds.is_empty() {
            None
        } else {
            Some(self.set_thresholds(project, impulse, &request).await?)
        };
        Ok(GuardedSet {
            response,
            changed_elsewhere,
        })
    }

    /// listActiveJobs: the project's jobs that have not finished.
    pub async fn list_active_jobs(&self, project: u64) -> Result<Vec<Job>, ApiError> {
        let r: ListJobsResponse = self
            .get("listActiveJobs", &format!("/api/{project}/jobs"), &[])
            .await?;
        Ok(r.jobs)
    }

    /// regenerateModelTestingSummary: starts a job and returns its id.
    pub async fn regenerate_model_testing_summary(
        &self,
        project: u64,
        impulse: u64,
    ) -> Result<u64, ApiError> {
        let url = format!(
            "{}/api/{project}/impulse/{impulse}/regenerate-model-testing-summary",
            self.base
        );
        let request = self.http.post(&url);
        let r: StartJobResponse = self
            .send(
                "regenerateModelTestingSummary",
                &url,
                request,
                self.small_cap(),
            )
            .await?;
        Ok(r.id)
    }

    /// startClassifyJob: model testing run again on the impulse's test data (what object
    /// detection needs after a threshold change); starts a job and returns its id.
    /// `skip_features`: the features are already there and only thresholds changed, so
    /// feature generation is skipped (`skipFeatureGeneration`, "used e.g. if you update
    /// thresholds").
    pub async fn start_model_testing(
        &self,
        project: u64,
        impulse: u64,
        skip_features: bool,
    ) -> Result<u64, ApiError> {
        let url = format!("{}/api/{project}/jobs/classify", self.base);
        let body = StartClassifyJobRequest {
            skip_feature_generation: skip_features.then_some(true),
        };
        let request = self
            .http
            .post(&url)
            .query(&[("impulseId", impulse.to_string())])
            .json(&body);
        let r: StartJobResponse = self
            .send("startClassifyJob", &url, request, self.small_cap())
            .await?;
        Ok(r.id)
    }

    /// getJobStatus.
    pub async fn job_status(&self, project: u64, job: u64) -> Result<Job, ApiError> {
        let r: GetJobResponse = self
            .get(
                "getJobStatus",
                &format!("/api/{project}/jobs/{job}/status"),
                &[],
            )
            .await?;
        Ok(r.job)
    }

    /// getProjectLastModificationDate: the date Studio moves when the project's data is
    /// modified or an impulse is trained; `None` when the answer has no date.
    pub async fn last_modification(&self, project: u64) -> Result<Option<String>, ApiError> {
        let r: LastModificationDateResponse = self
            .get(
                "getProjectLastModificationDate",
                &format!("/api/{project}/last-modification"),
                &[],
            )
            .await?;
        Ok(r.date().map(str::to_string))
    }

    /// When the model of a learn block was trained (`created` of getKerasMetadata or
    /// getAnomalyMetadata, whichever serves its type). Only that date is kept of the
    /// answer: the rest (layers, a prediction per validation window) is dropped as it
    /// arrives.
    pub async fn model_trained(
        &self,
        project: u64,
        block: &ImpulseLearnBlock,
    ) -> Result<String, ApiError> {
        let mut first_error = None;
        for endpoint in block.kind.config_endpoints() {
            let (operation, path, query) = match endpoint {
                ConfigEndpoint::Keras => (
                    "getKerasMetadata",
                    format!("/api/{project}/training/keras/{}/metadata", block.id),
                    vec![("excludeLabels", "true".to_string())],
                ),
                ConfigEndpoint::Anomaly => (
                    "getAnomalyMetadata",
                    format!("/api/{project}/training/anomaly/{}/metadata", block.id),
                    Vec::new(),
                ),
            };
            match self
                .get_skimmed::<ModelTrained>(operation, &path, &query, MODEL_METADATA_BULK)
                .await
            {
                Ok(trained) => return Ok(trained.created),
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or_else(|| {
            ApiError::Config(format!("no endpoint reads blocks of type {}", block.kind))
        }))
    }

    /// A read whose top-level members `drop` are dropped as the body arrives: only the
    /// rest is kept and decoded, however large the answer.
    async fn get_skimmed<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: &str,
        query: &[(&str, String)],
        drop: &'static [&'static str],
    ) -> Result<T, ApiError> {
        let url = format!("{}{path}", self.base);
        self.retrying(operation, || async {
            let request = self.http.get(&url).query(query);
            let response = self.start(operation, &url, request).await?;
            let mut skimmer = Skimmer::new(drop);
            let kept_cap = self.small_cap();
            read_chunks(operation, &url, response, self.max_body_bytes, |chunk| {
                skimmer.feed(chunk);
                if skimmer.kept_len() > kept_cap {
                    return Err(ApiError::Decode {
                        operation,
                        path: ".".into(),
                        message: format!(
                            "the answer beside its bulk is larger than {} KiB; refused",
                            kept_cap >> 10
                        ),
                    });
                }
                Ok(())
            })
            .await?;
            decode_body(operation, &skimmer.finish())
        })
        .await
    }

    /// getClassifyJobResult, whole.
    pub async fn model_testing_results(
        &self,
        project: u64,
        impulse: u64,
    ) -> Result<ClassifyJobResponse, ApiError> {
        self.get_capped(
            "getClassifyJobResult",
            &format!("/api/{project}/classify/all/result"),
            &[("impulseId", impulse.to_string())],
            self.max_body_bytes,
        )
        .await
    }

    /// getClassifyJobResult, without the per-sample results: they are dropped from the
    /// body as it arrives (see [`Skimmer`]), so a summary of a large test set (45 MB of
    /// JSON for 24,000 windows) costs no more memory than a small one.
    pub async fn model_testing_summary(
        &self,
        project: u64,
        impulse: u64,
    ) -> Result<ModelTestingSummary, ApiError> {
        let operation = "getClassifyJobResult";
        let url = format!("{}/api/{project}/classify/all/result", self.base);
        self.retrying(operation, || async {
            let request = self
                .http
                .get(&url)
                .query(&[("impulseId", impulse.to_string())]);
            let response = self.start(operation, &url, request).await?;
            let mut skimmer = Skimmer::new(PER_SAMPLE_MEMBERS);
            read_chunks(operation, &url, response, self.max_body_bytes, |chunk| {
                skimmer.feed(chunk);
                Ok(())
            })
            .await?;
            decode_body(operation, &skimmer.finish())
        })
        .await
    }

    /// getClassifyJobResultPage.
    pub async fn model_testing_results_page(
        &self,
        project: u64,
        impulse: u64,
        offset: u64,
        limit: u64,
    ) -> Result<ClassifyJobResponsePage, ApiError> {
        self.results_page(project, impulse, offset, limit)
            .await
            .map(|(page, _)| page)
    }

    /// getClassifyJobResultPage, only what the preview reads of it.
    pub async fn preview_page(
        &self,
        project: u64,
        impulse: u64,
        offset: u64,
        limit: u64,
    ) -> Result<PreviewPage, ApiError> {
        self.results_page(project, impulse, offset, limit)
            .await
            .map(|(page, _)| page)
    }

    /// The first getClassifyJobResultPage as the preview reads it, and its body as
    /// decoded: what the results cache checks its entries against.
    pub async fn first_preview_page(
        &self,
        project: u64,
        impulse: u64,
        limit: u64,
    ) -> Result<(PreviewPage, Vec<u8>), ApiError> {
        self.results_page(project, impulse, 0, limit).await
    }

    /// getClassifyJobResultPage decoded as `P`, and its body.
    async fn results_page<P: DeserializeOwned>(
        &self,
        project: u64,
        impulse: u64,
        offset: u64,
        limit: u64,
    ) -> Result<(P, Vec<u8>), ApiError> {
        let operation = "getClassifyJobResultPage";
        let url = format!("{}/api/{project}/classify/all/result/page", self.base);
        let query = [
            ("impulseId", impulse.to_string()),
            ("limit", limit.to_string()),
            ("offset", offset.to_string()),
        ];
        let cap = self.max_body_bytes.min(MAX_PAGE_BODY_BYTES);
        self.retrying(operation, || async {
            let answer = async {
                let request = self.http.get(&url).query(&query);
                let response = self.start(operation, &url, request).await?;
                let body = read_body(operation, &url, response, cap).await?;
                let page = decode_body(operation, &body)?;
                Ok((page, body))
            };
            answer.await.map_err(|e| self.redact(e))
        })
        .await
    }

    /// The cap of every answer but results.
    fn small_cap(&self) -> usize {
        self.max_body_bytes.min(MAX_SMALL_BODY_BYTES)
    }

    /// A read of a small answer, tried again after transient failures.
    async fn get<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        self.get_capped(operation, path, query, self.small_cap())
            .await
    }

    /// A read tried again after transient failures, by the client's [`RetryPolicy`]:
    /// reads change nothing, so trying again is always safe.
    async fn get_capped<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: &str,
        query: &[(&str, String)],
        cap: usize,
    ) -> Result<T, ApiError> {
        let url = format!("{}{path}", self.base);
        self.retrying(operation, || {
            let request = self.http.get(&url).query(query);
            self.send(operation, &url, request, cap)
        })
        .await
    }

    /// Runs a read until it succeeds or the client's [`RetryPolicy`] gives up.
    async fn retrying<T, F, Fut>(&self, operation: &'static str, mut read: F) -> Result<T, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let started = std::time::Instant::now();
        let mut attempt = 1;
        loop {
            match read().await {
                Err(e) => match self.read_retries.wait(attempt, &e, started.elapsed()) {
                    Some(wait) => {
                        let e = self.redact(e);
                        tracing::debug!(operation, attempt, ?wait, "retrying a read: {e}");
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                    }
                    None => return Err(self.redact(e)),
                },
                answer => return answer,
            }
        }
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        let url = format!("{}{path}", self.base);
        let request = self.http.post(&url).json(body);
        self.send(operation, &url, request, self.small_cap()).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        url: &str,
        request: reqwest::RequestBuilder,
        cap: usize,
    ) -> Result<T, ApiError> {
        let answer = async {
            let response = self.start(operation, url, request).await?;
            let body = read_body(operation, url, response, cap).await?;
            decode_body(operation, &body)
        };
        answer.await.map_err(|e| self.redact(e))
    }

    /// A server may echo the credentials it was sent (an error quoting the key): they are
    /// blanked out of anything it says.
    fn redact(&self, error: ApiError) -> ApiError {
        let blank = |text: String| {
            self.secrets.iter().fold(text, |t, s| {
                if s.expose().is_empty() {
                    t
                } else {
                    t.replace(s.expose(), "<redacted>")
                }
            })
        };
        match error {
            ApiError::Status {
                operation,
                status,
                message,
                retry_after,
            } => ApiError::Status {
                operation,
                status,
                message: blank(message),
                retry_after,
            },
            ApiError::Refused { operation, message } => ApiError::Refused {
                operation,
                message: blank(message),
            },
            ApiError::Garbled { operation, message } => ApiError::Garbled {
                operation,
                message: blank(message),
            },
            ApiError::Decode {
                operation,
                path,
                message,
            } => ApiError::Decode {
                operation,
                path: blank(path),
                message: blank(message),
            },
            other => other,
        }
    }

    /// Sends a request and returns a 2xx response unread; any other status becomes
    /// [`ApiError::Status`] with the `error` of its body.
    async fn start(
        &self,
        operation: &'static str,
        url: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ApiError> {
        tracing::debug!(operation, url, "request");
        // A connect error means the request never left; a timeout may have been applied.
        let response = request.send().await.map_err(|e| {
            let unknown = e.is_timeout() || !e.is_connect();
            network_error(operation, url, e, unknown)
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        if status.is_redirection() {
            return Err(ApiError::Status {
                operation,
                status: status.as_u16(),
                message: redirect_message(&response),
                retry_after: None,
            });
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = read_body(operation, url, response, self.small_cap()).await?;
        Err(ApiError::Status {
            operation,
            status: status.as_u16(),
            message: error_message(&body, status),
            retry_after,
        })
    }
}

/// The whole body, up to `cap` bytes.
async fn read_body(
    operation: &'static str,
    url: &str,
    response: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, ApiError> {
    // The length announced (known when the answer is not compressed) saves the growing
    // buffer's copies and its spare half; it is only a hint, and never more than the cap.
    let announced = response.content_length().unwrap_or(0).min(cap as u64);
    let mut body = Vec::with_capacity(announced as usize);
    read_chunks(operation, url, response, cap, |chunk| {
        body.extend_from_slice(chunk);
        Ok(())
    })
    .await?;
    Ok(body)
}

/// Hands the body to `take` chunk by chunk as it arrives, up to `cap` bytes; `take` may
/// refuse the body (what it keeps grew too large, say), which ends the read.
async fn read_chunks(
    operation: &'static str,
    url: &str,
    mut response: reqwest::Response,
    cap: usize,
    mut take: impl FnMut(&[u8]) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let status = response.status().as_u16();
    let mut received = 0;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| network_error(operation, url, e, true))?
    {
        received += chunk.len();
        if received > cap {
            return Err(ApiError::Decode {
                operation,
                path: ".".into(),
                message: format!("response larger than {} KiB; refused", cap >> 10),
            });
        }
        take(&chunk)?;
    }
    tracing::debug!(operation, status, bytes = received, "response");
    Ok(())
}

/// `Retry-After` as seconds or an HTTP date, never more than [`MAX_RETRY_AFTER`].
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds.min(MAX_RETRY_AFTER.as_secs())),
        // Seconds too many to count are as long as ei-tune ever waits.
        Err(_) if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => MAX_RETRY_AFTER,
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// Where a redirect led, without its path or query (which may carry anything).
fn redirect_message(response: &reqwest::Response) -> String {
    let target = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| response.url().join(l).ok())
        .map(|u| {
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            crate::text::clean(&format!(
                "{}://{}{port}",
                u.scheme(),
                u.host_str().unwrap_or_default()
            ))
        })
        .unwrap_or_else(|| "somewhere it did not say".into());
    format!(
        "the server redirected to {target}; not followed, so that credentials go only to the \
         host given (check --host / EI_API_ENDPOINT)"
    )
}

fn network_error(
    operation: &'static str,
    url: &str,
    e: reqwest::Error,
    outcome_unknown: bool,
) -> ApiError {
    ApiError::Network {
        operation,
        url: url.to_string(),
        reason: describe_reqwest_error(&e),
        outcome_unknown,
    }
}

/// How much of a server's `error` text is kept: enough for any real message.
const QUOTED_ERROR_CHARS: usize = 500;

/// How many of a body's first bytes an error quotes.
const QUOTED_BYTES: usize = 80;

/// The members of getClassifyJobResult that hold a row per window.
const PER_SAMPLE_MEMBERS: &[&str] = &["result", "predictions"];

/// The members of a model's metadata that grow with the model or its validation set.
const MODEL_METADATA_BULK: &[&str] = &[
    "layers",
    "classNames",
    "labels",
    "modelValidationMetrics",
    "tensorboardGraphs",
    "kFoldsMetadata",
    "thresholds",
    "scale",
    "mean",
    "clusters",
    "axes",
];

/// The one project a project API key reaches; an error that says what to do otherwise.
pub fn only_project(projects: &[Project]) -> Result<&Project, ApiError> {
    match projects {
        [only] => Ok(only),
        [] => Err(ApiError::Refused {
            operation: "listProjects",
            message: "these credentials reach no project".into(),
        }),
        many => Err(ApiError::Config(format!(
            "these credentials reach {} projects; choose one with --project (ids: {})",
            many.len(),
            many.iter()
                .map(|p| p.id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Decodes a 2xx body: `success: false` becomes [`ApiError::Refused`], anything that is not
/// the promised shape an [`ApiError::Decode`] naming the JSON path of the bad field.
pub fn decode_body<T: DeserializeOwned>(
    operation: &'static str,
    body: &[u8],
) -> Result<T, ApiError> {
    let generic: GenericApiResponse = decode_json(operation, body)?;
    if !generic.success {
        return Err(ApiError::Refused {
            operation,
            message: generic.error.map_or_else(
                || "the server refused without a reason".into(),
                |e| crate::text::clean(&crate::text::shorten(&e, QUOTED_ERROR_CHARS)),
            ),
        });
    }
    decode_json(operation, body)
}

fn decode_json<T: DeserializeOwned>(operation: &'static str, body: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| decode_error(operation, e.path().to_string(), e.into_inner(), body))?;
    deserializer
        .end()
        .map_err(|e| decode_error(operation, ".".into(), e, body))?;
    Ok(value)
}

/// What a body that failed to decode was: not JSON at all (quoting its beginning), or JSON
/// of the wrong shape (naming the path of the bad field).
fn decode_error(
    operation: &'static str,
    path: String,
    inner: serde_json::Error,
    body: &[u8],
) -> ApiError {
    if inner.is_syntax() || inner.is_eof() {
        let message = if body.is_empty() {
            "empty body, expected JSON".to_string()
        } else {
            format!("not JSON ({inner}); it begins `{}`", snippet(body))
        };
        return ApiError::Garbled { operation, message };
    }
    ApiError::Decode {
        operation,
        path: crate::text::clean(&crate::text::shorten(&path, QUOTED_ERROR_CHARS)),
        message: crate::text::clean(&crate::text::shorten(
            &inner.to_string(),
            QUOTED_ERROR_CHARS,
        )),
    }
}

/// The `error` of a JSON error body, or the start of whatever else came back.
fn error_message(body: &[u8], status: reqwest::StatusCode) -> String {
    if let Ok(GenericApiResponse {
        error: Some(error), ..
    }) = serde_json::from_slice::<GenericApiResponse>(body)
    {
        return crate::text::clean(&crate::text::shorten(&error, QUOTED_ERROR_CHARS));
    }
    let reason = status.canonical_reason().unwrap_or("error");
    if body.is_empty() {
        reason.to_string()
    } else {
        format!("{reason}: `{}`", snippet(body))
    }
}

fn snippet(body: &[u8]) -> String {
    crate::text::clean(&String::from_utf8_lossy(
        &body[..body.len().min(QUOTED_BYTES)],
    ))
}

fn describe_reqwest_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    if e.is_connect() {
        return "connection failed".into();
    }
    // The chain's innermost message says most (e.g. "connection reset by peer"), and
    // reqwest's own messages never carry header values.
    let mut source: &dyn std::error::Error = e;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

fn sensitive_header(what: &str, secret: &Secret) -> Result<HeaderValue, ApiError> {
    let mut value = HeaderValue::from_str(secret.expose())
        .map_err(|_| ApiError::Config(format!("the {what} holds characters a header cannot")))?;
    value.set_sensitive(true);
    Ok(value)
}

/// reqwest is built without a default crypto provider (ring builds faster and smaller
/// than aws-lc); installing one twice is harmless.
fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_names_the_path_of_a_bad_field() {
        let body = br#"{"success":true,"job":{"id":"seven"}}"#;
        let err = decode_body::<GetJobResponse>("getJobStatus", body).unwrap_err();
        match err {
            ApiError::Decode {
                operation, path, ..
            } => {
                assert_eq!(operation, "getJobStatus");
                assert_eq!(path, "job.id");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn success_false_is_a_refusal_with_the_servers_words() {
        let body = br#"{"success":false,"error":"No such block"}"#;
        let err = decode_body::<GetJobResponse>("getJobStatus", body).unwrap_err();
        assert_eq!(err.to_string(), "getJobStatus: No such block");
    }

    #[test]
    fn html_is_reported_as_not_json() {
        let err = decode_body::<GetJobResponse>("getJobStatus", b"<html>502 Bad Gateway</html>")
            .unwrap_err();
        assert!(err.is_transient());
        let text = err.to_string();
        assert!(text.contains("not JSON"), "{text}");
        assert!(text.contains("<html>502"), "{text}");
    }

    #[test]
    fn empty_body_is_reported_as_empty() {
        let err = decode_body::<GetJobResponse>("getJobStatus", b"").unwrap_err();
        assert!(err.to_string().contains("empty body"), "{err}");
    }

    #[test]
    fn credentials_never_go_over_plain_http_to_another_host() {
        let remote = ClientConfig::new("http://studio.example.com/v1").with_api_key("ei_secret");
        let err = StudioClient::new(&remote).unwrap_err().to_string();
        assert!(err.contains("plain http://"), "{err}");
        assert!(!err.contains("ei_secret"));
        let mut allowed = remote.clone();
        allowed.allow_insecure_http = true;
        assert!(StudioClient::new(&allowed).is_ok());
        for local in [
            "http://127.0.0.1:4000/v1",
            "http://localhost:4000/v1",
            "http://[::1]:4000/v1",
        ] {
            assert!(
                StudioClient::new(&ClientConfig::new(local).with_api_key("k")).is_ok(),
                "{local}"
            );
        }
        assert!(
            StudioClient::new(
                &ClientConfig::new("https://studio.example.com/v1").with_api_key("k")
            )
            .is_ok()
        );
    }

    #[test]
    fn a_host_that_is_not_a_url_is_a_config_error() {
        let err = StudioClient::new(&ClientConfig::new("studio")).unwrap_err();
        assert!(matches!(err, ApiError::Config(_)));
        let err = StudioClient::new(&ClientConfig::new("ftp://x/v1")).unwrap_err();
        assert!(matches!(err, ApiError::Config(_)));
    }
}
