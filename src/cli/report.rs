//! `ei-tune report FILE.html`: the impulse, its thresholds and why, in one file to share.

use std::path::Path;
use std::time::SystemTime;

use super::*;
use crate::api::BlockThresholds;
use crate::history::Entry;
use crate::metrics::{TestSet, Thresholds};
use crate::report::{Report, SweepChart, render};

/// Points along each threshold's sweep, as the tuner's chart.
const SWEEP_POINTS: usize = 101;

/// `ei-tune report`.
pub async fn report(args: &ConnectionArgs, file: &Path) -> Result<String, CommandError> {
    // A path that cannot be written is said before anything is read from Studio.
    if file != Path::new("-") {
        crate::text::check_writable(file).map_err(|e| CommandError::cannot_write(file, &e))?;
    }
    let t = target(args).await?;
    let blocks = t.evaluable_thresholds().await?;
    let scores = t
        .scores(
            "nothing to report (ei-tune regenerate brings results back): ",
            false,
        )
        .await?;
    let set = &*scores.set;
    let saved = connect::saved_thresholds(&blocks);
    let summary = set.evaluate(&saved);
    let sweeps = sweep_charts(&blocks, set, &saved)?;
    let history = history_of(args, t.project, t.impulse.id);
    let origin = crate::cache::origin_of(args.host());
    let written = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let html = render(&Report {
        origin: &origin,
        project: t.project,
        impulse: &t.impulse,
        blocks: &blocks,
        set,
        scores_from: scores.from,
        summary: &summary,
        sweeps: &sweeps,
        history: &history,
        written: &written,
    });
    if file == Path::new("-") {
        return Ok(html);
    }
    crate::text::write_whole(file, html.as_bytes())
        .map_err(|e| CommandError::cannot_write(file, &e))?;
    Ok(format!(
        "Wrote {} ({} KB): impulse {}, {} threshold sweep(s), {} call(s) of history.\n",
        file.display(),
        html.len().div_ceil(1024),
        t.impulse.id,
        sweeps.len(),
        history.len()
    ))
}

/// A sweep of each threshold that moves the figures.
fn sweep_charts(
    blocks: &[BlockThresholds],
    set: &TestSet,
    saved: &Thresholds,
) -> Result<Vec<SweepChart>, CommandError> {
    let keys = sweep::moving_keys(blocks);
    let axes = if keys.is_empty() {
        Vec::new()
    } else {
        sweep::axes(blocks, &keys, set, SWEEP_POINTS)?
    };
    Ok(axes
        .into_iter()
        .filter_map(|axis| {
            let rows = sweep::grid(set, saved, std::slice::from_ref(&axis));
            let (parameter, xs) = axis.numbers()?;
            Some(SweepChart {
                saved: parameter.get(saved),
                xs: xs.to_vec(),
                name: axis.name,
                figures: rows.into_iter().map(|(_, figures)| figures).collect(),
            })
        })
        .collect())
}

/// The impulse's calls in the history, or none (said on standard error) when it cannot
/// be read.
fn history_of(args: &ConnectionArgs, project: u64, impulse: u64) -> Vec<Entry> {
    match connect::recorder(args).map(|r| r.read_impulse(project, impulse)) {
        Some(Ok(reading)) => {
            if let Some(warning) = reading.warning() {
                eprintln!("warning: {warning}");
            }
            reading.entries
        }
        Some(Err(e)) => {
            eprintln!("warning: the history is left out: {e}");
            Vec::new()
        }
        None => Vec::new(),
    }
}

/// One self-contained HTML file (no script, nothing fetched) on why the thresholds are
/// what they are: thresholds, figures, per class, confusion matrix, sweeps, history
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Where to write it, e.g. report.html; - for standard output
    #[arg(value_name = "FILE.html")]
    pub file: std::path::PathBuf,
}

impl ReportArgs {
    pub async fn run(self, context: &Context) -> Result<String, CommandError> {
        report(&context.connection, &self.file).await
    }
}
