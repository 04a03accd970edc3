//! What "best" means for a threshold: objectives over the impulse's whole outcome, costs,
//! and the default for each kind of threshold. docs/objectives.md gives every formula.

use super::Summary;
use super::sweep::Parameter;

/// The largest cost accepted: costs are weights, and sums of larger ones overflow.
const MAX_COST: f64 = 1e6;

/// What each kind of wrong outcome costs, per window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Costs {
    /// An anomalous window not flagged (predicted a class, or uncertain).
    pub missed_anomaly: f64,
    /// A normal window flagged as an anomaly.
    pub false_alarm: f64,
    /// A normal window below `min_score`.
    pub uncertain: f64,
    /// A normal window predicted as another class.
    pub misclassified: f64,
}

impl Default for Costs {
    /// Every mistake alike: the expected cost is then the error rate.
    fn default() -> Self {
        Self {
            missed_anomaly: 1.0,
            false_alarm: 1.0,
            uncertain: 1.0,
            misclassified: 1.0,
        }
    }
}

impl Costs {
    /// `missed-anomaly=10,false-alarm=1,uncertain=0.2,misclassified=1`; a name left out
    /// costs 1.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut costs = Self::default();
        let mut seen = std::collections::HashSet::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not NAME=COST"))?;
            let value: f64 = value
                .trim()
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && (0.0..=MAX_COST).contains(v))
                .ok_or_else(|| format!("the cost of {name} must be a number from 0 to 1e6"))?;
            if !seen.insert(name.trim().to_string()) {
                return Err(format!("the cost of {} is given twice", name.trim()));
            }
            match name.trim() {
                "missed-anomaly" => costs.missed_anomaly = value,
                "false-alarm" => costs.false_alarm = value,
                "uncertain" => costs.uncertain = value,
                "misclassified" => costs.misclassified = value,
                other => {
                    return Err(format!(
                        "unknown cost `{other}` (costs: missed-anomaly, false-alarm, \
                         uncertain, misclassified)"
                    ));
                }
            }
        }
        // `--cost ''` would make every cost 1 without a word: a cost nobody chose.
        if seen.is_empty() {
            return Err(
                "no cost given: NAME=COST, e.g. missed-anomaly=10,false-alarm=1 (names: \
                 missed-anomaly, false-alarm, uncertain, misclassified)"
                    .into(),
            );
        }
        Ok(costs)
    }

    pub fn describe(&self) -> String {
        format!(
            "missed-anomaly={},false-alarm={},uncertain={},misclassified={}",
            self.missed_anomaly, self.false_alarm, self.uncertain, self.misclassified
        )
    }
}

/// What "best" means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// Highest mean F1 over every outcome the confusion matrix shows: each class, and
    /// `anomaly` where the impulse detects anomalies; uncertain windows count as wrong.
    MacroF1,
    /// Highest mean recall over every expected outcome.
    BalancedAccuracy,
    Accuracy,
    /// Lowest missed-anomaly rate with the false-alarm rate at most `max_fpr`.
    FewestMissed {
        max_fpr: f64,
    },
    /// Lowest false-alarm rate with the missed-anomaly rate at most `max_fnr`.
    FewestFalseAlarms {
        max_fnr: f64,
    },
    /// Highest mean of the share of anomalies caught and the share of normal windows
    /// left alone: missed anomalies and false alarms weigh alike, whatever their numbers.
    AnomalyBalance,
    /// Lowest expected cost per window.
    Cost(Costs),
}

impl Objective {
    pub fn name(&self) -> String {
        match self {
            Self::MacroF1 => "best macro F1".into(),
            Self::BalancedAccuracy => "best balanced accuracy".into(),
            Self::Accuracy => "best accuracy".into(),
            Self::FewestMissed { max_fpr } => format!(
                "fewest missed anomalies, false alarms ≤ {}",
                percent(*max_fpr)
            ),
            Self::FewestFalseAlarms { max_fnr } => format!(
                "fewest false alarms, missed anomalies ≤ {}",
                percent(*max_fnr)
            ),
            Self::AnomalyBalance => "balanced anomaly detection".into(),
            Self::Cost(_) => "lowest cost per window".into(),
        }
    }

