//! Every screen of the tuner, rendered by the real views on ratatui's TestBackend and kept
//! as insta snapshots. The states are reached through the tuner's own `update`.

#[path = "common/session.rs"]
mod session;

use std::time::Instant;

use crossterm::event::{KeyCode, KeyModifiers};
use ei_tune::api::ApiError;
use ei_tune::api::models::*;
use ei_tune::metrics::Thresholds;
use ei_tune::studio::demo::demo_impulses;
use ei_tune::tuner::{Action, Msg, Tuner, TunerConfig};
use ei_tune::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use session::{Session, fresh, loaded, summary};

fn status(
    regenerated: RegenerateStatus,
    had: bool,
    job: Option<u64>,
) -> Result<SetImpulseThresholdsResponse, ApiError> {
    Ok(SetImpulseThresholdsResponse {
        success: true,
        error: None,
        had_model_testing_results: had,
        regenerate_model_testing_status: regenerated,
        regenerate_model_testing_results_job_id: job,
    })
}

#[test]
fn main_screen() {
    let mut s = Session::new(0);
    s.act(Action::StepUp, 0);
    s.act(Action::StepUp, 10);
    insta::assert_snapshot!("main_100x30", s.render(100, 30));
    insta::assert_snapshot!("main_160x48", s.render(160, 48));
}

fn all_statuses() -> Session {
    let mut s = Session::new(0);
    s.save(
        Action::StepUp,
        0,
        42,
        status(RegenerateStatus::Regenerated, true, None),
    );
    s.save(
        Action::StepUp,
        1000,
        38,
        status(RegenerateStatus::NotRegenerated, false, None),
    );
    s.save(
        Action::StepUp,
        2000,
        51,
        status(RegenerateStatus::StartedJob, true, Some(17)),
    );
    // The job is no longer followed (a poll refused), so that the next call goes.
    s.tuner.update(
        Msg::JobPolled {
            job_id: 17,
            result: Err(ApiError::Refused {
                operation: "getJobStatus",
                message: "gone".into(),
            }),
        },
        s.at(2500),
    );
    s.save(
        Action::StepUp,
        3000,
        47,
        status(RegenerateStatus::RequiresJob, true, None),
    );
    s.save(
        Action::StepDown,
        4000,
        3,
        Err(ApiError::Network {
            operation: "setImpulseThresholds",
            url: "http://127.0.0.1:40321/v1/api/4242/impulse/1/set-thresholds".into(),
            reason: "connection refused".into(),
            outcome_unknown: false,
        }),
    );
    s
}

#[test]
fn status_pane_with_every_status_and_an_error() {
    let s = all_statuses();
    let screen = s.render(160, 48);
    for word in [
        "regenerated",
        "not_regenerated",
        "started_job",
        "requires_job",
        "press g",
        "failed",
    ] {
        assert!(screen.contains(word), "{word} missing from\n{screen}");
    }
    insta::assert_snapshot!("statuses_160x48", screen);
    insta::assert_snapshot!("statuses_100x30", s.render(100, 30));
}

#[test]
fn stale_metrics() {
    let mut s = Session::new(1);
    s.save(
        Action::StepUp,
        0,
        40,
        status(RegenerateStatus::RequiresJob, true, None),
    );
    let screen = s.render(100, 30);
    assert!(screen.contains("stale"), "{screen}");
    insta::assert_snapshot!("stale_100x30", screen);
    insta::assert_snapshot!("stale_160x48", s.render(160, 48));
}

#[test]
fn help_overlay() {
    let mut s = Session::new(0);
    s.act(Action::Help, 0);
    insta::assert_snapshot!("help_100x30", s.render(100, 30));
    insta::assert_snapshot!("help_160x48", s.render(160, 48));
}

#[test]
fn impulse_picker() {
    let mut s = Session::new(0);
    s.act(Action::ImpulsePicker, 0);
    s.key(KeyCode::Down, 1);
    s.key(KeyCode::Down, 2);
    insta::assert_snapshot!("picker_100x30", s.render(100, 30));
    insta::assert_snapshot!("picker_160x48", s.render(160, 48));
}

