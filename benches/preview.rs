//! The local preview and a sweep on a 20,000-window test set (the demo's digits resampled),
//! and on 2,000 object detection images of 50 detections: what each key press costs before
//! anything is sent.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ei_tune::metrics::detection::{BoxXywh, Detection, DetectionSet, Image, Matching, Truth};
use ei_tune::metrics::sweep::{self, Objective, Parameter};
use ei_tune::metrics::{TestSet, Thresholds};
use ei_tune::studio::demo::{demo_impulses, resample};

/// The joint map's budget: 101 × 101 points of `min_score` × `min_anomaly_score` over
/// 20,000 windows, with the objective and the two figures of the Pareto front.
fn joint_map(c: &mut Criterion) {
    use ei_tune::metrics::joint;
    use ei_tune::metrics::suggest::HEADLINES;
    let impulses = demo_impulses().expect("demo data");
    let digits = impulses[0].test_set.clone().expect("a test set");
    let set = resample(&digits, 20_000, 7);
    let (lo, hi) = set.anomaly_span().expect("anomaly scores");
    let figure = |slug: &str| HEADLINES.iter().find(|h| h.slug == slug).expect("a figure");
    let pair = [figure("missed-anomalies"), figure("false-alarms")];
    c.bench_function("joint map 101x101 x 20000 windows", |b| {
        b.iter(|| {
            joint::joint_map(
                black_box(&set),
                Default::default(),
                sweep::points(0.0, 1.0, 101),
                sweep::points(lo, hi, 101),
                &Objective::MacroF1,
                pair,
                None,
            )
        })
    });
}

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

/// 2,000 images with 5 objects and 50 detections each, scores spread over 0.05..1: the
/// budget's size for object detection.
fn detection_set() -> TestSet {
    let mut rng = fastrand::Rng::with_seed(3);
    let labels: Vec<String> = ["car", "person", "sign"].map(String::from).to_vec();
    let b = |x: f64, y: f64| BoxXywh {
        x,
        y,
        w: 20.0,
        h: 20.0,
    };
    let images = (0..2_000)
        .map(|_| {
            let truths: Vec<Truth> = (0..5)
                .map(|_| Truth {
                    class: rng.u16(0..3),
                    bbox: b(rng.f64() * 300.0, rng.f64() * 300.0),
                })
                .collect();
            let detections = (0..50)
                .map(|i| {
                    // Some near the objects, the rest anywhere.
                    let near = &truths[i % truths.len()];
                    let (x, y) = if i < 10 {
                        (near.bbox.x + rng.f64() * 6.0, near.bbox.y + rng.f64() * 6.0)
                    } else {
                        (rng.f64() * 300.0, rng.f64() * 300.0)
                    };
                    Detection {
                        class: if i < 10 { near.class } else { rng.u16(0..3) },
                        bbox: b(x, y),
                        score: 0.05 + rng.f64() * 0.95,
                    }
                })
                .collect();
            Image { truths, detections }
        })
        .collect();
    TestSet {
        labels: labels.clone(),
        detection: Some(DetectionSet::new(labels, Matching::Boxes, images)),
        ..TestSet::default()
    }
}

fn detection(c: &mut Criterion) {
    let set = detection_set();
    let mut min_score = 0.3;
    c.bench_function("detection preview 2000 images x 50 detections", |b| {
        b.iter(|| {
            // A new value each time, as a key press brings.
            min_score = if min_score > 0.9 {
                0.3
            } else {
                min_score + 0.01
            };
            black_box(&set).evaluate(&Thresholds {
                min_score,
                ..Thresholds::default()
            })
        })
    });
    let xs = sweep::points(0.0, 1.0, 101);
    c.bench_function(
        "detection sweep 101 points x 2000 images x 50 detections",
        |b| {
            b.iter(|| {
                sweep::sweep(
                    black_box(&set),
                    &Thresholds::default(),
                    Parameter::MinScore,
                    &xs,
                    &Objective::MacroF1,
                )
            })
        },
    );
}

/// The exact optimum of one threshold (`o`, `suggest`, the chart's mark): one sorted pass
/// over 20,000 windows, and over 2,000 detection images (a match per distinct score).
fn exact_optimum(c: &mut Criterion) {
    use ei_tune::metrics::optimum::exact_best;
    use ei_tune::thresholds::Scale;
    let impulses = demo_impulses().expect("demo data");
    let digits = impulses[0].test_set.clone().expect("a test set");
    let set = resample(&digits, 20_000, 7);
    let (lo, hi) = set.anomaly_span().expect("anomaly scores");
    let thresholds = Thresholds::default();
    for (name, parameter, range) in [
        ("min_score", Parameter::MinScore, Scale::probability()),
        (
            "min_anomaly_score",
            Parameter::MinAnomalyScore,
            Scale::open(&[lo, hi]),
        ),
    ] {
        c.bench_function(&format!("exact optimum {name} x 20000 windows"), |b| {
            b.iter(|| {
                exact_best(
                    black_box(&set),
                    &thresholds,
                    parameter,
                    &range,
                    &Objective::MacroF1,
                )
            })
        });
    }
    let detections = detection_set();
    c.bench_function(
        "exact optimum min_score x 2000 images x 50 detections",
        |b| {
            b.iter(|| {
                exact_best(
                    black_box(&detections),
                    &thresholds,
                    Parameter::MinScore,
                    &Scale::probability(),
                    &Objective::MacroF1,
                )
            })
        },
    );
}

criterion_group!(benches, preview, joint_map, detection, exact_optimum);
criterion_main!(benches);
