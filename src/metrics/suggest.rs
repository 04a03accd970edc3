//! Suggested thresholds: per threshold or all together, on an objective, with every
//! headline figure before and after and a warning where one gets much worse.
//!
//! A suggestion never leaves its threshold for a value that does not do strictly better
//! on the objective: the current value is always a candidate, and wins ties.

use serde::Serialize;

use super::objective::{Bounds, Costs, Objective};
use super::optimum;
use super::sweep::{self, Parameter};
use super::{Summary, TestSet, Thresholds};
use crate::api::BlockThresholds;
use crate::api::models::ThresholdValue;
use crate::thresholds::{Scale, scale_for};

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Request {
    /// `None`: each threshold's default ([`Objective::default_for`]).
    pub objective: Option<Objective>,
    pub costs: Option<Costs>,
    pub bounds: Bounds,
}

/// The figures a suggestion is judged on, before and after.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    pub accuracy: Option<f64>,
    pub balanced_accuracy: Option<f64>,
    pub macro_f1: Option<f64>,
    pub uncertain_rate: Option<f64>,
    pub missed_anomaly_rate: Option<f64>,
    pub false_alarm_rate: Option<f64>,
    pub cost_per_window: Option<f64>,
    /// Object detection: over all objects.
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub detection_f1: Option<f64>,
    pub map50: Option<f64>,
}

/// A headline figure: its name, how to read it from [`Figures`], and whether higher is
/// better.
pub struct Headline {
    pub name: &'static str,
    /// The name `check` and the history take: one word, no spaces.
    pub slug: &'static str,
    pub get: fn(&Figures) -> Option<f64>,
    pub higher_is_better: bool,
    pub percent: bool,
}

/// The figures a suggestion may not make much worse without a warning.
pub const HEADLINES: &[Headline] = &[
    Headline {
        name: "precision",
        slug: "precision",
        get: |f| f.precision,
        higher_is_better: true,
        percent: true,
    },
    Headline {
        name: "recall",
        slug: "recall",
        get: |f| f.recall,
        higher_is_better: true,
        percent: true,
    },
    Headline {
        name: "F1 (objects)",
        slug: "f1",
        get: |f| f.detection_f1,
        higher_is_better: true,
        percent: false,
    },
    Headline {
        name: "mAP@0.5",
        slug: "map50",
        get: |f| f.map50,
        higher_is_better: true,
        percent: false,
    },
    Headline {
        name: "accuracy",
        slug: "accuracy",
        get: |f| f.accuracy,
        higher_is_better: true,
        percent: true,
    },
    Headline {
        name: "balanced accuracy",
        slug: "balanced-accuracy",
        get: |f| f.balanced_accuracy,
        higher_is_better: true,
        percent: true,
    },
    Headline {
        name: "macro F1",
        slug: "macro-f1",
        get: |f| f.macro_f1,
        higher_is_better: true,
        percent: false,
    },
    Headline {
        name: "uncertain",
        slug: "uncertain",
        get: |f| f.uncertain_rate,
        higher_is_better: false,
        percent: true,
    },
    Headline {
        name: "missed anomalies",
        slug: "missed-anomalies",
        get: |f| f.missed_anomaly_rate,
        higher_is_better: false,
        percent: true,
    },
    Headline {
        name: "false alarms",
        slug: "false-alarms",
        get: |f| f.false_alarm_rate,
        higher_is_better: false,
        percent: true,
    },
];

impl Headline {
    /// A value of this figure as the panes, the history and the report show it:
    /// `91.2 %`, or `0.912` for a score.
    pub fn show(&self, value: f64) -> String {
        if self.percent {
            format!("{:.1} %", value * 100.0)
        } else {
            format!("{value:.3}")
        }
    }
}

impl Figures {
    /// Every headline figure known, by its slug.
    pub fn named(&self) -> std::collections::BTreeMap<String, f64> {
        HEADLINES
            .iter()
            .filter_map(|h| Some((h.slug.to_string(), (h.get)(self)?)))
            .collect()
    }

