//! `suggest` end to end: the real binary against a simulator started by the test; its
//! optima held to an independent search (`scripts/check_optima.py`).

mod common;

use serde_json::Value;

use common::{ei_tune, run, studio};

/// A suggestion's figures from `suggest --json`: (key, objective key, current and suggested
/// score, missed anomalies after, warnings).
fn suggestion<'a>(json: &'a Value, key: &str) -> &'a Value {
    json["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("no suggestion for {key}: {json}"))
}

/// The optima an independent search finds over every distinct score of the demo's
/// per-window results as served (`scripts/check_optima.py`, and the same for detection):
/// `suggest` reaches each, with the shortest value inside the interval that gives it.
#[tokio::test]
async fn suggest_finds_the_exact_optimum_with_a_value_that_reads_well() {
    let studio = studio().await;
    let cases = [
        // (impulse, objective, key, best score, the value: the interval's shortest)
        // Balanced accuracy is best for min_anomaly_score in (0.5801, 0.5836].
        (
            "1",
            "balanced-accuracy",
            "min_anomaly_score",
            0.787000,
            0.582,
        ),
        (
            "2",
            "balanced-accuracy",
            "min_anomaly_score",
            0.790541,
            0.582,
        ),
        ("4", "f1", "min_score", 0.790780, 0.7527),
    ];
    for (impulse, objective, key, best, shortest) in cases {
        let mut args = vec!["--impulse", impulse, "suggest", "--json"];
        // Object detection has its one objective: none is named.
        if impulse != "4" {
            args.extend(["--objective", objective]);
        }
        let (code, out, err) = run(ei_tune(&studio).args(args)).await;
        assert_eq!(code, 0, "{err}");
        let json: Value = serde_json::from_str(&out).unwrap();
        let s = suggestion(&json, key);
        let score = s["scoreSuggested"].as_f64().unwrap();
        assert!(
            (score - best).abs() < 5e-7,
            "impulse {impulse}: {score} vs {best}"
        );
        assert_eq!(s["suggested"].as_f64(), Some(shortest), "impulse {impulse}");
    }
    let (code, out, err) =
        run(ei_tune(&studio).args(["--impulse", "1", "suggest", "--joint", "--json"])).await;
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let joint = json["joint"]["scoreSuggested"].as_f64().unwrap();
    assert!((joint - 0.844984).abs() < 5e-7, "joint {joint}");
}

/// Options that mean nothing for the impulse or the subcommand are refused, before the
/// subcommand as after it; given before `suggest`, the objectives' options count.
#[tokio::test]
async fn options_that_do_not_apply_are_refused_wherever_they_are_given() {
    let studio = studio().await;
    for args in [
        &["--cost", "missed-anomaly=3", "list"][..],
        &["list", "--cost", "missed-anomaly=3"],
        &["--debounce-ms", "5", "suggest"],
        &["suggest", "--cost", ""],
        &["--impulse", "4", "suggest", "--objective", "accuracy"],
        &["--impulse", "4", "suggest", "--cost", "missed-anomaly=5"],
    ] {
        let (code, _, err) = run(ei_tune(&studio).args(args)).await;
        assert_eq!(code, 2, "{args:?}: {err}");
    }
    let (_, _, err) =
        run(ei_tune(&studio).args(["--impulse", "4", "suggest", "--objective", "accuracy"])).await;
    assert!(err.contains("object detection"), "{err}");
    // The same costs before and after the subcommand give the same suggestion; only the
    // moment the scores were read may differ between the two runs.
    let before =
        run(ei_tune(&studio).args(["--cost", "missed-anomaly=5", "suggest", "--json"])).await;
    let after =
        run(ei_tune(&studio).args(["suggest", "--cost", "missed-anomaly=5", "--json"])).await;
    assert_eq!(before.0, 0, "{}", before.2);
    let without_read_time = |out: &str| {
        let mut json: Value = serde_json::from_str(out).unwrap();
        let read_at = json["scores"]
            .as_object_mut()
            .and_then(|scores| scores.remove("readAt"));
        assert!(read_at.is_some_and(|at| at.is_string()), "{out}");
        json
    };
    assert_eq!(without_read_time(&before.1), without_read_time(&after.1));
    let json: Value = serde_json::from_str(&before.1).unwrap();
    assert_eq!(suggestion(&json, "min_score")["objective"]["key"], "cost");
    // Object detection's objective is named as what it is.
    let (code, out, err) =
        run(ei_tune(&studio).args(["--impulse", "4", "suggest", "--json"])).await;
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        suggestion(&json, "min_score")["objective"]["key"],
        "detection-f1"
    );
}