/// A history entry of the demo's first impulse.
fn history_entry(
    time: &str,
    by: &str,
    (before, after): (f64, f64),
    answer: ei_tune::history::Answer,
    figures: &[(&str, f64)],
) -> ei_tune::history::Entry {
    use ei_tune::history::{Call, Change, Entry};
    Entry {
        time: time.into(),
        origin: "http://127.0.0.1:40321".into(),
        call: Call {
            project: 4242,
            impulse: 1,
            impulse_name: "Digits: classifier + anomaly".into(),
            by: by.into(),
            thresholds: vec![
                Change {
                    block_id: 3,
                    key: "min_score".into(),
                    before: ThresholdValue::Number(before),
                    after: ThresholdValue::Number(after),
                    sent: None,
                },
                Change {
                    block_id: 4,
                    key: "min_anomaly_score".into(),
                    before: ThresholdValue::Number(0.3),
                    after: ThresholdValue::Number(0.3),
                    sent: None,
                },
            ],
            answer,
            figures: figures.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        },
    }
}

#[test]
fn history_view_lists_calls_newest_first_with_the_selected_ones_values() {
    use ei_tune::history::{Answer, Reading};
    let saved = |status: &str| Answer {
        saved: true,
        regenerate_model_testing_status: Some(status.into()),
        error: None,
        unknown: false,
    };
    let entries = vec![
        history_entry(
            "2026-11-24T09:30:00Z",
            "set",
            (0.6, 0.75),
            saved("regenerated"),
            &[("accuracy", 0.9125), ("uncertain", 0.05)],
        ),
        history_entry(
            "2026-11-24T09:41:12Z",
            "tuner",
            (0.75, 0.82),
            Answer::failed("HTTP 503"),
            &[],
        ),
        history_entry(
            "2026-11-28T16:02:47Z",
            "suggest",
            (0.75, 0.64),
            saved("regenerated"),
            &[
                ("accuracy", 0.94),
                ("balanced-accuracy", 0.931),
                ("macro-f1", 0.925),
            ],
        ),
    ];
    let mut s = Session::new(0);
    s.act(Action::History, 0);
    insta::assert_snapshot!("history_reading_100x30", s.render(100, 30));
    s.tuner.update(
        Msg::HistoryLoaded {
            impulse: 1,
            result: Ok(Reading {
                entries,
                skipped: 1,
            }),
        },
        s.at(1),
    );
    s.key(KeyCode::Down, 2);
    s.key(KeyCode::Down, 3);
    insta::assert_snapshot!("history_100x30", s.render(100, 30));
    insta::assert_snapshot!("history_160x48", s.render(160, 48));
}

/// Anomaly scores near the largest single-precision number: the map's axis labels stay
/// in their columns (39 digits once pushed the row aside).
#[test]
fn far_off_anomaly_scores_keep_the_map_in_place() {
    use ei_tune::metrics::AnomalyScores;
    let mut s = Session::new(0);
    let mut set = (*demo_impulses().unwrap()[0].test_set.clone().unwrap()).clone();
    if let AnomalyScores::Single(scores) = &mut set.anomaly {
        scores.iter_mut().for_each(|a| *a = (*a - 0.3) * 3e38);
    }
    let id = s.tuner.impulse().unwrap().id;
    let result = Ok(fresh(std::sync::Arc::new(set)));
    s.tuner.update(
        Msg::TestSetLoaded {
            impulse: id,
            result,
        },
        s.at(1),
    );
    s.act(Action::Map, 2);
    let screen = s.render(100, 30);
    let longest_number = screen
        .split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert!(longest_number < 10, "{screen}");
    assert!(screen.contains("e38"), "{screen}");
    let cells = ui::map::cells(ratatui::layout::Rect::new(0, 0, 100, 30));
    for line in screen
        .lines()
        .skip(usize::from(cells.y))
        .take(usize::from(cells.height))
    {
        let left: String = line.chars().take(usize::from(cells.x)).collect();
        assert!(left.chars().count() == usize::from(cells.x), "{line}");
    }
}

