//! The Studio API's objects, as the published OpenAPI spec defines them.
//!
//! One definition serves both the client (which decodes them) and the simulated Studio
//! (which encodes them). Field names follow the spec (camelCase); a field the spec marks
//! required is a plain field, an optional one is an `Option` left out when `None`.
//! Enumerations that the service may extend (block types, model variants) stay strings so
//! that a newer server never breaks an older client.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An enumeration the service may extend: the values the spec lists, and any other text,
/// kept as `Other` so that a newer server never fails a call that it answered.
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
            /// A value this version does not know.
            Other(String),
        }

        impl $name {
            /// The values the spec lists.
            pub const KNOWN: &[Self] = &[$(Self::$variant,)+];

            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Other(text) => text,
                }
            }

            pub fn from_api(text: &str) -> Self {
                match text {
                    $($text => Self::$variant,)+
                    other => Self::Other(other.to_string()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = std::borrow::Cow::<str>::deserialize(d)?;
                Ok(Self::from_api(&text))
            }
        }
    };
}

/// `GenericApiResponse`: every response carries `success`, and `error` when it failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenericApiResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl GenericApiResponse {
    pub fn failure(error: impl Into<String>) -> Self {
        Self {
            success: false,
            error: Some(error.into()),
        }
    }
}

/// A threshold's value: a number, or one of its `dropdownOptions` as a string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ThresholdValue {
    Number(f64),
    Text(String),
}

impl ThresholdValue {
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Self::Number(n) => Some(*n),
            Self::Text(_) => None,
        }
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Number(_) => None,
            Self::Text(s) => Some(s),
        }
    }
}

impl fmt::Display for ThresholdValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Text(s) => f.write_str(s),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DropdownOption {
    pub value: String,
    pub description: String,
}

/// `BlockThreshold`: one configurable threshold of a learn block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockThreshold {
    pub key: String,
    pub description: String,
    pub help_text: String,
    pub value: ThresholdValue,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested_value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested_value_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropdown_options: Option<Vec<DropdownOption>>,
}

impl BlockThreshold {
    /// The options of a dropdown threshold; `None` when it has none (or an empty list).
    pub fn options(&self) -> Option<&[DropdownOption]> {
        self.dropdown_options.as_deref().filter(|o| !o.is_empty())
    }

    /// Whether the value is text: one of the options, or free text when a string
    /// threshold comes without options.
    pub fn takes_text(&self) -> bool {
        self.options().is_some() || matches!(self.value, ThresholdValue::Text(_))
    }
}

/// `LearnBlockType`, kept as a string: the service adds types over time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LearnBlockType(pub String);

impl LearnBlockType {
    pub fn new(name: &str) -> Self {
        Self(name.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Blocks whose configuration (and thresholds) come from getAnomaly.
    pub fn reads_with_get_anomaly(&self) -> bool {
        matches!(self.0.as_str(), "anomaly" | "anomaly-gmm")
    }

    /// The endpoints that may serve this block's configuration, in the order to try them.
    /// A type the spec listed when this was written has exactly one; a newer one is read
    /// with the endpoint of its family (its name says which), then with the other.
    pub fn config_endpoints(&self) -> &'static [ConfigEndpoint] {
        use ConfigEndpoint::{Anomaly, Keras};
        let name = self.0.as_str();
        if self.reads_with_get_anomaly() {
            &[Anomaly]
        } else if KNOWN_KERAS_TYPES.contains(&name) {
            &[Keras]
        } else if name.contains("anomaly") && !name.starts_with("keras") {
            &[Anomaly, Keras]
        } else {
            &[Keras, Anomaly]
        }
    }

    pub fn is_object_detection(&self) -> bool {
        self.0.contains("object-detection")
    }
}

/// The getKeras types of the spec's `LearnBlockType` as ei-tune knows them.
const KNOWN_KERAS_TYPES: &[&str] = &[
    "keras",
    "keras-transfer-image",
    "keras-transfer-kws",
    "keras-object-detection",
    "keras-regression",
    "keras-akida",
    "keras-akida-transfer-image",
    "keras-akida-object-detection",
    "keras-visual-anomaly",
    "keras-freeform",
];

/// The operations that read a learn block's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigEndpoint {
    /// getKeras, `/training/keras/{learnId}`.
    Keras,
    /// getAnomaly, `/training/anomaly/{learnId}`.
    Anomaly,
}

