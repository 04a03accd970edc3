//! The demo project: five impulses over real model outputs on the UCI handwritten digits,
//! one for each way Studio treats a threshold change.
//!
//! | impulse | blocks | set-thresholds answers |
//! |---|---|---|
//! | 1 classifier + anomaly (default) | keras 3, anomaly 4 | `regenerated` |
//! | 2 large test set | keras 13, anomaly 14 | `requires_job`, or `started_job` with jobs allowed |
//! | 3 visual anomaly | keras-visual-anomaly 23 (with a dropdown) | `regenerated` |
//! | 4 object detection | keras-object-detection 33 | `not_regenerated` (had results) |
//! | 5 never tested | keras 43 | `not_regenerated` (no results) |

use std::sync::Arc;

use serde::Deserialize;

use crate::api::models::*;
use crate::metrics::detection::{BoxXywh, Detection, DetectionSet, Image, Matching, Truth};
use crate::metrics::{AnomalyScores, TestSet};

pub const DEMO_PROJECT_ID: u64 = 4242;
pub const DEMO_PROJECT_NAME: &str = "Handwritten digits (ei-tune demo)";
/// Windows in the large impulse's test set: above the 20,000 that Studio regenerates inline.
pub const LARGE_TEST_SET_WINDOWS: usize = 24_000;
/// Above this many test windows a regeneration needs a job.
pub const INLINE_REGENERATION_LIMIT: usize = 20_000;

const ASSET: &str = include_str!("../../../assets/demo-digits.json");
const DETECTION_ASSET: &str = include_str!("../../../assets/demo-detection.json");
const DEMO_DATE: &str = "2026-01-12T09:00:00.000Z";
/// When the demo's models were trained, and its data last changed.
pub const DEMO_TRAINED: &str = "2026-01-12T10:30:00.000Z";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Asset {
    classes: Vec<String>,
    anomaly_label: String,
    suggested: Suggested,
    windows: Vec<AssetWindow>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Suggested {
    min_anomaly_score: f64,
    visual_min_anomaly_score: f64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssetWindow {
    expected: String,
    scores: Vec<f64>,
    anomaly: f64,
    visual_mean: f64,
    visual_max: f64,
}

/// The detection data (scripts/make_detection_assets.py): images with ground-truth
/// `[class, x, y, w, h]` and detections `[class, x, y, w, h, score]`, down to `floor`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DetectionAsset {
    labels: Vec<String>,
    suggested: f64,
    detection: Vec<AssetImage>,
    fomo: Vec<AssetImage>,
}

#[derive(Debug, Deserialize)]
struct AssetImage {
    truths: Vec<[f64; 5]>,
    detections: Vec<[f64; 6]>,
}

/// What a learn block contributes to model testing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockRole {
    Classifier,
    Anomaly,
    VisualAnomaly,
    /// Object detection (boxes or FOMO centroids).
    Detector,
}

#[derive(Debug, Clone)]
pub struct SimBlock {
    pub block: ImpulseLearnBlock,
    pub role: BlockRole,
    pub thresholds: Vec<BlockThreshold>,
    pub classes: Vec<String>,
    /// When its model was trained (RFC 3339), as its metadata says.
    pub trained: String,
}

/// How Studio regenerates an impulse's results after a threshold change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Regeneration {
    /// Small test set: at once, inside set-thresholds.
    Inline,
    /// Large test set: only in a job.
    Job,
    /// Object detection: not from the summary; model testing has to run again.
    Never,
}

#[derive(Debug, Clone)]
pub struct SimImpulse {
    pub impulse: Impulse,
    pub blocks: Vec<SimBlock>,
    /// The model testing outputs; `None` for an impulse never tested.
    pub test_set: Option<Arc<TestSet>>,
    pub regeneration: Regeneration,
}

pub fn demo_project() -> Project {
    Project {
        id: DEMO_PROJECT_ID,
        name: DEMO_PROJECT_NAME.into(),
        description: "Handwritten digits 0-5 with 9 held out as the anomaly; models trained \
                      with scikit-learn on the UCI optical digits dataset."
            .into(),
        created: DEMO_DATE.into(),
        owner: "ei-tune".into(),
        collaborators: vec![ProjectCollaborator {
            id: 1,
            username: "demo".into(),
            name: "Demo user".into(),
            email: "demo@example.com".into(),
            created: DEMO_DATE.into(),
            staff_info: StaffInfo {
                is_staff: false,
                has_sudo_rights: false,
            },
            pending: false,
            activated: true,
            mfa_configured: false,
            is_owner: true,
        }],
        labeling_method: "single_label".into(),
        metadata: serde_json::json!({}),
        is_enterprise_project: false,
        whitelabel_id: None,
        tier: "free".into(),
        has_public_version: false,
        is_public: false,
        allows_live_public_access: false,
        owner_is_developer_profile: false,
        ind_pause_processing_samples: false,
        public_project_listed: false,
        category: Some("Images".into()),
    }
}

