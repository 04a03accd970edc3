//! Bursts of edits through the real event loop, client and simulator, under injected
//! faults: whatever the network does, Studio ends with the user's last values, and no call
//! carries an older value after a newer one was applied.

mod common;

use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ei_tune::api::models::ThresholdValue;
use ei_tune::api::{ClientConfig, StudioClient};
use ei_tune::app::{self, App, Input};
use ei_tune::studio::faults::FaultSpec;
use ei_tune::studio::{Studio, StudioConfig};
use ei_tune::tuner::TunerConfig;
use ei_tune::ui::Theme;
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use common::KEY;

/// Transient faults only, 30 % of requests: they must all be ridden out.
const TRANSIENT: &str =
    "jitter=3ms,5xx=0.08,429=0.02,drop-before=0.05,drop-after=0.06,slow=0.03,non-json=0.06";

fn key(code: KeyCode) -> Input {
    Input::Terminal(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

/// One run: a seeded burst of upward steps on both sliders, then quit (which saves).
async fn run(seed: u64) -> Result<(), String> {
    let mut config = StudioConfig::new(KEY);
    config.faults = Some(FaultSpec::parse(&format!("{TRANSIENT},seed={seed}")).unwrap());
    let studio = Studio::start(config).await.unwrap();
    let mut client_config = ClientConfig::new(studio.base_url()).with_api_key(KEY);
    client_config.request_timeout = Duration::from_secs(5);
    let client = StudioClient::new(&client_config).unwrap();
    let tuner = TunerConfig {
        debounce: Duration::from_millis(5),
        retry_base: Duration::from_millis(5),
        retry_max_delay: Duration::from_millis(40),
        max_attempts: 30,
        save_on_quit: Duration::from_secs(60),
        // A 429 asks for a second; the retry honours it.
        max_retry_time: Duration::from_secs(60),
        ..TunerConfig::default()
    };
    // The first load may meet faults too: try it until it works.
    let mut loaded = None;
    for _ in 0..50 {
        loaded = app::load(&client, Some(studio.project_id()), Some(1))
            .await
            .ok();
        if loaded.is_some() {
            break;
        }
    }
    let loaded = loaded.ok_or_else(|| format!("seed {seed}: the impulse never loaded"))?;
    let (script, steps) = burst(seed);
    let input = common::scripted(script);
    let app = App {
        client,
        project: Some(studio.project_id()),
        config: tuner,
        theme: Theme::monochrome(),
        suspend: None,
        cache: ei_tune::cache::ResultsCache::in_memory(),
        history: None,
    };
    let mut terminal = Terminal::new(TestBackend::new(60, 20)).unwrap();
    let report = app::run(app, &mut terminal, input, Some(1), Some(loaded))
        .await
        .map_err(|e| e.to_string())?
        .report;
    if !report.unsaved.is_empty() {
        return Err(format!("seed {seed}: unsaved {:?}", report.unsaved));
    }
    holds_the_last_values(&studio, seed, steps)?;
    never_sent_lower_after_applied(&studio, seed)?;
    studio.shutdown().await;
    Ok(())
}

/// A seeded burst of upward steps on both sliders, then `q`; the steps on each.
fn burst(seed: u64) -> (Vec<(u64, Input)>, [u32; 2]) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut script: Vec<(u64, Input)> = Vec::new();
    let mut steps = [0u32; 2];
    for _ in 0..rng.usize(3..12) {
        let slider = rng.usize(..2);
        script.push((
            0,
            key(if slider == 0 {
                KeyCode::Up
            } else {
                KeyCode::Down
            }),
        ));
        for _ in 0..rng.u32(1..4) {
            script.push((rng.u64(0..12), key(KeyCode::Right)));
            steps[slider] += 1;
        }
    }
    script.push((rng.u64(0..20), key(KeyCode::Char('q'))));
    (script, steps)
}

/// Studio ends with the user's last values: the initial ones plus each slider's steps.
fn holds_the_last_values(studio: &Studio, seed: u64, steps: [u32; 2]) -> Result<(), String> {
    let expected = [
        (3, "min_score", (0.6 + 0.01 * f64::from(steps[0])) * 100.0),
        (
            4,
            "min_anomaly_score",
            (0.3 + 0.01 * f64::from(steps[1])) * 100.0,
        ),
    ];
    for (block, key, hundredths) in expected {
        let value = hundredths.round() / 100.0;
        let held = studio.threshold(block, key).and_then(|v| v.as_number());
        match held {
            Some(v) if (v - value).abs() < 1e-9 => {}
            other => {
                return Err(format!(
                    "seed {seed}: {block}.{key} is {other:?}, not {value}"
                ));
            }
        }
    }
    Ok(())
}

/// Values only grow in these bursts: once one was applied, no later call may go lower.
fn never_sent_lower_after_applied(studio: &Studio, seed: u64) -> Result<(), String> {
    let mut applied = [f64::MIN; 2];
    for call in studio.set_threshold_calls() {
        for u in &call.request.thresholds {
            let i = usize::from(u.block_id == 4);
            let ThresholdValue::Number(v) = u.value else {
                return Err("a string value".into());
            };
            if v < applied[i] - 1e-9 {
                return Err(format!(
                    "seed {seed}: {}.{} = {v} sent after {} was applied",
                    u.block_id, u.key, applied[i]
                ));
            }
            if call.applied {
                applied[i] = applied[i].max(v);
            }
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_seeded_bursts_under_thirty_percent_faults_end_with_the_last_values() {
    // 25 runs at a time, each with its own simulator: runs mostly wait (on Retry-After).
    let failures: Vec<String> = futures::stream::iter(1..=200u64)
        .map(|seed| tokio::spawn(run(seed)))
        .buffer_unordered(25)
        .filter_map(|joined| async move {
            match joined {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e),
                Err(e) => Some(format!("a run panicked: {e}")),
            }
        })
        .collect()
        .await;
    assert!(
        failures.is_empty(),
        "{} of 200 runs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn a_refusal_is_shown_with_the_servers_words_and_not_retried() {
    let mut config = StudioConfig::new(KEY);
    config.faults = Some(FaultSpec::parse("refuse=1").unwrap());
    let studio = Studio::start(config).await.unwrap();
    let client =
        StudioClient::new(&ClientConfig::new(studio.base_url()).with_api_key(KEY)).unwrap();
    let err = client.list_projects().await.unwrap_err();
    assert!(!err.is_transient());
    assert!(
        err.to_string()
            .contains("Injected failure: the service refused"),
        "{err}"
    );
}
