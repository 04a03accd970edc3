//! The same scenarios against answers varied the ways the spec allows (unknown fields at
//! every level, optional fields absent, enum values ei-tune does not know, whole numbers
//! as integers, long Unicode labels): the client, the commands and the tuner must not
//! depend on the one reading of the API that the simulator embodies.

mod common;

use std::time::Duration;

use ei_tune::api::models::*;
use ei_tune::app;
use ei_tune::metrics::{Summary, Thresholds};
use ei_tune::preview::load_test_set;
use ei_tune::studio::variations::{UNICODE_LABELS, Variations};
use ei_tune::studio::{Studio, StudioConfig};
use serde_json::Value;

use common::{KEY, client, ei_tune, run};

const P: u64 = ei_tune::studio::demo::DEMO_PROJECT_ID;

async fn varied(job_ms: u64) -> Studio {
    let mut config = StudioConfig::new(KEY);
    config.variations = Some(Variations::all());
    config.job_duration = Duration::from_millis(job_ms);
    Studio::start(config).await.unwrap()
}

use common::key;

#[tokio::test]
async fn the_client_reads_every_varied_answer_and_the_preview_still_agrees() {
    let studio = varied(300).await;
    let c = client(&studio);
    assert_eq!(c.list_projects().await.unwrap()[0].id, P);
    let impulse = c.get_impulse(P, None).await.unwrap();
    assert_eq!(impulse.learn_blocks[0].kind.as_str(), "keras-2031");
    let all = c.impulse_thresholds(P, &impulse).await.unwrap();
    assert!(all.unreadable.is_empty(), "{:?}", all.unreadable);
    assert_eq!(all.blocks.len(), 2);
    assert_eq!(all.blocks[1].thresholds[0].suggested_value, None);

    let request = common::set_request(&[(3, "min_score", ThresholdValue::Number(0.7))], false);
    let saved = c.set_thresholds(P, 1, &request).await.unwrap();
    assert_eq!(
        saved.regenerate_model_testing_status,
        RegenerateStatus::Other("regenerated-2031".into())
    );

    let set = load_test_set(&c, P, &impulse, |_, _| {}).await.unwrap();
    let labels: Vec<&str> = set.labels[..set.class_count]
        .iter()
        .map(String::as_str)
        .collect();
    let expected: Vec<&str> = UNICODE_LABELS.iter().map(|(_, l)| *l).collect();
    assert_eq!(labels, expected, "Studio's order, which does not sort");
    let server = c.model_testing_summary(P, 1).await.unwrap();
    let local = set.evaluate(&Thresholds {
        min_score: 0.7,
        ..Thresholds::default()
    });
    let counts = server
        .accuracy
        .confusion_matrix_values
        .iter()
        .flat_map(|(e, row)| row.iter().map(move |(p, c)| (e.as_str(), p.as_str(), *c)));
    assert_eq!(local, Summary::from_counts(&set, counts).unwrap());
}

#[tokio::test]
async fn the_commands_work_on_varied_answers() {
    let studio = varied(300).await;
    let (code, out, err) = run(ei_tune(&studio).arg("list")).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("keras-2031") && out.contains("min_anomaly_score"),
        "{out}"
    );

    let (code, out, err) = run(ei_tune(&studio).args(["set", "3.min_score=0.7"])).await;
    assert_eq!(code, 0, "a value Studio saved is never a failure: {err}");
    assert!(
        out.contains("`regenerated-2031`, which ei-tune does not know"),
        "{out}"
    );
    assert_eq!(
        studio.threshold(3, "min_score"),
        Some(ThresholdValue::Number(0.7))
    );

    let (code, out, err) = run(ei_tune(&studio).arg("results")).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(UNICODE_LABELS[3].1), "{out}");
    assert!(
        !out.contains("accuracy -"),
        "derived from the counts: {out}"
    );
}