/// The embedded demo data does not read: a build from edited assets.
#[derive(Debug, thiserror::Error)]
pub enum DemoAssetError {
    #[error("the demo's {asset} asset is corrupt: {source}")]
    Corrupt {
        asset: &'static str,
        source: serde_json::Error,
    },
    #[error("demo window {window}: unknown label {label}")]
    UnknownLabel { window: usize, label: String },
    #[error("demo window {window}: {scores} scores for {classes} classes")]
    ScoreCount {
        window: usize,
        scores: usize,
        classes: usize,
    },
    #[error("the demo has no impulse at index {0}")]
    NoImpulse(usize),
}

/// Builds the demo impulses from the embedded asset.
pub fn demo_impulses() -> Result<Vec<SimImpulse>, DemoAssetError> {
    let corrupt = |asset| move |source| DemoAssetError::Corrupt { asset, source };
    let asset: Asset = serde_json::from_str(ASSET).map_err(corrupt("digits"))?;
    let detection_asset: DetectionAsset =
        serde_json::from_str(DETECTION_ASSET).map_err(corrupt("detection"))?;
    let mut impulses = digit_impulses(&asset)?;
    impulses.extend(detection_impulses(&detection_asset));
    impulses.sort_by_key(|sim| sim.impulse.id);
    Ok(impulses)
}

/// The digits' impulses: classifier and anomaly, its large test set, visual anomaly, and
/// one not tested yet.
fn digit_impulses(asset: &Asset) -> Result<Vec<SimImpulse>, DemoAssetError> {
    let digits = Arc::new(classifier_with_anomaly(asset)?);
    let large = Arc::new(resample(&digits, LARGE_TEST_SET_WINDOWS, 0x5eed));
    let visual = Arc::new(visual_anomaly(asset));
    let classes = &asset.classes;
    let min_anomaly = asset.suggested.min_anomaly_score;
    let visual_suggested = asset.suggested.visual_min_anomaly_score;
    let digits_blocks = |l: &[ImpulseLearnBlock]| {
        vec![
            classifier_block(&l[0], classes),
            anomaly_block(&l[1], classes, min_anomaly),
        ]
    };
    Ok(vec![
        sim_impulse(
            impulse(
                1,
                "Digits: classifier + anomaly",
                &[(3, "keras"), (4, "anomaly")],
            ),
            digits_blocks,
            Some(digits),
            Regeneration::Inline,
        ),
        sim_impulse(
            impulse(
                2,
                "Digits: large test set",
                &[(13, "keras"), (14, "anomaly")],
            ),
            digits_blocks,
            Some(large),
            Regeneration::Job,
        ),
        sim_impulse(
            impulse(3, "Digits: visual anomaly", &[(23, "keras-visual-anomaly")]),
            |l| vec![visual_block(&l[0], visual_suggested)],
            Some(visual),
            Regeneration::Inline,
        ),
        sim_impulse(
            impulse(5, "Digits: not yet tested", &[(43, "keras")]),
            |l| vec![classifier_block(&l[0], classes)],
            None,
            Regeneration::Inline,
        ),
    ])
}

/// Object detection: bounding boxes (YOLO-like), and centroids (FOMO).
fn detection_impulses(asset: &DetectionAsset) -> Vec<SimImpulse> {
    let detector = |l: &[ImpulseLearnBlock]| vec![detector_block(&l[0], asset)];
    vec![
        sim_impulse(
            impulse(
                4,
                "Digits: object detection",
                &[(33, "keras-object-detection")],
            ),
            detector,
            Some(Arc::new(detection_set(asset, Matching::Boxes))),
            Regeneration::Never,
        ),
        sim_impulse(
            impulse(6, "Digits: FOMO", &[(53, "keras-object-detection")]),
            detector,
            Some(Arc::new(detection_set(asset, Matching::Centroids))),
            Regeneration::Never,
        ),
    ]
}

/// An impulse with the simulated blocks made from its learn blocks.
fn sim_impulse(
    impulse: Impulse,
    blocks: impl FnOnce(&[ImpulseLearnBlock]) -> Vec<SimBlock>,
    test_set: Option<Arc<TestSet>>,
    regeneration: Regeneration,
) -> SimImpulse {
    SimImpulse {
        blocks: blocks(&impulse.learn_blocks),
        impulse,
        test_set,
        regeneration,
    }
}

