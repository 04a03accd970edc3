//! The rules of the tuner core, with explicit instants: no runtime, no sleeps.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::api::ApiError;
use crate::api::client::Outcome;
use crate::app::demo_loaded;
use crate::keymap::{self, Screen};
use crate::metrics::{Scores, ScoresFrom, TestSet};
use crate::studio::demo::{DEMO_PROJECT_ID, demo_impulses};

/// The demo's first impulse, where the tests' calls go.
const HERE: Target = Target {
    project: DEMO_PROJECT_ID,
    impulse: 1,
};

/// A key pressed, through the real key map.
fn press(t: &mut Tuner, code: KeyCode, at: Instant) -> Vec<Cmd> {
    let event = KeyEvent::new(code, KeyModifiers::NONE);
    match keymap::action_for(Screen::of(&t.mode), event) {
        Some(action) => t.update(Msg::Action(action), at),
        None => Vec::new(),
    }
}

/// An answer to a load nobody asked for (a reload's, say): id 0 is never issued.
fn load_done(result: Result<Loaded, ApiError>) -> Msg {
    Msg::Loaded { load: 0, result }
}

/// The loads among `cmds`: (load id, impulse).
fn load_cmds(cmds: &[Cmd]) -> Vec<(u64, Option<u64>)> {
    cmds.iter()
        .filter_map(|c| match c {
            Cmd::LoadImpulse { load, impulse, .. } => Some((*load, *impulse)),
            _ => None,
        })
        .collect()
}

const MS: Duration = Duration::from_millis(1);

fn loaded(impulse_index: usize) -> Loaded {
    demo_loaded(impulse_index).unwrap()
}

/// Scores as Studio served them now.
fn fresh(set: Arc<TestSet>) -> Scores {
    Scores {
        set,
        from: ScoresFrom::Studio {
            read_at: std::time::UNIX_EPOCH,
        },
    }
}

/// A tuner on the demo's first impulse (min_score 0.6 on block 3, min_anomaly_score 0.3
/// on block 4), loaded at `t0`, with no scores to preview: saves go as soon as they are
/// due.
fn tuner(t0: Instant) -> Tuner {
    let mut t = reading_tuner(t0);
    t.update(
        Msg::TestSetLoaded {
            impulse: 1,
            result: Err("no model testing results to preview".into()),
        },
        t0,
    );
    t
}

/// Studio answers that impulse `impulse` has no scores to preview, at `at`: a save held
/// for them goes when due (the commands of the tick that follows).
fn no_scores(t: &mut Tuner, impulse: u64, at: Instant) -> Vec<Cmd> {
    t.update(
        Msg::TestSetLoaded {
            impulse,
            result: Err("no model testing results to preview".into()),
        },
        at,
    );
    t.update(Msg::Tick, at)
}

/// The same, still reading the scores.
fn reading_tuner(t0: Instant) -> Tuner {
    let (mut t, cmds) = Tuner::new(
        TunerConfig::default(),
        "http://127.0.0.1:1/v1",
        None,
        None,
        t0,
    );
    assert_eq!(load_cmds(&cmds), vec![(1, None)]);
    let cmds = t.update(
        Msg::Loaded {
            load: 1,
            result: Ok(loaded(0)),
        },
        t0,
    );
    assert_eq!(cmds[0], Cmd::LoadResults { at: HERE });
    assert!(matches!(&cmds[1], Cmd::LoadTestSet { at: HERE }));
    assert_eq!(cmds.len(), 2);
    t
}

fn ok(status: RegenerateStatus) -> Result<SetImpulseThresholdsResponse, ApiError> {
    Ok(SetImpulseThresholdsResponse {
        success: true,
        error: None,
        had_model_testing_results: true,
        regenerate_model_testing_status: status,
        regenerate_model_testing_results_job_id: None,
    })
}

fn refused() -> Result<SetImpulseThresholdsResponse, ApiError> {
    Err(ApiError::Network {
        operation: "setImpulseThresholds",
        url: "http://127.0.0.1:1/v1".into(),
        reason: "connection reset".into(),
        outcome_unknown: false,
    })
}

/// The answer to call `request_id`, arriving at `at`.
fn answer(
    t: &mut Tuner,
    request_id: u64,
    result: Result<SetImpulseThresholdsResponse, ApiError>,
    at: Instant,
) -> Vec<Cmd> {
    t.update(
        Msg::SetDone {
            request_id,
            outcome: Outcome::from(result),
        },
        at,
    )
}

