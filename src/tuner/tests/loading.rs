//! Opening impulses and reading their results and scores.

use super::*;

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
    assert_eq!(t.preview.source(), &PreviewSource::Ready(set.clone()));
    assert_eq!(
        t.preview.displayed().cloned(),
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
    assert!(t.preview.is_cached());
    t.update(
        Msg::TestSetLoaded {
            impulse: 1,
            result: Ok(fresh(truth.clone())),
        },
        t0,
    );
    assert!(!t.preview.is_cached());
    assert_eq!(t.preview.source(), &PreviewSource::Ready(truth));
    assert!(
        t.notice()
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
    assert!(t.preview.is_cached() && t.preview.reading().is_none());
    let cmds = t.update(Msg::Action(Action::Reload), t0);
    assert!(
        cmds.iter().any(|c| matches!(c, Cmd::LoadTestSet { .. })),
        "{cmds:?}"
    );
    assert_eq!(t.preview.reading(), Some((0, 0)));
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
