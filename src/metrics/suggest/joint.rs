//! Every numeric threshold tuned together: a grid for two, then exact along each axis;
//! coordinate descent for more.

use serde::Serialize;

use super::{Chosen, Figures, Knob, Request, current_thresholds, knobs};
use crate::api::BlockThresholds;
use crate::metrics::objective::Objective;
use crate::metrics::optimum;
use crate::metrics::{TestSet, Thresholds};

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