#[test]
fn joint_map_with_its_points_front_and_scale() {
    let mut s = Session::new(0);
    s.act(Action::Map, 0);
    for ms in 1..=3 {
        s.key(KeyCode::Right, ms);
    }
    s.key(KeyCode::Char('K'), 4);
    insta::assert_snapshot!("map_160x48", s.render(160, 48));
    insta::assert_snapshot!("map_100x30", s.render(100, 30));
    // Without colour every point is a shade: the scale still reads.
    let plain = s.render_with(100, 30, &Theme::monochrome());
    insta::assert_snapshot!("map_no_color_100x30", plain.to_string());
    let shades: std::collections::BTreeSet<String> = plain
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol().to_string())
        .filter(|s| ["░", "▒", "▓", "█"].contains(&s.as_str()))
        .collect();
    assert!(shades.len() >= 3, "{shades:?}");
    // With colour, two points a cell, in the palette's colours.
    let coloured = s.render_with(160, 48, &Theme::color());
    let cells = ui::map::cells(ratatui::layout::Rect::new(0, 0, 160, 48));
    let mut colours = std::collections::BTreeSet::new();
    for y in cells.y..cells.y + cells.height {
        for x in cells.x..cells.x + cells.width {
            let cell = &coloured.buffer()[(x, y)];
            colours.insert(format!("{:?}", cell.fg));
            colours.insert(format!("{:?}", cell.bg));
        }
    }
    assert!(colours.len() >= 6, "{colours:?}");
    // However small the terminal, the map draws within it.
    for (w, h) in [(160, 3), (160, 2), (20, 5), (10, 2), (1, 1), (60, 8)] {
        s.render(w, h);
    }
    assert!(cells.width >= 51 && cells.height * 2 >= 51, "{cells:?}");
}

#[test]
fn value_entry_with_an_error() {
    let mut s = Session::new(0);
    s.act(Action::EditValue, 0);
    for _ in 0..4 {
        s.key(KeyCode::Backspace, 1);
    }
    for c in "1.7".chars() {
        s.key(KeyCode::Char(c), 2);
    }
    s.key(KeyCode::Enter, 3);
    let screen = s.render(100, 30);
    assert!(screen.contains("0.00 to 1.00"), "{screen}");
    insta::assert_snapshot!("entry_error_100x30", screen);
    insta::assert_snapshot!("entry_error_160x48", s.render(160, 48));
}

#[test]
fn dropdown_and_visual_anomaly() {
    let mut s = Session::new(2);
    s.act(Action::SelectNext, 0);
    insta::assert_snapshot!("dropdown_100x30", s.render(100, 30));
    insta::assert_snapshot!("dropdown_160x48", s.render(160, 48));
    // Each option is judged at the anomaly threshold's best value for it: mean, whose
    // scores are lower, does better once the threshold follows.
    let swept = s.tuner.preview().option_sweep().unwrap();
    let best = &swept.points[swept.best.unwrap()];
    assert_eq!(best.value, "mean");
    let (threshold, _) = best.best_with.unwrap();
    s.act(Action::Optimize, 2);
    let values: Vec<String> = s
        .tuner
        .sliders()
        .iter()
        .map(|s| s.value.to_string())
        .collect();
    assert_eq!(
        values,
        [threshold.to_string(), "mean".into()],
        "o moves both, as one edit"
    );
    s.act(Action::Optimize, 3);
    assert!(
        s.tuner
            .notice()
            .is_some_and(|n| n.contains("already at the best option")),
        "{:?}",
        s.tuner.notice()
    );
    // Its objective cycles as the anomaly threshold's does, and only its own.
    s.act(Action::CycleObjective, 4);
    let objective = s.tuner.preview().option_sweep().map(|o| o.objective.name());
    assert!(
        objective.is_some_and(|o| o.starts_with("fewest missed anomalies")),
        "the anomaly threshold's next objective"
    );
    // Cut to fit at 100 columns, its title still says how to change it.
    let screen = s.render(100, 30);
    assert!(
        screen.contains("┌ fewest missed anomalies, false al… (O) ┐"),
        "{screen}"
    );
    s.act(Action::SelectPrevious, 5);
    let anomaly = s
        .tuner
        .preview()
        .sweep()
        .map(|sweep| sweep.objective.name());
    assert_eq!(anomaly.as_deref(), Some("balanced anomaly detection"));
}

