//! The joint map: the objective over `min_score` × `min_anomaly_score`, where the two
//! thresholds move together; every move is an ordinary edit of both sliders.

use crate::api::models::ThresholdValue;
use crate::metrics::TestSet;
use crate::metrics::joint::{JointMap, joint_map_until, optimum, pareto_front};
use crate::metrics::objective::Objective;
use crate::metrics::suggest::{Figures, HEADLINES};
use crate::metrics::sweep::{self, Parameter};
use crate::tuner::{Action, Mode, PreviewSource, Tuner};
use std::sync::Arc;
use std::time::Instant;

/// The most points along one threshold.
pub const MAX_MAP_POINTS: usize = 401;
/// Each point of the map weighs every pair of labels: past this many labels a map would
/// take seconds, and is not drawn.
pub const MAX_MAP_LABELS: usize = 64;

/// The map's points along a slider: every multiple of its fine step in its range (the
/// values the arrows reach, 51 to 101 of them for a range the slider chose itself), or
/// 101 even points where that would be more than [`MAX_MAP_POINTS`] or fewer than 51.
fn grid(scale: &crate::tuner::Scale) -> Vec<f64> {
    let first = (scale.min / scale.fine).ceil();
    let last = (scale.max / scale.fine).floor();
    let count = last - first + 1.0;
    if !(count.is_finite() && (51.0..=MAX_MAP_POINTS as f64).contains(&count)) {
        return sweep::points(scale.min, scale.max, 101);
    }
    (0..count as usize)
        .map(|i| scale.clean((first + i as f64) * scale.fine))
        .collect()
}

/// The map's sliders, the two figures of its Pareto front, and the map itself.
#[derive(Debug, Clone, PartialEq)]
pub struct JointView {
    /// The `min_score` slider (across) and the `min_anomaly_score` one (up).
    x: usize,
    y: usize,
    /// The Pareto front's figures, as indices into [`HEADLINES`].
    pair: [usize; 2],
    map: Option<Arc<JointMap>>,
    /// The best point for the objective, nearest among equals to the point shown when
    /// the map was computed.
    optimum: Option<(usize, usize)>,
    /// The front's points, each standing for those with its figures nearest to the point
    /// shown: recomputed as the point moves.
    front: Vec<(usize, usize)>,
    computed_for: Option<MapKey>,
    front_near: Option<(f64, f64)>,
    /// The last computation stopped for input waiting (and is to be done again).
    pub(super) interrupted: bool,
}

impl JointView {
    /// The sliders across (`min_score`) and up (`min_anomaly_score`).
    pub fn sliders(&self) -> (usize, usize) {
        (self.x, self.y)
    }

    /// The Pareto front's figures, as indices into [`HEADLINES`].
    pub fn pair(&self) -> [usize; 2] {
        self.pair
    }

    /// The map, once computed.
    pub fn map(&self) -> Option<&Arc<JointMap>> {
        self.map.as_ref()
    }

    /// The best point for the objective, nearest among equals to the point shown when
    /// the map was computed.
    pub fn optimum(&self) -> Option<(usize, usize)> {
        self.optimum
    }

    /// The front's points, each standing for those with its figures nearest to the point
    /// shown.
    pub fn front(&self) -> &[(usize, usize)] {
        &self.front
    }
}

/// What the map depends on: the set, the ranges, the aggregation, the objective, the
/// pair (not the displayed values: moving the point costs nothing).
#[derive(Debug, Clone)]
struct MapKey {
    set: Arc<TestSet>,
    /// Each slider's min, max and fine step.
    ranges: [(f64, f64, f64); 2],
    aggregation: crate::metrics::Aggregation,
    objective: Objective,
    pair: [usize; 2],
}

impl PartialEq for MapKey {
    fn eq(&self, other: &Self) -> bool {
        // The same set read once, not an equal one compared window by window.
        Arc::ptr_eq(&self.set, &other.set)
            && self.ranges == other.ranges
            && self.aggregation == other.aggregation
            && self.objective == other.objective
            && self.pair == other.pair
    }
}

/// Whether a slider's range has points to map (a typed 1e308 stretches one past every
/// number).
fn mappable(scale: &crate::tuner::Scale) -> bool {
    (scale.max - scale.min).is_finite() && scale.fine.is_finite()
}

fn headline(slug: &str) -> usize {
    HEADLINES.iter().position(|h| h.slug == slug).unwrap_or(0)
}

