//! Model testing metrics at given thresholds.
//!
//! Pure functions over a compact test set (numeric arrays, one entry per window). The
//! simulated Studio reports exactly these figures from getClassifyJobResult, and the tuner
//! can compute the same figures locally. The rules, as Studio applies them:
//!
//! - An anomaly block flags a window when its anomaly score is **at or above**
//!   `min_anomaly_score`; a flagged window is predicted `anomaly`, whatever the classifier
//!   says. For visual anomaly the window's score is the mean or the max of its patch scores,
//!   per `anomaly_scoring_aggregation_method`.
//! - Otherwise a classifier predicts its top class when that class's score is at or above
//!   `min_score`, and `uncertain` below it. Ties go to the first class.
//! - With no classifier, an unflagged window is predicted the normal label (`no anomaly`).
//! - A window is good when the prediction equals its expected label; `uncertain` is never
//!   good.

mod aggregation;
mod check;
mod confusion;
pub mod detection;
#[cfg(test)]
pub(crate) mod fixtures;
mod interrupt;
pub use aggregation::Aggregation;
pub mod joint;
pub mod objective;
pub mod optimum;
pub mod suggest;
mod summary;
pub mod sweep;

use serde_json::json;

use crate::api::models::ThresholdValue;
pub use check::InconsistentSet;
pub use interrupt::Interrupt;
pub use summary::{CountsError, Summary, Tally};

/// The label of the confusion matrix column for windows below `min_score`.
pub const UNCERTAIN: &str = "uncertain";

/// Per-window anomaly scores of a test set.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub enum AnomalyScores {
    #[default]
    None,
    /// One score per window (K-means, GMM).
    Single(Vec<f64>),
    /// Mean and max of the patch scores per window (visual anomaly).
    Visual { mean: Vec<f64>, max: Vec<f64> },
}

/// The thresholds that decide predictions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub min_score: f64,
    pub min_anomaly_score: f64,
    pub aggregation: Aggregation,
}

impl Thresholds {
    /// The thresholds that decide predictions, from (learn block type, key, value) triples:
    /// `min_score` of the classifier (not of an anomaly block), `min_anomaly_score`, and the
    /// visual anomaly aggregation. Other keys do not change the metrics.
    pub fn from_blocks<'a>(
        values: impl IntoIterator<Item = (&'a str, &'a str, &'a ThresholdValue)>,
    ) -> Self {
        values
            .into_iter()
            .fold(Self::default(), |thresholds, (block_type, key, value)| {
                thresholds.with(block_type, key, value)
            })
    }

    /// Whether the figures can be computed with `key` of a `block_type` block at `value`:
    /// not when a threshold that moves them holds a value this version cannot read (an
    /// aggregation added to Studio since, a value of another type), since the figures
    /// computed would be another value's.
    pub fn check(block_type: &str, key: &str, value: &ThresholdValue) -> Result<(), Unevaluable> {
        let expected = match (key, value) {
            ("min_score", ThresholdValue::Text(_)) if !is_anomaly_block(block_type) => "a number",
            ("min_anomaly_score", ThresholdValue::Text(_)) => "a number",
            (Aggregation::KEY, ThresholdValue::Text(v)) if Aggregation::parse(v).is_some() => {
                return Ok(());
            }
            (Aggregation::KEY, _) => "mean or max",
            _ => return Ok(()),
        };
        Err(Unevaluable {
            key: key.to_string(),
            value: match value {
                ThresholdValue::Text(v) => format!("`{v}`"),
                ThresholdValue::Number(n) => n.to_string(),
            },
            expected,
        })
    }

    /// These thresholds with `key` of a `block_type` block at `value`; the same when the
    /// key does not change the metrics.
    pub fn with(mut self, block_type: &str, key: &str, value: &ThresholdValue) -> Self {
        match (key, value) {
            ("min_score", ThresholdValue::Number(v)) if !is_anomaly_block(block_type) => {
                self.min_score = *v;
            }
            ("min_anomaly_score", ThresholdValue::Number(v)) => self.min_anomaly_score = *v,
            (Aggregation::KEY, ThresholdValue::Text(v)) => {
                self.aggregation = Aggregation::parse(v).unwrap_or_default();
            }
            _ => {}
        }
        self
    }
}

