//! Object detection metrics at a `min_score`: detections matched to ground-truth boxes the
//! way COCO's evaluation does (pycocotools: per image and class, detections by descending
//! score each take the unmatched box of that class they overlap most, at IoU ≥ 0.5 or
//! more), and FOMO's centroid matching (a detection's centre inside an unmatched box of
//! its class).
//!
//! Greedy matching by descending score is prefix-stable: the matches of the detections at
//! or above any score are the first steps of matching them all. So the matching is done
//! once, when the set is built, and a figure at any `min_score` is a count over a prefix of
//! the detections sorted by score: no matching at preview time.
//!
//! Detections below the lowest stored score (the floor) are unknown: figures there are
//! marked incomplete by the callers.

use serde::{Deserialize, Serialize};

/// IoU thresholds of COCO's mAP@[.5:.95]: 0.50, 0.55, …, 0.95.
pub const IOU_THRESHOLDS: [f64; 10] = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];
/// COCO keeps at most this many detections per image and class.
pub const MAX_DETECTIONS: usize = 100;

/// A box: left, top, width, height, in the image's pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoxXywh {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl BoxXywh {
    /// Intersection over union, as pycocotools computes it (no pixel added; boxes that
    /// only touch do not overlap).
    pub fn iou(&self, other: &BoxXywh) -> f64 {
        let w = (self.x + self.w).min(other.x + other.w) - self.x.max(other.x);
        if w <= 0.0 {
            return 0.0;
        }
        let h = (self.y + self.h).min(other.y + other.h) - self.y.max(other.y);
        if h <= 0.0 {
            return 0.0;
        }
        let inter = w * h;
        let union = self.w * self.h + other.w * other.h - inter;
        let iou = inter / union;
        // Boxes so large that the areas overflow overlap by nothing known: no match.
        if iou.is_finite() { iou } else { 0.0 }
    }

    /// Whether the point lies inside the box (edges included).
    pub fn contains(&self, (px, py): (f64, f64)) -> bool {
        px >= self.x && px <= self.x + self.w && py >= self.y && py <= self.y + self.h
    }

    pub fn centre(&self) -> (f64, f64) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }
}

/// How detections are matched to the truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Matching {
    /// Bounding boxes by IoU (SSD, YOLO, …).
    Boxes,
    /// FOMO: centroids inside boxes.
    Centroids,
}

/// A detection: class (index into the labels), box, score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub class: u16,
    pub bbox: BoxXywh,
    pub score: f64,
}

/// A ground-truth object.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    pub class: u16,
    pub bbox: BoxXywh,
}

/// One image's truth and stored detections.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Image {
    pub truths: Vec<Truth>,
    pub detections: Vec<Detection>,
}

/// One class's detections over all images, by descending score, and which of them match.
#[derive(Debug, Clone, PartialEq, Default)]
struct Ranked {
    scores: Vec<f64>,
    /// Bit `k`: a true positive at `IOU_THRESHOLDS[k]` (bit 0 only, for centroids).
    matched: Vec<u16>,
    /// Running count of true positives at IoU 0.5 (or centroid) over the ranking.
    tp50: Vec<u32>,
    truths: u32,
}

/// A detection test set with its matching done. Kept (in the results cache) as its
/// images; the matching is done again when read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredDetections", into = "StoredDetections")]
pub struct DetectionSet {
    pub labels: Vec<String>,
    pub matching: Matching,
    pub images: Vec<Image>,
    /// The lowest score stored: below it the detections are incomplete.
    pub floor: Option<f64>,
    ranked: Vec<Ranked>,
}

#[derive(Serialize, Deserialize)]
struct StoredDetections {
    labels: Vec<String>,
    matching: Matching,
    images: Vec<Image>,
}

impl From<StoredDetections> for DetectionSet {
    fn from(s: StoredDetections) -> Self {
        Self::new(s.labels, s.matching, s.images)
    }
}

impl From<DetectionSet> for StoredDetections {
    fn from(s: DetectionSet) -> Self {
        Self {
            labels: s.labels,
            matching: s.matching,
            images: s.images,
        }
    }
}

