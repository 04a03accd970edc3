//! What a key press costs: a whole frame rendered on TestBackend at 200×60 with 8, 64 and
//! 256 sliders, and the tuner core taking 100,000 key events.

#[path = "../tests/common/session.rs"]
mod session;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ei_tune::app::demo_loaded;
use ei_tune::keymap::{self, Screen};
use ei_tune::tuner::{JointView, Msg, Tuner};
use ei_tune::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use session::Session;

/// A tuner on the demo's first impulse with its blocks repeated to `sliders` thresholds,
/// its results and the preview loaded.
fn tuner(sliders: usize) -> Tuner {
    let mut loaded = demo_loaded(0).expect("demo data");
    let template = std::mem::take(&mut loaded.blocks);
    loaded.blocks = (0..sliders / 2)
        .flat_map(|n| {
            template.iter().map(move |b| {
                let mut b = b.clone();
                b.block.id += 100 * n as u64;
                b
            })
        })
        .collect();
    Session::opened(0, loaded).tuner
}

fn frame(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame 200x60");
    for sliders in [8, 64, 256] {
        let tuner = tuner(sliders);
        let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("a test terminal");
        let theme = Theme::color();
        group.bench_with_input(BenchmarkId::from_parameter(sliders), &tuner, |b, tuner| {
            b.iter(|| {
                terminal
                    .draw(|f| ui::render(f, black_box(tuner), &theme))
                    .expect("a frame");
            })
        });
    }
    group.finish();
}

/// A frame with the joint map open: 10,201 points drawn, in colour and without.
fn map_frame(c: &mut Criterion) {
    let mut tuner = tuner(2);
    let t0 = Instant::now();
    tuner.update(Msg::Action(ei_tune::tuner::Action::Map), t0);
    assert!(
        tuner.joint().and_then(JointView::map).is_some(),
        "the map is open"
    );
    let mut group = c.benchmark_group("map frame 200x60");
    for (name, theme) in [
        ("colour", Theme::color()),
        ("no colour", Theme::monochrome()),
    ] {
        let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("a test terminal");
        group.bench_function(name, |b| {
            b.iter(|| {
                terminal
                    .draw(|f| ui::render(f, black_box(&tuner), &theme))
                    .expect("a frame");
            })
        });
    }
    group.finish();
}

fn keys(c: &mut Criterion) {
    let right = KeyEvent::new(KeyCode::Right, KeyModifiers::NONE);
    let left = KeyEvent::new(KeyCode::Left, KeyModifiers::NONE);
    let down = KeyEvent::new(KeyCode::Down, KeyModifiers::NONE);
    let mut group = c.benchmark_group("core");
    group.sample_size(10);
    group.bench_function("100000 key events, 64 sliders, preview on", |b| {
        b.iter_batched(
            || tuner(64),
            |mut tuner| {
                let t0 = Instant::now();
                for i in 0..100_000u32 {
                    let key = match i % 7 {
                        0 => down,
                        1..=3 => right,
                        _ => left,
                    };
                    let now = t0 + Duration::from_micros(u64::from(i) * 10);
                    // Keys become actions at the edge, as in the event loop.
                    if let Some(action) = keymap::action_for(Screen::of(tuner.mode()), key) {
                        black_box(tuner.update(Msg::Action(action), now));
                    }
                }
                tuner
            },
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// A tuner on the demo's first impulse whose scores expect `labels` labels in all (every
/// other window one the model was not trained on).
fn tuner_with_labels(labels: usize) -> Tuner {
    let mut s = Session::new(0);
    let demo = ei_tune::studio::demo::demo_impulses().expect("demo data");
    let mut set =
        ei_tune::studio::demo::resample(demo[0].test_set.as_ref().expect("scores"), 20_000, 7);
    let known = set.labels.len();
    set.labels.extend((known..labels).map(|l| format!("L{l}")));
    for (i, expected) in set.expected.iter_mut().enumerate().skip(1).step_by(2) {
        *expected = (known + (i / 2) % (labels - known)) as u16;
    }
    let impulse = s.tuner.impulse().expect("an impulse").id;
    let result = Ok(session::fresh(std::sync::Arc::new(set)));
    s.tuner
        .update(Msg::TestSetLoaded { impulse, result }, s.at(1));
    s.tuner
}

/// A key press that moves `min_score` and the frame after it, at ten times the demo's
/// labels and at the label bound, over 20,000 windows.
fn labels(c: &mut Criterion) {
    let right = ei_tune::tuner::Action::StepUp;
    let left = ei_tune::tuner::Action::StepDown;
    let mut group = c.benchmark_group("key and frame 200x60, 20000 windows");
    for labels in [70, 10_000] {
        let mut tuner = tuner_with_labels(labels);
        let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("a test terminal");
        let theme = Theme::color();
        let t0 = Instant::now();
        let mut i = 0u64;
        group.bench_function(format!("{labels} labels"), |b| {
            b.iter(|| {
                i += 1;
                let action = if i.is_multiple_of(2) { right } else { left };
                tuner.update(Msg::Action(action), t0 + Duration::from_micros(i));
                terminal
                    .draw(|f| ui::render(f, black_box(&tuner), &theme))
                    .expect("a frame");
            })
        });
    }
    group.finish();
}

criterion_group!(benches, frame, map_frame, keys, labels);
criterion_main!(benches);
