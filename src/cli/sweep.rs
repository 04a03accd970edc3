//! `ei-tune sweep`: every figure across one threshold's range, or across a grid of two, for
//! scripts and plots.

use std::fmt::Write as _;

use serde_json::json;

use super::*;
use crate::api::BlockThresholds;
use crate::metrics::suggest::{Figures, HEADLINES};
use crate::metrics::sweep::{Parameter, points};
use crate::metrics::{TestSet, Thresholds};

/// The most points along one threshold (a two-threshold grid has at most its square).
pub const MAX_POINTS: usize = 401;

/// One swept threshold: its name, what it moves, the values it takes.
pub(super) struct Axis {
    pub name: String,
    pub parameter: Parameter,
    pub xs: Vec<f64>,
}

/// `ei-tune sweep`.
pub async fn sweep(args: &ConnectionArgs, options: &SweepArgs) -> Result<String, CommandError> {
    if options.keys.len() > 2 {
        return Err(CommandError::usage(
            "sweep takes one or two BLOCK.KEY thresholds",
        ));
    }
    if !(2..=MAX_POINTS).contains(&options.points) {
        return Err(CommandError::usage(format!(
            "--points takes 2 to {MAX_POINTS}"
        )));
    }
    let t = target(args).await?;
    let blocks = t.thresholds().await?;
    let scores = t.scores("", false).await?;
    let set = &*scores.set;
    let axes = axes(&blocks, &options.keys, set, options.points)?;
    if axes.len() == 2 && axes[0].parameter == axes[1].parameter {
        return Err(CommandError::usage(
            "the two thresholds move the same figure: sweep them one at a time",
        ));
    }
    let saved = connect::saved_thresholds(&blocks);
    let rows = grid(set, &saved, &axes);
    Ok(if options.json {
        as_json(t.impulse.id, &axes, &rows, scores.from)
    } else {
        // CSV is the text form too: it reads in a terminal and in every plotting tool.
        as_csv(&axes, &rows)
    })
}

/// Every threshold that moves the figures, as `BLOCK.KEY`.
pub(super) fn moving_keys(blocks: &[BlockThresholds]) -> Vec<String> {
    blocks
        .iter()
        .flat_map(|b| {
            b.thresholds.iter().filter_map(move |t| {
                Parameter::of_key(b.block.kind.as_str(), &t.key)?;
                Some(format!("{}.{}", b.block.id, t.key))
            })
        })
        .collect()
}

/// The axes named by `keys` (or the first threshold that moves the figures).
pub(super) fn axes(
    blocks: &[BlockThresholds],
    keys: &[String],
    set: &TestSet,
    count: usize,
) -> Result<Vec<Axis>, CommandError> {
    let all: Vec<(String, Parameter, &crate::api::models::BlockThreshold)> = blocks
        .iter()
        .flat_map(|b| {
            b.thresholds.iter().filter_map(move |t| {
                let parameter = Parameter::of_key(b.block.kind.as_str(), &t.key)?;
                Some((format!("{}.{}", b.block.id, t.key), parameter, t))
            })
        })
        .collect();
    let chosen: Vec<&(String, Parameter, &crate::api::models::BlockThreshold)> = if keys.is_empty()
    {
        all.iter().take(1).collect()
    } else {
        keys.iter()
            .map(|k| {
                all.iter().find(|(name, _, _)| name == k).ok_or_else(|| {
                    let names: Vec<&str> = all.iter().map(|(n, _, _)| n.as_str()).collect();
                    CommandError::usage(format!(
                        "`{}` is not a threshold that moves the figures; these are: {}",
                        crate::text::clean(k),
                        names.join(", ")
                    ))
                })
            })
            .collect::<Result<_, _>>()?
    };
    if chosen.is_empty() {
        return Err(CommandError::failed(
            "this impulse has no threshold that moves the figures",
        ));
    }
    Ok(chosen
        .into_iter()
        .map(|(name, parameter, threshold)| {
            let span = match parameter {
                Parameter::MinAnomalyScore => set.anomaly_span(),
                Parameter::MinScore => None,
            };
            let scale = crate::thresholds::scale_for(threshold, span);
            let xs = points(scale.min, scale.max, count)
                .into_iter()
                .map(|x| scale.clean(x))
                .collect();
            Axis {
                name: name.clone(),
                parameter: *parameter,
                xs,
            }
        })
        .collect())
}

