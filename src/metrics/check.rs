//! Whether a test set's parts agree: a set read from disk is checked before anything
//! indexes into it.

use super::{AnomalyScores, TestSet};
use crate::defaults::MAX_LABELS;

/// How a test set's parts disagree (a set read from disk, a file edited or cut short).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InconsistentSet {
    #[error("{classes} classes but {labels} labels")]
    ClassesOverLabels { classes: usize, labels: usize },
    #[error("{scores} class scores for {windows} windows of {classes} classes")]
    ClassScores {
        scores: usize,
        windows: usize,
        classes: usize,
    },
    #[error("a label index beyond the labels")]
    LabelIndex,
    #[error("{0} labels, more than the {MAX_LABELS} ei-tune reads")]
    TooManyLabels(usize),
    #[error("anomaly scores for other than {windows} windows")]
    AnomalyScores { windows: usize },
    #[error("a score that is not a finite number")]
    NotFinite,
    #[error("a detection or box with an unknown class or no number")]
    Detection,
}

impl TestSet {
    /// Whether the parts agree (lengths, label indices): a set read from disk is checked
    /// before anything indexes into it.
    pub fn check(&self) -> Result<(), InconsistentSet> {
        let windows = self.expected.len();
        let labels = self.labels.len();
        if self.class_count > labels {
            return Err(InconsistentSet::ClassesOverLabels {
                classes: self.class_count,
                labels,
            });
        }
        if labels > MAX_LABELS {
            return Err(InconsistentSet::TooManyLabels(labels));
        }
        if Some(self.class_scores.len()) != windows.checked_mul(self.class_count) {
            return Err(InconsistentSet::ClassScores {
                scores: self.class_scores.len(),
                windows,
                classes: self.class_count,
            });
        }
        let label_ok = |l: &u16| usize::from(*l) < labels;
        if !self.expected.iter().all(label_ok)
            || !self.normal_label.iter().all(label_ok)
            || !self.anomaly_label.iter().all(label_ok)
        {
            return Err(InconsistentSet::LabelIndex);
        }
        let scores_ok = match &self.anomaly {
            AnomalyScores::None => true,
            AnomalyScores::Single(scores) => scores.len() == windows,
            AnomalyScores::Visual { mean, max } => mean.len() == windows && max.len() == windows,
        };
        if !scores_ok {
            return Err(InconsistentSet::AnomalyScores { windows });
        }
        let finite = match &self.anomaly {
            AnomalyScores::None => true,
            AnomalyScores::Single(s) => s.iter().all(|v| v.is_finite()),
            AnomalyScores::Visual { mean, max } => mean.iter().chain(max).all(|v| v.is_finite()),
        } && self.class_scores.iter().all(|v| v.is_finite());
        if !finite {
            return Err(InconsistentSet::NotFinite);
        }
        if let Some(d) = &self.detection {
            d.check()?;
        }
        Ok(())
    }
}
