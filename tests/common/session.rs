//! A tuner reached through its own `update` on the demo's impulses, and rendered by the
//! real views on ratatui's TestBackend: shared by the view snapshots and the benchmarks.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ei_tune::api::ApiError;
use ei_tune::api::models::*;
use ei_tune::app::demo_loaded;
use ei_tune::keymap::{self, Screen};
use ei_tune::metrics::{Scores, ScoresFrom, TestSet, Thresholds};
use ei_tune::studio::demo::demo_impulses;
use ei_tune::tuner::{Action, Loaded, Msg, Tuner, TunerConfig};
use ei_tune::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

pub fn loaded(index: usize) -> Loaded {
    demo_loaded(index).unwrap()
}

pub fn summary(index: usize, thresholds: Thresholds) -> ModelTestingSummary {
    let impulses = demo_impulses().unwrap();
    let set = impulses[index].test_set.clone().unwrap();
    let s = set.evaluate(&thresholds);
    ModelTestingSummary {
        accuracy: ei_tune::studio::figures::accuracy(&s, &set),
        additional_metrics_by_learn_block: vec![],
        no_results_because_thresholds_changed: None,
    }
}

/// Scores as Studio served them now.
pub fn fresh(set: Arc<TestSet>) -> Scores {
    Scores {
        set,
        from: ScoresFrom::Studio {
            // 2026-11-28 16:02 UTC: a time that reads like one.
            read_at: std::time::UNIX_EPOCH + Duration::from_secs(1_795_881_720),
        },
    }
}

pub struct Session {
    pub tuner: Tuner,
    pub t0: Instant,
    next_request: u64,
}

impl Session {
    /// The demo's impulse `index`, its results and per-window scores read.
    pub fn new(index: usize) -> Self {
        Self::opened(index, loaded(index))
    }

    /// `impulse` (the demo's impulse `index`, its blocks as the caller wants them), with
    /// that impulse's results and per-window scores read.
    pub fn opened(index: usize, impulse: Loaded) -> Self {
        let t0 = Instant::now();
        let (mut tuner, _) = Tuner::new(
            TunerConfig::default(),
            "http://127.0.0.1:40321/v1",
            None,
            None,
            t0,
        );
        let id = impulse.impulse.id;
        tuner.update(
            Msg::Loaded {
                load: 0,
                result: Ok(impulse),
            },
            t0,
        );
        let th = Thresholds {
            min_anomaly_score: if index == 2 { 10.0 } else { 0.3 },
            ..Thresholds::default()
        };
        let impulses = demo_impulses().unwrap();
        if impulses[index].test_set.is_some() {
            tuner.update(
                Msg::ResultsLoaded {
                    impulse: id,
                    result: Ok(summary(index, th)),
                },
                t0,
            );
        }
        // The per-window results, as the tuner reads them page by page.
        let result = match &impulses[index].test_set {
            Some(set) => Ok(fresh(set.clone())),
            None => Err(
                "no model testing results to preview (none yet, or stale until regenerated)".into(),
            ),
        };
        tuner.update(
            Msg::TestSetLoaded {
                impulse: id,
                result,
            },
            t0,
        );
        Self {
            tuner,
            t0,
            next_request: 1,
        }
    }

    pub fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }

    pub fn act(&mut self, action: Action, ms: u64) {
        self.tuner.update(Msg::Action(action), self.at(ms));
    }

    pub fn key(&mut self, code: KeyCode, ms: u64) {
        let screen = Screen::of(self.tuner.mode());
        if let Some(action) = keymap::action_for(screen, KeyEvent::new(code, KeyModifiers::NONE)) {
            self.tuner.update(Msg::Action(action), self.at(ms));
        }
    }

    /// An edit, its call after the debounce, and the answer `latency_ms` later.
    pub fn save(
        &mut self,
        action: Action,
        ms: u64,
        latency_ms: u64,
        result: Result<SetImpulseThresholdsResponse, ApiError>,
    ) {
        self.act(action, ms);
        self.tuner.update(Msg::Tick, self.at(ms + 300));
        let request_id = self.next_request;
        self.next_request += 1;
        self.tuner.update(
            Msg::SetDone {
                request_id,
                outcome: ei_tune::api::Outcome::from(result),
            },
            self.at(ms + 300 + latency_ms),
        );
    }

    pub fn render(&self, width: u16, height: u16) -> String {
        self.render_with(width, height, &Theme::color()).to_string()
    }

    pub fn render_with(&self, width: u16, height: u16, theme: &Theme) -> TestBackend {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|f| ui::render(f, &self.tuner, theme))
            .unwrap();
        terminal.backend().clone()
    }
}