/// The one part of KerasResponse and AnomalyConfigResponse ei-tune reads: decoding only
/// this, a block whose other settings are unusual still opens.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BlockConfigThresholds {
    pub thresholds: Vec<BlockThreshold>,
}

impl fmt::Display for LearnBlockType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImpulseInputBlock {
    pub id: u64,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_size_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_width: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_height: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImpulseDspBlock {
    pub id: u64,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub axes: Vec<String>,
    pub title: String,
    pub implementation_version: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImpulseLearnBlock {
    pub id: u64,
    #[serde(rename = "type")]
    pub kind: LearnBlockType,
    pub name: String,
    pub dsp: Vec<u64>,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImpulsePostProcessingBlock {
    pub id: u64,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub title: String,
    pub implementation_version: u64,
}

/// `Impulse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Impulse {
    pub id: u64,
    pub name: String,
    /// `ImpulseType`: "default", "BYOM" or "VLM".
    #[serde(rename = "type")]
    pub kind: String,
    pub input_blocks: Vec<ImpulseInputBlock>,
    pub dsp_blocks: Vec<ImpulseDspBlock>,
    pub learn_blocks: Vec<ImpulseLearnBlock>,
    pub post_processing_blocks: Vec<ImpulsePostProcessingBlock>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaffInfo {
    pub is_staff: bool,
    pub has_sudo_rights: bool,
}

/// `ProjectCollaborator`: a `User` and whether they own the project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectCollaborator {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub created: String,
    pub staff_info: StaffInfo,
    pub pending: bool,
    pub activated: bool,
    pub mfa_configured: bool,
    pub is_owner: bool,
}

/// `Project`. Only `id` and `name` are used: the rest, required by the spec, default when
/// a server leaves them out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub created: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub collaborators: Vec<ProjectCollaborator>,
    #[serde(default)]
    pub labeling_method: String,
    #[serde(default)]
    pub metadata: Value,
    #[serde(default)]
    pub is_enterprise_project: bool,
    /// Required and nullable in the spec.
    #[serde(default)]
    pub whitelabel_id: Option<i64>,
    #[serde(default)]
    pub tier: String,
    #[serde(default)]
    pub has_public_version: bool,
    #[serde(default)]
    pub is_public: bool,
    #[serde(default)]
    pub allows_live_public_access: bool,
    #[serde(default)]
    pub owner_is_developer_profile: bool,
    #[serde(default)]
    pub ind_pause_processing_samples: bool,
    #[serde(default)]
    pub public_project_listed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListProjectsResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub projects: Vec<Project>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetAllImpulsesResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub impulses: Vec<Impulse>,
    /// Required by the spec (-1 when unlimited); optional here, as nothing depends on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_impulse_count: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetImpulseResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Absent when the project has no impulse yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impulse: Option<Impulse>,
}

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

/// One entry of a set-thresholds request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThresholdUpdate {
    pub block_id: u64,
    pub key: String,
    pub value: ThresholdValue,
}

impl ThresholdUpdate {
    pub fn new(block_id: u64, key: impl Into<String>, value: ThresholdValue) -> Self {
        Self {
            block_id,
            key: key.into(),
            value,
        }
    }
}

/// `SetImpulseThresholdsRequest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetImpulseThresholdsRequest {
    pub thresholds: Vec<ThresholdUpdate>,
    pub allow_creating_regenerate_model_testing_jobs: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_run_regenerate_model_testing_in_job: Option<bool>,
}

