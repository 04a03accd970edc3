//! The one way thresholds are written to Studio, whoever writes them (the tuner, `set`,
//! `suggest --apply`, a value brought back from the history):
//!
//! 1. **Guard**: the blocks about to change are read, and a value someone else changed
//!    since the writer last knew it is left out, never overwritten unawares (Studio has
//!    no conditional write: the window is the one round trip between read and write).
//! 2. **Send**, tried again while the call surely was not applied (no connection, 429,
//!    503) and the policy allows; a refusal is asked about (a job running in the project
//!    blocks changes: listActiveJobs says so, the refusal's words are never read).
//! 3. **Read back** after a lost answer, when the policy asks: what Studio holds says
//!    whether the call was applied, in full, in part or not at all.
//! 4. **Record** the call in the history, when given a recorder, and keep the scores kept
//!    for the project standing if the save moved the project's date.
//!
//! One [`Outcome`] says what happened. Callers differ only in how they schedule writes
//! (the tuner: debounce, its own backoff and read-back schedule; commands: at once).

use std::time::Duration;

use crate::api::backoff::{Backoff, process_seed};
use crate::api::client::ChangedElsewhere;
use crate::api::models::{
    ImpulseLearnBlock, SetImpulseThresholdsRequest, SetImpulseThresholdsResponse, ThresholdValue,
};
use crate::api::{ApiError, BlockThresholds, Outcome, Policy, StudioClient, Write};
use crate::cache::ResultsCache;
use crate::history::{Answer, Call, HistoryError, Recorder};
use crate::provenance::SaveWitness;

/// As the history writes a write's outcome down.
pub fn answer(outcome: &Outcome) -> Answer {
    match outcome {
        Outcome::Applied {
            response: Some(response),
        }
        | Outcome::Partial { response, .. } => Answer::saved(response),
        Outcome::Applied { response: None } => Answer::applied_after_lost_answer(),
        Outcome::ChangedElsewhere(_) => Answer::failed("changed elsewhere: nothing sent"),
        Outcome::NotSent { error } => {
            Answer::failed(&format!("nothing sent: {}", error.short_reason()))
        }
        Outcome::NotApplied { error } => Answer::failed(&error.short_reason()),
        Outcome::Unknown { error } => Answer::unknown(&error.short_reason()),
    }
}

/// Who writes, for the history.
#[derive(Debug)]
pub struct Recording<'a> {
    pub recorder: &'a Recorder,
    /// `set`, `suggest`, `tuner`.
    pub by: &'static str,
    pub impulse_name: &'a str,
    /// Every threshold of the impulse as held before the call.
    pub held: &'a [BlockThresholds],
    /// The figures at the values after the call, where known.
    pub figures: std::collections::BTreeMap<String, f64>,
}

/// A write done: its outcome, and why the history could not be written, if it could not
/// (the write is done all the same).
#[derive(Debug)]
pub struct Written {
    pub outcome: Outcome,
    pub history_error: Option<HistoryError>,
}

/// Writes `write` by `policy`; see the module's documentation.
pub async fn write(
    client: &StudioClient,
    cache: &ResultsCache,
    write: &Write,
    policy: Policy,
    recording: Option<Recording<'_>>,
) -> Written {
    // The date is read before a write that sends at once, beside one that reads first.
    let witness = if policy.attempts > 1 {
        SaveWitness::before(client, cache, write.project, write.impulse).await
    } else {
        SaveWitness::start(client, cache, write.project, write.impulse)
    };
    let outcome = guarded(client, write, policy).await;
    if let Some(witness) = witness {
        let applied = outcome.applied();
        if policy.lives_on {
            let (client, cache) = (client.clone(), cache.clone());
            tokio::spawn(async move { witness.saved(&client, &cache, applied).await });
        } else {
            witness.saved(client, cache, applied).await;
        }
    }
    // A call that was never made is not one of the history's.
    let history_error = match recording {
        Some(recording) if !matches!(outcome, Outcome::NotSent { .. }) => {
            record(recording, write, &outcome).err()
        }
        _ => None,
    };
    Written {
        outcome,
        history_error,
    }
}

