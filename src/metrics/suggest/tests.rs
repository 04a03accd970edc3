use proptest::prelude::*;

use super::*;
use crate::api::models::{BlockThreshold, ImpulseLearnBlock, LearnBlockType};
use crate::metrics::TestSet;
use crate::metrics::fixtures::brute_force;
use crate::studio::demo::demo_impulses;

fn blocks_of(sim: &crate::studio::demo::SimImpulse) -> Vec<BlockThresholds> {
    sim.blocks
        .iter()
        .map(|b| BlockThresholds {
            block: b.block.clone(),
            thresholds: b.thresholds.clone(),
        })
        .collect()
}

/// The promise, checked on one test set: each default suggestion is no worse on its
/// own objective than the current value, and any headline figure it makes worse by
/// more than the bound is warned of.
fn check(set: &TestSet, blocks: &[BlockThresholds]) -> Result<(), String> {
    let request = Request::default();
    for s in suggestions(set, blocks, &request) {
        let id = format!("{}.{}", s.block_id, s.key);
        if let (Some(now), Some(then)) = (s.score_current, s.score_suggested)
            && then < now - 1e-12
        {
            return Err(format!("{id}: {then} is worse than {now}"));
        }
        if s.score_current.is_some() && s.suggested.is_none() {
            return Err(format!("{id}: the current value meets the objective"));
        }
        let Some(after) = &s.at_suggested else {
            continue;
        };
        for h in HEADLINES {
            let (Some(b), Some(a)) = ((h.get)(&s.at_current), (h.get)(after)) else {
                continue;
            };
            let loss = if h.higher_is_better { b - a } else { a - b };
            let warned = s.warnings.iter().any(|w| w.starts_with(h.name));
            if loss > crate::defaults::GUARDRAIL + 1e-9 && !warned {
                return Err(format!("{id}: {} worse by {loss} unwarned", h.name));
            }
            if loss <= crate::defaults::GUARDRAIL && warned {
                return Err(format!("{id}: {} warned of a loss of {loss}", h.name));
            }
        }
    }
    Ok(())
}

#[test]
fn on_every_demo_impulse_the_default_suggestions_keep_their_promise() {
    for sim in demo_impulses().unwrap() {
        if let Some(set) = &sim.test_set {
            check(set, &blocks_of(&sim)).unwrap();
        }
    }
}

#[test]
fn the_demo_anomaly_suggestion_catches_most_anomalies() {
    let sims = demo_impulses().unwrap();
    let set = sims[0].test_set.as_ref().unwrap();
    let found = suggestions(set, &blocks_of(&sims[0]), &Request::default());
    let anomaly = found.iter().find(|s| s.key == "min_anomaly_score").unwrap();
    let missed = anomaly.at_suggested.unwrap().missed_anomaly_rate.unwrap();
    assert!(missed < 0.5, "misses {missed}");
}

#[test]
fn a_far_off_value_does_not_thin_the_search() {
    let sims = demo_impulses().unwrap();
    let set = sims[0].test_set.as_ref().unwrap();
    let mut blocks = blocks_of(&sims[0]);
    let near = suggestions(set, &blocks, &Request::default());
    blocks[1].thresholds[0].value = ThresholdValue::Number(35.0);
    let far = suggestions(set, &blocks, &Request::default());
    let anomaly = |found: &[Suggestion]| {
        let s = found.iter().find(|s| s.key == "min_anomaly_score").unwrap();
        (s.suggested.clone().unwrap(), s.score_suggested.unwrap())
    };
    // The same best value, whether the threshold sat at 0.3 or at 35.
    assert_eq!(anomaly(&far), anomaly(&near));
}

#[test]
fn tuned_together_nothing_moves_for_nothing() {
    let sims = demo_impulses().unwrap();
    let set = sims[0].test_set.as_ref().unwrap();
    let request = Request {
        objective: Some(Objective::AnomalyBalance),
        ..Request::default()
    };
    let j = joint(set, &blocks_of(&sims[0]), &request).unwrap();
    let min_score = j.values.iter().find(|v| v.key == "min_score").unwrap();
    assert_eq!(
        min_score.suggested, min_score.current,
        "an anomaly objective does not move with min_score"
    );
}

/// A classifier with two classes and an anomaly block, over random windows; `min_score`
/// on the slider's steps.
fn random_set() -> impl Strategy<Value = (TestSet, f64, f64)> {
    crate::metrics::fixtures::random_set().prop_map(|(set, base)| {
        let min_score = (base.min_score * 100.0).round() / 100.0;
        (set, min_score, base.min_anomaly_score)
    })
}

