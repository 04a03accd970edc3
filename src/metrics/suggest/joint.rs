//! Every threshold tuned together: for the numbers a grid for two, then exact along each
//! axis, coordinate descent for more; and this for each option of the visual anomaly
//! aggregation, where the impulse has one.

use serde::Serialize;

use super::{Choice, Chosen, Figures, Knob, Request, choices, current_thresholds, knobs};
use crate::api::BlockThresholds;
use crate::api::models::ThresholdValue;
use crate::metrics::objective::Objective;
use crate::metrics::optimum;
use crate::metrics::{TestSet, Thresholds};

/// Every threshold tuned at once.
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
    pub current: ThresholdValue,
    pub suggested: ThresholdValue,
}

/// Every threshold at once: the numbers by a full grid for two, coordinate descent
/// otherwise, at each option of the aggregation (the first, where there are several; the
/// others stay); `None` with fewer than two thresholds to tune.
pub fn joint(set: &TestSet, blocks: &[BlockThresholds], request: &Request) -> Option<Joint> {
    let knobs = knobs(set, blocks);
    let choice = choices(set, blocks).into_iter().next();
    if knobs.len() + usize::from(choice.is_some()) < 2 {
        return None; // nothing to tune together
    }
    let chosen = joint_objective(request);
    let objective = chosen.objective;
    let current = current_thresholds(blocks);
    let score = |t: &Thresholds| objective.score(&set.evaluate(t));
    // The current option first: it wins ties.
    let mut starts = vec![current];
    if let Some(choice) = &choice {
        starts.extend(
            choice
                .options
                .iter()
                .filter(|(_, a)| *a != current.aggregation)
                .map(|&(_, aggregation)| Thresholds {
                    aggregation,
                    ..current
                }),
        );
    }
    let best = starts
        .iter()
        .map(|start| numbers_together(set, start, &knobs, &objective))
        .fold(None, |best: Option<Thresholds>, found| match best {
            Some(b) if score(&found).is_none_or(|f| score(&b).is_some_and(|s| f <= s + 1e-12)) => {
                Some(b)
            }
            _ => Some(found),
        })
        .unwrap_or(current);
    // Each alone, the others at their current values, then applied together.
    let mut alone = current;
    for knob in &knobs {
        if let Some((x, _)) =
            optimum::best_move(set, &current, knob.parameter, &knob.range, &objective)
        {
            alone = knob.parameter.set(&alone, x);
        }
    }
    let costs = request.costs.as_ref();
    let at_current = Figures::of(&set.evaluate(&current), costs);
    let at_suggested = Figures::of(&set.evaluate(&best), costs);
    Some(Joint {
        method: method(&knobs, choice.as_ref()),
        values: values(&knobs, choice.as_ref(), &best),
        score_current: score(&current),
        score_suggested: score(&best),
        score_one_at_a_time: score(&alone),
        warnings: at_current.worse_than(&at_suggested, crate::defaults::GUARDRAIL),
        at_current,
        at_suggested,
        objective: chosen,
    })
}

/// The numbers tuned together from `current`: a grid for two (or the thresholds' own
/// suggestions, when better), then each to its exact best in turn, so that the point
/// found is exact along each axis and never worse than the grid.
fn numbers_together(
    set: &TestSet,
    current: &Thresholds,
    knobs: &[Knob],
    objective: &Objective,
) -> Thresholds {
    let score = |t: &Thresholds| objective.score(&set.evaluate(t));
    if knobs.len() != 2 {
        return descend(set, current, knobs, objective);
    }
    let best = grid(set, current, knobs, objective);
    let mut alone = *current;
    for knob in knobs {
        if let Some((x, _)) =
            optimum::best_move(set, current, knob.parameter, &knob.range, objective)
        {
            alone = knob.parameter.set(&alone, x);
        }
    }
    let start = match (score(&alone), score(&best)) {
        (Some(a), b) if b.is_none_or(|b| a > b + 1e-12) => alone,
        _ => best,
    };
    descend(set, &start, knobs, objective)
}

/// How the point was searched, in words.
fn method(knobs: &[Knob], choice: Option<&Choice>) -> String {
    let numbers = match knobs {
        [x, y] => format!(
            "grid {} × {}, then exact along each axis",
            x.xs.len(),
            y.xs.len()
        ),
        [_] => "exact".to_string(),
        _ => "coordinate descent".to_string(),
    };
    match choice {
        Some(choice) => format!("{numbers}, at each option of {}", choice.key),
        None => numbers,
    }
}

/// Each threshold tuned, its current and suggested value.
fn values(knobs: &[Knob], choice: Option<&Choice>, best: &Thresholds) -> Vec<JointValue> {
    let mut values: Vec<JointValue> = knobs
        .iter()
        .map(|k| JointValue {
            block_id: k.block_id,
            key: k.key.clone(),
            current: ThresholdValue::Number(k.current),
            suggested: ThresholdValue::Number(k.parameter.get(best)),
        })
        .collect();
    if let Some(choice) = choice {
        let suggested = choice
            .options
            .iter()
            .find(|(_, a)| *a == best.aggregation)
            .map_or_else(|| choice.current.clone(), |(value, _)| value.clone());
        values.push(JointValue {
            block_id: choice.block_id,
            key: choice.key.clone(),
            current: ThresholdValue::Text(choice.current.clone()),
            suggested: ThresholdValue::Text(suggested),
        });
    }
    values
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
