//! Test sets small enough to work out by hand, shared by the metrics' tests.

use super::{AnomalyScores, TestSet};

/// Two classes a, b and anomalies, six windows: w0, w1 expected a; w2, w3 b; w4, w5
/// anomalous. Top classes a 0.9, a 0.55, b 0.8, b 0.6, tie 0.5 (a), a 0.7; anomaly scores
/// 0.1, 0.2, 0.1, 0.4, 0.6, 0.35.
pub fn six_windows() -> TestSet {
    TestSet {
        detection: None,
        labels: vec!["a".into(), "b".into(), "anomaly".into()],
        class_count: 2,
        normal_label: None,
        anomaly_label: Some(2),
        expected: vec![0, 0, 1, 1, 2, 2],
        class_scores: vec![0.9, 0.1, 0.55, 0.45, 0.2, 0.8, 0.4, 0.6, 0.5, 0.5, 0.7, 0.3],
        anomaly: AnomalyScores::Single(vec![0.1, 0.2, 0.1, 0.4, 0.6, 0.35]),
    }
}
