//! getClassifyJobResult as Studio writes it: the summary, and each window's result and
//! prediction serialised one at a time from the simulated test set.

use super::*;
use crate::metrics::detection::{DetectionSet, Matching};
use crate::metrics::{Aggregation, Summary, TestSet, Thresholds};
use crate::studio::demo::{BlockRole, SimBlock, SimImpulse, sample};
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;

/// getClassifyJobResult (or one page of it) for an impulse whose results are in this
/// state. The per-window results are written while serialising, window by window: the
/// whole result set of a large test set is tens of megabytes as JSON and is never built.
pub fn classify_response(
    project: u64,
    sim: &SimImpulse,
    results: Results,
    window_range: Option<std::ops::Range<usize>>,
) -> ClassifyJobResponse<WindowResults<'_>, WindowPredictions<'_>> {
    let (set, thresholds) = match (sim.test_set.as_deref(), results) {
        (Some(set), Results::Current(th)) => (set, th),
        (set, results) => {
            let none = Windows {
                project,
                sim,
                set: None,
                thresholds: Thresholds::default(),
                range: 0..0,
            };
            return ClassifyJobResponse {
                success: true,
                error: None,
                result: WindowResults(none.clone()),
                predictions: WindowPredictions(none),
                accuracy: empty_accuracy(set),
                additional_metrics_by_learn_block: Vec::new(),
                available_variants: Vec::new(),
                no_results_because_thresholds_changed: match results {
                    Results::Stale(reason) => Some(reason),
                    _ => None,
                },
            };
        }
    };
    let summary = set.evaluate(&thresholds);
    let windows = Windows {
        project,
        sim,
        set: Some(set),
        thresholds,
        range: window_range.unwrap_or(0..set.len()),
    };
    ClassifyJobResponse {
        success: true,
        error: None,
        result: WindowResults(windows.clone()),
        predictions: WindowPredictions(windows),
        accuracy: crate::studio::figures::accuracy(&summary, set),
        additional_metrics_by_learn_block: block_metrics(sim, &summary),
        available_variants: vec!["float32".into(), "int8".into()],
        no_results_because_thresholds_changed: None,
    }
}

/// The accuracy of no results: no windows, the labels of the test set if there is one.
fn empty_accuracy(set: Option<&TestSet>) -> ModelTestingAccuracy {
    ModelTestingAccuracy {
        total_summary: GoodBad::default(),
        summary_per_class: BTreeMap::new(),
        confusion_matrix_values: BTreeMap::new(),
        rows: serde_json::Value::Array(Vec::new()),
        all_labels: set.map(|s| s.labels.clone()).unwrap_or_default(),
        accuracy_score: None,
        balanced_accuracy_score: None,
        anomaly_accuracy_score: None,
        no_anomaly_accuracy_score: None,
        mse_score: None,
    }
}

/// Each learn block's additional metrics, as its kind reports them.
fn block_metrics(sim: &SimImpulse, summary: &Summary) -> Vec<LearnBlockMetrics> {
    use crate::studio::figures::{anomaly_metrics, classifier_metrics, detection_metrics};
    sim.blocks
        .iter()
        .map(|b| LearnBlockMetrics {
            learn_block_id: b.block.id,
            learn_block_name: b.block.name.clone(),
            additional_metrics: match b.role {
                BlockRole::Classifier => classifier_metrics(summary),
                BlockRole::Detector => detection_metrics(summary),
                BlockRole::Anomaly | BlockRole::VisualAnomaly => anomaly_metrics(summary),
            },
        })
        .collect()
}

/// Windows of a test set at some thresholds, whose results are made one at a time.
#[derive(Debug, Clone)]
pub struct Windows<'a> {
    project: u64,
    sim: &'a SimImpulse,
    set: Option<&'a TestSet>,
    thresholds: Thresholds,
    range: std::ops::Range<usize>,
}

impl<'a> Windows<'a> {
    /// (sample id, expected label, set) of each window in range.
    fn each(&self) -> impl Iterator<Item = (usize, u64, &'a str, &'a TestSet)> + '_ {
        self.set.into_iter().flat_map(move |set| {
            self.range
                .clone()
                .map(move |i| (i, i as u64 + 1, window_label(set, i), set))
        })
    }
}

/// `result` of a ClassifyJobResponse: a `ModelResult` per window, serialised lazily.
#[derive(Debug, Clone)]
pub struct WindowResults<'a>(Windows<'a>);

impl Serialize for WindowResults<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let w = &self.0;
        serializer.collect_seq(w.each().map(|(i, sample_id, expected, set)| {
            let mut sample = sample(w.project, sample_id, expected);
            if let Some(d) = &set.detection {
                sample.bounding_boxes = d.images[i]
                    .truths
                    .iter()
                    .map(|t| BoundingBox {
                        label: d.labels[usize::from(t.class)].clone(),
                        x: t.bbox.x as i64,
                        y: t.bbox.y as i64,
                        width: t.bbox.w as i64,
                        height: t.bbox.h as i64,
                    })
                    .collect();
            }
            ModelResult {
                sample_id,
                sample,
                classifications: w
                    .sim
                    .blocks
                    .iter()
                    .map(|b| classification(b, set, i, &w.thresholds, expected))
                    .collect(),
            }
        }))
    }
}

/// `predictions` of a ClassifyJobResponse: a `ModelPrediction` per window, serialised
/// lazily.
#[derive(Debug, Clone)]
pub struct WindowPredictions<'a>(Windows<'a>);