/// The guard, the send, the read-back.
async fn guarded(client: &StudioClient, write: &Write, policy: Policy) -> Outcome {
    let mut changed_elsewhere = match read_held(client, write).await {
        Ok(held) => elsewhere(write, &held),
        Err(error) => return Outcome::NotSent { error },
    };
    let mut request = write.request.clone();
    leave_out(&mut request, &changed_elsewhere);
    if request.thresholds.is_empty() {
        return Outcome::ChangedElsewhere(changed_elsewhere);
    }
    // After a lost answer the values are read back: those Studio holds are done, those
    // someone else changed meanwhile are left alone, and the rest are sent again (the same
    // values: a lost call landing late changes nothing then).
    let mut round = 1;
    loop {
        return match send(client, write, &request, policy.attempts).await {
            Ok(response) if changed_elsewhere.is_empty() => Outcome::Applied {
                response: Some(response),
            },
            Ok(response) => Outcome::Partial {
                response,
                changed_elsewhere,
            },
            Err(error) if error.outcome_unknown() && policy.read_back => {
                let Ok(held) = read_held(client, write).await else {
                    return Outcome::Unknown { error };
                };
                let found = elsewhere(write, &held);
                leave_out(&mut request, &found);
                changed_elsewhere.extend(found);
                match (
                    holds_every_value(&held, &request),
                    changed_elsewhere.is_empty(),
                ) {
                    (true, true) => Outcome::Applied { response: None },
                    // Some of its values were changed meanwhile: the lost call's fate is
                    // unknown, and nothing is sent over the other writer's values.
                    (_, false) => Outcome::Unknown { error },
                    (false, true) if round < policy.attempts => {
                        let wait = COMMAND_BACKOFF.wait(round, process_seed(), None);
                        tokio::time::sleep(wait).await;
                        round += 1;
                        continue;
                    }
                    // Not held yet: the lost call may still land.
                    (false, true) => Outcome::Unknown { error },
                }
            }
            Err(error) if error.outcome_unknown() => Outcome::Unknown { error },
            Err(error) => Outcome::NotApplied { error },
        };
    }
}

/// Takes the values changed elsewhere out of `request`.
fn leave_out(request: &mut SetImpulseThresholdsRequest, changed: &[ChangedElsewhere]) {
    request.thresholds.retain(|u| {
        !changed
            .iter()
            .any(|c| c.block_id == u.block_id && c.key == u.key)
    });
}

/// What Studio holds now of the blocks `write` touches.
async fn read_held(client: &StudioClient, write: &Write) -> Result<Vec<BlockThresholds>, ApiError> {
    let mut blocks = Vec::new();
    for b in &write.believed {
        if !blocks
            .iter()
            .any(|known: &ImpulseLearnBlock| known.id == b.block.id)
        {
            blocks.push(b.block.clone());
        }
    }
    let mut held = Vec::new();
    for (_, read) in client.read_blocks(write.project, blocks).await {
        held.push(read?);
    }
    Ok(held)
}

/// The values of `write` someone else changed since they were read: what Studio holds
/// (`held`) differs from what the writer believed, and is neither the value sent nor one
/// of the writer's own sent before without an answer.
fn elsewhere(write: &Write, held: &[BlockThresholds]) -> Vec<ChangedElsewhere> {
    write
        .believed
        .iter()
        .filter_map(|b| {
            let now = value_of(held, b.block.id, &b.key)?;
            let wanted = write
                .request
                .thresholds
                .iter()
                .find(|u| u.block_id == b.block.id && u.key == b.key)
                .map(|u| &u.value);
            let ours = now == b.value || Some(&now) == wanted || b.maybe_ours.contains(&now);
            (!ours).then(|| ChangedElsewhere {
                block_id: b.block.id,
                key: b.key.clone(),
                value: now,
            })
        })
        .collect()
}