/// Why the map cannot be opened (or stay open) now.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum NoMap {
    #[error(
        "the map moves a classifier's min_score and an anomaly block's min_anomaly_score \
         together: this impulse has no {0}"
    )]
    Missing(&'static str),
    #[error("a threshold's range is not finite: no map")]
    InfiniteRange,
    #[error("the map takes at most {MAX_MAP_LABELS} labels; this impulse has {0}")]
    TooManyLabels(usize),
    #[error("object detection has one threshold to map")]
    Detection,
    #[error("the results are still loading")]
    Loading,
    #[error("no preview: {0}")]
    NoPreview(String),
}

impl Tuner {
    pub fn joint(&self) -> Option<&JointView> {
        self.joint.as_ref()
    }

    /// What the map optimises: the objective chosen with `O`, else best macro F1 over
    /// the whole outcome (each class and the anomaly).
    pub fn map_objective(&self) -> Objective {
        self.preview
            .chosen_map_objective()
            .unwrap_or_else(|| Objective::default_for(Parameter::MinScore, self.config.costs).0)
    }

    /// The sliders the map moves (`min_score`, `min_anomaly_score`), or why there can be
    /// no map now.
    fn map_sliders(&self) -> Result<(usize, usize), NoMap> {
        let find = |parameter| {
            self.sliders.iter().position(|s| {
                Parameter::of_key(&s.block_type, &s.key) == Some(parameter) && s.scale().is_some()
            })
        };
        let (x, y) = match (find(Parameter::MinScore), find(Parameter::MinAnomalyScore)) {
            (Some(x), Some(y)) => (x, y),
            (x, _) => {
                return Err(NoMap::Missing(if x.is_none() {
                    "min_score of a classifier"
                } else {
                    "min_anomaly_score of an anomaly block"
                }));
            }
        };
        if ![x, y]
            .iter()
            .all(|&i| self.sliders[i].scale().is_some_and(mappable))
        {
            return Err(NoMap::InfiniteRange);
        }
        match self.preview.source() {
            PreviewSource::Ready(set) if set.labels.len() > MAX_MAP_LABELS => {
                Err(NoMap::TooManyLabels(set.labels.len()))
            }
            PreviewSource::Ready(set) if set.detection.is_none() => Ok((x, y)),
            PreviewSource::Ready(_) => Err(NoMap::Detection),
            PreviewSource::Loading { .. } => Err(NoMap::Loading),
            PreviewSource::Unavailable(why) => Err(NoMap::NoPreview(why.clone())),
        }
    }

    /// `x`: opens the map when the impulse has both thresholds and a preview.
    pub(super) fn open_map(&mut self) {
        let (x, y) = match self.map_sliders() {
            Ok(xy) => xy,
            Err(why) => {
                self.feedback.say(why.to_string());
                return;
            }
        };
        let pair = self.joint.as_ref().map_or_else(
            || [headline("missed-anomalies"), headline("false-alarms")],
            |j| j.pair,
        );
        self.joint = Some(JointView {
            x,
            y,
            pair,
            map: None,
            optimum: None,
            front: Vec::new(),
            computed_for: None,
            front_near: None,
            interrupted: false,
        });
        self.mode = Mode::Map;
    }

    pub(super) fn on_map_action(&mut self, action: Action, now: Instant) {
        let Some(view) = self.joint.clone() else {
            self.mode = Mode::Normal;
            return;
        };
        match action {
            Action::MapStep { dx, dy, coarse } => {
                if dx != 0 {
                    let value = self.sliders[view.x].stepped(i32::from(dx), coarse);
                    self.edit(view.x, value, now);
                }
                if dy != 0 {
                    let value = self.sliders[view.y].stepped(i32::from(dy), coarse);
                    self.edit(view.y, value, now);
                }
            }
            Action::RevertToSaved => {
                for i in [view.x, view.y] {
                    let saved = self.sliders[i].saved.clone();
                    self.edit(i, saved, now);
                }
            }
            Action::Optimize => self.move_to_map_optimum(&view, now),
            Action::CycleObjective => {
                let next = self.map_objective().next(
                    Parameter::MinAnomalyScore,
                    self.config.bounds,
                    self.config.costs,
                );
                self.preview.choose_map_objective(next);
                self.feedback.say(format!("map objective: {}", next.name()));
            }
            Action::MapFigure(which) => self.cycle_map_figure(usize::from(which.min(1))),
            Action::Cancel => self.mode = Mode::Normal,
            _ => {}
        }
    }

