//! `ei-tune sweep`: every figure across one threshold's range, or across a grid of two, for
//! scripts and plots.

use std::fmt::Write as _;

use serde_json::json;

use super::*;
use crate::api::BlockThresholds;
use crate::metrics::suggest::{Figures, HEADLINES};
use crate::metrics::sweep::{Parameter, points};
use crate::metrics::{Aggregation, TestSet, Thresholds};

/// The most points along one threshold (a two-threshold grid has at most its square).
pub const MAX_POINTS: usize = 401;

/// One swept threshold: its name and the values it takes.
pub(super) struct Axis {
    pub name: String,
    pub values: Values,
}

/// A numeric threshold's points, or a dropdown's options (one point each).
pub(super) enum Values {
    Numbers {
        parameter: Parameter,
        xs: Vec<f64>,
    },
    /// The visual anomaly aggregation: each option as served, and what it means.
    Options(Vec<(String, Aggregation)>),
}

impl Axis {
    fn len(&self) -> usize {
        match &self.values {
            Values::Numbers { xs, .. } => xs.len(),
            Values::Options(options) => options.len(),
        }
    }

    /// `base` with this threshold at its `i`th value.
    fn at(&self, base: &Thresholds, i: usize) -> Thresholds {
        match &self.values {
            Values::Numbers { parameter, xs } => parameter.set(base, xs[i]),
            Values::Options(options) => Thresholds {
                aggregation: options[i].1,
                ..*base
            },
        }
    }

    fn json(&self, i: usize) -> serde_json::Value {
        match &self.values {
            Values::Numbers { xs, .. } => json!(xs[i]),
            Values::Options(options) => json!(options[i].0),
        }
    }

    /// A CSV cell: an option is quoted when it holds what would split the row.
    fn cell(&self, i: usize) -> String {
        match &self.values {
            Values::Numbers { xs, .. } => xs[i].to_string(),
            Values::Options(options) => {
                let text = crate::text::clean(&options[i].0);
                if text.contains([',', '"']) {
                    format!("\"{}\"", text.replace('"', "\"\""))
                } else {
                    text
                }
            }
        }
    }

