//! Model testing: the summary, and each window's result.

use super::impulse::{BlockThreshold, ImpulseLearnBlock};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoodBad {
    pub good: u32,
    pub bad: u32,
}

/// The `accuracy` object of ClassifyJobResponse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelTestingAccuracy {
    pub total_summary: GoodBad,
    pub summary_per_class: BTreeMap<String, GoodBad>,
    /// Expected label → predicted label → number of windows.
    pub confusion_matrix_values: BTreeMap<String, BTreeMap<String, f64>>,
    /// Required by the spec, which gives it no schema: the rows of Studio's results table.
    #[serde(default)]
    pub rows: Value,
    pub all_labels: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balanced_accuracy_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anomaly_accuracy_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_anomaly_accuracy_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mse_score: Option<f64>,
}

impl ModelTestingAccuracy {
    /// `accuracyScore`, or where Studio left it out (it is optional), good over all.
    pub fn accuracy(&self) -> Option<f64> {
        self.accuracy_score.or_else(|| {
            let GoodBad { good, bad } = self.total_summary;
            let total = f64::from(good) + f64::from(bad);
            (total > 0.0).then(|| f64::from(good) / total)
        })
    }

    /// `balancedAccuracyScore`, or the mean of each label's good share.
    pub fn balanced_accuracy(&self) -> Option<f64> {
        self.balanced_accuracy_score.or_else(|| {
            let recalls: Vec<f64> = self
                .summary_per_class
                .values()
                .filter(|g| g.good + g.bad > 0)
                .map(|g| f64::from(g.good) / (f64::from(g.good) + f64::from(g.bad)))
                .collect();
            (!recalls.is_empty()).then(|| recalls.iter().sum::<f64>() / recalls.len() as f64)
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdditionalMetric {
    pub name: String,
    pub value: String,
    pub full_precision_value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LearnBlockMetrics {
    pub learn_block_id: u64,
    pub learn_block_name: String,
    pub additional_metrics: Vec<AdditionalMetric>,
}

open_enum! {
    /// Why a project has no current model testing results:
    /// `can_regenerate_model_summary` (regenerateModelTestingSummary brings them back) or
    /// `should_rerun_full_job` (model testing has to run again in full).
    StaleReason {
        CanRegenerateModelSummary = "can_regenerate_model_summary",
        ShouldRerunFullJob = "should_rerun_full_job",
    }
}

impl StaleReason {
    pub fn explanation(&self) -> String {
        match self {
            Self::CanRegenerateModelSummary => {
                "thresholds changed; a regeneration job brings the results back".into()
            }
            Self::ShouldRerunFullJob => {
                "thresholds changed; this model needs model testing to run again in full \
                 (ei-tune regenerate)"
                    .into()
            }
            Self::Other(text) => format!(
                "Studio says `{}`, which ei-tune does not know",
                crate::text::clean(text)
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sensor {
    pub name: String,
    pub units: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoundingBox {
    pub label: String,
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
}

/// `Sample`. Only `label` is used: the rest, required by the spec, default when a server
/// leaves them out (a result set is not lost to a field nothing reads).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Sample {
    pub id: u64,
    pub filename: String,
    pub signature_validate: bool,
    pub created: String,
    pub last_modified: String,
    pub category: String,
    pub coldstorage_filename: String,
    pub label: String,
    pub interval_ms: f64,
    pub frequency: f64,
    pub original_interval_ms: f64,
    pub original_frequency: f64,
    pub device_type: String,
    pub sensors: Vec<Sensor>,
    pub values_count: u64,
    pub added: String,
    pub bounding_boxes: Vec<BoundingBox>,
    pub bounding_boxes_type: String,
    pub chart_type: String,
    pub is_disabled: bool,
    pub is_processing: bool,
    pub processing_error: bool,
    pub is_cropped: bool,
    pub project_id: u64,
    pub sha256_hash: String,
    /// `SampleDatastream`s; required by the spec, unused here, so kept as plain JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datastreams: Option<Vec<Value>>,
}

/// `StructuredLabel`: `label` holds for windows `startIndex..=endIndex`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StructuredLabel {
    pub start_index: u64,
    pub end_index: u64,
    pub label: String,
}

/// `AnomalyResult`: visual anomaly scores of one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnomalyResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_score: Option<f64>,
}

/// `ClassifySampleResponseClassification`: one learn block's output for one sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Classification {
    pub learn_block: ImpulseLearnBlock,
    /// One `{label: score}` map per window.
    pub result: Vec<ClassScores>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anomaly_result: Option<Vec<AnomalyResult>>,
    /// Object detection: the detections of each window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_result: Option<Vec<StructuredClassifyResult>>,
    /// Object detection: the model's last layer (`fomo`, `yolov5`, …), kept as text: the
    /// list grows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_detection_last_layer: Option<String>,
    pub minimum_confidence_rating: f64,
    pub expected_labels: Vec<StructuredLabel>,
    pub thresholds: Vec<BlockThreshold>,
    /// "anomaly" or "no anomaly" per window, from the labels the project marks anomalous:
    /// the truth for anomaly detection when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_anomaly_outcome: Option<Vec<StructuredLabel>>,
    // The three below are required by the spec and unused here: optional, so that an
    // answer without them still decodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_hz: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_count: Option<u64>,
}

/// `StructuredClassifyResult`: one window's detections, and Studio's figures for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StructuredClassifyResult {
    /// `[x, y, width, height]` per detection, in the image's pixels (as the sample's
    /// `boundingBoxes`).
    pub boxes: Vec<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    pub scores: Vec<f64>,
    // Required by the spec, unread here: optional, so that an answer without them decodes.
    #[serde(rename = "mAP", default, skip_serializing_if = "Option::is_none")]
    pub map: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f1: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recall: Option<f64>,
}

/// The expected anomaly outcome that marks a window anomalous.
pub const ANOMALY_OUTCOME: &str = "anomaly";
/// The expected anomaly outcome of a normal window.
pub const NO_ANOMALY_OUTCOME: &str = "no anomaly";

/// One window's `{label: score}` map, in the order Studio wrote it: the model's output
/// order, which decides ties (a map sorted by label would not).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClassScores(pub Vec<(String, f64)>);

impl ClassScores {
    pub fn get(&self, label: &str) -> Option<f64> {
        self.0.iter().find(|(l, _)| l == label).map(|(_, s)| *s)
    }

    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(l, _)| l.as_str())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(String, f64)> for ClassScores {
    fn from_iter<I: IntoIterator<Item = (String, f64)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl Serialize for ClassScores {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(label, score)| (label, score)))
    }
}

/// Up to this many labels a window's repeated label is found by looking at each.
const SCAN_LABELS: usize = 32;

impl<'de> Deserialize<'de> for ClassScores {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct InOrder;
        impl<'de> serde::de::Visitor<'de> for InOrder {
            type Value = ClassScores;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of scores by label")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<ClassScores, A::Error> {
                let mut scores: Vec<(String, f64)> = Vec::new();
                // Past a few labels they are found by hashing, so that a window of
                // thousands of labels costs what it holds, not its square.
                let mut index: Option<HashMap<String, usize>> = None;
                while let Some((label, score)) = map.next_entry::<String, f64>()? {
                    if index.is_none() && scores.len() == SCAN_LABELS {
                        let numbered = scores.iter().enumerate().map(|(i, (l, _))| (l.clone(), i));
                        index = Some(numbered.collect());
                    }
                    let seen = match &mut index {
                        Some(index) => match index.get(&label) {
                            Some(&i) => Some(i),
                            None => {
                                index.insert(label.clone(), scores.len());
                                None
                            }
                        },
                        None => scores.iter().position(|(l, _)| *l == label),
                    };
                    // A repeated label: the last one holds, as in any JSON object.
                    match seen {
                        Some(i) => scores[i].1 = score,
                        None => scores.push((label, score)),
                    }
                }
                Ok(ClassScores(scores))
            }
        }
        d.deserialize_map(InOrder)
    }
}

/// `ModelResult`: one test sample and what each learn block made of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelResult {
    pub sample_id: u64,
    pub sample: Sample,
    pub classifications: Vec<Classification>,
}

