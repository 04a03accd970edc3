//! What Studio says of each simulated block and sample: its config, the metadata of its
//! trained model, and the samples its windows come from.

use super::*;

/// What getKeras answers for a block: fixed training settings around its thresholds.
pub fn keras_config(block: &SimBlock) -> KerasResponse {
    let min_score = block
        .thresholds
        .iter()
        .find(|t| t.key == "min_score" || t.key == "min_anomaly_score")
        .and_then(|t| t.value.as_number())
        .unwrap_or(0.0);
    KerasResponse {
        success: true,
        error: None,
        dependencies: dependencies(block, 1077),
        trained: true,
        name: block.block.name.clone(),
        kind: Some(block.block.kind.clone()),
        script: String::new(),
        minimum_confidence_rating: min_score,
        selected_model_type: "float32".into(),
        mode: "visual".into(),
        visual_layers: vec![KerasVisualLayer {
            kind: "dense".into(),
            neurons: Some(20),
            kernel_size: None,
            dropout_rate: None,
            enabled: Some(true),
        }],
        training_cycles: 30,
        learning_rate: 0.0005,
        batch_size: Some(32),
        default_batch_size: 32,
        shape: "(64,)".into(),
        train_test_split: Some(0.2),
        augmentation_policy_image: "none".into(),
        transfer_learning_models: Vec::new(),
        profile_int8: true,
        skip_embeddings_and_memory: false,
        show_advanced_training_settings: false,
        show_augmentation_training_settings: false,
        thresholds: block.thresholds.clone(),
    }
}

/// What getAnomaly answers for a block: fixed axes and clusters around its thresholds.
pub fn anomaly_config(block: &SimBlock) -> AnomalyConfigResponse {
    let min_anomaly = block
        .thresholds
        .iter()
        .find(|t| t.key == "min_anomaly_score")
        .and_then(|t| t.value.as_number())
        .unwrap_or(0.0);
    AnomalyConfigResponse {
        success: true,
        error: None,
        dependencies: dependencies(block, 1077),
        name: block.block.name.clone(),
        axes: (0..12)
            .map(|ix| AnomalyAxis {
                ix,
                label: format!("PCA {}", ix + 1),
                selected: true,
                favourite: false,
            })
            .collect(),
        trained: true,
        cluster_count: Some(12),
        selected_axes: (0..12).collect(),
        minimum_confidence_rating: min_anomaly,
        thresholds: block.thresholds.clone(),
    }
}

/// getKerasMetadata: every field the spec requires; `created` is when the model was
/// trained.
pub fn keras_metadata(block: &SimBlock) -> KerasModelMetadataResponse {
    let mode = match block.role {
        BlockRole::Detector => "object-detection",
        BlockRole::VisualAnomaly => "visual-anomaly",
        BlockRole::Anomaly => "anomaly",
        BlockRole::Classifier => "classification",
    };
    KerasModelMetadataResponse {
        success: true,
        error: None,
        created: block.trained.clone(),
        layers: Vec::new(),
        class_names: block.classes.clone(),
        labels: Vec::new(),
        available_model_types: vec!["float32".into()],
        recommended_model_type: "float32".into(),
        model_validation_metrics: Vec::new(),
        has_trained_model: true,
        mode: mode.into(),
        image_input_scaling: "0..1".into(),
        thresholds: block.thresholds.clone(),
    }
}

/// getAnomalyMetadata: every field the spec requires; `created` is when the model was
/// trained.
pub fn anomaly_metadata(block: &SimBlock) -> AnomalyModelMetadataResponse {
    AnomalyModelMetadataResponse {
        success: true,
        error: None,
        created: block.trained.clone(),
        scale: vec![1.0; 12],
        mean: vec![0.0; 12],
        clusters: Vec::new(),
        axes: (0..12).collect(),
        default_minimum_confidence_rating: 0.3,
        thresholds: block.thresholds.clone(),
    }
}

/// The dependencies block of a learn block's configuration.
pub(super) fn dependencies(block: &SimBlock, sample_count: usize) -> DependencyData {
    DependencyData {
        classes: block.classes.clone(),
        block_names: vec!["Image".into()],
        feature_count: 64,
        sample_count: sample_count as u64,
        output_classes: block.classes.clone(),
    }
}

/// The `Sample` behind test window `sample_id`.
pub fn sample(project: u64, sample_id: u64, label: &str) -> Sample {
    Sample {
        id: sample_id,
        filename: format!("{label}.{sample_id}.png"),
        signature_validate: false,
        created: DEMO_DATE.into(),
        last_modified: DEMO_DATE.into(),
        category: "testing".into(),
        coldstorage_filename: format!("demo/{sample_id}.png"),
        label: label.into(),
        interval_ms: 0.0,
        frequency: 0.0,
        original_interval_ms: 0.0,
        original_frequency: 0.0,
        device_type: "scanner".into(),
        sensors: Vec::new(),
        values_count: 64,
        added: DEMO_DATE.into(),
        bounding_boxes: Vec::new(),
        bounding_boxes_type: "object_detection".into(),
        chart_type: "image".into(),
        is_disabled: false,
        is_processing: false,
        processing_error: false,
        is_cropped: false,
        project_id: project,
        sha256_hash: format!(
            "{:064x}",
            u128::from(sample_id).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ),
        datastreams: Some(vec![serde_json::json!({
            "index": 0,
            "chartType": "image",
            "intervalMs": 0,
            "frequencyHz": 0,
            "sensors": [],
            "valuesCount": 64,
            "totalLengthMs": 0,
            "imageDimensions": {"width": 8, "height": 8},
        })]),
    }
}
