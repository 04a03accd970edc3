use super::*;

#[test]
fn threshold_value_is_number_or_string() {
    let n: ThresholdValue = serde_json::from_str("0.6").unwrap();
    assert_eq!(n, ThresholdValue::Number(0.6));
    let s: ThresholdValue = serde_json::from_str("\"max\"").unwrap();
    assert_eq!(s, ThresholdValue::Text("max".into()));
    assert!(serde_json::from_str::<ThresholdValue>("true").is_err());
}

#[test]
fn request_uses_the_spec_field_names() {
    let request = SetImpulseThresholdsRequest {
        thresholds: vec![ThresholdUpdate {
            block_id: 3,
            key: "min_score".into(),
            value: ThresholdValue::Number(0.7),
        }],
        allow_creating_regenerate_model_testing_jobs: false,
        force_run_regenerate_model_testing_in_job: None,
    };
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        serde_json::json!({
            "thresholds": [{"blockId": 3, "key": "min_score", "value": 0.7}],
            "allowCreatingRegenerateModelTestingJobs": false
        })
    );
}

#[test]
fn status_strings_match_the_spec_enum() {
    for status in RegenerateStatus::KNOWN {
        let json = serde_json::to_string(status).unwrap();
        assert_eq!(json, format!("\"{}\"", status.as_str()));
        assert_eq!(
            &serde_json::from_str::<RegenerateStatus>(&json).unwrap(),
            status
        );
    }
}

#[test]
fn enum_values_added_later_decode_and_keep_their_text() {
    let body = br#"{"success":true,"hadModelTestingResults":true,"regenerateModelTestingStatus":"regenerated-partially"}"#;
    let r: SetImpulseThresholdsResponse = serde_json::from_slice(body).unwrap();
    assert_eq!(
        r.regenerate_model_testing_status,
        RegenerateStatus::Other("regenerated-partially".into())
    );
    let words = r.regenerate_model_testing_status.explanation();
    assert!(words.starts_with("saved;"), "{words}");
    assert!(words.contains("`regenerated-partially`"), "{words}");
    assert_eq!(
        serde_json::to_value(&r).unwrap()["regenerateModelTestingStatus"],
        "regenerated-partially"
    );
    let stale: StaleReason = serde_json::from_str("\"should_wait_\\u001b[2J\"").unwrap();
    assert!(matches!(stale, StaleReason::Other(_)));
    assert!(!stale.explanation().contains('\u{1b}'));
}

#[test]
fn class_scores_keep_the_order_studio_sent() {
    let scores: ClassScores =
        serde_json::from_str(r#"{"idle":0.1,"wave":0.2,"10":0.3,"9":0.4}"#).unwrap();
    let labels: Vec<&str> = scores.labels().collect();
    assert_eq!(labels, ["idle", "wave", "10", "9"]);
    assert_eq!(scores.get("10"), Some(0.3));
    assert_eq!(
        serde_json::to_string(&scores).unwrap(),
        r#"{"idle":0.1,"wave":0.2,"10":0.3,"9":0.4}"#
    );
}

#[test]
fn a_repeated_label_holds_its_last_score_however_many_labels_there_are() {
    for labels in [3, 40, 1000] {
        let mut body: Vec<String> = (0..labels).map(|l| format!(r#""c{l}":{l}"#)).collect();
        body.push(r#""c1":-1"#.into());
        body.push(format!(r#""c{}":-2"#, labels - 1));
        let scores: ClassScores = serde_json::from_str(&format!("{{{}}}", body.join(","))).unwrap();
        assert_eq!(scores.len(), labels, "{labels} labels, two repeated");
        assert_eq!(scores.get("c1"), Some(-1.0));
        assert_eq!(scores.get(&format!("c{}", labels - 1)), Some(-2.0));
        assert_eq!(scores.get("c0"), Some(0.0));
        assert_eq!(
            scores.labels().nth(1),
            Some("c1"),
            "in the order first sent"
        );
    }
}

#[test]
fn ids_are_64_bit() {
    let body = br#"{"id":5000000000,"type":"keras","name":"n","dsp":[5000000001],"title":"t"}"#;
    let block: ImpulseLearnBlock = serde_json::from_slice(body).unwrap();
    assert_eq!(block.id, 5_000_000_000);
}
