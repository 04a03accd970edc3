//! Values that must never leave; saves that wait for the scores being read.

use super::*;

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
    assert_eq!(t.preview.scores_from(), Some(ScoresFrom::Kept { read_at }));
    assert!(t.saved_from_scores());
    // The saved column is what the scores give at the saved thresholds, and follows them.
    let at = |min_score: f64| {
        set.evaluate(&crate::metrics::Thresholds {
            min_score,
            ..crate::metrics::Thresholds::default()
        })
    };
    assert_eq!(t.preview.saved(), Some(&at(0.6)));
    t.update(Msg::Action(Action::StepUp), t0);
    assert_eq!(t.preview.displayed(), Some(&at(0.61)));
    let id = sets(&t.update(Msg::Tick, t0 + 300 * MS))[0].0;
    answer(&mut t, id, ok(RegenerateStatus::RequiresJob), t0 + 320 * MS);
    assert_eq!(t.preview.saved(), Some(&at(0.61)));
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
    assert!(t.preview.scores_from().is_some_and(|f| !f.is_kept()));
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