#[test]
fn preview_sweep_and_optimum() {
    let mut s = Session::new(0);
    s.act(Action::SelectNext, 0);
    // From the anomaly threshold's default (balanced anomaly detection) to the next.
    s.act(Action::CycleObjective, 1);
    s.act(Action::Optimize, 3);
    let screen = s.render(160, 48);
    assert!(screen.contains("fewest missed anomalies"), "{screen}");
    assert!(screen.contains("preview"), "{screen}");
    insta::assert_snapshot!("preview_160x48", screen);
    insta::assert_snapshot!("preview_100x30", s.render(100, 30));
}

#[test]
fn preview_loading_and_unavailable() {
    let mut s = Session::new(4);
    let screen = s.render(100, 30);
    assert!(
        screen.contains("preview: no model testing results to") && screen.contains("regenerated)"),
        "wrapped, not cut: {screen}"
    );
    insta::assert_snapshot!("no_preview_100x30", screen);
    s.tuner.update(Msg::Action(Action::Optimize), s.at(5));
    assert!(s.tuner.notice().unwrap().contains("no preview"));
    let (mut tuner, _) = Tuner::new(
        TunerConfig::default(),
        "http://127.0.0.1:40321/v1",
        None,
        None,
        s.t0,
    );
    tuner.update(
        Msg::Loaded {
            load: 0,
            result: Ok(loaded(1)),
        },
        s.t0,
    );
    tuner.update(
        Msg::TestSetProgress {
            impulse: 2,
            loaded: 1500,
            total: 24000,
        },
        s.t0,
    );
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    terminal
        .draw(|f| ui::render(f, &tuner, &Theme::color()))
        .unwrap();
    let screen = terminal.backend().to_string();
    assert!(screen.contains("loading results 1500 / 24000"), "{screen}");
}

#[test]
fn object_detection_previews_and_marks_the_floor() {
    let mut s = Session::new(3);
    let screen = s.render(160, 48);
    for words in [
        "precision",
        "mAP@0.5",
        "AP@.5",
        "best F1, IoU ≥ 0.5",
        "floor",
    ] {
        assert!(screen.contains(words), "{words}: {screen}");
    }
    assert!(!screen.contains("incomplete"), "{screen}");
    insta::assert_snapshot!("detection_160x48", screen);
    // Down to 0.05, below the lowest stored score (0.1).
    s.key(KeyCode::Char('0'), 1);
    for ms in 2..7 {
        s.key(KeyCode::Right, ms);
    }
    let screen = s.render(100, 30);
    assert!(screen.contains("incomplete"), "{screen}");
    insta::assert_snapshot!("detection_below_floor_100x30", screen);
    let fomo = Session::new(5).render(100, 30);
    assert!(
        fomo.contains("best F1, centroids") && !fomo.contains("mAP"),
        "{fomo}"
    );
    insta::assert_snapshot!("fomo_100x30", fomo);
}

#[test]
fn while_detection_results_are_stale_the_saved_column_is_computed_at_the_saved_value() {
    let mut s = Session::new(3);
    s.save(
        Action::StepUp,
        10,
        5,
        status(RegenerateStatus::NotRegenerated, true, None),
    );
    let mut stale = summary(3, Thresholds::default());
    stale.no_results_because_thresholds_changed = Some(StaleReason::ShouldRerunFullJob);
    s.tuner.update(
        Msg::ResultsLoaded {
            impulse: 4,
            result: Ok(stale),
        },
        s.at(400),
    );
    s.tuner.update(Msg::Tick, s.at(401));
    let set = demo_impulses().unwrap()[3].test_set.clone().unwrap();
    let at = |min_score| {
        set.evaluate(&Thresholds {
            min_score,
            ..Thresholds::default()
        })
    };
    assert_eq!(
        s.tuner.preview().saved(),
        Some(&at(0.61)),
        "what Studio holds, 0.61, from the scores"
    );
    assert_eq!(s.tuner.preview().displayed(), Some(&at(0.61)));
    let screen = s.render(160, 48);
    assert!(
        screen.contains("saved: from the scores read") && screen.contains("press g"),
        "{screen}"
    );
}

