//! Metrics across a threshold's range, and the value that optimises an objective.

use super::{Summary, TestSet, Thresholds};

/// Which threshold a sweep varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parameter {
    MinScore,
    MinAnomalyScore,
}

impl Parameter {
    /// The parameter behind a threshold key, if it moves the metrics.
    pub fn of_key(block_type: &str, key: &str) -> Option<Self> {
        match key {
            "min_score" if !super::is_anomaly_block(block_type) => Some(Self::MinScore),
            "min_anomaly_score" => Some(Self::MinAnomalyScore),
            _ => None,
        }
    }

    pub fn set(self, thresholds: &Thresholds, value: f64) -> Thresholds {
        let mut t = *thresholds;
        match self {
            Self::MinScore => t.min_score = value,
            Self::MinAnomalyScore => t.min_anomaly_score = value,
        }
        t
    }
}

/// What "best" means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// Highest macro F1 over the classifier's classes (F1 of catching anomalies when there
    /// is no classifier).
    MacroF1,
    Accuracy,
    /// Lowest false-negative rate with the false-positive rate at most `max_fpr`.
    FewestMissedAnomalies {
        max_fpr: f64,
    },
}

impl Objective {
    pub fn name(&self) -> String {
        match self {
            Self::MacroF1 => "best macro F1".into(),
            Self::Accuracy => "best accuracy".into(),
            Self::FewestMissedAnomalies { max_fpr } => {
                format!(
                    "fewest missed anomalies, false positives ≤ {:.0} %",
                    max_fpr * 100.0
                )
            }
        }
    }

    /// Whether it means anything for this parameter.
    pub fn applies_to(&self, parameter: Parameter) -> bool {
        !matches!(self, Self::FewestMissedAnomalies { .. })
            || parameter == Parameter::MinAnomalyScore
    }

    /// This objective where it applies to `parameter`, best macro F1 elsewhere: the one
    /// fallback the tuner, the views and `suggest` share.
    pub fn for_parameter(self, parameter: Parameter) -> Self {
        if self.applies_to(parameter) {
            self
        } else {
            Self::MacroF1
        }
    }

    /// The objective's score of a summary: higher is better; `None` when the point is not
    /// allowed (or the figure does not exist).
    pub fn score(&self, s: &Summary) -> Option<f64> {
        match self {
            Self::MacroF1 => s
                .macro_scores()
                .map(|(_, _, f1)| f1)
                .or_else(|| s.anomaly_f1()),
            Self::Accuracy => s.accuracy(),
            Self::FewestMissedAnomalies { max_fpr } => {
                let fpr = s.false_positive_rate()?;
                let fnr = s.false_negative_rate()?;
                (fpr <= *max_fpr + 1e-12).then_some(-fnr)
            }
        }
    }

    /// The next objective that applies to `parameter`.
    pub fn next(&self, parameter: Parameter, max_fpr: f64) -> Self {
        let order = [
            Self::MacroF1,
            Self::Accuracy,
            Self::FewestMissedAnomalies { max_fpr },
        ];
        let i = order
            .iter()
            .position(|o| std::mem::discriminant(o) == std::mem::discriminant(self))
            .unwrap_or(0);
        (1..=order.len())
            .map(|k| order[(i + k) % order.len()])
            .find(|o| o.applies_to(parameter))
            .unwrap_or(Self::MacroF1)
    }
}

/// One curve of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: &'static str,
    pub values: Vec<Option<f64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    pub parameter: Parameter,
    pub xs: Vec<f64>,
    pub series: Vec<Series>,
    /// The best point for the objective, and its score.
    pub optimum: Option<f64>,
}

/// Metrics at each of `xs` for `parameter`, the other thresholds as in `base`.
pub fn sweep(
    set: &TestSet,
    base: &Thresholds,
    parameter: Parameter,
    xs: &[f64],
    objective: &Objective,
) -> Sweep {
    let names: [&'static str; 3] = match parameter {
        Parameter::MinScore => ["accuracy", "macro F1", "uncertain"],
        Parameter::MinAnomalyScore => ["accuracy", "false positives", "false negatives"],
    };
    let mut series: Vec<Series> = names
        .iter()
        .map(|name| Series {
            name,
            values: Vec::with_capacity(xs.len()),
        })
        .collect();
    let mut best: Option<(f64, f64)> = None;
    let decided = set.decided(base.aggregation);
    for &x in xs {
        let s = decided.evaluate(&parameter.set(base, x));
        let figures = match parameter {
            Parameter::MinScore => [
                s.accuracy(),
                s.macro_scores()
                    .map(|(_, _, f1)| f1)
                    .or_else(|| s.anomaly_f1()),
                s.uncertain_rate(),
            ],
            Parameter::MinAnomalyScore => [
                s.accuracy(),
                s.false_positive_rate(),
                s.false_negative_rate(),
            ],
        };
        for (serie, v) in series.iter_mut().zip(figures) {
            serie.values.push(v);
        }
        if let Some(score) = objective.score(&s)
            && best.is_none_or(|(_, b)| score > b + 1e-12)
        {
            best = Some((x, score));
        }
    }
    Sweep {
        parameter,
        xs: xs.to_vec(),
        series,
        optimum: best.map(|(x, _)| x),
    }
}