/// A refusal that trying again will not change.
fn rejected() -> Result<SetImpulseThresholdsResponse, ApiError> {
    Err(ApiError::Refused {
        operation: "setImpulseThresholds",
        message: "thresholds[0]: value out of range".into(),
    })
}

fn sets(cmds: &[Cmd]) -> Vec<(u64, SetImpulseThresholdsRequest)> {
    cmds.iter()
        .filter_map(|c| match c {
            Cmd::SetThresholds {
                request_id,
                request,
                ..
            } => Some((*request_id, request.clone())),
            _ => None,
        })
        .collect()
}

fn values(request: &SetImpulseThresholdsRequest) -> Vec<(u64, &str, f64)> {
    request
        .thresholds
        .iter()
        .map(|u| {
            (
                u.block_id,
                u.key.as_str(),
                u.value.as_number().unwrap_or(f64::NAN),
            )
        })
        .collect()
}

fn number(t: &Tuner, i: usize) -> f64 {
    t.sliders[i].value.as_number().unwrap()
}

fn job(id: u64, finished: bool, successful: Option<bool>) -> Job {
    Job {
        id,
        category: "c".into(),
        category_key: "k".into(),
        key: "k".into(),
        created: "2026-01-01T00:00:00Z".into(),
        started: Some("2026-01-01T00:00:00Z".into()),
        finished: finished.then(|| "2026-01-01T00:00:02Z".into()),
        finished_successful: successful,
        job_notification_uids: vec![],
        additional_info: None,
        compute_time: None,
    }
}

fn blocked_by(job_id: u64) -> Result<SetImpulseThresholdsResponse, ApiError> {
    Err(ApiError::BlockedByJob {
        operation: "setImpulseThresholds",
        message: "busy".into(),
        job_id,
        category: "c".into(),
    })
}

pub(super) fn lost_answer() -> Result<SetImpulseThresholdsResponse, ApiError> {
    Err(ApiError::Network {
        operation: "setImpulseThresholds",
        url: "u".into(),
        reason: "connection reset".into(),
        outcome_unknown: true,
    })
}

pub(super) fn current_summary() -> ModelTestingSummary {
    let impulses = demo_impulses().unwrap();
    let set = impulses[0].test_set.as_ref().unwrap();
    ModelTestingSummary {
        accuracy: crate::studio::figures::accuracy(
            &set.evaluate(&crate::metrics::Thresholds::default()),
            set,
        ),
        additional_metrics_by_learn_block: vec![],
        no_results_because_thresholds_changed: None,
    }
}

pub(super) fn records(cmds: &[Cmd]) -> Vec<crate::history::Call> {
    cmds.iter()
        .filter_map(|c| match c {
            Cmd::Record(call) => Some(call.clone()),
            _ => None,
        })
        .collect()
}

/// A history entry of the demo's first impulse that set `min_score`.
pub(super) fn entry(min_score: f64, min_anomaly_score: f64) -> crate::history::Entry {
    use crate::api::models::ThresholdValue::Number;
    use crate::history::{Answer, Call, Change, Entry};
    Entry {
        time: "2026-11-24T09:30:00Z".into(),
        origin: "http://127.0.0.1:1".into(),
        call: Call {
            project: DEMO_PROJECT_ID,
            impulse: 1,
            impulse_name: "Impulse".into(),
            by: "set".into(),
            thresholds: vec![
                Change {
                    block_id: 3,
                    key: "min_score".into(),
                    before: Number(0.6),
                    after: Number(min_score),
                    sent: None,
                },
                Change {
                    block_id: 4,
                    key: "min_anomaly_score".into(),
                    before: Number(0.3),
                    after: Number(min_anomaly_score),
                    sent: None,
                },
                Change {
                    block_id: 9,
                    key: "gone".into(),
                    before: Number(1.0),
                    after: Number(2.0),
                    sent: None,
                },
            ],
            answer: Answer::failed("x"),
            figures: Default::default(),
        },
    }
}

/// The demo's first impulse with its per-window results read.
pub(super) fn previewing(t0: Instant) -> (Tuner, Arc<TestSet>) {
    let mut t = tuner(t0);
    let set = demo_impulses().unwrap()[0].test_set.clone().unwrap();
    t.update(
        Msg::TestSetLoaded {
            impulse: 1,
            result: Ok(fresh(set.clone())),
        },
        t0,
    );
    (t, set)
}

mod editing;
mod elsewhere;
mod history_map;
mod interleavings;
mod loading;
mod reads;
mod saving;
mod scores;