#[test]
fn a_cached_preview_says_so_until_studio_confirms_it() {
    let t0 = Instant::now();
    let (mut tuner, _) = Tuner::new(
        TunerConfig::default(),
        "http://127.0.0.1:40321/v1",
        Some(ei_tune::studio::demo::DEMO_PROJECT_ID),
        Some(1),
        t0,
    );
    let set = demo_impulses().unwrap()[0].test_set.clone().unwrap();
    tuner.update(
        Msg::TestSetCached {
            impulse: 1,
            set: set.clone(),
        },
        t0,
    );
    tuner.update(
        Msg::Loaded {
            load: 1,
            result: Ok(loaded(0)),
        },
        t0,
    );
    tuner.update(
        Msg::TestSetProgress {
            impulse: 1,
            loaded: 300,
            total: 1200,
        },
        t0,
    );
    let render = |tuner: &Tuner| {
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
        terminal
            .draw(|f| ui::render(f, tuner, &Theme::color()))
            .unwrap();
        terminal.backend().to_string()
    };
    let screen = render(&tuner);
    assert!(
        screen.contains("preview: cached, checking 300 / 1200"),
        "{screen}"
    );
    assert!(
        screen.contains("preview"),
        "figures shown meanwhile: {screen}"
    );
    insta::assert_snapshot!("cached_preview_100x30", screen);
    tuner.update(
        Msg::TestSetLoaded {
            impulse: 1,
            result: Ok(fresh(set)),
        },
        t0,
    );
    let screen = render(&tuner);
    assert!(!screen.contains("cached"), "{screen}");
    assert_eq!(tuner.notice(), None);
}

#[test]
fn small_terminal() {
    let s = all_statuses();
    let screen = s.render(60, 20);
    assert!(screen.contains("min_score"), "{screen}");
    insta::assert_snapshot!("small_60x20", screen);
}

#[test]
fn many_thresholds_scroll_to_the_selection() {
    let mut l = loaded(0);
    // Twelve blocks of two thresholds: more than fit.
    let template = l.blocks.clone();
    l.blocks = (0..12)
        .flat_map(|n| {
            template.iter().map(move |b| {
                let mut b = b.clone();
                b.block.id += 100 * n;
                b
            })
        })
        .collect();
    let t0 = Instant::now();
    let (mut tuner, _) = Tuner::new(TunerConfig::default(), "http://h:1/v1", None, None, t0);
    tuner.update(
        Msg::Loaded {
            load: 0,
            result: Ok(l),
        },
        t0,
    );
    for _ in 0..20 {
        tuner.update(Msg::Action(Action::SelectNext), t0);
    }
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    terminal
        .draw(|f| ui::render(f, &tuner, &Theme::color()))
        .unwrap();
    let screen = terminal.backend().to_string();
    assert!(screen.contains("Thresholds 21/24"), "{screen}");
    assert!(screen.contains("▶"), "the selection is in view:\n{screen}");
    insta::assert_snapshot!("scrolled_100x30", screen);
}

#[test]
fn no_color_keeps_the_text() {
    let s = all_statuses();
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    terminal
        .draw(|f| ui::render(f, &s.tuner, &Theme::monochrome()))
        .unwrap();
    let buffer = terminal.backend().buffer().clone();
    // Text identical to the coloured screen, and not one cell with a colour.
    assert_eq!(terminal.backend().to_string(), s.render(100, 30));
    for cell in buffer.content() {
        assert_eq!(cell.fg, ratatui::style::Color::Reset, "{cell:?}");
        assert_eq!(cell.bg, ratatui::style::Color::Reset, "{cell:?}");
    }
}

