//! The real event loop against the simulator: what it asks of Studio.

mod common;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ei_tune::app::{self, App, Input};
use ei_tune::tuner::TunerConfig;
use ei_tune::ui::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use common::{client, studio};

fn key(c: char) -> Input {
    Input::Terminal(Event::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )))
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
    let app = App {
        client: c,
        project: None,
        config: TunerConfig::default(),
        theme: Theme::monochrome(),
        suspend: None,
    };
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    let outcome = app::run(app, &mut terminal, input, None, Some(loaded))
        .await
        .unwrap();
    assert!(outcome.report.unsaved.is_empty());
    assert_eq!(
        studio.request_count("getImpulse"),
        1 + 2,
        "each reload reads the impulse"
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
