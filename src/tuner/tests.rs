//! The rules of the tuner core, with explicit instants: no runtime, no sleeps.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::api::ApiError;
use crate::app::demo_loaded;
use crate::keymap::{self, Screen};
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

#[test]
fn an_edit_shows_at_once_and_is_sent_after_the_quiet_time() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    assert!(t.update(Msg::Action(Action::StepUp), t0).is_empty());
    assert_eq!(number(&t, 0), 0.61);
    assert_eq!(t.sliders[0].sync, SyncState::Edited);
    assert_eq!(t.next_deadline(), Some(t0 + 300 * MS));
    // Not yet: a tick before the deadline sends nothing.
    assert!(t.update(Msg::Tick, t0 + 299 * MS).is_empty());
    let cmds = t.update(Msg::Tick, t0 + 300 * MS);
    let sent = sets(&cmds);
    assert_eq!(sent.len(), 1);
    assert_eq!(values(&sent[0].1), vec![(3, "min_score", 0.61)]);
    assert!(!sent[0].1.allow_creating_regenerate_model_testing_jobs);
    assert_eq!(t.sliders[0].sync, SyncState::Sending);
    assert_eq!(t.next_deadline(), None, "nothing to wake for while waiting");
}

#[test]
fn a_burst_of_edits_becomes_one_call_with_the_last_values() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    for k in 0..10 {
        t.update(Msg::Action(Action::StepUp), t0 + k * 50 * MS);
    }
    t.update(Msg::Action(Action::SelectNext), t0 + 500 * MS);
    t.update(Msg::Action(Action::Jump(5)), t0 + 510 * MS);
    // Each edit re-arms the deadline.
    assert_eq!(t.next_deadline(), Some(t0 + 810 * MS));
    let sent = sets(&t.update(Msg::Tick, t0 + 810 * MS));
    assert_eq!(sent.len(), 1);
    let v = values(&sent[0].1);
    assert_eq!(v[0], (3, "min_score", 0.7));
    assert_eq!(v[1].0, 4);
    assert_eq!(v[1].2, t.sliders[1].scale().unwrap().at_fraction(0.5));
}

#[test]
fn edits_during_a_call_go_in_exactly_one_follow_up() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    let first = sets(&t.update(Msg::Tick, t0 + 300 * MS));
    // Three edits while the call is in flight, the last quiet time over before it returns.
    for k in 1..=3 {
        assert!(sets(&t.update(Msg::Action(Action::StepUp), t0 + (300 + k * 10) * MS)).is_empty());
    }
    assert!(
        sets(&t.update(Msg::Tick, t0 + 700 * MS)).is_empty(),
        "one call in flight at most"
    );
    assert_eq!(t.sync_label(&t.sliders[0]), "waiting");
    let cmds = answer(
        &mut t,
        first[0].0,
        ok(RegenerateStatus::Regenerated),
        t0 + 800 * MS,
    );
    let follow_up = sets(&cmds);
    assert_eq!(follow_up.len(), 1);
    assert_eq!(values(&follow_up[0].1), vec![(3, "min_score", 0.64)]);
    assert!(cmds.contains(&Cmd::LoadResults { at: HERE }));
    // The response to the first call did not move the slider back to 0.61.
    assert_eq!(number(&t, 0), 0.64);
    assert_eq!(t.sliders[0].saved, ThresholdValue::Number(0.61));
}

#[test]
fn a_follow_up_waits_for_the_quiet_time_when_edits_are_recent() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    let first = sets(&t.update(Msg::Tick, t0 + 300 * MS));
    t.update(Msg::Action(Action::StepUp), t0 + 350 * MS);
    let cmds = answer(
        &mut t,
        first[0].0,
        ok(RegenerateStatus::Regenerated),
        t0 + 400 * MS,
    );
    assert!(sets(&cmds).is_empty(), "the user is still editing");
    assert_eq!(t.next_deadline(), Some(t0 + 650 * MS));
    assert_eq!(sets(&t.update(Msg::Tick, t0 + 650 * MS)).len(), 1);
}

#[test]
fn a_refused_value_waits_for_its_own_edit_and_does_not_sink_the_others() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    let first = sets(&t.update(Msg::Tick, t0 + 300 * MS));
    answer(&mut t, first[0].0, rejected(), t0 + 320 * MS);
    assert_eq!(t.sliders[0].sync, SyncState::Failed("refused".into()));
    assert!(matches!(t.status[0].outcome, StatusOutcome::Failed(_)));
    assert_eq!(t.next_deadline(), None, "no retry loop");
    // An edit on another slider goes alone: the refused value would sink it too.
    t.update(Msg::Action(Action::SelectNext), t0 + 1000 * MS);
    t.update(Msg::Action(Action::StepUp), t0 + 1000 * MS);
    let sent = sets(&t.update(Msg::Tick, t0 + 1300 * MS));
    assert_eq!(values(&sent[0].1), vec![(4, "min_anomaly_score", 0.31)]);
    answer(
        &mut t,
        sent[0].0,
        ok(RegenerateStatus::Regenerated),
        t0 + 1350 * MS,
    );
    // Editing the refused one sends it again.
    t.update(Msg::Action(Action::SelectPrevious), t0 + 2000 * MS);
    t.update(Msg::Action(Action::StepUp), t0 + 2000 * MS);
    let sent = sets(&t.update(Msg::Tick, t0 + 2300 * MS));
    assert_eq!(values(&sent[0].1), vec![(3, "min_score", 0.62)]);
}

#[test]
fn transient_failures_are_retried_with_growing_waits_then_given_up() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    let mut now = t0 + 300 * MS;
    let mut request = sets(&t.update(Msg::Tick, now))[0].0;
    let mut waits = Vec::new();
    for attempt in 1..8 {
        answer(&mut t, request, refused(), now + 10 * MS);
        let SyncState::Retrying { attempt: a, delay } = t.sliders[0].sync.clone() else {
            panic!("attempt {attempt}: {:?}", t.sliders[0].sync);
        };
        assert_eq!(a, attempt);
        assert!(
            t.sync_label(&t.sliders[0])
                .starts_with(&format!("retrying (attempt {}", attempt + 1))
        );
        waits.push(delay);
        let due = t.next_deadline().unwrap();
        assert_eq!(due, now + 10 * MS + delay);
        assert!(
            sets(&t.update(Msg::Tick, due - MS)).is_empty(),
            "not before its time"
        );
        now = due;
        let again = sets(&t.update(Msg::Tick, now));
        assert_eq!(values(&again[0].1), vec![(3, "min_score", 0.61)]);
        request = again[0].0;
    }
    // Each wait roughly doubles (jitter ±20 %), up to the cap.
    for pair in waits.windows(2) {
        assert!(
            pair[1] > pair[0].mul_f64(1.3) || pair[1] >= Duration::from_secs(6),
            "{waits:?}"
        );
    }
    answer(&mut t, request, refused(), now + 10 * MS);
    assert_eq!(
        t.sliders[0].sync,
        SyncState::Failed("unreachable".into()),
        "bounded"
    );
    assert_eq!(t.next_deadline(), None);
}

#[test]
fn retry_after_is_honoured_and_edits_meanwhile_ride_along() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    let first = sets(&t.update(Msg::Tick, t0 + 300 * MS))[0].0;
    answer(
        &mut t,
        first,
        Err(ApiError::Status {
            operation: "setImpulseThresholds",
            status: 429,
            message: "Too many requests".into(),
            retry_after: Some(Duration::from_secs(3)),
        }),
        t0 + 310 * MS,
    );
    assert_eq!(t.next_deadline(), Some(t0 + 3310 * MS));
    // The user moves on: typing does not cut the server's wait short, and the newest
    // value goes with the retry, not the old one.
    t.update(Msg::Action(Action::StepUp), t0 + 400 * MS);
    assert_eq!(t.next_deadline(), Some(t0 + 3310 * MS));
    assert!(sets(&t.update(Msg::Tick, t0 + 700 * MS)).is_empty());
    let sent = sets(&t.update(Msg::Tick, t0 + 3310 * MS));
    assert_eq!(values(&sent[0].1), vec![(3, "min_score", 0.62)]);
}

#[test]
fn a_refusal_by_a_running_job_follows_the_job_then_sends() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    let first = sets(&t.update(Msg::Tick, t0 + 300 * MS))[0].0;
    let cmds = answer(
        &mut t,
        first,
        Err(ApiError::BlockedByJob {
            operation: "setImpulseThresholds",
            message: "any words at all".into(),
            job_id: 9,
            category: "Regenerating model testing summary".into(),
        }),
        t0 + 310 * MS,
    );
    assert_eq!(records(&cmds).len(), 1, "the refused call is written down");
    let cmds: Vec<Cmd> = cmds
        .into_iter()
        .filter(|c| !matches!(c, Cmd::Record(_)))
        .collect();
    assert_eq!(
        cmds,
        vec![Cmd::PollJob {
            project: DEMO_PROJECT_ID,
            job_id: 9,
            after: 500 * MS
        }]
    );
    assert_eq!(t.sync_label(&t.sliders[0]), "waiting");
    assert!(t.status[0].outcome != StatusOutcome::Pending);
    let cmds = t.update(
        Msg::JobPolled {
            job_id: 9,
            result: Ok(job(9, true, Some(true))),
        },
        t0 + 900 * MS,
    );
    // The scores regenerated are read first: a save would make Studio withhold them.
    assert!(cmds.iter().any(|c| matches!(c, Cmd::LoadTestSet { .. })));
    assert!(sets(&cmds).is_empty() && t.save.held_for_scores());
    let cmds = no_scores(&mut t, 1, t0 + 950 * MS);
    assert_eq!(values(&sets(&cmds)[0].1), vec![(3, "min_score", 0.61)]);
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

#[test]
fn a_failed_poll_keeps_following_the_job_and_held_edits_go_when_it_ends() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    let first = sets(&t.update(Msg::Tick, t0 + 300 * MS))[0].0;
    answer(&mut t, first, blocked_by(9), t0 + 310 * MS);
    let gateway = ApiError::Status {
        operation: "getJobStatus",
        status: 502,
        message: "Bad Gateway".into(),
        retry_after: None,
    };
    let cmds = t.update(
        Msg::JobPolled {
            job_id: 9,
            result: Err(gateway),
        },
        t0 + 800 * MS,
    );
    assert_eq!(
        cmds,
        vec![Cmd::PollJob {
            project: DEMO_PROJECT_ID,
            job_id: 9,
            after: 500 * MS
        }]
    );
    assert!(t.job.is_some(), "a 502 does not lose the job");
    assert_eq!(t.sync_label(&t.sliders[0]), "waiting");
    // It finishes without saying how: not a failure, and the held edit goes.
    let cmds = t.update(
        Msg::JobPolled {
            job_id: 9,
            result: Ok(job(9, true, None)),
        },
        t0 + 1300 * MS,
    );
    assert!(cmds.contains(&Cmd::LoadResults { at: HERE }), "{cmds:?}");
    assert!(t.notice.as_deref().unwrap_or("").contains("did not say"));
    let cmds = no_scores(&mut t, 1, t0 + 1300 * MS);
    assert_eq!(values(&sets(&cmds)[0].1), vec![(3, "min_score", 0.61)]);
}

