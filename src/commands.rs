//! The scripting commands: list, set, regenerate, results, serve.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::models::*;
use crate::api::{ApiError, BlockThresholds, ClientConfig, Secret, StudioClient};
use crate::app::{self, App, Input};
use crate::cli::{ConnectionArgs, ServeArgs, TuiArgs};
use crate::jobs::{JobOutcome, JobState, JobWatch};
use crate::studio::{Studio, StudioConfig, random_api_key};
use crate::terminal::TerminalGuard;
use crate::tuner::{ExitReport, Loaded, TunerConfig};
use crate::ui::Theme;

/// A command's failure and the exit code it deserves.
#[derive(Debug)]
pub struct CommandError {
    pub code: u8,
    pub message: String,
}

impl CommandError {
    /// Bad input from the user (exit code 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }

    /// Anything else (exit code 1).
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }
}

impl From<ApiError> for CommandError {
    fn from(e: ApiError) -> Self {
        let code = if matches!(e, ApiError::Config(_)) {
            2
        } else {
            1
        };
        Self {
            code,
            message: e.to_string(),
        }
    }
}

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
}

impl Target {
    /// Every threshold of the impulse that can be read; the blocks that cannot are named
    /// on stderr, and the rest works.
    pub async fn thresholds(&self) -> Result<Vec<BlockThresholds>, CommandError> {
        Ok(self.all_thresholds().await?.blocks)
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
    })
}

