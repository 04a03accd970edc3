//! `ei-tune list`: every threshold of the impulse, as a table, JSON or the runner's form.

use std::fmt::Write as _;

use serde_json::json;

use super::*;
use crate::api::BlockThresholds;
use crate::api::models::*;

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

/// `ei-tune list --runner`: `--thresholds BLOCK.KEY=VALUE,...` for the numeric thresholds;
/// string ones follow on lines of their own, commented.
pub async fn list_runner(args: &ConnectionArgs) -> Result<String, CommandError> {
    let t = target(args).await?;
    let blocks = t.thresholds().await?;
    Ok(runner_argument(&blocks))
}

pub fn runner_argument(blocks: &[BlockThresholds]) -> String {
    let mut numeric = Vec::new();
    let mut strings = Vec::new();
    let mut unsafe_keys = Vec::new();
    for b in blocks {
        for t in &b.thresholds {
            // The line is meant to be pasted into a shell: a key that is not a plain word
            // (a server's `;`, `,`, `=` or space) is left out and named, never printed raw.
            if !crate::thresholds::is_plain_key(&t.key) {
                unsafe_keys.push(format!("{}.{}", b.block.id, crate::text::clean(&t.key)));
                continue;
            }
            let entry = format!("{}.{}={}", b.block.id, t.key, t.value);
            match t.value {
                ThresholdValue::Number(_) => numeric.push(entry),
                ThresholdValue::Text(_) => strings.push(crate::text::clean(&entry)),
            }
        }
    }
    // Quoted, so that nothing in it is read by the shell.
    let mut out = format!("--thresholds '{}'\n", numeric.join(","));
    if !unsafe_keys.is_empty() {
        let _ = writeln!(
            out,
            "# left out, keys that are not plain words: {}",
            unsafe_keys.join(" ")
        );
    }
    if !strings.is_empty() {
        let _ = writeln!(
            out,
            "# not numeric, so not for --thresholds: {}",
            strings.join(" ")
        );
    }
    out
}

/// Print every threshold of the impulse
#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// A JSON array, one object per threshold
    #[arg(long, conflicts_with = "runner")]
    pub json: bool,
    /// The deployment runner's argument: --thresholds BLOCK.KEY=VALUE,...
    #[arg(long)]
    pub runner: bool,
}

impl ListArgs {
    pub async fn run(self, context: &Context) -> Result<String, CommandError> {
        if self.runner {
            list_runner(&context.connection).await
        } else {
            list(&context.connection, self.json).await
        }
    }
}
