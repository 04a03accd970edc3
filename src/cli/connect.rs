//! Where a command connects: the client from the options and the credentials, and the
//! project and impulse it works on.

use std::time::Duration;

use super::*;
use crate::api::client::ChangedElsewhere;
use crate::api::models::*;
use crate::api::{
    Believed, BlockThresholds, ClientConfig, Outcome, Policy, Secret, StudioClient, Write,
};
use crate::metrics::Scores;
use crate::write::Recording;

pub const NO_CREDENTIALS: &str = "no API key: set EI_API_KEY (or pass --api-key) to a project \
API key, found in Studio under your project's Dashboard, Keys. To try ei-tune offline, run \
`ei-tune demo`.";

/// A client configured from the command line.
pub fn client(args: &ConnectionArgs) -> Result<StudioClient, CommandError> {
    let api_key = match (&args.api_key, &args.api_key_file) {
        (Some(key), _) => Some(key.trim().to_string()),
        (None, Some(path)) => Some(read_key_file(path)?),
        (None, None) => None,
    };
    // An empty key (`EI_API_KEY=`) is no key: say where to find one, ask nothing.
    let api_key = api_key.filter(|k| !k.is_empty());
    let jwt = args.jwt.clone().filter(|t| !t.trim().is_empty());
    if api_key.is_none() && jwt.is_none() {
        return Err(CommandError::usage(NO_CREDENTIALS));
    }
    let mut config = ClientConfig::new(args.host());
    config.allow_insecure_http = args.allow_insecure_http;
    config.api_key = api_key.map(Secret::new);
    config.jwt = jwt.map(Secret::new);
    if let Some(s) = args.connect_timeout {
        config.connect_timeout = seconds("--connect-timeout", s)?;
    }
    if let Some(s) = args.timeout {
        config.request_timeout = seconds("--timeout", s)?;
    }
    Ok(StudioClient::new(&config)?)
}

/// The largest key file read: a key is a few dozen bytes.
const MAX_KEY_FILE_BYTES: u64 = 4096;

/// The key in a file (its first line that is not blank, trimmed, without a byte-order
/// mark); a warning when others can read the file.
fn read_key_file(path: &std::path::Path) -> Result<String, CommandError> {
    let text = crate::text::read_bounded(path, MAX_KEY_FILE_BYTES).map_err(|e| {
        CommandError::usage(format!(
            "cannot read the API key file {}: {e}",
            path.display()
        ))
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            eprintln!(
                "warning: {} can be read by other users; `chmod 600 {}`",
                path.display(),
                path.display()
            );
        }
    }
    let key = text
        .trim_start_matches('\u{feff}')
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default()
        .to_string();
    if key.is_empty() {
        return Err(CommandError::usage(format!(
            "the API key file {} is empty",
            path.display()
        )));
    }
    Ok(key)
}

fn seconds(flag: &str, s: f64) -> Result<Duration, CommandError> {
    Duration::try_from_secs_f64(s)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| CommandError::usage(format!("{flag} takes a positive number of seconds")))
}

/// A client with its project and impulse resolved.
pub struct Target {
    pub client: StudioClient,
    pub project: u64,
    pub impulse: Impulse,
    /// Where per-window results are kept.
    pub cache: crate::cache::ResultsCache,
}

/// Where this command's set-thresholds calls are written down, unless `--no-history`.
pub fn recorder(args: &ConnectionArgs) -> Option<crate::history::Recorder> {
    if args.no_history {
        return None;
    }
    crate::history::History::default_location()
        .map(|history| crate::history::Recorder::for_api(history, args.host()))
}

/// Where per-window results are kept: in memory, and on disk unless `--no-cache`.
pub fn cache(args: &ConnectionArgs) -> crate::cache::ResultsCache {
    if args.no_cache {
        crate::cache::ResultsCache::in_memory()
    } else {
        crate::cache::ResultsCache::default_location()
    }
}

