//! A server that echoes the API key in what it says (a project's name, an impulse's, a
//! threshold's description, a label), spelled plainly or with what a terminal does not
//! draw inside it: the key is written nowhere ei-tune writes.

#![cfg(unix)]

mod common;

use std::path::Path;

use serde_json::{Value, json};

use common::KEY;
use common::proxy::Proxy;
use common::pty::Pty;

/// The key as a terminal would show it: split by an escape sequence, a zero-width space
/// and a direction mark.
fn disguised() -> String {
    let (a, b) = KEY.split_at(8);
    let (b, c) = b.split_at(6);
    format!("{a}\u{1b}[0m{b}\u{200b}{c}\u{200e}")
}

async fn echoing(studio: &ei_tune::studio::Studio) -> Proxy {
    let upstream = studio.base_url().trim_end_matches("/v1").to_string();
    Proxy::start(&upstream, |path, mut body| {
        let path = path.split('?').next().unwrap_or_default().to_string();
        if path.ends_with("/api/projects") {
            body["projects"][0]["name"] = json!(format!("p {KEY}"));
            body["projects"][0]["description"] = json!(format!("d {}", disguised()));
        } else if path.ends_with("/impulse") {
            body["impulse"]["name"] = json!(format!("i {}", disguised()));
            body["impulse"]["learnBlocks"][0]["title"] = json!(format!("t {KEY}"));
        } else if path.ends_with("/impulses") {
            body["impulses"][0]["name"] = json!(format!("i {}", disguised()));
        } else if path.ends_with("/training/keras/3") {
            body["thresholds"][0]["description"] = json!(format!("{} d", disguised()));
        } else if path.ends_with("/classify/all/result/page")
            && let Some(Value::Array(samples)) = body.get_mut("result")
        {
            for sample in samples.iter_mut().take(3) {
                let label = json!(format!("L {}", disguised()));
                sample["sample"]["label"] = label.clone();
                for output in sample["classifications"].as_array_mut().unwrap() {
                    output["expectedLabels"][0]["label"] = label.clone();
                }
            }
        }
        body
    })
    .await
}

/// Every file under `dir`, as bytes.
fn files_under(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
    out
}

/// No file under `dirs` shows the key, and each holds something.
fn assert_written_nowhere(dirs: &[&Path]) {
    for dir in dirs {
        let files = files_under(dir);
        assert!(
            !files.is_empty(),
            "{} holds what was written",
            dir.display()
        );
        for (path, bytes) in files {
            assert!(!shows_key(&bytes), "{}", path.display());
        }
    }
}

fn shows_key(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let drawn: String = text
        .replace("\u{1b}[0m", "")
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '\u{200b}' | '\u{200e}'))
        .collect();
    drawn.contains(KEY) || drawn.contains(&KEY[..20])
}

#[tokio::test]
async fn a_key_the_server_echoes_is_written_nowhere() {
    let studio = common::studio().await;
    let proxy = echoing(&studio).await;
    let out_dir = common::scratch_dir("echo-out");
    let state = common::scratch_dir("echo-state");
    let cache = common::scratch_dir("echo-cache");
    let junit = out_dir.join("junit.xml");
    let report = out_dir.join("report.html");
    let exported = out_dir.join("thresholds.json");
    let log = out_dir.join("log.txt");
    let commands: Vec<Vec<&str>> = vec![
        vec!["list"],
        vec!["list", "--json"],
        vec!["results"],
        vec!["sweep", "3.min_score"],
        vec!["suggest", "--json"],
        vec![
            "check",
            "--min",
            "accuracy=0",
            "--junit",
            junit.to_str().unwrap(),
        ],
        vec!["report", report.to_str().unwrap()],
        vec!["export"],
        vec!["export", exported.to_str().unwrap()],
        vec!["set", "3.min_score=0.65"],
        vec!["history", "--json"],
    ];
    for args in &commands {
        let mut cmd = common::ei_tune(&studio);
        cmd.env("EI_API_ENDPOINT", proxy.base_url())
            .env("EI_TUNE_STATE_DIR", &state)
            .env("EI_TUNE_CACHE_DIR", &cache)
            .env("EI_TUNE_LOG", "debug")
            .args(["--impulse", "1", "--log-file", log.to_str().unwrap()])
            .args(args);
        let (code, out, err) = common::run(&mut cmd).await;
        assert!(code == 0, "{args:?}: {code}\n{err}");
        assert!(!shows_key(out.as_bytes()), "{args:?} stdout: {out}");
        assert!(!shows_key(err.as_bytes()), "{args:?} stderr: {err}");
    }
    assert_written_nowhere(&[&out_dir, &state, &cache]);
    let written = std::fs::read_to_string(&report).unwrap();
    assert!(written.contains("&lt;redacted&gt;"), "the label, blanked");
    let (_, listed, _) = common::run(
        common::ei_tune(&studio)
            .env("EI_API_ENDPOINT", proxy.base_url())
            .args(["list", "--impulse", "1"]),
    )
    .await;
    assert!(listed.contains("<redacted>"), "{listed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_the_server_echoes_never_reaches_the_screen() {
    let studio = common::studio().await;
    let proxy = echoing(&studio).await;
    let base = proxy.base_url();
    let env = [
        ("EI_API_ENDPOINT", base.as_str()),
        ("EI_API_KEY", KEY),
        ("EI_TUNE_STATE_DIR", "/nonexistent/state"),
    ];
    let mut pty = Pty::spawn(&["--impulse", "1", "--no-cache"], &env, 200, 60);
    let screen = pty.wait_for("the figures", std::time::Duration::from_secs(15), |s| {
        s.contains("accuracy") && s.contains("<redacted>")
    });
    assert!(!shows_key(screen.as_bytes()), "{screen}");
    pty.send(b"q");
    assert_eq!(pty.wait_exit(std::time::Duration::from_secs(15)), 0);
}