/// The figures at every point: (values of the axes, figures).
pub(super) fn grid(set: &TestSet, saved: &Thresholds, axes: &[Axis]) -> Vec<(Vec<f64>, Figures)> {
    let decided = set.decided(saved.aggregation);
    let at = |thresholds: &Thresholds| Figures::of(&decided.evaluate(thresholds), None);
    match axes {
        [x] => {
            x.xs.iter()
                .map(|&a| (vec![a], at(&x.parameter.set(saved, a))))
                .collect()
        }
        [x, y] => {
            x.xs.iter()
                .flat_map(|&a| {
                    y.xs.iter().map(move |&b| {
                        let thresholds = y.parameter.set(&x.parameter.set(saved, a), b);
                        (vec![a, b], thresholds)
                    })
                })
                .map(|(values, thresholds)| (values, at(&thresholds)))
                .collect()
        }
        _ => Vec::new(),
    }
}

/// The figures that exist for this impulse (those some point has).
fn figure_columns(rows: &[(Vec<f64>, Figures)]) -> Vec<&'static crate::metrics::suggest::Headline> {
    HEADLINES
        .iter()
        .filter(|h| rows.iter().any(|(_, f)| (h.get)(f).is_some()))
        .collect()
}

fn as_csv(axes: &[Axis], rows: &[(Vec<f64>, Figures)]) -> String {
    let columns = figure_columns(rows);
    let mut out: Vec<String> = axes.iter().map(|a| a.name.clone()).collect();
    out.extend(columns.iter().map(|h| h.slug.to_string()));
    let mut text = out.join(",") + "\n";
    for (values, figures) in rows {
        let mut cells: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        cells.extend(
            columns
                .iter()
                .map(|h| (h.get)(figures).map_or_else(String::new, |v| format!("{v:.6}"))),
        );
        let _ = writeln!(text, "{}", cells.join(","));
    }
    text
}

fn as_json(
    impulse: u64,
    axes: &[Axis],
    rows: &[(Vec<f64>, Figures)],
    from: crate::metrics::ScoresFrom,
) -> String {
    let columns = figure_columns(rows);
    let points: Vec<serde_json::Value> = rows
        .iter()
        .map(|(values, figures)| {
            let mut point = serde_json::Map::new();
            for (axis, v) in axes.iter().zip(values) {
                point.insert(axis.name.clone(), json!(v));
            }
            for h in &columns {
                point.insert(h.slug.to_string(), json!((h.get)(figures)));
            }
            serde_json::Value::Object(point)
        })
        .collect();
    serde_json::to_string_pretty(&json!({
        "impulseId": impulse,
        "thresholds": axes.iter().map(|a| &a.name).collect::<Vec<_>>(),
        "scores": from.to_json(),
        "points": points,
    }))
    .unwrap_or_default()
        + "\n"
}

/// Every figure across one threshold's range, or a grid of two, as CSV or JSON
#[derive(Debug, Clone, clap::Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// One or two thresholds as BLOCK.KEY (default: the first that moves the figures)
    #[arg(value_name = "BLOCK.KEY")]
    pub keys: Vec<String>,
    /// Points along each threshold (a grid of two has their square)
    #[arg(long, default_value_t = 101, value_name = "N")]
    pub points: usize,
    /// JSON instead of CSV
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV (the default)
    #[arg(long)]
    pub csv: bool,
}

impl SweepArgs {
    pub async fn run(self, context: &Context) -> Result<String, CommandError> {
        sweep(&context.connection, &self).await
    }
}
