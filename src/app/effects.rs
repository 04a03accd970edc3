//! The one place where effects happen: each command of the tuner performed on a task,
//! its result turned back into a message.

use crate::api::client::Believed;
use crate::api::client::only_project;
use crate::api::models::Impulse;
use crate::api::models::SetImpulseThresholdsRequest;
use crate::api::{ApiError, Policy, StudioClient, Write};
use crate::cache::ResultsCache;
use crate::history::{HistoryError, Recorder};
use crate::preview::{self, Progress};
use crate::studio::demo::DemoAssetError;
use crate::tuner::{Cmd, Loaded, Msg, PreviewFailure, ProjectRef, Slot, Target};
use std::collections::HashMap;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

/// Performs commands on tasks; each answers with one message. A read in a [`Slot`] is
/// cancelled when another takes the slot or the tuner says so: its requests stop.
pub(super) struct Effects {
    pub(super) client: StudioClient,
    pub(super) tx: mpsc::UnboundedSender<Msg>,
    pub(super) cache: ResultsCache,
    pub(super) history: Option<Recorder>,
    pub(super) slots: HashMap<Slot, AbortHandle>,
}

impl Effects {
    pub(super) fn perform(&mut self, cmds: Vec<Cmd>) {
        for cmd in cmds {
            match cmd {
                Cmd::Record(call) => {
                    // Written here, in order, before the loop can end (a session's last
                    // call is answered as it quits): one short append.
                    let _ = self.tx.send(record(self.history.as_ref(), call));
                }
                Cmd::Cancel(slot) => self.cancel(slot),
                cmd => self.spawn(cmd),
            }
        }
    }

    pub(super) fn spawn(&mut self, cmd: Cmd) {
        let slot = cmd.slot();
        if let Some(slot) = slot {
            self.cancel(slot);
        }
        let client = self.client.clone();
        let tx = self.tx.clone();
        let cache = self.cache.clone();
        let history = self.history.clone();
        let task = tokio::spawn(async move {
            // The loop may have ended: nobody needs the answer then.
            if let Some(msg) = perform(&client, &cache, history, cmd, &tx).await {
                let _ = tx.send(msg);
            }
        });
        if let Some(slot) = slot {
            self.slots.insert(slot, task.abort_handle());
        }
    }

    pub(super) fn cancel(&mut self, slot: Slot) {
        if let Some(task) = self.slots.remove(&slot) {
            tracing::debug!(?slot, "cancelled");
            task.abort();
        }
    }
}

pub(super) fn record(history: Option<&Recorder>, call: crate::history::Call) -> Msg {
    Msg::Recorded(match history {
        Some(history) => history.record(call).inspect_err(|e| {
            tracing::warn!("history not written: {e}");
        }),
        None => Ok(()),
    })
}

/// The history of the impulse at `at`, read off the runtime's threads.
pub(super) async fn read_history(history: Option<Recorder>, at: Target) -> Msg {
    let read = tokio::task::spawn_blocking(move || match history {
        Some(h) => h.read_impulse(at.project, at.impulse),
        None => Err(HistoryError::Off),
    })
    .await;
    Msg::HistoryLoaded {
        impulse: at.impulse,
        result: read.unwrap_or(Err(HistoryError::ReaderStopped)),
    }
}

pub(super) async fn perform(
    client: &StudioClient,
    cache: &ResultsCache,
    history: Option<Recorder>,
    cmd: Cmd,
    tx: &mpsc::UnboundedSender<Msg>,
) -> Option<Msg> {
    tracing::debug!(?cmd, "perform");
    Some(match cmd {
        Cmd::LoadImpulse {
            load,
            project,
            impulse,
            ..
        } => Msg::Loaded {
            load,
            result: load_in(client, project, impulse).await,
        },
        Cmd::LoadResults { at } => Msg::ResultsLoaded {
            impulse: at.impulse,
            result: client.model_testing_summary(at.project, at.impulse).await,
        },
        Cmd::SetThresholds {
            request_id,
            at,
            request,
            believed,
        } => set_thresholds(client, cache, request_id, at, request, believed).await,
        Cmd::StartRegeneration {
            at,
            full_run,
            skip_features,
        } => start_regeneration(client, at, full_run, skip_features).await,
        Cmd::PollJob {
            project,
            job_id,
            after,
        } => {
            tokio::time::sleep(after).await;
            Msg::JobPolled {
                job_id,
                result: client.job_status(project, job_id).await,
            }
        }
        Cmd::LoadTestSet { at } => {
            load_test_set(client, cache, at, tx).await;
            return None;
        }
        Cmd::LoadHistory { at } => read_history(history, at).await,
        // Performed at once by `Effects::perform`; written the same way if it comes here.
        Cmd::Record(call) => record(history.as_ref(), call),
        Cmd::Cancel(_) => return None,
    })
}

/// One set-thresholds call through the write path, sent once: the tuner schedules its
/// own retries.
async fn set_thresholds(
    client: &StudioClient,
    cache: &ResultsCache,
    request_id: u64,
    at: Target,
    request: SetImpulseThresholdsRequest,
    believed: Vec<Believed>,
) -> Msg {
    let write = Write {
        project: at.project,
        impulse: at.impulse,
        request,
        believed,
    };
    let written = crate::write::write(client, cache, &write, Policy::ONCE, None).await;
    if let crate::api::Outcome::NotSent { error }
    | crate::api::Outcome::NotApplied { error }
    | crate::api::Outcome::Unknown { error } = &written.outcome
    {
        tracing::warn!(request_id, "set-thresholds failed: {error}");
    }
    Msg::SetDone {
        request_id,
        outcome: written.outcome,
    }
}

