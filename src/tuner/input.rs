//! What the user asks for: actions (from keys, at the edge) and pointer events, as edits
//! and changes of screen.

use crate::api::models::ThresholdValue;
use crate::tuner::{
    Action, Cmd, JobProgress, MAX_TYPED_CHARS, Mode, Pointer, Slider, SliderKind, SyncState, Tuner,
};
use std::time::Instant;

impl Tuner {
    pub(super) fn on_action(&mut self, action: Action, now: Instant, cmds: &mut Vec<Cmd>) {
        if action == Action::Quit {
            return self.quit(now, cmds);
        }
        match &self.mode {
            Mode::Help => self.mode = Mode::Normal,
            Mode::Picker { .. } => self.on_picker_action(action, now, cmds),
            Mode::History { .. } => self.on_history_action(action, now),
            Mode::Map => self.on_map_action(action, now),
            Mode::Input { .. } => self.on_editor_action(action, now),
            Mode::Normal => self.on_main_action(action, now, cmds),
        }
    }

    fn on_picker_action(&mut self, action: Action, now: Instant, cmds: &mut Vec<Cmd>) {
        let Mode::Picker { selected } = &mut self.mode else {
            return;
        };
        match action {
            Action::SelectPrevious => *selected = selected.saturating_sub(1),
            Action::SelectNext => {
                *selected = (*selected + 1).min(self.impulses.len().saturating_sub(1));
            }
            Action::Confirm => {
                let chosen = self.impulses.get(*selected).map(|i| i.id);
                self.mode = Mode::Normal;
                if let Some(id) = chosen {
                    self.switch_impulse(id, now, cmds);
                }
            }
            Action::Cancel => self.mode = Mode::Normal,
            _ => {}
        }
    }