/// Figures of one class, or of all classes together, at a `min_score`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ClassFigures {
    pub true_positives: u32,
    pub false_positives: u32,
    pub truths: u32,
    /// Average precision at IoU 0.5 (COCO's 101-point interpolation); `None` without truth
    /// of this class, and for centroids.
    pub ap50: Option<f64>,
    /// Mean of the average precision over IoU 0.50:0.95; `None` as `ap50`.
    pub ap: Option<f64>,
}

impl ClassFigures {
    pub fn precision(&self) -> Option<f64> {
        let found = self.true_positives + self.false_positives;
        (found > 0).then(|| f64::from(self.true_positives) / f64::from(found))
    }

    pub fn recall(&self) -> Option<f64> {
        (self.truths > 0).then(|| f64::from(self.true_positives) / f64::from(self.truths))
    }

    /// 2TP / (2TP + FP + FN): the harmonic mean of precision and recall.
    pub fn f1(&self) -> Option<f64> {
        let tp = f64::from(self.true_positives);
        let missed = f64::from(self.truths - self.true_positives.min(self.truths));
        let denominator = 2.0 * tp + f64::from(self.false_positives) + missed;
        (denominator > 0.0).then(|| 2.0 * tp / denominator)
    }

    pub fn missed(&self) -> u32 {
        self.truths.saturating_sub(self.true_positives)
    }
}

/// Everything at one `min_score`.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectionSummary {
    pub matching: Matching,
    pub min_score: f64,
    /// Counts over all classes; `ap50` and `ap` are the means over the classes with truth
    /// (mAP@0.5 and COCO's mAP@[.5:.95]).
    pub all: ClassFigures,
    pub per_class: Vec<ClassFigures>,
    /// `min_score` is below the lowest stored score: detections between are missing.
    pub below_floor: bool,
}

impl DetectionSet {
    /// Matches every stored detection once; the set is then ready for any `min_score`.
    pub fn new(labels: Vec<String>, matching: Matching, images: Vec<Image>) -> Self {
        let classes = labels.len();
        let mut ranked = vec![Ranked::default(); classes];
        // (score, matched bits) per class, in image order: COCO's order before its stable
        // sort by score.
        let mut per_class: Vec<Vec<(f64, u16)>> = vec![Vec::new(); classes];
        for image in &images {
            // Only the classes the image has: a set of many labels costs no more per image.
            let mut present: Vec<usize> = image
                .truths
                .iter()
                .map(|t| usize::from(t.class))
                .chain(image.detections.iter().map(|d| usize::from(d.class)))
                .filter(|&c| c < classes)
                .collect();
            present.sort_unstable();
            present.dedup();
            for class in present {
                let truths: Vec<&Truth> = image
                    .truths
                    .iter()
                    .filter(|t| usize::from(t.class) == class)
                    .collect();
                ranked[class].truths += truths.len() as u32;
                let mut detections: Vec<&Detection> = image
                    .detections
                    .iter()
                    .filter(|d| usize::from(d.class) == class)
                    .collect();
                // Stable: equal scores keep their stored order, as numpy's mergesort.
                detections.sort_by(|a, b| b.score.total_cmp(&a.score));
                detections.truncate(MAX_DETECTIONS);
                let bits = match matching {
                    Matching::Boxes => match_boxes(&truths, &detections),
                    Matching::Centroids => match_centroids(&truths, &detections),
                };
                per_class[class].extend(detections.iter().map(|d| d.score).zip(bits));
            }
        }
        for (class, mut list) in per_class.into_iter().enumerate() {
            list.sort_by(|a, b| b.0.total_cmp(&a.0));
            let r = &mut ranked[class];
            let mut tp = 0;
            for (score, bits) in list {
                r.scores.push(score);
                r.matched.push(bits);
                tp += u32::from(bits & 1);
                r.tp50.push(tp);
            }
        }
        let floor = images
            .iter()
            .flat_map(|i| i.detections.iter().map(|d| d.score))
            .min_by(f64::total_cmp);
        Self {
            labels,
            matching,
            images,
            floor,
            ranked,
        }
    }

