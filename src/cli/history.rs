//! `ei-tune history`: the set-thresholds calls written down, oldest first.

use std::fmt::Write as _;

use super::*;
use crate::history::{Entry, History};

/// `ei-tune history`: reads no server, only the file; `--project`, `--impulse`, `--origin`
/// and `--last` narrow it.
pub fn history(options: &HistoryArgs) -> Result<String, CommandError> {
    let history = History::default_location().ok_or_else(|| {
        CommandError::failed("no state directory on this system: set EI_TUNE_STATE_DIR")
    })?;
    let reading = history
        .read()
        .map_err(|e| CommandError::failed(format!("cannot read the history: {e}")))?;
    if let Some(warning) = reading.warning() {
        eprintln!("warning: {warning} ({})", history.path().display());
    }
    let origin = options.origin.as_deref().map(|o| {
        if o == "demo" {
            o.to_string()
        } else {
            crate::cache::origin_of(o)
        }
    });
    let written = reading.entries.len();
    let mut entries: Vec<Entry> = reading
        .entries
        .into_iter()
        .filter(|e| origin.as_ref().is_none_or(|o| e.origin == *o))
        .filter(|e| options.project.is_none_or(|p| e.call.project == p))
        .filter(|e| options.impulse.is_none_or(|i| e.call.impulse == i))
        .collect();
    if let Some(last) = options.last {
        entries.drain(..entries.len().saturating_sub(last));
    }
    if options.json {
        return Ok(serde_json::to_string_pretty(&entries).unwrap_or_default() + "\n");
    }
    if entries.is_empty() {
        return Ok(nothing_matches(options, written, history.path()));
    }
    Ok(as_text(&entries))
}

/// Why nothing is listed: no call written at all, or none of those written matches.
fn nothing_matches(options: &HistoryArgs, written: usize, path: &std::path::Path) -> String {
    if written == 0 {
        return format!(
            "No set-thresholds calls written down yet ({}).\n",
            path.display()
        );
    }
    let mut filters = Vec::new();
    filters.extend(options.project.map(|p| format!("project {p}")));
    filters.extend(options.impulse.map(|i| format!("impulse {i}")));
    filters.extend(options.origin.as_ref().map(|o| format!("origin {o}")));
    filters.extend(options.last.map(|n| format!("the last {n}")));
    format!(
        "No call of {} among the {written} in {} (--project may come from EI_PROJECT_ID).\n",
        crate::text::clean(&filters.join(", ")),
        path.display()
    )
}

/// A call a line, its figures on the next.
fn as_text(entries: &[Entry]) -> String {
    let mut out = String::new();
    for e in entries {
        let figures = e.figures();
        let _ = writeln!(
            out,
            "{}  {}  project {} impulse {} ({})  by {}: {}  {}{}",
            e.when(),
            crate::text::clean(&e.origin),
            e.call.project,
            e.call.impulse,
            crate::text::clean(&e.call.impulse_name),
            crate::text::clean(&e.call.by),
            e.call.changes_line(),
            e.call.answer.summary(),
            if figures.is_empty() {
                String::new()
            } else {
                format!("\n    {}", figures.join(" · "))
            }
        );
    }
    out
}

/// The set-thresholds calls ei-tune made (the tuner's and the commands'), oldest first
#[derive(Debug, Clone, clap::Args)]
pub struct HistoryArgs {
    /// Only calls to this project
    #[arg(long, env = "EI_PROJECT_ID", hide_env_values = true, value_name = "ID")]
    pub project: Option<u64>,
    /// Only calls to this impulse
    #[arg(long, value_name = "ID")]
    pub impulse: Option<u64>,
    /// Only calls to this origin (e.g. https://studio.edgeimpulse.com, or demo)
    #[arg(long, value_name = "ORIGIN")]
    pub origin: Option<String>,
    /// Only the newest N calls
    #[arg(long, value_name = "N")]
    pub last: Option<usize>,
    /// JSON: an array of the calls as written
    #[arg(long)]
    pub json: bool,
}

impl HistoryArgs {
    /// The project and impulse given before the subcommand narrow it too.
    pub fn run(mut self, context: &Context) -> Result<String, CommandError> {
        self.project = self.project.or(context.connection.project);
        self.impulse = self.impulse.or(context.connection.impulse);
        history(&self)
    }
}
