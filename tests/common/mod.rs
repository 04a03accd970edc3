//! Helpers shared by the integration tests: a simulator on a free loopback port and a
//! client configured for it.

#![allow(dead_code)]

pub mod openapi;
pub mod proxy;
pub mod spec_subset;
pub mod stub;

use std::time::Duration;

use ei_tune::api::{ClientConfig, StudioClient};
use ei_tune::studio::{Studio, StudioConfig};

pub const KEY: &str = "ei_test_0123456789abcdef0123456789ab";

/// A simulator whose jobs run `job_ms` milliseconds.
pub async fn studio_with_jobs(job_ms: u64) -> Studio {
    let mut config = StudioConfig::new(KEY);
    config.job_duration = Duration::from_millis(job_ms);
    Studio::start(config).await.expect("simulator starts")
}

pub async fn studio() -> Studio {
    studio_with_jobs(400).await
}

pub fn client(studio: &Studio) -> StudioClient {
    StudioClient::new(&ClientConfig::new(studio.base_url()).with_api_key(KEY)).expect("client")
}

/// A set-thresholds request from (block, key, value) entries.
pub fn set_request(
    entries: &[(u64, &str, ei_tune::api::models::ThresholdValue)],
    allow_jobs: bool,
) -> ei_tune::api::models::SetImpulseThresholdsRequest {
    use ei_tune::api::models::{SetImpulseThresholdsRequest, ThresholdUpdate};
    let updates = entries
        .iter()
        .map(|(block, key, value)| ThresholdUpdate::new(*block, *key, value.clone()))
        .collect();
    let mut request = SetImpulseThresholdsRequest::without_jobs(updates);
    request.allow_creating_regenerate_model_testing_jobs = allow_jobs;
    request
}

/// Terminal input for the real event loop: each input after its delay in milliseconds,
/// then silence (the loop ends by itself, on a quit in the script).
pub fn scripted(
    script: Vec<(u64, ei_tune::app::Input)>,
) -> futures::stream::BoxStream<'static, ei_tune::app::Input> {
    use futures::StreamExt;
    futures::stream::iter(script)
        .then(|(ms, input)| async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            input
        })
        .chain(futures::stream::pending())
        .boxed()
}

pub fn client_with_key(studio: &Studio, key: &str) -> StudioClient {
    StudioClient::new(&ClientConfig::new(studio.base_url()).with_api_key(key)).expect("client")
}

#[cfg(unix)]
pub mod pty;

/// A new directory under the tests' scratch space.
pub fn scratch_dir(what: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{what}-{:016x}", fastrand::u64(..)));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// The real binary, set up for `studio` and nothing else from the environment.
pub fn ei_tune(studio: &Studio) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_ei-tune"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("EI_API_ENDPOINT", studio.base_url())
        .env("EI_API_KEY", KEY)
        // Each run writes its history and keeps its results apart, out of the user's
        // directories.
        .env("EI_TUNE_STATE_DIR", scratch_dir("state"))
        .env("EI_TUNE_CACHE_DIR", scratch_dir("cache"))
        .kill_on_drop(true);
    cmd
}

/// Runs a command: its exit code, stdout and stderr.
pub async fn run(cmd: &mut tokio::process::Command) -> (i32, String, String) {
    let std::process::Output {
        status,
        stdout,
        stderr,
    } = cmd.output().await.expect("the binary runs");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// A key press for the real event loop.
pub fn key(c: char) -> ei_tune::app::Input {
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    ei_tune::app::Input::Terminal(Event::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )))
}

/// Runs the real event loop on `studio` from a load already done, with `script` as input
/// and `debounce_ms` of quiet time, on a 160×48 test terminal: the outcome and the last
/// screen as text.
pub async fn run_tuner(
    studio: &Studio,
    loaded: ei_tune::tuner::Loaded,
    debounce_ms: u64,
    script: Vec<(u64, ei_tune::app::Input)>,
) -> (ei_tune::app::Outcome, String) {
    let app = ei_tune::app::App {
        client: client(studio),
        project: None,
        config: ei_tune::tuner::TunerConfig {
            debounce: Duration::from_millis(debounce_ms),
            ..ei_tune::tuner::TunerConfig::default()
        },
        theme: ei_tune::ui::Theme::monochrome(),
        suspend: None,
        cache: ei_tune::cache::ResultsCache::in_memory(),
        history: None,
    };
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48)).expect("terminal");
    let outcome = ei_tune::app::run(app, &mut terminal, scripted(script), None, Some(loaded))
        .await
        .expect("the loop runs");
    let screen = format!("{:?}", terminal.backend().buffer());
    (outcome, screen)
}

/// A plain HTTP client for raw requests. reqwest is built without a default crypto
/// provider: one is installed first, so that a test does not depend on another having
/// built a `StudioClient` before it.
pub fn raw_http() -> reqwest::Client {
    raw_http_builder().build().expect("an HTTP client")
}

pub fn raw_http_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}
