//! `ei-tune set`: one set-thresholds call with every value, checked before it goes, and
//! what became of it, in plain words.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::*;
use crate::api::BlockThresholds;
use crate::api::client::UnreadableBlock;
use crate::api::models::*;

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
    crate::thresholds::parse_value(threshold, raw).map_err(|e| format!("{}: {e}", threshold.key))
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
                crate::thresholds::keys_of(&block.thresholds)
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
pub async fn set(
    args: &ConnectionArgs,
    assignments: &[String],
    options: &SetArgs,
) -> Result<String, CommandError> {
    // Malformed arguments and files are refused before anything goes over the network.
    let assignments = checked_assignments(assignments)?;
    let assignments = assignments.as_slice();
    let file = options
        .from
        .as_deref()
        .map(read_thresholds_file)
        .transpose()?;
    let args = with_file_impulse(args, file.as_ref())?;
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
    refuse_unreadable(assignments, file.as_ref(), &all.unreadable)?;
    let blocks = all.blocks;
    let updates = merged_updates(assignments, file.as_ref(), &blocks)?;
    let request = SetImpulseThresholdsRequest {
        thresholds: updates,
        allow_creating_regenerate_model_testing_jobs: options.allow_jobs,
        force_run_regenerate_model_testing_in_job: None,
    };
    let outcome = connect::write_thresholds(
        &args,
        &t,
        &blocks,
        request.clone(),
        "set",
        Default::default(),
    )
    .await;
    let response = connect::applied(outcome, &request)?;
    match (response, options.json) {
        (Some(response), true) => {
            Ok(serde_json::to_string_pretty(&response).unwrap_or_default() + "\n")
        }
        (Some(response), false) => Ok(describe_set(&t.impulse, &request, &response)),
        (None, true) => Ok("{\n  \"applied\": true,\n  \"answerLost\": true\n}\n".into()),
        (None, false) => Ok(
            "The call's outcome was unknown, but read back, Studio holds every value: applied.\n"
                .into(),
        ),
    }
}

/// The assignments, the runner's form (`3.min_score=0.5,4.min_anomaly_score=0.3`, as
/// `list --runner` prints it) taken apart; every malformed one refused.
fn checked_assignments(assignments: &[String]) -> Result<Vec<String>, CommandError> {
    let assignments: Vec<String> = assignments
        .iter()
        .flat_map(|a| split_runner_form(a))
        .collect();
    let syntax: Vec<String> = assignments
        .iter()
        .filter_map(|a| parse_assignment(a).err())
        .collect();
    if !syntax.is_empty() {
        return Err(CommandError::usage(syntax.join("\n")));
    }
    Ok(assignments)
}

/// The connection options with the impulse a file was exported from, unless another was
/// given (refused).
fn with_file_impulse(
    args: &ConnectionArgs,
    file: Option<&ThresholdsFile>,
) -> Result<ConnectionArgs, CommandError> {
    let mut args = args.clone();
    if let Some(file_impulse) = file.and_then(|f| f.impulse_id) {
        match args.impulse {
            Some(given) if given != file_impulse => {
                return Err(CommandError::usage(format!(
                    "the file is for impulse {file_impulse}, not {given}"
                )));
            }
            _ => args.impulse = Some(file_impulse),
        }
    }
    Ok(args)
}

/// Refuses values for blocks whose thresholds could not be read.
fn refuse_unreadable(
    assignments: &[String],
    file: Option<&ThresholdsFile>,
    unreadable: &[UnreadableBlock],
) -> Result<(), CommandError> {
    let from_file = file
        .iter()
        .flat_map(|f| f.thresholds.iter().map(|u| u.block_id));
    let mut refused: Vec<String> = assignments
        .iter()
        .filter_map(|a| parse_assignment(a).ok().map(|a| a.block_id))
        .chain(from_file)
        .filter(|id| unreadable.iter().any(|u| u.block.id == *id))
        .map(|id| format!("block {id} could not be read (see the warning above)"))
        .collect();
    refused.dedup();
    if refused.is_empty() {
        Ok(())
    } else {
        Err(CommandError::failed(refused.join("\n")))
    }
}

/// The file's values, then the arguments' (which win); each checked against the blocks.
fn merged_updates(
    assignments: &[String],
    file: Option<&ThresholdsFile>,
    blocks: &[BlockThresholds],
) -> Result<Vec<ThresholdUpdate>, CommandError> {
    let mut updates = match file {
        Some(file) => file_updates(file, blocks).map_err(|p| CommandError::usage(p.join("\n")))?,
        None => Vec::new(),
    };
    refuse_contradictions(&updates, "the file")?;
    let given =
        build_updates(assignments, blocks).map_err(|p| CommandError::usage(p.join("\n")))?;
    refuse_contradictions(&given, "the arguments")?;
    for update in given {
        updates.retain(|u| !(u.block_id == update.block_id && u.key == update.key));
        updates.push(update);
    }
    if updates.is_empty() {
        return Err(CommandError::usage("nothing to set"));
    }
    Ok(updates)
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
        let typed = crate::thresholds::check_value(threshold, &u.value).map(|()| u.value.clone());
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
        assert!(
            problems[0].contains("min_score: 1.5 is outside 0..1"),
            "{}",
            problems[0]
        );
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

/// Set thresholds in one call: BLOCK.KEY=VALUE (e.g. 4.min_anomaly_score=0.45)
#[derive(Debug, Clone, clap::Args)]
pub struct SetArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// BLOCK.KEY=VALUE, as the deployment runner's --thresholds takes them
    #[arg(value_name = "BLOCK.KEY=VALUE", required_unless_present = "from")]
    pub assignments: Vec<String>,
    /// Apply a file written by `ei-tune export` (values given as arguments win)
    #[arg(long, value_name = "FILE")]
    pub from: Option<std::path::PathBuf>,
    /// Let Studio start a regeneration job (blocks further changes while it runs)
    #[arg(long)]
    pub allow_jobs: bool,
    /// Apply a --from file exported from another project
    #[arg(long)]
    pub other_project: bool,
    /// Print Studio's answer as JSON
    #[arg(long)]
    pub json: bool,
}

impl SetArgs {
    pub async fn run(self, context: &Context) -> Result<String, CommandError> {
        set(&context.connection, &self.assignments, &self).await
    }
}
