//! The local preview seen from the tuner: what a read of the results does to the sliders
//! and the notices, what the figures and the sweep are computed for, and `o` and `O`.
//! The preview's own state is [`Preview`](super::Preview).

use crate::api::models::{ModelTestingAccuracy, ThresholdValue};
use crate::metrics::objective::Objective;
use crate::metrics::suggest::Figures;
use crate::metrics::sweep::Parameter;
use crate::metrics::{Aggregation, Scores, Summary, TestSet, Thresholds};
use crate::tuner::preview::{Focus, Received};
use crate::tuner::{PreviewFailure, PreviewSource, SliderKind, Tuner};
use std::sync::Arc;
use std::time::Instant;

impl Tuner {
    pub(super) fn on_test_set_progress(&mut self, impulse: u64, loaded: u64, total: u64) {
        if self.wants_results_of(impulse) {
            self.preview.progress(loaded, total);
        }
    }

    /// A set kept from an earlier read of the same first page: shown at once, marked
    /// cached until the read under way confirms it. The sliders' ranges wait for Studio's
    /// own results: a cached set that proves wrong must not leave them stretched.
    pub(super) fn on_cached_test_set(&mut self, impulse: u64, set: Arc<TestSet>) {
        if self.wants_results_of(impulse) && self.preview.offer_cached(set) {
            self.refresh_saved();
        }
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
        match self.preview.receive(result) {
            Received::Confirmed { was_cached } => {
                if was_cached {
                    self.fit_ranges_to_scores();
                }
                self.feedback.take_back_preview_notice();
            }
            Received::Replaced { was_cached } => {
                self.feedback.take_back_preview_notice();
                if was_cached {
                    self.feedback.say_about_preview(
                        "the results changed since they were cached: the preview is recomputed",
                    );
                }
                self.fit_ranges_to_scores();
                self.refresh_saved();
            }
            Received::KeptAfter(why) => self.feedback.say_about_preview(&format!(
                "the per-window results were not read again ({why}): the preview keeps \
                 those it has"
            )),
            Received::Unavailable => {}
        }
    }

