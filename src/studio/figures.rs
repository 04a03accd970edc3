//! What the simulator reports of the metrics: getClassifyJobResult's `accuracy` object and
//! each learn block's additional metrics, from the figures `metrics` computes. The wire's
//! shapes are the simulator's business: the metrics know nothing of them.

use std::collections::BTreeMap;

use serde_json::json;

use crate::api::models::{AdditionalMetric, GoodBad, ModelTestingAccuracy};
use crate::metrics::detection::{ClassFigures, DetectionSummary, Matching};
use crate::metrics::{Predicted, Summary, Tally, TestSet, UNCERTAIN};

/// The names of Studio's figures for object detection blocks (additionalMetricsByLearnBlock).
pub const METRIC_MAP: &str = "mAP";
pub const METRIC_MAP50: &str = "mAP@[IoU=50]";
pub const METRIC_PRECISION: &str = "Precision";
pub const METRIC_RECALL: &str = "Recall";
pub const METRIC_F1: &str = "F1 score";

impl From<Tally> for GoodBad {
    fn from(t: Tally) -> Self {
        GoodBad {
            good: t.good,
            bad: t.bad,
        }
    }
}

/// The `accuracy` object of getClassifyJobResult.
pub fn accuracy(summary: &Summary, set: &TestSet) -> ModelTestingAccuracy {
    if let Some(d) = &summary.detection {
        return detection_accuracy(d, &set.labels);
    }
    let mut columns: Vec<(String, Predicted)> = set
        .labels
        .iter()
        .enumerate()
        .map(|(l, name)| (name.clone(), Predicted::Label(l as u16)))
        .collect();
    if set.has_classifier() {
        columns.push((UNCERTAIN.to_string(), Predicted::Uncertain));
    }
    let mut summary_per_class = BTreeMap::new();
    let mut confusion_matrix_values = BTreeMap::new();
    let mut rows = Vec::new();
    for (l, name) in set.labels.iter().enumerate() {
        summary_per_class.insert(name.clone(), summary.per_label(l).into());
        let row: BTreeMap<String, f64> = columns
            .iter()
            .map(|(column, predicted)| (column.clone(), f64::from(summary.count(l, *predicted))))
            .collect();
        let mut table_row = vec![json!(name)];
        table_row.extend(columns.iter().map(|(_, p)| json!(summary.count(l, *p))));
        rows.push(serde_json::Value::Array(table_row));
        confusion_matrix_values.insert(name.clone(), row);
    }
    ModelTestingAccuracy {
        total_summary: summary.total().into(),
        summary_per_class,
        confusion_matrix_values,
        rows: serde_json::Value::Array(rows),
        all_labels: set.labels.clone(),
        accuracy_score: summary.accuracy(),
        balanced_accuracy_score: summary.balanced_accuracy(),
        anomaly_accuracy_score: summary.anomaly_accuracy(),
        no_anomaly_accuracy_score: summary.no_anomaly_accuracy(),
        mse_score: None,
    }
}

/// Object detection's `accuracy`: per class, true positives are good, false positives and
/// missed objects bad.
fn detection_accuracy(d: &DetectionSummary, labels: &[String]) -> ModelTestingAccuracy {
    let good_bad = |c: &ClassFigures| GoodBad {
        good: c.true_positives,
        bad: c.false_positives + c.missed(),
    };
    ModelTestingAccuracy {
        total_summary: good_bad(&d.all),
        summary_per_class: labels
            .iter()
            .zip(&d.per_class)
            .map(|(l, c)| (l.clone(), good_bad(c)))
            .collect(),
        confusion_matrix_values: Default::default(),
        rows: serde_json::Value::Array(Vec::new()),
        all_labels: labels.to_vec(),
        accuracy_score: None,
        balanced_accuracy_score: None,
        anomaly_accuracy_score: None,
        no_anomaly_accuracy_score: None,
        mse_score: None,
    }
}

/// Additional metrics of an object detection block: mAP (COCO, boxes only), precision,
/// recall, F1.
pub fn detection_metrics(summary: &Summary) -> Vec<AdditionalMetric> {
    let Some(d) = &summary.detection else {
        return Vec::new();
    };
    let mut figures = Vec::new();
    if d.matching == Matching::Boxes {
        figures.push((METRIC_MAP, d.all.ap.unwrap_or(0.0)));
        figures.push((METRIC_MAP50, d.all.ap50.unwrap_or(0.0)));
    }
    figures.push((METRIC_PRECISION, d.all.precision().unwrap_or(0.0)));
    figures.push((METRIC_RECALL, d.all.recall().unwrap_or(0.0)));
    figures.push((METRIC_F1, d.all.f1().unwrap_or(0.0)));
    figures
        .into_iter()
        .map(|(name, value)| metric(name, value))
        .collect()
}

/// Additional metrics of a classifier block.
pub fn classifier_metrics(summary: &Summary) -> Vec<AdditionalMetric> {
    let Some((precision, recall, f1)) = summary.macro_scores() else {
        return Vec::new();
    };
    [
        ("Precision (macro avg)", precision),
        ("Recall (macro avg)", recall),
        ("F1 score (macro avg)", f1),
        ("Uncertain", summary.uncertain_rate().unwrap_or(0.0)),
    ]
    .into_iter()
    .map(|(name, value)| metric(name, value))
    .collect()
}

/// Additional metrics of an anomaly block.
pub fn anomaly_metrics(summary: &Summary) -> Vec<AdditionalMetric> {
    [
        ("False positive rate", summary.false_positive_rate()),
        ("False negative rate", summary.false_negative_rate()),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|v| metric(name, v)))
    .collect()
}

fn metric(name: &str, value: f64) -> AdditionalMetric {
    AdditionalMetric {
        name: name.to_string(),
        value: format!("{value:.2}"),
        full_precision_value: value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Thresholds;

    #[test]
    fn the_accuracy_has_an_uncertain_column_and_every_label() {
        let set = crate::metrics::fixtures::a_b_and_anomaly(
            vec![0, 0, 1, 1, 2],
            vec![0.9, 0.1, 0.55, 0.45, 0.2, 0.8, 0.7, 0.3, 0.5, 0.5],
            vec![-0.5, 0.1, 0.3, -0.2, 0.6],
        );
        let thresholds = Thresholds {
            min_score: 0.6,
            min_anomaly_score: 0.3,
            ..Thresholds::default()
        };
        let api = accuracy(&set.evaluate(&thresholds), &set);
        assert_eq!(api.all_labels, vec!["a", "b", "anomaly"]);
        assert_eq!(api.confusion_matrix_values["a"]["uncertain"], 1.0);
        assert_eq!(api.confusion_matrix_values["b"]["anomaly"], 1.0);
        assert_eq!(api.confusion_matrix_values["anomaly"].len(), 4);
        assert_eq!(api.summary_per_class["b"], GoodBad { good: 0, bad: 2 });
        assert_eq!(api.accuracy_score, Some(0.4));
        // Read back, the counts are the same figures.
        let counts = api
            .confusion_matrix_values
            .iter()
            .flat_map(|(e, row)| row.iter().map(move |(p, c)| (e.as_str(), p.as_str(), *c)));
        assert_eq!(
            Summary::from_counts(&set, counts).unwrap(),
            set.evaluate(&thresholds)
        );
    }
}
