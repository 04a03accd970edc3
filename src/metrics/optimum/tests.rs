use proptest::prelude::*;

use super::*;
use crate::metrics::fixtures::{a_b_and_anomaly, brute_force, random_set};
use crate::metrics::{Aggregation, AnomalyScores};

const OBJECTIVES: [Objective; 6] = [
    Objective::MacroF1,
    Objective::BalancedAccuracy,
    Objective::Accuracy,
    Objective::AnomalyBalance,
    Objective::FewestMissed { max_fpr: 0.2 },
    Objective::FewestFalseAlarms { max_fnr: 0.2 },
];

fn range_of(parameter: Parameter) -> Scale {
    match parameter {
        Parameter::MinScore => Scale::probability(),
        Parameter::MinAnomalyScore => Scale::open(&[0.0, 2.0]),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The value found is the optimum over every distinct cut, scored as a full
    /// evaluation scores it, within the range, and no sweep point does better.
    #[test]
    fn the_one_threshold_optimum_is_exact((set, base) in random_set()) {
        for parameter in [Parameter::MinScore, Parameter::MinAnomalyScore] {
            let range = range_of(parameter);
            for objective in &OBJECTIVES {
                let found = exact_best(&set, &base, parameter, &range, objective);
                let truth = brute_force(&set, &base, parameter, &range, objective);
                prop_assert_eq!(found.is_some(), truth.is_some(), "{:?} {:?}", parameter, objective);
                let (Some((value, score)), Some(truth)) = (found, truth) else { continue };
                prop_assert!((score - truth).abs() < 1e-12, "{score} vs {truth}: {:?} {:?}", parameter, objective);
                let again = objective.score(&set.evaluate(&parameter.set(&base, value)));
                prop_assert_eq!(again, Some(score), "{:?} at {}", parameter, value);
                prop_assert!(!range.bounded || (range.min..=range.max).contains(&value));
                let grid = crate::metrics::sweep::points(range.min, range.max, 101);
                let swept = crate::metrics::sweep::sweep(&set, &base, parameter, &grid, objective);
                if let Some(on_grid) = swept.best_score {
                    prop_assert!(score >= on_grid - 1e-12, "{score} < {on_grid} on the grid");
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The tuner keeps one profile per focus and finds the optimum from each value the
    /// user moves to with it: the same answer as a fresh search from that value.
    #[test]
    fn a_kept_profile_moves_as_a_fresh_search_does(
        (set, base) in random_set(),
        values in prop::collection::vec(0.0..1.5f64, 1..6),
    ) {
        for parameter in [Parameter::MinScore, Parameter::MinAnomalyScore] {
            let range = range_of(parameter);
            for objective in &OBJECTIVES {
                let kept = profile(&set, &base, parameter, &range, objective);
                for &value in &values {
                    let at = parameter.set(&base, value);
                    let now = objective.score(&set.evaluate(&at));
                    let moved = move_from(best_of(&kept, value), value, now);
                    let fresh = best_move(&set, &at, parameter, &range, objective);
                    prop_assert_eq!(moved, fresh, "{:?} {:?} from {}", parameter, objective, value);
                }
            }
        }
    }
}

#[test]
fn the_value_of_an_interval_is_its_shortest_decimal() {
    let probability = Scale::probability();
    // Every value in (0.155, 0.1675] gives the same figures: 0.16 is the one to show.
    assert_eq!(
        shortest_in(Some(0.155), Some(0.1675), &probability),
        Some(0.16)
    );
    // A value equal to a score counts as at it: 0.5 is in (0.49, 0.5].
    assert_eq!(shortest_in(Some(0.49), Some(0.5), &probability), Some(0.5));
    assert_eq!(shortest_in(Some(0.5), Some(0.5), &probability), None);
    // Open ends: the whole span the range allows.
    assert_eq!(shortest_in(None, Some(0.3), &probability), Some(0.0));
    assert_eq!(shortest_in(Some(0.97), None, &probability), Some(1.0));
    assert_eq!(shortest_in(Some(1.0), None, &probability), None);
    let open = Scale::open(&[0.0, 2.0]);
    assert_eq!(
        shortest_in(
            Some(1.1345),
            None,
            &Scale {
                bounded: false,
                ..open
            }
        ),
        Some(2.0)
    );
    assert_eq!(
        shortest_in(
            None,
            Some(-0.4),
            &Scale {
                bounded: false,
                ..open
            }
        ),
        Some(-1.0)
    );
    // Two neighbouring doubles: nothing shorter lies between them.
    let x = 0.1f64;
    assert_eq!(
        shortest_in(Some(x), Some(x.next_up()), &probability),
        Some(x.next_up())
    );
}

/// Windows whose top scores are 0.8 (class `b`) and 0.6 twice (class `a`, a tie): a
/// threshold equal to a score decides that window, as Studio does.
#[test]
fn ties_count_at_the_threshold() {
    let set = TestSet {
        detection: None,
        labels: vec!["a".into(), "b".into()],
        class_count: 2,
        normal_label: None,
        anomaly_label: None,
        expected: vec![1, 0, 0],
        class_scores: vec![0.2, 0.8, 0.6, 0.4, 0.6, 0.4],
        anomaly: AnomalyScores::None,
    };
    let base = Thresholds {
        min_score: 0.9,
        min_anomaly_score: 0.0,
        aggregation: Aggregation::Max,
    };
    let (value, score) = exact_best(
        &set,
        &base,
        Parameter::MinScore,
        &Scale::probability(),
        &Objective::Accuracy,
    )
    .unwrap();
    // In (0.6, 0.8] only window 0 is decided; at 0.6 and below the two tied windows are
    // too, and every window is right: [0, 0.6] is one interval, and 0 its shortest value.
    assert_eq!(score, 1.0);
    assert_eq!(value, 0.0);
    let at_the_tie = Parameter::MinScore.set(&base, 0.6);
    assert_eq!(
        Objective::Accuracy.score(&set.evaluate(&at_the_tie)),
        Some(1.0)
    );
    let above_it = Parameter::MinScore.set(&base, 0.6f64.next_up());
    assert!(Objective::Accuracy.score(&set.evaluate(&above_it)).unwrap() < 0.34);
}

/// A threshold never moves for nothing: where the current value is as good as the best,
/// it stays; where another does strictly better, it goes there.
#[test]
fn the_current_value_wins_ties_and_moves_only_for_better() {
    let set = crate::metrics::fixtures::six_windows();
    let base = Thresholds {
        min_score: 0.5,
        min_anomaly_score: 0.5,
        aggregation: Aggregation::Max,
    };
    let range = Scale::open(&[0.0, 1.0]);
    let objective = Objective::FewestMissed { max_fpr: 0.3 };
    // At 0.5 one anomalous window of two is missed; at or below 0.4 none is, for one false
    // alarm in four (FPR 0.25, within the bound).
    let (moved, score) =
        best_move(&set, &base, Parameter::MinAnomalyScore, &range, &objective).unwrap();
    assert!(moved <= 0.4, "{moved}");
    assert_eq!(score, 0.0);
    let there = Parameter::MinAnomalyScore.set(&base, 0.35);
    let (stayed, _) =
        best_move(&set, &there, Parameter::MinAnomalyScore, &range, &objective).unwrap();
    assert_eq!(stayed, 0.35, "as good as the best: it stays");
}

/// Scores at the ends of what a double holds never make a value that is not a number.
#[test]
fn scores_at_the_ends_of_the_doubles_give_finite_values() {
    let set = a_b_and_anomaly(
        vec![0, 2, 1, 2],
        vec![0.9, 0.1, 0.5, 0.5, 0.2, 0.8, 0.6, 0.4],
        vec![-f64::MAX, f64::MAX, 1e-300, 2e-300],
    );
    let base = Thresholds {
        min_score: 0.5,
        min_anomaly_score: 0.5,
        aggregation: Aggregation::Max,
    };
    let range = Scale {
        bounded: false,
        ..Scale::open(&[0.0, 1.0])
    };
    for objective in &OBJECTIVES {
        if let Some((value, score)) =
            exact_best(&set, &base, Parameter::MinAnomalyScore, &range, objective)
        {
            assert!(
                value.is_finite() && score.is_finite(),
                "{objective:?}: {value}"
            );
        }
    }
}
