//! `ei-tune results`: the model testing summary.

use std::fmt::Write as _;

use serde_json::json;

use super::*;
use crate::api::models::*;

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
    let detection = impulse
        .learn_blocks
        .iter()
        .any(|b| b.kind.is_object_detection());
    if detection {
        // Objects, not windows: good is found, bad is a false detection or a missed object.
        let _ = writeln!(
            out,
            "objects found {}, false detections and missed objects {}",
            a.total_summary.good, a.total_summary.bad
        );
    } else {
        let _ = writeln!(
            out,
            "accuracy {}  ({} good, {} bad)",
            percent(a.accuracy()),
            a.total_summary.good,
            a.total_summary.bad
        );
        let _ = writeln!(out, "balanced accuracy {}", percent(a.balanced_accuracy()));
    }
    if a.anomaly_accuracy_score.is_some() {
        let _ = writeln!(
            out,
            "anomalies caught {}  normal windows passed {}",
            percent(a.anomaly_accuracy_score),
            percent(a.no_anomaly_accuracy_score)
        );
    }
    additional_metrics(&mut out, summary);
    out.push('\n');
    out.push_str(&right_aligned(&if detection {
        per_class_objects(a)
    } else {
        confusion_matrix(a)
    }));
    out
}

/// Each learn block's own metrics, one line a block.
fn additional_metrics(out: &mut String, summary: &ModelTestingSummary) {
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
}

/// Object detection's table: each class's objects found, and false or missed.
fn per_class_objects(a: &ModelTestingAccuracy) -> Vec<Vec<String>> {
    let mut rows = vec![vec![
        "class".to_string(),
        "found".into(),
        "false or missed".into(),
    ]];
    for label in &a.all_labels {
        let gb = a.summary_per_class.get(label).copied().unwrap_or_default();
        rows.push(vec![label.clone(), gb.good.to_string(), gb.bad.to_string()]);
    }
    rows
}

/// The confusion matrix, with each class's good and bad.
fn confusion_matrix(a: &ModelTestingAccuracy) -> Vec<Vec<String>> {
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
    rows
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

/// Print the model testing summary: accuracy, per class, confusion matrix
#[derive(Debug, Clone, clap::Args)]
pub struct ResultsArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Print the summary as JSON
    #[arg(long)]
    pub json: bool,
}

impl ResultsArgs {
    pub async fn run(self, context: &Context) -> Result<String, CommandError> {
        results(&context.connection, self.json).await
    }
}
