//! What trained models say of themselves: layers, transfer learning, anomaly axes.

use super::impulse::{BlockThreshold, LearnBlockType};
use serde::{Deserialize, Serialize};

/// `DependencyData`: what feeds a learn block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DependencyData {
    pub classes: Vec<String>,
    pub block_names: Vec<String>,
    pub feature_count: u64,
    pub sample_count: u64,
    pub output_classes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KerasVisualLayer {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neurons: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropout_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferLearningModel {
    pub name: String,
    pub short_name: String,
    pub description: String,
    pub has_neurons: bool,
    pub has_dropout: bool,
    #[serde(rename = "type")]
    pub kind: String,
    pub learn_block_type: LearnBlockType,
    pub author: String,
    pub block_type: String,
    pub has_expert_mode: bool,
}

/// `KerasResponse` (`GenericApiResponse` + `KerasConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KerasResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub dependencies: DependencyData,
    pub trained: bool,
    pub name: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<LearnBlockType>,
    pub script: String,
    pub minimum_confidence_rating: f64,
    pub selected_model_type: String,
    pub mode: String,
    pub visual_layers: Vec<KerasVisualLayer>,
    pub training_cycles: u64,
    pub learning_rate: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u64>,
    pub default_batch_size: u64,
    pub shape: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_test_split: Option<f64>,
    pub augmentation_policy_image: String,
    pub transfer_learning_models: Vec<TransferLearningModel>,
    pub profile_int8: bool,
    pub skip_embeddings_and_memory: bool,
    pub show_advanced_training_settings: bool,
    pub show_augmentation_training_settings: bool,
    pub thresholds: Vec<BlockThreshold>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnomalyAxis {
    pub ix: u64,
    pub label: String,
    pub selected: bool,
    pub favourite: bool,
}

/// `AnomalyConfigResponse` (`GenericApiResponse` + `AnomalyConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnomalyConfigResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub dependencies: DependencyData,
    pub name: String,
    pub axes: Vec<AnomalyAxis>,
    pub trained: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_count: Option<u64>,
    pub selected_axes: Vec<u64>,
    pub minimum_confidence_rating: f64,
    pub thresholds: Vec<BlockThreshold>,
}
