//! Model testing figures at given thresholds: a confusion matrix and everything derived
//! from it (accuracy, balanced accuracy, precision, recall, F1, anomaly rates, cost).

use std::collections::HashMap;

use super::confusion::Confusion;
use super::{Predicted, TestSet, UNCERTAIN, detection, objective};

/// Windows counted good and bad.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub good: u32,
    pub bad: u32,
}

/// Model testing figures: a confusion matrix and everything derived from it; for object
/// detection, the detection figures instead.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub(super) label_count: usize,
    pub(super) class_count: usize,
    pub(super) anomaly_label: Option<u16>,
    /// Expected row, predicted column, the last column being `uncertain`.
    pub(super) confusion: Confusion,
    pub detection: Option<detection::DetectionSummary>,
}

/// Why counts from elsewhere do not read as a summary over a set's labels.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CountsError {
    #[error("unknown label `{0}`")]
    UnknownLabel(String),
    /// A fraction, a negative or more than a count holds.
    #[error("`{0}` is not a number of windows")]
    NotACount(f64),
    /// More windows in all than a count holds.
    #[error("more than {} windows in all", u32::MAX)]
    TooManyWindows,
}

impl Summary {
    /// An object detection impulse's figures: no windows to classify.
    pub fn of_detection(figures: detection::DetectionSummary) -> Self {
        Self {
            label_count: 0,
            class_count: 0,
            anomaly_label: None,
            confusion: Confusion::new(0, None),
            detection: Some(figures),
        }
    }

    /// Windows expected as `expected` and predicted as `predicted`.
    pub fn count(&self, expected: usize, predicted: Predicted) -> u32 {
        let column = match predicted {
            Predicted::Label(l) => l as usize,
            Predicted::Uncertain => self.label_count,
        };
        self.confusion.get(expected, column)
    }

    pub fn per_label(&self, label: usize) -> Tally {
        let good = self.confusion.right(label);
        Tally {
            good,
            bad: self.confusion.row(label) - good,
        }
    }

    pub fn total(&self) -> Tally {
        (0..self.label_count).fold(Tally::default(), |acc, l| {
            let g = self.per_label(l);
            Tally {
                good: acc.good + g.good,
                bad: acc.bad + g.bad,
            }
        })
    }

    pub fn window_count(&self) -> u32 {
        let t = self.total();
        t.good + t.bad
    }

    /// Windows below `min_score`.
    pub fn uncertain(&self) -> u32 {
        (0..self.label_count)
            .map(|l| self.confusion.uncertain(l))
            .sum()
    }

    pub fn uncertain_rate(&self) -> Option<f64> {
        ratio(self.uncertain(), self.window_count())
    }

    pub fn accuracy(&self) -> Option<f64> {
        let t = self.total();
        ratio(t.good, t.good + t.bad)
    }

    /// Mean recall over the labels that occur in the test set.
    pub fn balanced_accuracy(&self) -> Option<f64> {
        let recalls: Vec<f64> = (0..self.label_count)
            .filter_map(|l| {
                let g = self.per_label(l);
                ratio(g.good, g.good + g.bad)
            })
            .collect();
        (!recalls.is_empty()).then(|| recalls.iter().sum::<f64>() / recalls.len() as f64)
    }

    /// Share of anomalous windows flagged as anomalies.
    pub fn anomaly_accuracy(&self) -> Option<f64> {
        let a = self.anomaly_label? as usize;
        let g = self.per_label(a);
        ratio(g.good, g.good + g.bad)
    }

    /// Share of normal windows not flagged as anomalies.
    pub fn no_anomaly_accuracy(&self) -> Option<f64> {
        let a = self.anomaly_label? as usize;
        let (mut normal, mut flagged) = (0, 0);
        for l in (0..self.label_count).filter(|&l| l != a) {
            normal += self.confusion.row(l);
            flagged += self.confusion.flagged(l);
        }
        ratio(normal - flagged, normal)
    }

    /// Normal windows flagged as anomalies, over normal windows.
    pub fn false_positive_rate(&self) -> Option<f64> {
        self.no_anomaly_accuracy().map(|a| 1.0 - a)
    }

    /// Anomalous windows not flagged, over anomalous windows.
    pub fn false_negative_rate(&self) -> Option<f64> {
        self.anomaly_accuracy().map(|a| 1.0 - a)
    }

    pub fn precision(&self, label: usize) -> f64 {
        ratio(self.confusion.right(label), self.confusion.predicted(label)).unwrap_or(0.0)
    }