    /// A click or drag on point `(j, k)` of the map moves both thresholds there.
    pub(super) fn on_map_pointer(&mut self, j: usize, k: usize, now: Instant) {
        let Some(view) = self.joint.clone() else {
            return;
        };
        let Some((&x, &y)) = view
            .map
            .as_ref()
            .and_then(|map| Some((map.xs.get(j)?, map.ys.get(k)?)))
        else {
            return;
        };
        self.edit(view.x, ThresholdValue::Number(x), now);
        self.edit(view.y, ThresholdValue::Number(y), now);
    }

    fn move_to_map_optimum(&mut self, view: &JointView, now: Instant) {
        let Some(map) = &view.map else {
            return;
        };
        let Some((j, k)) = view.optimum else {
            self.feedback.say(format!(
                "no point of the map reaches: {}",
                self.map_objective().name()
            ));
            return;
        };
        let here = self.displayed_thresholds();
        if map.nearest(here.min_score, here.min_anomaly_score) == (j, k) {
            self.feedback.say(format!(
                "already at the best point: {}",
                self.map_objective().name()
            ));
            return;
        }
        self.on_map_pointer(j, k, now);
    }

    /// The next figure this impulse has for one side of the Pareto front, never the
    /// other side's.
    fn cycle_map_figure(&mut self, which: usize) {
        let (Some(view), Some(displayed)) = (self.joint.as_mut(), self.preview.displayed()) else {
            return;
        };
        let figures = Figures::of(displayed, self.config.costs.as_ref());
        let other = view.pair[1 - which];
        let next = (1..HEADLINES.len())
            .map(|step| (view.pair[which] + step) % HEADLINES.len())
            .find(|&i| i != other && (HEADLINES[i].get)(&figures).is_some());
        if let Some(next) = next {
            view.pair[which] = next;
            self.feedback.say(format!(
                "Pareto front: {} against {}",
                HEADLINES[view.pair[0]].name, HEADLINES[view.pair[1]].name
            ));
        }
    }

    /// Whether what opened the map still holds; closes it, saying why, when not (the
    /// impulse read again with other blocks, a range stretched past every number,
    /// results being read again).
    fn map_still_holds(&mut self) -> bool {
        let opened = self.joint.as_ref().map(|view| (view.x, view.y));
        let why = match self.map_sliders() {
            Ok(xy) if Some(xy) == opened => return true,
            Ok(_) => "the impulse's thresholds changed: x opens the map again".to_string(),
            Err(why) => why.to_string(),
        };
        self.mode = Mode::Normal;
        self.feedback.say(why);
        false
    }

    /// Recomputes the map when what it depends on changed (not when the point moves).
    pub(super) fn refresh_map(&mut self, stop: &crate::metrics::Interrupt) {
        if self.mode != Mode::Map || !self.map_still_holds() {
            return;
        }
        let (Some(view), Some(set)) = (&self.joint, self.preview.set()) else {
            return;
        };
        let (Some(sx), Some(sy)) = (self.sliders[view.x].scale(), self.sliders[view.y].scale())
        else {
            return;
        };
        let here = self.displayed_thresholds();
        let key = MapKey {
            set: Arc::clone(set),
            ranges: [(sx.min, sx.max, sx.fine), (sy.min, sy.max, sy.fine)],
            aggregation: here.aggregation,
            objective: self.map_objective(),
            pair: view.pair,
        };
        let near = (here.min_score, here.min_anomaly_score);
        if view.computed_for.as_ref() == Some(&key) {
            if view.front_near != Some(near)
                && let Some(view) = self.joint.as_mut()
                && let Some(map) = &view.map
            {
                view.front = pareto_front(map, view.pair.map(|i| &HEADLINES[i]), near);
                view.front_near = Some(near);
            }
            return;
        }
        let map = joint_map_until(
            &key.set,
            here.aggregation,
            (grid(sx), grid(sy)),
            &key.objective,
            [&HEADLINES[view.pair[0]], &HEADLINES[view.pair[1]]],
            self.config.costs.as_ref(),
            stop,
        );
        let Some(view) = self.joint.as_mut() else {
            return;
        };
        view.interrupted = map.is_none();
        if let Some(map) = map {
            view.optimum = optimum(&map, near);
            view.front = pareto_front(&map, view.pair.map(|i| &HEADLINES[i]), near);
            view.front_near = Some(near);
            view.map = Some(Arc::new(map));
            view.computed_for = Some(key);
        }
    }
}