#[test]
fn a_job_lost_for_good_releases_the_held_edits() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    let first = sets(&t.update(Msg::Tick, t0 + 300 * MS))[0].0;
    answer(&mut t, first, blocked_by(9), t0 + 310 * MS);
    // Its status never changes for three minutes.
    let mut now = t0 + 800 * MS;
    let mut cmds = Vec::new();
    for _ in 0..400 {
        cmds = t.update(
            Msg::JobPolled {
                job_id: 9,
                result: Ok(job(9, false, None)),
            },
            now,
        );
        if t.job.is_none() {
            break;
        }
        now += 500 * MS;
    }
    assert!(t.job.is_none(), "still following after {:?}", now - t0);
    assert!(now - t0 <= crate::jobs::STALLED_AFTER + Duration::from_secs(1));
    assert!(
        t.notice
            .as_deref()
            .unwrap_or("")
            .contains("stopped waiting")
    );
    assert_eq!(values(&sets(&cmds)[0].1), vec![(3, "min_score", 0.61)]);
}

#[test]
fn after_a_lost_answer_the_thresholds_are_read_back_and_differences_resent() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    // 0.61 times out: maybe applied, maybe not. It is read back, not sent again blind.
    t.update(Msg::Action(Action::StepUp), t0);
    let first = sets(&t.update(Msg::Tick, t0 + 300 * MS))[0].0;
    let cmds = answer(
        &mut t,
        first,
        Err(ApiError::Network {
            operation: "setImpulseThresholds",
            url: "u".into(),
            reason: "timed out".into(),
            outcome_unknown: true,
        }),
        t0 + 5000 * MS,
    );
    assert!(sets(&cmds).is_empty(), "{cmds:?}");
    let [(read_back, Some(1))] = load_cmds(&cmds)[..] else {
        panic!("no read-back: {cmds:?}");
    };
    assert_eq!(t.sliders[0].sync, SyncState::Unconfirmed);
    // Meanwhile the user goes back to 0.60 here and to 0.31 on the other slider.
    t.update(Msg::Action(Action::StepDown), t0 + 5100 * MS);
    t.update(Msg::Action(Action::SelectNext), t0 + 5100 * MS);
    t.update(Msg::Action(Action::StepUp), t0 + 5100 * MS);
    let second = sets(&t.update(Msg::Tick, t0 + 5400 * MS));
    assert_eq!(values(&second[0].1), vec![(4, "min_anomaly_score", 0.31)]);
    // Studio applied the lost 0.61: the read-back shows it, and 0.60 goes again.
    let mut late = loaded(0);
    late.blocks[0].thresholds[0].value = ThresholdValue::Number(0.61);
    t.update(
        Msg::Loaded {
            load: read_back,
            result: Ok(late),
        },
        t0 + 5450 * MS,
    );
    assert_eq!(number(&t, 0), 0.6, "the user's value stays");
    let cmds = answer(
        &mut t,
        second[0].0,
        ok(RegenerateStatus::Regenerated),
        t0 + 5500 * MS,
    );
    let resent = sets(&cmds);
    assert_eq!(values(&resent[0].1), vec![(3, "min_score", 0.6)]);
}

#[test]
fn a_lost_answer_read_back_as_applied_is_saved_without_a_resend() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    let first = sets(&t.update(Msg::Tick, t0 + 300 * MS))[0].0;
    let cmds = answer(&mut t, first, lost_answer(), t0 + 400 * MS);
    let [(read_back, Some(1))] = load_cmds(&cmds)[..] else {
        panic!("no read-back: {cmds:?}");
    };
    assert_eq!(t.sync_label(&t.sliders[0]), "answer lost: reading back");
    let mut applied = loaded(0);
    applied.blocks[0].thresholds[0].value = ThresholdValue::Number(0.61);
    let cmds = t.update(
        Msg::Loaded {
            load: read_back,
            result: Ok(applied),
        },
        t0 + 500 * MS,
    );
    assert!(sets(&cmds).is_empty(), "{cmds:?}");
    assert_eq!(t.sliders[0].sync, SyncState::Saved);
    assert_eq!(t.sliders[0].saved, ThresholdValue::Number(0.61));
    // Quitting now has nothing to wait for.
    t.update(Msg::Action(Action::Quit), t0 + 600 * MS);
    assert_eq!(t.exit.as_ref().map(|e| e.unsaved.len()), Some(0));
}

#[test]
fn reload_resends_failed_values_and_reads_everything_back() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepDown), t0);
    let first = sets(&t.update(Msg::Tick, t0 + 300 * MS));
    answer(&mut t, first[0].0, rejected(), t0 + 320 * MS);
    let cmds = t.update(Msg::Action(Action::Reload), t0 + 400 * MS);
    assert_eq!(sets(&cmds).len(), 1);
    assert!(load_cmds(&cmds).iter().any(|(_, i)| *i == Some(1)));
    assert!(cmds.contains(&Cmd::LoadResults { at: HERE }));
    // The reload's answer (the server still at 0.6) does not undo the user's 0.59.
    t.update(load_done(Ok(loaded(0))), t0 + 410 * MS);
    assert_eq!(number(&t, 0), 0.59);
    assert_eq!(t.sliders[0].sync, SyncState::Sending);
}

#[test]
fn a_late_answer_to_an_unknown_request_changes_nothing() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    sets(&t.update(Msg::Tick, t0 + 300 * MS));
    let cmds = answer(
        &mut t,
        999,
        ok(RegenerateStatus::Regenerated),
        t0 + 310 * MS,
    );
    assert!(cmds.is_empty());
    assert_eq!(t.sliders[0].sync, SyncState::Sending);
}

#[test]
fn moving_back_to_the_saved_value_sends_nothing() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    t.update(Msg::Action(Action::StepDown), t0 + 10 * MS);
    assert!(sets(&t.update(Msg::Tick, t0 + 310 * MS)).is_empty());
    assert_eq!(t.sliders[0].sync, SyncState::Saved);
}

#[test]
fn statuses_are_explained_and_drive_the_metrics() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    let s = sets(&t.update(Msg::Tick, t0 + 300 * MS));
    answer(
        &mut t,
        s[0].0,
        ok(RegenerateStatus::RequiresJob),
        t0 + 340 * MS,
    );
    assert!(t.metrics.stale.as_deref().unwrap().contains("press g"));
    assert_eq!(t.status[0].latency, Some(40 * MS));
    let cmds = t.update(Msg::Action(Action::Regenerate), t0 + 400 * MS);
    assert_eq!(
        cmds,
        vec![Cmd::StartRegeneration {
            at: HERE,
            full_run: false,
            skip_features: false,
        }]
    );
    let cmds = t.update(
        Msg::RegenerationStarted {
            impulse: 1,
            result: Ok(7),
        },
        t0 + 410 * MS,
    );
    assert_eq!(
        cmds,
        vec![Cmd::PollJob {
            project: DEMO_PROJECT_ID,
            job_id: 7,
            after: 500 * MS
        }]
    );
    // Edits while the job runs wait for it: set-thresholds would be refused.
    t.update(Msg::Action(Action::StepUp), t0 + 420 * MS);
    assert_eq!(t.next_deadline(), None);
    let job = |finished: bool| Job {
        id: 7,
        category: "c".into(),
        category_key: "k".into(),
        key: "k".into(),
        created: "2026-01-01T00:00:00Z".into(),
        started: Some("2026-01-01T00:00:00Z".into()),
        finished: finished.then(|| "2026-01-01T00:00:02Z".into()),
        finished_successful: finished.then_some(true),
        job_notification_uids: vec![],
        additional_info: None,
        compute_time: None,
    };
    let cmds = t.update(
        Msg::JobPolled {
            job_id: 7,
            result: Ok(job(false)),
        },
        t0 + 900 * MS,
    );
    assert!(matches!(cmds[..], [Cmd::PollJob { job_id: 7, .. }]));
    assert_eq!(t.job.as_ref().unwrap().state, "running");
    let cmds = t.update(
        Msg::JobPolled {
            job_id: 7,
            result: Ok(job(true)),
        },
        t0 + 1400 * MS,
    );
    assert!(cmds.contains(&Cmd::LoadResults { at: HERE }));
    assert!(t.job.is_none());
    assert_eq!(
        sets(&no_scores(&mut t, 1, t0 + 1400 * MS)).len(),
        1,
        "the held-back edit goes once the job is done and the scores are read"
    );
}

#[test]
fn quitting_saves_first_and_a_second_quit_lists_what_was_not_saved() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    let cmds = t.update(Msg::Action(Action::Quit), t0 + 10 * MS);
    assert_eq!(sets(&cmds).len(), 1, "sent at once, without the debounce");
    assert!(t.exit.is_none());
    assert!(t.notice.as_deref().unwrap().starts_with("saving"));
    t.update(Msg::Action(Action::Quit), t0 + 20 * MS);
    let report = t.exit.clone().unwrap();
    // The call is out and unanswered: whether Studio holds it is not known.
    assert_eq!(
        report.unsaved,
        vec![
            "3.min_score=0.61 (sent, but no answer came: Studio may or may not hold it)"
                .to_string()
        ]
    );
}

#[test]
fn quitting_exits_once_the_values_are_saved() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    let cmds = t.update(Msg::Action(Action::Quit), t0 + 10 * MS);
    let s = sets(&cmds);
    answer(
        &mut t,
        s[0].0,
        ok(RegenerateStatus::Regenerated),
        t0 + 50 * MS,
    );
    assert_eq!(t.exit, Some(ExitReport::default()));
}

#[test]
fn quitting_gives_up_after_its_deadline() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    t.update(Msg::Action(Action::Quit), t0);
    assert_eq!(t.next_deadline(), Some(t0 + Duration::from_secs(5)));
    t.update(Msg::Tick, t0 + Duration::from_secs(5));
    assert_eq!(t.exit.as_ref().unwrap().unsaved.len(), 1);
}

