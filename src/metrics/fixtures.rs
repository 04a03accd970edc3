//! Test sets (small enough to work out by hand, or random) and a brute-force optimum,
//! shared by the metrics' tests.

use proptest::prelude::*;

use super::objective::Objective;
use super::sweep::Parameter;
use super::{Aggregation, AnomalyScores, TestSet, Thresholds};
use crate::thresholds::Scale;

/// A classifier with classes a, b (`class_scores`: two a window) and an anomaly block
/// with one score a window.
pub fn a_b_and_anomaly(expected: Vec<u16>, class_scores: Vec<f64>, anomaly: Vec<f64>) -> TestSet {
    TestSet {
        detection: None,
        labels: vec!["a".into(), "b".into(), "anomaly".into()],
        class_count: 2,
        normal_label: None,
        anomaly_label: Some(2),
        expected,
        class_scores,
        anomaly: AnomalyScores::Single(anomaly),
    }
}

/// Two classes a, b and anomalies, six windows: w0, w1 expected a; w2, w3 b; w4, w5
/// anomalous. Top classes a 0.9, a 0.55, b 0.8, b 0.6, tie 0.5 (a), a 0.7; anomaly scores
/// 0.1, 0.2, 0.1, 0.4, 0.6, 0.35.
pub fn six_windows() -> TestSet {
    a_b_and_anomaly(
        vec![0, 0, 1, 1, 2, 2],
        vec![0.9, 0.1, 0.55, 0.45, 0.2, 0.8, 0.4, 0.6, 0.5, 0.5, 0.7, 0.3],
        vec![0.1, 0.2, 0.1, 0.4, 0.6, 0.35],
    )
}

/// A classifier with two classes and an anomaly block; scores on a coarse grid as often
/// as not, so that ties (between windows, and with the thresholds) are common.
pub fn random_set() -> impl Strategy<Value = (TestSet, Thresholds)> {
    (3usize..50, any::<bool>()).prop_flat_map(|(n, coarse)| {
        let score = move |hi: f64| {
            (0.0f64..hi).prop_map(move |s| if coarse { (s * 20.0).round() / 20.0 } else { s })
        };
        (
            proptest::collection::vec(0u16..3, n),
            proptest::collection::vec(score(1.0), n),
            proptest::collection::vec(score(2.0), n),
            score(1.0),
            score(2.0),
        )
            .prop_map(|(expected, top, anomaly, min_score, min_anomaly_score)| {
                let class_scores = top.iter().flat_map(|&p| [p, 1.0 - p]).collect();
                let set = a_b_and_anomaly(expected, class_scores, anomaly);
                let base = Thresholds {
                    min_score,
                    min_anomaly_score,
                    aggregation: Aggregation::Max,
                };
                (set, base)
            })
    })
}

/// The best score of `parameter` by brute force: a full evaluation from scratch at every
/// score of the set and the least double above it, the range's ends and the current value,
/// the other thresholds as in `base`.
pub fn brute_force(
    set: &TestSet,
    base: &Thresholds,
    parameter: Parameter,
    range: &Scale,
    objective: &Objective,
) -> Option<f64> {
    let mut values: Vec<f64> = match parameter {
        Parameter::MinScore => match &set.detection {
            Some(d) => d
                .images
                .iter()
                .flat_map(|i| i.detections.iter().map(|d| d.score))
                .collect(),
            None => (0..set.len())
                .flat_map(|i| set.scores(i).iter().copied())
                .collect(),
        },
        Parameter::MinAnomalyScore => (0..set.len())
            .filter_map(|i| set.anomaly_score(i, base.aggregation))
            .collect(),
    };
    values.sort_by(f64::total_cmp);
    values.dedup();
    values.extend(values.clone().iter().map(|v| v.next_up()));
    values.extend([parameter.get(base), range.min, range.max, -1e9, 1e9]);
    values
        .into_iter()
        .filter(|v| !range.bounded || (range.min..=range.max).contains(v))
        .filter_map(|v| objective.score(&set.evaluate(&parameter.set(base, v))))
        .fold(None, |best: Option<f64>, s| {
            Some(best.map_or(s, |b| b.max(s)))
        })
}