    /// Open-ended sliders cover the scores their thresholds are compared with, so that the
    /// sweep and `o` search every value that decides differently (Studio's suggested value
    /// may be absent, or far from the optimum).
    pub(super) fn fit_ranges_to_scores(&mut self) {
        let Some((lo, hi)) = self.preview.set().and_then(|set| set.anomaly_span()) else {
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
    pub(super) fn refresh_preview(&mut self, stop: &crate::metrics::Interrupt) {
        let check = |s: &crate::tuner::Slider, value: &ThresholdValue| {
            Thresholds::check(&s.block_type, &s.key, value).map_err(|e| e.to_string())
        };
        if let Some(Err(why)) = self
            .sliders
            .iter()
            .map(|s| check(s, &s.value))
            .find(Result::is_err)
        {
            let from_scores = self.saved_from_scores();
            self.preview.withhold(crate::text::clean(&why), from_scores);
            return;
        }
        // Where Studio's own figures do not stand for the saved thresholds, the saved
        // column is what the scores give at them (when they can be computed there).
        let saved_evaluable = self.sliders.iter().all(|s| check(s, &s.saved).is_ok());
        let saved = (self.saved_from_scores() && saved_evaluable).then(|| self.saved_thresholds());
        let focus = self.focus();
        let effort = super::preview::Effort {
            stop,
            repeats: self.config.sweep_repeats,
        };
        self.preview
            .compute(self.displayed_thresholds(), saved, focus, effort);
    }

    /// What the sweep varies: the focused slider, when it is a numeric score threshold or
    /// the visual anomaly aggregation (and the scores have both aggregations).
    fn focus(&self) -> Option<Focus> {
        let slider = self.selected_slider()?;
        let parameter = self.objective_parameter(slider)?;
        let objective = self.objective_for(&slider.id(), parameter);
        match &slider.kind {
            SliderKind::Numeric(scale) => Some(Focus::Number {
                slider: self.selected,
                parameter,
                scale: *scale,
                objective,
            }),
            SliderKind::Options(options) => Some(Focus::Options {
                slider: self.selected,
                options: Aggregation::options(options.iter().map(|o| o.value.as_str())),
                anomaly: self
                    .anomaly_partner(slider.block_id)
                    .and_then(|i| self.sliders[i].scale().copied()),
                objective,
            }),
            SliderKind::Text => None,
        }
    }

    /// The anomaly threshold that moves with an aggregation option of block `block_id`:
    /// that block's `min_anomaly_score`, else the impulse's only one.
    pub fn anomaly_partner(&self, block_id: u64) -> Option<usize> {
        let anomaly = |s: &crate::tuner::Slider| {
            Parameter::of_key(&s.block_type, &s.key) == Some(Parameter::MinAnomalyScore)
                && s.scale().is_some()
        };
        let all = || self.sliders.iter().enumerate().filter(|(_, s)| anomaly(s));
        all()
            .find(|(_, s)| s.block_id == block_id)
            .or_else(|| all().next())
            .map(|(i, _)| i)
    }

    /// The threshold whose objectives apply to `slider`: its own, or for the visual
    /// anomaly aggregation (which decides which images are flagged) the anomaly
    /// threshold's, while the scores have both aggregations and the option shown is one
    /// this version knows.
    fn objective_parameter(&self, slider: &crate::tuner::Slider) -> Option<Parameter> {
        Parameter::of_key(&slider.block_type, &slider.key).or_else(|| {
            let known =
                matches!(&slider.value, ThresholdValue::Text(v) if Aggregation::parse(v).is_some());
            (slider.key == Aggregation::KEY
                && known
                && self.preview.set().is_some_and(|set| set.aggregates()))
            .then_some(Parameter::MinAnomalyScore)
        })
    }

    /// Whether the saved column is computed from the scores rather than read from
    /// Studio: for object detection (Studio's figures go stale with any change and come
    /// back only after a full run), whenever Studio's figures are stale or withheld, and
    /// until its summary is read (the same figures, a summary of a large test set later).
    pub fn saved_from_scores(&self) -> bool {
        self.preview.set().is_some_and(|set| {
            set.detection.is_some()
                || self.metrics.stale.is_some()
                || self.metrics.summary.is_none()
                || self.preview.scores_from().is_some_and(|f| f.is_kept())
        })
    }

    /// The server's figures over the preview's labels: they change with the summary or the
    /// per-window results, not with the displayed thresholds.
    pub(super) fn refresh_saved(&mut self) {
        let studio = match (self.preview.set(), &self.metrics.summary) {
            // Else computed at the saved thresholds by `refresh_preview`.
            (Some(set), Some(summary)) if !self.saved_from_scores() => {
                studio_figures(&summary.accuracy, set)
            }
            _ => None,
        };
        self.preview.saved_changed(studio);
    }

    /// Moves the focused threshold to the sweep's optimum: an ordinary edit.
    pub(super) fn optimize(&mut self, now: Instant) {
        let target = match (self.preview.source(), self.preview.sweep()) {
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
                return self.optimize_option(now);
            }
        };
        match target {
            Some(x) => {
                let before = self.preview.displayed().cloned();
                self.edit(self.selected, ThresholdValue::Number(x), now);
                self.warn_if_much_worse(before);
            }
            None => {
                let objective = self.preview.sweep().map(|s| s.objective.name());
                self.feedback.say(format!(
                    "no value of this threshold reaches: {}",
                    objective.unwrap_or_default()
                ));
            }
        }
    }

    /// `o` on the aggregation: the best option, the one shown among equals.
    fn optimize_option(&mut self, now: Instant) {
        let Some(swept) = self.preview.option_sweep() else {
            self.feedback
                .say("only score thresholds and the anomaly aggregation can be optimised".into());
            return;
        };
        let objective = swept.objective.name();
        let Some(best) = swept.best.map(|i| swept.points[i].clone()) else {
            self.feedback
                .say(format!("no option of this threshold reaches: {objective}"));
            return;
        };
        let (option, slider) = (ThresholdValue::Text(best.value), self.selected);
        if self.sliders[slider].value == option {
            self.feedback
                .say(format!("already at the best option: {objective}"));
            return;
        }
        let before = self.preview.displayed().cloned();
        self.edit(slider, option, now);
        // Another option puts the scores on another scale: the anomaly threshold goes to
        // its best value for it, in the same save.
        let partner = self.anomaly_partner(self.sliders[slider].block_id);
        if let (Some(partner), Some((x, _))) = (partner, best.best_with)
            && self.sliders[partner].value.as_number() != Some(x)
        {
            self.edit(partner, ThresholdValue::Number(x), now);
        }
        self.warn_if_much_worse(before);
    }

    /// `o` is an ordinary edit, saved after the quiet time: say at once when it makes a
    /// headline figure much worse, as `suggest` does.
    fn warn_if_much_worse(&mut self, before: Option<Summary>) {
        let (Some(before), Some(set)) = (before, self.preview.set()) else {
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
        match self.preview.chosen_objective(id) {
            Some(chosen) if chosen.applies_to(parameter) => chosen,
            _ => Objective::default_for(parameter, self.config.costs).0,
        }
    }

    pub(super) fn cycle_objective(&mut self) {
        if self
            .preview
            .set()
            .is_some_and(|set| set.detection.is_some())
        {
            self.feedback.say(
                "object detection has one objective: F1 over the objects (found against \
                 false and missed)"
                    .into(),
            );
            return;
        }
        let Some((id, parameter)) = self.selected_slider().and_then(|s| {
            self.objective_parameter(s)
                .map(|parameter| (s.id(), parameter))
        }) else {
            self.feedback
                .say("only score thresholds and the anomaly aggregation have an objective".into());
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
        self.preview.choose_objective(id.clone(), next);
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