#[test]
fn quitting_with_nothing_unsaved_is_immediate() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    press(&mut t, KeyCode::Char('q'), t0);
    assert_eq!(t.exit, Some(ExitReport::default()));
}

#[test]
fn typed_values_are_checked_inline() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    press(&mut t, KeyCode::Char('e'), t0);
    assert_eq!(
        t.mode,
        Mode::Input {
            text: "0.60".into(),
            error: None
        }
    );
    for _ in 0..4 {
        press(&mut t, KeyCode::Backspace, t0);
    }
    for bad in ["abc", "NaN", "inf", "1e400", "1.5", ""] {
        for c in bad.chars() {
            press(&mut t, KeyCode::Char(c), t0);
        }
        press(&mut t, KeyCode::Enter, t0);
        let Mode::Input { error, text } = &t.mode else {
            panic!("left input on {bad}");
        };
        assert!(error.is_some(), "{bad} accepted");
        for _ in 0..text.len() {
            press(&mut t, KeyCode::Backspace, t0);
        }
    }
    assert_eq!(t.sliders[0].sync, SyncState::Saved, "nothing was edited");
    for c in "0.725".chars() {
        press(&mut t, KeyCode::Char(c), t0);
    }
    press(&mut t, KeyCode::Enter, t0);
    assert_eq!(t.mode, Mode::Normal);
    assert_eq!(number(&t, 0), 0.725);
    // An open-ended key widens its range for a typed value.
    t.update(Msg::Action(Action::SelectNext), t0);
    press(&mut t, KeyCode::Char('e'), t0);
    for _ in 0..8 {
        press(&mut t, KeyCode::Backspace, t0);
    }
    for c in "42".chars() {
        press(&mut t, KeyCode::Char(c), t0);
    }
    press(&mut t, KeyCode::Enter, t0);
    assert_eq!(number(&t, 1), 42.0);
    assert!(t.sliders[1].scale().unwrap().max >= 42.0);
    // Esc cancels.
    press(&mut t, KeyCode::Char('e'), t0);
    press(&mut t, KeyCode::Esc, t0);
    assert_eq!(t.mode, Mode::Normal);
}

#[test]
fn dropdowns_cycle_through_their_options() {
    let t0 = Instant::now();
    let (mut t, _) = Tuner::new(TunerConfig::default(), "h", None, Some(3), t0);
    t.update(load_done(Ok(loaded(2))), t0);
    no_scores(&mut t, 3, t0);
    t.update(Msg::Action(Action::SelectNext), t0);
    assert_eq!(t.sliders[1].value, ThresholdValue::Text("max".into()));
    t.update(Msg::Action(Action::CycleOption), t0);
    assert_eq!(t.sliders[1].value, ThresholdValue::Text("mean".into()));
    assert_eq!(
        t.sliders[1].option_description(),
        Some("Mean of the patch scores (robust to small defects)")
    );
    t.update(Msg::Action(Action::Activate), t0);
    assert_eq!(t.sliders[1].value, ThresholdValue::Text("max".into()));
    t.update(Msg::Action(Action::StepDown), t0);
    let sent = sets(&t.update(Msg::Tick, t0 + 300 * MS));
    assert_eq!(
        sent[0].1.thresholds[0].value,
        ThresholdValue::Text("mean".into())
    );
}

#[test]
fn pointer_clicks_select_and_set() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(
        Msg::Pointer(Pointer::Press {
            slider: 1,
            fraction: None,
        }),
        t0,
    );
    assert_eq!(t.selected, 1);
    assert_eq!(t.sliders[1].sync, SyncState::Saved);
    t.update(
        Msg::Pointer(Pointer::Press {
            slider: 0,
            fraction: Some(0.25),
        }),
        t0,
    );
    assert_eq!(number(&t, 0), 0.25);
    t.update(
        Msg::Pointer(Pointer::Drag {
            slider: 0,
            fraction: 0.8,
        }),
        t0,
    );
    assert_eq!(number(&t, 0), 0.8);
    t.update(
        Msg::Pointer(Pointer::Wheel {
            slider: 0,
            up: false,
        }),
        t0,
    );
    assert_eq!(number(&t, 0), 0.79);
}

#[test]
fn switching_impulse_saves_first() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    t.update(Msg::Action(Action::ImpulsePicker), t0);
    assert_eq!(t.mode, Mode::Picker { selected: 0 });
    press(&mut t, KeyCode::Down, t0);
    let cmds = press(&mut t, KeyCode::Enter, t0);
    let s = sets(&cmds);
    assert_eq!(s.len(), 1, "saved before switching");
    let cmds = answer(
        &mut t,
        s[0].0,
        ok(RegenerateStatus::Regenerated),
        t0 + 30 * MS,
    );
    assert!(load_cmds(&cmds).iter().any(|(_, i)| *i == Some(2)));
}

#[test]
fn a_known_impulse_has_its_results_asked_for_with_it_and_kept_when_it_loads() {
    let t0 = Instant::now();
    let (mut t, cmds) = Tuner::new(
        TunerConfig::default(),
        "http://127.0.0.1:1/v1",
        Some(DEMO_PROJECT_ID),
        Some(1),
        t0,
    );
    assert_eq!(load_cmds(&cmds), vec![(1, Some(1))]);
    assert!(cmds.contains(&Cmd::LoadResults { at: HERE }), "{cmds:?}");
    assert!(cmds.contains(&Cmd::LoadTestSet { at: HERE }), "{cmds:?}");
    // Both answers come before the impulse itself.
    let impulses = demo_impulses().unwrap();
    let set = impulses[0].test_set.clone().unwrap();
    let summary = current_summary();
    t.update(
        Msg::ResultsLoaded {
            impulse: 1,
            result: Ok(summary.clone()),
        },
        t0,
    );
    t.update(
        Msg::TestSetLoaded {
            impulse: 1,
            result: Ok(fresh(set.clone())),
        },
        t0,
    );
    // Results of another impulse are not taken for it.
    t.update(
        Msg::TestSetLoaded {
            impulse: 2,
            result: Err("not this one".into()),
        },
        t0,
    );
    let cmds = t.update(
        Msg::Loaded {
            load: 1,
            result: Ok(loaded(0)),
        },
        t0,
    );
    assert!(
        !cmds
            .iter()
            .any(|c| matches!(c, Cmd::LoadResults { .. } | Cmd::LoadTestSet { .. })),
        "asked twice: {cmds:?}"
    );
    assert_eq!(t.metrics.summary, Some(summary));
    assert_eq!(t.preview.source, PreviewSource::Ready(set.clone()));
    assert_eq!(
        t.preview.displayed,
        Some(set.evaluate(&crate::metrics::Thresholds {
            min_score: 0.6,
            ..crate::metrics::Thresholds::default()
        }))
    );
}

#[test]
fn a_cached_set_that_the_read_contradicts_is_replaced_and_said_so() {
    let t0 = Instant::now();
    let (mut t, _) = Tuner::new(
        TunerConfig::default(),
        "http://127.0.0.1:1/v1",
        Some(DEMO_PROJECT_ID),
        Some(1),
        t0,
    );
    let truth = demo_impulses().unwrap()[0].test_set.clone().unwrap();
    let mut old = (*truth).clone();
    old.expected[0] = (old.expected[0] + 1) % old.labels.len() as u16;
    t.update(
        Msg::TestSetCached {
            impulse: 1,
            set: Arc::new(old),
        },
        t0,
    );
    assert!(t.preview.cached);
    t.update(
        Msg::TestSetLoaded {
            impulse: 1,
            result: Ok(fresh(truth.clone())),
        },
        t0,
    );
    assert!(!t.preview.cached);
    assert_eq!(t.preview.source, PreviewSource::Ready(truth));
    assert!(
        t.notice
            .as_deref()
            .unwrap()
            .contains("changed since they were cached")
    );
}

#[test]
fn r_checks_a_cached_preview_again_when_its_check_failed() {
    let t0 = Instant::now();
    let (mut t, _) = Tuner::new(
        TunerConfig::default(),
        "http://127.0.0.1:1/v1",
        Some(DEMO_PROJECT_ID),
        Some(1),
        t0,
    );
    t.update(load_done(Ok(loaded(0))), t0);
    let set = demo_impulses().unwrap()[0].test_set.clone().unwrap();
    t.update(Msg::TestSetCached { impulse: 1, set }, t0);
    // The full read fails for a reason that is not passing (an HTTP 500, say).
    t.update(
        Msg::TestSetLoaded {
            impulse: 1,
            result: Err("the results could not be read whole".into()),
        },
        t0,
    );
    assert!(t.preview.cached && t.preview.reading.is_none());
    let cmds = t.update(Msg::Action(Action::Reload), t0);
    assert!(
        cmds.iter().any(|c| matches!(c, Cmd::LoadTestSet { .. })),
        "{cmds:?}"
    );
    assert_eq!(t.preview.reading, Some((0, 0)));
}

#[test]
fn g_on_object_detection_runs_model_testing_again() {
    let t0 = Instant::now();
    let (mut t, _) = Tuner::new(
        TunerConfig::default(),
        "http://127.0.0.1:1/v1",
        None,
        None,
        t0,
    );
    t.update(load_done(Ok(loaded(3))), t0);
    let cmds = t.update(Msg::Action(Action::Regenerate), t0);
    assert_eq!(
        cmds,
        vec![Cmd::StartRegeneration {
            at: Target {
                project: DEMO_PROJECT_ID,
                impulse: 4
            },
            full_run: true,
            skip_features: false,
        }]
    );
}

#[test]
fn the_header_follows_whether_results_can_be_read() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    let unreachable = ApiError::Network {
        operation: "getClassifyJobResult",
        url: "http://127.0.0.1:1/v1/api/4242/classify/all/result".into(),
        reason: "connection refused".into(),
        outcome_unknown: false,
    };
    t.update(
        Msg::ResultsLoaded {
            impulse: 1,
            result: Err(unreachable),
        },
        t0,
    );
    assert_eq!(t.connection, Connection::Failing("unreachable".into()));
    let summary = current_summary();
    t.update(
        Msg::ResultsLoaded {
            impulse: 1,
            result: Ok(summary),
        },
        t0,
    );
    assert_eq!(t.connection, Connection::Connected);
}

