//! The exact best value of one threshold: the figures only change where the threshold
//! crosses a window's score, so every value between two neighbouring scores gives the same
//! figures. One sorted pass over the scores visits each of those intervals once, moving
//! the windows whose score it crosses from one column of the confusion matrix to another,
//! and scores the objective on each. The value returned for an interval is the shortest
//! decimal inside it (`0.16`, not `0.16125`), so it reads well and gives the same figures
//! as every other value there.

use super::objective::Objective;
use super::sweep::Parameter;
use super::{Interrupt, Predicted, Summary, TestSet, Thresholds};
use crate::thresholds::Scale;

/// Object detection re-matches the boxes at each cut: past this many distinct detection
/// scores the search evaluates this many of them, evenly spread, and is no longer exact.
pub const MAX_DETECTION_CUTS: usize = 4_000;

/// The best value of `parameter` in `range` (the others as in `base`) and its score;
/// `None` when no value meets the objective (a bound no value keeps). Among equally good
/// values the one nearest `base`'s own value is taken, so that nothing moves for nothing.
pub fn exact_best(
    set: &TestSet,
    base: &Thresholds,
    parameter: Parameter,
    range: &Scale,
    objective: &Objective,
) -> Option<(f64, f64)> {
    exact_best_until(set, base, parameter, range, objective, &Interrupt::never()).flatten()
}

/// [`exact_best`], or `None` when `stop` is raised first.
pub fn exact_best_until(
    set: &TestSet,
    base: &Thresholds,
    parameter: Parameter,
    range: &Scale,
    objective: &Objective,
    stop: &Interrupt,
) -> Option<Option<(f64, f64)>> {
    let profile = profile_until(set, base, parameter, range, objective, stop)?;
    Some(best_of(&profile, parameter.get(base)))
}

/// Every value of `parameter` that decides differently from the others, as (the shortest
/// value of its interval in `range`, the objective's score there), from the highest down;
/// intervals where the objective has no score (a bound not kept) are left out. It does not
/// depend on `parameter`'s own value in `base`: kept, it answers [`best_of`] for any
/// value in time linear in its length, with no pass over the scores.
pub fn profile(
    set: &TestSet,
    base: &Thresholds,
    parameter: Parameter,
    range: &Scale,
    objective: &Objective,
) -> Vec<(f64, f64)> {
    profile_until(set, base, parameter, range, objective, &Interrupt::never()).unwrap_or_default()
}

/// [`profile`], or `None` when `stop` is raised first.
pub fn profile_until(
    set: &TestSet,
    base: &Thresholds,
    parameter: Parameter,
    range: &Scale,
    objective: &Objective,
    stop: &Interrupt,
) -> Option<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    for_each_cut(
        set,
        base,
        parameter,
        range,
        stop,
        |above, at_most, summary| {
            // A value past what a double holds (scores near ±1e308) is never suggested.
            if let (Some(value), Some(score)) =
                (shortest_in(above, at_most, range), objective.score(summary))
                && value.is_finite()
            {
                out.push((value, score));
            }
        },
    )?;
    Some(out)
}

/// The best of a [`profile`] and its score, the value nearest `current` among equals.
pub fn best_of(profile: &[(f64, f64)], current: f64) -> Option<(f64, f64)> {
    profile
        .iter()
        .fold(None, |best, &(value, score)| match best {
            Some((x, b))
                if score <= b + 1e-12
                    && (score <= b - 1e-12 || (value - current).abs() >= (x - current).abs()) =>
            {
                best
            }
            _ => Some((value, score)),
        })
}

/// Where to move `parameter` from its value in `base`: to the exact best in `range` when
/// that does strictly better, else nowhere (a threshold never moves for nothing); the
/// value and its score. `None` when no value meets the objective.
pub fn best_move(
    set: &TestSet,
    base: &Thresholds,
    parameter: Parameter,
    range: &Scale,
    objective: &Objective,
) -> Option<(f64, f64)> {
    let best = exact_best(set, base, parameter, range, objective);
    move_from(
        best,
        parameter.get(base),
        objective.score(&set.evaluate(base)),
    )
}

/// [`best_move`] from `current`, whose score is `now`, given the exact `best`.
pub fn move_from(best: Option<(f64, f64)>, current: f64, now: Option<f64>) -> Option<(f64, f64)> {
    match (best, now) {
        (Some((x, best)), Some(now)) if best > now + 1e-12 => Some((x, best)),
        (_, Some(now)) => Some((current, now)),
        (found, None) => found,
    }
}