/// A detection test set: no windows to classify, the images instead.
fn detection_set(asset: &DetectionAsset, matching: Matching) -> TestSet {
    let images = match matching {
        Matching::Boxes => &asset.detection,
        Matching::Centroids => &asset.fomo,
    };
    let bbox = |v: &[f64]| BoxXywh {
        x: v[0],
        y: v[1],
        w: v[2],
        h: v[3],
    };
    let images = images
        .iter()
        .map(|image| Image {
            truths: image
                .truths
                .iter()
                .map(|t| Truth {
                    class: t[0] as u16,
                    bbox: bbox(&t[1..]),
                })
                .collect(),
            detections: image
                .detections
                .iter()
                .map(|d| Detection {
                    class: d[0] as u16,
                    bbox: bbox(&d[1..5]),
                    score: d[5],
                })
                .collect(),
        })
        .collect();
    TestSet {
        labels: asset.labels.clone(),
        detection: Some(DetectionSet::new(asset.labels.clone(), matching, images)),
        ..TestSet::default()
    }
}

fn detector_block(learn: &ImpulseLearnBlock, asset: &DetectionAsset) -> SimBlock {
    let mut block = classifier_block(learn, &asset.labels);
    block.role = BlockRole::Detector;
    block.thresholds[0].suggested_value = Some(asset.suggested);
    block
}

fn classifier_with_anomaly(asset: &Asset) -> Result<TestSet, DemoAssetError> {
    let mut labels = asset.classes.clone();
    labels.push(asset.anomaly_label.clone());
    let class_count = asset.classes.len();
    let mut expected = Vec::with_capacity(asset.windows.len());
    let mut class_scores = Vec::with_capacity(asset.windows.len() * class_count);
    let mut anomaly = Vec::with_capacity(asset.windows.len());
    for (i, w) in asset.windows.iter().enumerate() {
        let label = labels
            .iter()
            .position(|l| *l == w.expected)
            .ok_or_else(|| DemoAssetError::UnknownLabel {
                window: i,
                label: w.expected.clone(),
            })?;
        if w.scores.len() != class_count {
            return Err(DemoAssetError::ScoreCount {
                window: i,
                scores: w.scores.len(),
                classes: class_count,
            });
        }
        expected.push(label as u16);
        class_scores.extend_from_slice(&w.scores);
        anomaly.push(w.anomaly);
    }
    Ok(TestSet {
        anomaly_label: Some(class_count as u16),
        labels,
        class_count,
        normal_label: None,
        expected,
        class_scores,
        anomaly: AnomalyScores::Single(anomaly),
        detection: None,
    })
}

fn visual_anomaly(asset: &Asset) -> TestSet {
    let expected = asset
        .windows
        .iter()
        .map(|w| u16::from(w.expected == asset.anomaly_label))
        .collect();
    TestSet {
        labels: vec!["no anomaly".into(), asset.anomaly_label.clone()],
        class_count: 0,
        normal_label: Some(0),
        anomaly_label: Some(1),
        expected,
        class_scores: Vec::new(),
        anomaly: AnomalyScores::Visual {
            mean: asset.windows.iter().map(|w| w.visual_mean).collect(),
            max: asset.windows.iter().map(|w| w.visual_max).collect(),
        },
        detection: None,
    }
}

/// `count` windows drawn with replacement from `set`, reproducibly.
pub fn resample(set: &TestSet, count: usize, seed: u64) -> TestSet {
    let mut rng = fastrand::Rng::with_seed(seed);
    let picks: Vec<usize> = (0..count).map(|_| rng.usize(..set.len())).collect();
    let anomaly = match &set.anomaly {
        AnomalyScores::None => AnomalyScores::None,
        AnomalyScores::Single(s) => AnomalyScores::Single(picks.iter().map(|&i| s[i]).collect()),
        AnomalyScores::Visual { mean, max } => AnomalyScores::Visual {
            mean: picks.iter().map(|&i| mean[i]).collect(),
            max: picks.iter().map(|&i| max[i]).collect(),
        },
    };
    TestSet {
        labels: set.labels.clone(),
        class_count: set.class_count,
        normal_label: set.normal_label,
        anomaly_label: set.anomaly_label,
        expected: picks.iter().map(|&i| set.expected[i]).collect(),
        class_scores: picks
            .iter()
            .flat_map(|&i| set.scores(i).iter().copied())
            .collect(),
        anomaly,
        detection: None,
    }
}

