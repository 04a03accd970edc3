//! The client reading the summary of getClassifyJobResult for the large demo impulse
//! (24,000 windows, 45 MB of JSON): skimmed as it arrives, then decoded, against decoding
//! the whole body, which is what a buffered client does.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ei_tune::api::client::decode_body;
use ei_tune::api::models::ModelTestingSummary;
use ei_tune::api::skim::Skimmer;
use ei_tune::studio::demo::demo_project;
use ei_tune::studio::state::{StudioState, classify_response};

fn summary(c: &mut Criterion) {
    let impulses = ei_tune::studio::demo::demo_impulses().expect("demo data");
    let state = StudioState::new(demo_project(), impulses, std::time::Duration::from_secs(1));
    let (sim, results) = state.results(Some(2)).expect("the large impulse");
    let body = serde_json::to_vec(&classify_response(4242, sim, results, None)).expect("JSON");
    println!("body: {} bytes", body.len());
    let mut group = c.benchmark_group("summary of 24,000 windows");
    group.sample_size(20);
    group.bench_function("skimmed in 64 KiB chunks, then decoded", |b| {
        b.iter(|| {
            let mut skimmer = Skimmer::new(&["result", "predictions"]);
            for chunk in body.chunks(64 * 1024) {
                skimmer.feed(chunk);
            }
            black_box(decode_body::<ModelTestingSummary>("op", &skimmer.finish()).expect("decodes"))
        })
    });
    group.bench_function("decoded whole from a buffer", |b| {
        b.iter(|| black_box(decode_body::<ModelTestingSummary>("op", &body).expect("decodes")))
    });
    group.finish();
}

criterion_group!(benches, summary);
criterion_main!(benches);
