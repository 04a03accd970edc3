//! What ei-tune writes to disk and to standard output stays sound whatever a server names
//! things, and where it writes can be trusted: reports well-formed for any label, a JUnit
//! file that never outlives a check that could not run, private logs and directories,
//! exact JSON on standard output.

#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;

use serde_json::{Value, json};

use common::proxy::Proxy;

/// The simulator behind a proxy that renames a label of impulse 1's first page and the
/// classifier's threshold key.
async fn renaming(
    studio: &ei_tune::studio::Studio,
    label: &'static str,
    key: &'static str,
) -> Proxy {
    let upstream = studio.base_url().trim_end_matches("/v1").to_string();
    Proxy::start(&upstream, move |path, mut body| {
        if path.contains("/classify/all/result/page") && path.contains("offset=0") {
            let sample = &mut body["result"][0];
            sample["sample"]["label"] = json!(label);
            for output in sample["classifications"].as_array_mut().unwrap() {
                output["expectedLabels"][0]["label"] = json!(label);
            }
        } else if path.contains("/training/keras/3") {
            body["thresholds"][0]["key"] = json!(key);
        }
        body
    })
    .await
}

#[tokio::test]
async fn a_report_holds_no_noncharacter_whatever_the_labels() {
    let studio = common::studio().await;
    let proxy = renaming(&studio, "bad\u{fffe}label\u{ffff}", "min_score").await;
    let dir = common::scratch_dir("report");
    let report = dir.join("r.html");
    let (code, _, err) = common::run(
        common::ei_tune(&studio)
            .env("EI_API_ENDPOINT", proxy.base_url())
            .args(["report", "--impulse", "1", report.to_str().unwrap()]),
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(!html.contains(['\u{fffe}', '\u{ffff}']));
    assert!(
        html.contains("bad\u{fffd}label\u{fffd}"),
        "the label, marked"
    );
}

#[tokio::test]
async fn a_check_that_cannot_run_leaves_a_junit_file_that_says_so() {
    let studio = common::studio().await;
    let dir = common::scratch_dir("junit");
    let junit = dir.join("junit.xml");
    let run_check = |host: String| {
        let mut cmd = common::ei_tune(&studio);
        cmd.env("EI_API_ENDPOINT", host).args([
            "check",
            "--impulse",
            "1",
            "--min",
            "accuracy=0",
            "--junit",
            junit.to_str().unwrap(),
        ]);
        cmd
    };
    let (code, _, err) = common::run(&mut run_check(studio.base_url())).await;
    assert_eq!(code, 0, "{err}");
    let passed = std::fs::read_to_string(&junit).unwrap();
    assert!(passed.contains("failures=\"0\""), "{passed}");
    // Nothing listens on port 9: the check cannot run, and the file says it failed.
    let (code, _, _) = common::run(&mut run_check("http://127.0.0.1:9/v1".into())).await;
    assert_ne!(code, 0);
    let failed = std::fs::read_to_string(&junit).unwrap();
    assert!(
        failed.contains("errors=\"1\"") && failed.contains("could not run"),
        "{failed}"
    );
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 1, "no partial file is left: {names:?}");
}

#[tokio::test]
async fn directories_anyone_may_write_in_are_not_used() {
    let studio = common::studio().await;
    let cache = common::scratch_dir("open-cache");
    let state = common::scratch_dir("open-state");
    for dir in [&cache, &state] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let (code, _, err) = common::run(
        common::ei_tune(&studio)
            .env("EI_TUNE_CACHE_DIR", &cache)
            .env("EI_TUNE_STATE_DIR", &state)
            .args(["set", "3.min_score=0.65", "--impulse", "1"]),
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("no history is read or written") && err.contains("mode 777"),
        "{err}"
    );
    let (code, _, err) = common::run(
        common::ei_tune(&studio)
            .env("EI_TUNE_CACHE_DIR", &cache)
            .args(["sweep", "--impulse", "1"]),
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("results are kept in memory only"), "{err}");
    for dir in [&cache, &state] {
        assert_eq!(
            std::fs::read_dir(dir).unwrap().count(),
            0,
            "{}",
            dir.display()
        );
    }
}

#[tokio::test]
async fn a_log_is_private_and_a_link_at_its_name_is_not_followed() {
    let studio = common::studio().await;
    let dir = common::scratch_dir("log");
    let log = dir.join("ei-tune.log");
    let (code, _, err) =
        common::run(common::ei_tune(&studio).args(["list", "--log-file", log.to_str().unwrap()]))
            .await;
    assert_eq!(code, 0, "{err}");
    let mode = std::fs::metadata(&log).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let target = dir.join("elsewhere");
    std::fs::write(&target, "").unwrap();
    let linked = dir.join("linked.log");
    std::os::unix::fs::symlink(&target, &linked).unwrap();
    let (code, _, err) = common::run(common::ei_tune(&studio).args([
        "list",
        "--log-file",
        linked.to_str().unwrap(),
    ]))
    .await;
    assert_ne!(code, 0, "refused");
    assert!(err.contains("cannot open log file"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "");
}

#[tokio::test]
async fn export_to_standard_output_is_exact_json_and_safe_to_show() {
    let studio = common::studio().await;
    let key = "min\u{202e}score\u{2028}x";
    let proxy = renaming(&studio, "0", key).await;
    let (code, out, err) = common::run(
        common::ei_tune(&studio)
            .env("EI_API_ENDPOINT", proxy.base_url())
            .args(["export", "--impulse", "1"]),
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.contains(['\u{202e}', '\u{2028}']),
        "nothing that reorders a line: {out}"
    );
    let exported: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(exported["thresholds"][0]["key"], key, "the key, exactly");
}

#[tokio::test]
async fn a_path_that_cannot_be_written_is_said_before_anything_is_read() {
    let studio = common::studio().await;
    let missing = common::scratch_dir("nowhere").join("no-such-dir");
    let report = missing.join("r.html");
    let exported = missing.join("t.json");
    let junit = missing.join("j.xml");
    for args in [
        vec!["report", report.to_str().unwrap()],
        vec!["export", exported.to_str().unwrap()],
        vec![
            "check",
            "--min",
            "accuracy=0",
            "--junit",
            junit.to_str().unwrap(),
        ],
        vec!["report", "/dev/full"],
    ] {
        let (code, out, err) = common::run(
            common::ei_tune(&studio)
                .args(["--impulse", "1"])
                .args(&args),
        )
        .await;
        assert_eq!(code, 4, "{args:?}: {out}{err}");
        assert!(err.contains("cannot write"), "{args:?}: {err}");
    }
    assert_eq!(
        studio.result_page_requests(1),
        0,
        "nothing was read for them"
    );
}
