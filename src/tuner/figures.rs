//! The local preview: figures at the displayed thresholds and the sweep of the focused
//! one, computed from the per-window results, and only when what they depend on changed.

use crate::api::models::{ModelTestingAccuracy, ThresholdValue};
use crate::metrics::objective::Objective;
use crate::metrics::optimum;
use crate::metrics::suggest::Figures;
use crate::metrics::sweep::{self, Parameter};
use crate::metrics::{Scores, Summary, TestSet, Thresholds};
use crate::tuner::{PreviewFailure, PreviewSource, SliderKind, Tuner};
use std::sync::Arc;
use std::time::Instant;

impl Tuner {
    pub(super) fn on_test_set_progress(&mut self, impulse: u64, loaded: u64, total: u64) {
        if !self.wants_results_of(impulse) {
            return;
        }
        match self.preview.source {
            PreviewSource::Loading { .. } => {
                self.preview.source = PreviewSource::Loading { loaded, total };
            }
            PreviewSource::Ready(_) => self.preview.reading = Some((loaded, total)),
            PreviewSource::Unavailable(_) => {}
        }
    }

    /// A set kept from an earlier read of the same first page: shown at once, marked
    /// cached until the read under way confirms it.
    pub(super) fn on_cached_test_set(&mut self, impulse: u64, set: Arc<TestSet>) {
        if !self.wants_results_of(impulse)
            || !matches!(self.preview.source, PreviewSource::Loading { .. })
        {
            return;
        }
        self.preview.reading = match self.preview.source {
            PreviewSource::Loading { loaded, total } => Some((loaded, total)),
            _ => None,
        };
        self.take_test_set(set, false);
    }

    pub(super) fn on_test_set(
        &mut self,
        impulse: u64,
        result: Result<Scores, PreviewFailure>,
        now: Instant,
    ) {
        if !self.wants_results_of(impulse) {
            return;
        }
        // A save held while the scores were read goes now.
        self.save.scores_read(now);
        self.preview.reading = None;
        match (result, &self.preview.source) {
            (Ok(scores), PreviewSource::Ready(shown)) if *shown == scores.set => {
                if std::mem::take(&mut self.preview.cached) {
                    self.fit_ranges_to_scores();
                }
                self.preview.scores_from = Some(scores.from);
                self.clear_preview_notice();
            }
            (Ok(scores), _) => {
                self.clear_preview_notice();
                if self.preview.cached {
                    self.say_about_preview(
                        "the results changed since they were cached: the preview is recomputed",
                    );
                }
                self.take_test_set(scores.set, true);
                self.preview.scores_from = Some(scores.from);
            }
            // The per-window scores do not depend on the thresholds: a set read before
            // stays good unless Studio says it has none of this model.
            (Err(failure), PreviewSource::Ready(_)) if !failure.withheld => {
                self.say_about_preview(&format!(
                    "the per-window results were not read again ({}): the preview keeps \
                     those it has",
                    failure.why
                ));
            }
            (Err(failure), _) => {
                self.preview.source = PreviewSource::Unavailable(failure.why);
                self.preview.cached = false;
                self.preview.scores_from = None;
            }
        }
    }

    /// A notice about the preview's results, taken back once they are read whole.
    fn say_about_preview(&mut self, text: &str) {
        self.feedback.say_about_preview(text);
    }

    /// Takes back the last notice about the results, unless another replaced it.
    fn clear_preview_notice(&mut self) {
        self.feedback.take_back_preview_notice();
    }

    /// Shows `set`; `confirmed`: read from Studio, not only from the cache.
    fn take_test_set(&mut self, set: Arc<TestSet>, confirmed: bool) {
        self.preview.source = PreviewSource::Ready(set);
        self.preview.cached = !confirmed;
        self.preview.computed_for = None;
        self.preview.swept_for = None;
        // The sliders' ranges wait for Studio's own results: a cached set that proves
        // wrong must not leave them stretched.
        if confirmed {
            self.fit_ranges_to_scores();
        }
        self.refresh_saved();
    }

    /// Open-ended sliders cover the scores their thresholds are compared with, so that the
    /// sweep and `o` search every value that decides differently (Studio's suggested value
    /// may be absent, or far from the optimum).
    pub(super) fn fit_ranges_to_scores(&mut self) {
        let PreviewSource::Ready(set) = &self.preview.source else {
            return;
        };
        let Some((lo, hi)) = set.anomaly_span() else {
            return;
        };
        for slider in &mut self.sliders {
            if Parameter::of_key(&slider.block_type, &slider.key)
                == Some(Parameter::MinAnomalyScore)
                && let SliderKind::Numeric(scale) = &mut slider.kind
            {
                *scale = scale.covering(lo, hi);
            }
        }
    }

