//! The joint map: every figure over a grid of `min_score` × `min_anomaly_score`, the
//! objective's optimum on it, and the Pareto front of two figures.
//!
//! Evaluating each point on its own costs a pass over every window per point (101 × 101
//! points over 20,000 windows: two hundred million verdicts, seconds). Here each window's
//! place on the grid is found once: the number of `min_score` points at or below its top
//! score (`ix`: it is classified in columns `j < ix`) and of `min_anomaly_score` points at
//! or below its anomaly score (`iy`: it is an anomaly in rows `k < iy`). A row of the grid
//! is then one pass setting each window's verdict at the rightmost column, and a walk
//! leftwards moving windows, in order of `ix`, from uncertain to their class: every
//! window is touched twice per row, and each point's confusion matrix is the running one.

use super::confusion::Confusion;
use super::objective::{Costs, Objective};
use super::suggest::{Figures, Headline};
use super::{Aggregation, Interrupt, Summary, TestSet};

/// The figures over the grid, row after row (`min_anomaly_score` index `k`, then
/// `min_score` index `j`: point `k * xs.len() + j`).
#[derive(Debug, Clone, PartialEq)]
pub struct JointMap {
    /// `min_score` values, ascending.
    pub xs: Vec<f64>,
    /// `min_anomaly_score` values, ascending.
    pub ys: Vec<f64>,
    /// The objective's score at each point (higher is better; `None`: not allowed).
    pub score: Vec<Option<f64>>,
    /// The two figures of the Pareto front at each point.
    pub figures: [Vec<Option<f64>>; 2],
}

impl JointMap {
    pub fn at(&self, j: usize, k: usize) -> usize {
        k * self.xs.len() + j
    }

    /// The lowest and highest score on the map.
    pub fn score_span(&self) -> Option<(f64, f64)> {
        self.score
            .iter()
            .flatten()
            .fold(None, |span, &s| match span {
                None => Some((s, s)),
                Some((lo, hi)) => Some((f64::min(lo, s), f64::max(hi, s))),
            })
    }

    /// The grid point nearest to `(x, y)`.
    pub fn nearest(&self, x: f64, y: f64) -> (usize, usize) {
        (nearest(&self.xs, x), nearest(&self.ys, y))
    }
}

fn nearest(values: &[f64], v: f64) -> usize {
    values
        .iter()
        .enumerate()
        .min_by(|a, b| (a.1 - v).abs().total_cmp(&(b.1 - v).abs()))
        .map_or(0, |(i, _)| i)
}

/// A window of the grid walk: the first column and row where its class and its anomaly
/// decision flip, its expected label, and the confusion columns it moves between.
struct GridWindow {
    ix: usize,
    iy: usize,
    expected: usize,
    /// Columns of the confusion matrix: as an anomaly, unclassified, classified.
    anomaly: usize,
    unclassified: usize,
    classified: usize,
}

/// Every window of `set` placed on the grid of `xs` by `ys`.
fn grid_windows(
    set: &TestSet,
    aggregation: Aggregation,
    xs: &[f64],
    ys: &[f64],
) -> Vec<GridWindow> {
    let labels = set.labels.len();
    let decided = set.decided(aggregation);
    let unclassified = match (set.class_count, set.normal_label) {
        (0, Some(normal)) => usize::from(normal),
        _ => labels,
    };
    (0..set.len())
        .map(|i| {
            let (top, score) = decided.top[i];
            let iy = match (set.anomaly_label, decided.anomaly[i]) {
                (Some(_), Some(a)) => ys.partition_point(|&y| y <= a),
                _ => 0,
            };
            GridWindow {
                ix: xs.partition_point(|&x| x <= score),
                iy,
                expected: usize::from(set.expected[i]),
                anomaly: set.anomaly_label.map_or(labels, usize::from),
                unclassified,
                classified: if set.class_count == 0 {
                    unclassified
                } else {
                    usize::from(top)
                },
            }
        })
        .collect()
}

