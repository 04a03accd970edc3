//! When values leave for Studio: the save path as one state machine.
//!
//! [`Save`] says when the next set-thresholds call goes; [`ReadBack`] whether what Studio
//! holds must be read again because an answer was lost. Their transitions are the methods
//! of [`SaveEngine`]; [`SaveEngine::plan`] decides, purely, what follows an answer. The
//! values themselves, and where each stands ([`SyncState`]), live in the sliders.
//!
//! The rules:
//! - An edit shows at once and (re)arms the quiet time (debounce).
//! - When it passes, one call carries every value changed since the last one, with
//!   `allowCreatingRegenerateModelTestingJobs: false`.
//! - At most one call is in flight; edits made meanwhile go in one follow-up after it.
//! - An answer never moves a slider the user moved since its call went out.
//! - Transient failures are resent with growing waits, within bounds of attempts and
//!   time; a job that blocks changes is followed and the values go when it ends or is
//!   lost; other failures mark the values failed (the next edit or `r` resends them).
//! - After a lost answer the values are not sent again blind: what Studio holds is read
//!   back at once (and after a later call that succeeds), again after a growing wait if
//!   that read fails, and once more when the lost call can no longer be in transit. A value
//!   Studio holds is saved; one it does not is sent again; a late-applied older call must
//!   not win.
//! - A reload never undoes a value saved after it was asked for: its snapshot is older.

mod answer;
mod engine;

use crate::api::client::Believed;
use crate::api::models::{SetImpulseThresholdsRequest, ThresholdUpdate, ThresholdValue};
use crate::tuner::{Cmd, PreviewSource, StatusEntry, StatusOutcome, SyncState, Target, Tuner};
use std::time::{Duration, Instant};

/// When the next call goes.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Save {
    /// Nothing waits.
    Idle,
    /// Edits wait for their quiet time to end.
    Debouncing { until: Instant },
    /// One call is out; `then` ends the quiet time of edits made meanwhile.
    InFlight {
        flight: InFlight,
        then: Option<Instant>,
    },
    /// A transient failure: resend at `until`.
    Backoff { until: Instant },
    /// A job blocks changes: send when it ends, or when it is no longer followed.
    HeldByJob,
    /// The scores are being read for the first time and a save may make Studio stop
    /// serving them: send when the read ends, or at `until` whatever it does; edits made
    /// meanwhile end their quiet time at `quiet`.
    HeldForScores { until: Instant, quiet: Instant },
}

/// Whether what Studio holds must be read back after a lost answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum ReadBack {
    None,
    /// After the next call that succeeds.
    AfterNextSave,
    /// The read-back failed (`attempt` times), or waits for a lost call's last moment:
    /// ask again at `until`.
    Backoff {
        until: Instant,
        attempt: u32,
    },
    /// Asked for as load `load`; until it answers, every load is read as a read-back.
    Loading {
        load: u64,
    },
}

/// What follows a set-thresholds answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Plan {
    Done,
    Retry(Duration),
    /// The answer was lost: what Studio holds says whether the call was applied.
    ReadBack,
    FollowJob(u64),
    GiveUp,
}

/// What to do once nothing is unsaved and nothing is in flight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum AfterSettle {
    /// Quit, or at `by` whatever is left.
    Quit {
        by: Instant,
    },
    Switch(u64),
}

/// What to do with the values after an answer.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Next {
    Send,
    Wait,
    Settle,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct InFlight {
    pub(super) request_id: u64,
    target: Target,
    sent_at: Instant,
    /// (slider id, its edit count when sent, the value sent)
    entries: Vec<(String, u64, ThresholdValue)>,
}

impl InFlight {
    /// Each value sent, by slider id.
    pub(super) fn sent(&self) -> Vec<(String, ThresholdValue)> {
        self.entries
            .iter()
            .map(|(id, _, value)| (id.clone(), value.clone()))
            .collect()
    }
}