fn value_of(held: &[BlockThresholds], block: u64, key: &str) -> Option<ThresholdValue> {
    held.iter()
        .find(|h| h.block.id == block)?
        .thresholds
        .iter()
        .find(|t| t.key == key)
        .map(|t| t.value.clone())
}

/// setImpulseThresholds, tried again while Studio surely did not apply it, at most
/// `attempts` times. A refusal is checked against the jobs running in the project.
async fn send(
    client: &StudioClient,
    write: &Write,
    request: &SetImpulseThresholdsRequest,
    attempts: u32,
) -> Result<SetImpulseThresholdsResponse, ApiError> {
    let mut attempt = 1;
    loop {
        let answer = client
            .set_thresholds(write.project, write.impulse, request)
            .await;
        match answer {
            Err(e) if attempt < attempts && not_applied(&e) => {
                let wait = COMMAND_BACKOFF.wait(attempt, process_seed(), e.retry_after());
                tracing::info!(attempt, ?wait, "set-thresholds not applied: {e}");
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(e) if e.may_be_blocked_by_job() => {
                return Err(blocked_by_job(client, write, e).await);
            }
            answer => return answer,
        }
    }
}

/// How long a command waits before sending again: 500 ms doubling, 8 s at most.
const COMMAND_BACKOFF: Backoff = Backoff {
    base: Duration::from_millis(500),
    max: Duration::from_secs(8),
};

/// A failure after which Studio certainly holds nothing of the request.
pub fn not_applied(e: &ApiError) -> bool {
    match e {
        ApiError::Network {
            outcome_unknown, ..
        } => !outcome_unknown,
        ApiError::Status { status, .. } => matches!(status, 429 | 503),
        _ => false,
    }
}

/// A refusal while a job runs in the project is the job's doing: listActiveJobs says so
/// (the refusal's words are never read). If the jobs cannot be listed, the refusal stands.
async fn blocked_by_job(client: &StudioClient, write: &Write, refusal: ApiError) -> ApiError {
    let Ok(jobs) = client.list_active_jobs(write.project).await else {
        return refusal;
    };
    match (jobs.iter().find(|j| !j.is_finished()), refusal) {
        (
            Some(job),
            ApiError::Refused { operation, message }
            | ApiError::Status {
                operation, message, ..
            },
        ) => ApiError::BlockedByJob {
            operation,
            message,
            job_id: job.id,
            category: crate::text::clean(&job.category),
        },
        (_, refusal) => refusal,
    }
}

/// Whether `held` has every value of `request`. Not holding them after a lost answer
/// proves nothing yet: the call may be in transit.
fn holds_every_value(held: &[BlockThresholds], request: &SetImpulseThresholdsRequest) -> bool {
    request
        .thresholds
        .iter()
        .all(|u| value_of(held, u.block_id, &u.key).as_ref() == Some(&u.value))
}

/// Writes the call down; why it could not be, if it could not.
fn record(recording: Recording<'_>, write: &Write, outcome: &Outcome) -> Result<(), HistoryError> {
    let sent: Vec<_> = write
        .request
        .thresholds
        .iter()
        .filter(|u| {
            !outcome
                .changed_elsewhere()
                .iter()
                .any(|c| c.block_id == u.block_id && c.key == u.key)
        })
        .cloned()
        .collect();
    let applied = outcome.applied();
    // A call whose outcome is unknown is written with the values it sent, said unknown:
    // Studio may hold them later.
    let unknown = matches!(outcome, Outcome::Unknown { .. });
    let mut call = Call::new(
        recording.by,
        write.project,
        (write.impulse, recording.impulse_name),
        recording.held,
        if applied { &sent } else { &[] },
        answer(outcome),
    );
    if applied {
        call.figures = recording.figures;
    } else if unknown {
        call.with_sent(&sent);
    }
    recording
        .recorder
        .record(call)
        .inspect_err(|e| tracing::warn!("history not written: {e}"))
}