/// `blocks` with `updates` applied: what they hold after a write of them.
pub fn with_values(
    blocks: &[BlockThresholds],
    updates: &[ThresholdUpdate],
) -> Vec<BlockThresholds> {
    let mut after = blocks.to_vec();
    for u in updates {
        if let Some(t) = after
            .iter_mut()
            .filter(|b| b.block.id == u.block_id)
            .flat_map(|b| b.thresholds.iter_mut())
            .find(|t| t.key == u.key)
        {
            t.value = u.value.clone();
        }
    }
    after
}

/// Refuses figures at thresholds they cannot be computed at (an aggregation option added
/// to Studio since this version, a value of another type): they would be another value's.
fn evaluable(blocks: &[BlockThresholds]) -> Result<(), CommandError> {
    for b in blocks {
        for t in &b.thresholds {
            crate::metrics::Thresholds::check(b.block.kind.as_str(), &t.key, &t.value)
                .map_err(|e| CommandError::failed(format!("block {}: {e}", b.block.id)))?;
        }
    }
    Ok(())
}

/// The thresholds `blocks` hold, as the metrics take them.
pub fn saved_thresholds(blocks: &[BlockThresholds]) -> crate::metrics::Thresholds {
    crate::metrics::Thresholds::from_blocks(blocks.iter().flat_map(|b| {
        b.thresholds
            .iter()
            .map(|t| (b.block.kind.as_str(), t.key.as_str(), &t.value))
    }))
}

impl Target {
    /// The impulse's per-window scores: Studio's (kept for next time), or, when Studio
    /// withholds its results, those kept from the same model on the same data, said on
    /// stderr (`fresh` refuses them). `unavailable` says what to do when there are none
    /// (never tested, stale with nothing kept, an impulse that cannot be previewed).
    pub async fn scores(&self, unavailable: &str, fresh: bool) -> Result<Scores, CommandError> {
        let read = crate::preview::read_test_set(
            &self.client,
            self.project,
            self.impulse.id,
            &self.cache,
            |_| {},
        )
        .await
        .map_err(|e| match e {
            crate::preview::PreviewError::Api(e) => CommandError::from(e),
            // Regenerating brings withheld results back; it does nothing for results that
            // cannot be used (too many labels, a model with no preview).
            crate::preview::PreviewError::Withheld(why) => {
                CommandError::failed(format!("{unavailable}{why}"))
            }
            crate::preview::PreviewError::Unavailable(why) => CommandError::failed(why),
        })?;
        if let Some(to_keep) = read.to_keep {
            crate::preview::keep(&self.client, &self.cache, to_keep).await;
        }
        if fresh && let Some(at) = read.scores.from.kept_at() {
            return Err(CommandError::failed(format!(
                "Studio's results are stale until regenerated (ei-tune regenerate), and \
                 --fresh refuses the scores kept at {at}"
            )));
        }
        if let Some(note) = read.scores.from.note() {
            eprintln!("note: {note}");
        }
        Ok(read.scores)
    }

    /// Every threshold of the impulse that can be read; the blocks that cannot are named
    /// on stderr, and the rest works.
    pub async fn thresholds(&self) -> Result<Vec<BlockThresholds>, CommandError> {
        Ok(self.all_thresholds().await?.blocks)
    }

    /// The same, for commands that compute figures at them: refused (exit 1) when one
    /// holds a value the figures cannot be computed at.
    pub async fn evaluable_thresholds(&self) -> Result<Vec<BlockThresholds>, CommandError> {
        let blocks = self.thresholds().await?;
        evaluable(&blocks)?;
        Ok(blocks)
    }

