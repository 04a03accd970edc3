//! The local preview's state: where the per-window results stand, and the figures and sweep
//! computed from them, each recomputed only when what it depends on changed. The tuner
//! gathers what they depend on (the thresholds, the focused slider); this keeps the rest.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::metrics::objective::Objective;
use crate::metrics::optimum;
use crate::metrics::sweep::{self, OptionSweep, Parameter, Sweep};
use crate::metrics::{Aggregation, Interrupt, Scores, ScoresFrom, Summary, TestSet, Thresholds};
use crate::tuner::Scale;

/// Why the per-window results could not be read, in plain words.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewFailure {
    pub why: String,
    /// Studio answered that it has no results now, and no scores of the same model on the
    /// same data are kept: scores shown before may be another model's (trained again
    /// since), and go. Otherwise (a network failure, a broken answer) they stay.
    pub withheld: bool,
}

impl From<&str> for PreviewFailure {
    /// No preview, for a reason that says nothing of scores shown before.
    fn from(why: &str) -> Self {
        Self {
            why: why.to_string(),
            withheld: false,
        }
    }
}

/// Where the per-window results for the local preview stand.
#[derive(Debug, Clone, PartialEq)]
pub enum PreviewSource {
    Loading { loaded: u64, total: u64 },
    Unavailable(String),
    Ready(Arc<TestSet>),
}

/// What a finished read of the results did to the preview.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Received {
    /// The same set as shown: it is confirmed; `was_cached` when it came from the cache.
    Confirmed { was_cached: bool },
    /// Another set than the one shown (or none was): it replaces it.
    Replaced { was_cached: bool },
    /// The read failed and the set shown stays, because the failure says nothing of it.
    KeptAfter(String),
    /// The read failed and there is no preview.
    Unavailable,
}

/// The threshold the sweep varies: the focused slider, while it is a numeric score
/// threshold or the visual anomaly aggregation.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Focus {
    Number {
        slider: usize,
        parameter: Parameter,
        scale: Scale,
        objective: Objective,
    },
    /// The aggregation's options this version can evaluate, and the range of the anomaly
    /// threshold that moves with them.
    Options {
        slider: usize,
        options: Vec<(String, Aggregation)>,
        anomaly: Option<Scale>,
        objective: Objective,
    },
}

/// Figures computed locally at the displayed thresholds, before anything is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    source: PreviewSource,
    /// The set ready came from the cache and no read of Studio's results has confirmed it
    /// yet.
    cached: bool,
    /// Where the set ready comes from (Studio's results read now, or kept scores of the
    /// same model while Studio withholds its own) and when it was read; `None` while it is
    /// a cached set not confirmed yet.
    scores_from: Option<ScoresFrom>,
    /// A read of the results under way while a set is ready: (loaded, total) samples.
    reading: Option<(u64, u64)>,
    /// The saved thresholds `saved` was computed at, where it is computed locally.
    saved_for: Option<Thresholds>,
    /// At the displayed thresholds.
    displayed: Option<Summary>,
    /// At the saved thresholds: Studio's figures read back over the same labels, or
    /// computed from the scores where those do not stand for them.
    saved: Option<Summary>,
    /// The focused threshold across its range.
    sweep: Option<Sweep>,
    /// The focused aggregation, option by option.
    option_sweep: Option<OptionSweep>,
    /// What `o` optimises for each threshold (by slider id) the user chose for with `O`;
    /// the others have their default ([`Objective::default_for`]).
    objectives: BTreeMap<String, Objective>,
    /// What the map optimises, once chosen with `O` on the map.
    map_objective: Option<Objective>,
    /// What the figures and the sweep were computed for: recomputed only when that changes.
    computed_for: Option<Thresholds>,
    swept_for: Option<(Thresholds, usize, Objective, (f64, f64))>,
    options_for: Option<(Thresholds, usize, Objective)>,
    /// The focused threshold's exact figures, interval by interval
    /// ([`optimum::profile`]): found with the sweep, it finds the optimum from any value
    /// without another pass over the scores.
    profile: Vec<(f64, f64)>,
    /// The focused value the sweep's optimum was found from.
    optimum_from: Option<f64>,
    /// Why nothing is computed at the thresholds shown: one holds a value the figures
    /// cannot be computed at.
    withheld: Option<String>,
    /// The last computation stopped for input waiting: it is done again once read.
    interrupted: bool,
}

/// How a computation may be stopped, and how many times each sweep is computed: once;
/// more only to make the work heavy where the responsiveness tests need it to be.
#[derive(Debug, Clone, Copy)]
pub(super) struct Effort<'a> {
    pub stop: &'a Interrupt,
    pub repeats: u32,
}

impl Default for Preview {
    fn default() -> Self {
        Self {
            source: PreviewSource::Loading {
                loaded: 0,
                total: 0,
            },
            cached: false,
            scores_from: None,
            reading: None,
            saved_for: None,
            displayed: None,
            saved: None,
            sweep: None,
            option_sweep: None,
            objectives: BTreeMap::new(),
            map_objective: None,
            computed_for: None,
            swept_for: None,
            options_for: None,
            profile: Vec::new(),
            optimum_from: None,
            interrupted: false,
            withheld: None,
        }
    }
}