/// A threshold that moves the figures holds a value they cannot be computed at.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{key} is {value}, which the figures cannot be computed at (this version reads {expected})"
)]
pub struct Unevaluable {
    pub key: String,
    pub value: String,
    pub expected: &'static str,
}

/// Learn block types that score anomalies rather than classes: `anomaly`, `anomaly-gmm`,
/// `keras-visual-anomaly`, and by the same family rule the types added since
/// (`keras-anomaly`, …).
pub fn is_anomaly_block(block_type: &str) -> bool {
    block_type.contains("anomaly")
}

/// Visual anomaly blocks: a grid of patch scores per image, aggregated by mean or max.
pub fn is_visual_anomaly_block(block_type: &str) -> bool {
    block_type.contains("visual-anomaly")
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            min_score: 0.6,
            min_anomaly_score: 0.3,
            aggregation: Aggregation::Max,
        }
    }
}

/// A test set in compact form: what each learn block output for each window.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct TestSet {
    /// Every label a window can be expected (or predicted) as. The classifier's classes come
    /// first, in its output order.
    pub labels: Vec<String>,
    /// How many classifier outputs there are (`labels[..class_count]`); 0 with no classifier.
    pub class_count: usize,
    /// The label predicted for an unflagged window when there is no classifier.
    pub normal_label: Option<u16>,
    /// The label of anomalous windows, when the impulse detects anomalies.
    pub anomaly_label: Option<u16>,
    /// Expected label of each window (index into `labels`).
    pub expected: Vec<u16>,
    /// `expected.len() × class_count` classifier scores, window after window. Kept as the
    /// doubles the served decimals read as: a score equal to a threshold (as served) is at
    /// it, as Studio compares them, which single precision would break (0.9704 as `f32` is
    /// below 0.9704).
    pub class_scores: Vec<f64>,
    pub anomaly: AnomalyScores,
    /// An object detection impulse's images, boxes and detections (with no windows
    /// above).
    #[serde(default)]
    pub detection: Option<detection::DetectionSet>,
}

/// Where a test set's scores come from, and when they were read from Studio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScoresFrom {
    /// Studio's results, read whole at `read_at` (now).
    Studio { read_at: std::time::SystemTime },
    /// Kept from a read at `read_at` of the same model on the same data: Studio withholds
    /// its own results (stale after a threshold change, or it stopped serving them
    /// mid-read), and its figures are stale until regenerated.
    Kept { read_at: std::time::SystemTime },
}

impl ScoresFrom {
    /// When the scores were read from Studio.
    pub fn read_at(&self) -> std::time::SystemTime {
        match self {
            Self::Studio { read_at } | Self::Kept { read_at } => *read_at,
        }
    }

    pub fn is_kept(&self) -> bool {
        matches!(self, Self::Kept { .. })
    }

    /// When kept scores were read, in words (`2026-12-06 14:02 UTC`); `None` for Studio's.
    pub fn kept_at(&self) -> Option<String> {
        self.is_kept()
            .then(|| format!("{} UTC", utc_minutes(self.read_at())))
    }

    /// One line on where the figures come from, for kept scores.
    pub fn note(&self) -> Option<String> {
        self.kept_at().map(|at| {
            format!(
                "Studio's results are stale until regenerated: figures from the scores kept \
                 at {at} (the same model on the same test data)"
            )
        })
    }

    /// As JSON: `{"from": "studio" | "kept", "readAt": RFC 3339}`.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "from": if self.is_kept() { "kept" } else { "studio" },
            "readAt": humantime::format_rfc3339_seconds(self.read_at()).to_string(),
        })
    }
}

/// A time as `YYYY-MM-DD HH:MM` (UTC).
pub fn utc_minutes(at: std::time::SystemTime) -> String {
    let text = humantime::format_rfc3339_seconds(at).to_string();
    // 2026-12-06T14:02:11Z
    match (text.get(..10), text.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time}"),
        _ => text,
    }
}

