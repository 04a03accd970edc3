//! Metrics across a threshold's range, and the value that optimises an objective.

pub use super::objective::Objective;
use super::{Aggregation, Interrupt, Summary, TestSet, Thresholds};
use crate::thresholds::Scale;

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

    pub fn get(self, thresholds: &Thresholds) -> f64 {
        match self {
            Self::MinScore => thresholds.min_score,
            Self::MinAnomalyScore => thresholds.min_anomaly_score,
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

/// One curve of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: &'static str,
    pub values: Vec<Option<f64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    pub parameter: Parameter,
    /// What the optimum is best at.
    pub objective: Objective,
    pub xs: Vec<f64>,
    pub series: Vec<Series>,
    /// The best point for the objective (the first of equals), and its score; `None` when
    /// no point meets the objective's bound.
    pub optimum: Option<f64>,
    pub best_score: Option<f64>,
}

/// Metrics at each of `xs` for `parameter`, the other thresholds as in `base`.
pub fn sweep(
    set: &TestSet,
    base: &Thresholds,
    parameter: Parameter,
    xs: &[f64],
    objective: &Objective,
) -> Sweep {
    match sweep_until(set, base, parameter, xs, objective, &Interrupt::never()) {
        Some(sweep) => sweep,
        None => unreachable!("never interrupted"),
    }
}

/// [`sweep`], or `None` when `stop` is raised first.
pub fn sweep_until(
    set: &TestSet,
    base: &Thresholds,
    parameter: Parameter,
    xs: &[f64],
    objective: &Objective,
    stop: &Interrupt,
) -> Option<Sweep> {
    if stop.is_raised() {
        return None;
    }
    let names: [&'static str; 3] = match (parameter, &set.detection) {
        (Parameter::MinScore, Some(_)) => ["precision", "recall", "F1"],
        (Parameter::MinScore, None) => ["accuracy", "macro F1", "uncertain"],
        (Parameter::MinAnomalyScore, _) => ["accuracy", "false positives", "false negatives"],
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
        if stop.is_raised() {
            return None;
        }
        let s = match &set.detection {
            // Counts only: the average precisions are not drawn, and cost a pass each.
            Some(d) => Summary::of_detection(d.evaluate(parameter.set(base, x).min_score, false)),
            None => decided.evaluate(&parameter.set(base, x)),
        };
        let figures = match (parameter, &s.detection) {
            (Parameter::MinScore, Some(d)) => [d.all.precision(), d.all.recall(), d.all.f1()],
            (Parameter::MinScore, None) => [s.accuracy(), s.outcome_macro_f1(), s.uncertain_rate()],
            (Parameter::MinAnomalyScore, _) => [
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
    Some(Sweep {
        parameter,
        objective: *objective,
        xs: xs.to_vec(),
        series,
        optimum: best.map(|(x, _)| x),
        best_score: best.map(|(_, score)| score),
    })
}

/// The values a search tries for `parameter`: [`crate::thresholds::SWEEP_POINTS`] points
/// over the span of the scores it is compared with, not over the slider's range, which a
/// far-off value (a typed 35) stretches until the points are too far apart to see the
/// optimum; rounded to the scale's steps.
pub fn search_points(parameter: Parameter, scale: &Scale, set: &TestSet) -> Vec<f64> {
    let range = match (parameter, set.anomaly_span()) {
        (Parameter::MinAnomalyScore, Some((lo, hi))) => Scale::open(&[lo, hi]),
        _ => *scale,
    };
    points(range.min, range.max, crate::thresholds::SWEEP_POINTS)
        .into_iter()
        .map(|x| range.clean(x))
        .collect()
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

/// The options of the visual anomaly aggregation, each with the other thresholds as in
/// the base: its figures and the objective's score there, and, since each option puts the
/// scores on its own scale, the score at its own best anomaly threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionSweep {
    pub objective: Objective,
    pub points: Vec<OptionPoint>,
    /// The point with the best score at its own best anomaly threshold (where there is
    /// one; else at the threshold as it is): the current option among equals, else the
    /// first; `None` when no option meets the objective's bound.
    pub best: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OptionPoint {
    /// The option as Studio offers it.
    pub value: String,
    pub aggregation: Aggregation,
    /// At the anomaly threshold as it is.
    pub summary: Summary,
    pub score: Option<f64>,
    /// The anomaly threshold's best value with this option, and the score there (the
    /// threshold as it is when nothing does better).
    pub best_with: Option<(f64, f64)>,
}

impl OptionPoint {
    /// What the option is judged on: its score at its best anomaly threshold, where the
    /// threshold can move.
    pub fn judged(&self) -> Option<f64> {
        self.best_with.map(|(_, score)| score).or(self.score)
    }
}

/// Each of `options` evaluated with the others as in `base`; `anomaly`, the range of the
/// anomaly threshold where it can move with the option.
pub fn sweep_options(
    set: &TestSet,
    base: &Thresholds,
    options: &[(String, Aggregation)],
    anomaly: Option<&Scale>,
    objective: &Objective,
) -> OptionSweep {
    let never = Interrupt::never();
    match sweep_options_until(set, base, options, anomaly, objective, &never) {
        Some(sweep) => sweep,
        None => unreachable!("never interrupted"),
    }
}

/// [`sweep_options`], or `None` when `stop` is raised first.
pub fn sweep_options_until(
    set: &TestSet,
    base: &Thresholds,
    options: &[(String, Aggregation)],
    anomaly: Option<&Scale>,
    objective: &Objective,
    stop: &Interrupt,
) -> Option<OptionSweep> {
    let points: Vec<OptionPoint> = options
        .iter()
        .map(|(value, aggregation)| {
            if stop.is_raised() {
                return None;
            }
            let at = Thresholds {
                aggregation: *aggregation,
                ..*base
            };
            let summary = set.evaluate(&at);
            let score = objective.score(&summary);
            // `best_move`, with the figures at the threshold shown already in hand.
            let best_with = match anomaly {
                Some(range) => {
                    let parameter = Parameter::MinAnomalyScore;
                    let best = super::optimum::exact_best_until(
                        set, &at, parameter, range, objective, stop,
                    )?;
                    super::optimum::move_from(best, parameter.get(&at), score)
                }
                None => None,
            };
            Some(OptionPoint {
                value: value.clone(),
                aggregation: *aggregation,
                score,
                best_with,
                summary,
            })
        })
        .collect::<Option<_>>()?;
    let top = points
        .iter()
        .filter_map(OptionPoint::judged)
        .fold(None, |top: Option<f64>, s| {
            Some(top.map_or(s, |t| t.max(s)))
        });
    let best = top.and_then(|top| {
        let best = |p: &OptionPoint| p.judged().is_some_and(|s| s >= top - 1e-12);
        points
            .iter()
            .position(|p| best(p) && p.aggregation == base.aggregation)
            .or_else(|| points.iter().position(best))
    });
    Some(OptionSweep {
        objective: *objective,
        points,
        best,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Aggregation;

    fn set() -> TestSet {
        crate::metrics::fixtures::six_windows()
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
            &Objective::FewestMissed { max_fpr: 0.05 },
        );
        assert_eq!(s.optimum, Some(0.5));
        assert_eq!(s.series[1].values, vec![Some(0.25), Some(0.0), Some(0.0)]);
        assert_eq!(s.series[2].values, vec![Some(0.0), Some(0.5), Some(1.0)]);
        let loose = sweep(
            &set(),
            &base(),
            Parameter::MinAnomalyScore,
            &xs,
            &Objective::FewestMissed { max_fpr: 0.3 },
        );
        assert_eq!(loose.optimum, Some(0.3));
        let none = sweep(
            &set(),
            &base(),
            Parameter::MinAnomalyScore,
            &[0.0],
            &Objective::FewestMissed { max_fpr: 0.0 },
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
}