impl SetImpulseThresholdsRequest {
    /// A request that lets Studio start no regeneration job: a running job would block
    /// every further change, so interactive edits never allow one.
    pub fn without_jobs(thresholds: Vec<ThresholdUpdate>) -> Self {
        Self {
            thresholds,
            allow_creating_regenerate_model_testing_jobs: false,
            force_run_regenerate_model_testing_in_job: None,
        }
    }
}

open_enum! {
    /// What set-thresholds did about model testing results.
    RegenerateStatus {
        NotRegenerated = "not_regenerated",
        Regenerated = "regenerated",
        StartedJob = "started_job",
        RequiresJob = "requires_job",
    }
}

impl RegenerateStatus {
    /// What the status means for the user, in plain words.
    pub fn explanation(&self) -> String {
        match self {
            Self::NotRegenerated => {
                "saved; results were not regenerated (none existed, or this model needs a full test run)".into()
            }
            Self::Regenerated => "saved; model testing results were regenerated".into(),
            Self::StartedJob => "saved; a job is regenerating the results".into(),
            Self::RequiresJob => "saved; results are stale until a regeneration job runs".into(),
            Self::Other(text) => format!(
                "saved; Studio answered `{}`, which ei-tune does not know",
                crate::text::clean(text)
            ),
        }
    }
}

/// `SetImpulseThresholdsResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetImpulseThresholdsResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub had_model_testing_results: bool,
    pub regenerate_model_testing_status: RegenerateStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regenerate_model_testing_results_job_id: Option<u64>,
}

/// `LastModificationDateResponse` (getProjectLastModificationDate): "upped when data is
/// modified, or when an impulse is trained". The spec requires `modificationDate` while it
/// lists `lastModificationDate` (the bindings' name): either is read, and both are sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastModificationDateResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modification_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modification_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_version_date: Option<String>,
}

impl LastModificationDateResponse {
    /// The date, under whichever name it came; `None` when the server sent neither.
    pub fn date(&self) -> Option<&str> {
        fn given(d: &Option<String>) -> Option<&str> {
            d.as_deref().filter(|d| !d.is_empty())
        }
        given(&self.last_modification_date).or(given(&self.modification_date))
    }
}

/// The one part of KerasModelMetadataResponse and AnomalyModelMetadataResponse ei-tune
/// reads: `created`, "Date when the model was trained". The rest (layers, validation
/// metrics with a prediction per validation window) is dropped as it arrives.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModelTrained {
    pub created: String,
}

/// `KerasModelMetadataResponse`, as the simulator serves it: every field the spec requires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KerasModelMetadataResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub created: String,
    pub layers: Vec<serde_json::Value>,
    pub class_names: Vec<String>,
    pub labels: Vec<String>,
    pub available_model_types: Vec<String>,
    pub recommended_model_type: String,
    pub model_validation_metrics: Vec<serde_json::Value>,
    pub has_trained_model: bool,
    pub mode: String,
    pub image_input_scaling: String,
    pub thresholds: Vec<BlockThreshold>,
}

/// `AnomalyModelMetadataResponse`, as the simulator serves it: every field the spec
/// requires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnomalyModelMetadataResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub created: String,
    pub scale: Vec<f64>,
    pub mean: Vec<f64>,
    pub clusters: Vec<serde_json::Value>,
    pub axes: Vec<u64>,
    pub default_minimum_confidence_rating: f64,
    pub thresholds: Vec<BlockThreshold>,
}

/// `StartClassifyJobRequest`: what a model testing run (startClassifyJob) may skip.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartClassifyJobRequest {
    /// "If enabled, skips feature generation altogether. Used e.g. if you update
    /// thresholds."
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_feature_generation: Option<bool>,
}

/// `StartJobResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartJobResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub id: u64,
}