/// The save path's state: every field that decides when a value leaves.
#[derive(Debug, Clone)]
pub(super) struct SaveEngine {
    pub(super) phase: Save,
    pub(super) read_back: ReadBack,
    /// Consecutive transient failures, and when the first of them happened.
    failures: u32,
    failing_since: Option<Instant>,
    pub(super) after_settle: Option<AfterSettle>,
    next_request: u64,
    next_load: u64,
    /// Calls answered with success so far: a slider remembers the count its saved value
    /// came with, a load the count when it was asked for.
    saves: u64,
    /// Loads asked for and not answered yet, with the save count then.
    loads: Vec<(u64, u64)>,
    /// Loads asked for before another impulse was opened: their answers count no more.
    abandoned: Vec<u64>,
    /// The newest load whose snapshot was taken in: an older one's answer is older still.
    newest_merged: u64,
    /// Until when a call whose answer was lost may still land.
    late_until: Option<Instant>,
    /// Failed read-backs in a row, for the wait before the next.
    read_back_attempt: u32,
}

impl Default for SaveEngine {
    fn default() -> Self {
        Self {
            phase: Save::Idle,
            read_back: ReadBack::None,
            failures: 0,
            failing_since: None,
            after_settle: None,
            next_request: 1,
            next_load: 1,
            saves: 0,
            loads: Vec::new(),
            abandoned: Vec::new(),
            newest_merged: 0,
            late_until: None,
            read_back_attempt: 0,
        }
    }
}

/// The tuner's side of the save path: the sliders change with each transition.
impl Tuner {
    /// The one way a value changes: shown at once, sent after the debounce.
    pub(super) fn edit(&mut self, i: usize, value: ThresholdValue, now: Instant) {
        let Some(slider) = self.sliders.get_mut(i) else {
            return;
        };
        // Whatever the source (a history entry, a range stretched to infinity), a value
        // that is not a finite number never becomes one to send.
        if matches!(value, ThresholdValue::Number(v) if !v.is_finite()) {
            self.feedback.say(format!(
                "{}: not a finite number, left as it is",
                slider.id()
            ));
            return;
        }
        if slider.value == value {
            return;
        }
        slider.set_value(value);
        slider.edits += 1;
        slider.sync = SyncState::Edited;
        self.feedback.hush();
        self.save
            .edited(now, self.config.debounce, self.job.is_some());
    }

    pub(super) fn on_tick(&mut self, now: Instant, cmds: &mut Vec<Cmd>) {
        if matches!(self.save.after_settle, Some(AfterSettle::Quit { by }) if by <= now) {
            return self.finish();
        }
        if let Some(load) = self.save.read_back_due(now) {
            self.read_back(load, cmds);
        }
        if self.save.due(now) {
            self.send(now, cmds);
        }
    }

    /// Reads back what Studio holds, as load `load`.
    fn read_back(&mut self, load: u64, cmds: &mut Vec<Cmd>) {
        if self.opening.under_way() {
            // Another impulse is being opened: what was owed for this one no longer
            // applies (as when it has opened).
            return self.save.forget_impulse();
        }
        if let Some(impulse) = self.impulse.as_ref().map(|i| i.id) {
            cmds.push(Cmd::LoadImpulse {
                load,
                project: self.project.clone(),
                impulse: Some(impulse),
                open: false,
            });
        }
    }