/// Calls `each(j, k, summary)` with the figures at `(xs[j], ys[k])` for every point of the
/// grid; `xs` and `ys` ascending. Not for object detection (there is no anomaly score).
pub fn for_each_point(
    set: &TestSet,
    aggregation: Aggregation,
    xs: &[f64],
    ys: &[f64],
    stop: &Interrupt,
    mut each: impl FnMut(usize, usize, &Summary),
) -> Option<()> {
    debug_assert!(xs.is_sorted() && ys.is_sorted());
    let labels = set.labels.len();
    let mut windows = grid_windows(set, aggregation, xs, ys);
    // Walking leftwards, windows join their class in order of falling `ix`.
    windows.sort_unstable_by_key(|w| std::cmp::Reverse(w.ix));
    let mut summary = Summary {
        label_count: labels,
        class_count: set.class_count,
        anomaly_label: set.anomaly_label,
        confusion: Confusion::new(labels, set.anomaly_label.map(usize::from)),
        detection: None,
    };
    for k in 0..ys.len() {
        if stop.is_raised() {
            return None;
        }
        summary.confusion.clear();
        summary.confusion.count_each(windows.iter().map(|w| {
            let column = if k < w.iy { w.anomaly } else { w.unclassified };
            (w.expected, column)
        }));
        let mut next = 0;
        for j in (0..xs.len()).rev() {
            while let Some(w) = windows.get(next).filter(|w| w.ix > j) {
                if k >= w.iy {
                    summary
                        .confusion
                        .shift(w.expected, w.unclassified, w.classified);
                }
                next += 1;
            }
            each(j, k, &summary);
        }
    }
    Some(())
}

/// The map of `objective` and of the two `figures` over `xs` × `ys`.
pub fn joint_map(
    set: &TestSet,
    aggregation: Aggregation,
    xs: Vec<f64>,
    ys: Vec<f64>,
    objective: &Objective,
    figures: [&Headline; 2],
    costs: Option<&Costs>,
) -> JointMap {
    let never = Interrupt::never();
    let map = joint_map_until(
        set,
        aggregation,
        (xs, ys),
        objective,
        figures,
        costs,
        &never,
    );
    match map {
        Some(map) => map,
        None => unreachable!("never interrupted"),
    }
}

/// [`joint_map`] over the grid `(xs, ys)`, or `None` when `stop` is raised first.
pub fn joint_map_until(
    set: &TestSet,
    aggregation: Aggregation,
    (xs, ys): (Vec<f64>, Vec<f64>),
    objective: &Objective,
    figures: [&Headline; 2],
    costs: Option<&Costs>,
    stop: &Interrupt,
) -> Option<JointMap> {
    let points = xs.len() * ys.len();
    let mut score = vec![None; points];
    let mut first = vec![None; points];
    let mut second = vec![None; points];
    let width = xs.len();
    for_each_point(set, aggregation, &xs, &ys, stop, |j, k, summary| {
        let at = k * width + j;
        score[at] = objective.score(summary);
        let all = Figures::of(summary, costs);
        first[at] = (figures[0].get)(&all);
        second[at] = (figures[1].get)(&all);
    })?;
    Some(JointMap {
        xs,
        ys,
        score,
        figures: [first, second],
    })
}

/// How far point `(j, k)` is from `(x, y)`, each axis over its span.
fn distance_from(map: &JointMap, (x, y): (f64, f64)) -> impl Fn(usize, usize) -> f64 + '_ {
    let (xspan, yspan) = (span(&map.xs), span(&map.ys));
    move |j, k| ((map.xs[j] - x) / xspan).powi(2) + ((map.ys[k] - y) / yspan).powi(2)
}

/// The point with the best score (`(j, k)`), nearest to `near` among equals.
pub fn optimum(map: &JointMap, near: (f64, f64)) -> Option<(usize, usize)> {
    let (_, best) = map.score_span()?;
    let distance = distance_from(map, near);
    (0..map.ys.len())
        .flat_map(|k| (0..map.xs.len()).map(move |j| (j, k)))
        .filter(|&(j, k)| map.score[map.at(j, k)] == Some(best))
        .min_by(|a, b| distance(a.0, a.1).total_cmp(&distance(b.0, b.1)))
}

fn span(values: &[f64]) -> f64 {
    match (values.first(), values.last()) {
        (Some(lo), Some(hi)) if hi > lo => hi - lo,
        _ => 1.0,
    }
}

