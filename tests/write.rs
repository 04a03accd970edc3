//! The one write path: `set`, `suggest --apply` and the tuner give the same outcome when
//! an answer is lost (the simulator's `lose-set` fault) and when someone else changed a
//! value since it was read. The real binary and the real event loop, on loopback.

mod common;

use std::time::Duration;

use ei_tune::api::models::ThresholdValue;
use ei_tune::api::{Believed, Outcome, Policy, Write};
use ei_tune::cache::ResultsCache;
use ei_tune::studio::{Studio, StudioConfig, faults::FaultSpec};

use common::{KEY, client, ei_tune, key, run};

const P: u64 = 4242;

async fn studio_with(faults: &str) -> Studio {
    let mut config = StudioConfig::new(KEY);
    config.job_duration = Duration::from_millis(300);
    config.faults = Some(FaultSpec::parse(faults).unwrap());
    Studio::start(config).await.unwrap()
}

fn number(v: f64) -> ThresholdValue {
    ThresholdValue::Number(v)
}

/// Every answer of set-thresholds is lost, after Studio applied the call.
#[tokio::test]
async fn a_lost_answer_is_read_back_as_applied_by_set_suggest_and_the_tuner() {
    // `set`: read back, every value held: done, exit 0.
    let studio = studio_with("lose-set=1").await;
    let (code, out, err) = run(ei_tune(&studio).args(["set", "3.min_score=0.7"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("outcome was unknown, but read back") && out.contains("applied"),
        "{out}"
    );
    assert_eq!(studio.threshold(3, "min_score"), Some(number(0.7)));
    // `suggest --apply`: the same.
    let (code, out, err) = run(ei_tune(&studio).args(["suggest", "--apply", "--force"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("outcome was unknown, but read back"), "{out}");
    // The tuner: the value is read back as saved, nothing left unsaved.
    let c = client(&studio);
    let loaded = ei_tune::app::load(&c, Some(P), Some(1)).await.unwrap();
    let before = studio.threshold(3, "min_score");
    let sets_before = studio.request_count("setImpulseThresholds");
    let script = vec![(400, key('l')), (1500, key('q'))];
    let (outcome, screen) = common::run_tuner(&studio, loaded, 50, script).await;
    assert!(outcome.report.unsaved.is_empty(), "{:?}", outcome.report);
    let after = studio.threshold(3, "min_score");
    assert_ne!(after, before, "{screen}");
    // Read back, not sent again blind: one call.
    assert_eq!(
        studio.request_count("setImpulseThresholds") - sets_before,
        1,
        "{screen}"
    );
    assert!(screen.contains("saved"), "{screen}");
}

/// A value changed by someone else since it was read is never overwritten by the write
/// path `set`, `suggest --apply` and the tuner use.
#[tokio::test]
async fn a_value_changed_elsewhere_is_left_alone_by_every_writer() {
    let studio = studio_with("seed=1").await;
    let c = client(&studio);
    let impulse = c.get_impulse(P, Some(1)).await.unwrap();
    let blocks = c.impulse_thresholds(P, &impulse).await.unwrap().blocks;
    let classifier = blocks[0].block.clone();
    // Read at 0.6; someone sets 0.75; the write of 0.7 believes 0.6.
    let other = client(&studio);
    other
        .set_thresholds(
            P,
            1,
            &common::set_request(&[(3, "min_score", number(0.75))], false),
        )
        .await
        .unwrap();
    let write = Write {
        project: P,
        impulse: 1,
        request: common::set_request(
            &[
                (3, "min_score", number(0.7)),
                (4, "min_anomaly_score", number(0.4)),
            ],
            false,
        ),
        believed: vec![
            Believed {
                block: classifier,
                key: "min_score".into(),
                value: number(0.6),
                maybe_ours: Vec::new(),
            },
            Believed {
                block: blocks[1].block.clone(),
                key: "min_anomaly_score".into(),
                value: number(0.3),
                maybe_ours: Vec::new(),
            },
        ],
    };
    let cache = ResultsCache::in_memory();
    let written = ei_tune::write::write(&c, &cache, &write, Policy::COMMAND, None).await;
    match &written.outcome {
        Outcome::Partial {
            changed_elsewhere, ..
        } => {
            assert_eq!(changed_elsewhere.len(), 1);
            assert_eq!(changed_elsewhere[0].value, number(0.75));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(studio.threshold(3, "min_score"), Some(number(0.75)));
    assert_eq!(studio.threshold(4, "min_anomaly_score"), Some(number(0.4)));
}

/// `suggest --apply`: its read and its write are seconds apart (the scores are read in
/// between, 300 ms a round trip here); a change meanwhile is left alone, said, and exits 1.
#[tokio::test]
async fn suggest_apply_leaves_a_value_changed_since_it_was_read_alone() {
    let slow = studio_with("latency=300ms").await;
    let mut suggest = ei_tune(&slow);
    suggest.args(["suggest", "--apply", "--force"]);
    let running = tokio::spawn(async move { run(&mut suggest).await });
    tokio::time::sleep(Duration::from_millis(1400)).await;
    client(&slow)
        .set_thresholds(
            P,
            1,
            &common::set_request(
                &[
                    (3, "min_score", number(0.75)),
                    (4, "min_anomaly_score", number(0.55)),
                ],
                false,
            ),
        )
        .await
        .unwrap();
    let (code, _, err) = running.await.unwrap();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("since they were read"), "{err}");
    assert_eq!(slow.threshold(3, "min_score"), Some(number(0.75)));
    assert_eq!(slow.threshold(4, "min_anomaly_score"), Some(number(0.55)));
}

/// The answer is lost, and before the value is read back another writer changes it: the
/// value read back is neither the one sent nor the one held before, so nothing is sent
/// over it again; the outcome is unknown (the lost call may land yet), exit 3.
#[tokio::test]
async fn after_a_lost_answer_a_value_changed_meanwhile_is_not_sent_over() {
    // Every request waits 300 ms before it is handled: the other writer, who acts as
    // soon as the lost call is applied, is always first.
    let studio = std::sync::Arc::new(studio_with("lose-set=1,latency=300ms").await);
    let watcher = {
        let studio = std::sync::Arc::clone(&studio);
        tokio::spawn(async move {
            while studio.set_threshold_calls().is_empty() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let other = common::set_request(&[(3, "min_score", number(0.77))], false);
            studio.set_thresholds_now(1, other.thresholds).unwrap();
        })
    };
    let (code, _, err) = run(ei_tune(&studio).args(["set", "3.min_score=0.58"])).await;
    watcher.await.unwrap();
    assert_eq!(code, 3, "{err}");
    assert_eq!(studio.threshold(3, "min_score"), Some(number(0.77)));
    assert_eq!(
        studio.set_threshold_calls().len(),
        1,
        "sent once, never again over the other writer's value"
    );
}