    /// Whether every class index is a label and every number finite (a set read from disk
    /// is checked before use).
    pub fn check(&self) -> Result<(), String> {
        let classes = self.labels.len();
        let finite = |b: &BoxXywh| [b.x, b.y, b.w, b.h].iter().all(|v| v.is_finite());
        for image in &self.images {
            let truths_ok = image
                .truths
                .iter()
                .all(|t| usize::from(t.class) < classes && finite(&t.bbox));
            let detections_ok = image
                .detections
                .iter()
                .all(|d| usize::from(d.class) < classes && finite(&d.bbox) && d.score.is_finite());
            if !truths_ok || !detections_ok {
                return Err("a detection or box with an unknown class or no number".into());
            }
        }
        Ok(())
    }

    pub fn image_count(&self) -> usize {
        self.images.len()
    }

    /// How many detections of each class score at or above `min_score`.
    fn kept(&self, class: usize, min_score: f64) -> usize {
        self.ranked[class]
            .scores
            .partition_point(|s| *s >= min_score)
    }

    /// Figures of `class` at `min_score`; `with_ap`: the average precisions too (a pass
    /// over the kept detections, where the counts are a lookup).
    fn class_figures(&self, class: usize, min_score: f64, with_ap: bool) -> ClassFigures {
        let r = &self.ranked[class];
        let n = self.kept(class, min_score);
        let tp = if n == 0 { 0 } else { r.tp50[n - 1] };
        let boxes = self.matching == Matching::Boxes && r.truths > 0;
        let (ap50, ap) = if with_ap && boxes {
            let per_iou: Vec<f64> = (0..IOU_THRESHOLDS.len())
                .map(|k| average_precision(&r.matched[..n], k, r.truths))
                .collect();
            (
                Some(per_iou[0]),
                Some(per_iou.iter().sum::<f64>() / per_iou.len() as f64),
            )
        } else {
            (None, None)
        };
        ClassFigures {
            true_positives: tp,
            false_positives: n as u32 - tp,
            truths: r.truths,
            ap50,
            ap,
        }
    }

