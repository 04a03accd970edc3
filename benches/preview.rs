//! The local preview and a sweep on a 20,000-window test set (the demo's digits resampled):
//! what each key press costs before anything is sent.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ei_tune::metrics::Thresholds;
use ei_tune::metrics::sweep::{self, Objective, Parameter};
use ei_tune::studio::demo::{demo_impulses, resample};

fn preview(c: &mut Criterion) {
    let impulses = demo_impulses().expect("demo data");
    let digits = impulses[0].test_set.clone().expect("a test set");
    let set = resample(&digits, 20_000, 7);
    let thresholds = Thresholds::default();
    c.bench_function("preview 20000 windows", |b| {
        b.iter(|| black_box(&set).evaluate(black_box(&thresholds)))
    });
    let xs = sweep::points(0.0, 1.0, 101);
    c.bench_function("sweep 101 points x 20000 windows", |b| {
        b.iter(|| {
            sweep::sweep(
                black_box(&set),
                &thresholds,
                Parameter::MinScore,
                &xs,
                &Objective::MacroF1,
            )
        })
    });
}

criterion_group!(benches, preview);
criterion_main!(benches);
