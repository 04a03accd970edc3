//! Model testing results (pages of getClassifyJobResultPage) in the compact form the
//! metrics compute on.
//!
//! Per-window scores do not depend on thresholds, so a test set read once serves every
//! preview and sweep until the model changes.

use std::collections::HashMap;

use crate::api::models::{
    ANOMALY_OUTCOME, BlockOutput, ClassScores, Impulse, NO_ANOMALY_OUTCOME, StructuredLabel,
    WindowResults,
};
use crate::defaults::{MAX_CLASS_SCORES, MAX_LABELS};

use crate::metrics::detection::{BoxXywh, Detection, DetectionSet, Image, Matching, Truth};
use crate::metrics::{AnomalyScores, TestSet, is_anomaly_block, is_visual_anomaly_block};

/// Why an impulse's results cannot be previewed locally, in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotPreviewable(pub String);

/// What is wrong with one sample's results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
enum BadSample {
    #[error("no classifier output")]
    NoClassifierOutput,
    #[error("no anomaly output")]
    NoAnomalyOutput,
    #[error("no output")]
    NoOutput,
    #[error("missing window")]
    MissingWindow,
    #[error("a class score is missing")]
    MissingClassScore,
    #[error("no anomaly score")]
    NoAnomalyScore,
    #[error("no visual anomaly scores")]
    NoVisualAnomalyScores,
    #[error("no mean or max anomaly score")]
    NoMeanOrMax,
    #[error("no output of the object detection block")]
    NoDetectorOutput,
    #[error("a model with two kinds of last layer")]
    TwoKindsOfLastLayer,
    #[error("no detections (structuredResult)")]
    NoDetections,
    #[error("several windows in an image")]
    SeveralWindows,
    #[error("detections without labels")]
    DetectionsWithoutLabels,
    #[error("detections with unequal numbers of boxes, labels and scores")]
    UnequalDetections,
    #[error("more than {MAX_DETECTIONS} detections")]
    TooManyDetections,
    #[error("a box that is not [x, y, width, height]")]
    BoxNotFourNumbers,
    #[error("a box that is not numbers")]
    BoxNotNumbers,
    #[error("a box of negative size")]
    NegativeBox,
    #[error("a score that is not a number")]
    ScoreNotANumber,
    #[error(
        "more than {MAX_LABELS} labels (classes, expected labels and `anomaly`); ei-tune reads at most {MAX_LABELS}"
    )]
    TooManyLabels,
    #[error("a window scored over {0} classes; ei-tune reads at most {MAX_LABELS} labels")]
    TooManyClasses(usize),
    #[error(
        "more than {MAX_CLASS_SCORES} class scores (windows × classes); ei-tune reads at most {MAX_CLASS_SCORES}"
    )]
    TooManyClassScores,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Classifier,
    Anomaly,
    Visual,
}

/// Builds a [`TestSet`] page by page.
#[derive(Debug, Clone)]
pub struct TestSetBuilder {
    /// An object detection block: its images are collected instead of windows.
    detector: Option<DetectorImages>,
    classifier: Option<u64>,
    anomaly: Option<(u64, Role)>,
    set: TestSet,
    /// The number of each label in `set.labels` (the first, for a class listed twice).
    numbers: HashMap<String, u16>,
    single: Vec<f64>,
    mean: Vec<f64>,
    max: Vec<f64>,
}

impl TestSetBuilder {
    /// A builder for an impulse, or why its results cannot be previewed.
    pub fn new(impulse: &Impulse) -> Result<Self, NotPreviewable> {
        let mut classifier = None;
        let mut anomaly = None;
        let detectors: Vec<u64> = impulse
            .learn_blocks
            .iter()
            .filter(|b| b.kind.is_object_detection())
            .map(|b| b.id)
            .collect();
        match detectors.as_slice() {
            [] => {}
            [block] if impulse.learn_blocks.len() == 1 => {
                return Ok(Self::empty(Some(DetectorImages::new(*block)), None, None));
            }
            _ => {
                return Err(NotPreviewable(
                    "no preview for object detection beside other learn blocks".into(),
                ));
            }
        }
        for block in &impulse.learn_blocks {
            match role_of(block.kind.as_str())? {
                Role::Classifier if classifier.is_none() => classifier = Some(block.id),
                role @ (Role::Anomaly | Role::Visual) if anomaly.is_none() => {
                    anomaly = Some((block.id, role));
                }
                _ => {
                    return Err(NotPreviewable(
                        "no preview for impulses with several classifiers or anomaly blocks".into(),
                    ));
                }
            }
        }
        if classifier.is_none() && anomaly.is_none() {
            return Err(NotPreviewable(
                "this impulse has no learn block to preview".into(),
            ));
        }
        Ok(Self::empty(None, classifier, anomaly))
    }