    /// A short stable name, for JSON and the command line.
    pub fn key(&self) -> &'static str {
        match self {
            Self::MacroF1 => "f1",
            Self::BalancedAccuracy => "balanced-accuracy",
            Self::Accuracy => "accuracy",
            Self::FewestMissed { .. } => "fewest-missed",
            Self::FewestFalseAlarms { .. } => "fewest-false-alarms",
            Self::AnomalyBalance => "anomaly-balance",
            Self::Cost(_) => "cost",
        }
    }

    /// Whether it means anything for this parameter: the anomaly rates do not move with
    /// `min_score` (a flagged window is an anomaly whatever the classifier says).
    pub fn applies_to(&self, parameter: Parameter) -> bool {
        !matches!(
            self,
            Self::FewestMissed { .. } | Self::FewestFalseAlarms { .. } | Self::AnomalyBalance
        ) || parameter == Parameter::MinAnomalyScore
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

    /// What a threshold is tuned for unless the user says otherwise, and why.
    pub fn default_for(parameter: Parameter, costs: Option<Costs>) -> (Self, &'static str) {
        match (costs, parameter) {
            (Some(costs), _) => (Self::Cost(costs), "the costs given with --cost"),
            (None, Parameter::MinScore) => (
                Self::MacroF1,
                "it weighs every class and the anomaly outcome alike, and counts \
                 uncertain windows as wrong",
            ),
            (None, Parameter::MinAnomalyScore) => (
                Self::AnomalyBalance,
                "it weighs missed anomalies and false alarms alike, whatever their \
                 numbers",
            ),
        }
    }

    /// The objective's score of a summary: higher is better; `None` when the point is not
    /// allowed (or the figure does not exist).
    pub fn score(&self, s: &Summary) -> Option<f64> {
        // Object detection has one figure that weighs found and missed objects alike: F1
        // over all objects (IoU 0.5, or centroids for FOMO), whatever the objective.
        if let Some(d) = &s.detection {
            return d.all.f1();
        }
        match self {
            Self::MacroF1 => s.outcome_macro_f1(),
            Self::BalancedAccuracy => s.balanced_accuracy(),
            Self::Accuracy => s.accuracy(),
            Self::FewestMissed { max_fpr } => {
                let fpr = s.false_positive_rate()?;
                (fpr <= *max_fpr + 1e-12).then_some(-s.false_negative_rate()?)
            }
            Self::FewestFalseAlarms { max_fnr } => {
                let fnr = s.false_negative_rate()?;
                (fnr <= *max_fnr + 1e-12).then_some(-s.false_positive_rate()?)
            }
            Self::AnomalyBalance => {
                Some(1.0 - (s.false_positive_rate()? + s.false_negative_rate()?) / 2.0)
            }
            Self::Cost(costs) => s.cost_per_window(costs).map(|c| -c),
        }
    }

    /// The score as a user reads it: costs and rates as themselves, not negated.
    pub fn shown(&self, score: f64) -> String {
        let value = self.value_shown(score);
        match self {
            Self::FewestMissed { .. } => format!("missed anomalies {value}"),
            Self::FewestFalseAlarms { .. } => format!("false alarms {value}"),
            Self::Cost(_) => format!("cost {value} per window"),
            Self::MacroF1 => format!("macro F1 {value}"),
            Self::BalancedAccuracy => format!("balanced accuracy {value}"),
            Self::Accuracy => format!("accuracy {value}"),
            Self::AnomalyBalance => format!("anomaly balance {value}"),
        }
    }

    /// The figure alone, as [`Objective::shown`] writes it: `2.1 %`, `0.812`.
    pub fn value_shown(&self, score: f64) -> String {
        match self {
            Self::FewestMissed { .. } | Self::FewestFalseAlarms { .. } => percent(-score),
            Self::Cost(_) => format!("{:.3}", -score),
            Self::MacroF1 => format!("{score:.3}"),
            Self::BalancedAccuracy | Self::Accuracy | Self::AnomalyBalance => percent(score),
        }
    }

    /// The next objective that applies to `parameter`, in the tuner's `O` order.
    pub fn next(&self, parameter: Parameter, bounds: Bounds, costs: Option<Costs>) -> Self {
        let mut order = vec![
            Self::MacroF1,
            Self::BalancedAccuracy,
            Self::Accuracy,
            Self::AnomalyBalance,
            Self::FewestMissed {
                max_fpr: bounds.max_fpr,
            },
            Self::FewestFalseAlarms {
                max_fnr: bounds.max_fnr,
            },
        ];
        order.extend(costs.map(Self::Cost));
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

/// The bounds of the constrained anomaly objectives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub max_fpr: f64,
    pub max_fnr: f64,
}

impl Default for Bounds {
    fn default() -> Self {
        Self {
            max_fpr: crate::defaults::MAX_FPR,
            max_fnr: crate::defaults::MAX_FNR,
        }
    }
}

fn percent(rate: f64) -> String {
    format!("{:.1} %", rate * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Aggregation, TestSet, Thresholds};

    fn set() -> TestSet {
        crate::metrics::fixtures::six_windows()
    }

    fn at(min_score: f64, min_anomaly_score: f64) -> Summary {
        set().evaluate(&Thresholds {
            min_score,
            min_anomaly_score,
            aggregation: Aggregation::Max,
        })
    }

    #[test]
    fn every_objective_by_hand() {
        // min_score 0.6, min_anomaly_score 0.5: w0 a ✓, w1 uncertain (0.55), w2 b ✓,
        // w3 b ✓ (0.6), w4 anomaly ✓ (0.6), w5 a (0.35 not flagged; 0.7 a) ✗.
        let s = at(0.6, 0.5);
        assert_eq!(s.accuracy(), Some(4.0 / 6.0));
        // Recall: a 1/2, b 2/2, anomaly 1/2.
        assert_eq!(Objective::BalancedAccuracy.score(&s), Some(2.0 / 3.0));
        // Precision: a 1/2 (w0, w5), b 2/2, anomaly 1/1. F1: a 1/2, b 1, anomaly 2/3.
        let f1 = (0.5 + 1.0 + 2.0 / 3.0) / 3.0;
        assert!((Objective::MacroF1.score(&s).unwrap() - f1).abs() < 1e-12);
        // Normal windows flagged: none of 4; anomalies missed: 1 of 2.
        assert_eq!(Objective::AnomalyBalance.score(&s), Some(0.75));
        assert_eq!(
            Objective::FewestMissed { max_fpr: 0.0 }.score(&s),
            Some(-0.5)
        );
        assert_eq!(
            Objective::FewestFalseAlarms { max_fnr: 0.4 }.score(&s),
            None,
            "half the anomalies missed is over the bound"
        );
        assert_eq!(
            Objective::FewestFalseAlarms { max_fnr: 0.5 }.score(&s),
            Some(-0.0)
        );
        // Costs: w1 uncertain 0.2, w5 missed anomaly 10: 10.2 over 6 windows.
        let costs = Costs::parse("missed-anomaly=10,uncertain=0.2").unwrap();
        let cost = Objective::Cost(costs).score(&s).unwrap();
        assert!((cost + 10.2 / 6.0).abs() < 1e-12, "{cost}");
        // Flag everything (0.0): 4 false alarms at 1 each, nothing missed.
        let all = at(0.6, 0.0);
        assert_eq!(all.cost_per_window(&costs), Some(4.0 / 6.0));
    }

    #[test]
    fn macro_f1_counts_the_anomaly_outcome() {
        // Flagging nothing loses the anomaly outcome's F1 entirely: the all-outcome
        // macro F1 falls, where the classifier-only one could not see it.
        let flags_none = at(0.6, 10.0);
        let flags_some = at(0.6, 0.5);
        assert!(
            Objective::MacroF1.score(&flags_none).unwrap()
                < Objective::MacroF1.score(&flags_some).unwrap()
        );
    }

    #[test]
    fn costs_parse_with_clear_errors() {
        assert!(Costs::parse("").unwrap_err().contains("no cost given"));
        assert!(Costs::parse(" , ").unwrap_err().contains("no cost given"));
        let c = Costs::parse(" missed-anomaly=10 , false-alarm=0.5").unwrap();
        assert_eq!(
            (c.missed_anomaly, c.false_alarm, c.uncertain),
            (10.0, 0.5, 1.0)
        );
        assert!(
            Costs::parse("missed=1")
                .unwrap_err()
                .contains("unknown cost")
        );
        assert!(
            Costs::parse("uncertain=-1")
                .unwrap_err()
                .contains("from 0 to 1e6")
        );
        assert!(Costs::parse("missed-anomaly=1e308").is_err());
        assert!(
            Costs::parse("uncertain=1,uncertain=2")
                .unwrap_err()
                .contains("twice")
        );
        assert!(Costs::parse("uncertain").unwrap_err().contains("NAME=COST"));
        assert!(Costs::parse("uncertain=NaN").is_err());
    }

    #[test]
    fn defaults_and_cycling_follow_the_threshold() {
        let (o, why) = Objective::default_for(Parameter::MinScore, None);
        assert_eq!(o, Objective::MacroF1);
        assert!(why.contains("anomaly outcome"));
        assert_eq!(
            Objective::default_for(Parameter::MinAnomalyScore, None).0,
            Objective::AnomalyBalance
        );
        let costs = Costs::default();
        assert_eq!(
            Objective::default_for(Parameter::MinScore, Some(costs)).0,
            Objective::Cost(costs)
        );
        let bounds = Bounds::default();
        // min_score skips the anomaly-only objectives.
        let mut o = Objective::MacroF1;
        let mut seen = Vec::new();
        for _ in 0..4 {
            o = o.next(Parameter::MinScore, bounds, Some(costs));
            seen.push(o.key());
        }
        assert_eq!(seen, ["balanced-accuracy", "accuracy", "cost", "f1"]);
        let mut o = Objective::Accuracy;
        let mut seen = Vec::new();
        for _ in 0..4 {
            o = o.next(Parameter::MinAnomalyScore, bounds, None);
            seen.push(o.key());
        }
        assert_eq!(
            seen,
            [
                "anomaly-balance",
                "fewest-missed",
                "fewest-false-alarms",
                "f1"
            ]
        );
    }
}
