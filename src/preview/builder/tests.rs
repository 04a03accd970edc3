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
    let set = builder.finish().unwrap();
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
        fomo.finish().unwrap().detection.unwrap().matching,
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
    let results: Vec<ModelResult> = [("wave", [0.5, 0.5, 0.0, 0.0]), ("9", [0.1, 0.1, 0.3, 0.5])]
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
    let set = builder.finish().unwrap();
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
    let set = builder.finish().unwrap();
    let summary = set.evaluate(&Thresholds::default());
    assert_eq!(summary.anomaly_accuracy(), Some(1.0), "{:?}", set.labels);
    assert_eq!(summary.accuracy(), Some(1.0));
    assert!(!set.labels.contains(&"9".to_string()), "{:?}", set.labels);
}
