//! The history of calls and the map of both thresholds.

use super::*;

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

    // A failed call is written down too, with the value it asked for beside the one
    // Studio still holds.
    t.update(Msg::Action(Action::StepUp), t0 + 500 * MS);
    let (id, _) = sets(&t.update(Msg::Tick, t0 + 800 * MS))[0].clone();
    let recorded = records(&answer(&mut t, id, rejected(), t0 + 900 * MS));
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].changes(), ["3.min_score 0.61 → 0.62"]);
    let change = &recorded[0].thresholds[0];
    assert_eq!(
        change.after,
        ThresholdValue::Number(0.61),
        "what Studio holds"
    );
    assert_eq!(change.sent, Some(ThresholdValue::Number(0.62)));
    assert!(!recorded[0].answer.saved);
    // Edits alone are not calls.
    assert!(records(&t.update(Msg::Action(Action::StepUp), t0 + MS * 1000)).is_empty());
}

#[test]
fn an_earlier_set_of_values_comes_back_as_one_ordinary_edit() {
    let t0 = Instant::now();
    let mut t = tuner(t0);
    let cmds = press(&mut t, KeyCode::Char('y'), t0);
    assert_eq!(cmds, vec![Cmd::LoadHistory { at: HERE }]);
    assert_eq!(t.mode, Mode::History { selected: 0 });
    assert!(t.history().loading());
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
        t.history().entries()[0].call.thresholds[0].after,
        ThresholdValue::Number(0.7)
    );
    assert_eq!(t.history().skipped(), 1);
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

#[test]
fn the_map_moves_both_thresholds_as_ordinary_edits_sent_in_one_call() {
    let t0 = Instant::now();
    let (mut t, set) = previewing(t0);
    assert!(press(&mut t, KeyCode::Char('x'), t0).is_empty());
    assert_eq!(t.mode, Mode::Map);
    let map = t.joint().unwrap().map().cloned().unwrap();
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
    assert!(Arc::ptr_eq(&map, t.joint().unwrap().map().unwrap()));
}

#[test]
fn o_on_the_map_goes_to_the_best_point_and_the_front_figures_can_be_chosen() {
    let t0 = Instant::now();
    let (mut t, _) = previewing(t0);
    press(&mut t, KeyCode::Char('x'), t0);
    let map = t.joint().unwrap().map().cloned().unwrap();
    let (j, k) = t.joint().unwrap().optimum().unwrap();
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
    let before = t.joint().unwrap().pair();
    press(&mut t, KeyCode::Char('a'), t0 + 4 * MS);
    let after = t.joint().unwrap().pair();
    assert_ne!(before[0], after[0]);
    assert_eq!(before[1], after[1]);
    assert!(!Arc::ptr_eq(&map, t.joint().unwrap().map().unwrap()));
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

/// Figures from cached scores that Studio has not confirmed are not written down as fact;
/// once a read confirms them, they are.
#[test]
fn figures_from_unconfirmed_cached_scores_are_not_written_down() {
    let t0 = Instant::now();
    let mut t = reading_tuner(t0);
    let set = demo_impulses().unwrap()[0].test_set.clone().unwrap();
    let cached = Msg::TestSetCached {
        impulse: 1,
        set: set.clone(),
    };
    t.update(cached, t0);
    assert!(t.preview.is_cached());
    let call = |t: &mut Tuner, at: Duration| {
        t.update(Msg::Action(Action::StepUp), t0 + at);
        let (id, _) = sets(&t.update(Msg::Tick, t0 + at + 300 * MS))[0].clone();
        let done = ok(RegenerateStatus::Regenerated);
        records(&answer(t, id, done, t0 + at + 400 * MS)).remove(0)
    };
    assert!(
        call(&mut t, Duration::ZERO).figures.is_empty(),
        "not confirmed"
    );
    let confirmed = Msg::TestSetLoaded {
        impulse: 1,
        result: Ok(fresh(set)),
    };
    t.update(confirmed, t0 + 500 * MS);
    assert!(!t.preview.is_cached());
    let figures = call(&mut t, 600 * MS).figures;
    assert!(figures.contains_key("accuracy"), "{figures:?}");
}