    /// The thresholds the sliders show, as the metrics take them.
    pub fn displayed_thresholds(&self) -> Thresholds {
        Thresholds::from_blocks(
            self.sliders
                .iter()
                .map(|s| (s.block_type.as_str(), s.key.as_str(), &s.value)),
        )
    }

    /// The thresholds Studio holds, as far as the sliders know.
    pub fn saved_thresholds(&self) -> Thresholds {
        Thresholds::from_blocks(
            self.sliders
                .iter()
                .map(|s| (s.block_type.as_str(), s.key.as_str(), &s.saved)),
        )
    }

    /// Recomputes the preview and the sweep when what they depend on changed.
    pub(super) fn refresh_preview(&mut self) {
        let PreviewSource::Ready(set) = &self.preview.source else {
            self.preview.displayed = None;
            self.preview.sweep = None;
            return;
        };
        let set = Arc::clone(set);
        let thresholds = self.displayed_thresholds();
        if self.preview.computed_for != Some(thresholds) {
            self.preview.computed_for = Some(thresholds);
            self.preview.displayed = Some(set.evaluate(&thresholds));
        }
        // Where Studio's own figures do not stand for the saved thresholds, the saved
        // column is what the scores give at them.
        if self.saved_from_scores() {
            let saved = self.saved_thresholds();
            if self.preview.saved_for != Some(saved) {
                self.preview.saved_for = Some(saved);
                self.preview.saved = Some(set.evaluate(&saved));
            }
        }
        // The sweep varies the focused threshold: its own value does not change the curves,
        // so moving it (the common case) costs one evaluation, not a sweep.
        let focus = self.selected_slider().and_then(|slider| {
            let parameter = Parameter::of_key(&slider.block_type, &slider.key)?;
            let scale = *slider.scale()?;
            Some((parameter, scale))
        });
        let Some((parameter, scale)) = focus else {
            self.preview.sweep = None;
            self.preview.swept_for = None;
            return;
        };
        let others = parameter.set(&thresholds, 0.0);
        let objective = self.objective_for(&self.sliders[self.selected].id(), parameter);
        let key = (others, self.selected, objective, (scale.min, scale.max));
        if self.preview.swept_for != Some(key) {
            self.preview.swept_for = Some(key);
            let xs = sweep::search_points(parameter, &scale, &set);
            let swept = sweep::sweep(&set, &thresholds, parameter, &xs, &objective);
            self.preview.sweep = Some(swept);
            self.preview.optimum_from = None;
        }
        // The chart marks where `o` goes: the exact optimum, nearest the value shown among
        // equals (or that value, when nothing does better). It moves with the value; the
        // curves do not.
        let current = parameter.get(&thresholds);
        if self.preview.optimum_from != Some(current) {
            self.preview.optimum_from = Some(current);
            let found = optimum::best_move(&set, &thresholds, parameter, &scale, &objective);
            if let Some(sweep) = &mut self.preview.sweep {
                sweep.optimum = found.map(|(x, _)| x);
                sweep.best_score = found.map(|(_, score)| score);
            }
        }
    }

    /// Whether the saved column is computed from the scores rather than read from
    /// Studio: for object detection (Studio's figures go stale with any change and come
    /// back only after a full run), whenever Studio's figures are stale or withheld, and
    /// until its summary is read (the same figures, a summary of a large test set later).
    pub fn saved_from_scores(&self) -> bool {
        match &self.preview.source {
            PreviewSource::Ready(set) => {
                set.detection.is_some()
                    || self.metrics.stale.is_some()
                    || self.metrics.summary.is_none()
                    || self.preview.scores_from.is_some_and(|f| f.is_kept())
            }
            _ => false,
        }
    }

    /// The server's figures over the preview's labels: they change with the summary or the
    /// per-window results, not with the displayed thresholds.
    pub(super) fn refresh_saved(&mut self) {
        self.preview.saved_for = None;
        if self.saved_from_scores() {
            // Computed at the saved thresholds by `refresh_preview`.
            return;
        }
        self.preview.saved = match &self.preview.source {
            PreviewSource::Ready(set) => self
                .metrics
                .summary
                .as_ref()
                .and_then(|s| studio_figures(&s.accuracy, set)),
            _ => None,
        };
    }

