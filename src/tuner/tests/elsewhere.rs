//! The exit report, scores kept or dropped, values changed elsewhere.

use super::*;

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
        assert!(matches!(t.preview.source(), PreviewSource::Unavailable(_)));
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
    assert_eq!(t.preview.source(), &PreviewSource::Ready(set));
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
    assert!(matches!(t.preview.source(), PreviewSource::Unavailable(_)));
    assert_eq!(t.preview.displayed(), None);
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
            .displayed()
            .unwrap()
            .cost_per_window(&costs)
            .unwrap()
    };
    let before = cost(&t);
    for select in [Action::SelectPrevious, Action::SelectNext] {
        t.update(Msg::Action(select), t0);
        t.update(Msg::Action(Action::Optimize), t0);
        let sweep = t.preview.sweep().cloned().unwrap();
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
    assert!(t.feedback.notice().is_none(), "{:?}", t.feedback.notice());
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