#[test]
fn results_marked_stale_keep_the_last_figures() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    let summary = current_summary();
    t.update(
        Msg::ResultsLoaded {
            impulse: 1,
            result: Ok(summary.clone()),
        },
        t0,
    );
    assert_eq!(t.metrics.accuracy_history.len(), 1);
    let mut stale = summary.clone();
    stale.no_results_because_thresholds_changed = Some(StaleReason::CanRegenerateModelSummary);
    t.update(
        Msg::ResultsLoaded {
            impulse: 1,
            result: Ok(stale),
        },
        t0,
    );
    assert_eq!(t.metrics.summary, Some(summary));
    assert!(t.metrics.stale.is_some());
}

/// What can happen to the tuner, in any order.
#[derive(Debug, Clone)]
enum Event {
    Edit {
        slider: usize,
        steps: i32,
    },
    Wait(u64),
    Tick,
    Succeed,
    /// Refused before Studio saw it.
    Fail,
    /// No answer: Studio applied it now, or will later (after later calls, before reads).
    Lose {
        applied_now: bool,
    },
    /// Refused because a job runs.
    Blocked,
    LateAnswer,
    /// `r`, or the terminal regaining focus: thresholds read again.
    Reload,
    Focus,
    /// The oldest load answers, or fails.
    LoadAnswer {
        ok: bool,
    },
    /// The job's poll answers: still running, finished, or failed (a 502).
    Poll {
        finished: bool,
        failed: bool,
    },
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        4 => (0usize..2, -3i32..=3).prop_map(|(slider, steps)| Event::Edit { slider, steps }),
        3 => (1u64..400).prop_map(Event::Wait),
        2 => Just(Event::Tick),
        2 => Just(Event::Succeed),
        1 => Just(Event::Fail),
        1 => any::<bool>().prop_map(|applied_now| Event::Lose { applied_now }),
        1 => Just(Event::Blocked),
        1 => Just(Event::LateAnswer),
        1 => Just(Event::Reload),
        1 => Just(Event::Focus),
        2 => any::<bool>().prop_map(|ok| Event::LoadAnswer { ok }),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(finished, failed)| Event::Poll { finished, failed }),
    ]
}

/// A simulated Studio for the property below: what it holds, and what is outstanding.
#[derive(Default)]
struct World {
    server: Vec<ThresholdValue>,
    in_flight: Option<(u64, SetImpulseThresholdsRequest)>,
    /// Calls whose answer was lost: Studio applies them late, after any later call, before
    /// the next read (the case a read-back exists for).
    limbo: Vec<SetImpulseThresholdsRequest>,
    loads: VecDeque<u64>,
    poll: Option<u64>,
    calls: usize,
    /// A window opens with an edit when none is open, and a call closes it. Every call
    /// closes a window or resends after a failure: calls <= windows + failures.
    windows: usize,
    failures: usize,
    open: bool,
}

impl World {
    fn apply(&mut self, t: &Tuner, request: &SetImpulseThresholdsRequest) {
        for u in &request.thresholds {
            if let Some(i) = t
                .sliders
                .iter()
                .position(|s| s.block_id == u.block_id && s.key == u.key)
            {
                self.server[i] = u.value.clone();
            }
        }
    }

    fn land_late_calls(&mut self, t: &Tuner) {
        for request in std::mem::take(&mut self.limbo) {
            self.apply(t, &request);
        }
    }

    fn studio_view(&self) -> Loaded {
        let mut l = loaded(0);
        l.blocks[0].thresholds[0].value = self.server[0].clone();
        l.blocks[1].thresholds[0].value = self.server[1].clone();
        l
    }

    fn run(&mut self, t: &mut Tuner, msg: Msg, now: Instant) -> Result<(), TestCaseError> {
        for cmd in t.update(msg, now) {
            match cmd {
                Cmd::SetThresholds {
                    request_id,
                    request,
                    ..
                } => {
                    prop_assert!(self.in_flight.is_none(), "two calls in flight");
                    prop_assert!(!request.allow_creating_regenerate_model_testing_jobs);
                    self.calls += 1;
                    self.open = false;
                    self.in_flight = Some((request_id, request));
                }
                Cmd::LoadImpulse { load, .. } => self.loads.push_back(load),
                Cmd::PollJob { job_id, .. } => self.poll = Some(job_id),
                _ => {}
            }
        }
        Ok(())
    }

    /// The call in flight answers.
    fn answer(
        &mut self,
        t: &mut Tuner,
        now: Instant,
        result: Result<SetImpulseThresholdsResponse, ApiError>,
    ) -> Result<(), TestCaseError> {
        let Some((id, request)) = self.in_flight.take() else {
            return Ok(());
        };
        match &result {
            Ok(_) => self.apply(t, &request),
            Err(e) if e.outcome_unknown() => {
                // Landing late, it may cost one more call: the read-back's resend.
                self.failures += 1;
                self.limbo.push(request);
            }
            Err(_) => {}
        }
        if result.is_err() {
            self.failures += 1;
        }
        self.run(
            t,
            Msg::SetDone {
                request_id: id,
                outcome: Outcome::from(result),
            },
            now,
        )
    }

    fn answer_load(&mut self, t: &mut Tuner, now: Instant, ok: bool) -> Result<(), TestCaseError> {
        let Some(load) = self.loads.pop_front() else {
            return Ok(());
        };
        self.land_late_calls(t);
        let result = if ok {
            Ok(self.studio_view())
        } else {
            Err(busy())
        };
        self.run(t, Msg::Loaded { load, result }, now)
    }

    fn answer_poll(
        &mut self,
        t: &mut Tuner,
        now: Instant,
        finished: bool,
        failed: bool,
    ) -> Result<(), TestCaseError> {
        let Some(job_id) = self.poll.take() else {
            return Ok(());
        };
        let result = if failed {
            Err(busy())
        } else {
            Ok(job(job_id, finished, finished.then_some(true)))
        };
        self.run(t, Msg::JobPolled { job_id, result }, now)
    }
}

fn busy() -> ApiError {
    ApiError::Status {
        operation: "getImpulse",
        status: 502,
        message: "bad gateway".into(),
        retry_after: None,
    }
}

fn blocked() -> Result<SetImpulseThresholdsResponse, ApiError> {
    Err(ApiError::BlockedByJob {
        operation: "setImpulseThresholds",
        message: "a job runs".into(),
        job_id: 9,
        category: "Regenerating model testing summary".into(),
    })
}

/// Plays `events` against the tuner and the simulated Studio, then heals the network and
/// checks that nothing was lost, stranded or sent twice.
fn check_interleaving(events: Vec<Event>) -> Result<(), TestCaseError> {
    let t0 = Instant::now();
    let mut now = t0;
    let mut t = tuner(t0);
    let mut w = World {
        server: t.sliders.iter().map(|s| s.value.clone()).collect(),
        ..World::default()
    };
    for e in events {
        match e {
            Event::Edit { slider, steps } => {
                if !w.open {
                    w.windows += 1;
                    w.open = true;
                }
                t.selected = slider;
                let action = if steps >= 0 {
                    Action::StepUp
                } else {
                    Action::StepDown
                };
                for _ in 0..steps.unsigned_abs().max(1) {
                    w.run(&mut t, Msg::Action(action), now)?;
                }
            }
            Event::Wait(ms) => {
                now += Duration::from_millis(ms);
                if t.next_deadline().is_some_and(|d| d <= now) {
                    w.run(&mut t, Msg::Tick, now)?;
                }
            }
            Event::Tick => w.run(&mut t, Msg::Tick, now)?,
            Event::Succeed => w.answer(&mut t, now, ok(RegenerateStatus::Regenerated))?,
            Event::Fail => w.answer(&mut t, now, refused())?,
            Event::Lose { applied_now } => {
                if applied_now && let Some((_, request)) = &w.in_flight {
                    let request = request.clone();
                    w.apply(&t, &request);
                }
                w.answer(&mut t, now, lost_answer())?;
                if applied_now {
                    w.limbo.clear();
                }
            }
            Event::Blocked => w.answer(&mut t, now, blocked())?,
            Event::LateAnswer => {
                w.run(
                    &mut t,
                    Msg::SetDone {
                        request_id: 10_000,
                        outcome: Outcome::from(ok(RegenerateStatus::Regenerated)),
                    },
                    now,
                )?;
            }
            Event::Reload => w.run(&mut t, Msg::Action(Action::Reload), now)?,
            Event::Focus => w.run(&mut t, Msg::FocusGained, now)?,
            Event::LoadAnswer { ok } => w.answer_load(&mut t, now, ok)?,
            Event::Poll { finished, failed } => w.answer_poll(&mut t, now, finished, failed)?,
        }
    }
    // The network heals: every call, read and poll succeeds; failed values are resent
    // by `r`. Nothing may be left stranded. Calls whose answer was lost land first.
    w.land_late_calls(&t);
    for _ in 0..60 {
        now += Duration::from_secs(5);
        w.answer(&mut t, now, ok(RegenerateStatus::Regenerated))?;
        while !w.loads.is_empty() {
            w.answer_load(&mut t, now, true)?;
        }
        w.answer_poll(&mut t, now, true, false)?;
        w.run(&mut t, Msg::Tick, now)?;
        if w.in_flight.is_none()
            && t.sliders
                .iter()
                .any(|s| matches!(s.sync, SyncState::Failed(_)))
        {
            w.run(&mut t, Msg::Action(Action::Reload), now)?;
        }
    }
    prop_assert!(w.in_flight.is_none());
    prop_assert!(w.loads.is_empty());
    prop_assert!(t.job.is_none(), "a job still followed");
    prop_assert!(!t.save.answer_lost(), "a read-back still owed");
    for (i, slider) in t.sliders.iter().enumerate() {
        prop_assert_eq!(
            &w.server[i],
            &slider.value,
            "Studio differs for {}",
            slider.id()
        );
        prop_assert_eq!(&slider.sync, &SyncState::Saved);
    }
    prop_assert!(
        w.calls <= w.windows + w.failures,
        "{} calls for {} windows and {} failures",
        w.calls,
        w.windows,
        w.failures
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_interleavings_keep_the_rules(events in proptest::collection::vec(event(), 1..80)) {
        check_interleaving(events)?;
    }
}

#[test]
fn a_call_landing_late_after_a_failed_read_back_is_still_undone() {
    use Event::*;
    check_interleaving(vec![
        Edit {
            slider: 0,
            steps: 1,
        },
        Wait(300),
        Lose { applied_now: false },
        Edit {
            slider: 0,
            steps: 1,
        },
        Wait(300),
        Wait(3000),
        Succeed,
        LoadAnswer { ok: false },
    ])
    .unwrap();
}

#[test]
fn the_preview_follows_every_edit_and_o_moves_to_the_optimum() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    let impulses = demo_impulses().unwrap();
    let set = impulses[0].test_set.clone().unwrap();
    t.update(
        Msg::TestSetLoaded {
            impulse: 1,
            result: Ok(fresh(set.clone())),
        },
        t0,
    );
    let at = |min_score: f64| {
        set.evaluate(&crate::metrics::Thresholds {
            min_score,
            ..crate::metrics::Thresholds::default()
        })
    };
    assert_eq!(t.preview.displayed, Some(at(0.6)));
    t.update(Msg::Action(Action::StepUp), t0);
    assert_eq!(
        t.preview.displayed,
        Some(at(0.61)),
        "recomputed before anything is sent"
    );
    let sweep = t.preview.sweep.clone().unwrap();
    assert_eq!(sweep.xs.len(), SWEEP_POINTS);
    let best = sweep.optimum.unwrap();
    let cmds = t.update(Msg::Action(Action::Optimize), t0 + 10 * MS);
    assert!(cmds.is_empty(), "an ordinary, debounced edit");
    assert_eq!(number(&t, 0), best);
    // u undoes it like any edit.
    t.update(Msg::Action(Action::RevertToSaved), t0 + 20 * MS);
    assert_eq!(number(&t, 0), 0.6);
    // Each threshold starts on its own default; O cycles what applies to it.
    use crate::metrics::objective::Objective;
    let objective = |t: &Tuner| t.preview.sweep.as_ref().unwrap().objective;
    assert_eq!(objective(&t), Objective::MacroF1);
    t.update(Msg::Action(Action::SelectNext), t0);
    assert_eq!(objective(&t), Objective::AnomalyBalance);
    t.update(Msg::Action(Action::CycleObjective), t0);
    assert!(matches!(objective(&t), Objective::FewestMissed { .. }));
    t.update(Msg::Action(Action::SelectPrevious), t0);
    assert_eq!(
        objective(&t),
        Objective::MacroF1,
        "a choice that does not apply falls back to the threshold's default"
    );
    t.update(Msg::Action(Action::CycleObjective), t0);
    assert_eq!(t.preview.objective, Some(Objective::BalancedAccuracy));
}