    pub fn of(s: &Summary, costs: Option<&Costs>) -> Self {
        Self {
            accuracy: s.accuracy(),
            balanced_accuracy: s.balanced_accuracy(),
            macro_f1: s.outcome_macro_f1(),
            uncertain_rate: s.macro_scores().and_then(|_| s.uncertain_rate()),
            missed_anomaly_rate: s.false_negative_rate(),
            false_alarm_rate: s.false_positive_rate(),
            cost_per_window: costs.and_then(|c| s.cost_per_window(c)),
            precision: s.detection.as_ref().and_then(|d| d.all.precision()),
            recall: s.detection.as_ref().and_then(|d| d.all.recall()),
            detection_f1: s.detection.as_ref().and_then(|d| d.all.f1()),
            map50: s.detection.as_ref().and_then(|d| d.all.ap50),
        }
    }

    /// Each headline figure that is worse in `after` by more than `bound`, in words.
    pub fn worse_than(&self, after: &Figures, bound: f64) -> Vec<String> {
        HEADLINES
            .iter()
            .filter_map(|h| {
                let (before, now) = ((h.get)(self)?, (h.get)(after)?);
                let loss = if h.higher_is_better {
                    before - now
                } else {
                    now - before
                };
                (loss > bound + 1e-9).then(|| {
                    if h.percent {
                        format!(
                            "{} {:.1} % → {:.1} % ({:.1} points worse; the bound is {:.0})",
                            h.name,
                            before * 100.0,
                            now * 100.0,
                            loss * 100.0,
                            bound * 100.0
                        )
                    } else {
                        format!(
                            "{} {before:.3} → {now:.3} ({loss:.3} worse; the bound is {bound:.2})",
                            h.name
                        )
                    }
                })
            })
            .collect()
    }
}

/// The objective a suggestion optimised, and why it was chosen.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Chosen {
    pub key: &'static str,
    pub name: String,
    pub why: String,
    #[serde(skip)]
    pub objective: Objective,
}

impl Chosen {
    fn new(objective: Objective, why: &str) -> Self {
        Self {
            key: objective.key(),
            name: objective.name(),
            why: why.to_string(),
            objective,
        }
    }

    /// Object detection's one objective, whatever was asked: F1 over all objects.
    fn detection() -> Self {
        Self {
            key: "detection-f1",
            name: "best F1 over the objects".into(),
            why: "it weighs false detections and missed objects alike (a detection counts at \
                  IoU 0.5, or with its centroid in the box for FOMO)"
                .into(),
            // Scores a detection summary by its F1 over all objects.
            objective: Objective::MacroF1,
        }
    }
}

/// One threshold's suggestion.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Suggestion {
    pub block_id: u64,
    pub key: String,
    pub objective: Chosen,
    pub current: f64,
    /// The best value; `None` when no value meets the objective's bound.
    pub suggested: Option<f64>,
    /// The objective's score at the current and the suggested value (higher is better).
    pub score_current: Option<f64>,
    pub score_suggested: Option<f64>,
    pub at_current: Figures,
    pub at_suggested: Option<Figures>,
    /// Headline figures that the suggestion makes worse by more than the bound.
    pub warnings: Vec<String>,
}

impl Suggestion {
    /// Whether it moves the threshold.
    pub fn changes(&self) -> bool {
        self.suggested.is_some_and(|v| v != self.current)
    }
}

/// Every numeric threshold tuned at once.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Joint {
    pub objective: Chosen,
    /// "grid 101 × 101, then exact along each axis", or "coordinate descent".
    pub method: String,
    /// (block id, key, current, suggested)
    pub values: Vec<JointValue>,
    pub score_current: Option<f64>,
    pub score_suggested: Option<f64>,
    /// The score of each threshold tuned alone (the others at their current values) and
    /// the results applied together: what tuning them together gains over it.
    pub score_one_at_a_time: Option<f64>,
    pub at_current: Figures,
    pub at_suggested: Figures,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JointValue {
    pub block_id: u64,
    pub key: String,
    pub current: f64,
    pub suggested: f64,
}

/// A numeric threshold that moves the metrics, and the values it is searched over.
struct Knob {
    block_id: u64,
    key: String,
    parameter: Parameter,
    current: f64,
    /// The joint grid's points along it.
    xs: Vec<f64>,
    /// The values it may take.
    range: Scale,
}