    fn on_editor_action(&mut self, action: Action, now: Instant) {
        let Mode::Input { text, error } = &mut self.mode else {
            return;
        };
        match action {
            Action::Cancel => self.mode = Mode::Normal,
            Action::Erase => {
                text.pop();
                *error = None;
            }
            Action::EraseAll => {
                text.clear();
                *error = None;
            }
            Action::Type(c) if !c.is_control() && text.chars().count() < MAX_TYPED_CHARS => {
                text.push(c);
                *error = None;
            }
            Action::Confirm => {
                let typed = text.clone();
                let Some(slider) = self.sliders.get(self.selected) else {
                    self.mode = Mode::Normal;
                    return;
                };
                match slider.parse_input(&typed) {
                    Ok(value) => {
                        self.mode = Mode::Normal;
                        self.edit(self.selected, value, now);
                    }
                    Err(e) => {
                        if let Mode::Input { error, .. } = &mut self.mode {
                            *error = Some(e.to_string());
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn on_main_action(&mut self, action: Action, now: Instant, cmds: &mut Vec<Cmd>) {
        if let Some(value) = self.value_for(action) {
            return self.edit(self.selected, value, now);
        }
        match action {
            Action::SelectPrevious => self.selected = self.selected.saturating_sub(1),
            Action::SelectNext => {
                self.selected = (self.selected + 1).min(self.sliders.len().saturating_sub(1));
            }
            Action::Activate | Action::EditValue => self.start_input(),
            Action::Regenerate => self.regenerate(now, cmds),
            Action::Reload => self.reload(now, cmds),
            Action::ImpulsePicker => self.open_picker(),
            Action::Help => self.mode = Mode::Help,
            Action::History => self.open_history(cmds),
            Action::Map => self.open_map(),
            Action::Optimize => self.optimize(now),
            Action::CycleObjective => self.cycle_objective(),
            Action::KeepMine if self.changed_elsewhere() => self.keep_mine(now),
            Action::TakeTheirs if self.changed_elsewhere() => {
                if self.take_theirs()
                    && let Some(target) = self.target()
                {
                    // Studio's figures are those of its value, which the tuner had not read.
                    self.ask_results(target, cmds);
                }
            }
            Action::KeepMine | Action::TakeTheirs => self.say_nothing_to_do(action),
            Action::Suggested => {
                if let Some(s) = self.selected_slider() {
                    self.feedback
                        .say(format!("{} has no suggested value", s.id()));
                }
            }
            Action::RevertToSaved => self.say_nothing_to_do(action),
            _ => {}
        }
    }

    fn changed_elsewhere(&self) -> bool {
        self.selected_slider()
            .is_some_and(|s| matches!(s.sync, SyncState::ChangedElsewhere { .. }))
    }

    /// A key that had nothing to act on says so, rather than nothing at all.
    fn say_nothing_to_do(&mut self, action: Action) {
        let Some(id) = self.selected_slider().map(Slider::id) else {
            return;
        };
        self.feedback.say(match action {
            Action::RevertToSaved => format!("{id} is at its saved value"),
            _ => format!("{id} was not changed elsewhere: nothing to keep or take"),
        });
    }

    /// The value an action moves the focused slider to, if it moves it.
    fn value_for(&self, action: Action) -> Option<ThresholdValue> {
        let slider = self.sliders.get(self.selected)?;
        let dropdown = matches!(slider.kind, SliderKind::Options(_));
        match action {
            Action::StepDown => Some(slider.stepped(-1, false)),
            Action::StepUp => Some(slider.stepped(1, false)),
            Action::CoarseDown => Some(slider.stepped(-1, true)),
            Action::CoarseUp => Some(slider.stepped(1, true)),
            Action::RangeStart => Some(slider.at_fraction(0.0)),
            Action::RangeEnd => Some(slider.at_fraction(1.0)),
            Action::Jump(d) => Some(slider.at_fraction(f64::from(d.min(9)) / 10.0)),
            Action::Suggested => slider.suggested.map(ThresholdValue::Number),
            Action::RevertToSaved => (slider.value != slider.saved).then(|| slider.saved.clone()),
            Action::Activate | Action::CycleOption if dropdown => Some(slider.stepped(1, false)),
            _ => None,
        }
    }

    fn open_picker(&mut self) {
        if self.impulses.is_empty() {
            return;
        }
        let current = self.impulse.as_ref().map(|i| i.id);
        let selected = self
            .impulses
            .iter()
            .position(|i| Some(i.id) == current)
            .unwrap_or(0);
        self.mode = Mode::Picker { selected };
    }

    fn start_input(&mut self) {
        if let Some(s) = self.sliders.get(self.selected) {
            self.mode = Mode::Input {
                text: s.display(&s.value),
                error: None,
            };
        }
    }

    pub(super) fn on_pointer(&mut self, pointer: Pointer, now: Instant) {
        if let (Mode::Map, Pointer::MapPoint { j, k }) = (&self.mode, pointer) {
            return self.on_map_pointer(j, k, now);
        }
        if self.mode != Mode::Normal {
            // A click elsewhere closes a list or the editor; the wheel never does (what was
            // typed would be lost to a scroll).
            if !matches!(pointer, Pointer::Wheel { .. }) {
                self.mode = Mode::Normal;
            }
            return;
        }
        match pointer {
            Pointer::Press { slider, fraction } if slider < self.sliders.len() => {
                self.selected = slider;
                if let Some(f) = fraction {
                    let value = self.sliders[slider].at_fraction(f);
                    self.edit(slider, value, now);
                }
            }
            Pointer::Drag { slider, fraction } if slider < self.sliders.len() => {
                self.selected = slider;
                let value = self.sliders[slider].at_fraction(fraction);
                self.edit(slider, value, now);
            }
            Pointer::Wheel { slider, up } if slider < self.sliders.len() => {
                self.selected = slider;
                let value = self.sliders[slider].stepped(if up { 1 } else { -1 }, false);
                self.edit(slider, value, now);
            }
            _ => {}
        }
    }

    fn regenerate(&mut self, now: Instant, cmds: &mut Vec<Cmd>) {
        let Some(target) = self.target() else {
            return;
        };
        if self.job.is_some() {
            self.feedback
                .say("a regeneration job is already running".into());
            return;
        }
        self.job = Some(JobProgress::new(None, "starting", now));
        // Object detection's results come back only from model testing run again; when
        // only thresholds changed since the last run, its features are there already.
        let full_run = self
            .impulse
            .as_ref()
            .is_some_and(|i| i.learn_blocks.iter().any(|b| b.kind.is_object_detection()));
        cmds.push(Cmd::StartRegeneration {
            at: target,
            full_run,
            skip_features: full_run && self.metrics.stale.is_some(),
        });
    }

    /// `r`: failed values go again now; then everything is read back.
    fn reload(&mut self, now: Instant, cmds: &mut Vec<Cmd>) {
        self.mark_failed_for_resending();
        self.send(now, cmds);
        let Some(target) = self.target() else {
            return self.load(self.opening.early(), cmds);
        };
        self.load(Some(target.impulse), cmds);
        self.ask_results(target, cmds);
        // The scores too, unless a read of them is under way: whatever became of them
        // (lost to a failure, kept while Studio withholds them, retrained elsewhere), `r`
        // asks Studio again.
        let reading = self.preview.is_reading();
        if !reading {
            self.load_test_set(cmds);
        }
        self.feedback.say(if reading {
            "reading the thresholds and results again (the scores are being read)".into()
        } else {
            "reading the thresholds, results and scores again".into()
        });
    }
}