/// The points no other point beats on both figures, one per distinct pair of values, in
/// order of the first figure, best first. Of the points with the same two figures (a
/// plateau, or a figure one threshold does not move) the one nearest to `near` stands for
/// them.
pub fn pareto_front(
    map: &JointMap,
    figures: [&Headline; 2],
    near: (f64, f64),
) -> Vec<(usize, usize)> {
    // Both figures as "higher is better".
    let oriented = |h: &Headline, v: f64| if h.higher_is_better { v } else { -v };
    let distance = distance_from(map, near);
    let mut points: Vec<(f64, f64, usize, usize)> = (0..map.ys.len())
        .flat_map(|k| (0..map.xs.len()).map(move |j| (j, k)))
        .filter_map(|(j, k)| {
            let at = map.at(j, k);
            let a = map.figures[0][at]?;
            let b = map.figures[1][at]?;
            Some((oriented(figures[0], a), oriented(figures[1], b), j, k))
        })
        .collect();
    // Best first on the first figure, then on the second: a point is on the front when
    // its second figure beats every point before it.
    points.sort_by(|p, q| {
        q.0.total_cmp(&p.0)
            .then(q.1.total_cmp(&p.1))
            .then(distance(p.2, p.3).total_cmp(&distance(q.2, q.3)))
    });
    let mut front = Vec::new();
    let mut best_second = f64::NEG_INFINITY;
    for (_, b, j, k) in points {
        if b > best_second {
            best_second = b;
            front.push((j, k));
        }
    }
    front
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Thresholds;
    use crate::metrics::objective::Bounds;
    use crate::metrics::suggest::HEADLINES;
    use crate::studio::demo::demo_impulses;

    fn headline(slug: &str) -> &'static Headline {
        HEADLINES.iter().find(|h| h.slug == slug).unwrap()
    }

    /// Every point of the map is what evaluating it alone gives, on the demo's impulses
    /// (classifier + anomaly, anomaly alone) and on grids whose points fall exactly on
    /// scores.
    #[test]
    fn every_point_equals_evaluating_it_alone() {
        let impulses = demo_impulses().unwrap();
        let mut checked = 0;
        for impulse in impulses.iter().take(3) {
            let Some(set) = &impulse.test_set else {
                continue;
            };
            let Some((lo, hi)) = set.anomaly_span() else {
                continue;
            };
            let xs = crate::metrics::sweep::points(0.0, 1.0, 23);
            let mut ys = crate::metrics::sweep::points(lo - 0.1, hi + 0.1, 17);
            // A point exactly at a window's score: `>=` decides.
            ys.push(set.anomaly_score(3, Aggregation::default()).unwrap());
            ys.sort_by(f64::total_cmp);
            let mut visited = 0;
            let never = Interrupt::never();
            for_each_point(
                set,
                Aggregation::default(),
                &xs,
                &ys,
                &never,
                |j, k, summary| {
                    let alone = set.evaluate(&Thresholds {
                        min_score: xs[j],
                        min_anomaly_score: ys[k],
                        aggregation: Aggregation::default(),
                    });
                    assert_eq!(*summary, alone, "at {} / {}", xs[j], ys[k]);
                    visited += 1;
                },
            );
            assert_eq!(visited, xs.len() * ys.len());
            checked += 1;
        }
        assert!(
            checked >= 2,
            "the impulses with an anomaly score: {checked}"
        );
    }

    #[test]
    fn the_optimum_is_the_best_point_and_the_front_is_undominated() {
        let set = demo_impulses().unwrap()[0].test_set.clone().unwrap();
        let (lo, hi) = set.anomaly_span().unwrap();
        let objective = Objective::FewestMissed {
            max_fpr: Bounds::default().max_fpr,
        };
        let pair = [headline("missed-anomalies"), headline("false-alarms")];
        let front = |map: &JointMap| pareto_front(map, pair, (0.6, 0.3));
        let map = joint_map(
            &set,
            Aggregation::default(),
            crate::metrics::sweep::points(0.0, 1.0, 51),
            crate::metrics::sweep::points(lo, hi, 51),
            &objective,
            pair,
            None,
        );
        let (j, k) = optimum(&map, (0.6, 0.3)).unwrap();
        let best = map.score[map.at(j, k)].unwrap();
        assert!(map.score.iter().flatten().all(|&s| s <= best));
        let front = front(&map);
        assert!(!front.is_empty());
        let value = |i: usize, (j, k): (usize, usize)| map.figures[i][map.at(j, k)].unwrap();
        for &p in &front {
            // Lower is better for both: nothing is at least as low on both and lower on one.
            let beaten = (0..51).flat_map(|k| (0..51).map(move |j| (j, k))).any(|q| {
                let (a, b) = (
                    map.figures[0][map.at(q.0, q.1)],
                    map.figures[1][map.at(q.0, q.1)],
                );
                let (Some(a), Some(b)) = (a, b) else {
                    return false;
                };
                a <= value(0, p) && b <= value(1, p) && (a < value(0, p) || b < value(1, p))
            });
            assert!(!beaten, "{p:?} is dominated");
        }
        // Best first on the first figure; along the front the second gets better.
        for w in front.windows(2) {
            assert!(value(0, w[0]) <= value(0, w[1]));
            assert!(value(1, w[0]) > value(1, w[1]));
        }
    }
}
