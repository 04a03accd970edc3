//! Thresholds, learn blocks, impulses and projects.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

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
