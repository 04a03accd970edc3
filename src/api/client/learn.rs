//! Learn blocks: their configuration (and thresholds), read with the endpoint that serves
//! each type, and when each block's model was trained.

use futures::StreamExt;

use super::StudioClient;
use crate::api::error::ApiError;
use crate::api::models::*;

/// The thresholds of one learn block, as read from getKeras or getAnomaly.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockThresholds {
    pub block: ImpulseLearnBlock,
    pub thresholds: Vec<BlockThreshold>,
}

/// A learn block whose thresholds could not be read, and why in the server's words.
#[derive(Debug, Clone, PartialEq)]
pub struct UnreadableBlock {
    pub block: ImpulseLearnBlock,
    pub reason: String,
}

impl UnreadableBlock {
    /// One line for a warning: `block 7 (vlm, "Captioner"): why`.
    pub fn describe(&self) -> String {
        crate::text::clean(&format!(
            "block {} ({}, \"{}\"): {}",
            self.block.id, self.block.kind, self.block.title, self.reason
        ))
    }
}

/// Every threshold of an impulse: the blocks that could be read, and those that could not
/// (one block a server cannot serve does not sink the others).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImpulseThresholds {
    pub blocks: Vec<BlockThresholds>,
    pub unreadable: Vec<UnreadableBlock>,
}

/// Learn blocks read at once: enough to hide latency, few enough to spare a server.
pub const BLOCK_READS_IN_FLIGHT: usize = 4;

/// The members of a model's metadata that grow with the model or its validation set.
const MODEL_METADATA_BULK: &[&str] = &[
    "layers",
    "classNames",
    "labels",
    "modelValidationMetrics",
    "tensorboardGraphs",
    "kFoldsMetadata",
    "thresholds",
    "scale",
    "mean",
    "clusters",
    "axes",
];

impl StudioClient {
    /// getKeras.
    pub async fn get_keras(&self, project: u64, learn_id: u64) -> Result<KerasResponse, ApiError> {
        self.get(
            "getKeras",
            &format!("/api/{project}/training/keras/{learn_id}"),
            &[],
        )
        .await
    }

    /// getAnomaly.
    pub async fn get_anomaly(
        &self,
        project: u64,
        learn_id: u64,
    ) -> Result<AnomalyConfigResponse, ApiError> {
        self.get(
            "getAnomaly",
            &format!("/api/{project}/training/anomaly/{learn_id}"),
            &[],
        )
        .await
    }

    /// The thresholds of one learn block, from the endpoint that serves its type (for a
    /// type this version does not know, its family's endpoint, then the other). Only the
    /// thresholds are decoded. A transient failure ends the attempt at once: the block
    /// may be readable a moment later.
    pub async fn block_thresholds(
        &self,
        project: u64,
        block: &ImpulseLearnBlock,
    ) -> Result<BlockThresholds, ApiError> {
        let mut first_error = None;
        for endpoint in block.kind.config_endpoints() {
            let (operation, family) = match endpoint {
                ConfigEndpoint::Keras => ("getKeras", "keras"),
                ConfigEndpoint::Anomaly => ("getAnomaly", "anomaly"),
            };
            let read: Result<BlockConfigThresholds, ApiError> = self
                .get(
                    operation,
                    &format!("/api/{project}/training/{family}/{}", block.id),
                    &[],
                )
                .await;
            match read {
                Ok(config) => {
                    return Ok(BlockThresholds {
                        block: block.clone(),
                        thresholds: config.thresholds,
                    });
                }
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or_else(|| {
            ApiError::Config(format!("no endpoint reads blocks of type {}", block.kind))
        }))
    }

    /// Every threshold of an impulse, a few blocks read at a time, in block order. A
    /// block that cannot be read for good is listed apart; a transient failure fails
    /// the whole read, to be tried again.
    pub async fn impulse_thresholds(
        &self,
        project: u64,
        impulse: &Impulse,
    ) -> Result<ImpulseThresholds, ApiError> {
        let reads = self
            .read_blocks(project, impulse.learn_blocks.iter().cloned())
            .await;
        let mut all = ImpulseThresholds::default();
        for (block, read) in reads {
            match read {
                Ok(thresholds) => all.blocks.push(thresholds),
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => all.unreadable.push(UnreadableBlock {
                    block,
                    reason: e.to_string(),
                }),
            }
        }
        Ok(all)
    }

    /// Reads blocks' thresholds, [`BLOCK_READS_IN_FLIGHT`] at a time, in order.
    pub async fn read_blocks(
        &self,
        project: u64,
        blocks: impl IntoIterator<Item = ImpulseLearnBlock>,
    ) -> Vec<(ImpulseLearnBlock, Result<BlockThresholds, ApiError>)> {
        futures::stream::iter(blocks)
            .map(|block| async move {
                let read = self.block_thresholds(project, &block).await;
                (block, read)
            })
            .buffered(BLOCK_READS_IN_FLIGHT)
            .collect()
            .await
    }

    /// When the model of a learn block was trained (`created` of getKerasMetadata or
    /// getAnomalyMetadata, whichever serves its type). Only that date is kept of the
    /// answer: the rest (layers, a prediction per validation window) is dropped as it
    /// arrives.
    pub async fn model_trained(
        &self,
        project: u64,
        block: &ImpulseLearnBlock,
    ) -> Result<String, ApiError> {
        let mut first_error = None;
        for endpoint in block.kind.config_endpoints() {
            let (operation, path, query) = match endpoint {
                ConfigEndpoint::Keras => (
                    "getKerasMetadata",
                    format!("/api/{project}/training/keras/{}/metadata", block.id),
                    vec![("excludeLabels", "true".to_string())],
                ),
                ConfigEndpoint::Anomaly => (
                    "getAnomalyMetadata",
                    format!("/api/{project}/training/anomaly/{}/metadata", block.id),
                    Vec::new(),
                ),
            };
            match self
                .get_skimmed::<ModelTrained>(operation, &path, &query, MODEL_METADATA_BULK)
                .await
            {
                Ok(trained) => return Ok(trained.created),
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or_else(|| {
            ApiError::Config(format!("no endpoint reads blocks of type {}", block.kind))
        }))
    }
}