    /// Sends every unsaved value in one call, unless a call is in flight or a job blocks.
    pub(super) fn send(&mut self, now: Instant, cmds: &mut Vec<Cmd>) {
        if self.save.in_flight() {
            return;
        }
        let Some(target) = self.target() else {
            return;
        };
        if self.hold_for_scores(now) {
            return;
        }
        if self.job.is_some() {
            // Held until the job ends; nothing left ticking meanwhile (a past retry
            // deadline would wake the loop without end).
            let waiting = self
                .sliders
                .iter()
                .any(|s| matches!(s.sync, SyncState::Edited | SyncState::Retrying { .. }));
            self.save.phase = if waiting { Save::HeldByJob } else { Save::Idle };
            return;
        }
        let entries = self.take_unsent();
        if entries.is_empty() {
            self.save.phase = Save::Idle;
            // Nothing left to send after a lost answer: read back now, not never.
            if let Some(load) = self.save.read_back_after_save() {
                self.read_back(load, cmds);
            }
            return self.settle(cmds);
        }
        let request_id = self.save.request_id();
        self.record_sending(request_id, &entries, now);
        let updates = entries
            .iter()
            .filter_map(|(id, _, value)| {
                let slider = self.sliders.iter().find(|s| s.id() == *id)?;
                Some(ThresholdUpdate::new(
                    slider.block_id,
                    slider.key.clone(),
                    value.clone(),
                ))
            })
            .collect();
        cmds.push(Cmd::SetThresholds {
            request_id,
            at: target,
            request: SetImpulseThresholdsRequest::without_jobs(updates),
            believed: self.believed(),
        });
        self.save.start(InFlight {
            request_id,
            target,
            sent_at: now,
            entries,
        });
    }

    /// While the scores are read for the first time, a save waits for them (at most
    /// `scores_hold`): Studio may stop serving them once a threshold changes (a large test
    /// set needs a job to regenerate them), and the preview would have nothing to show.
    /// Quitting does not wait.
    fn hold_for_scores(&mut self, now: Instant) -> bool {
        let reading = matches!(self.preview.source(), PreviewSource::Loading { .. });
        if !reading || self.save.is_quitting() || self.save.held_for_scores() {
            return false;
        }
        self.save
            .hold_for_scores(now + self.config.scores_hold, now);
        true
    }

    /// The status pane's line for a call going out. A retry takes the place of the
    /// attempt before it: one line per burst, not one per attempt (the slider counts them).
    fn record_sending(
        &mut self,
        request_id: u64,
        entries: &[(String, u64, ThresholdValue)],
        now: Instant,
    ) {
        if self.save.retrying() {
            self.feedback.drop_failed_attempt();
        }
        let sent = entries
            .iter()
            .map(|(id, _, v)| format!("{id}={}", self.display_of(id, v)))
            .collect();
        self.push_status(StatusEntry {
            request_id,
            at: self.since_start(now),
            sent,
            latency: None,
            outcome: StatusOutcome::Pending,
        });
    }

    /// Every value to send now, marked as sending.
    fn take_unsent(&mut self) -> Vec<(String, u64, ThresholdValue)> {
        let mut entries = Vec::new();
        for slider in &mut self.sliders {
            // Values changed elsewhere wait for the user's word (m or t); refused ones for
            // the user to edit them again or press r, so that one refused value does not
            // sink every later call.
            if matches!(
                slider.sync,
                SyncState::Saved
                    | SyncState::Sending
                    | SyncState::Unconfirmed
                    | SyncState::ChangedElsewhere { .. }
                    | SyncState::Failed(_)
            ) {
                continue;
            }
            if slider.value == slider.saved {
                // Moved back to what the server holds: nothing to send.
                slider.sync = SyncState::Saved;
                continue;
            }
            slider.sync = SyncState::Sending;
            slider.remember_sent();
            entries.push((slider.id(), slider.edits, slider.value.clone()));
        }
        entries
    }

    /// What Studio held, as far as this tuner knows, for every threshold: the call reads
    /// them all, so that a change made elsewhere to any of them shows.
    fn believed(&self) -> Vec<Believed> {
        let Some(impulse) = &self.impulse else {
            return Vec::new();
        };
        self.sliders
            .iter()
            .filter_map(|slider| {
                let block = impulse
                    .learn_blocks
                    .iter()
                    .find(|b| b.id == slider.block_id)?;
                Some(Believed {
                    block: block.clone(),
                    key: slider.key.clone(),
                    value: slider.saved.clone(),
                    maybe_ours: slider.sent.clone(),
                })
            })
            .collect()
    }
}
