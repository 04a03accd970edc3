//! The preview, cancelled reads, snapshots and read-backs.

use super::*;

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
    assert_eq!(t.preview.displayed(), Some(&at(0.6)));
    t.update(Msg::Action(Action::StepUp), t0);
    assert_eq!(
        t.preview.displayed().cloned(),
        Some(at(0.61)),
        "recomputed before anything is sent"
    );
    let sweep = t.preview.sweep().cloned().unwrap();
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
    let objective = |t: &Tuner| t.preview.sweep().unwrap().objective;
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
    assert_eq!(objective(&t), Objective::BalancedAccuracy);
    // Each threshold keeps its own: the anomaly threshold's choice is still in force.
    t.update(Msg::Action(Action::SelectNext), t0);
    assert!(matches!(objective(&t), Objective::FewestMissed { .. }));
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
    assert_eq!(t.preview.saved(), None);
    t.update(
        Msg::TestSetLoaded {
            impulse: 1,
            result: Ok(fresh(set.clone())),
        },
        t0,
    );
    assert_eq!(t.preview.saved().cloned(), saved_at(0.6));
    // Edits move the preview, not the server's figures.
    t.update(Msg::Action(Action::StepUp), t0);
    assert_eq!(t.preview.saved().cloned(), saved_at(0.6));
    assert_ne!(t.preview.displayed(), t.preview.saved());
    // A new summary does.
    t.update(
        Msg::ResultsLoaded {
            impulse: 1,
            result: Ok(summary(0.61)),
        },
        t0,
    );
    assert_eq!(t.preview.saved().cloned(), saved_at(0.61));
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
    let answered = |load, result| Msg::Loaded { load, result };
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
    t.update(answered(read_back, Err(failed)), t0 + 2200 * MS);
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
    t.update(answered(reload_id, Ok(loaded(0))), wake);
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
    t.update(answered(last.expect("a last read-back"), Ok(studio)), late);
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
        t.notice()
            .unwrap_or("")
            .contains("4.min_anomaly_score is now 0.45")
    );
}