/// `Job`. A job is running while `finished` is absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: u64,
    pub category: String,
    pub category_key: String,
    pub key: String,
    pub created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_successful: Option<bool>,
    pub job_notification_uids: Vec<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_info: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_time: Option<f64>,
}

impl Job {
    pub fn is_finished(&self) -> bool {
        self.finished.is_some()
    }
}

/// `ListJobsResponse` (listActiveJobs): the project's jobs that have not finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListJobsResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub jobs: Vec<Job>,
    #[serde(default)]
    pub total_job_count: u64,
}

/// `GetJobResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetJobResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub job: Job,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoodBad {
    pub good: u32,
    pub bad: u32,
}

/// The `accuracy` object of ClassifyJobResponse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelTestingAccuracy {
    pub total_summary: GoodBad,
    pub summary_per_class: BTreeMap<String, GoodBad>,
    /// Expected label → predicted label → number of windows.
    pub confusion_matrix_values: BTreeMap<String, BTreeMap<String, f64>>,
    /// Required by the spec, which gives it no schema: the rows of Studio's results table.
    #[serde(default)]
    pub rows: Value,
    pub all_labels: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balanced_accuracy_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anomaly_accuracy_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_anomaly_accuracy_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mse_score: Option<f64>,
}

impl ModelTestingAccuracy {
    /// `accuracyScore`, or where Studio left it out (it is optional), good over all.
    pub fn accuracy(&self) -> Option<f64> {
        self.accuracy_score.or_else(|| {
            let GoodBad { good, bad } = self.total_summary;
            let total = f64::from(good) + f64::from(bad);
            (total > 0.0).then(|| f64::from(good) / total)
        })
    }

