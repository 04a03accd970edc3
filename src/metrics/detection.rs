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
    pub fn check(&self) -> Result<(), super::InconsistentSet> {
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
                return Err(super::InconsistentSet::Detection);
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
mod tests;