    /// Everything at `min_score`; `with_ap` as in [`Self::class_figures`].
    pub fn evaluate(&self, min_score: f64, with_ap: bool) -> DetectionSummary {
        let per_class: Vec<ClassFigures> = (0..self.labels.len())
            .map(|c| self.class_figures(c, min_score, with_ap))
            .collect();
        let mut all = ClassFigures::default();
        for c in &per_class {
            all.true_positives += c.true_positives;
            all.false_positives += c.false_positives;
            all.truths += c.truths;
        }
        let mean = |f: fn(&ClassFigures) -> Option<f64>| {
            let values: Vec<f64> = per_class.iter().filter_map(f).collect();
            (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
        };
        all.ap50 = mean(|c| c.ap50);
        all.ap = mean(|c| c.ap);
        DetectionSummary {
            matching: self.matching,
            min_score,
            all,
            per_class,
            below_floor: self.floor.is_some_and(|f| min_score < f),
        }
    }
}

/// COCO's matching of one image's detections of one class (sorted by descending score) at
/// every IoU threshold: bit `k` set when the detection matched at `IOU_THRESHOLDS[k]`.
fn match_boxes(truths: &[&Truth], detections: &[&Detection]) -> Vec<u16> {
    let ious: Vec<Vec<f64>> = detections
        .iter()
        .map(|d| truths.iter().map(|t| d.bbox.iou(&t.bbox)).collect())
        .collect();
    let mut bits = vec![0u16; detections.len()];
    for (k, threshold) in IOU_THRESHOLDS.iter().enumerate() {
        let mut taken = vec![false; truths.len()];
        for (d, row) in ious.iter().enumerate() {
            // As pycocotools: the best overlap at or above the threshold among the boxes
            // not taken; on equal overlaps the later box.
            let mut best = threshold.min(1.0 - 1e-10);
            let mut matched = None;
            for (g, &iou) in row.iter().enumerate() {
                if taken[g] || iou < best {
                    continue;
                }
                best = iou;
                matched = Some(g);
            }
            if let Some(g) = matched {
                taken[g] = true;
                bits[d] |= 1 << k;
            }
        }
    }
    bits
}

/// FOMO's matching: each detection, by descending score, takes the first box of its class
/// not taken that contains its centre.
fn match_centroids(truths: &[&Truth], detections: &[&Detection]) -> Vec<u16> {
    let mut taken = vec![false; truths.len()];
    detections
        .iter()
        .map(|d| {
            let centre = d.bbox.centre();
            match (0..truths.len()).find(|&g| !taken[g] && truths[g].bbox.contains(centre)) {
                Some(g) => {
                    taken[g] = true;
                    1
                }
                None => 0,
            }
        })
        .collect()
}

/// COCO's average precision over detections ranked by score, at IoU threshold `k`: the
/// precision envelope read at 101 recall points, 0 where the recall is not reached.
///
/// One backward pass, nothing allocated: going from the last detection to the first, the
/// running maximum of the precision is the envelope, and a recall point takes it at the
/// first detection whose recall reaches it. Precision and recall are computed as
/// pycocotools does (`tp / (fp + tp + eps)`), so the figures are the same.
fn average_precision(matched: &[u16], k: usize, truths: u32) -> f64 {
    let truths = f64::from(truths);
    let mut tp: f64 = matched.iter().map(|bits| f64::from(bits >> k & 1)).sum();
    let mut envelope = 0.0_f64;
    let mut point = 100_usize as isize;
    // Recall points above the highest recall reached read 0.
    let reached = tp / truths;
    while point >= 0 && recall_threshold(point as usize) > reached {
        point -= 1;
    }
    let mut values = [0.0; 101];
    for i in (0..matched.len()).rev() {
        let precision = tp / ((i + 1) as f64 + f64::EPSILON);
        envelope = envelope.max(precision);
        tp -= f64::from(matched[i] >> k & 1);
        let before = if i == 0 {
            f64::NEG_INFINITY
        } else {
            tp / truths
        };
        while point >= 0 && recall_threshold(point as usize) > before {
            values[point as usize] = envelope;
            point -= 1;
        }
    }
    values.iter().sum::<f64>() / 101.0
}

/// numpy's `linspace(0, 1, 101)[r]`.
fn recall_threshold(r: usize) -> f64 {
    if r == 100 { 1.0 } else { r as f64 * 0.01 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x: f64, y: f64, w: f64, h: f64) -> BoxXywh {
        BoxXywh { x, y, w, h }
    }

    fn det(class: u16, bbox: BoxXywh, score: f64) -> Detection {
        Detection { class, bbox, score }
    }

    fn truth(class: u16, bbox: BoxXywh) -> Truth {
        Truth { class, bbox }
    }

    fn set(images: Vec<Image>) -> DetectionSet {
        DetectionSet::new(vec!["a".into(), "b".into()], Matching::Boxes, images)
    }

    /// Images as the assets write them: truths `[class, x, y, w, h]`, detections
    /// `[class, x, y, w, h, score]`.
    fn images_of(value: &serde_json::Value) -> Vec<Image> {
        let num = |v: &serde_json::Value, i: usize| v[i].as_f64().unwrap();
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|image| Image {
                truths: image["truths"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| {
                        truth(
                            num(t, 0) as u16,
                            b(num(t, 1), num(t, 2), num(t, 3), num(t, 4)),
                        )
                    })
                    .collect(),
                detections: image["detections"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| {
                        let bbox = b(num(d, 1), num(d, 2), num(d, 3), num(d, 4));
                        det(num(d, 0) as u16, bbox, num(d, 5))
                    })
                    .collect(),
            })
            .collect()
    }