#[test]
fn the_saved_figures_follow_the_summary_not_the_edits() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    let set = demo_impulses().unwrap()[0].test_set.clone().unwrap();
    let summary = |min_score: f64| ModelTestingSummary {
        accuracy: crate::studio::figures::accuracy(
            &set.evaluate(&crate::metrics::Thresholds {
                min_score,
                ..crate::metrics::Thresholds::default()
            }),
            &set,
        ),
        additional_metrics_by_learn_block: vec![],
        no_results_because_thresholds_changed: None,
    };
    let saved_at =
        |min_score: f64| super::figures::studio_figures(&summary(min_score).accuracy, &set);
    assert!(saved_at(0.6).is_some());
    // The summary first: nothing to read it over until the per-window results arrive.
    t.update(
        Msg::ResultsLoaded {
            impulse: 1,
            result: Ok(summary(0.6)),
        },
        t0,
    );
    assert_eq!(t.preview.saved, None);
    t.update(
        Msg::TestSetLoaded {
            impulse: 1,
            result: Ok(fresh(set.clone())),
        },
        t0,
    );
    assert_eq!(t.preview.saved, saved_at(0.6));
    // Edits move the preview, not the server's figures.
    t.update(Msg::Action(Action::StepUp), t0);
    assert_eq!(t.preview.saved, saved_at(0.6));
    assert_ne!(t.preview.displayed, t.preview.saved);
    // A new summary does.
    t.update(
        Msg::ResultsLoaded {
            impulse: 1,
            result: Ok(summary(0.61)),
        },
        t0,
    );
    assert_eq!(t.preview.saved, saved_at(0.61));
}

fn lost_answer() -> Result<SetImpulseThresholdsResponse, ApiError> {
    Err(ApiError::Network {
        operation: "setImpulseThresholds",
        url: "u".into(),
        reason: "connection reset".into(),
        outcome_unknown: true,
    })
}

#[test]
fn opening_another_impulse_cancels_the_reads_of_the_one_shown() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    let reload = t.update(Msg::Action(Action::Reload), t0);
    let (left, _) = load_cmds(&reload)[0];
    t.update(Msg::Action(Action::ImpulsePicker), t0);
    t.update(Msg::Action(Action::SelectNext), t0);
    let cmds = t.update(Msg::Action(Action::Confirm), t0);
    for slot in [Slot::Reload, Slot::Results, Slot::TestSet, Slot::History] {
        assert!(cmds.contains(&Cmd::Cancel(slot)), "{slot:?}: {cmds:?}");
    }
    let [(open, Some(2))] = load_cmds(&cmds)[..] else {
        panic!("{cmds:?}");
    };
    assert_eq!(
        cmds.iter().filter_map(Cmd::slot).next_back(),
        Some(Slot::Open)
    );
    // Focus meanwhile reads nothing: what is being opened is read anyway.
    assert!(t.update(Msg::FocusGained, t0).is_empty());
    // The reload of the impulse left answers late: it no longer counts, and the impulse
    // is still being opened.
    let mut moved = loaded(0);
    moved.blocks[0].thresholds[0].value = ThresholdValue::Number(0.9);
    t.update(
        Msg::Loaded {
            load: left,
            result: Ok(moved),
        },
        t0,
    );
    assert_eq!(number(&t, 0), 0.6);
    assert!(t.update(Msg::FocusGained, t0).is_empty());
    t.update(
        Msg::Loaded {
            load: open,
            result: Ok(loaded(1)),
        },
        t0,
    );
    assert_eq!(t.impulse().map(|i| i.id), Some(2));
    // And once opened, focus reads again.
    assert!(!load_cmds(&t.update(Msg::FocusGained, t0)).is_empty());
}

#[test]
fn a_snapshot_older_than_one_taken_in_is_dropped() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    let (older, _) = load_cmds(&t.update(Msg::Action(Action::Reload), t0))[0];
    let (newer, _) = load_cmds(&t.update(Msg::Action(Action::Reload), t0))[0];
    // Someone else set 0.7; the newer read sees it and the saved slider takes it.
    let mut moved = loaded(0);
    moved.blocks[0].thresholds[0].value = ThresholdValue::Number(0.7);
    let answer = |load, result| Msg::Loaded {
        load,
        result: Ok(result),
    };
    t.update(answer(newer, moved), t0);
    assert_eq!(number(&t, 0), 0.7);
    // The older read, answered late, still says 0.6: taking it in would undo the 0.7.
    t.update(answer(older, loaded(0)), t0);
    assert_eq!(number(&t, 0), 0.7);
    assert_eq!(t.sliders[0].sync, SyncState::Saved);
}

#[test]
fn a_read_back_that_fails_is_asked_for_again() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    let first = sets(&t.update(Msg::Tick, t0 + 300 * MS))[0].0;
    let cmds = answer(&mut t, first, lost_answer(), t0 + 400 * MS);
    let [(read_back, Some(1))] = load_cmds(&cmds)[..] else {
        panic!("no read-back: {cmds:?}");
    };
    let failed = ApiError::Status {
        operation: "getImpulse",
        status: 503,
        message: "busy".into(),
        retry_after: None,
    };
    t.update(
        Msg::Loaded {
            load: read_back,
            result: Err(failed),
        },
        t0 + 2200 * MS,
    );
    // With no other call to wait for, it is asked again after a wait, by itself.
    let wake = t.next_deadline().expect("a wake-up for the read-back");
    let cmds = t.update(Msg::Tick, wake);
    let [(again, Some(1))] = load_cmds(&cmds)[..] else {
        panic!("not asked again: {cmds:?}");
    };
    assert_ne!(again, read_back);
    // A reload asked for meanwhile takes its slot (the loop cancels the read-back) and
    // answers for it; an answer of a load asked for before it would not.
    let reload = t.update(Msg::Action(Action::Reload), wake);
    let (reload_id, _) = load_cmds(&reload)[0];
    assert!(reload_id > again);
    t.update(
        Msg::Loaded {
            load: reload_id,
            result: Ok(loaded(0)),
        },
        wake,
    );
    // The read-back found 0.6 where the user has 0.61: resent. Then, once the lost call
    // can no longer land, read back once more.
    let late = t0 + 300 * MS + t.config.lost_call_window;
    let mut last = None;
    while let Some(at) = t.next_deadline() {
        let cmds = t.update(Msg::Tick, at);
        for (id, _) in sets(&cmds) {
            answer(&mut t, id, ok(RegenerateStatus::Regenerated), at);
        }
        if let [(load, Some(1))] = load_cmds(&cmds)[..] {
            assert_eq!(at, late);
            last = Some(load);
            break;
        }
    }
    let mut studio = loaded(0);
    studio.blocks[0].thresholds[0].value = ThresholdValue::Number(0.61);
    t.update(
        Msg::Loaded {
            load: last.expect("a last read-back"),
            result: Ok(studio),
        },
        late,
    );
    assert!(!t.save.answer_lost());
    assert_eq!(t.next_deadline(), None);
}

#[test]
fn an_older_value_of_ours_found_on_studio_is_resent_not_taken() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    let first = sets(&t.update(Msg::Tick, t0 + 300 * MS))[0].0;
    answer(
        &mut t,
        first,
        ok(RegenerateStatus::Regenerated),
        t0 + 400 * MS,
    );
    t.update(Msg::Action(Action::StepUp), t0 + 500 * MS);
    let second = sets(&t.update(Msg::Tick, t0 + 800 * MS))[0].0;
    answer(
        &mut t,
        second,
        ok(RegenerateStatus::Regenerated),
        t0 + 900 * MS,
    );
    // A reload finds 0.61, which this tuner sent before 0.62: not another writer's.
    let mut stale = loaded(0);
    stale.blocks[0].thresholds[0].value = ThresholdValue::Number(0.61);
    let cmds = t.update(load_done(Ok(stale)), t0 + 1000 * MS);
    assert!(cmds.is_empty(), "{cmds:?}");
    assert_eq!(t.sliders[0].value, ThresholdValue::Number(0.62));
    assert_eq!(t.sync_label(&t.sliders[0]), "edited");
    let resent = sets(&t.update(Msg::Tick, t0 + 1000 * MS));
    assert_eq!(values(&resent[0].1), vec![(3, "min_score", 0.62)]);
    // Someone else's value is taken, and said.
    let mut theirs = loaded(0);
    theirs.blocks[1].thresholds[0].value = ThresholdValue::Number(0.45);
    t.update(load_done(Ok(theirs)), t0 + 1100 * MS);
    assert_eq!(t.sliders[1].value, ThresholdValue::Number(0.45));
    assert!(
        t.notice
            .as_deref()
            .unwrap_or("")
            .contains("4.min_anomaly_score is now 0.45")
    );
}

