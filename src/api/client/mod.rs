//! The Studio API client: typed operations over reqwest, one file per resource
//! (`projects`, `learn`, `thresholds`, `jobs`, `results`) over one way of sending
//! (`transport`).

mod jobs;
mod learn;
mod projects;
mod results;
mod thresholds;
mod transport;

pub use learn::{BLOCK_READS_IN_FLIGHT, BlockThresholds, ImpulseThresholds, UnreadableBlock};
pub use projects::only_project;
pub use thresholds::{Believed, ChangedElsewhere, Outcome, Policy, Write};
pub use transport::{decode_body, parse_retry_after};

use std::time::Duration;

use reqwest::header::HeaderMap;

use super::backoff::{Backoff, process_seed};
use super::error::ApiError;
use super::secret::Secret;
use transport::{install_crypto_provider, sensitive_header};

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
        // Attempt 1 failed: the first wait is twice the base.
        let wait = Backoff {
            base: self.base,
            max: MAX_READ_BACKOFF,
        }
        .wait(attempt + 1, process_seed(), error.retry_after());
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

/// Refuses a host URL that is not one, has parts after its path, carries credentials, or
/// would send credentials over plain http:// beyond this machine (unless allowed).
fn check_host(base: &str, config: &ClientConfig) -> Result<(), ApiError> {
    let parsed = reqwest::Url::parse(base).map_err(|e| {
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
    Ok(())
}

impl StudioClient {
    pub fn new(config: &ClientConfig) -> Result<Self, ApiError> {
        let base = config.host.trim_end_matches('/').to_string();
        check_host(&base, config)?;
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

    /// Whether `text` holds a credential this client sends (a server echoing it back).
    pub fn mentions_secret(&self, text: &str) -> bool {
        self.secrets
            .iter()
            .any(|s| !s.expose().is_empty() && text.contains(s.expose()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::models::*;

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