fn knobs(set: &TestSet, blocks: &[BlockThresholds]) -> Vec<Knob> {
    let mut out = Vec::new();
    for b in blocks {
        for t in &b.thresholds {
            let (Some(parameter), ThresholdValue::Number(current)) =
                (Parameter::of_key(b.block.kind.as_str(), &t.key), &t.value)
            else {
                continue;
            };
            // The whole span of the scores is searched, wherever the threshold sits and
            // whatever Studio suggests.
            let range = scale_for(t, None);
            let mut xs = sweep::search_points(parameter, &range, set);
            // Scores near ±1e308 stretch the span past what a double holds.
            xs.retain(|x| x.is_finite());
            out.push(Knob {
                block_id: b.block.id,
                key: t.key.clone(),
                parameter,
                current: *current,
                xs,
                range,
            });
        }
    }
    out
}

fn current_thresholds(blocks: &[BlockThresholds]) -> Thresholds {
    Thresholds::from_blocks(blocks.iter().flat_map(|b| {
        b.thresholds
            .iter()
            .map(|t| (b.block.kind.as_str(), t.key.as_str(), &t.value))
    }))
}

/// For every numeric threshold that moves the metrics, the value that optimises its
/// objective with the others at their current values.
pub fn suggestions(
    set: &TestSet,
    blocks: &[BlockThresholds],
    request: &Request,
) -> Vec<Suggestion> {
    let current = current_thresholds(blocks);
    let at_current = set.evaluate(&current);
    let costs = request.costs.as_ref();
    knobs(set, blocks)
        .into_iter()
        .map(|knob| {
            let chosen = match request.objective {
                _ if set.detection.is_some() => Chosen::detection(),
                Some(o) if o.applies_to(knob.parameter) => Chosen::new(o, "asked for"),
                Some(o) => Chosen::new(
                    o.for_parameter(knob.parameter),
                    &format!(
                        "{} does not move with {} (asked for: {})",
                        o.name(),
                        knob.key,
                        o.key()
                    ),
                ),
                None => {
                    let (o, why) = Objective::default_for(knob.parameter, request.costs);
                    Chosen::new(o, why)
                }
            };
            let found = optimum::best_move(
                set,
                &current,
                knob.parameter,
                &knob.range,
                &chosen.objective,
            );
            let before = Figures::of(&at_current, costs);
            let after = found
                .map(|(x, _)| Figures::of(&set.evaluate(&knob.parameter.set(&current, x)), costs));
            let warnings = after
                .map(|a| before.worse_than(&a, crate::defaults::GUARDRAIL))
                .unwrap_or_default();
            Suggestion {
                block_id: knob.block_id,
                key: knob.key,
                score_current: chosen.objective.score(&at_current),
                score_suggested: found.map(|(_, s)| s),
                objective: chosen,
                current: knob.current,
                suggested: found.map(|(x, _)| x),
                at_current: before,
                at_suggested: after,
                warnings,
            }
        })
        .collect()
}

/// The suggestions that move a threshold, applied together as `--apply` sends them: the
/// figures before and after, and the warnings of the whole change (each suggestion's own
/// were worked out with the others where they are).
pub fn combined(
    set: &TestSet,
    blocks: &[BlockThresholds],
    found: &[Suggestion],
    request: &Request,
) -> Option<(Figures, Figures, Vec<String>)> {
    let current = current_thresholds(blocks);
    let mut after = current;
    let mut moved = 0;
    for s in found.iter().filter(|s| s.changes()) {
        let block = blocks.iter().find(|b| b.block.id == s.block_id)?;
        let parameter = Parameter::of_key(block.block.kind.as_str(), &s.key)?;
        after = parameter.set(&after, s.suggested?);
        moved += 1;
    }
    if moved < 2 {
        return None;
    }
    let costs = request.costs.as_ref();
    let before = Figures::of(&set.evaluate(&current), costs);
    let after = Figures::of(&set.evaluate(&after), costs);
    let warnings = before.worse_than(&after, crate::defaults::GUARDRAIL);
    Some((before, after, warnings))
}