#[test]
fn quitting_while_a_job_runs_sends_the_held_edits_when_it_ends() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::Regenerate), t0);
    t.update(
        Msg::RegenerationStarted {
            impulse: 1,
            result: Ok(9),
        },
        t0 + 10 * MS,
    );
    t.update(Msg::Action(Action::StepUp), t0 + 100 * MS);
    let cmds = t.update(Msg::Action(Action::Quit), t0 + 200 * MS);
    assert!(
        t.exit.is_none(),
        "not at once: the edit is waiting for the job"
    );
    assert!(sets(&cmds).is_empty());
    let cmds = t.update(
        Msg::JobPolled {
            job_id: 9,
            result: Ok(job(9, true, Some(true))),
        },
        t0 + 700 * MS,
    );
    let sent = sets(&cmds);
    assert_eq!(values(&sent[0].1), vec![(3, "min_score", 0.61)]);
    answer(
        &mut t,
        sent[0].0,
        ok(RegenerateStatus::Regenerated),
        t0 + 800 * MS,
    );
    assert_eq!(t.exit, Some(ExitReport::default()));
}

#[test]
fn the_exit_report_says_only_what_is_true() {
    let t0 = Instant::now();
    // Moved and moved back: nothing to save.
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    t.update(Msg::Action(Action::RevertToSaved), t0 + 10 * MS);
    t.update(Msg::Terminate, t0 + 20 * MS);
    assert_eq!(t.exit, Some(ExitReport::default()));
    // An answer that never came: Studio may hold the value; the report does not say it
    // does not.
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    let first = sets(&t.update(Msg::Tick, t0 + 300 * MS))[0].0;
    answer(&mut t, first, lost_answer(), t0 + 400 * MS);
    t.update(Msg::Terminate, t0 + 500 * MS);
    let report = t.exit.clone().unwrap();
    assert_eq!(report.unsaved.len(), 1);
    assert!(
        report.unsaved[0].contains("may or may not hold it"),
        "{report:?}"
    );
}

#[test]
fn r_always_asks_for_the_scores_again_unless_a_read_is_under_way() {
    let t0 = Instant::now();
    let mut t = reading_tuner(t0);
    let reads = |cmds: &[Cmd]| {
        cmds.iter()
            .filter(|c| matches!(c, Cmd::LoadTestSet { .. }))
            .count()
    };
    // While the first read is under way, `r` does not start another.
    assert_eq!(reads(&t.update(Msg::Action(Action::Reload), t0)), 0);
    for failure in [
        PreviewFailure::from("getClassifyJobResultPage: HTTP 502"),
        PreviewFailure {
            why: "no model testing results to preview".into(),
            withheld: true,
        },
    ] {
        t.update(
            Msg::TestSetLoaded {
                impulse: 1,
                result: Err(failure),
            },
            t0 + 10 * MS,
        );
        assert!(matches!(t.preview.source, PreviewSource::Unavailable(_)));
        let cmds = t.update(Msg::Action(Action::Reload), t0 + 20 * MS);
        assert_eq!(reads(&cmds), 1, "{cmds:?}");
    }
    // A ready preview is read again too: the model may have been trained elsewhere.
    let set = demo_impulses().unwrap()[0].test_set.clone().unwrap();
    t.update(
        Msg::TestSetLoaded {
            impulse: 1,
            result: Ok(fresh(set)),
        },
        t0 + 30 * MS,
    );
    assert_eq!(
        reads(&t.update(Msg::Action(Action::Reload), t0 + 40 * MS)),
        1
    );
}

#[test]
fn scores_shown_stay_when_studio_cannot_be_asked_and_go_when_it_has_none() {
    let t0 = Instant::now();
    let (mut t, set) = previewing(t0);
    t.update(
        Msg::TestSetLoaded {
            impulse: 1,
            result: Err("getClassifyJobResultPage: could not connect".into()),
        },
        t0,
    );
    assert_eq!(t.preview.source, PreviewSource::Ready(set));
    // Studio answered that it has none, and none of this model are kept: the scores shown
    // may be another model's (trained again elsewhere), and go.
    t.update(
        Msg::TestSetLoaded {
            impulse: 1,
            result: Err(PreviewFailure {
                why: "no model testing results to preview".into(),
                withheld: true,
            }),
        },
        t0,
    );
    assert!(matches!(t.preview.source, PreviewSource::Unavailable(_)));
    assert_eq!(t.preview.displayed, None);
}

fn current_summary() -> ModelTestingSummary {
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

#[test]
fn a_summary_read_before_a_change_made_results_stale_does_not_clear_the_mark() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    // A read goes out (a job ended, say), then a change makes the results stale...
    t.update(Msg::Action(Action::Reload), t0);
    t.update(Msg::Action(Action::StepUp), t0 + 10 * MS);
    let id = sets(&no_scores(&mut t, 1, t0 + 310 * MS))[0].0;
    answer(&mut t, id, ok(RegenerateStatus::RequiresJob), t0 + 320 * MS);
    assert!(t.metrics.stale.is_some());
    // ...and the earlier read answers afterwards, with the old current figures.
    t.update(
        Msg::ResultsLoaded {
            impulse: 1,
            result: Ok(current_summary()),
        },
        t0 + 330 * MS,
    );
    assert!(t.metrics.stale.is_some(), "old figures shown as current");
}

#[test]
fn a_value_changed_elsewhere_reads_the_figures_again() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    let id = sets(&t.update(Msg::Tick, t0 + 300 * MS))[0].0;
    let changed = Outcome::ChangedElsewhere(vec![crate::api::ChangedElsewhere {
        block_id: 3,
        key: "min_score".into(),
        value: ThresholdValue::Number(0.75),
    }]);
    let cmds = t.update(
        Msg::SetDone {
            request_id: id,
            outcome: changed,
        },
        t0 + 310 * MS,
    );
    assert!(cmds.contains(&Cmd::LoadResults { at: HERE }), "{cmds:?}");
    assert!(
        t.sync_label(&t.sliders[0])
            .starts_with("changed elsewhere to 0.75")
    );
}

#[test]
fn a_value_changed_elsewhere_waits_for_the_user_even_at_quit() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    let id = sets(&t.update(Msg::Tick, t0 + 300 * MS))[0].0;
    let changed = Outcome::ChangedElsewhere(vec![crate::api::ChangedElsewhere {
        block_id: 3,
        key: "min_score".into(),
        value: ThresholdValue::Number(0.9),
    }]);
    t.update(
        Msg::SetDone {
            request_id: id,
            outcome: changed,
        },
        t0 + 310 * MS,
    );
    // Another edit goes out alone; the held value is not in it.
    t.update(Msg::Action(Action::SelectNext), t0 + 400 * MS);
    t.update(Msg::Action(Action::StepUp), t0 + 400 * MS);
    let sent = sets(&t.update(Msg::Tick, t0 + 700 * MS));
    assert_eq!(values(&sent[0].1), vec![(4, "min_anomaly_score", 0.31)]);
    answer(
        &mut t,
        sent[0].0,
        ok(RegenerateStatus::Regenerated),
        t0 + 800 * MS,
    );
    // Quitting does not send it either, and says why it is not saved.
    let cmds = t.update(Msg::Action(Action::Quit), t0 + 900 * MS);
    assert!(sets(&cmds).is_empty(), "{cmds:?}");
    let report = t.exit.clone().expect("nothing to wait for");
    assert_eq!(
        report.unsaved,
        vec!["3.min_score=0.61 (not sent: changed elsewhere to 0.90)".to_string()]
    );
}

#[test]
fn with_costs_every_threshold_minimises_the_cost() {
    use crate::metrics::objective::{Costs, Objective};
    let t0 = Instant::now();
    let costs = Costs::parse("missed-anomaly=10,uncertain=0.2").unwrap();
    let config = TunerConfig {
        costs: Some(costs),
        ..TunerConfig::default()
    };
    let (mut t, _) = Tuner::new(config, "http://127.0.0.1:1/v1", None, None, t0);
    t.update(load_done(Ok(loaded(0))), t0);
    let set = demo_impulses().unwrap()[0].test_set.clone().unwrap();
    t.update(
        Msg::TestSetLoaded {
            impulse: 1,
            result: Ok(fresh(set)),
        },
        t0,
    );
    let cost = |t: &Tuner| {
        t.preview
            .displayed
            .as_ref()
            .unwrap()
            .cost_per_window(&costs)
            .unwrap()
    };
    let before = cost(&t);
    for select in [Action::SelectPrevious, Action::SelectNext] {
        t.update(Msg::Action(select), t0);
        t.update(Msg::Action(Action::Optimize), t0);
        let sweep = t.preview.sweep.clone().unwrap();
        assert_eq!(sweep.objective, Objective::Cost(costs));
    }
    // Missed anomalies cost ten times a false alarm: the anomaly threshold went down, and
    // the cost with it.
    assert!(cost(&t) < before, "{} ≥ {before}", cost(&t));
    assert!(number(&t, 1) < 0.3, "{}", number(&t, 1));
}

#[test]
fn a_slow_reload_does_not_undo_a_value_saved_after_it_was_asked_for() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    // r: a reload goes out, and is slow.
    let reload = t.update(Msg::Action(Action::Reload), t0);
    let (slow, _) = load_cmds(&reload)[0];
    // Meanwhile the anomaly threshold is moved and saved (the scores read again first).
    t.update(Msg::Action(Action::SelectNext), t0);
    t.update(Msg::Action(Action::Jump(8)), t0);
    let sent = sets(&no_scores(&mut t, 1, t0 + 300 * MS));
    answer(
        &mut t,
        sent[0].0,
        ok(RegenerateStatus::Regenerated),
        t0 + 350 * MS,
    );
    let saved = t.sliders[1].value.clone();
    // The reload lands with what Studio held before the save.
    t.update(
        Msg::Loaded {
            load: slow,
            result: Ok(loaded(0)),
        },
        t0 + 4000 * MS,
    );
    assert_eq!(t.sliders[1].value, saved);
    assert_eq!(t.sliders[1].sync, SyncState::Saved);
    assert!(t.notice.is_none(), "{:?}", t.notice);
}