/// `ei-tune list`.
pub async fn list(args: &ConnectionArgs, as_json: bool) -> Result<String, CommandError> {
    let t = target(args).await?;
    let blocks = t.thresholds().await?;
    if as_json {
        let rows: Vec<serde_json::Value> = blocks
            .iter()
            .flat_map(|b| {
                b.thresholds.iter().map(|th| {
                    let mut row = json!({
                        "blockId": b.block.id,
                        "blockTitle": b.block.title,
                        "blockType": b.block.kind,
                    });
                    if let (Some(row), Ok(serde_json::Value::Object(fields))) =
                        (row.as_object_mut(), serde_json::to_value(th))
                    {
                        row.extend(fields);
                    }
                    row
                })
            })
            .collect();
        return Ok(serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n");
    }
    Ok(format_threshold_table(&t.impulse, &blocks))
}

pub fn format_threshold_table(impulse: &Impulse, blocks: &[BlockThresholds]) -> String {
    let mut rows = vec![[
        "BLOCK".to_string(),
        "TITLE (TYPE)".to_string(),
        "KEY".to_string(),
        "VALUE".to_string(),
        "SUGGESTED".to_string(),
        "DESCRIPTION".to_string(),
    ]];
    for b in blocks {
        for th in &b.thresholds {
            let description = match &th.dropdown_options {
                Some(options) => format!(
                    "{} [options: {}]",
                    th.description,
                    options
                        .iter()
                        .map(|o| o.value.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => th.description.clone(),
            };
            rows.push([
                b.block.id.to_string(),
                format!("{} ({})", b.block.title, b.block.kind),
                th.key.clone(),
                th.value.to_string(),
                th.suggested_value_text
                    .clone()
                    .or(th.suggested_value.map(|v| v.to_string()))
                    .unwrap_or_else(|| "-".into()),
                description,
            ]);
        }
    }
    let mut out = format!(
        "Impulse {} ({})\n",
        impulse.id,
        crate::text::clean(&impulse.name)
    );
    out.push_str(&table(&rows));
    out
}

/// Left-aligned columns separated by two spaces.
fn table<const N: usize>(rows: &[[String; N]]) -> String {
    // Cells hold server text: made safe once here (a newline would forge a line).
    let rows: Vec<[String; N]> = rows
        .iter()
        .map(|row| row.clone().map(|cell| crate::text::clean(&cell)))
        .collect();
    let mut widths = [0usize; N];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == N {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<w$}  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// One parsed `BLOCK.KEY=VALUE`, value still raw.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub block_id: u64,
    pub key: String,
    pub raw_value: String,
}

/// Parses `BLOCK.KEY=VALUE`.
pub fn parse_assignment(text: &str) -> Result<Assignment, String> {
    let (target, value) = text.split_once('=').ok_or_else(|| {
        format!("`{text}`: expected BLOCK.KEY=VALUE (e.g. 4.min_anomaly_score=0.45)")
    })?;
    let (block, key) = target
        .split_once('.')
        .ok_or_else(|| format!("`{text}`: expected BLOCK.KEY before `=` (e.g. 3.min_score)"))?;
    let block_id = block
        .trim()
        .parse::<u64>()
        .map_err(|_| format!("`{text}`: block `{block}` is not a block id (a whole number)"))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(format!("`{text}`: the key is empty"));
    }
    if value.trim().is_empty() {
        return Err(format!("`{text}`: the value is empty"));
    }
    Ok(Assignment {
        block_id,
        key: key.to_string(),
        raw_value: value.trim().to_string(),
    })
}

/// Checks a raw value against a threshold and converts it to what the API takes.
pub fn threshold_value(threshold: &BlockThreshold, raw: &str) -> Result<ThresholdValue, String> {
    if let Some(options) = threshold.options() {
        return if options.iter().any(|o| o.value == raw) {
            Ok(ThresholdValue::Text(raw.to_string()))
        } else {
            Err(format!(
                "`{raw}` is not an option of {} (options: {})",
                threshold.key,
                options
                    .iter()
                    .map(|o| o.value.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        };
    }
    if threshold.takes_text() {
        // A string threshold without options: Studio's value is text, and so is ours.
        return Ok(ThresholdValue::Text(raw.to_string()));
    }
    let value: f64 = raw
        .parse()
        .map_err(|_| format!("`{raw}` is not a number ({} takes a number)", threshold.key))?;
    if !value.is_finite() {
        return Err(format!("`{raw}` is not a finite number"));
    }
    if crate::thresholds::is_probability_key(&threshold.key) && !(0.0..=1.0).contains(&value) {
        return Err(format!("{} must be within 0..1, got {raw}", threshold.key));
    }
    Ok(ThresholdValue::Number(value))
}

/// Validates assignments against the impulse's thresholds.
pub fn build_updates(
    assignments: &[String],
    blocks: &[BlockThresholds],
) -> Result<Vec<ThresholdUpdate>, Vec<String>> {
    let mut problems = Vec::new();
    let mut updates = Vec::new();
    for text in assignments {
        let a = match parse_assignment(text) {
            Ok(a) => a,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let Some(block) = blocks.iter().find(|b| b.block.id == a.block_id) else {
            problems.push(format!(
                "`{text}`: block {} is not a learn block of this impulse (blocks: {})",
                a.block_id,
                blocks
                    .iter()
                    .map(|b| b.block.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            continue;
        };
        let Some(threshold) = block.thresholds.iter().find(|t| t.key == a.key) else {
            problems.push(format!(
                "`{text}`: block {} has no threshold `{}` (it has: {})",
                a.block_id,
                a.key,
                block
                    .thresholds
                    .iter()
                    .map(|t| t.key.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            continue;
        };
        match threshold_value(threshold, &a.raw_value) {
            Ok(value) => updates.push(ThresholdUpdate::new(a.block_id, a.key, value)),
            Err(e) => problems.push(format!("`{text}`: {e}")),
        }
    }
    if problems.is_empty() {
        Ok(updates)
    } else {
        Err(problems)
    }
}

/// `ei-tune set`.
/// How `ei-tune set` was asked to work.
#[derive(Debug, Clone, Default)]
pub struct SetOptions {
    pub from: Option<std::path::PathBuf>,
    pub allow_jobs: bool,
    /// Apply a file exported from another project.
    pub other_project: bool,
    pub json: bool,
}

/// The exit code when a change's answer was lost and reading back failed too.
pub const EXIT_OUTCOME_UNKNOWN: u8 = 3;

pub async fn set(
    args: &ConnectionArgs,
    assignments: &[String],
    options: &SetOptions,
) -> Result<String, CommandError> {
    // The runner's form, `3.min_score=0.5,4.min_anomaly_score=0.3`, as `list --runner`
    // prints it, is taken too.
    let assignments: Vec<String> = assignments
        .iter()
        .flat_map(|a| split_runner_form(a))
        .collect();
    let assignments = assignments.as_slice();
    // Malformed arguments and files are refused before anything goes over the network.
    let syntax: Vec<String> = assignments
        .iter()
        .filter_map(|a| parse_assignment(a).err())
        .collect();
    if !syntax.is_empty() {
        return Err(CommandError::usage(syntax.join("\n")));
    }
    let file = options
        .from
        .as_deref()
        .map(read_thresholds_file)
        .transpose()?;
    let mut args = args.clone();
    if let Some(file_impulse) = file.as_ref().and_then(|f| f.impulse_id) {
        match args.impulse {
            Some(given) if given != file_impulse => {
                return Err(CommandError::usage(format!(
                    "the file is for impulse {file_impulse}, not {given}"
                )));
            }
            _ => args.impulse = Some(file_impulse),
        }
    }
    let t = target(&args).await?;
    if let Some(file_project) = file.as_ref().and_then(|f| f.project_id)
        && file_project != t.project
        && !options.other_project
    {
        return Err(CommandError::usage(format!(
            "the file was exported from project {file_project}, not {}; --other-project \
             applies it anyway",
            t.project
        )));
    }
    let all = t.all_thresholds().await?;
    let from_file = file
        .iter()
        .flat_map(|f| f.thresholds.iter().map(|u| u.block_id));
    let mut unreadable: Vec<String> = assignments
        .iter()
        .filter_map(|a| parse_assignment(a).ok().map(|a| a.block_id))
        .chain(from_file)
        .filter(|id| all.unreadable.iter().any(|u| u.block.id == *id))
        .map(|id| format!("block {id} could not be read (see the warning above)"))
        .collect();
    unreadable.dedup();
    if !unreadable.is_empty() {
        return Err(CommandError::failed(unreadable.join("\n")));
    }
    let blocks = all.blocks;
    let mut updates = match &file {
        Some(file) => file_updates(file, &blocks).map_err(|p| CommandError::usage(p.join("\n")))?,
        None => Vec::new(),
    };
    refuse_contradictions(&updates, "the file")?;
    let given =
        build_updates(assignments, &blocks).map_err(|p| CommandError::usage(p.join("\n")))?;
    refuse_contradictions(&given, "the arguments")?;
    for update in given {
        updates.retain(|u| !(u.block_id == update.block_id && u.key == update.key));
        updates.push(update);
    }
    if updates.is_empty() {
        return Err(CommandError::usage("nothing to set"));
    }
    let request = SetImpulseThresholdsRequest {
        thresholds: updates,
        allow_creating_regenerate_model_testing_jobs: options.allow_jobs,
        force_run_regenerate_model_testing_in_job: None,
    };
    let response = match send_set(&t, &request).await {
        Ok(response) => response,
        Err(e) if e.outcome_unknown() => return read_back(&t, &request, e).await,
        Err(e) => return Err(e.into()),
    };
    if options.json {
        return Ok(serde_json::to_string_pretty(&response).unwrap_or_default() + "\n");
    }
    Ok(describe_set(&t.impulse, &request, &response))
}

/// `3.min_score=0.5,4.min_anomaly_score=0.3` as two assignments: split at each comma that
/// starts another `BLOCK.KEY=` (a comma elsewhere stays in its value).
fn split_runner_form(text: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for piece in text.split(',') {
        let starts_assignment = piece.contains('=')
            && piece.split_once('.').is_some_and(|(block, _)| {
                !block.is_empty() && block.bytes().all(|b| b.is_ascii_digit())
            });
        match parts.last_mut() {
            Some(current) if !starts_assignment => {
                current.push(',');
                current.push_str(piece);
            }
            _ => parts.push(piece.to_string()),
        }
    }
    parts
}

/// Two values for one threshold: which one was meant cannot be guessed.
fn refuse_contradictions(updates: &[ThresholdUpdate], whence: &str) -> Result<(), CommandError> {
    for (i, a) in updates.iter().enumerate() {
        if let Some(b) = updates[i + 1..]
            .iter()
            .find(|b| b.block_id == a.block_id && b.key == a.key && b.value != a.value)
        {
            return Err(CommandError::usage(format!(
                "{whence}: {}.{} has two values ({} and {}); give one",
                a.block_id, a.key, a.value, b.value
            )));
        }
    }
    Ok(())
}

/// setImpulseThresholds, tried again while Studio is known not to have applied it (no
/// connection, 429, 503); a lost answer is not tried again blindly.
async fn send_set(
    t: &Target,
    request: &SetImpulseThresholdsRequest,
) -> Result<SetImpulseThresholdsResponse, ApiError> {
    const ATTEMPTS: u32 = 4;
    let mut attempt = 1;
    loop {
        match t
            .client
            .set_thresholds(t.project, t.impulse.id, request)
            .await
        {
            Err(e) if attempt < ATTEMPTS && not_applied(&e) => {
                let wait =
                    Duration::from_millis(250 << attempt).max(e.retry_after().unwrap_or_default());
                eprintln!(
                    "{}; trying again in {:.1} s",
                    crate::text::clean(&e.to_string()),
                    wait.as_secs_f64()
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            answer => return answer,
        }
    }
}

/// A failure after which Studio certainly holds nothing of the request.
fn not_applied(e: &ApiError) -> bool {
    match e {
        ApiError::Network {
            outcome_unknown, ..
        } => !outcome_unknown,
        ApiError::Status { status, .. } => matches!(status, 429 | 503),
        _ => false,
    }
}

/// The answer was lost: what Studio holds now says whether the change was applied.
async fn read_back(
    t: &Target,
    request: &SetImpulseThresholdsRequest,
    lost: ApiError,
) -> Result<String, CommandError> {
    let lost = crate::text::clean(&lost.to_string());
    let held = match t.client.impulse_thresholds(t.project, &t.impulse).await {
        Ok(all) => all.blocks,
        Err(e) => {
            return Err(CommandError {
                code: EXIT_OUTCOME_UNKNOWN,
                message: format!(
                    "{lost}; reading the thresholds back failed too ({e}): whether Studio \
                     applied the change is unknown"
                ),
            });
        }
    };
    let missing: Vec<String> = request
        .thresholds
        .iter()
        .filter_map(|u| {
            let now = held
                .iter()
                .find(|b| b.block.id == u.block_id)?
                .thresholds
                .iter()
                .find(|th| th.key == u.key)
                .map(|th| th.value.clone());
            (now.as_ref() != Some(&u.value)).then(|| {
                format!(
                    "{}.{} is {}",
                    u.block_id,
                    u.key,
                    now.map_or_else(|| "absent".into(), |v| v.to_string())
                )
            })
        })
        .collect();
    if missing.is_empty() {
        Ok(format!(
            "The answer was lost ({lost}), but Studio holds every value: applied.\n"
        ))
    } else if missing.len() < request.thresholds.len() {
        Err(CommandError::failed(format!(
            "{lost}; read back, the change was applied only in part: {}",
            missing.join(", ")
        )))
    } else {
        Err(CommandError::failed(format!(
            "{lost}; read back, the change was not applied: {}",
            missing.join(", ")
        )))
    }
}

pub fn describe_set(
    impulse: &Impulse,
    request: &SetImpulseThresholdsRequest,
    response: &SetImpulseThresholdsResponse,
) -> String {
    let values: Vec<String> = request
        .thresholds
        .iter()
        .map(|u| crate::text::clean(&format!("{}.{}={}", u.block_id, u.key, u.value)))
        .collect();
    let status = &response.regenerate_model_testing_status;
    let mut out = format!(
        "Set {} on impulse {} ({}).\n{}: {}\n",
        values.join(" "),
        impulse.id,
        crate::text::clean(&impulse.name),
        crate::text::clean(status.as_str()),
        status.explanation()
    );
    if *status == RegenerateStatus::RequiresJob {
        let _ = writeln!(
            out,
            "Run `ei-tune --impulse {} regenerate --wait` to regenerate the results.",
            impulse.id
        );
    }
    let _ = writeln!(
        out,
        "had model testing results: {}",
        if response.had_model_testing_results {
            "yes"
        } else {
            "no"
        }
    );
    if let Some(job) = response.regenerate_model_testing_results_job_id {
        let _ = writeln!(out, "job: {job}");
    }
    out
}

/// `ei-tune regenerate`.
pub async fn regenerate(args: &ConnectionArgs, wait: bool) -> Result<String, CommandError> {
    let t = target(args).await?;
    let job_id = t
        .client
        .regenerate_model_testing_summary(t.project, t.impulse.id)
        .await?;
    if !wait {
        return Ok(format!(
            "Started regeneration job {job_id} for impulse {}.\n",
            t.impulse.id
        ));
    }
    let outcome = follow_job(&t.client, t.project, job_id).await?;
    let mut out = match outcome {
        JobOutcome::Failed => {
            return Err(CommandError::failed(format!(
                "regeneration job {job_id} failed"
            )));
        }
        JobOutcome::Succeeded => format!("Regeneration job {job_id} finished.\n"),
        JobOutcome::Unreported => format!(
            "Regeneration job {job_id} finished; Studio did not say whether it succeeded, \
             so here is what it reports now.\n"
        ),
    };
    let summary = t
        .client
        .model_testing_summary(t.project, t.impulse.id)
        .await?;
    out.push_str(&format_summary(&t.impulse, &summary));
    Ok(out)
}

/// Polls a job until it finishes, with a progress line on stderr. Polls that fail for a
/// passing reason are tried again; the wait ends as [`JobWatch`] says.
pub async fn follow_job(
    client: &StudioClient,
    project: u64,
    job_id: u64,
) -> Result<JobOutcome, CommandError> {
    let started = Instant::now();
    let mut watch = JobWatch::new(job_id, started);
    let mut stderr = std::io::stderr();
    let interactive = stderr.is_terminal();
    const SPINNER: [char; 4] = ['|', '/', '-', '\\'];
    let mut tick = 0usize;
    loop {
        let now = Instant::now();
        let state = match client.job_status(project, job_id).await {
            Ok(job) => Some(watch.observe(&job, now)),
            Err(e) if e.is_transient() => watch.poll_failed(now),
            Err(e) => return Err(e.into()),
        };
        let label = match state {
            Some(JobState::Finished(outcome)) => {
                if interactive {
                    let _ = write!(stderr, "\r\x1b[K");
                }
                return Ok(outcome);
            }
            Some(JobState::GaveUp(why)) => return Err(CommandError::failed(why)),
            Some(JobState::Queued) => "queued",
            Some(JobState::Running) => "running",
            None => "not answering",
        };
        if interactive {
            let _ = write!(
                stderr,
                "\r{} job {job_id} {label} {:.1} s",
                SPINNER[tick % SPINNER.len()],
                started.elapsed().as_secs_f64()
            );
            let _ = stderr.flush();
        } else if tick.is_multiple_of(8) {
            let _ = writeln!(
                stderr,
                "job {job_id} {label} {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
        tick += 1;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `ei-tune results`.
pub async fn results(args: &ConnectionArgs, as_json: bool) -> Result<String, CommandError> {
    let t = target(args).await?;
    let summary = t
        .client
        .model_testing_summary(t.project, t.impulse.id)
        .await?;
    if as_json {
        let value = json!({
            "impulseId": t.impulse.id,
            "accuracy": summary.accuracy,
            "additionalMetricsByLearnBlock": summary.additional_metrics_by_learn_block,
            "noResultsBecauseThresholdsChanged": summary.no_results_because_thresholds_changed,
        });
        return Ok(serde_json::to_string_pretty(&value).unwrap_or_default() + "\n");
    }
    Ok(format_summary(&t.impulse, &summary))
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{:.2} %", v * 100.0))
}

pub fn format_summary(impulse: &Impulse, summary: &ModelTestingSummary) -> String {
    let mut out = format!(
        "Model testing, impulse {} ({})\n",
        impulse.id,
        crate::text::clean(&impulse.name)
    );
    if let Some(reason) = &summary.no_results_because_thresholds_changed {
        let _ = writeln!(out, "No current results: {}.", reason.explanation());
        return out;
    }
    if summary.window_count() == 0 {
        out.push_str("No model testing results yet.\n");
        return out;
    }
    let a = &summary.accuracy;
    let _ = writeln!(
        out,
        "accuracy {}  ({} good, {} bad)",
        percent(a.accuracy()),
        a.total_summary.good,
        a.total_summary.bad
    );
    let _ = writeln!(out, "balanced accuracy {}", percent(a.balanced_accuracy()));
    if a.anomaly_accuracy_score.is_some() {
        let _ = writeln!(
            out,
            "anomalies caught {}  normal windows passed {}",
            percent(a.anomaly_accuracy_score),
            percent(a.no_anomaly_accuracy_score)
        );
    }
    for block in &summary.additional_metrics_by_learn_block {
        let metrics: Vec<String> = block
            .additional_metrics
            .iter()
            .map(|m| format!("{} {}", m.name, m.value))
            .collect();
        if !metrics.is_empty() {
            let _ = writeln!(
                out,
                "block {} ({}): {}",
                block.learn_block_id,
                crate::text::clean(&block.learn_block_name),
                crate::text::clean(&metrics.join(", "))
            );
        }
    }
    out.push('\n');
    let mut columns: Vec<String> = a.all_labels.clone();
    let has_uncertain = a
        .confusion_matrix_values
        .values()
        .any(|row| row.contains_key(crate::metrics::UNCERTAIN));
    if has_uncertain {
        columns.push(crate::metrics::UNCERTAIN.to_string());
    }
    let mut header = vec!["expected \\ predicted".to_string()];
    header.extend(columns.iter().cloned());
    header.push("good".into());
    header.push("bad".into());
    let mut rows: Vec<Vec<String>> = vec![header];
    for label in &a.all_labels {
        let mut row = vec![label.clone()];
        let values = a.confusion_matrix_values.get(label);
        row.extend(columns.iter().map(|c| {
            values
                .and_then(|v| v.get(c))
                .map_or_else(|| "0".into(), |n| format!("{n}"))
        }));
        let gb = a.summary_per_class.get(label).copied().unwrap_or_default();
        row.push(gb.good.to_string());
        row.push(gb.bad.to_string());
        rows.push(row);
    }
    out.push_str(&right_aligned(&rows));
    out
}

fn right_aligned(rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| crate::text::clean(cell)).collect())
        .collect();
    let rows = rows.as_slice();
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        for (c, cell) in row.iter().enumerate() {
            let w = widths[c];
            if c == 0 {
                let _ = write!(out, "{cell:<w$}");
            } else {
                let _ = write!(out, "  {cell:>w$}");
            }
        }
        out.push('\n');
    }
    out
}

/// `ei-tune` / `ei-tune tune`: the interactive tuner on the configured impulse.
pub async fn tune(args: &ConnectionArgs, tui: &TuiArgs) -> Result<String, CommandError> {
    let client = client(args)?;
    // Load before taking over the terminal: a session that cannot load anything says why
    // on a plain terminal instead of opening an empty UI.
    let loaded = say_while_waiting(&client, app::load(&client, args.project, args.impulse)).await?;
    run_tui(client, loaded, tui).await
}

/// `ei-tune demo`: the simulated Studio in this process, and the tuner on it over HTTP.
pub async fn demo(
    tui: &TuiArgs,
    impulse: Option<u64>,
    job_seconds: f64,
) -> Result<String, CommandError> {
    let job_duration = Duration::try_from_secs_f64(job_seconds)
        .map_err(|_| CommandError::usage("--job-seconds takes a non-negative number"))?;
    let mut config = StudioConfig::new(random_api_key());
    config.job_duration = job_duration;
    let studio = Studio::start(config)
        .await
        .map_err(|e| CommandError::failed(format!("cannot start the simulated Studio: {e}")))?;
    let mut client_config = ClientConfig::new(studio.base_url());
    client_config.api_key = Some(Secret::new(studio.api_key()));
    let client = StudioClient::new(&client_config)?;
    let loaded = app::load(&client, Some(studio.project_id()), impulse).await?;
    let result = run_tui(client, loaded, tui).await;
    studio.shutdown().await;
    result
}

async fn run_tui(
    client: StudioClient,
    loaded: Loaded,
    tui: &TuiArgs,
) -> Result<String, CommandError> {
    if !std::io::stdout().is_terminal() {
        return Err(CommandError::usage(
            "the tuner needs a terminal; for scripts use list, set and results",
        ));
    }
    let max_fpr = tui.max_fpr.unwrap_or(crate::defaults::MAX_FPR);
    if !(0.0..=1.0).contains(&max_fpr) {
        return Err(CommandError::usage("--max-fpr takes a rate from 0 to 1"));
    }
    let config = TunerConfig {
        debounce: tui.debounce(),
        max_fpr,
        ..TunerConfig::default()
    };
    let app = App {
        client,
        project: Some(loaded.project_id),
        config,
        theme: Theme::from_env(),
        suspend: Some(crate::terminal::suspend),
    };
    let impulse = Some(loaded.impulse.id);
    let report = {
        let mut guard = TerminalGuard::enter()
            .map_err(|e| CommandError::failed(format!("cannot set up the terminal: {e}")))?;
        let input = terminal_input();
        app::run(app, &mut guard.terminal, input, impulse, Some(loaded)).await
        // The guard restores the terminal here, before anything is printed.
    };
    let outcome = report.map_err(|e| CommandError::failed(format!("terminal error: {e}")))?;
    if tui.stats {
        eprint!("{}", latency_summary(&outcome.key_latencies));
    }
    let report: ExitReport = outcome.report;
    if report.unsaved.is_empty() {
        Ok(String::new())
    } else {
        Err(CommandError::failed(format!(
            "these values were not saved to Studio:\n  {}",
            report.unsaved.join("\n  ")
        )))
    }
}

/// Key press to finished frame: count, median, 99th percentile and worst.
pub fn latency_summary(latencies: &[Duration]) -> String {
    if latencies.is_empty() {
        return "key presses: none\n".into();
    }
    let mut sorted = latencies.to_vec();
    sorted.sort_unstable();
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "key press to frame over {} presses: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms\n",
        sorted.len(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(at(1.0))
    )
}

/// Awaits `work`; if it takes more than a second, says on stderr what is being waited for,
/// so that a slow or silent server does not leave an empty screen.
async fn say_while_waiting<T>(
    client: &StudioClient,
    work: impl std::future::Future<Output = T>,
) -> T {
    let mut work = std::pin::pin!(work);
    tokio::select! {
        done = &mut work => return done,
        () = tokio::time::sleep(Duration::from_secs(1)) => {}
    }
    eprintln!(
        "waiting for {} (the project, the impulse and its thresholds)…",
        crate::text::clean(client.base_url())
    );
    work.await
}

/// Terminal events and termination signals, as one stream.
fn terminal_input() -> impl futures::Stream<Item = Input> + Unpin {
    use futures::StreamExt;
    // For the terminal-safety tests, in debug builds only: a key that makes the tuner
    // panic. Release builds, which users run, have no such hook.
    let panic_key = if cfg!(debug_assertions) {
        std::env::var("EI_TUNE_PANIC_ON_KEY")
            .ok()
            .and_then(|k| k.chars().next())
    } else {
        None
    };
    let events = crossterm::event::EventStream::new().map(move |event| match event {
        Ok(crossterm::event::Event::Key(key))
            if panic_key.is_some()
                && key.code == crossterm::event::KeyCode::Char(panic_key.unwrap_or_default()) =>
        {
            panic!("panic requested with EI_TUNE_PANIC_ON_KEY")
        }
        Ok(event) => Input::Terminal(event),
        Err(_) => Input::Terminate,
    });
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        wait_for_termination().await;
        let _ = tx.send(Input::Terminate);
    });
    let signals = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
    futures::stream::select(events, signals)
}

#[cfg(unix)]
async fn wait_for_termination() {
    use tokio::signal::unix::{SignalKind, signal};
    // Every signal whose default action ends the process: each must restore the terminal.
    let kinds = [
        SignalKind::terminate(),
        SignalKind::hangup(),
        SignalKind::interrupt(),
        SignalKind::quit(),
        SignalKind::user_defined1(),
        SignalKind::user_defined2(),
        SignalKind::alarm(),
        SignalKind::pipe(),
    ];
    let mut streams: Vec<_> = kinds.into_iter().filter_map(|k| signal(k).ok()).collect();
    if streams.is_empty() {
        return std::future::pending().await;
    }
    let waits = streams.iter_mut().map(|s| Box::pin(s.recv()));
    futures::future::select_all(waits).await;
}

#[cfg(not(unix))]
async fn wait_for_termination() {
    let _ = tokio::signal::ctrl_c().await;
}

/// The longest simulated job: a day.
const MAX_JOB_DURATION: Duration = Duration::from_secs(24 * 3600);

/// `ei-tune serve`: runs until Ctrl-C.
pub async fn serve(args: &ServeArgs) -> Result<(), CommandError> {
    let job_duration = Duration::try_from_secs_f64(args.job_seconds)
        .ok()
        .filter(|d| *d <= MAX_JOB_DURATION)
        .ok_or_else(|| {
            CommandError::usage(format!(
                "--job-seconds takes a number from 0 to {}",
                MAX_JOB_DURATION.as_secs()
            ))
        })?;
    let mut config = StudioConfig::new(args.api_key.clone().unwrap_or_else(random_api_key));
    config.bind = std::net::SocketAddr::new(args.bind, args.port);
    config.job_duration = job_duration;
    config.faults = args
        .faults
        .as_deref()
        .map(crate::studio::faults::FaultSpec::parse)
        .transpose()
        .map_err(|e| CommandError::usage(format!("--faults: {e}")))?;
    config.variations = args
        .variations
        .as_deref()
        .map(crate::studio::variations::Variations::parse)
        .transpose()
        .map_err(|e| CommandError::usage(format!("--variations: {e}")))?;
    config.unreadable_blocks = args.unreadable_blocks.clone();
    if !args.bind.is_loopback() {
        eprintln!(
            "warning: binding {}: the simulator is reachable from the network",
            args.bind
        );
    }
    let studio = Studio::start(config).await.map_err(|e| {
        CommandError::failed(format!("cannot listen on {}:{}: {e}", args.bind, args.port))
    })?;
    println!(
        "Simulated Studio on {} (project {}). Paste these lines in another shell:",
        studio.base_url(),
        studio.project_id()
    );
    println!("export EI_API_ENDPOINT={}", studio.base_url());
    println!("export EI_API_KEY={}", studio.api_key());
    println!("export EI_PROJECT_ID={}", studio.project_id());
    println!("Then: ei-tune list; ei-tune set 3.min_score=0.7; ei-tune. Ctrl-C stops.");
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
    studio.shutdown().await;
    Ok(())
}

/// The file `export` writes and `set --from` reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThresholdsFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impulse_id: Option<u64>,
    pub thresholds: Vec<ThresholdUpdate>,
}

/// The largest thresholds file read: an impulse's thresholds are a few KB.
const MAX_THRESHOLDS_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Reads a thresholds file; a clear error naming the file and the bad field otherwise.
pub fn read_thresholds_file(path: &std::path::Path) -> Result<ThresholdsFile, CommandError> {
    let text = crate::text::read_bounded(path, MAX_THRESHOLDS_FILE_BYTES)
        .map_err(|e| CommandError::usage(format!("cannot read {}: {e}", path.display())))?;
    let mut de = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        CommandError::usage(format!(
            "{} is not a thresholds file (as `ei-tune export` writes): at `{}`: {}",
            path.display(),
            e.path(),
            e.inner()
        ))
    })
}

/// Checks each entry of a file against the impulse's thresholds, types included.
pub fn file_updates(
    file: &ThresholdsFile,
    blocks: &[BlockThresholds],
) -> Result<Vec<ThresholdUpdate>, Vec<String>> {
    let mut problems = Vec::new();
    let mut updates = Vec::new();
    for (i, u) in file.thresholds.iter().enumerate() {
        let at = format!("thresholds[{i}] ({}.{})", u.block_id, u.key);
        let Some(threshold) = blocks
            .iter()
            .find(|b| b.block.id == u.block_id)
            .and_then(|b| b.thresholds.iter().find(|t| t.key == u.key))
        else {
            problems.push(format!("{at}: no such threshold on this impulse"));
            continue;
        };
        let typed = match (threshold.takes_text(), &u.value) {
            (true, ThresholdValue::Number(_)) => Err(if threshold.options().is_some() {
                "expects one of its options, not a number".to_string()
            } else {
                "expects text, not a number".to_string()
            }),
            (false, ThresholdValue::Text(_)) => Err("expects a number, not a string".to_string()),
            _ => threshold_value(threshold, &u.value.to_string()),
        };
        match typed {
            Ok(value) => updates.push(ThresholdUpdate::new(u.block_id, u.key.clone(), value)),
            Err(e) => problems.push(format!("{at}: {e}")),
        }
    }
    if problems.is_empty() {
        Ok(updates)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runners_comma_form_splits_into_assignments() {
        assert_eq!(
            split_runner_form("3.min_score=0.5,4.min_anomaly_score=0.3"),
            ["3.min_score=0.5", "4.min_anomaly_score=0.3"]
        );
        assert_eq!(split_runner_form("23.method=a,b"), ["23.method=a,b"]);
        assert_eq!(split_runner_form("3.min_score=0.5"), ["3.min_score=0.5"]);
    }

    fn blocks() -> Vec<BlockThresholds> {
        let impulses = crate::studio::demo::demo_impulses().unwrap();
        let visual = &impulses[2];
        let digits = &impulses[0];
        digits
            .blocks
            .iter()
            .chain(&visual.blocks)
            .map(|b| BlockThresholds {
                block: b.block.clone(),
                thresholds: b.thresholds.clone(),
            })
            .collect()
    }

    #[test]
    fn assignments_parse_block_key_and_value() {
        assert_eq!(
            parse_assignment("4.min_anomaly_score=35").unwrap(),
            Assignment {
                block_id: 4,
                key: "min_anomaly_score".into(),
                raw_value: "35".into()
            }
        );
        for bad in [
            "4.min_score",
            "min_score=0.5",
            "x.min_score=1",
            "4.=1",
            "4.min_score=",
        ] {
            assert!(parse_assignment(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_are_checked_against_the_threshold() {
        let b = blocks();
        assert!(build_updates(&["3.min_score=0.7".into()], &b).is_ok());
        let problems = build_updates(
            &[
                "3.min_score=1.5".into(),
                "3.min_score=NaN".into(),
                "3.min_score=1e400".into(),
                "3.min_score=high".into(),
                "99.min_score=0.5".into(),
                "3.nope=0.5".into(),
                "23.anomaly_scoring_aggregation_method=median".into(),
                "23.anomaly_scoring_aggregation_method=0.5".into(),
            ],
            &b,
        )
        .unwrap_err();
        assert_eq!(problems.len(), 8, "{problems:#?}");
        assert!(problems[0].contains("within 0..1"));
        assert!(problems[1].contains("finite"));
        assert!(problems[2].contains("finite"));
        assert!(problems[3].contains("not a number"));
        assert!(problems[4].contains("block 99"));
        assert!(problems[5].contains("no threshold `nope`"));
        assert!(problems[6].contains("not an option"));
        let ok = build_updates(&["23.anomaly_scoring_aggregation_method=mean".into()], &b).unwrap();
        assert_eq!(ok[0].value, ThresholdValue::Text("mean".into()));
    }
}
