//! The history: each answered set-thresholds call is handed to the event loop to be
//! written down, and the history view lists this impulse's earlier calls, any of which
//! comes back as one ordinary edit.

use crate::api::models::ThresholdValue;
use crate::history::{Answer, Call, Change, Entry, HistoryError, Reading};
use crate::metrics::suggest::Figures;
use crate::tuner::{Action, Cmd, Mode, Target, Tuner};
use std::time::Instant;

/// The history view's list: read when the view opens, kept until the next read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryList {
    /// This impulse's calls, newest first.
    entries: Vec<Entry>,
    /// Lines of the file that were not entries.
    skipped: usize,
    loading: bool,
    error: Option<String>,
}

impl HistoryList {
    /// This impulse's calls, newest first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Lines of the file that were not entries.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    pub fn loading(&self) -> bool {
        self.loading
    }

    /// Why the last read failed.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The last entry's index, for a selection to stay within.
    fn last(&self) -> usize {
        self.entries.len().saturating_sub(1)
    }

    fn reading(&mut self) {
        self.loading = true;
    }

    /// Takes a read's result; a warning about the file, if it has one.
    fn loaded(&mut self, result: Result<Reading, HistoryError>) -> Option<String> {
        self.loading = false;
        match result {
            Ok(reading) => {
                let warning = reading.warning();
                self.skipped = reading.skipped;
                self.error = None;
                self.entries = reading.entries;
                self.entries.reverse();
                warning
            }
            Err(why) => {
                self.error = Some(why.to_string());
                None
            }
        }
    }
}

/// What Studio held before an answered call, threshold by threshold.
pub(super) type HeldBefore = Vec<(u64, String, ThresholdValue)>;

impl Tuner {
    pub fn history(&self) -> &HistoryList {
        &self.history
    }

    pub(super) fn held_now(&self) -> HeldBefore {
        self.sliders
            .iter()
            .map(|s| (s.block_id, s.key.clone(), s.saved.clone()))
            .collect()
    }

    /// Hands the event loop one answered call to write down: what Studio held before and
    /// holds now as far as the sliders know, what the call asked for when it was not saved
    /// (`sent`, by slider id), the answer, and the figures at the values it holds.
    pub(super) fn record_call(
        &self,
        target: Target,
        (before, sent): (HeldBefore, &[(String, ThresholdValue)]),
        answer: Answer,
        cmds: &mut Vec<Cmd>,
    ) {
        let thresholds = before
            .into_iter()
            .map(|(block_id, key, before)| {
                let slider = self
                    .sliders
                    .iter()
                    .find(|s| s.block_id == block_id && s.key == key);
                let after = slider.map_or_else(|| before.clone(), |s| s.saved.clone());
                let sent = slider.and_then(|s| {
                    let id = s.id();
                    sent.iter().find(|(i, _)| *i == id).map(|(_, v)| v.clone())
                });
                Change {
                    block_id,
                    key,
                    before,
                    after,
                    sent,
                }
            })
            .collect();
        // No figures at values they cannot be computed at (they would be another's), nor
        // from cached scores Studio has not confirmed yet: the history keeps what is known.
        let evaluable = self
            .sliders
            .iter()
            .all(|s| crate::metrics::Thresholds::check(&s.block_type, &s.key, &s.saved).is_ok());
        let known = evaluable && !self.preview.is_cached();
        let figures = match self.preview.set().filter(|_| known) {
            Some(set) => Figures::of(
                &set.evaluate(&self.saved_thresholds()),
                self.config.costs.as_ref(),
            )
            .named(),
            _ => Default::default(),
        };
        cmds.push(Cmd::Record(Call {
            project: target.project,
            impulse: target.impulse,
            impulse_name: self
                .impulse
                .as_ref()
                .map(|i| crate::text::clean(&i.name))
                .unwrap_or_default(),
            by: "tuner".into(),
            thresholds,
            answer,
            figures,
        }));
    }

    /// Writing the history failed: said once, the tuning goes on.
    pub(super) fn on_recorded(&mut self, result: Result<(), HistoryError>) {
        if let Err(why) = result {
            self.feedback.history_not_kept(&why.to_string());
        }
    }

    pub(super) fn open_history(&mut self, cmds: &mut Vec<Cmd>) {
        let Some(at) = self.target() else {
            self.feedback.say("no impulse loaded yet".into());
            return;
        };
        self.history.reading();
        self.mode = Mode::History { selected: 0 };
        cmds.push(Cmd::LoadHistory { at });
    }

    pub(super) fn on_history_loaded(
        &mut self,
        impulse: u64,
        result: Result<Reading, HistoryError>,
    ) {
        if !self.is_current(impulse) {
            return;
        }
        if let Some(warning) = self.history.loaded(result) {
            self.feedback.say(warning);
        }
        if let Mode::History { selected } = &mut self.mode {
            *selected = (*selected).min(self.history.last());
        }
    }

    pub(super) fn on_history_action(&mut self, action: Action, now: Instant) {
        let Mode::History { selected } = &mut self.mode else {
            return;
        };
        match action {
            Action::SelectPrevious => *selected = selected.saturating_sub(1),
            Action::SelectNext => {
                *selected = (*selected + 1).min(self.history.last());
            }
            Action::Confirm => {
                let chosen = *selected;
                self.mode = Mode::Normal;
                self.restore(chosen, now);
            }
            Action::Cancel => self.mode = Mode::Normal,
            _ => {}
        }
    }

    /// Brings back the values Studio held after entry `index`: each slider moves as if
    /// the user had typed its value, and one call follows the quiet time. A value no
    /// slider takes any more (a threshold gone, an option removed) is said and left out.
    fn restore(&mut self, index: usize, now: Instant) {
        let Some(entry) = self.history.entries().get(index).cloned() else {
            return;
        };
        let mut moved = 0;
        let mut refused = Vec::new();
        for change in &entry.call.thresholds {
            let Some(i) = self
                .sliders
                .iter()
                .position(|s| s.block_id == change.block_id && s.key == change.key)
            else {
                refused.push(format!(
                    "{}.{}: no such threshold now",
                    change.block_id, change.key
                ));
                continue;
            };
            match self.sliders[i].parse_input(&change.after.to_string()) {
                Ok(value) if value == self.sliders[i].value => {}
                Ok(value) => {
                    self.edit(i, value, now);
                    moved += 1;
                }
                Err(why) => refused.push(format!("{}: {why}", self.sliders[i].id())),
            }
        }
        let when = entry.when();
        let mut notice = if moved == 0 {
            format!("already at the values of {when}")
        } else {
            format!("the values of {when}: {moved} changed, saved after the quiet time")
        };
        if !refused.is_empty() {
            notice.push_str(&format!("; left out: {}", refused.join(", ")));
        }
        self.feedback.say(crate::text::clean(&notice));
    }
}