#[test]
fn an_unsaved_value_survives_a_reload_that_cannot_read_its_block() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::SelectNext), t0);
    t.update(Msg::Action(Action::StepUp), t0);
    let mut partial = loaded(0);
    let block = partial.blocks.remove(1);
    partial.unreadable.push(UnreadableBlock {
        block: block.block.clone(),
        reason: "HTTP 404".into(),
    });
    t.update(load_done(Ok(partial)), t0 + 100 * MS);
    assert_eq!(t.sliders.len(), 2, "kept");
    assert_eq!(number(&t, 1), 0.31);
    let sent = sets(&t.update(Msg::Tick, t0 + 300 * MS));
    assert_eq!(values(&sent[0].1), vec![(4, "min_anomaly_score", 0.31)]);
}

#[test]
fn quitting_while_a_call_is_out_and_a_job_runs_still_takes_the_answer() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    let sent = sets(&t.update(Msg::Tick, t0 + 300 * MS));
    t.update(Msg::Action(Action::Regenerate), t0 + 310 * MS);
    t.update(
        Msg::RegenerationStarted {
            impulse: 1,
            result: Ok(7),
        },
        t0 + 320 * MS,
    );
    t.update(Msg::Action(Action::Quit), t0 + 330 * MS);
    answer(
        &mut t,
        sent[0].0,
        ok(RegenerateStatus::Regenerated),
        t0 + 3000 * MS,
    );
    assert_eq!(t.sliders[0].sync, SyncState::Saved);
    let report = t.exit.clone().expect("nothing left to wait for");
    assert!(report.unsaved.is_empty(), "{report:?}");
}

#[test]
fn a_retry_held_by_a_job_does_not_spin() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    let sent = sets(&t.update(Msg::Tick, t0 + 300 * MS));
    answer(&mut t, sent[0].0, refused(), t0 + 310 * MS);
    assert!(matches!(t.sliders[0].sync, SyncState::Retrying { .. }));
    t.update(Msg::Action(Action::Regenerate), t0 + 320 * MS);
    let due = t.next_deadline().expect("the retry");
    t.update(Msg::Tick, due);
    // Held for the job: no deadline in the past to wake the loop over and over.
    assert!(
        t.next_deadline().is_none_or(|d| d > due),
        "{:?}",
        t.next_deadline()
    );
    assert_eq!(
        t.sync_label(&t.sliders[0]).split(' ').next(),
        Some("retrying")
    );
}

fn records(cmds: &[Cmd]) -> Vec<crate::history::Call> {
    cmds.iter()
        .filter_map(|c| match c {
            Cmd::Record(call) => Some(call.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn each_answered_call_is_handed_over_for_the_history_with_before_and_after() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    let (id, _) = sets(&t.update(Msg::Tick, t0 + 300 * MS))[0].clone();
    let cmds = answer(&mut t, id, ok(RegenerateStatus::Regenerated), t0 + 400 * MS);
    let recorded = records(&cmds);
    assert_eq!(recorded.len(), 1);
    let call = &recorded[0];
    assert_eq!(
        (call.project, call.impulse, call.by.as_str()),
        (DEMO_PROJECT_ID, 1, "tuner")
    );
    assert_eq!(call.changes(), ["3.min_score 0.6 → 0.61"]);
    assert_eq!(
        call.thresholds.len(),
        t.sliders.len(),
        "every threshold, changed or not"
    );
    assert_eq!(call.answer.summary(), "regenerated");
    assert!(call.figures.is_empty(), "no preview yet: no figures");

    // A failed call is written down too, changing nothing.
    t.update(Msg::Action(Action::StepUp), t0 + 500 * MS);
    let (id, _) = sets(&t.update(Msg::Tick, t0 + 800 * MS))[0].clone();
    let recorded = records(&answer(&mut t, id, rejected(), t0 + 900 * MS));
    assert_eq!(recorded.len(), 1);
    assert!(recorded[0].changes().is_empty());
    assert!(!recorded[0].answer.saved);
    // Edits alone are not calls.
    assert!(records(&t.update(Msg::Action(Action::StepUp), t0 + MS * 1000)).is_empty());
}

/// A history entry of the demo's first impulse that set `min_score`.
fn entry(min_score: f64, min_anomaly_score: f64) -> crate::history::Entry {
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
                },
                Change {
                    block_id: 4,
                    key: "min_anomaly_score".into(),
                    before: Number(0.3),
                    after: Number(min_anomaly_score),
                },
                Change {
                    block_id: 9,
                    key: "gone".into(),
                    before: Number(1.0),
                    after: Number(2.0),
                },
            ],
            answer: Answer::failed("x"),
            figures: Default::default(),
        },
    }
}

#[test]
fn an_earlier_set_of_values_comes_back_as_one_ordinary_edit() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    let cmds = press(&mut t, KeyCode::Char('y'), t0);
    assert_eq!(cmds, vec![Cmd::LoadHistory { at: HERE }]);
    assert_eq!(t.mode, Mode::History { selected: 0 });
    assert!(t.history().loading);
    let reading = crate::history::Reading {
        entries: vec![entry(0.8, 0.45), entry(0.7, 0.3)],
        skipped: 1,
    };
    t.update(
        Msg::HistoryLoaded {
            impulse: 1,
            result: Ok(reading),
        },
        t0 + MS,
    );
    // Newest first; a skipped line is said.
    assert_eq!(
        t.history().entries[0].call.thresholds[0].after,
        ThresholdValue::Number(0.7)
    );
    assert_eq!(t.history().skipped, 1);
    assert!(
        t.notice().unwrap().contains("1 line of the history"),
        "{:?}",
        t.notice()
    );
    press(&mut t, KeyCode::Down, t0 + 2 * MS);
    press(&mut t, KeyCode::Down, t0 + 3 * MS);
    assert_eq!(t.mode, Mode::History { selected: 1 }, "stops at the oldest");
    assert!(
        press(&mut t, KeyCode::Enter, t0 + 4 * MS).is_empty(),
        "nothing sent yet"
    );
    assert_eq!(t.mode, Mode::Normal);
    assert_eq!((number(&t, 0), number(&t, 1)), (0.8, 0.45));
    let notice = t.notice().unwrap();
    assert!(
        notice.contains("2026-11-24 09:30:00 UTC: 2 changed"),
        "{notice}"
    );
    assert!(notice.contains("9.gone: no such threshold now"), "{notice}");
    // One call after the quiet time, with both values.
    let sent = sets(&t.update(Msg::Tick, t0 + 304 * MS));
    assert_eq!(sent.len(), 1);
    assert_eq!(
        values(&sent[0].1),
        vec![(3, "min_score", 0.8), (4, "min_anomaly_score", 0.45)]
    );
}

#[test]
fn a_history_value_the_slider_refuses_is_left_out_and_said() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    press(&mut t, KeyCode::Char('y'), t0);
    t.update(
        Msg::HistoryLoaded {
            impulse: 1,
            result: Ok(crate::history::Reading {
                entries: vec![entry(7.0, 0.3)],
                skipped: 0,
            }),
        },
        t0,
    );
    press(&mut t, KeyCode::Enter, t0 + MS);
    assert_eq!(
        number(&t, 0),
        0.6,
        "min_score is a probability: 7 is refused"
    );
    assert!(
        t.notice().unwrap().contains("3.min_score: "),
        "{:?}",
        t.notice()
    );
    let failed = crate::history::Reading::default();
    press(&mut t, KeyCode::Char('y'), t0 + 2 * MS);
    t.update(
        Msg::HistoryLoaded {
            impulse: 1,
            result: Ok(failed),
        },
        t0 + 3 * MS,
    );
    assert!(press(&mut t, KeyCode::Enter, t0 + 4 * MS).is_empty());
    assert_eq!(t.mode, Mode::Normal, "Enter on an empty list closes it");
}