    fn check_against(set: &DetectionSet, expected: &serde_json::Value, what: &str) {
        for row in expected.as_array().unwrap() {
            let t = row["minScore"].as_f64().unwrap();
            let e = set.evaluate(t, true);
            let at = format!("{what} at {t}");
            assert_eq!(
                u64::from(e.all.true_positives),
                row["truePositives"].as_u64().unwrap(),
                "{at}"
            );
            assert_eq!(
                u64::from(e.all.false_positives),
                row["falsePositives"].as_u64().unwrap(),
                "{at}"
            );
            assert_eq!(
                u64::from(e.all.truths),
                row["truths"].as_u64().unwrap(),
                "{at}"
            );
            if set.matching == Matching::Boxes {
                let close =
                    |ours: Option<f64>, theirs: &serde_json::Value| match (ours, theirs.as_f64()) {
                        (Some(a), Some(b)) => (a - b).abs() < 1e-12,
                        (None, None) => true,
                        _ => false,
                    };
                assert!(
                    close(e.all.ap, &row["mAP"]),
                    "{at}: mAP {:?} against {}",
                    e.all.ap,
                    row["mAP"]
                );
                assert!(
                    close(e.all.ap50, &row["mAP50"]),
                    "{at}: mAP50 {:?} against {}",
                    e.all.ap50,
                    row["mAP50"]
                );
            }
        }
    }

    /// The figures of pycocotools (and of an independent centroid matcher), computed by
    /// scripts/make_detection_assets.py on the demo's data and on hand-made cases.
    #[test]
    fn the_metrics_equal_pycocotools_on_the_demo_data_and_the_edge_cases() {
        let demo: serde_json::Value =
            serde_json::from_str(include_str!("../../assets/demo-detection.json")).unwrap();
        let expected: serde_json::Value =
            serde_json::from_str(include_str!("../../assets/detection-expected.json")).unwrap();
        let labels: Vec<String> = serde_json::from_value(demo["labels"].clone()).unwrap();
        let boxes = DetectionSet::new(
            labels.clone(),
            Matching::Boxes,
            images_of(&demo["detection"]),
        );
        check_against(&boxes, &expected["detection"], "boxes");
        let centroids = DetectionSet::new(
            labels.clone(),
            Matching::Centroids,
            images_of(&demo["fomo"]),
        );
        check_against(&centroids, &expected["fomo"], "centroids");
        for case in expected["cases"].as_array().unwrap() {
            let set =
                DetectionSet::new(labels.clone(), Matching::Boxes, images_of(&case["images"]));
            check_against(&set, &case["figures"], case["name"].as_str().unwrap());
        }
    }

    #[test]
    fn touching_boxes_do_not_overlap_and_equal_boxes_overlap_whole() {
        assert_eq!(b(0.0, 0.0, 10.0, 10.0).iou(&b(10.0, 0.0, 10.0, 10.0)), 0.0);
        assert_eq!(b(0.0, 0.0, 10.0, 10.0).iou(&b(0.0, 0.0, 10.0, 10.0)), 1.0);
        assert_eq!(
            b(0.0, 0.0, 10.0, 10.0).iou(&b(5.0, 0.0, 10.0, 10.0)),
            50.0 / 150.0
        );
    }

    #[test]
    fn a_duplicate_detection_is_a_false_positive_and_raising_min_score_drops_it() {
        let image = Image {
            truths: vec![truth(0, b(0.0, 0.0, 10.0, 10.0))],
            detections: vec![
                det(0, b(1.0, 0.0, 10.0, 10.0), 0.9),
                det(0, b(0.0, 1.0, 10.0, 10.0), 0.4),
            ],
        };
        let s = set(vec![image]);
        let low = s.evaluate(0.3, true);
        assert_eq!((low.all.true_positives, low.all.false_positives), (1, 1));
        assert_eq!(low.all.precision(), Some(0.5));
        assert_eq!(low.all.recall(), Some(1.0));
        let high = s.evaluate(0.5, true);
        assert_eq!((high.all.true_positives, high.all.false_positives), (1, 0));
        assert_eq!(high.all.f1(), Some(1.0));
        // Class b has no truth: no average precision for it, and it does not count.
        assert_eq!(high.per_class[1].ap50, None);
        assert_eq!(high.all.ap50, high.per_class[0].ap50);
        assert!(!high.below_floor && s.evaluate(0.1, false).below_floor);
    }