    /// The same, with the blocks that could not be read; none readable is an error.
    pub async fn all_thresholds(&self) -> Result<crate::api::ImpulseThresholds, CommandError> {
        let all = self
            .client
            .impulse_thresholds(self.project, &self.impulse)
            .await?;
        for block in &all.unreadable {
            eprintln!("warning: skipped {}", block.describe());
        }
        if all.blocks.is_empty() && !all.unreadable.is_empty() {
            return Err(CommandError::failed(format!(
                "no learn block of impulse {} could be read",
                self.impulse.id
            )));
        }
        Ok(all)
    }
}

pub async fn target(args: &ConnectionArgs) -> Result<Target, CommandError> {
    let client = client(args)?;
    let project = client.resolve_project(args.project).await?;
    let impulse = client.get_impulse(project, args.impulse).await?;
    Ok(Target {
        client,
        project,
        impulse,
        cache: cache(args),
    })
}

/// Writes `request` to the target's impulse through the one write path (guarded against
/// values changed since `held` was read, tried again while surely not applied, read back
/// after a lost answer, recorded in the history as `by` with `figures`); a history that
/// cannot be written is a warning.
pub async fn write_thresholds(
    args: &ConnectionArgs,
    t: &Target,
    held: &[BlockThresholds],
    request: SetImpulseThresholdsRequest,
    by: &'static str,
    figures: std::collections::BTreeMap<String, f64>,
) -> Outcome {
    let believed = request
        .thresholds
        .iter()
        .filter_map(|u| {
            let block = held.iter().find(|b| b.block.id == u.block_id)?;
            let threshold = block.thresholds.iter().find(|t| t.key == u.key)?;
            Some(Believed {
                block: block.block.clone(),
                key: u.key.clone(),
                value: threshold.value.clone(),
                maybe_ours: Vec::new(),
            })
        })
        .collect();
    let write = Write {
        project: t.project,
        impulse: t.impulse.id,
        request,
        believed,
    };
    let recorder = recorder(args);
    let recording = recorder.as_ref().map(|recorder| Recording {
        recorder,
        by,
        impulse_name: &t.impulse.name,
        held,
        figures,
    });
    let written =
        crate::write::write(&t.client, &t.cache, &write, Policy::COMMAND, recording).await;
    if let Some(why) = written.history_error {
        eprintln!("warning: the history is not kept: {why}");
    }
    written.outcome
}

/// A write's outcome as a command reports it: Studio's answer when every value was
/// applied (`None`: the answer was lost, and reading back found them all), why not
/// otherwise: changed elsewhere, refused, unreachable or applied in part (exit 1), or
/// unknown (exit 3).
pub fn applied(
    outcome: Outcome,
    request: &SetImpulseThresholdsRequest,
) -> Result<Option<SetImpulseThresholdsResponse>, CommandError> {
    let changed = |c: &[ChangedElsewhere]| {
        c.iter()
            .map(|c| crate::text::clean(&format!("{}.{} is now {}", c.block_id, c.key, c.value)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match outcome {
        Outcome::Applied { response } => Ok(response),
        Outcome::Partial {
            changed_elsewhere, ..
        } => Err(CommandError::failed(format!(
            "applied in part: someone changed values since they were read, and those were \
             not sent ({}); run again to set them anyway",
            changed(&changed_elsewhere)
        ))),
        Outcome::ChangedElsewhere(changed_elsewhere) => Err(CommandError::failed(format!(
            "nothing sent: someone changed the values since they were read ({}); run again \
             to set them anyway",
            changed(&changed_elsewhere)
        ))),
        Outcome::NotSent { error } => Err(CommandError::failed(format!(
            "nothing sent: the values could not be read before writing: {}",
            crate::text::clean(&error.to_string())
        ))),
        Outcome::NotApplied { error } => Err(error.into()),
        Outcome::Unknown { error } => Err(CommandError::OutcomeUnknown(format!(
            "{}; no answer says whether Studio applied the change ({} value(s) sent): it \
             did not show them when read back, or could not be read, and a call in transit \
             may still land; `ei-tune list` shows what it holds",
            crate::text::clean(&error.to_string()),
            request.thresholds.len()
        ))),
    }
}