impl Serialize for WindowPredictions<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let w = &self.0;
        serializer.collect_seq(w.each().map(|(i, sample_id, expected, set)| {
            let prediction = match &set.detection {
                // The label of the image's best detection kept, as for a window.
                Some(d) => d.images[i]
                    .detections
                    .iter()
                    .filter(|det| det.score >= w.thresholds.min_score)
                    .max_by(|a, b| a.score.total_cmp(&b.score))
                    .map_or_else(String::new, |det| d.labels[usize::from(det.class)].clone()),
                None => set
                    .prediction_name(set.predict(i, &w.thresholds))
                    .to_string(),
            };
            ModelPrediction {
                sample_id,
                start_ms: 0.0,
                end_ms: 0.0,
                label: Some(expected.to_string()),
                prediction_correct: Some(prediction == expected),
                prediction,
                anomaly_scores: None,
                expected_anomaly_outcome: anomaly_outcome(set, i).map(str::to_string),
            }
        }))
    }
}

/// A window's expected label; an image's, for object detection: its first object's, or
/// none.
pub(super) fn window_label(set: &TestSet, i: usize) -> &str {
    match &set.detection {
        Some(d) => d.images[i]
            .truths
            .first()
            .map_or("", |t| d.labels[usize::from(t.class)].as_str()),
        None => set.labels[set.expected[i] as usize].as_str(),
    }
}

/// The window's expected anomaly outcome, on impulses that detect anomalies.
pub(super) fn anomaly_outcome(set: &TestSet, i: usize) -> Option<&'static str> {
    let anomaly = set.anomaly_label?;
    Some(if set.expected[i] == anomaly {
        ANOMALY_OUTCOME
    } else {
        NO_ANOMALY_OUTCOME
    })
}

pub(super) fn classification(
    block: &SimBlock,
    set: &TestSet,
    i: usize,
    thresholds: &Thresholds,
    expected: &str,
) -> Classification {
    let (result, anomaly_result, minimum_confidence_rating) = match block.role {
        BlockRole::Detector => return detector_output(block, set, i, thresholds, expected),
        BlockRole::Classifier => (
            set.labels[..set.class_count]
                .iter()
                .zip(set.scores(i))
                .map(|(label, s)| (label.clone(), *s))
                .collect(),
            None,
            thresholds.min_score,
        ),
        BlockRole::Anomaly => (
            ClassScores(vec![(
                "anomaly".to_string(),
                set.anomaly_score(i, thresholds.aggregation).unwrap_or(0.0),
            )]),
            None,
            thresholds.min_anomaly_score,
        ),
        BlockRole::VisualAnomaly => {
            let mean = set.anomaly_score(i, Aggregation::Mean).unwrap_or(0.0);
            let max = set.anomaly_score(i, Aggregation::Max).unwrap_or(0.0);
            (
                ClassScores(vec![(
                    "anomaly".to_string(),
                    set.anomaly_score(i, thresholds.aggregation).unwrap_or(0.0),
                )]),
                Some(vec![AnomalyResult {
                    mean_score: Some(mean),
                    max_score: Some(max),
                }]),
                thresholds.min_anomaly_score,
            )
        }
    };
    Classification {
        learn_block: block.block.clone(),
        result: vec![result],
        anomaly_result,
        structured_result: None,
        object_detection_last_layer: None,
        minimum_confidence_rating,
        expected_labels: vec![StructuredLabel {
            start_index: 0,
            end_index: 0,
            label: expected.to_string(),
        }],
        thresholds: block.thresholds.clone(),
        expected_anomaly_outcome: anomaly_outcome(set, i).map(|outcome| {
            vec![StructuredLabel {
                start_index: 0,
                end_index: 0,
                label: outcome.to_string(),
            }]
        }),
        // An image is one window.
        interval_ms: Some(0.0),
        frequency_hz: Some(0.0),
        result_count: Some(1),
    }
}

/// An object detection block's output for image `i`: every stored detection (down to the
/// floor, whatever `min_score`), and Studio's figures for the image at `min_score`.
pub(super) fn detector_output(
    block: &SimBlock,
    set: &TestSet,
    i: usize,
    thresholds: &Thresholds,
    expected: &str,
) -> Classification {
    let detections = set.detection.as_ref();
    let image = detections.map(|d| d.images[i].clone()).unwrap_or_default();
    let labels = detections.map(|d| d.labels.clone()).unwrap_or_default();
    let matching = detections.map_or(Matching::Boxes, |d| d.matching);
    let figures = DetectionSet::new(labels.clone(), matching, vec![image.clone()])
        .evaluate(thresholds.min_score, true)
        .all;
    let structured = StructuredClassifyResult {
        boxes: image
            .detections
            .iter()
            .map(|d| vec![d.bbox.x, d.bbox.y, d.bbox.w, d.bbox.h])
            .collect(),
        labels: Some(
            image
                .detections
                .iter()
                .map(|d| labels[usize::from(d.class)].clone())
                .collect(),
        ),
        scores: image.detections.iter().map(|d| d.score).collect(),
        map: Some(figures.ap.unwrap_or(0.0)),
        f1: Some(figures.f1().unwrap_or(0.0)),
        precision: Some(figures.precision().unwrap_or(0.0)),
        recall: Some(figures.recall().unwrap_or(0.0)),
    };
    Classification {
        learn_block: block.block.clone(),
        result: vec![ClassScores(Vec::new())],
        anomaly_result: None,
        structured_result: Some(vec![structured]),
        object_detection_last_layer: Some(
            match matching {
                Matching::Boxes => "yolov5",
                Matching::Centroids => "fomo",
            }
            .into(),
        ),
        minimum_confidence_rating: thresholds.min_score,
        expected_labels: vec![StructuredLabel {
            start_index: 0,
            end_index: 0,
            label: expected.to_string(),
        }],
        thresholds: block.thresholds.clone(),
        expected_anomaly_outcome: None,
        interval_ms: Some(0.0),
        frequency_hz: Some(0.0),
        result_count: Some(1),
    }
}
