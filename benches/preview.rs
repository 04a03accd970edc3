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

/// `set` with labels added up to `labels` in all, every other window expected as one of
/// them: none is ever predicted right, as with labels the model was not trained on.
fn with_labels(set: &TestSet, labels: usize) -> TestSet {
    let mut set = set.clone();
    let known = set.labels.len();
    set.labels.extend((known..labels).map(|l| format!("L{l}")));
    for (i, expected) in set.expected.iter_mut().enumerate().skip(1).step_by(2) {
        *expected = (known + (i / 2) % (labels - known)) as u16;
    }
    set
}

/// Every figure `check` and the figures pane read at once.
fn figures(set: &TestSet, thresholds: &Thresholds) -> f64 {
    let s = set.evaluate(thresholds);
    let per_label: f64 = (0..set.labels.len()).map(|l| s.f1(l)).sum();
    per_label
        + s.accuracy().unwrap_or(0.0)
        + s.balanced_accuracy().unwrap_or(0.0)
        + s.macro_scores().map_or(0.0, |m| m.2)
        + s.outcome_macro_f1().unwrap_or(0.0)
        + s.false_positive_rate().unwrap_or(0.0)
}

/// The label bound (10,000 labels; 10,000 classes over as many windows as the class score
/// bound allows) against ten times the demo's labels (70).
fn labels(c: &mut Criterion) {
    let impulses = demo_impulses().expect("demo data");
    let digits = impulses[0].test_set.clone().expect("a test set");
    let set = resample(&digits, 20_000, 7);
    let thresholds = Thresholds::default();
    let xs = sweep::points(0.0, 1.0, 101);
    for labels in [70, 10_000] {
        let set = with_labels(&set, labels);
        c.bench_function(
            &format!("exact optimum min_score x 20000 windows x {labels} labels"),
            |b| {
                b.iter(|| {
                    ei_tune::metrics::optimum::exact_best(
                        black_box(&set),
                        &thresholds,
                        Parameter::MinScore,
                        &ei_tune::thresholds::Scale::probability(),
                        &Objective::MacroF1,
                    )
                })
            },
        );
        c.bench_function(&format!("figures 20000 windows x {labels} labels"), |b| {
            b.iter(|| figures(black_box(&set), &thresholds))
        });
        c.bench_function(
            &format!("sweep 101 points x 20000 windows x {labels} labels"),
            |b| {
                b.iter(|| {
                    sweep::sweep(
                        black_box(&set),
                        &thresholds,
                        Parameter::MinScore,
                        &xs,
                        &Objective::MacroF1,
                    )
                })
            },
        );
    }
    let classes = 10_000;
    let windows = ei_tune::defaults::MAX_CLASS_SCORES / classes;
    let mut rng = fastrand::Rng::with_seed(7);
    let wide = TestSet {
        labels: (0..classes).map(|c| format!("c{c}")).collect(),
        class_count: classes,
        expected: (0..windows).map(|_| rng.u16(..classes as u16)).collect(),
        class_scores: (0..windows * classes).map(|_| rng.f64()).collect(),
        ..TestSet::default()
    };
    c.bench_function(
        &format!("figures {windows} windows x {classes} classes"),
        |b| b.iter(|| figures(black_box(&wide), &thresholds)),
    );
}

criterion_group!(
    benches,
    preview,
    joint_map,
    detection,
    exact_optimum,
    labels
);
criterion_main!(benches);
