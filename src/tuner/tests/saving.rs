//! Sending: quiet time, follow-ups, retries, jobs that block, lost answers.

use super::*;

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
    assert!(matches!(
        t.feedback.status()[0].outcome,
        StatusOutcome::Failed(_)
    ));
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
    assert!(t.feedback.status()[0].outcome != StatusOutcome::Pending);
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
    assert!(t.feedback.notice().unwrap_or("").contains("did not say"));
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
    assert!(t.notice().unwrap_or("").contains("stopped waiting"));
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
    // The history says the outcome is unknown, not that the call failed.
    let [lost] = &records(&cmds)[..] else {
        panic!("one entry: {cmds:?}");
    };
    assert!(!lost.answer.saved);
    assert!(
        lost.answer.summary().starts_with("outcome unknown"),
        "{lost:?}"
    );
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
    // And once read back, a second entry says it was applied, with what changed.
    let [found] = &records(&cmds)[..] else {
        panic!("one entry: {cmds:?}");
    };
    assert!(found.answer.saved, "{found:?}");
    let changes = found.changes();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!(
        changes[0].contains("0.6") && changes[0].contains("0.61"),
        "{changes:?}"
    );
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
