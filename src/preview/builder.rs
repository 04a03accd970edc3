//! Model testing results (pages of getClassifyJobResultPage) in the compact form the
//! metrics compute on.
//!
//! Per-window scores do not depend on thresholds, so a test set read once serves every
//! preview and sweep until the model changes.

use crate::api::models::{
    ANOMALY_OUTCOME, Impulse, NO_ANOMALY_OUTCOME, StructuredLabel, WindowResults,
};

use crate::metrics::detection::{BoxXywh, Detection, DetectionSet, Image, Matching, Truth};
use crate::metrics::{AnomalyScores, TestSet, is_anomaly_block, is_visual_anomaly_block};

/// Why an impulse's results cannot be previewed locally, in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotPreviewable(pub String);

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
                return Ok(Self {
                    detector: Some(DetectorImages::new(*block)),
                    classifier: None,
                    anomaly: None,
                    set: TestSet::default(),
                    single: Vec::new(),
                    mean: Vec::new(),
                    max: Vec::new(),
                });
            }
            _ => {
                return Err(NotPreviewable(
                    "no preview for object detection beside other learn blocks".into(),
                ));
            }
        }
        for block in &impulse.learn_blocks {
            let kind = block.kind.as_str();
            let role = if kind.contains("regression") {
                return Err(NotPreviewable("no preview for regression models".into()));
            } else if is_visual_anomaly_block(kind) {
                Role::Visual
            } else if is_anomaly_block(kind) {
                Role::Anomaly
            } else if kind.starts_with("keras") {
                Role::Classifier
            } else {
                return Err(NotPreviewable(format!("no preview for `{kind}` blocks")));
            };
            match role {
                Role::Classifier if classifier.is_none() => classifier = Some(block.id),
                Role::Anomaly | Role::Visual if anomaly.is_none() => {
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
        Ok(Self {
            detector: None,
            classifier,
            anomaly,
            set: TestSet::default(),
            single: Vec::new(),
            mean: Vec::new(),
            max: Vec::new(),
        })
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    fn label_index(&mut self, label: &str) -> u16 {
        match self.set.labels.iter().position(|l| l == label) {
            Some(i) => i as u16,
            None => {
                self.set.labels.push(label.to_string());
                (self.set.labels.len() - 1) as u16
            }
        }
    }

    /// Adds the windows of some samples.
    pub fn add(&mut self, results: &[WindowResults]) -> Result<(), NotPreviewable> {
        let bad = |sample: u64, why: &str| {
            NotPreviewable(format!("sample {sample} cannot be previewed: {why}"))
        };
        if let Some(detector) = &mut self.detector {
            return results
                .iter()
                .try_for_each(|r| detector.add(r).map_err(|why| bad(r.sample_id, &why)));
        }
        for r in results {
            let find = |id: u64| r.classifications.iter().find(|c| c.learn_block.id == id);
            let classifier = match self.classifier {
                Some(id) => Some(find(id).ok_or_else(|| bad(r.sample_id, "no classifier output"))?),
                None => None,
            };
            let anomaly = match self.anomaly {
                Some((id, _)) => {
                    Some(find(id).ok_or_else(|| bad(r.sample_id, "no anomaly output"))?)
                }
                None => None,
            };
            let first = classifier
                .or(anomaly)
                .ok_or_else(|| bad(r.sample_id, "no output"))?;
            let windows = first.result.len();
            if self.set.labels.is_empty()
                && self.set.class_count == 0
                && let Some(c) = classifier
            {
                // The model's output order: ties go to the first class listed.
                let classes: Vec<String> = c
                    .result
                    .first()
                    .map(|w| w.labels().map(str::to_string).collect())
                    .unwrap_or_default();
                self.set.class_count = classes.len();
                self.set.labels = classes;
            }
            for w in 0..windows {
                let expected = label_at(&first.expected_labels, w).unwrap_or(&r.sample.label);
                // Where Studio says which windows are anomalous, that is the truth for
                // anomaly detection: the project may mark labels anomalous ("9"), so the
                // label alone does not tell.
                let outcome = anomaly
                    .and_then(|a| a.expected_anomaly_outcome.as_deref())
                    .or(first.expected_anomaly_outcome.as_deref())
                    .and_then(|outcomes| label_at(outcomes, w));
                let expected = match (self.anomaly, outcome) {
                    (Some(_), Some(ANOMALY_OUTCOME)) => ANOMALY_OUTCOME,
                    (Some((_, Role::Visual)), Some(_)) if self.classifier.is_none() => {
                        NO_ANOMALY_OUTCOME
                    }
                    _ => expected,
                }
                .to_string();
                if let Some(c) = classifier {
                    let scores = c
                        .result
                        .get(w)
                        .ok_or_else(|| bad(r.sample_id, "missing window"))?;
                    for label in &self.set.labels[..self.set.class_count] {
                        let score = scores
                            .get(label)
                            .ok_or_else(|| bad(r.sample_id, "a class score is missing"))?;
                        self.set.class_scores.push(score);
                    }
                }
                match (self.anomaly, anomaly) {
                    (Some((_, Role::Anomaly)), Some(a)) => {
                        let score = a
                            .result
                            .get(w)
                            .and_then(|m| m.get("anomaly"))
                            .ok_or_else(|| bad(r.sample_id, "no anomaly score"))?;
                        self.single.push(score);
                    }
                    (Some((_, Role::Visual)), Some(a)) => {
                        let scores = a
                            .anomaly_result
                            .as_ref()
                            .and_then(|v| v.get(w))
                            .ok_or_else(|| bad(r.sample_id, "no visual anomaly scores"))?;
                        let (Some(mean), Some(max)) = (scores.mean_score, scores.max_score) else {
                            return Err(bad(r.sample_id, "no mean or max anomaly score"));
                        };
                        self.mean.push(mean);
                        self.max.push(max);
                    }
                    _ => {}
                }
                let label = self.label_index(&expected);
                self.set.expected.push(label);
            }
        }
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
            self.set
                .class_scores
                .reserve_exact(more.saturating_mul(self.set.class_count));
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

    pub fn finish(mut self) -> TestSet {
        if let Some(detector) = self.detector {
            return detector.finish();
        }
        // Room reserved and not used (fewer windows than the first page promised) goes.
        self.set.expected.shrink_to_fit();
        self.set.class_scores.shrink_to_fit();
        self.single.shrink_to_fit();
        self.mean.shrink_to_fit();
        self.max.shrink_to_fit();
        match self.anomaly {
            Some((_, Role::Anomaly)) => {
                self.set.anomaly_label = Some(self.label_index("anomaly"));
                self.set.anomaly = AnomalyScores::Single(self.single);
            }
            Some((_, Role::Visual)) => {
                self.set.anomaly_label = Some(self.label_index("anomaly"));
                if self.classifier.is_none() {
                    self.set.normal_label = Some(self.label_index("no anomaly"));
                }
                self.set.anomaly = AnomalyScores::Visual {
                    mean: self.mean,
                    max: self.max,
                };
            }
            _ => {}
        }
        self.set
    }
}

/// The most detections read for a preview: far above any real test set (2,000 images of
/// 50), far below what would exhaust memory.
pub const MAX_DETECTIONS: usize = 5_000_000;
/// Labels are numbered in 16 bits.
const MAX_LABELS: usize = u16::MAX as usize;

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
    fn number(&mut self, label: &str) -> Result<u16, String> {
        if let Some(&n) = self.labels.get(label) {
            return Ok(n as u16);
        }
        let n = self.labels.len();
        if n >= MAX_LABELS {
            return Err(format!("more than {MAX_LABELS} labels"));
        }
        self.labels.insert(label.to_string(), n);
        Ok(n as u16)
    }

    /// One sample: its ground-truth boxes, and the block's stored detections (one window:
    /// an image).
    fn add(&mut self, r: &WindowResults) -> Result<(), String> {
        let output = r
            .classifications
            .iter()
            .find(|c| c.learn_block.id == self.block)
            .ok_or("no output of the object detection block")?;
        // A page that does not say leaves the kind as the others said.
        if let Some(layer) = output.object_detection_last_layer.as_deref() {
            let centroids = layer == "fomo";
            if *self.centroids.get_or_insert(centroids) != centroids {
                return Err("a model with two kinds of last layer".into());
            }
        }
        let structured = match output.structured_result.as_deref() {
            Some([one]) => one,
            Some([]) | None => return Err("no detections (structuredResult)".into()),
            Some(_) => return Err("several windows in an image".into()),
        };
        let labels = structured
            .labels
            .as_deref()
            .ok_or("detections without labels")?;
        if labels.len() != structured.boxes.len() || structured.scores.len() != labels.len() {
            return Err("detections with unequal numbers of boxes, labels and scores".into());
        }
        self.detections += labels.len();
        if self.detections > MAX_DETECTIONS {
            return Err(format!("more than {MAX_DETECTIONS} detections"));
        }
        let mut detections = Vec::with_capacity(labels.len());
        for ((label, bbox), score) in labels.iter().zip(&structured.boxes).zip(&structured.scores) {
            let [x, y, w, h] = bbox[..] else {
                return Err("a box that is not [x, y, width, height]".into());
            };
            let bbox = checked_box(x, y, w, h)?;
            if !score.is_finite() {
                return Err("a score that is not a number".into());
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

/// A box as read: finite numbers, no negative size.
fn checked_box(x: f64, y: f64, w: f64, h: f64) -> Result<BoxXywh, String> {
    if ![x, y, w, h].iter().all(|v| v.is_finite()) {
        return Err("a box that is not numbers".into());
    }
    if w < 0.0 || h < 0.0 {
        return Err("a box of negative size".into());
    }
    Ok(BoxXywh { x, y, w, h })
}

/// The label that `labels` give window `w`.
fn label_at(labels: &[StructuredLabel], w: usize) -> Option<&str> {
    labels
        .iter()
        .find(|l| (l.start_index..=l.end_index).contains(&(w as u64)))
        .map(|l| l.label.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::models::{
        ClassScores, Classification, ImpulseLearnBlock, LearnBlockType, ModelResult,
    };
    use crate::metrics::{Predicted, Thresholds};

    /// One image's results for detection block 9: truths and detections as
    /// (label, [x, y, w, h]) and (label, [x, y, w, h], score).
    fn image(
        id: u64,
        truths: &[(&str, [f64; 4])],
        detections: &[(&str, [f64; 4], f64)],
        last_layer: Option<&str>,
    ) -> WindowResults {
        serde_json::from_value(serde_json::json!({
            "sampleId": id,
            "sample": {"label": "", "boundingBoxes": truths.iter().map(|(l, b)| serde_json::json!(
                {"label": l, "x": b[0], "y": b[1], "width": b[2], "height": b[3]})).collect::<Vec<_>>()},
            "classifications": [{
                "learnBlock": {"id": 9},
                "result": [{}],
                "expectedLabels": [],
                "objectDetectionLastLayer": last_layer,
                "structuredResult": [{
                    "boxes": detections.iter().map(|d| d.1.to_vec()).collect::<Vec<_>>(),
                    "labels": detections.iter().map(|d| d.0).collect::<Vec<_>>(),
                    "scores": detections.iter().map(|d| d.2).collect::<Vec<_>>(),
                }],
            }],
        }))
        .unwrap()
    }

    fn detector() -> TestSetBuilder {
        TestSetBuilder::new(&impulse(&[block(9, "keras-object-detection")])).unwrap()
    }

    #[test]
    fn detections_are_read_with_their_truth_and_labels_in_sorted_order() {
        let mut builder = detector();
        builder
            .add(&[
                image(
                    1,
                    &[("zebra", [0.0, 0.0, 10.0, 10.0])],
                    &[("zebra", [0.0, 0.0, 10.0, 10.0], 0.9)],
                    Some("yolov5"),
                ),
                // A page that does not name the last layer keeps what the others said.
                image(
                    2,
                    &[("ant", [5.0, 5.0, 4.5, 4.5])],
                    &[("ant", [50.0, 5.0, 4.0, 4.0], 0.4)],
                    None,
                ),
            ])
            .unwrap();
        let set = builder.finish();
        let d = set.detection.as_ref().unwrap();
        assert_eq!(d.labels, ["ant", "zebra"]);
        assert_eq!(d.matching, Matching::Boxes);
        let e = d.evaluate(0.3, true);
        assert_eq!(
            (e.per_class[1].true_positives, e.per_class[0].missed()),
            (1, 1)
        );
        let mut fomo = detector();
        fomo.add(&[image(1, &[], &[], Some("fomo"))]).unwrap();
        assert_eq!(
            fomo.finish().detection.unwrap().matching,
            Matching::Centroids
        );
    }

    #[test]
    fn detections_that_cannot_be_matched_honestly_are_refused() {
        let refused = |r: WindowResults| detector().add(&[r]).unwrap_err().0;
        assert!(refused(image(1, &[("a", [0.0, 0.0, -1.0, 5.0])], &[], None)).contains("negative"));
        let too_many: Vec<(String, [f64; 4], f64)> = (0..=u16::MAX as usize)
            .map(|i| (format!("l{i}"), [0.0, 0.0, 1.0, 1.0], 0.5))
            .collect();
        let detections: Vec<(&str, [f64; 4], f64)> = too_many
            .iter()
            .map(|(l, b, s)| (l.as_str(), *b, *s))
            .collect();
        assert!(refused(image(1, &[], &detections, None)).contains("labels"));
        // Boxes too large for their areas to be numbers overlap by nothing.
        let huge = BoxXywh {
            x: 0.0,
            y: 0.0,
            w: 1e160,
            h: 1e160,
        };
        assert_eq!(huge.iou(&huge), 0.0);
    }

    /// What the preview decodes of these results, as a page would bring them.
    fn lean(results: &[ModelResult]) -> Vec<WindowResults> {
        serde_json::from_value(serde_json::to_value(results).unwrap()).unwrap()
    }

    fn block(id: u64, kind: &str) -> ImpulseLearnBlock {
        ImpulseLearnBlock {
            id,
            kind: LearnBlockType::new(kind),
            name: kind.into(),
            dsp: vec![2],
            title: kind.into(),
            created_by: None,
            created_at: None,
        }
    }

    fn sample(_project: u64, id: u64, label: &str) -> crate::api::models::Sample {
        crate::api::models::Sample {
            id,
            label: label.into(),
            ..Default::default()
        }
    }

    fn labels(label: &str) -> Vec<StructuredLabel> {
        vec![StructuredLabel {
            start_index: 0,
            end_index: 0,
            label: label.into(),
        }]
    }

    fn classification(
        block: &ImpulseLearnBlock,
        scores: &[(&str, f64)],
        expected: &str,
        outcome: Option<&str>,
    ) -> Classification {
        Classification {
            learn_block: block.clone(),
            result: vec![
                scores
                    .iter()
                    .map(|(l, s)| (l.to_string(), *s))
                    .collect::<ClassScores>(),
            ],
            anomaly_result: None,
            structured_result: None,
            object_detection_last_layer: None,
            minimum_confidence_rating: 0.5,
            expected_labels: labels(expected),
            thresholds: Vec::new(),
            expected_anomaly_outcome: outcome.map(labels),
            interval_ms: None,
            frequency_hz: None,
            result_count: None,
        }
    }

    fn impulse(blocks: &[ImpulseLearnBlock]) -> Impulse {
        Impulse {
            id: 1,
            name: "i".into(),
            kind: "default".into(),
            input_blocks: Vec::new(),
            dsp_blocks: Vec::new(),
            learn_blocks: blocks.to_vec(),
            post_processing_blocks: Vec::new(),
        }
    }

    #[test]
    fn classes_keep_the_models_order_and_ties_go_to_the_first_listed() {
        let classifier = block(3, "keras");
        let results: Vec<ModelResult> =
            [("wave", [0.5, 0.5, 0.0, 0.0]), ("9", [0.1, 0.1, 0.3, 0.5])]
                .iter()
                .enumerate()
                .map(|(i, (expected, s))| ModelResult {
                    sample_id: i as u64,
                    sample: sample(1, i as u64, expected),
                    classifications: vec![classification(
                        &classifier,
                        &[("idle", s[0]), ("wave", s[1]), ("10", s[2]), ("9", s[3])],
                        expected,
                        None,
                    )],
                })
                .collect();
        let mut builder = TestSetBuilder::new(&impulse(&[classifier])).unwrap();
        builder.add(&lean(&results)).unwrap();
        let set = builder.finish();
        assert_eq!(set.labels[..4], ["idle", "wave", "10", "9"]);
        let t = Thresholds {
            min_score: 0.4,
            ..Thresholds::default()
        };
        // A tie between idle and wave: idle, listed first, wins (wave would sort first).
        assert_eq!(set.predict(0, &t), Predicted::Label(0));
        assert_eq!(set.predict(1, &t), Predicted::Label(3));
    }

    #[test]
    fn studios_expected_anomaly_outcome_is_the_truth_for_anomalies() {
        let classifier = block(3, "keras");
        let anomaly = block(4, "anomaly");
        // Sample labelled "9", which the project marks anomalous: Studio says so.
        let result = ModelResult {
            sample_id: 1,
            sample: sample(1, 1, "9"),
            classifications: vec![
                classification(&classifier, &[("0", 0.9), ("1", 0.1)], "9", Some("anomaly")),
                classification(&anomaly, &[("anomaly", 2.0)], "9", Some("anomaly")),
            ],
        };
        let normal = ModelResult {
            sample_id: 2,
            sample: sample(1, 2, "0"),
            classifications: vec![
                classification(
                    &classifier,
                    &[("0", 0.9), ("1", 0.1)],
                    "0",
                    Some("no anomaly"),
                ),
                classification(&anomaly, &[("anomaly", 0.1)], "0", Some("no anomaly")),
            ],
        };
        let mut builder = TestSetBuilder::new(&impulse(&[classifier, anomaly])).unwrap();
        builder.add(&lean(&[result, normal])).unwrap();
        let set = builder.finish();
        let summary = set.evaluate(&Thresholds::default());
        assert_eq!(summary.anomaly_accuracy(), Some(1.0), "{:?}", set.labels);
        assert_eq!(summary.accuracy(), Some(1.0));
        assert!(!set.labels.contains(&"9".to_string()), "{:?}", set.labels);
    }
}