/// Calls `visit` with every interval of `parameter`'s values, from the highest down: the
/// values above `above` and at most `at_most` (either end open where it is `None`), all
/// giving the figures in the summary.
fn for_each_cut(
    set: &TestSet,
    base: &Thresholds,
    parameter: Parameter,
    range: &Scale,
    stop: &Interrupt,
    mut visit: impl FnMut(Option<f64>, Option<f64>, &Summary),
) -> Option<()> {
    if let Some(detection) = &set.detection {
        detection_cuts(detection, range, visit);
        return Some(());
    }
    let decided = set.decided(base.aggregation);
    // Each window whose verdict the threshold decides: its score, and its verdicts with
    // the threshold at or below that score and above it.
    let mut moving: Vec<(f64, usize, Predicted, Predicted)> = Vec::new();
    for i in 0..set.expected.len() {
        let key = match parameter {
            Parameter::MinScore => decided.top[i].1,
            Parameter::MinAnomalyScore => match decided.anomaly[i] {
                Some(score) => score,
                None => continue,
            },
        };
        if !key.is_finite() {
            continue;
        }
        let verdict = |value: f64| {
            set.verdict(
                decided.top[i],
                decided.anomaly[i],
                &parameter.set(base, value),
            )
        };
        let (at, above) = (verdict(key), verdict(next_up(key)));
        if at != above {
            moving.push((key, i, at, above));
        }
    }
    if stop.is_raised() {
        return None;
    }
    moving.sort_by(|a, b| b.0.total_cmp(&a.0));
    if stop.is_raised() {
        return None;
    }
    // Start above every score: each moving window has its "above" verdict.
    let mut summary = match moving.first() {
        Some(&(highest, ..)) => decided.evaluate(&parameter.set(base, next_up(highest))),
        None => decided.evaluate(base),
    };
    let mut previous: Option<f64> = None;
    let (mut i, mut visited) = (0, 0usize);
    while i <= moving.len() {
        let next = moving.get(i).map(|m| m.0);
        // Values above `next` and at most the previous score: the figures in `summary`.
        visit(next, previous, &summary);
        let Some(key) = next else { break };
        visited += 1;
        if visited % CUTS_BETWEEN_LOOKS == 0 && stop.is_raised() {
            return None;
        }
        while let Some(&(k, w, at, above)) = moving.get(i)
            && k == key
        {
            summary.move_window(set.expected[w], above, at);
            i += 1;
        }
        previous = Some(key);
    }
    Some(())
}

/// Cuts visited between two looks at the interrupt: a few milliseconds of work.
const CUTS_BETWEEN_LOOKS: usize = 4096;

/// Object detection: each distinct detection score is a cut, evaluated whole (the boxes
/// are matched again at each).
fn detection_cuts(
    detection: &super::detection::DetectionSet,
    range: &Scale,
    mut visit: impl FnMut(Option<f64>, Option<f64>, &Summary),
) {
    let mut scores: Vec<f64> = detection
        .images
        .iter()
        .flat_map(|image| image.detections.iter().map(|d| d.score))
        .filter(|s| s.is_finite() && (range.min..=range.max).contains(s))
        .collect();
    scores.sort_by(|a, b| b.total_cmp(a));
    scores.dedup();
    let at = |value: f64| Summary::of_detection(detection.evaluate(value, false));
    if scores.len() > MAX_DETECTION_CUTS {
        // Too many to match again at each: these scores alone, each as itself (the values
        // between two of them are not all alike).
        let step = scores.len() as f64 / MAX_DETECTION_CUTS as f64;
        for k in 0..MAX_DETECTION_CUTS {
            let score = scores[(k as f64 * step) as usize];
            visit(Some(score.next_down()), Some(score), &at(score));
        }
        return;
    }
    let mut previous = None;
    for &score in &scores {
        visit(Some(score), previous, &at(next_up(score)));
        previous = Some(score);
    }
    visit(None, previous, &at(previous.unwrap_or(range.min)));
}

/// The shortest decimal in (`above`, `at_most`] and within `range` where it is bounded,
/// nearest the middle among those as short; `None` when that is empty.
pub fn shortest_in(above: Option<f64>, at_most: Option<f64>, range: &Scale) -> Option<f64> {
    let (floor, ceiling) = if range.bounded {
        (Some(range.min), Some(range.max))
    } else {
        (None, None)
    };
    // The interval as closed bounds [lo, hi] of doubles.
    let lo = match (above, floor) {
        (Some(a), Some(f)) => next_up(a).max(f),
        (Some(a), None) => next_up(a),
        (None, Some(f)) => f,
        (None, None) => f64::NEG_INFINITY,
    };
    let hi = match (at_most, ceiling) {
        (Some(h), Some(c)) => h.min(c),
        (Some(h), None) => h,
        (None, Some(c)) => c,
        (None, None) => f64::INFINITY,
    };
    if lo > hi || lo.is_nan() || hi.is_nan() {
        return None;
    }
    if lo == f64::NEG_INFINITY && hi == f64::INFINITY {
        return Some(0.0);
    }
    if lo == f64::NEG_INFINITY {
        return Some(hi.floor());
    }
    if hi == f64::INFINITY {
        return Some(lo.ceil());
    }
    let middle = lo + (hi - lo) / 2.0;
    for places in 0..=17 {
        let scale = 10f64.powi(places);
        let candidates = [
            (middle * scale).round() / scale,
            (lo * scale).ceil() / scale,
            (hi * scale).floor() / scale,
        ];
        let inside = candidates
            .into_iter()
            .filter(|c| (lo..=hi).contains(c))
            .min_by(|a, b| (a - middle).abs().total_cmp(&(b - middle).abs()));
        if inside.is_some() {
            return inside;
        }
    }
    Some(hi)
}

/// The least double above `x`.
fn next_up(x: f64) -> f64 {
    x.next_up()
}

impl Summary {
    /// One window expected `expected` moves from column `from` to column `to`.
    fn move_window(&mut self, expected: u16, from: Predicted, to: Predicted) {
        let column = |p: Predicted| match p {
            Predicted::Label(l) => usize::from(l),
            Predicted::Uncertain => self.label_count,
        };
        let (from, to) = (column(from), column(to));
        self.confusion.shift(usize::from(expected), from, to);
    }
}

#[cfg(test)]
mod tests;
