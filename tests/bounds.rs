//! Against a server that forwards to the simulator but writes its own per-window result
//! pages: labels past the bound are refused plainly (no abort, no wrapped numbers), and
//! below it the figures are right.

mod common;

use serde_json::{Value, json};

use common::proxy::Proxy;

/// The simulator's pages of impulse 1 with the first sample's windows rewritten by
/// `first` (the first page only: the sample is read once).
async fn impulse_1_with_first_sample(
    studio: &ei_tune::studio::Studio,
    first: impl Fn(&mut Value) + Send + Sync + 'static,
) -> Proxy {
    let upstream = studio.base_url().trim_end_matches("/v1").to_string();
    Proxy::start(&upstream, move |path, mut page| {
        let first_page = path.contains("/classify/all/result/page")
            && path.contains("impulseId=1")
            && path.contains("offset=0");
        if first_page && let Some(sample) = page["result"].get_mut(0) {
            first(sample);
        }
        page
    })
    .await
}

/// The first sample as `windows` windows, window `w` expected as `L{w}`: none of them can
/// be predicted right, and each adds a label.
fn windows_with_their_own_labels(windows: usize) -> impl Fn(&mut Value) + Send + Sync {
    move |sample: &mut Value| {
        sample["sample"]["label"] = json!("L0");
        for output in sample["classifications"].as_array_mut().unwrap() {
            let window = output["result"][0].clone();
            output["result"] = Value::Array(vec![window; windows]);
            output["expectedLabels"] = (0..windows)
                .map(|w| json!({"startIndex": w, "endIndex": w, "label": format!("L{w}")}))
                .collect();
            output["expectedAnomalyOutcome"] =
                json!([{"startIndex": 0, "endIndex": windows - 1, "label": "no anomaly"}]);
        }
    }
}

async fn check_accuracy(proxy: &Proxy, studio: &ei_tune::studio::Studio) -> (i32, String, String) {
    let mut cmd = common::ei_tune(studio);
    cmd.env("EI_API_ENDPOINT", proxy.base_url()).args([
        "check",
        "--impulse",
        "1",
        "--min",
        "accuracy=0",
        "--json",
    ]);
    common::run(&mut cmd).await
}

fn accuracy(out: &str) -> f64 {
    let json: Value = serde_json::from_str(out).unwrap();
    json["checks"][0]["value"].as_f64().unwrap()
}

#[tokio::test]
async fn a_window_over_a_hundred_thousand_classes_is_refused_not_an_abort() {
    let studio = common::studio().await;
    let proxy = impulse_1_with_first_sample(&studio, |sample| {
        let keras = &mut sample["classifications"][0];
        assert_eq!(keras["learnBlock"]["type"], "keras");
        let classes: serde_json::Map<String, Value> = (0..100_000)
            .map(|c| (format!("c{c}"), json!(1e-5)))
            .collect();
        keras["result"][0] = Value::Object(classes);
    })
    .await;
    for command in [
        vec!["check", "--min", "accuracy=0"],
        vec!["sweep", "3.min_score"],
    ] {
        let mut cmd = common::ei_tune(&studio);
        cmd.env("EI_API_ENDPOINT", proxy.base_url())
            .args(["--impulse", "1"]);
        let (code, out, err) = common::run(cmd.args(&command)).await;
        assert!(code == 1 || code == 2, "{command:?}: {code} {out} {err}");
        assert!(
            err.contains("100000 classes") && err.contains("at most 10000 labels"),
            "{command:?}: {err}"
        );
    }
}

#[tokio::test]
async fn labels_past_the_bound_are_refused_rather_than_numbered_twice() {
    let studio = common::studio().await;
    // 70,000 labels once wrapped past 65,535 and gave a wrong accuracy with exit 0.
    let proxy = impulse_1_with_first_sample(&studio, windows_with_their_own_labels(70_000)).await;
    let (code, out, err) = check_accuracy(&proxy, &studio).await;
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains("more than 10000 labels") && err.contains("at most 10000"),
        "{err}"
    );
    assert!(
        !err.contains("regenerate"),
        "regenerating would not help: {err}"
    );
}

#[tokio::test]
async fn thousands_of_labels_give_the_same_figures_as_one() {
    let studio = common::studio().await;
    let one = impulse_1_with_first_sample(&studio, windows_with_their_own_labels(1)).await;
    let (code, out, err) = check_accuracy(&one, &studio).await;
    assert_eq!(code, 0, "{err}");
    // 614 windows, the first wrong: what the others get right is the same below.
    let right = (accuracy(&out) * 614.0).round();
    let many = impulse_1_with_first_sample(&studio, windows_with_their_own_labels(5_000)).await;
    let (code, out, err) = check_accuracy(&many, &studio).await;
    assert_eq!(code, 0, "{err}");
    let expected = right / (613.0 + 5_000.0);
    assert!(
        (accuracy(&out) - expected).abs() < 1e-12,
        "{} against {expected}",
        accuracy(&out)
    );
    // The commands whose work once grew with the square of the labels finish, each with
    // every label in what it writes.
    for command in [
        vec!["report", "-"],
        vec!["sweep", "3.min_score", "--json"],
        vec!["suggest", "--json"],
    ] {
        let mut cmd = common::ei_tune(&studio);
        cmd.env("EI_API_ENDPOINT", many.base_url())
            .args(["--impulse", "1"])
            .args(&command);
        let (code, out, err) = common::run(&mut cmd).await;
        assert_eq!(code, 0, "{command:?}: {err}");
        assert!(!out.is_empty(), "{command:?}");
        if command[0] == "report" {
            assert!(
                out.contains(">L4999<"),
                "every label in the per-class table"
            );
        }
    }
}