/// The per-window scores of an impulse, and where they come from.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    pub set: std::sync::Arc<TestSet>,
    pub from: ScoresFrom,
}

/// The verdict on one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Predicted {
    Label(u16),
    Uncertain,
}

impl TestSet {
    /// Takes the last window (for object detection, the last image) out of the set.
    pub fn drop_last_window(&mut self) {
        if let Some(d) = &self.detection {
            let mut images = d.images.clone();
            images.pop();
            self.detection = Some(detection::DetectionSet::new(
                d.labels.clone(),
                d.matching,
                images,
            ));
            return;
        }
        if self.expected.pop().is_none() {
            return;
        }
        self.class_scores
            .truncate(self.expected.len() * self.class_count);
        match &mut self.anomaly {
            AnomalyScores::None => {}
            AnomalyScores::Single(scores) => {
                scores.pop();
            }
            AnomalyScores::Visual { mean, max } => {
                mean.pop();
                max.pop();
            }
        }
    }

    /// Windows; for object detection, images.
    pub fn len(&self) -> usize {
        match &self.detection {
            Some(d) => d.image_count(),
            None => self.expected.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.expected.is_empty()
    }

    pub fn has_classifier(&self) -> bool {
        self.class_count > 0
    }

    /// The classifier scores of window `i`.
    pub fn scores(&self, i: usize) -> &[f64] {
        &self.class_scores[i * self.class_count..(i + 1) * self.class_count]
    }

    /// Whether the aggregation option moves the figures: the windows have visual anomaly
    /// scores, a mean and a max each.
    pub fn aggregates(&self) -> bool {
        matches!(self.anomaly, AnomalyScores::Visual { .. })
    }

    /// The anomaly score of window `i` as the thresholds aggregate it.
    pub fn anomaly_score(&self, i: usize, aggregation: Aggregation) -> Option<f64> {
        match &self.anomaly {
            AnomalyScores::None => None,
            AnomalyScores::Single(scores) => Some(scores[i]),
            AnomalyScores::Visual { mean, max } => Some(match aggregation {
                Aggregation::Mean => mean[i],
                Aggregation::Max => max[i],
            }),
        }
    }

    /// The lowest and highest anomaly score of any window (for visual anomaly, under
    /// either aggregation): a threshold outside decides every window alike.
    pub fn anomaly_span(&self) -> Option<(f64, f64)> {
        let scores: Box<dyn Iterator<Item = &f64>> = match &self.anomaly {
            AnomalyScores::None => return None,
            AnomalyScores::Single(s) => Box::new(s.iter()),
            AnomalyScores::Visual { mean, max } => Box::new(mean.iter().chain(max)),
        };
        scores.filter(|s| s.is_finite()).fold(None, |span, &s| {
            Some(span.map_or((s, s), |(lo, hi): (f64, f64)| (lo.min(s), hi.max(s))))
        })
    }

    /// The classifier's top class and its score for window `i` (ties go to the first).
    #[inline]
    fn top(&self, i: usize) -> (u16, f64) {
        if self.class_count == 0 {
            return (0, 0.0);
        }
        let scores = self.scores(i);
        let mut best = 0;
        for (c, &s) in scores.iter().enumerate().skip(1) {
            if s > scores[best] {
                best = c;
            }
        }
        (best as u16, scores[best])
    }

    /// The one rule that turns a window's outputs into a verdict.
    #[inline]
    fn verdict(&self, top: (u16, f64), anomaly: Option<f64>, thresholds: &Thresholds) -> Predicted {
        if let (Some(anomaly_label), Some(score)) = (self.anomaly_label, anomaly)
            && score >= thresholds.min_anomaly_score
        {
            return Predicted::Label(anomaly_label);
        }
        if self.class_count == 0 {
            return self
                .normal_label
                .map_or(Predicted::Uncertain, Predicted::Label);
        }
        if top.1 >= thresholds.min_score {
            Predicted::Label(top.0)
        } else {
            Predicted::Uncertain
        }
    }

    /// The prediction for window `i`.
    #[inline]
    pub fn predict(&self, i: usize, thresholds: &Thresholds) -> Predicted {
        let anomaly = self.anomaly_score(i, thresholds.aggregation);
        self.verdict(self.top(i), anomaly, thresholds)
    }

    /// Each window's top class and anomaly score, worked out once: evaluating these at many
    /// thresholds (a sweep) is then a comparison or two per window.
    pub fn decided(&self, aggregation: Aggregation) -> Decided<'_> {
        Decided {
            set: self,
            aggregation,
            top: (0..self.len()).map(|i| self.top(i)).collect(),
            anomaly: (0..self.len())
                .map(|i| self.anomaly_score(i, aggregation))
                .collect(),
        }
    }