impl Preview {
    pub fn source(&self) -> &PreviewSource {
        &self.source
    }

    /// The per-window results, once ready.
    pub fn set(&self) -> Option<&Arc<TestSet>> {
        match &self.source {
            PreviewSource::Ready(set) => Some(set),
            _ => None,
        }
    }

    /// Whether the set shown came from the cache and no read has confirmed it yet.
    pub fn is_cached(&self) -> bool {
        self.cached
    }

    pub fn scores_from(&self) -> Option<ScoresFrom> {
        self.scores_from
    }

    /// A read of the results under way while a set is shown: (loaded, total) samples.
    pub fn reading(&self) -> Option<(u64, u64)> {
        self.reading
    }

    /// Whether results are being read, for the first time or again.
    pub fn is_reading(&self) -> bool {
        self.reading.is_some() || matches!(self.source, PreviewSource::Loading { .. })
    }

    /// Why nothing is computed at the thresholds shown, when nothing is.
    pub fn withheld(&self) -> Option<&str> {
        self.withheld.as_deref()
    }

    /// The figures at the displayed thresholds.
    pub fn displayed(&self) -> Option<&Summary> {
        self.displayed.as_ref()
    }

    /// The figures at the saved thresholds.
    pub fn saved(&self) -> Option<&Summary> {
        self.saved.as_ref()
    }

    /// The focused threshold across its range, with the optimum `o` moves it to.
    pub fn sweep(&self) -> Option<&Sweep> {
        self.sweep.as_ref()
    }

    /// The focused aggregation's options, with the one `o` picks.
    pub fn option_sweep(&self) -> Option<&OptionSweep> {
        self.option_sweep.as_ref()
    }

    /// What the user chose with `O` for the threshold `id`, if anything.
    pub fn chosen_objective(&self, id: &str) -> Option<Objective> {
        self.objectives.get(id).copied()
    }

    /// What the user chose with `O` on the map, if anything.
    pub fn chosen_map_objective(&self) -> Option<Objective> {
        self.map_objective
    }

    pub(super) fn choose_objective(&mut self, id: String, objective: Objective) {
        self.objectives.insert(id, objective);
    }

    pub(super) fn choose_map_objective(&mut self, objective: Objective) {
        self.map_objective = Some(objective);
    }

    /// Another impulse: its scores are to be read; the objectives chosen so far stay.
    pub(super) fn forget_scores(&mut self) {
        *self = Self {
            objectives: std::mem::take(&mut self.objectives),
            map_objective: self.map_objective,
            ..Self::default()
        };
    }

    /// A read of the results went out: the set shown stays until it answers.
    pub(super) fn read_again(&mut self) {
        if matches!(self.source, PreviewSource::Ready(_)) {
            self.reading = Some((0, 0));
        } else {
            self.source = PreviewSource::Loading {
                loaded: 0,
                total: 0,
            };
        }
    }

    pub(super) fn progress(&mut self, loaded: u64, total: u64) {
        match self.source {
            PreviewSource::Loading { .. } => self.source = PreviewSource::Loading { loaded, total },
            PreviewSource::Ready(_) => self.reading = Some((loaded, total)),
            PreviewSource::Unavailable(_) => {}
        }
    }

    /// A set kept from an earlier read of the same first page, shown at once while the
    /// results are first read; `false` (and nothing changes) once something else is shown.
    pub(super) fn offer_cached(&mut self, set: Arc<TestSet>) -> bool {
        let PreviewSource::Loading { loaded, total } = self.source else {
            return false;
        };
        self.reading = Some((loaded, total));
        self.show(set, false);
        true
    }

    /// The read of the results finished.
    pub(super) fn receive(&mut self, result: Result<Scores, PreviewFailure>) -> Received {
        self.reading = None;
        let was_cached = self.cached;
        match (result, &self.source) {
            (Ok(scores), PreviewSource::Ready(shown)) if *shown == scores.set => {
                self.cached = false;
                self.scores_from = Some(scores.from);
                Received::Confirmed { was_cached }
            }
            (Ok(scores), _) => {
                self.show(scores.set, true);
                self.scores_from = Some(scores.from);
                Received::Replaced { was_cached }
            }
            // The per-window scores do not depend on the thresholds: a set read before
            // stays good unless Studio says it has none of this model.
            (Err(failure), PreviewSource::Ready(_)) if !failure.withheld => {
                Received::KeptAfter(failure.why)
            }
            (Err(failure), _) => {
                self.source = PreviewSource::Unavailable(failure.why);
                self.cached = false;
                self.scores_from = None;
                Received::Unavailable
            }
        }
    }

    /// Shows `set`; `confirmed`: read from Studio, not only from the cache.
    fn show(&mut self, set: Arc<TestSet>, confirmed: bool) {
        self.source = PreviewSource::Ready(set);
        self.cached = !confirmed;
        self.computed_for = None;
        self.swept_for = None;
        self.options_for = None;
    }