/// A full model testing run, or the summary regenerated from the scores kept.
async fn start_regeneration(
    client: &StudioClient,
    at: Target,
    full_run: bool,
    skip_features: bool,
) -> Msg {
    Msg::RegenerationStarted {
        impulse: at.impulse,
        result: if full_run {
            client
                .start_model_testing(at.project, at.impulse, skip_features)
                .await
        } else {
            client
                .regenerate_model_testing_summary(at.project, at.impulse)
                .await
        },
    }
}

/// Reads an impulse, and the project's name unless known already.
pub(super) async fn load_in(
    client: &StudioClient,
    project: Option<ProjectRef>,
    impulse: Option<u64>,
) -> Result<Loaded, ApiError> {
    match project {
        Some(ProjectRef {
            id,
            name: Some(name),
        }) => load_impulse(client, id, async { Ok(name) }, impulse).await,
        project => load(client, project.map(|p| p.id), impulse).await,
    }
}

/// Reads the per-window results, saying how far it got after each page and what the
/// cache held; then, the answer given, keeps what was read.
pub(super) async fn load_test_set(
    client: &StudioClient,
    cache: &ResultsCache,
    at: Target,
    tx: &mpsc::UnboundedSender<Msg>,
) {
    let impulse = at.impulse;
    let report = |progress: Progress| {
        let _ = tx.send(match progress {
            Progress::Pages { loaded, total } => Msg::TestSetProgress {
                impulse,
                loaded,
                total,
            },
            Progress::Cached(set) => Msg::TestSetCached { impulse, set },
        });
    };
    let read = preview::read_test_set(client, at.project, impulse, cache, report).await;
    let (result, to_keep) = match read {
        Ok(read) => (Ok(read.scores), read.to_keep),
        Err(e) => (
            Err(PreviewFailure {
                withheld: matches!(e, preview::PreviewError::Withheld(_)),
                why: e.to_string(),
            }),
            None,
        ),
    };
    let _ = tx.send(Msg::TestSetLoaded { impulse, result });
    if let Some(to_keep) = to_keep {
        // Not in the read's slot: a read asked for next does not undo the keeping.
        let (client, cache) = (client.clone(), cache.clone());
        tokio::spawn(async move { preview::keep(&client, &cache, to_keep).await });
    }
}

/// What a client loads from the simulator for the demo impulse at `index` (0-based):
/// lets tests and benchmarks of the tuner and its views start without a server.
pub fn demo_loaded(index: usize) -> Result<Loaded, DemoAssetError> {
    let impulses = crate::studio::demo::demo_impulses()?;
    let sim = impulses
        .get(index)
        .ok_or(DemoAssetError::NoImpulse(index))?;
    Ok(Loaded {
        project_id: crate::studio::demo::DEMO_PROJECT_ID,
        project_name: crate::studio::demo::DEMO_PROJECT_NAME.into(),
        impulse: sim.impulse.clone(),
        impulses: impulses.iter().map(|i| i.impulse.clone()).collect(),
        blocks: sim
            .blocks
            .iter()
            .map(|b| crate::api::BlockThresholds {
                block: b.block.clone(),
                thresholds: b.thresholds.clone(),
            })
            .collect(),
        unreadable: Vec::new(),
    })
}

/// Reads everything the tuner shows of an impulse and the project's name, in two round
/// trips: the project list, the impulse and the project's impulses together, then the
/// thresholds of every learn block together (their ids come with the impulse; there is no
/// call that reads an impulse's thresholds at once). Without a project id the list of
/// projects must name it first: one more round trip.
pub async fn load(
    client: &StudioClient,
    project: Option<u64>,
    impulse: Option<u64>,
) -> Result<Loaded, ApiError> {
    let Some(project_id) = project else {
        let list = client.list_projects().await?;
        let only = only_project(&list)?;
        let name = only.name.clone();
        return load_impulse(client, only.id, async { Ok(name) }, impulse).await;
    };
    let name = async {
        // Some tokens may not list projects; the id given is enough.
        let name = match client.list_projects().await {
            Ok(list) => list
                .into_iter()
                .find(|p| p.id == project_id)
                .map(|p| p.name),
            Err(_) => None,
        };
        Ok(name.unwrap_or_else(|| format!("project {project_id}")))
    };
    load_impulse(client, project_id, name, impulse).await
}

/// Reads an impulse, the project's impulses and every threshold, and the project's name
/// (`name`), concurrently.
pub(super) async fn load_impulse(
    client: &StudioClient,
    project_id: u64,
    name: impl std::future::Future<Output = Result<String, ApiError>>,
    impulse: Option<u64>,
) -> Result<Loaded, ApiError> {
    let impulse_and_thresholds = async {
        let impulse: Impulse = client.get_impulse(project_id, impulse).await?;
        let thresholds = client.impulse_thresholds(project_id, &impulse).await?;
        Ok::<_, ApiError>((impulse, thresholds))
    };
    let (project_name, impulses, (impulse, thresholds)) = futures::try_join!(
        name,
        client.list_impulses(project_id),
        impulse_and_thresholds
    )?;
    Ok(Loaded {
        project_id,
        project_name,
        impulse,
        impulses,
        blocks: thresholds.blocks,
        unreadable: thresholds.unreadable,
    })
}