    pub fn recall(&self, label: usize) -> f64 {
        let g = self.per_label(label);
        ratio(g.good, g.good + g.bad).unwrap_or(0.0)
    }

    pub fn f1(&self, label: usize) -> f64 {
        let (p, r) = (self.precision(label), self.recall(label));
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    /// Macro averages over the classifier's classes: (precision, recall, F1).
    pub fn macro_scores(&self) -> Option<(f64, f64, f64)> {
        if self.class_count == 0 {
            return None;
        }
        let k = self.class_count as f64;
        let sum = |f: &dyn Fn(usize) -> f64| (0..self.class_count).map(f).sum::<f64>() / k;
        Some((
            sum(&|c| self.precision(c)),
            sum(&|c| self.recall(c)),
            sum(&|c| self.f1(c)),
        ))
    }

    /// Mean F1 over every outcome the confusion matrix shows: each label expected or
    /// predicted at least once (the classes, `anomaly`, `no anomaly`). An uncertain window
    /// is a miss of its expected label and a prediction of none.
    pub fn outcome_macro_f1(&self) -> Option<f64> {
        let shown: Vec<usize> = (0..self.label_count)
            .filter(|&l| self.confusion.row(l) > 0 || self.confusion.predicted(l) > 0)
            .collect();
        (!shown.is_empty())
            .then(|| shown.iter().map(|&l| self.f1(l)).sum::<f64>() / shown.len() as f64)
    }

    /// The expected cost of a window's outcome: a missed anomaly, a false alarm, an
    /// uncertain or a misclassified normal window each cost what `costs` says; a right
    /// answer costs nothing.
    pub fn cost_per_window(&self, costs: &objective::Costs) -> Option<f64> {
        let anomaly = self.anomaly_label.map(usize::from);
        let mut total = 0.0;
        for expected in 0..self.label_count {
            let c = &self.confusion;
            let wrong = c.row(expected) - c.right(expected);
            total += if Some(expected) == anomaly {
                costs.missed_anomaly * f64::from(wrong)
            } else {
                let (uncertain, flagged) = (c.uncertain(expected), c.flagged(expected));
                costs.uncertain * f64::from(uncertain)
                    + costs.false_alarm * f64::from(flagged)
                    + costs.misclassified * f64::from(wrong - uncertain - flagged)
            };
        }
        let windows = self.window_count();
        (windows > 0).then(|| total / f64::from(windows))
    }

    /// Figures counted elsewhere (Studio's own), read into a summary over `set`'s labels,
    /// so that they can be compared with, and derived like, a local evaluation: each
    /// (expected, predicted, count), the predicted label `uncertain` for windows below
    /// `min_score`. Labels that `set` does not know are an error.
    pub fn from_counts<'a>(
        set: &TestSet,
        counts: impl IntoIterator<Item = (&'a str, &'a str, f64)>,
    ) -> Result<Self, CountsError> {
        let n = set.labels.len();
        let mut index = HashMap::with_capacity(n);
        for (i, label) in set.labels.iter().enumerate().rev() {
            index.insert(label.as_str(), i);
        }
        let index = |label: &str| {
            index
                .get(label)
                .copied()
                .ok_or_else(|| CountsError::UnknownLabel(label.into()))
        };
        // A cell said twice counts as said last.
        let mut cells = HashMap::new();
        for (expected, predicted, count) in counts {
            let r = index(expected)?;
            let c = if predicted == UNCERTAIN {
                n
            } else {
                index(predicted)?
            };
            // Counts are whole; a server's fraction or a negative is no count.
            if !(count.is_finite() && count >= 0.0 && count <= f64::from(u32::MAX)) {
                return Err(CountsError::NotACount(count));
            }
            cells.insert((r, c), count as u32);
        }
        let windows: u64 = cells.values().map(|&c| u64::from(c)).sum();
        if windows > u64::from(u32::MAX) {
            return Err(CountsError::TooManyWindows);
        }
        let mut confusion = Confusion::new(n, set.anomaly_label.map(usize::from));
        for ((r, c), count) in cells {
            confusion.add(r, c, count);
        }
        Ok(Summary {
            label_count: n,
            class_count: set.class_count,
            anomaly_label: set.anomaly_label,
            confusion,
            detection: None,
        })
    }

    /// The F1 score of catching anomalies (anomaly label as the positive class).
    pub fn anomaly_f1(&self) -> Option<f64> {
        self.anomaly_label.map(|a| self.f1(a as usize))
    }
}

fn ratio(numerator: u32, denominator: u32) -> Option<f64> {
    (denominator > 0).then(|| f64::from(numerator) / f64::from(denominator))
}