fn blocks(min_score: f64, min_anomaly: f64) -> Vec<BlockThresholds> {
    let block = |id: u64, kind: &str| ImpulseLearnBlock {
        id,
        kind: LearnBlockType(kind.into()),
        ..crate::studio::demo::demo_impulses().unwrap()[0]
            .impulse
            .learn_blocks[0]
            .clone()
    };
    let threshold = |key: &str, value: f64| BlockThreshold {
        key: key.into(),
        value: ThresholdValue::Number(value),
        ..crate::studio::demo::demo_impulses().unwrap()[0].blocks[0].thresholds[0].clone()
    };
    vec![
        BlockThresholds {
            block: block(3, "keras"),
            thresholds: vec![threshold("min_score", min_score)],
        },
        BlockThresholds {
            block: block(4, "anomaly"),
            thresholds: vec![threshold("min_anomaly_score", min_anomaly)],
        },
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn on_random_test_sets_too((set, min_score, min_anomaly) in random_set()) {
        let blocks = blocks(min_score, min_anomaly);
        prop_assert!(check(&set, &blocks).is_ok(), "{:?}", check(&set, &blocks));
        // Tuned together, never worse than now, nor than each alone.
        let j = joint(&set, &blocks, &Request::default()).unwrap();
        if let (Some(now), Some(then)) = (j.score_current, j.score_suggested) {
            prop_assert!(then >= now - 1e-12);
        }
        if let (Some(alone), Some(then)) = (j.score_one_at_a_time, j.score_suggested) {
            prop_assert!(then >= alone - 1e-12, "{then} < {alone}");
        }
    }
}

/// On every demo impulse, for every objective that applies, the suggestion scores what a
/// brute-force search over every distinct score finds.
#[test]
fn on_every_demo_impulse_each_suggestion_is_the_brute_force_optimum() {
    let objectives = [
        Objective::MacroF1,
        Objective::BalancedAccuracy,
        Objective::Accuracy,
        Objective::AnomalyBalance,
        Objective::FewestMissed { max_fpr: 0.05 },
        Objective::FewestFalseAlarms { max_fnr: 0.10 },
    ];
    let (mut compared, mut options) = (0, 0);
    for sim in demo_impulses().unwrap() {
        // The large impulse's windows are impulse 1's, drawn again: brute force over its
        // 24,000 would take minutes in a debug build and tell nothing more.
        let Some(set) = sim.test_set.as_ref().filter(|s| s.len() <= 5_000) else {
            continue;
        };
        let blocks = blocks_of(&sim);
        let base = current_thresholds(&blocks);
        for objective in objectives {
            let request = Request {
                objective: Some(objective),
                ..Request::default()
            };
            for s in suggestions(set, &blocks, &request) {
                let block = blocks.iter().find(|b| b.block.id == s.block_id).unwrap();
                let threshold = block.thresholds.iter().find(|t| t.key == s.key).unwrap();
                let id = format!(
                    "impulse {} {}.{} {:?}",
                    sim.impulse.id, s.block_id, s.key, objective
                );
                let truth = match Parameter::of_key(block.block.kind.as_str(), &s.key) {
                    Some(parameter) => {
                        let range = scale_for(threshold, None);
                        brute_force(set, &base, parameter, &range, &s.objective.objective)
                    }
                    None => best_option_by_hand(set, &base, block, &s, &id),
                };
                options += usize::from(s.current.as_number().is_none());
                match (s.score_suggested, truth) {
                    (Some(found), Some(truth)) => {
                        assert!((found - truth).abs() < 1e-12, "{id}: {found} vs {truth}");
                    }
                    (found, truth) => assert_eq!(found, truth, "{id}"),
                }
                compared += 1;
            }
        }
    }
    assert!(compared >= 30, "only {compared} suggestions compared");
    assert!(options >= 6, "only {options} option suggestions compared");
}

/// The aggregation's suggestion, checked by evaluating every option of its dropdown, each
/// at its best anomaly threshold found by brute force over every distinct score: the
/// best option, the current one unless another does strictly better (and then the score
/// where everything stands); the anomaly threshold it comes with gives the score said.
fn best_option_by_hand(
    set: &TestSet,
    base: &Thresholds,
    block: &BlockThresholds,
    s: &Suggestion,
    id: &str,
) -> Option<f64> {
    let objective = &s.objective.objective;
    let threshold = block.thresholds.iter().find(|t| t.key == Aggregation::KEY);
    let threshold = threshold.unwrap();
    let at = |value: &str| option_at(base, block, value);
    let judged = |value: &str| judged_by_hand(set, &at(value), block, objective);
    let top = threshold
        .options()
        .unwrap()
        .iter()
        .filter_map(|o| judged(&o.value))
        .fold(None, |top: Option<f64>, x| {
            Some(top.map_or(x, |t| t.max(x)))
        });
    let current = threshold.value.to_string();
    let Some(top) = top else {
        assert_eq!(s.suggested, None, "{id}");
        return None;
    };
    if judged(&current).is_some_and(|c| c >= top - 1e-12) {
        assert_eq!(
            s.suggested.as_ref(),
            Some(&threshold.value),
            "{id}: ties stay"
        );
        assert!(s.with.is_empty(), "{id}: nothing moves");
        return objective.score(&set.evaluate(base));
    }
    let Some(ThresholdValue::Text(chosen)) = &s.suggested else {
        panic!("{id}: an option is suggested");
    };
    assert!(
        judged(chosen).is_some_and(|j| (j - top).abs() < 1e-12),
        "{id}: {chosen}"
    );
    // The values it comes with give the score it says.
    let with = s.with.iter().fold(at(chosen), |t, w| {
        t.with(block.block.kind.as_str(), &w.key, &w.suggested)
    });
    let again = objective.score(&set.evaluate(&with));
    assert!(
        again.is_some_and(|a| (a - top).abs() < 1e-12),
        "{id}: {again:?} vs {top}"
    );
    Some(top)
}

/// `base` with the aggregation at `option`.
fn option_at(base: &Thresholds, block: &BlockThresholds, option: &str) -> Thresholds {
    let value = ThresholdValue::Text(option.into());
    base.with(block.block.kind.as_str(), Aggregation::KEY, &value)
}

/// An option's score at the block's best anomaly threshold (by brute force), or as it is
/// where the block has none.
fn judged_by_hand(
    set: &TestSet,
    at: &Thresholds,
    block: &BlockThresholds,
    objective: &Objective,
) -> Option<f64> {
    let partner = block
        .thresholds
        .iter()
        .find(|t| t.key == "min_anomaly_score");
    match partner.map(|t| scale_for(t, None)) {
        Some(range) => brute_force(set, at, Parameter::MinAnomalyScore, &range, objective),
        None => objective.score(&set.evaluate(at)),
    }
}
