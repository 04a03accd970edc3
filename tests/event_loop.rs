//! The real event loop against the simulator: what it asks of Studio.

mod common;

use crossterm::event::Event;
use ei_tune::app::{self, App, Input};
use ei_tune::tuner::TunerConfig;
use ei_tune::ui::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use common::{client, studio};

use common::key;

/// The real loop's fixed parts, on `client`, with the default configuration.
fn app(client: ei_tune::api::StudioClient) -> App {
    App {
        client,
        project: None,
        config: TunerConfig::default(),
        theme: Theme::monochrome(),
        suspend: None,
        cache: ei_tune::cache::ResultsCache::in_memory(),
        history: None,
    }
}

/// The project's name is read once: reloads ask for the impulse and its thresholds only.
#[tokio::test]
async fn reloads_do_not_ask_for_the_project_list_again() {
    let studio = studio().await;
    let c = client(&studio);
    let loaded = app::load(&c, None, None).await.unwrap();
    assert_eq!(loaded.project_name, "Handwritten digits (ei-tune demo)");
    assert_eq!(studio.request_count("listProjects"), 1);
    let script = vec![(0, key('r')), (300, key('r')), (300, key('q'))];
    let input = common::scripted(script);
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    let outcome = app::run(app(c), &mut terminal, input, None, Some(loaded))
        .await
        .unwrap();
    assert!(outcome.report.unsaved.is_empty());
    assert_eq!(
        studio.request_count("getKeras"),
        1 + 2,
        "each reload reads the thresholds"
    );
    assert_eq!(
        studio.request_count("listProjects"),
        1,
        "but not the project list"
    );
    let screen = format!("{:?}", terminal.backend().buffer());
    assert!(
        screen.contains("Handwritten digits"),
        "the name stays on screen"
    );
}

fn min_score(v: f64) -> ei_tune::api::models::SetImpulseThresholdsRequest {
    common::set_request(
        &[(
            3,
            "min_score",
            ei_tune::api::models::ThresholdValue::Number(v),
        )],
        false,
    )
}

/// Another writer changes a threshold while the tuner is open: the tuner's next edit of
/// it is held, shown as changed elsewhere, and sent only when the user says so.
#[tokio::test]
async fn a_value_changed_elsewhere_is_never_overwritten_unawares() {
    use ei_tune::api::models::ThresholdValue::Number;
    for (choice, expected) in [('t', 0.75), ('m', 0.61)] {
        let studio = studio().await;
        let c = client(&studio);
        let loaded = app::load(&c, None, None).await.unwrap();
        // The other writer: Studio's own page, a script, a second ei-tune.
        let other = client(&studio);
        other
            .set_thresholds(4242, 1, &min_score(0.75))
            .await
            .unwrap();
        let script = vec![(200, key('l')), (600, key(choice)), (600, key('q'))];
        let (outcome, screen) = common::run_tuner(&studio, loaded, 100, script).await;
        assert!(screen.contains("not sent: changed elsewhere"), "{screen}");
        assert!(outcome.report.unsaved.is_empty(), "{:?}", outcome.report);
        assert_eq!(
            studio.threshold(3, "min_score"),
            Some(Number(expected)),
            "after {choice}"
        );
        let calls = studio.set_threshold_calls();
        let ours = calls.len() - 1;
        assert_eq!(ours, usize::from(choice == 'm'), "{calls:?}");
    }
}

#[tokio::test]
async fn coming_back_to_the_terminal_reads_the_thresholds_again() {
    let studio = studio().await;
    let c = client(&studio);
    let loaded = app::load(&c, None, None).await.unwrap();
    let other = client(&studio);
    other
        .set_thresholds(4242, 1, &min_score(0.75))
        .await
        .unwrap();
    let script = vec![(100, Input::Terminal(Event::FocusGained)), (500, key('q'))];
    let (_, screen) = common::run_tuner(&studio, loaded, 100, script).await;
    assert!(
        screen.contains("changed elsewhere: 3.min_score is now 0.75"),
        "{screen}"
    );
    assert_eq!(
        studio.request_count("getKeras"),
        2,
        "the thresholds read once more on focus"
    );
}