    /// The saved thresholds or Studio's figures changed: `studio` are Studio's figures
    /// where they stand for the saved thresholds; else (`None`) the figures at the saved
    /// thresholds are computed from the scores by [`Preview::compute`].
    /// Whether the last computation stopped for input waiting (and is to be done again).
    pub fn interrupted(&self) -> bool {
        self.interrupted
    }

    pub(super) fn saved_changed(&mut self, studio: Option<Summary>) {
        self.saved_for = None;
        self.saved = studio;
    }

    /// Nothing can be computed at the thresholds shown, for `why`: the figures, the sweep
    /// and, where they come from the scores (`saved_from_scores`), the saved ones go.
    pub(super) fn withhold(&mut self, why: String, saved_from_scores: bool) {
        self.withheld = Some(why);
        self.displayed = None;
        self.sweep = None;
        self.option_sweep = None;
        self.computed_for = None;
        self.swept_for = None;
        self.options_for = None;
        if saved_from_scores {
            self.saved = None;
            self.saved_for = None;
        }
    }

    /// Recomputes what changed: the figures at `displayed`, at `saved` (given where they
    /// are computed from the scores), and the sweep of `focus`.
    pub(super) fn compute(
        &mut self,
        displayed: Thresholds,
        saved: Option<Thresholds>,
        focus: Option<Focus>,
        effort: Effort<'_>,
    ) {
        self.withheld = None;
        self.interrupted = false;
        let Some(set) = self.set().map(Arc::clone) else {
            self.displayed = None;
            self.sweep = None;
            self.option_sweep = None;
            return;
        };
        if self.computed_for != Some(displayed) {
            self.computed_for = Some(displayed);
            self.displayed = Some(set.evaluate(&displayed));
        }
        if let Some(saved) = saved
            && self.saved_for != Some(saved)
        {
            self.saved_for = Some(saved);
            self.saved = Some(set.evaluate(&saved));
        }
        if !matches!(focus, Some(Focus::Number { .. })) {
            self.sweep = None;
            self.swept_for = None;
            self.profile = Vec::new();
        }
        if !matches!(focus, Some(Focus::Options { .. })) {
            self.option_sweep = None;
            self.options_for = None;
        }
        match focus {
            Some(Focus::Number {
                slider,
                parameter,
                scale,
                objective,
            }) => self.sweep_focus(
                &set,
                displayed,
                (slider, parameter, scale, objective),
                effort,
            ),
            Some(Focus::Options {
                slider,
                options,
                anomaly,
                objective,
            }) => {
                let key = (displayed, slider, objective);
                self.sweep_options(&set, key, &options, anomaly.as_ref(), effort);
            }
            None => {}
        }
    }

    /// Each option is evaluated whole: only when what it depends on changed (the option
    /// shown too: it wins ties).
    fn sweep_options(
        &mut self,
        set: &TestSet,
        key: (Thresholds, usize, Objective),
        options: &[(String, Aggregation)],
        anomaly: Option<&Scale>,
        effort: Effort<'_>,
    ) {
        if self.options_for == Some(key) {
            return;
        }
        let (displayed, _, objective) = key;
        let swept =
            sweep::sweep_options_until(set, &displayed, options, anomaly, &objective, effort.stop);
        self.interrupted = swept.is_none();
        self.options_for = swept.is_some().then_some(key);
        self.option_sweep = swept;
    }

    /// The sweep varies the focused threshold: its own value does not change the curves
    /// nor the figures of each interval, so moving it (the common case) costs a look
    /// through those, not a pass over the scores.
    fn sweep_focus(
        &mut self,
        set: &TestSet,
        thresholds: Thresholds,
        (slider, parameter, scale, objective): (usize, Parameter, Scale, Objective),
        effort: Effort<'_>,
    ) {
        let others = parameter.set(&thresholds, 0.0);
        let key = (others, slider, objective, (scale.min, scale.max));
        if self.swept_for != Some(key) {
            let xs = sweep::search_points(parameter, &scale, set);
            let stop = effort.stop;
            let mut swept = None;
            for _ in 0..effort.repeats.max(1) {
                swept = sweep::sweep_until(set, &thresholds, parameter, &xs, &objective, stop);
                if swept.is_none() {
                    break;
                }
            }
            let profile = swept.as_ref().and_then(|_| {
                optimum::profile_until(set, &thresholds, parameter, &scale, &objective, stop)
            });
            self.interrupted = profile.is_none();
            self.swept_for = profile.is_some().then_some(key);
            self.sweep = profile.is_some().then_some(swept).flatten();
            self.profile = profile.unwrap_or_default();
            self.optimum_from = None;
        }
        // The chart marks where `o` goes: the exact optimum, nearest the value shown among
        // equals (or that value, when nothing does better). It moves with the value; the
        // curves do not.
        let current = parameter.get(&thresholds);
        if self.optimum_from != Some(current) {
            self.optimum_from = Some(current);
            let now = self.displayed.as_ref().and_then(|d| objective.score(d));
            let found = optimum::move_from(optimum::best_of(&self.profile, current), current, now);
            if let Some(sweep) = &mut self.sweep {
                sweep.optimum = found.map(|(x, _)| x);
                sweep.best_score = found.map(|(_, score)| score);
            }
        }
    }
}