#[tokio::test]
async fn suggest_defaults_to_objectives_over_the_whole_outcome() {
    let studio = studio().await;
    let (code, out, err) = run(ei_tune(&studio).args(["suggest", "--json"])).await;
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let score = suggestion(&json, "min_score");
    assert_eq!(score["objective"]["key"], "f1");
    assert!(
        score["objective"]["why"]
            .as_str()
            .unwrap()
            .contains("anomaly outcome")
    );
    let anomaly = suggestion(&json, "min_anomaly_score");
    assert_eq!(anomaly["objective"]["key"], "anomaly-balance");
    // Never worse on its own objective than where it is.
    for s in json["suggestions"].as_array().unwrap() {
        let (now, then) = (s["scoreCurrent"].as_f64(), s["scoreSuggested"].as_f64());
        assert!(then.unwrap() >= now.unwrap(), "{s}");
    }
    // The anomaly threshold no longer gives up its job: most anomalies are caught.
    let missed = anomaly["atSuggested"]["missedAnomalyRate"]
        .as_f64()
        .unwrap();
    assert!(missed < 0.5, "misses {missed}");
    // What it costs in false alarms is more than the bound: said, and in the JSON.
    let warnings = anomaly["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().starts_with("false alarms")),
        "{anomaly}"
    );
}