/// A change elsewhere to a threshold the user is not editing shows at the next call.
#[tokio::test]
async fn a_change_elsewhere_to_another_block_shows_at_the_next_call() {
    let studio = studio().await;
    let c = client(&studio);
    let loaded = app::load(&c, None, None).await.unwrap();
    let other = client(&studio);
    let anomaly = common::set_request(
        &[(
            4,
            "min_anomaly_score",
            ei_tune::api::models::ThresholdValue::Number(0.4),
        )],
        false,
    );
    other.set_thresholds(4242, 1, &anomaly).await.unwrap();
    let script = vec![(200, key('l')), (600, key('q'))];
    let (outcome, screen) = common::run_tuner(&studio, loaded, 100, script).await;
    assert!(outcome.report.unsaved.is_empty(), "{:?}", outcome.report);
    assert!(
        screen.contains("4.min_anomaly_score is now 0.40"),
        "{screen}"
    );
}

/// The main screens as the real event loop draws them from scripted keys, against the
/// simulator over HTTP (as gitui tests its screens): the views, the loop and the client
/// together. What differs from run to run (the port, latencies, times) is masked.
#[tokio::test]
async fn the_main_screens_drawn_by_the_real_loop() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let press =
        |code: KeyCode| Input::Terminal(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    let ctrl = |c: char| {
        Input::Terminal(Event::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::CONTROL,
        )))
    };
    let screens = [
        // Two steps up, saved, the figures read again; then quit.
        (
            "loop_saved_edit",
            vec![
                (1500, press(KeyCode::Right)),
                (0, press(KeyCode::Right)),
                (1500, key('q')),
            ],
        ),
        // The value editor with a refused value; Ctrl-C quits from it.
        (
            "loop_value_editor",
            vec![
                (1500, key('e')),
                (0, ctrl('u')),
                (0, key('1')),
                (0, key('.')),
                (0, key('7')),
                (0, press(KeyCode::Enter)),
                (300, ctrl('c')),
            ],
        ),
        ("loop_help", vec![(1500, key('?')), (300, ctrl('c'))]),
    ];
    for (name, script) in screens {
        let studio = studio().await;
        let c = client(&studio);
        let loaded = app::load(&c, None, None).await.unwrap();
        let mut terminal = Terminal::new(TestBackend::new(120, 36)).unwrap();
        let outcome = app::run(
            app(c),
            &mut terminal,
            common::scripted(script),
            None,
            Some(loaded),
        )
        .await
        .unwrap();
        assert!(
            outcome.report.unsaved.is_empty(),
            "{name}: {:?}",
            outcome.report
        );
        let screen = terminal.backend().to_string();
        insta::with_settings!({filters => vec![
            (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
            // A latency's width moves the padding after it.
            (r#"(?m)<?\d+ ms (.*?) *│"$"#, r#"N ms $1 │""#),
            (r"\d\d:\d\d\.\d", "MM:SS.s"),
        ]}, {
            insta::assert_snapshot!(name, screen);
        });
    }
}

/// A call `set` wrote down for impulse 1: both thresholds, its answer lost.
fn earlier_call() -> ei_tune::history::Call {
    use ei_tune::api::models::ThresholdValue::Number;
    use ei_tune::history::{Answer, Call, Change};
    let change = |block_id, key: &str, before, after| Change {
        block_id,
        key: key.into(),
        before: Number(before),
        after: Number(after),
        sent: None,
    };
    Call {
        project: 4242,
        impulse: 1,
        impulse_name: "earlier".into(),
        by: "set".into(),
        thresholds: vec![
            change(3, "min_score", 0.6, 0.8),
            change(4, "min_anomaly_score", 0.3, 0.45),
        ],
        answer: Answer::failed("not really"),
        figures: Default::default(),
    }
}

/// The history through the real loop: an earlier set of values, written by a command,
/// comes back from the history view as one call, which is written down in turn.
#[tokio::test]
async fn an_earlier_set_of_values_comes_back_from_the_history_and_is_written_down() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ei_tune::api::models::ThresholdValue::Number;
    use ei_tune::history::{History, Recorder};
    let studio = studio().await;
    let c = client(&studio);
    let recorder = Recorder::for_api(
        History::in_dir(common::scratch_dir("state")),
        &studio.base_url(),
    );
    recorder.record(earlier_call()).unwrap();
    let loaded = app::load(&c, None, None).await.unwrap();
    let mut app = app(c);
    app.history = Some(recorder.clone());
    let enter = Input::Terminal(Event::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    let script = vec![(300, key('y')), (300, enter), (1000, key('q'))];
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    let outcome = app::run(
        app,
        &mut terminal,
        common::scripted(script),
        None,
        Some(loaded),
    )
    .await
    .unwrap();
    assert!(outcome.report.unsaved.is_empty(), "{:?}", outcome.report);
    assert_eq!(studio.threshold(3, "min_score"), Some(Number(0.8)));
    assert_eq!(studio.threshold(4, "min_anomaly_score"), Some(Number(0.45)));
    assert_eq!(
        studio.set_threshold_calls().len(),
        1,
        "one call for both values"
    );
    let written = recorder.read_impulse(4242, 1).unwrap();
    assert_eq!(written.skipped, 0);
    assert_eq!(written.entries.len(), 2);
    let call = &written.entries[1].call;
    assert_eq!(call.by, "tuner");
    assert_eq!(
        call.changes(),
        ["3.min_score 0.6 → 0.8", "4.min_anomaly_score 0.3 → 0.45"]
    );
    assert_eq!(call.answer.summary(), "regenerated");
    assert!(call.figures.contains_key("accuracy"), "{:?}", call.figures);
    // The figures written are the preview's at the values saved: Studio's own.
    let summary = client(&studio)
        .model_testing_summary(4242, 1)
        .await
        .unwrap();
    let studio_accuracy = summary.accuracy.accuracy_score.unwrap();
    assert!(
        (call.figures["accuracy"] - studio_accuracy).abs() < 1e-9,
        "{studio_accuracy}"
    );
}

/// The joint map through the real loop: a click on it moves both thresholds, which leave
/// together in one call after the quiet time.
#[tokio::test]
async fn a_click_on_the_map_sets_both_thresholds_in_one_call() {
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    use ei_tune::api::models::ThresholdValue::Number;
    let studio = studio().await;
    let c = client(&studio);
    let loaded = app::load(&c, None, None).await.unwrap();
    let screen = ratatui::layout::Rect::new(0, 0, 160, 48);
    let cells = ei_tune::ui::map::cells(screen);
    let (column, row) = (cells.x + cells.width / 4, cells.y + cells.height / 4);
    let (j, _) =
        ei_tune::ui::map::point_at(screen, &Theme::monochrome(), column, row, (101, 101)).unwrap();
    let click = Input::Terminal(Event::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    }));
    // The map waits for the per-window results: x after they are read.
    // q closes the map, then quits.
    let script = vec![
        (500, key('x')),
        (100, click),
        (800, key('q')),
        (50, key('q')),
    ];
    let (outcome, screen) = common::run_tuner(&studio, loaded, 100, script).await;
    assert!(outcome.report.unsaved.is_empty(), "{:?}", outcome.report);
    assert_eq!(
        studio.threshold(3, "min_score"),
        Some(Number(j as f64 / 100.0)),
        "{screen}"
    );
    let Some(Number(anomaly)) = studio.threshold(4, "min_anomaly_score") else {
        panic!("a number");
    };
    assert!(
        anomaly > 0.3,
        "a quarter from the top is above 0.3: {anomaly}"
    );
    let calls = studio.set_threshold_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
}