    /// The name of a prediction, as the API reports it.
    pub fn prediction_name(&self, predicted: Predicted) -> &str {
        match predicted {
            Predicted::Label(l) => &self.labels[l as usize],
            Predicted::Uncertain => UNCERTAIN,
        }
    }

    /// Every figure of model testing at the given thresholds.
    pub fn evaluate(&self, thresholds: &Thresholds) -> Summary {
        if let Some(d) = &self.detection {
            return Summary::of_detection(d.evaluate(thresholds.min_score, true));
        }
        self.count(|i| self.predict(i, thresholds))
    }

    fn count(&self, predict: impl Fn(usize) -> Predicted) -> Summary {
        let n = self.labels.len();
        let mut confusion = confusion::Confusion::new(n, self.anomaly_label.map(usize::from));
        confusion.count_each(self.expected.iter().enumerate().map(|(i, &expected)| {
            let column = match predict(i) {
                Predicted::Label(l) => l as usize,
                Predicted::Uncertain => n,
            };
            (usize::from(expected), column)
        }));
        Summary {
            label_count: n,
            class_count: self.class_count,
            anomaly_label: self.anomaly_label,
            confusion,
            detection: None,
        }
    }
}

/// A test set with each window's top class and anomaly score worked out, for one
/// aggregation method.
#[derive(Debug, Clone)]
pub struct Decided<'a> {
    set: &'a TestSet,
    aggregation: Aggregation,
    top: Vec<(u16, f64)>,
    anomaly: Vec<Option<f64>>,
}

