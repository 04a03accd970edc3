//! The commands end to end: the real binary against a simulator started by the test.

mod common;

use ei_tune::api::models::ThresholdValue;
use serde_json::Value;
use tokio::process::Command;

use common::{ei_tune, run, studio, studio_with_jobs};

#[tokio::test]
async fn list_prints_a_table_and_json() {
    let studio = studio().await;
    let (code, out, err) = run(ei_tune(&studio).arg("list")).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("min_score"), "{out}");
    assert!(out.contains("Anomaly detection (anomaly)"), "{out}");

    let (code, out, err) = run(ei_tune(&studio).args(["--impulse", "3", "list", "--json"])).await;
    assert_eq!(code, 0, "{err}");
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["blockId"], 23);
    assert_eq!(rows[0]["key"], "min_anomaly_score");
    assert!(rows[0]["value"].is_number());
    assert_eq!(rows[1]["value"], "max");
    assert_eq!(rows[1]["dropdownOptions"].as_array().unwrap().len(), 2);
    assert!(rows[1]["helpText"].is_string());
}

#[tokio::test]
async fn set_sends_one_call_and_explains_the_status() {
    let studio = studio().await;
    let (code, out, err) =
        run(ei_tune(&studio).args(["set", "3.min_score=0.72", "4.min_anomaly_score=1.25"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("regenerated"), "{out}");
    assert!(out.contains("had model testing results: yes"), "{out}");
    let calls = studio.set_threshold_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].request.thresholds.len(), 2);
    assert!(
        !calls[0]
            .request
            .allow_creating_regenerate_model_testing_jobs
    );
    assert_eq!(
        studio.threshold(4, "min_anomaly_score"),
        Some(ThresholdValue::Number(1.25))
    );

    let (code, out, err) = run(ei_tune(&studio).args([
        "--impulse",
        "2",
        "set",
        "--allow-jobs",
        "--json",
        "13.min_score=0.5",
    ]))
    .await;
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["regenerateModelTestingStatus"], "started_job");
    assert!(json["regenerateModelTestingResultsJobId"].is_u64());
}

#[tokio::test]
async fn bad_arguments_exit_2_before_any_set_call() {
    let studio = studio().await;
    for args in [
        vec!["set", "3min_score=0.5"],
        vec!["set", "3.min_score"],
        vec!["set", "3.min_score=abc"],
        vec!["set", "3.min_score=1.5"],
        vec!["set", "3.min_score=inf"],
        vec!["set", "99.min_score=0.5"],
        vec!["set", "3.nope=0.5"],
        vec![
            "--impulse",
            "3",
            "set",
            "23.anomaly_scoring_aggregation_method=median",
        ],
        vec!["--impulse", "3", "set", "23.min_anomaly_score=max"],
        vec!["--impulse", "3", "set", "23.min_anomaly_score=1", "bad"],
    ] {
        let (code, _, err) = run(ei_tune(&studio).args(&args)).await;
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
    }
    assert!(studio.set_threshold_calls().is_empty());
}

#[tokio::test]
async fn a_refusal_by_the_server_exits_1_with_its_words() {
    let studio = studio_with_jobs(5_000).await;
    let (code, _, err) = run(ei_tune(&studio).args(["--impulse", "2", "regenerate"])).await;
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(ei_tune(&studio).args(["set", "3.min_score=0.5"])).await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(ei_tune::studio::state::BLOCKED_BY_JOB_MESSAGE),
        "the server's words: {err}"
    );
    assert!(
        err.contains("job 1 (Regenerating model testing summary) runs in the project: try again"),
        "{err}"
    );
}