    fn empty(
        detector: Option<DetectorImages>,
        classifier: Option<u64>,
        anomaly: Option<(u64, Role)>,
    ) -> Self {
        Self {
            detector,
            classifier,
            anomaly,
            set: TestSet::default(),
            numbers: HashMap::new(),
            single: Vec::new(),
            mean: Vec::new(),
            max: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// The number of `label`, numbered as it first comes; an error past [`MAX_LABELS`],
    /// which also keeps every number within 16 bits.
    fn label_index(&mut self, label: &str) -> Result<u16, BadSample> {
        if let Some(&n) = self.numbers.get(label) {
            return Ok(n);
        }
        let n = self.set.labels.len();
        if n >= MAX_LABELS {
            return Err(BadSample::TooManyLabels);
        }
        let n = u16::try_from(n).map_err(|_| BadSample::TooManyLabels)?;
        self.set.labels.push(label.to_string());
        self.numbers.insert(label.to_string(), n);
        Ok(n)
    }

    /// Adds the windows of some samples.
    pub fn add(&mut self, results: &[WindowResults]) -> Result<(), NotPreviewable> {
        if let Some(detector) = &mut self.detector {
            return results
                .iter()
                .try_for_each(|r| detector.add(r).map_err(|why| bad(r.sample_id, why)));
        }
        for r in results {
            let find = |id: u64| r.classifications.iter().find(|c| c.learn_block.id == id);
            let classifier = match self.classifier {
                Some(id) => {
                    Some(find(id).ok_or_else(|| bad(r.sample_id, BadSample::NoClassifierOutput))?)
                }
                None => None,
            };
            let anomaly = match self.anomaly {
                Some((id, _)) => {
                    Some(find(id).ok_or_else(|| bad(r.sample_id, BadSample::NoAnomalyOutput))?)
                }
                None => None,
            };
            let first = classifier
                .or(anomaly)
                .ok_or_else(|| bad(r.sample_id, BadSample::NoOutput))?;
            let windows = first.result.len();
            if let Some(c) = classifier {
                self.learn_classes(c).map_err(|why| bad(r.sample_id, why))?;
            }
            let ranges = SampleRanges {
                expected: LabelRanges::new(&first.expected_labels),
                outcomes: anomaly
                    .and_then(|a| a.expected_anomaly_outcome.as_deref())
                    .or(first.expected_anomaly_outcome.as_deref())
                    .map(LabelRanges::new),
            };
            for w in 0..windows {
                self.add_window(r, w, &ranges, classifier, anomaly)?;
            }
        }
        Ok(())
    }

    /// The classes, in the model's output order (ties go to the first listed), from the
    /// first window seen.
    fn learn_classes(&mut self, c: &BlockOutput) -> Result<(), BadSample> {
        if !self.set.labels.is_empty() || self.set.class_count != 0 {
            return Ok(());
        }
        let Some(first) = c.result.first() else {
            return Ok(());
        };
        if first.len() > MAX_LABELS {
            return Err(BadSample::TooManyClasses(first.len()));
        }
        // A class listed twice is one class, scored as first listed (as a lookup by
        // name finds it).
        for label in first.labels() {
            self.label_index(label)?;
        }
        self.set.class_count = self.set.labels.len();
        Ok(())
    }

    /// One window's class scores, in the order of the classes: in one pass when the window
    /// lists them as the first did (as Studio does), by name otherwise.
    fn push_class_scores(&mut self, scores: &ClassScores) -> Result<(), BadSample> {
        let classes = &self.set.labels[..self.set.class_count];
        if self.set.class_scores.len() + classes.len() > MAX_CLASS_SCORES {
            return Err(BadSample::TooManyClassScores);
        }
        let in_order =
            scores.len() >= classes.len() && scores.0.iter().zip(classes).all(|((l, _), c)| l == c);
        if in_order {
            let listed = scores.0[..classes.len()].iter().map(|(_, s)| *s);
            self.set.class_scores.extend(listed);
            return Ok(());
        }
        let mut by_name = HashMap::with_capacity(scores.len());
        for (label, score) in &scores.0 {
            by_name.entry(label.as_str()).or_insert(*score);
        }
        for label in classes {
            let score = by_name
                .get(label.as_str())
                .ok_or(BadSample::MissingClassScore)?;
            self.set.class_scores.push(*score);
        }
        Ok(())
    }

    /// Window `w` of a sample: its expected label, class scores and anomaly scores.
    fn add_window(
        &mut self,
        r: &WindowResults,
        w: usize,
        ranges: &SampleRanges<'_>,
        classifier: Option<&BlockOutput>,
        anomaly: Option<&BlockOutput>,
    ) -> Result<(), NotPreviewable> {
        let expected = ranges.expected.at(w).unwrap_or(&r.sample.label);
        // Where Studio says which windows are anomalous, that is the truth for
        // anomaly detection: the project may mark labels anomalous ("9"), so the
        // label alone does not tell.
        let outcome = ranges.outcomes.as_ref().and_then(|o| o.at(w));
        let expected = match (self.anomaly, outcome) {
            (Some(_), Some(ANOMALY_OUTCOME)) => ANOMALY_OUTCOME,
            (Some((_, Role::Visual)), Some(_)) if self.classifier.is_none() => NO_ANOMALY_OUTCOME,
            _ => expected,
        }
        .to_string();
        if let Some(c) = classifier {
            let scores = c
                .result
                .get(w)
                .ok_or_else(|| bad(r.sample_id, BadSample::MissingWindow))?;
            self.push_class_scores(scores)
                .map_err(|why| bad(r.sample_id, why))?;
        }
        match (self.anomaly, anomaly) {
            (Some((_, Role::Anomaly)), Some(a)) => {
                let score = a
                    .result
                    .get(w)
                    .and_then(|m| m.get("anomaly"))
                    .ok_or_else(|| bad(r.sample_id, BadSample::NoAnomalyScore))?;
                self.single.push(score);
            }
            (Some((_, Role::Visual)), Some(a)) => {
                let scores = a
                    .anomaly_result
                    .as_ref()
                    .and_then(|v| v.get(w))
                    .ok_or_else(|| bad(r.sample_id, BadSample::NoVisualAnomalyScores))?;
                let (Some(mean), Some(max)) = (scores.mean_score, scores.max_score) else {
                    return Err(bad(r.sample_id, BadSample::NoMeanOrMax));
                };
                self.mean.push(mean);
                self.max.push(max);
            }
            _ => {}
        }
        let label = self
            .label_index(&expected)
            .map_err(|why| bad(r.sample_id, why))?;
        self.set.expected.push(label);
        Ok(())
    }

    /// Room for `windows` windows in all, said once their number is known (a first page
    /// and the total): the arrays then never grow by copying, which would hold two copies
    /// of the scores at once. Never more than `max_windows`.
    pub fn reserve(&mut self, windows: usize, max_windows: usize) {
        if self.detector.is_some() {
            return;
        }
        let more = windows
            .min(max_windows)
            .saturating_sub(self.set.expected.len());
        self.set.expected.reserve_exact(more);
        if self.classifier.is_some() {
            let scores = more
                .saturating_mul(self.set.class_count)
                .min(MAX_CLASS_SCORES.saturating_sub(self.set.class_scores.len()));
            self.set.class_scores.reserve_exact(scores);
        }
        match self.anomaly {
            Some((_, Role::Anomaly)) => self.single.reserve_exact(more),
            Some((_, Role::Visual)) => {
                self.mean.reserve_exact(more);
                self.max.reserve_exact(more);
            }
            _ => {}
        }
    }

    /// The set read, or why it cannot be previewed (the labels it adds at the end, such
    /// as `anomaly`, would pass [`MAX_LABELS`]).
    pub fn finish(mut self) -> Result<TestSet, NotPreviewable> {
        if let Some(detector) = self.detector {
            return Ok(detector.finish());
        }
        let too_many = |_| NotPreviewable(BadSample::TooManyLabels.to_string());
        // Room reserved and not used (fewer windows than the first page promised) goes.
        self.set.expected.shrink_to_fit();
        self.set.class_scores.shrink_to_fit();
        self.single.shrink_to_fit();
        self.mean.shrink_to_fit();
        self.max.shrink_to_fit();
        match self.anomaly {
            Some((_, Role::Anomaly)) => {
                self.set.anomaly_label = Some(self.label_index("anomaly").map_err(too_many)?);
                self.set.anomaly = AnomalyScores::Single(self.single);
            }
            Some((_, Role::Visual)) => {
                self.set.anomaly_label = Some(self.label_index("anomaly").map_err(too_many)?);
                if self.classifier.is_none() {
                    let normal = self.label_index("no anomaly").map_err(too_many)?;
                    self.set.normal_label = Some(normal);
                }
                self.set.anomaly = AnomalyScores::Visual {
                    mean: self.mean,
                    max: self.max,
                };
            }
            _ => {}
        }
        Ok(self.set)
    }
}

/// The most detections read for a preview: far above any real test set (2,000 images of
/// 50), far below what would exhaust memory.
pub const MAX_DETECTIONS: usize = 5_000_000;

/// An object detection block's images as they are read, labels numbered as they come
/// (sorted at the end).
#[derive(Debug, Clone)]
struct DetectorImages {
    block: u64,
    /// Whether the model is FOMO (centroids), once a page said.
    centroids: Option<bool>,
    labels: std::collections::HashMap<String, usize>,
    images: Vec<Image>,
    detections: usize,
}

impl DetectorImages {
    fn new(block: u64) -> Self {
        Self {
            block,
            centroids: None,
            labels: std::collections::HashMap::new(),
            images: Vec::new(),
            detections: 0,
        }
    }

    /// The number of `label`, or an error past [`MAX_LABELS`].
    fn number(&mut self, label: &str) -> Result<u16, BadSample> {
        if let Some(&n) = self.labels.get(label) {
            return Ok(n as u16);
        }
        let n = self.labels.len();
        if n >= MAX_LABELS {
            return Err(BadSample::TooManyLabels);
        }
        self.labels.insert(label.to_string(), n);
        Ok(n as u16)
    }

    /// One sample: its ground-truth boxes, and the block's stored detections (one window:
    /// an image).
    fn add(&mut self, r: &WindowResults) -> Result<(), BadSample> {
        let output = r
            .classifications
            .iter()
            .find(|c| c.learn_block.id == self.block)
            .ok_or(BadSample::NoDetectorOutput)?;
        // A page that does not say leaves the kind as the others said.
        if let Some(layer) = output.object_detection_last_layer.as_deref() {
            let centroids = layer == "fomo";
            if *self.centroids.get_or_insert(centroids) != centroids {
                return Err(BadSample::TwoKindsOfLastLayer);
            }
        }
        let structured = match output.structured_result.as_deref() {
            Some([one]) => one,
            Some([]) | None => return Err(BadSample::NoDetections),
            Some(_) => return Err(BadSample::SeveralWindows),
        };
        let labels = structured
            .labels
            .as_deref()
            .ok_or(BadSample::DetectionsWithoutLabels)?;
        if labels.len() != structured.boxes.len() || structured.scores.len() != labels.len() {
            return Err(BadSample::UnequalDetections);
        }
        self.detections += labels.len();
        if self.detections > MAX_DETECTIONS {
            return Err(BadSample::TooManyDetections);
        }
        let mut detections = Vec::with_capacity(labels.len());
        for ((label, bbox), score) in labels.iter().zip(&structured.boxes).zip(&structured.scores) {
            let [x, y, w, h] = bbox[..] else {
                return Err(BadSample::BoxNotFourNumbers);
            };
            let bbox = checked_box(x, y, w, h)?;
            if !score.is_finite() {
                return Err(BadSample::ScoreNotANumber);
            }
            let class = self.number(label)?;
            detections.push(Detection {
                class,
                bbox,
                score: *score,
            });
        }
        let mut truths = Vec::with_capacity(r.sample.bounding_boxes.len());
        for b in &r.sample.bounding_boxes {
            let bbox = checked_box(b.x, b.y, b.width, b.height)?;
            let class = self.number(&b.label)?;
            truths.push(Truth { class, bbox });
        }
        self.images.push(Image { truths, detections });
        Ok(())
    }

    /// The set, labels in sorted order.
    fn finish(self) -> TestSet {
        let mut labels: Vec<(String, usize)> = self.labels.into_iter().collect();
        labels.sort();
        // Numbered as they came → numbered in sorted order.
        let mut renumber = vec![0u16; labels.len()];
        for (sorted, (_, first_seen)) in labels.iter().enumerate() {
            renumber[*first_seen] = sorted as u16;
        }
        let labels: Vec<String> = labels.into_iter().map(|(l, _)| l).collect();
        let images = self
            .images
            .into_iter()
            .map(|mut image| {
                for t in &mut image.truths {
                    t.class = renumber[usize::from(t.class)];
                }
                for d in &mut image.detections {
                    d.class = renumber[usize::from(d.class)];
                }
                image
            })
            .collect();
        let matching = if self.centroids == Some(true) {
            Matching::Centroids
        } else {
            Matching::Boxes
        };
        TestSet {
            labels: labels.clone(),
            detection: Some(DetectionSet::new(labels, matching, images)),
            ..TestSet::default()
        }
    }
}

/// Why a sample's results cannot be previewed.
fn bad(sample: u64, why: BadSample) -> NotPreviewable {
    NotPreviewable(format!("sample {sample} cannot be previewed: {why}"))
}

/// What a learn block is to the preview, by its kind.
fn role_of(kind: &str) -> Result<Role, NotPreviewable> {
    if kind.contains("regression") {
        Err(NotPreviewable("no preview for regression models".into()))
    } else if is_visual_anomaly_block(kind) {
        Ok(Role::Visual)
    } else if is_anomaly_block(kind) {
        Ok(Role::Anomaly)
    } else if kind.starts_with("keras") {
        Ok(Role::Classifier)
    } else {
        Err(NotPreviewable(format!("no preview for `{kind}` blocks")))
    }
}

/// A box as read: finite numbers, no negative size.
fn checked_box(x: f64, y: f64, w: f64, h: f64) -> Result<BoxXywh, BadSample> {
    if ![x, y, w, h].iter().all(|v| v.is_finite()) {
        return Err(BadSample::BoxNotNumbers);
    }
    if w < 0.0 || h < 0.0 {
        return Err(BadSample::NegativeBox);
    }
    Ok(BoxXywh { x, y, w, h })
}

/// The label that `labels` give window `w`.
/// A sample's label ranges: the expected label and, where Studio says, the anomaly
/// outcome.
struct SampleRanges<'a> {
    expected: LabelRanges<'a>,
    outcomes: Option<LabelRanges<'a>>,
}

/// Labels over ranges of windows, looked up window by window.
struct LabelRanges<'a> {
    ranges: &'a [StructuredLabel],
    /// Whether the ranges are in order and apart, so that a window's is found by halving.
    ordered: bool,
}

impl<'a> LabelRanges<'a> {
    fn new(ranges: &'a [StructuredLabel]) -> Self {
        let ordered = ranges.iter().all(|r| r.start_index <= r.end_index)
            && ranges.windows(2).all(|p| p[0].end_index < p[1].start_index);
        Self { ranges, ordered }
    }

    /// The label of window `w`: of the first range that holds it.
    fn at(&self, w: usize) -> Option<&'a str> {
        let w = w as u64;
        let holds = |l: &&StructuredLabel| (l.start_index..=l.end_index).contains(&w);
        let found = if self.ordered {
            let i = self.ranges.partition_point(|r| r.end_index < w);
            self.ranges.get(i).filter(holds)
        } else {
            self.ranges.iter().find(holds)
        };
        found.map(|l| l.label.as_str())
    }
}

#[cfg(test)]
mod tests;