/// `count` evenly spaced points from `min` to `max`.
pub fn points(min: f64, max: f64, count: usize) -> Vec<f64> {
    if count < 2 {
        return vec![min];
    }
    (0..count)
        .map(|i| min + (max - min) * i as f64 / (count - 1) as f64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Aggregation, AnomalyScores};

    fn set() -> TestSet {
        TestSet {
            labels: vec!["a".into(), "b".into(), "anomaly".into()],
            class_count: 2,
            normal_label: None,
            anomaly_label: Some(2),
            expected: vec![0, 0, 1, 1, 2, 2],
            class_scores: vec![0.9, 0.1, 0.55, 0.45, 0.2, 0.8, 0.4, 0.6, 0.5, 0.5, 0.7, 0.3],
            anomaly: AnomalyScores::Single(vec![0.1, 0.2, 0.1, 0.4, 0.6, 0.35]),
        }
    }

    fn base() -> Thresholds {
        Thresholds {
            min_score: 0.5,
            min_anomaly_score: 0.5,
            aggregation: Aggregation::Max,
        }
    }

    #[test]
    fn the_optimum_is_the_best_point_by_hand() {
        // min_anomaly_score at 0.3: flags w3 (0.4, a false positive), w4, w5 → FPR 1/4, FNR 0.
        // at 0.5: flags only w4 → FPR 0, FNR 1/2. at 0.7: flags none → FNR 1.
        let xs = [0.3, 0.5, 0.7];
        let s = sweep(
            &set(),
            &base(),
            Parameter::MinAnomalyScore,
            &xs,
            &Objective::FewestMissedAnomalies { max_fpr: 0.05 },
        );
        assert_eq!(s.optimum, Some(0.5));
        assert_eq!(s.series[1].values, vec![Some(0.25), Some(0.0), Some(0.0)]);
        assert_eq!(s.series[2].values, vec![Some(0.0), Some(0.5), Some(1.0)]);
        let loose = sweep(
            &set(),
            &base(),
            Parameter::MinAnomalyScore,
            &xs,
            &Objective::FewestMissedAnomalies { max_fpr: 0.3 },
        );
        assert_eq!(loose.optimum, Some(0.3));
        let none = sweep(
            &set(),
            &base(),
            Parameter::MinAnomalyScore,
            &[0.0],
            &Objective::FewestMissedAnomalies { max_fpr: 0.0 },
        );
        assert_eq!(
            none.optimum, None,
            "every window flagged: no point keeps FPR at 0"
        );
    }

    #[test]
    fn accuracy_objective_matches_the_accuracy_series() {
        let xs = points(0.0, 1.0, 11);
        let s = sweep(
            &set(),
            &base(),
            Parameter::MinScore,
            &xs,
            &Objective::Accuracy,
        );
        let best = s.series[0]
            .values
            .iter()
            .flatten()
            .cloned()
            .fold(f64::MIN, f64::max);
        let at = s.xs[s.series[0]
            .values
            .iter()
            .position(|v| *v == Some(best))
            .unwrap()];
        assert_eq!(s.optimum, Some(at));
    }

    #[test]
    fn a_sweep_point_equals_a_full_evaluation() {
        let set = set();
        let xs = points(-0.5, 1.5, 41);
        for parameter in [Parameter::MinScore, Parameter::MinAnomalyScore] {
            let decided = set.decided(Aggregation::Max);
            for &x in &xs {
                let t = parameter.set(&base(), x);
                assert_eq!(
                    decided.evaluate(&t),
                    set.evaluate(&t),
                    "{parameter:?} at {x}"
                );
            }
        }
    }

    #[test]
    fn objectives_cycle_over_what_applies() {
        let o = Objective::MacroF1;
        assert_eq!(o.next(Parameter::MinScore, 0.05), Objective::Accuracy);
        assert_eq!(
            Objective::Accuracy.next(Parameter::MinScore, 0.05),
            Objective::MacroF1
        );
        assert_eq!(
            Objective::Accuracy.next(Parameter::MinAnomalyScore, 0.05),
            Objective::FewestMissedAnomalies { max_fpr: 0.05 }
        );
        assert_eq!(points(0.0, 1.0, 101).len(), 101);
    }
}