    /// `balancedAccuracyScore`, or the mean of each label's good share.
    pub fn balanced_accuracy(&self) -> Option<f64> {
        self.balanced_accuracy_score.or_else(|| {
            let recalls: Vec<f64> = self
                .summary_per_class
                .values()
                .filter(|g| g.good + g.bad > 0)
                .map(|g| f64::from(g.good) / (f64::from(g.good) + f64::from(g.bad)))
                .collect();
            (!recalls.is_empty()).then(|| recalls.iter().sum::<f64>() / recalls.len() as f64)
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdditionalMetric {
    pub name: String,
    pub value: String,
    pub full_precision_value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LearnBlockMetrics {
    pub learn_block_id: u64,
    pub learn_block_name: String,
    pub additional_metrics: Vec<AdditionalMetric>,
}

open_enum! {
    /// Why a project has no current model testing results:
    /// `can_regenerate_model_summary` (regenerateModelTestingSummary brings them back) or
    /// `should_rerun_full_job` (model testing has to run again in full).
    StaleReason {
        CanRegenerateModelSummary = "can_regenerate_model_summary",
        ShouldRerunFullJob = "should_rerun_full_job",
    }
}

impl StaleReason {
    pub fn explanation(&self) -> String {
        match self {
            Self::CanRegenerateModelSummary => {
                "thresholds changed; a regeneration job brings the results back".into()
            }
            Self::ShouldRerunFullJob => {
                "thresholds changed; this model needs model testing to run again in full \
                 (ei-tune regenerate)"
                    .into()
            }
            Self::Other(text) => format!(
                "Studio says `{}`, which ei-tune does not know",
                crate::text::clean(text)
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sensor {
    pub name: String,
    pub units: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoundingBox {
    pub label: String,
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
}

/// `Sample`. Only `label` is used: the rest, required by the spec, default when a server
/// leaves them out (a result set is not lost to a field nothing reads).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Sample {
    pub id: u64,
    pub filename: String,
    pub signature_validate: bool,
    pub created: String,
    pub last_modified: String,
    pub category: String,
    pub coldstorage_filename: String,
    pub label: String,
    pub interval_ms: f64,
    pub frequency: f64,
    pub original_interval_ms: f64,
    pub original_frequency: f64,
    pub device_type: String,
    pub sensors: Vec<Sensor>,
    pub values_count: u64,
    pub added: String,
    pub bounding_boxes: Vec<BoundingBox>,
    pub bounding_boxes_type: String,
    pub chart_type: String,
    pub is_disabled: bool,
    pub is_processing: bool,
    pub processing_error: bool,
    pub is_cropped: bool,
    pub project_id: u64,
    pub sha256_hash: String,
    /// `SampleDatastream`s; required by the spec, unused here, so kept as plain JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datastreams: Option<Vec<Value>>,
}

/// `StructuredLabel`: `label` holds for windows `startIndex..=endIndex`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StructuredLabel {
    pub start_index: u64,
    pub end_index: u64,
    pub label: String,
}

/// `AnomalyResult`: visual anomaly scores of one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnomalyResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_score: Option<f64>,
}

/// `ClassifySampleResponseClassification`: one learn block's output for one sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Classification {
    pub learn_block: ImpulseLearnBlock,
    /// One `{label: score}` map per window.
    pub result: Vec<ClassScores>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anomaly_result: Option<Vec<AnomalyResult>>,
    /// Object detection: the detections of each window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_result: Option<Vec<StructuredClassifyResult>>,
    /// Object detection: the model's last layer (`fomo`, `yolov5`, …), kept as text: the
    /// list grows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_detection_last_layer: Option<String>,
    pub minimum_confidence_rating: f64,
    pub expected_labels: Vec<StructuredLabel>,
    pub thresholds: Vec<BlockThreshold>,
    /// "anomaly" or "no anomaly" per window, from the labels the project marks anomalous:
    /// the truth for anomaly detection when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_anomaly_outcome: Option<Vec<StructuredLabel>>,
    // The three below are required by the spec and unused here: optional, so that an
    // answer without them still decodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_hz: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_count: Option<u64>,
}

/// `StructuredClassifyResult`: one window's detections, and Studio's figures for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StructuredClassifyResult {
    /// `[x, y, width, height]` per detection, in the image's pixels (as the sample's
    /// `boundingBoxes`).
    pub boxes: Vec<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    pub scores: Vec<f64>,
    // Required by the spec, unread here: optional, so that an answer without them decodes.
    #[serde(rename = "mAP", default, skip_serializing_if = "Option::is_none")]
    pub map: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f1: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recall: Option<f64>,
}

/// The expected anomaly outcome that marks a window anomalous.
pub const ANOMALY_OUTCOME: &str = "anomaly";
/// The expected anomaly outcome of a normal window.
pub const NO_ANOMALY_OUTCOME: &str = "no anomaly";

/// One window's `{label: score}` map, in the order Studio wrote it: the model's output
/// order, which decides ties (a map sorted by label would not).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClassScores(pub Vec<(String, f64)>);

impl ClassScores {
    pub fn get(&self, label: &str) -> Option<f64> {
        self.0.iter().find(|(l, _)| l == label).map(|(_, s)| *s)
    }

    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(l, _)| l.as_str())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(String, f64)> for ClassScores {
    fn from_iter<I: IntoIterator<Item = (String, f64)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl Serialize for ClassScores {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(label, score)| (label, score)))
    }
}

impl<'de> Deserialize<'de> for ClassScores {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct InOrder;
        impl<'de> serde::de::Visitor<'de> for InOrder {
            type Value = ClassScores;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of scores by label")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<ClassScores, A::Error> {
                let mut scores: Vec<(String, f64)> = Vec::new();
                while let Some((label, score)) = map.next_entry::<String, f64>()? {
                    // A repeated label: the last one holds, as in any JSON object.
                    match scores.iter_mut().find(|(l, _)| *l == label) {
                        Some(entry) => entry.1 = score,
                        None => scores.push((label, score)),
                    }
                }
                Ok(ClassScores(scores))
            }
        }
        d.deserialize_map(InOrder)
    }
}

/// `ModelResult`: one test sample and what each learn block made of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelResult {
    pub sample_id: u64,
    pub sample: Sample,
    pub classifications: Vec<Classification>,
}