#[test]
fn clicks_hit_what_was_drawn() {
    let s = Session::new(0);
    let screen = ratatui::layout::Rect::new(0, 0, 100, 30);
    // The first slider's bar is on row 4 (header, border, block title, label, bar).
    let press = ui::hit_test(&s.tuner, screen, 2 + 27, 4, false);
    match press {
        Some(ei_tune::tuner::Pointer::Press {
            slider: 0,
            fraction: Some(f),
        }) => assert!((0.45..0.55).contains(&f), "{f}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        ui::hit_test(&s.tuner, screen, 10, 6, false),
        Some(ei_tune::tuner::Pointer::Press {
            slider: 1,
            fraction: None
        })
    );
    assert_eq!(ui::hit_test(&s.tuner, screen, 80, 4, false), None);
}

/// The mouse, screen by screen: a click on a bar sets the value under it, the wheel over
/// the sliders steps the one under it, the history's wheel moves the selection, the map's
/// moves min_anomaly_score.
#[test]
fn the_mouse_means_what_the_screen_under_it_shows() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    use ei_tune::tuner::Pointer;
    use ratatui::layout::Rect;
    let screen = Rect::new(0, 0, 200, 60);
    let theme = Theme::color();
    let mouse = |kind, column, row| MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    };
    let mut s = Session::new(0);
    let inner = ratatui::widgets::Block::bordered().inner(ui::layout(screen).sliders);
    let (ui::Row::Bar(i), bar) = ui::slider_rows(&s.tuner, inner)
        .into_iter()
        .find(|(r, _)| matches!(r, ui::Row::Bar(_)))
        .unwrap()
    else {
        unreachable!()
    };
    let click = mouse(
        MouseEventKind::Down(MouseButton::Left),
        bar.x + bar.width / 2,
        bar.y,
    );
    let Some(Msg::Pointer(Pointer::Press {
        slider,
        fraction: Some(fraction),
    })) = ui::mouse::to_msg(&s.tuner, &theme, screen, click)
    else {
        panic!("a click on a bar is a press on it");
    };
    assert_eq!(slider, i);
    assert!((0.4..0.6).contains(&fraction), "{fraction}");
    let wheel = mouse(MouseEventKind::ScrollUp, bar.x + 3, bar.y);
    assert!(matches!(
        ui::mouse::to_msg(&s.tuner, &theme, screen, wheel),
        Some(Msg::Pointer(Pointer::Wheel { slider, up: true })) if slider == i
    ));
    s.key(KeyCode::Char('y'), 10);
    let down = mouse(MouseEventKind::ScrollDown, 5, 5);
    assert!(matches!(
        ui::mouse::to_msg(&s.tuner, &theme, screen, down),
        Some(Msg::Action(Action::SelectNext))
    ));
    s.key(KeyCode::Esc, 20);
    s.key(KeyCode::Char('x'), 30);
    assert!(matches!(
        ui::mouse::to_msg(&s.tuner, &theme, screen, down),
        Some(Msg::Action(Action::MapStep {
            dx: 0,
            dy: -1,
            coarse: false
        }))
    ));
}

/// An aggregation option added to Studio after this version: no figures are computed at
/// it (they would be `max`'s); the pane says why, and Studio's own saved figures stay.
#[test]
fn an_option_this_version_does_not_know_withholds_the_preview() {
    let mut impulse = loaded(2);
    let threshold = impulse
        .blocks
        .iter_mut()
        .flat_map(|b| b.thresholds.iter_mut())
        .find(|t| t.key == "anomaly_scoring_aggregation_method")
        .unwrap();
    threshold.value = ThresholdValue::Text("median".into());
    let s = Session::opened(2, impulse);
    assert_eq!(s.tuner.preview().displayed(), None);
    assert!(s.tuner.preview().sweep().is_none());
    let screen = s.render(100, 30);
    assert!(
        screen.contains("preview:") && screen.contains("`median`, which the figures cannot be"),
        "{screen}"
    );
    assert!(
        s.tuner.preview().saved().is_some(),
        "Studio's own figures stay"
    );
}
