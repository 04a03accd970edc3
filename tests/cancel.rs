//! Reads nobody needs any more stop: switching impulse in the middle of reading the
//! per-window results of a large test set stops asking for its pages. The real event loop,
//! client and simulator, on loopback with latency.

mod common;

use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ei_tune::app::{self, App, Input};
use ei_tune::studio::{Studio, StudioConfig, faults::FaultSpec};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

use common::{KEY, client};

const P: u64 = 4242;
/// The demo's large test set: 24 pages of 1000 windows.
const LARGE: u64 = 2;

fn press(code: KeyCode) -> Input {
    Input::Terminal(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

/// Waits until `done` holds, for 30 s at most.
async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..3000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_impulse_mid_read_stops_the_old_pages() {
    let mut config = StudioConfig::new(KEY);
    config.faults = Some(FaultSpec::parse("latency=100ms").unwrap());
    let studio = Studio::start(config).await.unwrap();
    let loaded = app::load(&client(&studio), Some(P), Some(LARGE))
        .await
        .unwrap();
    let (keys, rx) = mpsc::unbounded_channel();
    let input = Box::pin(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|input| (input, rx))
    }));
    let app = App {
        client: client(&studio),
        project: None,
        config: ei_tune::tuner::TunerConfig::default(),
        theme: ei_tune::ui::Theme::monochrome(),
        suspend: None,
        cache: ei_tune::cache::ResultsCache::in_memory(),
        history: None,
    };
    let tuner = tokio::spawn(async move {
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
        app::run(app, &mut terminal, input, None, Some(loaded)).await
    });
    let pages = |impulse| studio.result_page_requests(impulse);
    until("the large test set is being read", || pages(LARGE) >= 2).await;
    // The picker opens on the impulse shown; the one above is the first.
    for key in [KeyCode::Char('i'), KeyCode::Up, KeyCode::Enter] {
        keys.send(press(key)).unwrap();
    }
    until("the other impulse's results are read", || pages(1) >= 1).await;
    let at_switch = pages(LARGE);
    // Long enough for the rest of the 24 pages, four at a time 100 ms apart, had the read
    // gone on.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(pages(LARGE), at_switch, "pages asked for after the switch");
    assert!(at_switch < 24, "the read had ended: {at_switch} pages");
    keys.send(press(KeyCode::Char('q'))).unwrap();
    let outcome = tuner.await.unwrap().unwrap();
    assert!(outcome.report.unsaved.is_empty(), "{:?}", outcome.report);
}