/// `ModelPrediction`: the impulse's verdict on one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelPrediction {
    pub sample_id: u64,
    pub start_ms: f64,
    pub end_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub prediction: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction_correct: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anomaly_scores: Option<Vec<Vec<f64>>>,
    /// "anomaly" or "no anomaly" (anomaly detection only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_anomaly_outcome: Option<String>,
}

/// `ClassifyJobResponse`: model testing results of an impulse.
///
/// The per-window sequences are type parameters so that the simulator can write them
/// window by window while serialising (a large test set's results are never built whole);
/// a client decodes them as the default `Vec`s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassifyJobResponse<Results = Vec<ModelResult>, Predictions = Vec<ModelPrediction>> {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub result: Results,
    pub predictions: Predictions,
    pub accuracy: ModelTestingAccuracy,
    pub additional_metrics_by_learn_block: Vec<LearnBlockMetrics>,
    pub available_variants: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_results_because_thresholds_changed: Option<StaleReason>,
}

/// The summary part of a ClassifyJobResponse, decoded without the per-sample results.
///
/// Same endpoint and fields as [`ClassifyJobResponse`]; the per-sample arrays are skipped
/// while decoding, so that a summary of a large test set costs no memory.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelTestingSummary {
    pub accuracy: ModelTestingAccuracy,
    pub additional_metrics_by_learn_block: Vec<LearnBlockMetrics>,
    #[serde(default)]
    pub no_results_because_thresholds_changed: Option<StaleReason>,
}

impl ModelTestingSummary {
    /// Number of windows the summary covers; zero when there are no results.
    pub fn window_count(&self) -> u32 {
        self.accuracy.total_summary.good + self.accuracy.total_summary.bad
    }
}

/// `ClassifyJobResponsePage`; type parameters as in [`ClassifyJobResponse`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassifyJobResponsePage<Results = Vec<ModelResult>, Predictions = Vec<ModelPrediction>> {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub result: Results,
    pub predictions: Predictions,
    pub total_count: u64,
}

/// The parts of a `ModelResult` the preview reads. The rest (the sample's record, each
/// window's thresholds and block description) is skipped while decoding: it is most of a
/// page's size, and pages are decoded several at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowResults {
    pub sample_id: u64,
    pub sample: SampleLabel,
    pub classifications: Vec<BlockOutput>,
}

/// The label and ground-truth boxes of a `Sample`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SampleLabel {
    pub label: String,
    #[serde(default)]
    pub bounding_boxes: Vec<TruthBox>,
}

/// A `BoundingBox` of a sample. The spec says integers; numbers with a fraction are read
/// too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TruthBox {
    pub label: String,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// The parts of a `ClassifySampleResponseClassification` the preview reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockOutput {
    pub learn_block: LearnBlockId,
    pub result: Vec<ClassScores>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anomaly_result: Option<Vec<AnomalyResult>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_result: Option<Vec<StructuredClassifyResult>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_detection_last_layer: Option<String>,
    pub expected_labels: Vec<StructuredLabel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_anomaly_outcome: Option<Vec<StructuredLabel>>,
}

/// The id of an `ImpulseLearnBlock`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LearnBlockId {
    pub id: u64,
}

/// A page of per-window results as the preview reads it.
pub type PreviewPage = ClassifyJobResponsePage<Vec<WindowResults>, serde::de::IgnoredAny>;

#[cfg(test)]
mod tests {
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
    fn ids_are_64_bit() {
        let body = br#"{"id":5000000000,"type":"keras","name":"n","dsp":[5000000001],"title":"t"}"#;
        let block: ImpulseLearnBlock = serde_json::from_slice(body).unwrap();
        assert_eq!(block.id, 5_000_000_000);
    }
}