impl Decided<'_> {
    /// The same figures as [`TestSet::evaluate`], faster.
    pub fn evaluate(&self, thresholds: &Thresholds) -> Summary {
        debug_assert_eq!(thresholds.aggregation, self.aggregation);
        if self.set.detection.is_some() {
            return self.set.evaluate(thresholds);
        }
        self.set
            .count(|i| self.set.verdict(self.top[i], self.anomaly[i], thresholds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two classes `a`, `b` and an anomaly label; five windows.
    fn classifier_with_anomaly() -> TestSet {
        TestSet {
            detection: None,
            labels: vec!["a".into(), "b".into(), "anomaly".into()],
            class_count: 2,
            normal_label: None,
            anomaly_label: Some(2),
            // a, a, b, b, anomaly
            expected: vec![0, 0, 1, 1, 2],
            class_scores: vec![
                0.9, 0.1, // a, confident
                0.55, 0.45, // a, unsure
                0.2, 0.8, // b, confident
                0.7, 0.3, // b, wrongly a
                0.5, 0.5, // anomaly, tie
            ],
            anomaly: AnomalyScores::Single(vec![-0.5, 0.1, 0.3, -0.2, 0.6]),
        }
    }

    fn th(min_score: f64, min_anomaly_score: f64) -> Thresholds {
        Thresholds {
            min_score,
            min_anomaly_score,
            aggregation: Aggregation::Max,
        }
    }

    #[test]
    fn hand_computed_classifier_and_anomaly() {
        let set = classifier_with_anomaly();
        let s = set.evaluate(&th(0.6, 0.3));
        // w0 a→a good; w1 0.55 < 0.6 → uncertain; w2 anomaly 0.3 >= 0.3 → anomaly (bad);
        // w3 → a (bad); w4 0.6 >= 0.3 → anomaly (good).
        assert_eq!(s.total(), Tally { good: 2, bad: 3 });
        assert_eq!(s.per_label(0), Tally { good: 1, bad: 1 });
        assert_eq!(s.per_label(1), Tally { good: 0, bad: 2 });
        assert_eq!(s.per_label(2), Tally { good: 1, bad: 0 });
        assert_eq!(s.uncertain(), 1);
        assert_eq!(s.count(1, Predicted::Label(2)), 1);
        assert_eq!(s.count(1, Predicted::Label(0)), 1);
        assert_eq!(s.accuracy(), Some(0.4));
        // recalls: a 0.5, b 0, anomaly 1 → 0.5
        assert_eq!(s.balanced_accuracy(), Some(0.5));
        assert_eq!(s.anomaly_accuracy(), Some(1.0));
        // 4 normal windows, 1 flagged
        assert_eq!(s.no_anomaly_accuracy(), Some(0.75));
        assert_eq!(s.false_positive_rate(), Some(0.25));
    }

    #[test]
    fn lowering_min_score_resolves_uncertain_windows() {
        let set = classifier_with_anomaly();
        let s = set.evaluate(&th(0.5, 0.35));
        // w1 → a good; w2 0.3 < 0.35 → b good; w3 → a bad; w4 anomaly good.
        assert_eq!(s.total(), Tally { good: 4, bad: 1 });
        assert_eq!(s.uncertain(), 0);
        // a: precision 2/3 (w0, w1 right, w3 wrong), recall 1; b: precision 1, recall 0.5.
        assert!((s.precision(0) - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(s.recall(1), 0.5);
        let (p, r, f1) = s.macro_scores().unwrap();
        assert!((p - (2.0 / 3.0 + 1.0) / 2.0).abs() < 1e-12);
        assert_eq!(r, 0.75);
        let f1_a = 2.0 * (2.0 / 3.0) / (2.0 / 3.0 + 1.0);
        let f1_b = 2.0 * 0.5 / 1.5;
        assert!((f1 - (f1_a + f1_b) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn a_threshold_equal_to_the_score_fires() {
        let set = classifier_with_anomaly();
        assert_eq!(set.predict(2, &th(0.8, 0.31)), Predicted::Label(1));
        assert_eq!(set.predict(2, &th(0.81, 0.31)), Predicted::Uncertain);
    }

    #[test]
    fn visual_anomaly_aggregates_by_mean_or_max() {
        let set = TestSet {
            detection: None,
            labels: vec!["no anomaly".into(), "anomaly".into()],
            class_count: 0,
            normal_label: Some(0),
            anomaly_label: Some(1),
            expected: vec![0, 0, 1],
            class_scores: vec![],
            anomaly: AnomalyScores::Visual {
                mean: vec![1.0, 2.0, 4.0],
                max: vec![3.0, 6.0, 9.0],
            },
        };
        let mut t = th(0.0, 5.0);
        let by_max = set.evaluate(&t);
        assert_eq!(by_max.total(), Tally { good: 2, bad: 1 });
        assert_eq!(by_max.false_positive_rate(), Some(0.5));
        t.aggregation = Aggregation::Mean;
        let by_mean = set.evaluate(&t);
        // nothing reaches 5 on the mean: the anomaly is missed.
        assert_eq!(by_mean.total(), Tally { good: 2, bad: 1 });
        assert_eq!(by_mean.false_negative_rate(), Some(1.0));
        assert_eq!(by_mean.uncertain(), 0);
    }

    #[test]
    fn an_empty_test_set_has_no_scores() {
        let set = TestSet {
            detection: None,
            labels: vec!["a".into()],
            class_count: 1,
            ..TestSet::default()
        };
        let s = set.evaluate(&Thresholds::default());
        assert_eq!(s.accuracy(), None);
        assert_eq!(s.balanced_accuracy(), None);
        assert_eq!(s.window_count(), 0);
    }
}