/// The demo's first impulse with its per-window results read.
fn previewing(t0: Instant) -> (Tuner, Arc<TestSet>) {
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

#[test]
fn the_map_moves_both_thresholds_as_ordinary_edits_sent_in_one_call() {
    let t0 = Instant::now();
    let (mut t, set) = previewing(t0);
    assert!(press(&mut t, KeyCode::Char('x'), t0).is_empty());
    assert_eq!(t.mode, Mode::Map);
    let map = t.joint().unwrap().map.clone().unwrap();
    // Every value the arrows reach: min_score in steps of 0.01, min_anomaly_score in its
    // slider's fine steps.
    assert_eq!(map.xs.len(), 101);
    let fine = t.sliders[1].scale().unwrap().fine;
    assert!(map.ys.len() >= 51, "{}", map.ys.len());
    assert!(
        map.ys
            .windows(2)
            .all(|w| ((w[1] - w[0]) - fine).abs() < 1e-9)
    );
    // The map's figures are the preview's at each point.
    let (j, k) = (37, 64);
    let there = set.evaluate(&crate::metrics::Thresholds {
        min_score: map.xs[j],
        min_anomaly_score: map.ys[k],
        ..t.displayed_thresholds()
    });
    assert_eq!(map.score[map.at(j, k)], t.map_objective().score(&there));
    // Arrows: across moves min_score, up moves min_anomaly_score.
    press(&mut t, KeyCode::Right, t0 + MS);
    press(&mut t, KeyCode::Up, t0 + 2 * MS);
    assert_eq!(number(&t, 0), 0.61);
    let step = t.sliders[1].scale().unwrap().fine;
    assert!(
        (number(&t, 1) - (0.3 + step)).abs() < 1e-9,
        "{}",
        number(&t, 1)
    );
    // A click on a point moves both there; one call carries both after the quiet time.
    t.update(Msg::Pointer(Pointer::MapPoint { j, k }), t0 + 3 * MS);
    assert_eq!((number(&t, 0), number(&t, 1)), (map.xs[j], map.ys[k]));
    // The arrows land on the map's points.
    press(&mut t, KeyCode::Up, t0 + 4 * MS);
    assert_eq!(number(&t, 1), map.ys[k + 1]);
    press(&mut t, KeyCode::Down, t0 + 5 * MS);
    assert!(sets(&t.update(Msg::Tick, t0 + 300 * MS)).is_empty());
    let sent = sets(&t.update(Msg::Tick, t0 + 305 * MS));
    assert_eq!(sent.len(), 1);
    assert_eq!(values(&sent[0].1).len(), 2);
    // Moving the point does not recompute the map.
    assert!(Arc::ptr_eq(&map, t.joint().unwrap().map.as_ref().unwrap()));
}

#[test]
fn o_on_the_map_goes_to_the_best_point_and_the_front_figures_can_be_chosen() {
    let t0 = Instant::now();
    let (mut t, _) = previewing(t0);
    press(&mut t, KeyCode::Char('x'), t0);
    let map = t.joint().unwrap().map.clone().unwrap();
    let (j, k) = t.joint().unwrap().optimum.unwrap();
    press(&mut t, KeyCode::Char('o'), t0 + MS);
    assert_eq!((number(&t, 0), number(&t, 1)), (map.xs[j], map.ys[k]));
    let best = map.score[map.at(j, k)].unwrap();
    assert!(map.score.iter().flatten().all(|&s| s <= best));
    press(&mut t, KeyCode::Char('o'), t0 + 2 * MS);
    assert!(t.notice().unwrap().starts_with("already at the best point"));
    // u takes both back.
    press(&mut t, KeyCode::Char('u'), t0 + 3 * MS);
    assert_eq!((number(&t, 0), number(&t, 1)), (0.6, 0.3));
    // a and b choose the front's figures; the map follows.
    let before = t.joint().unwrap().pair;
    press(&mut t, KeyCode::Char('a'), t0 + 4 * MS);
    let after = t.joint().unwrap().pair;
    assert_ne!(before[0], after[0]);
    assert_eq!(before[1], after[1]);
    assert!(!Arc::ptr_eq(&map, t.joint().unwrap().map.as_ref().unwrap()));
    assert!(t.notice().unwrap().starts_with("Pareto front: "));
    // O changes the objective and so the map.
    let objective = t.map_objective();
    press(&mut t, KeyCode::Char('O'), t0 + 5 * MS);
    assert_ne!(t.map_objective(), objective);
    press(&mut t, KeyCode::Esc, t0 + 6 * MS);
    assert_eq!(t.mode, Mode::Normal);
}

#[test]
fn the_map_says_why_when_the_impulse_cannot_have_one() {
    let t0 = Instant::now();
    // Results not read yet.
    let mut t = reading_tuner(t0);
    press(&mut t, KeyCode::Char('x'), t0);
    assert_eq!(t.mode, Mode::Normal);
    assert_eq!(t.notice(), Some("the results are still loading"));
    // An impulse without both thresholds (the demo's visual anomaly impulse).
    let mut t = tuner(t0);
    t.update(load_done(Ok(loaded(2))), t0);
    press(&mut t, KeyCode::Char('x'), t0);
    assert_eq!(t.mode, Mode::Normal);
    assert!(
        t.notice()
            .unwrap()
            .ends_with("this impulse has no min_score of a classifier"),
        "{:?}",
        t.notice()
    );
}

/// Values near the ends of the doubles, brought back from a hand-edited history, stretch
/// the range past every number: nothing that is not a finite number is ever sent, and the
/// map says it cannot be drawn rather than drawing NaN.
#[test]
fn no_value_that_is_not_a_finite_number_is_ever_sent() {
    let t0 = Instant::now();
    let (mut t, _) = previewing(t0);
    for (n, extreme) in [-1e308, 1.7e308].into_iter().enumerate() {
        press(&mut t, KeyCode::Char('y'), t0);
        t.update(
            Msg::HistoryLoaded {
                impulse: 1,
                result: Ok(crate::history::Reading {
                    entries: vec![entry(0.6, extreme)],
                    skipped: 0,
                }),
            },
            t0,
        );
        press(&mut t, KeyCode::Enter, t0 + (n as u32 + 1) * MS);
    }
    let mut sent = Vec::new();
    press(&mut t, KeyCode::Char('x'), t0 + 3 * MS);
    for key in ['o', 'k', 'K', 'u'] {
        sent.extend(sets(&press(&mut t, KeyCode::Char(key), t0 + 4 * MS)));
    }
    sent.extend(sets(&t.update(Msg::Tick, t0 + 400 * MS)));
    assert!(!sent.is_empty());
    for (_, request) in &sent {
        for u in &request.thresholds {
            assert!(
                u.value.as_number().is_none_or(f64::is_finite),
                "{request:?}"
            );
        }
    }
    for s in &t.sliders {
        assert!(s.value.as_number().is_none_or(f64::is_finite));
    }
}

#[test]
fn the_wheel_never_closes_the_editor_or_a_list() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    press(&mut t, KeyCode::Char('e'), t0);
    press(&mut t, KeyCode::Char('7'), t0);
    let typed = t.mode.clone();
    t.update(
        Msg::Pointer(Pointer::Wheel {
            slider: 0,
            up: true,
        }),
        t0 + MS,
    );
    assert_eq!(t.mode, typed, "what was typed stays");
    assert_eq!(number(&t, 0), 0.6);
    // A click elsewhere still closes it.
    t.update(
        Msg::Pointer(Pointer::Press {
            slider: 1,
            fraction: None,
        }),
        t0 + 2 * MS,
    );
    assert_eq!(t.mode, Mode::Normal);
}

#[test]
fn a_save_waits_for_the_scores_being_read_then_goes() {
    let t0 = Instant::now();
    let mut t = reading_tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    // The quiet time is over, but the scores are still being read: a save now could make
    // Studio stop serving them.
    assert!(sets(&t.update(Msg::Tick, t0 + 300 * MS)).is_empty());
    assert!(t.save.held_for_scores());
    assert_eq!(t.sync_label(&t.sliders[0]), "waiting for the scores");
    assert_eq!(
        t.next_deadline(),
        Some(t0 + 300 * MS + TunerConfig::default().scores_hold)
    );
    // Another edit meanwhile: its own quiet time still counts once the scores are in.
    t.update(Msg::Action(Action::StepUp), t0 + 500 * MS);
    let set = demo_impulses().unwrap()[0].test_set.clone().unwrap();
    t.update(
        Msg::TestSetLoaded {
            impulse: 1,
            result: Ok(fresh(set)),
        },
        t0 + 600 * MS,
    );
    assert!(sets(&t.update(Msg::Tick, t0 + 600 * MS)).is_empty());
    let sent = sets(&t.update(Msg::Tick, t0 + 800 * MS));
    assert_eq!(values(&sent[0].1), vec![(3, "min_score", 0.62)]);
    // With scores ready, later saves do not wait.
    t.update(Msg::Action(Action::StepUp), t0 + 900 * MS);
    answer(
        &mut t,
        sent[0].0,
        ok(RegenerateStatus::RequiresJob),
        t0 + 950 * MS,
    );
    assert_eq!(sets(&t.update(Msg::Tick, t0 + 1200 * MS)).len(), 1);
}

#[test]
fn a_save_waits_for_the_scores_at_most_its_bound_and_never_at_quit() {
    let t0 = Instant::now();
    let hold = TunerConfig::default().scores_hold;
    let mut t = reading_tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    assert!(sets(&t.update(Msg::Tick, t0 + 300 * MS)).is_empty());
    // A read that never ends does not keep the values from Studio.
    let sent = sets(&t.update(Msg::Tick, t0 + 300 * MS + hold));
    assert_eq!(values(&sent[0].1), vec![(3, "min_score", 0.61)]);

    let mut t = reading_tuner(t0);
    t.update(Msg::Action(Action::StepUp), t0);
    assert!(sets(&t.update(Msg::Tick, t0 + 300 * MS)).is_empty());
    let sent = sets(&t.update(Msg::Action(Action::Quit), t0 + 400 * MS));
    assert_eq!(
        values(&sent[0].1),
        vec![(3, "min_score", 0.61)],
        "quit saves now"
    );
}

#[test]
fn kept_scores_keep_the_preview_with_saved_figures_computed_from_them() {
    let t0 = Instant::now();
    let mut t = reading_tuner(t0);
    // Studio's results went stale (a save elsewhere): the summary says so.
    let mut stale = current_summary();
    stale.no_results_because_thresholds_changed = Some(StaleReason::CanRegenerateModelSummary);
    t.update(
        Msg::ResultsLoaded {
            impulse: 1,
            result: Ok(stale),
        },
        t0,
    );
    let set = demo_impulses().unwrap()[0].test_set.clone().unwrap();
    let read_at = std::time::UNIX_EPOCH + Duration::from_secs(1_765_000_000);
    t.update(
        Msg::TestSetLoaded {
            impulse: 1,
            result: Ok(Scores {
                set: Arc::clone(&set),
                from: ScoresFrom::Kept { read_at },
            }),
        },
        t0,
    );
    assert_eq!(t.preview.scores_from, Some(ScoresFrom::Kept { read_at }));
    assert!(t.saved_from_scores());
    // The saved column is what the scores give at the saved thresholds, and follows them.
    let at = |min_score: f64| {
        set.evaluate(&crate::metrics::Thresholds {
            min_score,
            ..crate::metrics::Thresholds::default()
        })
    };
    assert_eq!(t.preview.saved, Some(at(0.6)));
    t.update(Msg::Action(Action::StepUp), t0);
    assert_eq!(t.preview.displayed, Some(at(0.61)));
    let id = sets(&t.update(Msg::Tick, t0 + 300 * MS))[0].0;
    answer(&mut t, id, ok(RegenerateStatus::RequiresJob), t0 + 320 * MS);
    assert_eq!(t.preview.saved, Some(at(0.61)));
    // Studio's own results come back (regenerated, then read again with r): they are the
    // saved column again.
    t.update(Msg::Action(Action::Reload), t0 + 400 * MS);
    t.update(
        Msg::ResultsLoaded {
            impulse: 1,
            result: Ok(current_summary()),
        },
        t0 + 400 * MS,
    );
    t.update(
        Msg::TestSetLoaded {
            impulse: 1,
            result: Ok(fresh(set)),
        },
        t0 + 400 * MS,
    );
    assert!(t.preview.scores_from.is_some_and(|f| !f.is_kept()));
    assert!(!t.saved_from_scores());
}

#[test]
fn g_on_stale_object_detection_skips_feature_generation() {
    let t0 = Instant::now();
    let (mut t, _) = Tuner::new(TunerConfig::default(), "h", None, None, t0);
    t.update(load_done(Ok(loaded(3))), t0);
    no_scores(&mut t, 4, t0);
    t.update(Msg::Action(Action::StepUp), t0);
    let id = sets(&t.update(Msg::Tick, t0 + 300 * MS))[0].0;
    answer(
        &mut t,
        id,
        ok(RegenerateStatus::NotRegenerated),
        t0 + 320 * MS,
    );
    assert!(t.metrics.stale.is_some());
    let cmds = t.update(Msg::Action(Action::Regenerate), t0 + 400 * MS);
    assert!(
        matches!(
            cmds[..],
            [Cmd::StartRegeneration {
                full_run: true,
                skip_features: true,
                ..
            }]
        ),
        "{cmds:?}"
    );
}