#[tokio::test]
async fn suggest_says_every_headline_figure_before_and_after() {
    let studio = studio().await;
    let (code, out, err) = run(ei_tune(&studio).args(["suggest"])).await;
    assert_eq!(code, 0, "{err}");
    for figure in [
        "accuracy",
        "balanced accuracy",
        "macro F1",
        "uncertain",
        "missed anomalies",
        "false alarms",
    ] {
        assert!(out.contains(&format!("  {figure} ")), "{figure}: {out}");
    }
    assert!(
        out.contains("because it weighs missed anomalies and false alarms alike"),
        "{out}"
    );
    assert!(out.contains("warning: false alarms"), "{out}");

    let (code, out, err) = run(ei_tune(&studio).args([
        "suggest",
        "--objective",
        "fewest-missed",
        "--max-fpr",
        "0.05",
    ]))
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("fewest missed anomalies, false alarms ≤ 5.0 %"),
        "{out}"
    );

    // Object detection: F1 over the objects found and missed.
    let (code, out, err) = run(ei_tune(&studio).args(["--impulse", "4", "suggest"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("33.min_score") && out.contains("F1"), "{out}");
}

#[tokio::test]
async fn suggest_apply_asks_for_force_when_a_figure_gets_much_worse() {
    let studio = studio().await;
    let (code, out, err) = run(ei_tune(&studio).args(["suggest", "--apply"])).await;
    assert_eq!(code, 1, "{err}");
    // What it would have applied on stdout; the refusal, one line, on stderr.
    assert!(out.contains("4.min_anomaly_score: objective"), "{out}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: not applied") && err.contains("--force"),
        "{err}"
    );
    assert!(err.contains("4.min_anomaly_score: false alarms"), "{err}");
    assert!(studio.set_threshold_calls().is_empty(), "nothing sent");
    let (code, out, _) = run(ei_tune(&studio).args(["suggest", "--apply", "--json"])).await;
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(json["applied"].is_null(), "{json}");

    let (code, out, err) = run(ei_tune(&studio).args(["suggest", "--apply", "--force"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("regenerated"), "{out}");
    let calls = studio.set_threshold_calls();
    assert_eq!(calls.len(), 1, "one call for all suggested values");
    assert_eq!(calls[0].request.thresholds.len(), 2);
}

#[tokio::test]
async fn suggest_with_costs_and_jointly() {
    let studio = studio().await;
    let (code, out, err) = run(ei_tune(&studio).args([
        "suggest",
        "--json",
        "--joint",
        "--cost",
        "missed-anomaly=10,false-alarm=1,uncertain=0.2",
    ]))
    .await;
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    for s in json["suggestions"].as_array().unwrap() {
        assert_eq!(s["objective"]["key"], "cost", "{s}");
        let (now, then) = (
            s["atCurrent"]["costPerWindow"].as_f64().unwrap(),
            s["atSuggested"]["costPerWindow"].as_f64().unwrap(),
        );
        assert!(then <= now, "{s}");
    }
    let joint = &json["joint"];
    assert_eq!(
        joint["method"],
        "grid 101 × 101, then exact along each axis"
    );
    let (alone, together) = (
        joint["scoreOneAtATime"].as_f64().unwrap(),
        joint["scoreSuggested"].as_f64().unwrap(),
    );
    assert!(
        together >= alone,
        "tuned together is at least as good: {joint}"
    );
    assert_eq!(joint["values"].as_array().unwrap().len(), 2);
    // In words, the values tuned alone are not said to be what --apply sends.
    let (code, text, err) = run(ei_tune(&studio).args(["suggest", "--joint"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains("each as tuned alone (--apply sends the joint values below)")
            && !text.contains("as --apply sends them"),
        "{text}"
    );

    let (code, _, err) = run(ei_tune(&studio).args(["suggest", "--cost", "missed=3"])).await;
    assert_eq!(code, 2);
    assert!(err.contains("unknown cost `missed`"), "{err}");
}

const AGGREGATION: &str = "23.anomaly_scoring_aggregation_method";

/// `sweep` of the visual anomaly aggregation on impulse 3: the figures at each option, by
/// option.
async fn aggregation_sweep(studio: &ei_tune::studio::Studio) -> (Value, Value) {
    let sweep = ["--impulse", "3", "sweep", AGGREGATION, "--json"];
    let (code, out, err) = run(ei_tune(studio).args(sweep)).await;
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let points = json["points"].as_array().unwrap();
    let options: Vec<&str> = points
        .iter()
        .map(|p| p[AGGREGATION].as_str().unwrap())
        .collect();
    assert_eq!(options, ["mean", "max"], "the dropdown's options, in order");
    let at = |option: &str| {
        points
            .iter()
            .find(|p| p[AGGREGATION] == option)
            .unwrap()
            .clone()
    };
    (at("mean"), at("max"))
}

/// The visual anomaly aggregation moves the figures: `sweep` gives one point per option,
/// and refuses the same threshold twice.
#[tokio::test]
async fn the_aggregation_is_swept_one_point_per_option() {
    let studio = studio().await;
    let (mean, max) = aggregation_sweep(&studio).await;
    assert_ne!(
        mean["accuracy"], max["accuracy"],
        "the option moves the figures"
    );
    let twice = ["--impulse", "3", "sweep", AGGREGATION, AGGREGATION];
    let (code, _, err) = run(ei_tune(&studio).args(twice)).await;
    assert_eq!(code, 2, "the same threshold twice: {err}");
    let grid = [
        "--impulse",
        "3",
        "sweep",
        AGGREGATION,
        "23.min_anomaly_score",
        "--points",
        "5",
    ];
    let (code, out, err) = run(ei_tune(&studio).args(grid)).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().count(),
        1 + 2 * 5,
        "option × value, and a header: {out}"
    );
}

const SUGGEST_ACCURACY: [&str; 6] = [
    "--impulse",
    "3",
    "suggest",
    "--objective",
    "accuracy",
    "--json",
];

/// `suggest --json`'s suggestion for the aggregation, and the whole answer.
async fn option_suggested(studio: &ei_tune::studio::Studio, args: &[&str]) -> (Value, Value) {
    let (code, out, err) = run(ei_tune(studio).args(args)).await;
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let option = suggestion(&json, "anomaly_scoring_aggregation_method").clone();
    (option, json)
}

/// `suggest` picks an option as it picks a number, each option at the anomaly threshold's
/// best value for it: no point of the option × value grid that `sweep` gives does better,
/// and `--joint`, which searches the threshold at each option, reaches the same point.
#[tokio::test]
async fn the_aggregation_is_suggested_at_its_best_threshold() {
    let studio = studio().await;
    let (_, max) = aggregation_sweep(&studio).await;
    let (option, _) = option_suggested(&studio, &SUGGEST_ACCURACY).await;
    assert_eq!(
        option["atCurrent"]["accuracy"], max["accuracy"],
        "max is saved"
    );
    assert_eq!(option["current"], "max");
    assert_eq!(
        option["suggested"], "mean",
        "mean is more accurate: {option}"
    );
    assert_eq!(option["with"][0]["key"], "min_anomaly_score", "{option}");
    let accuracy = option["atSuggested"]["accuracy"].as_f64().unwrap();
    let grid = [
        "--impulse",
        "3",
        "sweep",
        AGGREGATION,
        "23.min_anomaly_score",
        "--json",
    ];
    let (code, out, err) = run(ei_tune(&studio).args(grid)).await;
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    for point in json["points"].as_array().unwrap() {
        let on_grid = point["accuracy"].as_f64().unwrap();
        assert!(on_grid <= accuracy + 1e-12, "{point} beats {accuracy}");
    }
    // In words, the threshold's own line says that the option's value goes instead.
    let (code, out, err) = run(ei_tune(&studio).args(&SUGGEST_ACCURACY[..5])).await;
    assert_eq!(code, 0, "{err}");
    let sent = option["with"][0]["suggested"].to_string();
    assert!(
        out.contains(&format!(
            "note: --apply sends {sent} instead, with {AGGREGATION} at mean"
        )),
        "{out}"
    );
    let mut joint = SUGGEST_ACCURACY.to_vec();
    joint.push("--joint");
    let (_, json) = option_suggested(&studio, &joint).await;
    assert_eq!(json["joint"]["scoreSuggested"], option["scoreSuggested"]);
    let values = json["joint"]["values"].as_array().unwrap();
    assert!(
        values
            .iter()
            .any(|v| v["key"] == "anomaly_scoring_aggregation_method" && v["suggested"] == "mean"),
        "{json}"
    );
}

/// `--apply` sends the option as text with the threshold it was judged at (in place of the
/// threshold's own suggestion): Studio's scores then give what `suggest` said.
#[tokio::test]
async fn the_aggregation_is_applied_as_text_with_its_threshold() {
    let studio = studio().await;
    let (option, _) = option_suggested(&studio, &SUGGEST_ACCURACY).await;
    let threshold = &option["with"][0]["suggested"];
    let mut apply = SUGGEST_ACCURACY[..5].to_vec();
    apply.extend(["--apply", "--force"]);
    let (code, _, err) = run(ei_tune(&studio).args(apply)).await;
    assert_eq!(code, 0, "{err}");
    let calls = studio.set_threshold_calls();
    let sent: Vec<String> = calls
        .last()
        .unwrap()
        .request
        .thresholds
        .iter()
        .map(|t| format!("{}.{}={}", t.block_id, t.key, t.value))
        .collect();
    assert_eq!(
        sent,
        [
            format!("{AGGREGATION}=mean"),
            format!("23.min_anomaly_score={threshold}")
        ],
    );
    let (now, _) = option_suggested(&studio, &SUGGEST_ACCURACY).await;
    assert_eq!(now["current"], "mean", "Studio holds it: {now}");
    assert_eq!(now["atCurrent"], option["atSuggested"]);
}

/// An aggregation option added to Studio after this version (`median`) cannot be evaluated
/// from the scores: the commands that compute figures refuse, naming it, rather than
/// compute them at `max`; `list` still shows it.
#[tokio::test]
async fn an_option_this_version_does_not_know_is_refused_not_guessed() {
    let studio = studio().await;
    studio
        .offer_and_set_option(23, "anomaly_scoring_aggregation_method", "median")
        .unwrap();
    for command in [
        &["suggest"][..],
        &["suggest", "--apply", "--force"],
        &["sweep", "23.min_anomaly_score"],
        &["check", "--min", "accuracy=0"],
    ] {
        let mut args = vec!["--impulse", "3"];
        args.extend(command);
        let (code, _, err) = run(ei_tune(&studio).args(&args)).await;
        assert_eq!(code, 1, "{command:?}: {err}");
        assert!(
            err.contains("`median`") && err.contains("mean or max"),
            "{err}"
        );
    }
    assert!(studio.set_threshold_calls().is_empty(), "nothing sent");
    let (code, out, err) = run(ei_tune(&studio).args(["--impulse", "3", "list"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("median"), "{out}");
}
