//! setImpulseThresholds, and the guard against writing over a value someone else changed.

use super::StudioClient;
use crate::api::error::ApiError;
use crate::api::models::*;

/// A threshold as the client last knew it on Studio, before changing it.
#[derive(Debug, Clone, PartialEq)]
pub struct Believed {
    pub block: ImpulseLearnBlock,
    pub key: String,
    pub value: ThresholdValue,
    /// Values this client sent without learning whether they were applied: finding one
    /// of them on Studio is no sign of another writer.
    pub maybe_ours: Vec<ThresholdValue>,
}

/// A threshold that someone else changed on Studio since the client read it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangedElsewhere {
    pub block_id: u64,
    pub key: String,
    /// What Studio holds now.
    pub value: ThresholdValue,
}

/// What a set-thresholds guarded against other writers did: the answer, if anything was
/// left to send, and the values it left alone because they had changed.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardedSet {
    pub response: Option<SetImpulseThresholdsResponse>,
    pub changed_elsewhere: Vec<ChangedElsewhere>,
}

impl From<SetImpulseThresholdsResponse> for GuardedSet {
    fn from(response: SetImpulseThresholdsResponse) -> Self {
        Self {
            response: Some(response),
            changed_elsewhere: Vec::new(),
        }
    }
}

impl StudioClient {
    /// setImpulseThresholds. When Studio refuses, listActiveJobs says whether a job running
    /// in the project is why (further changes are blocked while one runs): then the error
    /// is [`ApiError::BlockedByJob`]. The refusal's words are never read for that.
    pub async fn set_thresholds(
        &self,
        project: u64,
        impulse: u64,
        request: &SetImpulseThresholdsRequest,
    ) -> Result<SetImpulseThresholdsResponse, ApiError> {
        let refusal = match self
            .post(
                "setImpulseThresholds",
                &format!("/api/{project}/impulse/{impulse}/set-thresholds"),
                request,
            )
            .await
        {
            Err(e) if e.may_be_blocked_by_job() => e,
            answer => return answer,
        };
        // If the jobs cannot be listed, the refusal stands as it came.
        let Ok(jobs) = self.list_active_jobs(project).await else {
            return Err(refusal);
        };
        // A job listed as active but finished is no reason.
        match (jobs.iter().find(|j| !j.is_finished()), refusal) {
            (
                Some(job),
                ApiError::Refused { operation, message }
                | ApiError::Status {
                    operation, message, ..
                },
            ) => Err(ApiError::BlockedByJob {
                operation,
                message,
                job_id: job.id,
                category: crate::text::clean(&job.category),
            }),
            (_, refusal) => Err(refusal),
        }
    }

    /// setImpulseThresholds for the values whose thresholds Studio still holds as
    /// `believed`: the blocks are read first (one read per call), and a value someone else
    /// changed meanwhile is left out and reported, never overwritten unawares. Studio has
    /// no conditional write, so a change in the moment between the read and the write can
    /// still be lost; the read makes that window one round trip long.
    pub async fn set_thresholds_unless_changed(
        &self,
        project: u64,
        impulse: u64,
        request: &SetImpulseThresholdsRequest,
        believed: &[Believed],
    ) -> Result<GuardedSet, ApiError> {
        let mut blocks: Vec<ImpulseLearnBlock> = Vec::new();
        for b in believed {
            if !blocks.iter().any(|known| known.id == b.block.id) {
                blocks.push(b.block.clone());
            }
        }
        let mut now_held = Vec::new();
        for (_, read) in self.read_blocks(project, blocks).await {
            now_held.push(read?);
        }
        let changed_elsewhere: Vec<ChangedElsewhere> = believed
            .iter()
            .filter_map(|b| {
                let held = now_held
                    .iter()
                    .find(|h| h.block.id == b.block.id)?
                    .thresholds
                    .iter()
                    .find(|t| t.key == b.key)?;
                let wanted = request
                    .thresholds
                    .iter()
                    .find(|u| u.block_id == b.block.id && u.key == b.key)
                    .map(|u| &u.value);
                let ours = held.value == b.value
                    || Some(&held.value) == wanted
                    || b.maybe_ours.contains(&held.value);
                (!ours).then(|| ChangedElsewhere {
                    block_id: b.block.id,
                    key: b.key.clone(),
                    value: held.value.clone(),
                })
            })
            .collect();
        let mut request = request.clone();
        request.thresholds.retain(|u| {
            !changed_elsewhere
                .iter()
                .any(|c| c.block_id == u.block_id && c.key == u.key)
        });
        let response = if request.thresholds.is_empty() {
            None
        } else {
            Some(self.set_thresholds(project, impulse, &request).await?)
        };
        Ok(GuardedSet {
            response,
            changed_elsewhere,
        })
    }
}
