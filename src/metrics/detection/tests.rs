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
        serde_json::from_str(include_str!("../../../assets/demo-detection.json")).unwrap();
    let expected: serde_json::Value =
        serde_json::from_str(include_str!("../../../assets/detection-expected.json")).unwrap();
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
        let set = DetectionSet::new(labels.clone(), Matching::Boxes, images_of(&case["images"]));
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
