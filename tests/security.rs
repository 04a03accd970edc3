//! Keys never show: not in logs (at trace level), errors, output or Debug; key files and
//! plain-http refusal.

mod common;

use std::time::Duration;

use ei_tune::api::ClientConfig;
use ei_tune::studio::faults::FaultSpec;
use ei_tune::studio::{Studio, StudioConfig};
use tokio::process::Command;

use common::KEY;

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ei-tune-security-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

async fn ei_tune(studio: &Studio, log: &std::path::Path, args: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ei-tune"))
        .env_clear()
        .env("EI_API_ENDPOINT", studio.base_url())
        .env("EI_API_KEY", KEY)
        .env("EI_TUNE_LOG", "trace")
        .env("EI_TUNE_STATE_DIR", temp("state"))
        .env("EI_TUNE_CACHE_DIR", temp("cache"))
        .arg("--log-file")
        .arg(log)
        .args(args)
        .output()
        .await
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_whole_session_with_failures_never_shows_the_key() {
    let mut config = StudioConfig::new(KEY);
    config.job_duration = Duration::from_millis(300);
    config.faults = Some(FaultSpec::parse("5xx=0.2,non-json=0.1,drop-after=0.1,seed=5").unwrap());
    let studio = Studio::start(config).await.unwrap();
    let log = temp("session.log");
    let mut seen = String::new();
    for args in [
        vec!["list"],
        vec!["list", "--json"],
        vec!["set", "3.min_score=0.7"],
        vec!["set", "3.min_score=7"],
        vec!["results"],
        vec!["--impulse", "2", "regenerate", "--wait"],
        vec!["suggest"],
        vec!["export"],
        vec!["--api-key", "ei_wrong_key", "list"],
    ] {
        let (out, err) = ei_tune(&studio, &log, &args).await;
        seen.push_str(&out);
        seen.push_str(&err);
    }
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("TRACE") || logged.contains("DEBUG"),
        "trace logging is on"
    );
    assert!(logged.len() > 1000, "the log has content");
    assert!(seen.contains("error:"), "the session met failures:\n{seen}");
    // The history of the session's set-thresholds calls holds none either.
    let history = std::fs::read_to_string(temp("state").join("history.jsonl")).unwrap();
    assert!(history.contains("\"min_score\""), "{history}");
    for secret in [KEY, "ei_wrong_key"] {
        assert!(!history.contains(secret), "the key is in the history");
        assert!(!logged.contains(secret), "the key is in the log");
        assert!(!seen.contains(secret), "the key is in the output:\n{seen}");
    }
    let _ = std::fs::remove_file(&log);
}

#[test]
fn debug_output_redacts_credentials() {
    let mut config = ClientConfig::new("https://studio.edgeimpulse.com/v1").with_api_key(KEY);
    config.jwt = Some(ei_tune::api::Secret::new("jwt-token-value"));
    let shown = format!("{config:?}");
    assert!(
        !shown.contains(KEY) && !shown.contains("jwt-token-value"),
        "{shown}"
    );
    assert!(shown.contains("redacted"), "{shown}");
}

#[cfg(unix)]
#[tokio::test]
async fn the_key_can_come_from_a_file_with_a_warning_when_others_can_read_it() {
    use std::os::unix::fs::PermissionsExt;
    let studio = common::studio().await;
    let file = temp("key");
    std::fs::write(&file, format!("{KEY}\n")).unwrap();
    for (mode, warns) in [(0o600, false), (0o644, true)] {
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_ei-tune"))
            .env_clear()
            .env("EI_API_ENDPOINT", studio.base_url())
            .arg("--api-key-file")
            .arg(&file)
            .arg("list")
            .output()
            .await
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert_eq!(
            err.contains("can be read by other users"),
            warns,
            "mode {mode:o}: {err}"
        );
    }
    let _ = std::fs::remove_file(&file);
}

#[tokio::test]
async fn credentials_are_refused_over_plain_http_to_another_host() {
    let out = Command::new(env!("CARGO_BIN_EXE_ei-tune"))
        .env_clear()
        .env("EI_API_ENDPOINT", "http://studio.example.invalid/v1")
        .env("EI_API_KEY", KEY)
        .arg("list")
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("plain http://") && err.contains("--allow-insecure-http"),
        "{err}"
    );
    assert!(!err.contains(KEY));
}