/// Without suggestedValue the search spans the scores: the same answer as with it.
#[tokio::test]
async fn suggest_on_varied_answers_finds_what_it_finds_on_plain_ones() {
    let studio = varied(300).await;
    run(ei_tune(&studio).args(["set", "3.min_score=0.7"])).await;
    let (code, out, err) = run(ei_tune(&studio).args(["suggest", "--json"])).await;
    assert_eq!(code, 0, "{err}");
    let varied: Value = serde_json::from_str(&out).unwrap();
    let varied_found = varied["suggestions"].as_array().unwrap().clone();
    let plain = common::studio().await;
    run(ei_tune(&plain).args(["set", "3.min_score=0.7"])).await;
    let (_, out, _) = run(ei_tune(&plain).args(["suggest", "--json"])).await;
    let plain: Value = serde_json::from_str(&out).unwrap();
    let plain_found = plain["suggestions"].as_array().unwrap().clone();
    for (v, p) in varied_found.iter().zip(&plain_found) {
        assert_eq!(v["suggested"], p["suggested"], "{v} vs {p}");
    }
}

/// A string threshold whose options went missing is set as text; export, set --from and a
/// job that ends without saying how work.
#[tokio::test]
async fn options_exports_and_jobs_work_on_varied_answers() {
    let studio = varied(300).await;
    // A string threshold whose options went missing is set as text.
    let (code, _, err) = run(ei_tune(&studio).args([
        "--impulse",
        "3",
        "set",
        "23.anomaly_scoring_aggregation_method=mean",
    ]))
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        studio.threshold(23, "anomaly_scoring_aggregation_method"),
        Some(ThresholdValue::Text("mean".into()))
    );

    let dir = std::env::temp_dir().join(format!("ei-tune-variations-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("t.json");
    let file = file.to_str().unwrap();
    let (code, _, err) = run(ei_tune(&studio).args(["export", file])).await;
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(ei_tune(&studio).args(["set", "--from", file])).await;
    assert_eq!(code, 0, "{err}");
    std::fs::remove_dir_all(&dir).unwrap();

    // A job that finishes without saying how it went is not a failure.
    run(ei_tune(&studio).args(["--impulse", "2", "set", "13.min_score=0.3"])).await;
    let (code, out, err) =
        run(ei_tune(&studio).args(["--impulse", "2", "regenerate", "--wait"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("did not say whether it succeeded"), "{out}");
}

#[tokio::test]
async fn the_tuner_works_on_varied_answers() {
    let studio = varied(300).await;
    let c = client(&studio);
    let loaded = app::load(&c, None, None).await.unwrap();
    let script = vec![(800, key('l')), (1200, key('q'))];
    let (outcome, screen) = common::run_tuner(&studio, loaded, 100, script).await;
    assert!(outcome.report.unsaved.is_empty(), "{:?}", outcome.report);
    assert_eq!(
        studio.threshold(3, "min_score"),
        Some(ThresholdValue::Number(0.61))
    );
    assert!(screen.contains("regenerated-2031"), "{screen}");
}

#[tokio::test]
async fn an_unreadable_block_leaves_the_rest_of_the_impulse_working() {
    let mut config = StudioConfig::new(KEY);
    config.unreadable_blocks = vec![4];
    let studio = Studio::start(config).await.unwrap();
    let (code, out, err) = run(ei_tune(&studio).arg("list")).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("min_score") && !out.contains("min_anomaly_score"),
        "{out}"
    );
    assert!(err.contains("warning: skipped block 4 (anomaly"), "{err}");
    let (code, _, err) = run(ei_tune(&studio).args(["set", "3.min_score=0.7"])).await;
    assert_eq!(code, 0, "{err}");

    let c = client(&studio);
    let loaded = app::load(&c, None, None).await.unwrap();
    assert_eq!(loaded.blocks.len(), 1);
    assert_eq!(loaded.unreadable[0].block.id, 4);
    let script = vec![(300, key('q'))];
    let (_, screen) = common::run_tuner(&studio, loaded, 300, script).await;
    assert!(screen.contains("unreadable: getAnomaly"), "{screen}");
}
