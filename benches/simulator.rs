//! The simulator regenerating model testing results for a 20,000-sample test set: a
//! set-thresholds call on an impulse that regenerates inline, then the summary that
//! getClassifyJobResult reports at the new thresholds; and a page of per-window results
//! written as JSON, as the simulator streams it.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use ei_tune::api::models::*;
use ei_tune::studio::demo::{demo_impulses, demo_project, resample};
use ei_tune::studio::state::{StudioState, classify_response, metric_thresholds};

fn regenerate(c: &mut Criterion) {
    let mut impulses = demo_impulses().expect("demo data");
    let digits = impulses[0].test_set.clone().expect("a test set");
    impulses[0].test_set = Some(Arc::new(resample(&digits, 20_000, 11)));
    let sim = impulses[0].clone();
    let mut state = StudioState::new(demo_project(), impulses, Duration::from_secs(1));
    let mut k = 0u32;
    c.bench_function("regenerate 20000 samples (set-thresholds + summary)", |b| {
        b.iter(|| {
            k = (k + 1) % 100;
            let request = SetImpulseThresholdsRequest::without_jobs(vec![ThresholdUpdate::new(
                3,
                "min_score",
                ThresholdValue::Number(f64::from(k) / 100.0),
            )]);
            let response = state
                .set_thresholds(1, &request, SystemTime::now())
                .expect("applied");
            let (sim_now, results) = state.results(Some(1)).expect("impulse 1");
            let thresholds = metric_thresholds(&sim_now.blocks);
            let set = sim.test_set.as_ref().expect("a test set");
            let summary = set.evaluate(&thresholds);
            black_box((
                response,
                results,
                ei_tune::studio::figures::accuracy(&summary, set),
            ))
        })
    });
    c.bench_function("getClassifyJobResultPage of 500 samples, as JSON", |b| {
        let (sim_now, results) = state.results(Some(1)).expect("impulse 1");
        let sim_now = sim_now.clone();
        let mut json = Vec::new();
        b.iter(|| {
            json.clear();
            let response = classify_response(4242, &sim_now, results.clone(), Some(0..500));
            serde_json::to_writer(&mut json, &response).expect("serialises");
            black_box(json.len())
        })
    });
}

criterion_group!(benches, regenerate);
criterion_main!(benches);