/// Every numeric threshold at once: a full grid for two, coordinate descent otherwise.
pub fn joint(set: &TestSet, blocks: &[BlockThresholds], request: &Request) -> Option<Joint> {
    let knobs = knobs(set, blocks);
    if knobs.len() < 2 {
        return None; // nothing to tune together
    }
    let chosen = joint_objective(request);
    let objective = chosen.objective;
    let current = current_thresholds(blocks);
    let score = |t: &Thresholds| objective.score(&set.evaluate(t));
    let (best, method) = if knobs.len() == 2 {
        (grid(set, &current, &knobs, &objective), "grid")
    } else {
        (
            descend(set, &current, &knobs, &objective),
            "coordinate descent",
        )
    };
    // Each alone, the others at their current values, then applied together.
    let mut alone = current;
    for knob in &knobs {
        if let Some((x, _)) =
            optimum::best_move(set, &current, knob.parameter, &knob.range, &objective)
        {
            alone = knob.parameter.set(&alone, x);
        }
    }
    // The thresholds' own suggestions, taken together, are a candidate too; from the
    // better start, each threshold goes to its exact best in turn: the point found is
    // exact along each axis, and never worse than the grid.
    let start = match (score(&alone), score(&best)) {
        (Some(a), b) if b.is_none_or(|b| a > b + 1e-12) => alone,
        _ => best,
    };
    let best = descend(set, &start, &knobs, &objective);
    let costs = request.costs.as_ref();
    let at_current = Figures::of(&set.evaluate(&current), costs);
    let at_suggested = Figures::of(&set.evaluate(&best), costs);
    Some(Joint {
        method: match method {
            "grid" => format!(
                "grid {} × {}, then exact along each axis",
                knobs[0].xs.len(),
                knobs[1].xs.len()
            ),
            other => other.to_string(),
        },
        values: knobs
            .iter()
            .map(|k| JointValue {
                block_id: k.block_id,
                key: k.key.clone(),
                current: k.current,
                suggested: k.parameter.get(&best),
            })
            .collect(),
        score_current: score(&current),
        score_suggested: score(&best),
        score_one_at_a_time: score(&alone),
        warnings: at_current.worse_than(&at_suggested, crate::defaults::GUARDRAIL),
        at_current,
        at_suggested,
        objective: chosen,
    })
}

/// What thresholds tuned together optimise: the objective asked for, else the cost with
/// `--cost`, else macro F1.
fn joint_objective(request: &Request) -> Chosen {
    match (request.objective, request.costs) {
        (Some(o), _) => Chosen::new(o, "asked for"),
        (None, Some(costs)) => Chosen::new(Objective::Cost(costs), "the costs given with --cost"),
        (None, None) => Chosen::new(
            Objective::MacroF1,
            "it covers every outcome, the anomaly one included, and counts uncertain \
             windows as wrong",
        ),
    }
}

/// The best point of the grid over two thresholds; the current point wins ties.
fn grid(set: &TestSet, current: &Thresholds, knobs: &[Knob], objective: &Objective) -> Thresholds {
    let decided = set.decided(current.aggregation);
    let mut best = (*current, objective.score(&decided.evaluate(current)));
    // Each axis holds the current value too: the grid then holds every combination of
    // the thresholds' own suggestions, and so never does worse than them.
    let axis = |k: &Knob| {
        k.xs.iter()
            .copied()
            .chain([k.current])
            .collect::<Vec<f64>>()
    };
    let (xs, ys) = (axis(&knobs[0]), axis(&knobs[1]));
    for &x in &xs {
        let row = knobs[0].parameter.set(current, x);
        for &y in &ys {
            let t = knobs[1].parameter.set(&row, y);
            // Among equals, the point that moves fewer thresholds: none moves for nothing.
            let moved = |t: &Thresholds| {
                knobs
                    .iter()
                    .filter(|k| k.parameter.get(t) != k.current)
                    .count()
            };
            if let Some(s) = objective.score(&decided.evaluate(&t))
                && best
                    .1
                    .is_none_or(|b| s > b + 1e-12 || (s > b - 1e-12 && moved(&t) < moved(&best.0)))
            {
                best = (t, Some(s));
            }
        }
    }
    best.0
}

/// Each threshold in turn to its best value, the others held, until nothing improves.
fn descend(
    set: &TestSet,
    current: &Thresholds,
    knobs: &[Knob],
    objective: &Objective,
) -> Thresholds {
    let mut at = *current;
    for _ in 0..20 {
        let before = objective.score(&set.evaluate(&at));
        for knob in knobs {
            if let Some((x, _)) =
                optimum::best_move(set, &at, knob.parameter, &knob.range, objective)
            {
                at = knob.parameter.set(&at, x);
            }
        }
        let after = objective.score(&set.evaluate(&at));
        if after.is_none() || after <= before.map(|b| b + 1e-12) {
            break;
        }
    }
    at
}

#[cfg(test)]
mod tests;