/// `ModelPrediction`: the impulse's verdict on one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelPrediction {
    pub sample_id: u64,
    pub start_ms: f64,
    pub end_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub prediction: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction_correct: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anomaly_scores: Option<Vec<Vec<f64>>>,
    /// "anomaly" or "no anomaly" (anomaly detection only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_anomaly_outcome: Option<String>,
}

/// `ClassifyJobResponse`: model testing results of an impulse.
///
/// The per-window sequences are type parameters so that the simulator can write them
/// window by window while serialising (a large test set's results are never built whole);
/// a client decodes them as the default `Vec`s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassifyJobResponse<Results = Vec<ModelResult>, Predictions = Vec<ModelPrediction>> {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub result: Results,
    pub predictions: Predictions,
    pub accuracy: ModelTestingAccuracy,
    pub additional_metrics_by_learn_block: Vec<LearnBlockMetrics>,
    pub available_variants: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_results_because_thresholds_changed: Option<StaleReason>,
}

/// The summary part of a ClassifyJobResponse, decoded without the per-sample results.
///
/// Same endpoint and fields as [`ClassifyJobResponse`]; the per-sample arrays are skipped
/// while decoding, so that a summary of a large test set costs no memory.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelTestingSummary {
    pub accuracy: ModelTestingAccuracy,
    pub additional_metrics_by_learn_block: Vec<LearnBlockMetrics>,
    #[serde(default)]
    pub no_results_because_thresholds_changed: Option<StaleReason>,
}

impl ModelTestingSummary {
    /// Number of windows the summary covers; zero when there are no results.
    pub fn window_count(&self) -> u32 {
        self.accuracy.total_summary.good + self.accuracy.total_summary.bad
    }
}

/// `ClassifyJobResponsePage`; type parameters as in [`ClassifyJobResponse`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassifyJobResponsePage<Results = Vec<ModelResult>, Predictions = Vec<ModelPrediction>> {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub result: Results,
    pub predictions: Predictions,
    pub total_count: u64,
}

/// The parts of a `ModelResult` the preview reads. The rest (the sample's record, each
/// window's thresholds and block description) is skipped while decoding: it is most of a
/// page's size, and pages are decoded several at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowResults {
    pub sample_id: u64,
    pub sample: SampleLabel,
    pub classifications: Vec<BlockOutput>,
}

/// The label and ground-truth boxes of a `Sample`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SampleLabel {
    pub label: String,
    #[serde(default)]
    pub bounding_boxes: Vec<TruthBox>,
}

/// A `BoundingBox` of a sample. The spec says integers; numbers with a fraction are read
/// too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TruthBox {
    pub label: String,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// The parts of a `ClassifySampleResponseClassification` the preview reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockOutput {
    pub learn_block: LearnBlockId,
    pub result: Vec<ClassScores>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anomaly_result: Option<Vec<AnomalyResult>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_result: Option<Vec<StructuredClassifyResult>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_detection_last_layer: Option<String>,
    pub expected_labels: Vec<StructuredLabel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_anomaly_outcome: Option<Vec<StructuredLabel>>,
}

/// The id of an `ImpulseLearnBlock`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LearnBlockId {
    pub id: u64,
}

/// A page of per-window results as the preview reads it.
pub type PreviewPage = ClassifyJobResponsePage<Vec<WindowResults>, serde::de::IgnoredAny>;
