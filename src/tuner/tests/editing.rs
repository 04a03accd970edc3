//! Statuses, quitting, typed values, options and the pointer.

use super::*;

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
    assert_eq!(t.feedback.status()[0].latency, Some(40 * MS));
    let cmds = t.update(Msg::Action(Action::Regenerate), t0 + 400 * MS);
    assert_eq!(
        cmds,
        vec![Cmd::StartRegeneration {
            at: HERE,
            full_run: false,
            skip_features: false,
        }]
    );
    let started = Msg::RegenerationStarted {
        impulse: 1,
        result: Ok(7),
    };
    let cmds = t.update(started, t0 + 410 * MS);
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
    let job = |finished: bool| job(7, finished, finished.then_some(true));
    let polled = |finished| Msg::JobPolled {
        job_id: 7,
        result: Ok(job(finished)),
    };
    let cmds = t.update(polled(false), t0 + 900 * MS);
    assert!(matches!(cmds[..], [Cmd::PollJob { job_id: 7, .. }]));
    assert_eq!(t.job.as_ref().unwrap().state(), "running");
    let cmds = t.update(polled(true), t0 + 1400 * MS);
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
    assert!(t.feedback.notice().unwrap().starts_with("saving"));
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