    /// The numeric threshold swept, if this axis is one.
    pub(super) fn numbers(&self) -> Option<(Parameter, &[f64])> {
        match &self.values {
            Values::Numbers { parameter, xs } => Some((*parameter, xs)),
            Values::Options(_) => None,
        }
    }
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
    let blocks = t.evaluable_thresholds().await?;
    let scores = t.scores("", false).await?;
    let set = &*scores.set;
    let axes = axes(&blocks, &options.keys, set, options.points)?;
    if let [x, y] = &axes[..]
        && x.numbers().map(|(p, _)| p) == y.numbers().map(|(p, _)| p)
    {
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

/// What a threshold that moves the figures is swept over.
enum Moves {
    Number(Parameter),
    Options(Vec<(String, Aggregation)>),
}

/// Every threshold that moves the figures of `set`, as (`BLOCK.KEY`, threshold, how): the
/// numeric ones, and the visual anomaly aggregation where the scores have both (its
/// options this version knows).
fn candidates<'a>(
    blocks: &'a [BlockThresholds],
    set: &TestSet,
) -> Vec<(String, &'a crate::api::models::BlockThreshold, Moves)> {
    let aggregates = set.aggregates();
    blocks
        .iter()
        .flat_map(|b| {
            b.thresholds.iter().filter_map(move |t| {
                let moves = match Parameter::of_key(b.block.kind.as_str(), &t.key) {
                    Some(parameter) => Moves::Number(parameter),
                    None if aggregates && t.key == Aggregation::KEY => Moves::Options(
                        Aggregation::options(t.options()?.iter().map(|o| o.value.as_str())),
                    ),
                    None => return None,
                };
                Some((format!("{}.{}", b.block.id, t.key), t, moves))
            })
        })
        .filter(|(_, _, moves)| !matches!(moves, Moves::Options(o) if o.is_empty()))
        .collect()
}

/// The axes named by `keys` (or the first threshold that moves the figures).
pub(super) fn axes(
    blocks: &[BlockThresholds],
    keys: &[String],
    set: &TestSet,
    count: usize,
) -> Result<Vec<Axis>, CommandError> {
    let all = candidates(blocks, set);
    let names: Vec<String> = all.iter().map(|(n, _, _)| n.clone()).collect();
    let chosen: Vec<usize> = if keys.is_empty() {
        (0..all.len().min(1)).collect()
    } else {
        keys.iter()
            .map(|k| {
                names.iter().position(|name| name == k).ok_or_else(|| {
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
    if chosen.len() == 2 && chosen[0] == chosen[1] {
        return Err(CommandError::usage(
            "the same threshold twice: name two thresholds, or one",
        ));
    }
    Ok(chosen
        .into_iter()
        .map(|i| {
            let (name, threshold, moves) = &all[i];
            let values = match moves {
                Moves::Number(parameter) => {
                    let span = match parameter {
                        Parameter::MinAnomalyScore => set.anomaly_span(),
                        Parameter::MinScore => None,
                    };
                    let scale = crate::thresholds::scale_for(threshold, span);
                    let xs = points(scale.min, scale.max, count)
                        .into_iter()
                        .map(|x| scale.clean(x))
                        .collect();
                    Values::Numbers {
                        parameter: *parameter,
                        xs,
                    }
                }
                Moves::Options(options) => Values::Options(options.clone()),
            };
            Axis {
                name: name.clone(),
                values,
            }
        })
        .collect())
}

/// The figures at every point: (the index of each axis's value, figures).
pub(super) fn grid(set: &TestSet, saved: &Thresholds, axes: &[Axis]) -> Vec<(Vec<usize>, Figures)> {
    let points: Vec<Vec<usize>> = match axes {
        [x] => (0..x.len()).map(|i| vec![i]).collect(),
        [x, y] => (0..x.len())
            .flat_map(|i| (0..y.len()).map(move |j| vec![i, j]))
            .collect(),
        _ => Vec::new(),
    };
    // The scores as each aggregation decides them, worked out once for all its points.
    let mut decided = Vec::new();
    points
        .into_iter()
        .map(|point| {
            let thresholds = axes
                .iter()
                .zip(&point)
                .fold(*saved, |t, (axis, &i)| axis.at(&t, i));
            let slot = match decided
                .iter()
                .position(|(a, _)| *a == thresholds.aggregation)
            {
                Some(slot) => slot,
                None => {
                    decided.push((thresholds.aggregation, set.decided(thresholds.aggregation)));
                    decided.len() - 1
                }
            };
            let figures = Figures::of(&decided[slot].1.evaluate(&thresholds), None);
            (point, figures)
        })
        .collect()
}

/// The figures that exist for this impulse (those some point has).
fn figure_columns(
    rows: &[(Vec<usize>, Figures)],
) -> Vec<&'static crate::metrics::suggest::Headline> {
    HEADLINES
        .iter()
        .filter(|h| rows.iter().any(|(_, f)| (h.get)(f).is_some()))
        .collect()
}

fn as_csv(axes: &[Axis], rows: &[(Vec<usize>, Figures)]) -> String {
    let columns = figure_columns(rows);
    let mut out: Vec<String> = axes.iter().map(|a| a.name.clone()).collect();
    out.extend(columns.iter().map(|h| h.slug.to_string()));
    let mut text = out.join(",") + "\n";
    for (values, figures) in rows {
        let mut cells: Vec<String> = axes.iter().zip(values).map(|(a, &i)| a.cell(i)).collect();
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
    rows: &[(Vec<usize>, Figures)],
    from: crate::metrics::ScoresFrom,
) -> String {
    let columns = figure_columns(rows);
    let points: Vec<serde_json::Value> = rows
        .iter()
        .map(|(values, figures)| {
            let mut point = serde_json::Map::new();
            for (axis, &i) in axes.iter().zip(values) {
                point.insert(axis.name.clone(), axis.json(i));
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
    /// Points along each numeric threshold (a grid of two has their square; a dropdown
    /// has one point per option)
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