    /// Moves the focused threshold to the sweep's optimum: an ordinary edit.
    pub(super) fn optimize(&mut self, now: Instant) {
        let target = match (&self.preview.source, &self.preview.sweep) {
            (PreviewSource::Ready(_), Some(sweep)) => {
                let Some(current) = self.selected_slider().and_then(|s| s.value.as_number()) else {
                    return;
                };
                // Found after every message for the value shown (`refresh_preview`).
                match sweep.optimum {
                    Some(x) if x == current => {
                        self.feedback.say(format!(
                            "already at the best value: {}",
                            sweep.objective.name()
                        ));
                        return;
                    }
                    other => other,
                }
            }
            (PreviewSource::Unavailable(why), _) => {
                self.feedback.say(format!("no preview: {why}"));
                return;
            }
            (PreviewSource::Loading { .. }, _) => {
                self.feedback.say("the results are still loading".into());
                return;
            }
            (PreviewSource::Ready(_), None) => {
                self.feedback
                    .say("only numeric score thresholds can be optimised".into());
                return;
            }
        };
        match target {
            Some(x) => {
                let before = self.preview.displayed.clone();
                self.edit(self.selected, ThresholdValue::Number(x), now);
                self.warn_if_much_worse(before);
            }
            None => {
                let objective = self.preview.sweep.as_ref().map(|s| s.objective.name());
                self.feedback.say(format!(
                    "no value of this threshold reaches: {}",
                    objective.unwrap_or_default()
                ));
            }
        }
    }

    /// `o` is an ordinary edit, saved after the quiet time: say at once when it makes a
    /// headline figure much worse, as `suggest` does.
    fn warn_if_much_worse(&mut self, before: Option<Summary>) {
        let (Some(before), PreviewSource::Ready(set)) = (before, &self.preview.source) else {
            return;
        };
        let after = set.evaluate(&self.displayed_thresholds());
        let costs = self.config.costs.as_ref();
        let worse = Figures::of(&before, costs)
            .worse_than(&Figures::of(&after, costs), crate::defaults::GUARDRAIL);
        if !worse.is_empty() {
            self.feedback.say(format!(
                "o: {} (u before it is saved undoes it)",
                worse.join("; ")
            ));
        }
    }

    /// What the threshold `id` is optimised for: the user's choice for it, else its
    /// default. Each threshold keeps its own: `O` on one changes no other.
    pub fn objective_for(&self, id: &str, parameter: Parameter) -> Objective {
        match self.preview.objectives.get(id) {
            Some(&chosen) if chosen.applies_to(parameter) => chosen,
            _ => Objective::default_for(parameter, self.config.costs).0,
        }
    }

    pub(super) fn cycle_objective(&mut self) {
        if let PreviewSource::Ready(set) = &self.preview.source
            && set.detection.is_some()
        {
            self.feedback.say(
                "object detection has one objective: F1 over the objects (found against \
                 false and missed)"
                    .into(),
            );
            return;
        }
        let Some((id, parameter)) = self.selected_slider().and_then(|s| {
            Parameter::of_key(&s.block_type, &s.key).map(|parameter| (s.id(), parameter))
        }) else {
            self.feedback
                .say("only numeric score thresholds have an objective".into());
            return;
        };
        let next = self.objective_for(&id, parameter).next(
            parameter,
            self.config.bounds,
            self.config.costs,
        );
        // Short enough for 80 columns; docs/objectives.md says why each default is one.
        let why = if next == Objective::default_for(parameter, self.config.costs).0 {
            "its default"
        } else {
            "others keep theirs"
        };
        self.preview.objectives.insert(id.clone(), next);
        self.feedback.say(format!("{id}: {} ({why})", next.name()));
    }
}

/// Studio's own figures, read back over the scores' labels (so that they are shown and
/// derived like the preview's); `None` when they name labels the scores do not have.
pub(crate) fn studio_figures(accuracy: &ModelTestingAccuracy, set: &TestSet) -> Option<Summary> {
    let counts = accuracy
        .confusion_matrix_values
        .iter()
        .flat_map(|(expected, row)| {
            row.iter()
                .map(move |(predicted, count)| (expected.as_str(), predicted.as_str(), *count))
        });
    Summary::from_counts(set, counts).ok()
}