#[tokio::test]
async fn regenerate_waits_and_prints_the_new_accuracy() {
    let studio = studio_with_jobs(500).await;
    let (code, _, err) =
        run(ei_tune(&studio).args(["--impulse", "2", "set", "13.min_score=0.3"])).await;
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(ei_tune(&studio).args(["--impulse", "2", "results"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("No current results"), "{out}");
    let (code, out, err) =
        run(ei_tune(&studio).args(["--impulse", "2", "regenerate", "--wait"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("finished"), "{out}");
    assert!(out.contains("accuracy"), "{out}");
    assert!(err.contains("job 1"), "progress goes to stderr: {err}");
}

#[tokio::test]
async fn results_prints_the_summary_and_json() {
    let studio = studio().await;
    let (code, out, err) = run(ei_tune(&studio).arg("results")).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("accuracy"), "{out}");
    assert!(out.contains("uncertain"), "{out}");
    let (code, out, err) = run(ei_tune(&studio).args(["results", "--json"])).await;
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let total = &json["accuracy"]["totalSummary"];
    assert!(total["good"].as_u64().unwrap() + total["bad"].as_u64().unwrap() > 500);
}

#[tokio::test]
async fn without_a_key_it_says_where_to_find_one() {
    let studio = studio().await;
    let (code, _, err) = run(ei_tune(&studio).env_remove("EI_API_KEY").arg("list")).await;
    assert_eq!(code, 2);
    assert!(err.contains("Keys"), "{err}");
    assert!(err.contains("ei-tune demo"), "{err}");
}

#[tokio::test]
async fn a_wrong_key_is_refused_and_never_printed() {
    let studio = studio().await;
    let (code, out, err) = run(ei_tune(&studio)
        .env("EI_API_KEY", "ei_not_the_key_123")
        .arg("list"))
    .await;
    assert_eq!(code, 1);
    assert!(err.contains("401"), "{err}");
    assert!(!err.contains("ei_not_the_key_123") && !out.contains("ei_not_the_key_123"));
}

#[tokio::test]
async fn an_unreachable_host_names_the_url() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let studio = studio().await;
    let (code, _, err) = run(ei_tune(&studio)
        .env("EI_API_ENDPOINT", format!("http://127.0.0.1:{port}/v1"))
        .arg("list"))
    .await;
    assert_eq!(code, 1);
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
}

#[tokio::test]
async fn serve_prints_lines_a_user_can_paste() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_ei-tune"))
        .args(["serve", "--api-key", "ei_given", "--log-file", "/dev/null"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut exports = Vec::new();
    while exports.len() < 3 {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("serve prints its exports");
        if let Some(export) = line.strip_prefix("export ") {
            exports.push(export.to_string());
        }
    }
    let endpoint = exports[0].strip_prefix("EI_API_ENDPOINT=").unwrap();
    assert!(endpoint.starts_with("http://127.0.0.1:"));
    assert_eq!(exports[1], "EI_API_KEY=ei_given");
    let out = Command::new(env!("CARGO_BIN_EXE_ei-tune"))
        .env_clear()
        .env("EI_TUNE_STATE_DIR", common::scratch_dir("state"))
        .env("EI_API_ENDPOINT", endpoint)
        .env("EI_API_KEY", "ei_given")
        .arg("list")
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("min_anomaly_score"));
    child.kill().await.unwrap();
}

#[tokio::test]
async fn completions_and_version_work() {
    let studio = studio().await;
    let (code, out, _) = run(ei_tune(&studio).args(["completions", "bash"])).await;
    assert_eq!(code, 0);
    assert!(out.contains("ei-tune"));
    let (code, out, _) = run(ei_tune(&studio).arg("--version")).await;
    assert_eq!(code, 0);
    assert!(out.starts_with("ei-tune "));
}

#[tokio::test]
async fn list_runner_prints_the_runner_argument() {
    let studio = studio().await;
    let (code, out, err) = run(ei_tune(&studio).args(["list", "--runner"])).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "--thresholds '3.min_score=0.6,4.min_anomaly_score=0.3'\n"
    );
    let (code, out, _) = run(ei_tune(&studio).args(["--impulse", "3", "list", "--runner"])).await;
    assert_eq!(code, 0);
    assert!(
        out.starts_with("--thresholds '23.min_anomaly_score=10'\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "# not numeric, so not for --thresholds: 23.anomaly_scoring_aggregation_method=max"
        ),
        "{out}"
    );
}

#[tokio::test]
async fn export_change_and_reapply_round_trips() {
    let studio = studio().await;
    let dir = std::env::temp_dir().join(format!("ei-tune-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("visual.json");
    let file_arg = file.to_str().unwrap();
    let (code, before, _) = run(ei_tune(&studio).args(["--impulse", "3", "list", "--json"])).await;
    assert_eq!(code, 0);
    let (code, out, err) = run(ei_tune(&studio).args(["--impulse", "3", "export", file_arg])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Wrote 2 thresholds"), "{out}");
    let (code, _, err) = run(ei_tune(&studio).args([
        "--impulse",
        "3",
        "set",
        "23.min_anomaly_score=12.5",
        "23.anomaly_scoring_aggregation_method=mean",
    ]))
    .await;
    assert_eq!(code, 0, "{err}");
    let (_, changed, _) = run(ei_tune(&studio).args(["--impulse", "3", "list", "--json"])).await;
    assert_ne!(changed, before);
    // The file names its impulse: no --impulse needed.
    let (code, _, err) = run(ei_tune(&studio).args(["set", "--from", file_arg])).await;
    assert_eq!(code, 0, "{err}");
    let (_, after, _) = run(ei_tune(&studio).args(["--impulse", "3", "list", "--json"])).await;
    assert_eq!(after, before);
    let calls = studio.set_threshold_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[1].request.thresholds.len(),
        2,
        "one call with both values"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_bad_thresholds_file_exits_2_before_any_call() {
    let studio = studio().await;
    let dir = std::env::temp_dir().join(format!("ei-tune-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text, why) in [
        ("syntax.json", "{not json", "not a thresholds file"),
        (
            "shape.json",
            r#"{"thresholds": [{"blockId": "3", "key": "min_score", "value": 1}]}"#,
            "thresholds[0].blockId",
        ),
        (
            "type.json",
            r#"{"thresholds": [{"blockId": 3, "key": "min_score", "value": "high"}]}"#,
            "expects a number",
        ),
        (
            "range.json",
            r#"{"thresholds": [{"blockId": 3, "key": "min_score", "value": 7}]}"#,
            "7 is outside 0..1",
        ),
        (
            "unknown.json",
            r#"{"thresholds": [{"blockId": 3, "key": "nope", "value": 1}]}"#,
            "no such threshold",
        ),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let (code, _, err) =
            run(ei_tune(&studio).args(["set", "--from", path.to_str().unwrap()])).await;
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains(why), "{name}: expected `{why}` in {err}");
    }
    let (code, _, err) =
        run(ei_tune(&studio).args(["set", "--from", "/nonexistent/file.json"])).await;
    assert_eq!(code, 2, "{err}");
    assert!(studio.set_threshold_calls().is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn an_option_before_the_subcommand_wins_over_the_environment() {
    let studio = studio().await;
    // The environment names another project; the flag names the simulator's.
    let (code, out, err) =
        run(ei_tune(&studio)
            .env("EI_PROJECT_ID", "1")
            .args(["--project", "4242", "list"]))
        .await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("min_score"), "{out}");
    // Without the flag, the environment holds.
    let (code, _, err) = run(ei_tune(&studio).env("EI_PROJECT_ID", "1").arg("list")).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("project 1"), "{err}");
}

#[tokio::test]
async fn the_commands_work_on_object_detection() {
    let studio = studio_with_jobs(100).await;
    let (code, out, err) = run(ei_tune(&studio).args(["--impulse", "4", "results"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("objects found 258"), "{out}");
    assert!(
        out.contains("mAP@[IoU=50] 0.86") && !out.contains("accuracy"),
        "{out}"
    );
    let (code, out, _) = run(ei_tune(&studio).args(["--impulse", "6", "list", "--runner"])).await;
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "--thresholds '53.min_score=0.6'");
    // suggest --apply saves the best F1; the results are stale until model testing runs
    // again, which `regenerate` starts for object detection.
    let (code, out, err) =
        run(ei_tune(&studio).args(["--impulse", "4", "suggest", "--apply", "--force"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Set 33.min_score=0.75"), "{out}");
    let (_, out, _) = run(ei_tune(&studio).args(["--impulse", "4", "results"])).await;
    assert!(out.contains("ei-tune regenerate"), "{out}");
    let (code, out, err) =
        run(ei_tune(&studio).args(["--impulse", "4", "regenerate", "--wait"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("finished") && out.contains("objects found"),
        "{out}"
    );
    assert_eq!(studio.request_count("startClassifyJob"), 1);
    // Below the lowest stored score the figures are said to be incomplete.
    let (code, _, err) =
        run(ei_tune(&studio).args(["--impulse", "4", "set", "33.min_score=0.05"])).await;
    assert_eq!(code, 0, "{err}");
    run(ei_tune(&studio).args(["--impulse", "4", "regenerate", "--wait"])).await;
    let (_, out, _) = run(ei_tune(&studio).args(["--impulse", "4", "suggest"])).await;
    assert!(
        out.contains("note: figures below 0.1001, the lowest score stored, are incomplete"),
        "{out}"
    );
}

#[tokio::test]
async fn check_exits_by_whether_the_saved_thresholds_meet_the_bounds() {
    let studio = studio().await;
    // Impulse 1 at its saved thresholds: accuracy 75.1 %, false alarms 15.7 %.
    let (code, out, err) = run(ei_tune(&studio).args([
        "check",
        "--min",
        "accuracy=0.7",
        "--max",
        "false-alarms=0.2",
    ]))
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("every bound met"), "{out}");

    let junit = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("check-{}.xml", std::process::id()));
    let (code, out, _) = run(ei_tune(&studio).args([
        "check",
        "--min",
        "accuracy=0.9",
        "--max",
        "false-alarms=0.2",
        "--junit",
        junit.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(code, 1);
    assert!(out.contains("accuracy") && out.contains("FAILED"), "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
    assert_eq!(xml.matches("<testcase").count(), 2);
    assert_eq!(xml.matches("<failure").count(), 1);
    std::fs::remove_file(&junit).unwrap();

    let (code, out, _) =
        run(ei_tune(&studio).args(["check", "--json", "--min", "accuracy=0.9"])).await;
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["passed"], false);
    let accuracy = report["checks"][0]["value"].as_f64().unwrap();
    assert!((0.7..0.8).contains(&accuracy), "{report}");

    // A figure the impulse does not have cannot be vouched for.
    let (code, out, _) = run(ei_tune(&studio).args(["check", "--min", "map50=0.1"])).await;
    assert_eq!(code, 1);
    assert!(out.contains("not reported"), "{out}");
    let (code, _, err) = run(ei_tune(&studio).args(["check"])).await;
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(ei_tune(&studio).args(["check", "--min", "speed=1"])).await;
    assert_eq!(code, 2);
    assert!(err.contains("one of"), "{err}");
    // A percentage typed for a fraction would make a gate that never fails: refused.
    let (code, _, err) = run(ei_tune(&studio).args(["check", "--max", "false-alarms=5"])).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("false-alarms=5%"), "{err}");
    let (code, _, err) = run(ei_tune(&studio).args(["check", "--max", "false-alarms=100%"])).await;
    assert_eq!(code, 0, "{err}");
    // Object detection's figures.
    let (code, out, err) =
        run(ei_tune(&studio).args(["--impulse", "4", "check", "--min", "map50=0.8"])).await;
    assert_eq!(code, 0, "{err}{out}");
}

#[tokio::test]
async fn sweep_prints_every_figure_along_one_threshold_or_a_grid_of_two() {
    let studio = studio().await;
    let (code, out, err) = run(ei_tune(&studio).args(["sweep", "--points", "11"])).await;
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 12, "{out}");
    assert!(
        lines[0].starts_with("3.min_score,accuracy,balanced-accuracy,macro-f1"),
        "{out}"
    );
    // At the saved value (0.6) the sweep says what Studio reports.
    let (_, results, _) = run(ei_tune(&studio).args(["results", "--json"])).await;
    let results: Value = serde_json::from_str(&results).unwrap();
    let studio_accuracy = results["accuracy"]["accuracyScore"].as_f64().unwrap();
    let at_saved: Vec<&str> = lines
        .iter()
        .find(|l| l.starts_with("0.6,"))
        .unwrap()
        .split(',')
        .collect();
    let swept: f64 = at_saved[1].parse().unwrap();
    assert!(
        (swept - studio_accuracy).abs() < 1e-6,
        "{swept} against {studio_accuracy}"
    );

    let (code, out, _) = run(ei_tune(&studio).args([
        "sweep",
        "3.min_score",
        "4.min_anomaly_score",
        "--points",
        "3",
        "--json",
    ]))
    .await;
    assert_eq!(code, 0);
    let grid: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(grid["points"].as_array().unwrap().len(), 9);
    assert!(
        grid["points"][0]["4.min_anomaly_score"].is_number(),
        "{grid}"
    );

    let (code, _, err) = run(ei_tune(&studio).args(["sweep", "9.nothing"])).await;
    assert_eq!(code, 2);
    assert!(err.contains("3.min_score, 4.min_anomaly_score"), "{err}");
    let (code, _, _) = run(ei_tune(&studio).args(["sweep", "--points", "1"])).await;
    assert_eq!(code, 2);
}

/// `set 3.min_score=0.7` as the history writes it: who, where, before and after, the answer.
fn set_entry_is_whole(set: &serde_json::Value, base_url: &str) {
    assert_eq!(set["by"], "set");
    assert_eq!(set["origin"], base_url.trim_end_matches("/v1"));
    assert_eq!(
        (set["project"].as_u64(), set["impulse"].as_u64()),
        (Some(4242), Some(1))
    );
    let min_score = set["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == "min_score")
        .unwrap();
    assert_eq!(
        (min_score["before"].as_f64(), min_score["after"].as_f64()),
        (Some(0.6), Some(0.7))
    );
    assert_eq!(set["answer"]["saved"], true);
    assert!(set["answer"]["regenerateModelTestingStatus"].is_string());
}

/// `set` and `suggest --apply` write their calls down; `history` lists them, skipping a
/// corrupt line with a warning; `--no-history` writes nothing.
#[tokio::test]
async fn commands_write_their_calls_to_the_history_and_history_lists_them() {
    let studio = studio().await;
    let state = common::scratch_dir("state");
    let with_state = |args: &[&str]| {
        let mut cmd = ei_tune(&studio);
        cmd.env("EI_TUNE_STATE_DIR", &state).args(args);
        cmd
    };
    let (code, _, err) = run(&mut with_state(&["set", "3.min_score=0.7"])).await;
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&mut with_state(&["set", "3.min_score=7"])).await;
    assert_ne!(code, 0, "7 is refused: {err}");
    let (code, _, err) = run(&mut with_state(&["suggest", "--apply", "--force"])).await;
    assert_eq!(code, 0, "{err}");
    let summary = common::client(&studio)
        .model_testing_summary(4242, 1)
        .await
        .unwrap();
    let studio_accuracy = summary.accuracy.accuracy_score.unwrap();
    let (code, _, _) = run(&mut with_state(&[
        "--no-history",
        "set",
        "3.min_score=0.55",
    ]))
    .await;
    assert_eq!(code, 0);
    // A line cut short by a crash, and one from another program.
    let file = state.join("history.jsonl");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("{\"time\": \"2026-11-29T\nnot json at all\n");
    std::fs::write(&file, text).unwrap();

    let (code, out, err) = run(&mut with_state(&["history", "--json"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("2 lines of the history are not an entry"),
        "{err}"
    );
    let calls: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    // `set 3.min_score=7` is refused before anything is sent: not a call.
    assert_eq!(calls.len(), 2, "{out}");
    set_entry_is_whole(&calls[0], &studio.base_url());
    let suggest = &calls[1];
    assert_eq!(suggest["by"], "suggest");
    let accuracy = suggest["figures"]["accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&accuracy));
    // The figures written are Studio's own at the values applied.
    assert!(
        (studio_accuracy - accuracy).abs() < 1e-9,
        "{studio_accuracy} {suggest}"
    );

    let (code, out, _) = run(&mut with_state(&["history"])).await;
    assert_eq!(code, 0);
    assert!(out.contains("by set: 3.min_score 0.6 → 0.7"), "{out}");
    assert!(out.contains("by suggest: "), "{out}");
    assert!(out.contains("accuracy "), "{out}");
    narrowing_works(&with_state, &calls).await;
}

/// `--impulse` (before or after the subcommand) and `--last` narrow the history.
async fn narrowing_works(
    with_state: &impl Fn(&[&str]) -> tokio::process::Command,
    calls: &[serde_json::Value],
) {
    let (_, out, _) = run(&mut with_state(&["--impulse", "2", "history", "--json"])).await;
    assert_eq!(out.trim(), "[]", "narrowed to an impulse with no calls");
    let (_, out, _) = run(&mut with_state(&["history", "--impulse", "2"])).await;
    assert!(
        out.starts_with("No call of impulse 2 among the 2 in "),
        "{out}"
    );
    let (_, out, _) = run(&mut with_state(&["history", "--last", "1", "--json"])).await;
    let last: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(last, calls[1..]);
}

#[tokio::test]
async fn help_says_what_each_option_takes_and_shows_no_values() {
    let studio = studio().await;
    let help = |args: &'static [&'static str]| {
        let mut cmd = ei_tune(&studio);
        cmd.args(args)
            .env("EI_API_ENDPOINT", "")
            .env("EI_PROJECT_ID", "4242");
        cmd
    };
    let (code, out, _) = run(&mut help(&["check", "--help"])).await;
    assert_eq!(code, 0);
    assert!(out.contains("[env: EI_API_ENDPOINT]"), "{out}");
    assert!(
        !out.contains("EI_API_ENDPOINT=") && !out.contains("4242"),
        "{out}"
    );
    let (_, out, _) = run(&mut help(&["serve", "--help"])).await;
    assert!(
        out.contains("[default: a free one]") && !out.contains("[default: 0]"),
        "{out}"
    );
    let (_, out, _) = run(&mut help(&["export", "--help"])).await;
    assert!(out.contains("Where to write it"), "{out}");
}
