//! Suggested thresholds: per threshold or all together, on an objective, with every
//! headline figure before and after and a warning where one gets much worse.
//!
//! A suggestion never leaves its threshold for a value that does not do strictly better
//! on the objective: the current value is always a candidate, and wins ties.

use serde::Serialize;

use super::objective::{Bounds, Costs, Objective};
use super::optimum;
use super::sweep::{self, Parameter};
use super::{Aggregation, Summary, TestSet, Thresholds};
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
                            "{} {:.1} % → {:.1} % ({:.1} points worse; warned past {:.0})",
                            h.name,
                            before * 100.0,
                            now * 100.0,
                            loss * 100.0,
                            bound * 100.0
                        )
                    } else {
                        format!(
                            "{} {before:.3} → {now:.3} ({loss:.3} worse; warned past {bound:.2})",
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

/// One threshold's suggestion: a number, or for a dropdown that moves the figures (the
/// visual anomaly aggregation) one of its options.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Suggestion {
    pub block_id: u64,
    pub key: String,
    pub objective: Chosen,
    pub current: ThresholdValue,
    /// The best value; `None` when no value meets the objective's bound.
    pub suggested: Option<ThresholdValue>,
    /// The objective's score at the current and the suggested value (higher is better).
    pub score_current: Option<f64>,
    pub score_suggested: Option<f64>,
    pub at_current: Figures,
    pub at_suggested: Option<Figures>,
    /// Headline figures that the suggestion makes worse by more than the bound.
    pub warnings: Vec<String>,
    /// Other thresholds the suggested value is judged with, and sent with: another
    /// aggregation option puts the scores on another scale, so it comes with the anomaly
    /// threshold's best value for it.
    pub with: Vec<JointValue>,
}

impl Suggestion {
    /// Whether it moves the threshold.
    pub fn changes(&self) -> bool {
        self.suggested.as_ref().is_some_and(|v| *v != self.current)
    }
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

/// A dropdown threshold whose options move the metrics: the visual anomaly aggregation,
/// with the options the scores can be evaluated at (those this version knows).
struct Choice {
    block_id: u64,
    key: String,
    current: String,
    options: Vec<(String, Aggregation)>,
}

fn choices(set: &TestSet, blocks: &[BlockThresholds]) -> Vec<Choice> {
    if !set.aggregates() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for b in blocks {
        for t in &b.thresholds {
            let (Aggregation::KEY, ThresholdValue::Text(current)) = (t.key.as_str(), &t.value)
            else {
                continue;
            };
            let options = Aggregation::options(
                t.options()
                    .unwrap_or_default()
                    .iter()
                    .map(|o| o.value.as_str()),
            );
            // An option this version cannot evaluate leaves the figures unknown.
            if options.len() >= 2 && Aggregation::parse(current).is_some() {
                out.push(Choice {
                    block_id: b.block.id,
                    key: t.key.clone(),
                    current: current.clone(),
                    options,
                });
            }
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

/// For every threshold that moves the metrics, the value that optimises its objective with
/// the others at their current values: numbers first, then the aggregation's options.
pub fn suggestions(
    set: &TestSet,
    blocks: &[BlockThresholds],
    request: &Request,
) -> Vec<Suggestion> {
    let current = current_thresholds(blocks);
    let start = Start {
        set,
        at_current: set.evaluate(&current),
        costs: request.costs,
    };
    let numbers = knobs(set, blocks).into_iter().map(|knob| {
        let chosen = chosen_for(set, request, knob.parameter, &knob.key);
        let found = optimum::best_move(
            set,
            &current,
            knob.parameter,
            &knob.range,
            &chosen.objective,
        )
        .map(|(x, score)| Found {
            value: ThresholdValue::Number(x),
            at: knob.parameter.set(&current, x),
            score,
            with: Vec::new(),
        });
        let current = ThresholdValue::Number(knob.current);
        start.suggestion(knob.block_id, knob.key, current, chosen, found)
    });
    let knobs = knobs(set, blocks);
    let options = choices(set, blocks).into_iter().map(|choice| {
        // The aggregation decides which windows are flagged: it is judged as the anomaly
        // threshold is, each option at that threshold's best value for it.
        let chosen = chosen_for(set, request, Parameter::MinAnomalyScore, &choice.key);
        let partner = anomaly_knob(&knobs, choice.block_id);
        let found = best_option(set, &current, &choice, partner, &chosen.objective);
        let current = ThresholdValue::Text(choice.current);
        start.suggestion(choice.block_id, choice.key, current, chosen, found)
    });
    numbers.chain(options).collect()
}

/// What a threshold's suggestion optimises: object detection's one objective, the one
/// asked for where it applies, else the threshold's default.
fn chosen_for(set: &TestSet, request: &Request, parameter: Parameter, key: &str) -> Chosen {
    match request.objective {
        _ if set.detection.is_some() => Chosen::detection(),
        Some(o) if o.applies_to(parameter) => Chosen::new(o, "asked for"),
        Some(o) => Chosen::new(
            o.for_parameter(parameter),
            &format!(
                "{} does not move with {key} (asked for: {})",
                o.name(),
                o.key()
            ),
        ),
        None => {
            let (o, why) = Objective::default_for(parameter, request.costs);
            Chosen::new(o, why)
        }
    }
}

/// The anomaly threshold that moves with an aggregation option: the same block's, else
/// the impulse's only one.
fn anomaly_knob(knobs: &[Knob], block_id: u64) -> Option<&Knob> {
    let anomaly = || {
        knobs
            .iter()
            .filter(|k| k.parameter == Parameter::MinAnomalyScore)
    };
    anomaly()
        .find(|k| k.block_id == block_id)
        .or_else(|| anomaly().next())
}

/// The option that scores best, each at the anomaly threshold's best value for it; the
/// current one wins ties, and then nothing moves.
fn best_option(
    set: &TestSet,
    current: &Thresholds,
    choice: &Choice,
    partner: Option<&Knob>,
    objective: &Objective,
) -> Option<Found> {
    let range = partner.map(|k| &k.range);
    let swept = sweep::sweep_options(set, current, &choice.options, range, objective);
    let best = &swept.points[swept.best?];
    if best.aggregation == current.aggregation {
        return Some(Found {
            value: ThresholdValue::Text(choice.current.clone()),
            at: *current,
            score: objective.score(&set.evaluate(current))?,
            with: Vec::new(),
        });
    }
    let mut at = Thresholds {
        aggregation: best.aggregation,
        ..*current
    };
    let mut with = Vec::new();
    if let (Some(knob), Some((x, _))) = (partner, best.best_with)
        && x != knob.current
    {
        at = knob.parameter.set(&at, x);
        with.push(JointValue {
            block_id: knob.block_id,
            key: knob.key.clone(),
            current: ThresholdValue::Number(knob.current),
            suggested: ThresholdValue::Number(x),
        });
    }
    Some(Found {
        value: ThresholdValue::Text(best.value.clone()),
        at,
        score: best.judged()?,
        with,
    })
}

/// A threshold's best value, the thresholds with it, and the objective's score there.
struct Found {
    value: ThresholdValue,
    at: Thresholds,
    score: f64,
    with: Vec<JointValue>,
}

/// Where suggestions start from: the figures at the current thresholds.
struct Start<'a> {
    set: &'a TestSet,
    at_current: Summary,
    costs: Option<Costs>,
}

impl Start<'_> {
    fn suggestion(
        &self,
        block_id: u64,
        key: String,
        current: ThresholdValue,
        objective: Chosen,
        found: Option<Found>,
    ) -> Suggestion {
        let costs = self.costs.as_ref();
        let before = Figures::of(&self.at_current, costs);
        let after = found
            .as_ref()
            .map(|f| Figures::of(&self.set.evaluate(&f.at), costs));
        let warnings = after
            .map(|a| before.worse_than(&a, crate::defaults::GUARDRAIL))
            .unwrap_or_default();
        let found_score = found.as_ref().map(|f| f.score);
        let (suggested, with) = found.map_or((None, Vec::new()), |f| (Some(f.value), f.with));
        Suggestion {
            block_id,
            key,
            score_current: objective.objective.score(&self.at_current),
            score_suggested: found_score,
            objective,
            current,
            suggested,
            at_current: before,
            at_suggested: after,
            warnings,
            with,
        }
    }
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
        after = after.with(block.block.kind.as_str(), &s.key, s.suggested.as_ref()?);
        // An option comes with the anomaly threshold it was judged at: that value wins
        // over the threshold's own suggestion, as `--apply` sends it.
        for w in &s.with {
            let block = blocks.iter().find(|b| b.block.id == w.block_id)?;
            after = after.with(block.block.kind.as_str(), &w.key, &w.suggested);
        }
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

mod joint;
pub use joint::{Joint, JointValue, joint};

#[cfg(test)]
mod tests;