fn impulse(id: u64, name: &str, learn: &[(u64, &str)]) -> Impulse {
    let base = id * 10;
    Impulse {
        id,
        name: name.into(),
        kind: "default".into(),
        input_blocks: vec![ImpulseInputBlock {
            id: base + 1,
            kind: "image".into(),
            name: "Image data".into(),
            title: "Image data".into(),
            window_size_ms: None,
            image_width: Some(8),
            image_height: Some(8),
        }],
        dsp_blocks: vec![ImpulseDspBlock {
            id: base + 2,
            kind: "image".into(),
            name: "Image".into(),
            axes: vec!["image".into()],
            title: "Image".into(),
            implementation_version: 1,
        }],
        learn_blocks: learn
            .iter()
            .map(|&(block_id, kind)| learn_block(block_id, kind, base + 2))
            .collect(),
        post_processing_blocks: Vec::new(),
    }
}

fn learn_block(id: u64, kind: &str, dsp: u64) -> ImpulseLearnBlock {
    let (name, title) = match kind {
        "anomaly" => ("Anomaly detection (K-means)", "Anomaly detection"),
        "keras-visual-anomaly" => ("Visual anomaly detection", "Visual anomaly"),
        "keras-object-detection" => ("Object detection", "Object detection"),
        _ => ("Classifier", "Classification"),
    };
    ImpulseLearnBlock {
        id,
        kind: LearnBlockType::new(kind),
        name: name.into(),
        dsp: vec![dsp],
        title: title.into(),
        created_by: Some("createImpulse".into()),
        created_at: Some(DEMO_DATE.into()),
    }
}

fn block_of(block: &ImpulseLearnBlock, role: BlockRole, classes: &[String]) -> SimBlock {
    SimBlock {
        block: block.clone(),
        role,
        thresholds: Vec::new(),
        classes: classes.to_vec(),
        trained: DEMO_TRAINED.into(),
    }
}

fn classifier_block(learn: &ImpulseLearnBlock, classes: &[String]) -> SimBlock {
    let detection = learn.kind.is_object_detection();
    let mut block = block_of(learn, BlockRole::Classifier, classes);
    block.thresholds = vec![BlockThreshold {
        key: "min_score".into(),
        description: if detection {
            "Score threshold".into()
        } else {
            "Minimum confidence rating".into()
        },
        help_text: if detection {
            "Threshold score for bounding boxes. If the score for a bounding box is below \
             this the box will be discarded."
                .into()
        } else {
            "Windows whose highest class score is below this are marked uncertain.".into()
        },
        value: ThresholdValue::Number(0.6),
        suggested_value: None,
        suggested_value_text: None,
        dropdown_options: None,
    }];
    block
}

fn anomaly_block(learn: &ImpulseLearnBlock, classes: &[String], suggested: f64) -> SimBlock {
    let mut block = block_of(learn, BlockRole::Anomaly, classes);
    block.thresholds = vec![anomaly_threshold(
        0.3,
        suggested,
        "Windows with an anomaly score at or above this are anomalous. Normal data scores \
         around 0; the suggested value flags 5 % of the training data.",
    )];
    block
}

fn visual_block(learn: &ImpulseLearnBlock, suggested: f64) -> SimBlock {
    let mut block = block_of(learn, BlockRole::VisualAnomaly, &["no anomaly".to_string()]);
    block.thresholds = vec![
        anomaly_threshold(
            10.0,
            suggested,
            "Images with an anomaly score at or above this are anomalous. The suggested value \
             flags 5 % of the training images.",
        ),
        BlockThreshold {
            key: "anomaly_scoring_aggregation_method".into(),
            description: "Anomaly score aggregation".into(),
            help_text: "How an image's grid of patch scores becomes one anomaly score.".into(),
            value: ThresholdValue::Text("max".into()),
            suggested_value: None,
            suggested_value_text: None,
            dropdown_options: Some(vec![
                DropdownOption {
                    value: "mean".into(),
                    description: "Mean of the patch scores (robust to small defects)".into(),
                },
                DropdownOption {
                    value: "max".into(),
                    description: "Maximum of the patch scores (catches small defects)".into(),
                },
            ]),
        },
    ];
    block
}

fn anomaly_threshold(value: f64, suggested: f64, help: &str) -> BlockThreshold {
    BlockThreshold {
        key: "min_anomaly_score".into(),
        description: "Minimum anomaly score".into(),
        help_text: help.into(),
        value: ThresholdValue::Number(value),
        suggested_value: Some(suggested),
        suggested_value_text: Some(format!("{suggested}")),
        dropdown_options: None,
    }
}

mod described;

pub use described::{anomaly_config, anomaly_metadata, keras_config, keras_metadata, sample};

#[cfg(test)]
mod tests;