    #[test]
    fn no_detections_or_no_truth_give_the_figures_that_exist() {
        let s = set(vec![Image {
            truths: vec![truth(0, b(0.0, 0.0, 10.0, 10.0))],
            detections: vec![],
        }]);
        let e = s.evaluate(0.5, true);
        assert_eq!(e.all.precision(), None);
        assert_eq!(e.all.recall(), Some(0.0));
        assert_eq!(e.all.f1(), Some(0.0));
        assert_eq!(e.all.ap50, Some(0.0));
        assert_eq!(s.floor, None);
        let s = set(vec![Image {
            truths: vec![],
            detections: vec![det(1, b(0.0, 0.0, 4.0, 4.0), 0.7)],
        }]);
        let e = s.evaluate(0.5, true);
        assert_eq!(e.all.precision(), Some(0.0));
        assert_eq!(e.all.recall(), None);
        assert_eq!(e.all.ap50, None);
        assert_eq!(set(vec![]).evaluate(0.5, true).all.f1(), None);
    }

    #[test]
    fn a_detection_takes_the_box_it_overlaps_most_and_classes_never_mix() {
        let image = Image {
            truths: vec![
                truth(0, b(0.0, 0.0, 10.0, 10.0)),
                truth(0, b(2.0, 0.0, 10.0, 10.0)),
                truth(1, b(2.0, 0.0, 10.0, 10.0)),
            ],
            detections: vec![
                det(0, b(2.0, 0.0, 10.0, 10.0), 0.9),
                det(0, b(0.0, 0.0, 10.0, 10.0), 0.8),
            ],
        };
        let e = set(vec![image]).evaluate(0.5, true);
        // The first takes the box it equals (not the first listed); the second the other.
        assert_eq!(e.per_class[0].true_positives, 2);
        assert_eq!(e.per_class[1].missed(), 1);
        assert_eq!(e.per_class[0].ap50, Some(1.0));
    }

    #[test]
    fn centroids_match_boxes_that_contain_them() {
        let image = Image {
            truths: vec![truth(0, b(0.0, 0.0, 8.0, 8.0))],
            detections: vec![
                det(0, b(3.0, 3.0, 2.0, 2.0), 0.9),
                det(0, b(4.0, 4.0, 2.0, 2.0), 0.8),
                det(0, b(20.0, 20.0, 2.0, 2.0), 0.7),
            ],
        };
        let s = DetectionSet::new(vec!["a".into()], Matching::Centroids, vec![image]);
        let e = s.evaluate(0.0, true);
        assert_eq!((e.all.true_positives, e.all.false_positives), (1, 2));
        assert_eq!(e.all.ap50, None);
    }

    #[test]
    fn figures_at_a_score_equal_matching_only_the_detections_kept() {
        // Prefix stability: matching everything and counting above t equals matching
        // only the detections above t.
        let mut rng = fastrand::Rng::with_seed(7);
        let images: Vec<Image> = (0..40)
            .map(|_| Image {
                truths: (0..rng.usize(0..5))
                    .map(|_| {
                        truth(
                            rng.u16(0..2),
                            b(rng.f64() * 40.0, rng.f64() * 40.0, 8.0, 8.0),
                        )
                    })
                    .collect(),
                detections: (0..rng.usize(0..12))
                    .map(|_| {
                        let s = (rng.f64() * 20.0).round() / 20.0;
                        det(
                            rng.u16(0..2),
                            b(rng.f64() * 40.0, rng.f64() * 40.0, 8.0, 8.0),
                            s,
                        )
                    })
                    .collect(),
            })
            .collect();
        let all = set(images.clone());
        for t in [0.0, 0.25, 0.5, 0.55, 0.9, 1.0] {
            let kept: Vec<Image> = images
                .iter()
                .map(|i| Image {
                    truths: i.truths.clone(),
                    detections: i
                        .detections
                        .iter()
                        .filter(|d| d.score >= t)
                        .copied()
                        .collect(),
                })
                .collect();
            let mut direct = set(kept).evaluate(t, true);
            let mut prefix = all.evaluate(t, true);
            // Only the floor differs.
            direct.below_floor = false;
            prefix.below_floor = false;
            assert_eq!(direct, prefix, "at {t}");
        }
    }
}
