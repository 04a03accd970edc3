//! What an answer to set-thresholds does: to each value it carried, to the status pane,
//! and to what was waiting for it (quitting, switching impulse, a job's end).

use super::{AfterSettle, InFlight, Next, Plan, Save};
use crate::api::client::ChangedElsewhere;
use crate::api::models::SetImpulseThresholdsResponse;
use crate::api::{ApiError, Outcome};
use crate::tuner::{
    Cmd, Connection, ExitReport, JobProgress, Mode, StatusEntry, StatusOutcome, SyncState, Target,
    Tuner,
};
use std::time::Instant;

impl Tuner {
    pub(in crate::tuner) fn on_set_done(
        &mut self,
        request_id: u64,
        outcome: Outcome,
        now: Instant,
        cmds: &mut Vec<Cmd>,
    ) {
        let Some((flight, then)) = self.save.answered(request_id) else {
            return; // an answer to a request this tuner no longer waits for
        };
        let changed = outcome.changed_elsewhere().to_vec();
        let unknown = matches!(outcome, Outcome::Unknown { .. });
        // The tuner writes once and reads back on its own schedule: an outcome is an
        // answer (nothing sent when every value changed elsewhere) or an error.
        let result = match outcome {
            Outcome::Applied { response } => Ok(response),
            Outcome::Partial { response, .. } => Ok(Some(response)),
            Outcome::ChangedElsewhere(_) => Ok(None),
            Outcome::NotSent { error }
            | Outcome::NotApplied { error }
            | Outcome::Unknown { error } => Err(error),
        };
        let before = self.held_now();
        let plan = self
            .save
            .plan(&result, &self.config, self.job.is_some(), request_id, now);
        self.mark_answered(&flight, &result, plan, &changed);
        self.report_changed_elsewhere(&flight, &changed, now, cmds);
        let answer = match &result {
            Ok(Some(response)) => Some(crate::history::Answer::saved(response)),
            Ok(None) => None, // nothing was sent
            // Read back later: a second entry says what it found.
            Err(e) if unknown => Some(crate::history::Answer::unknown(&e.short_reason())),
            Err(e) => Some(crate::history::Answer::failed(&e.short_reason())),
        };
        if let Some(answer) = answer {
            // Not saved: what the call asked for is written beside what Studio holds.
            let sent = if result.is_err() {
                flight.sent()
            } else {
                Vec::new()
            };
            self.record_call(flight.target, (before, &sent), answer, cmds);
        }
        let outcome = self.status_outcome(&result, plan);
        let latency = now.saturating_duration_since(flight.sent_at);
        self.feedback.answered(request_id, latency, outcome);
        match &result {
            Ok(response) => self.on_saved(flight.target, response.as_ref(), now, cmds),
            Err(e) => self.on_failed(&flight, e, plan, now, cmds),
        }
        let edited = self.sliders.iter().any(|s| s.sync == SyncState::Edited);
        match self.save.after_answer(plan, then, edited, now) {
            Next::Send => self.send(now, cmds),
            Next::Settle => self.settle(cmds),
            Next::Wait => {}
        }
    }

    pub(super) fn on_saved(
        &mut self,
        target: Target,
        response: Option<&SetImpulseThresholdsResponse>,
        now: Instant,
        cmds: &mut Vec<Cmd>,
    ) {
        self.connection = Connection::Connected;
        if let Some(load) = self.save.read_back_after_save() {
            // An earlier call may have been applied late: read back what Studio holds.
            self.read_back(load, cmds);
        }
        if let Some(response) = response {
            self.on_regeneration_status(target, response, now, cmds);
        }
    }

    pub(super) fn on_failed(
        &mut self,
        flight: &InFlight,
        e: &ApiError,
        plan: Plan,
        now: Instant,
        cmds: &mut Vec<Cmd>,
    ) {
        let (target, sent_at) = (flight.target, flight.sent_at);
        if e.outcome_unknown() {
            self.save
                .lost_answer(sent_at + self.config.lost_call_window);
            if plan == Plan::ReadBack
                && let Some(load) = self.save.read_back_now()
            {
                self.read_back(load, cmds);
            }
        }
        if matches!(e, ApiError::Network { .. }) {
            self.connection = Connection::Failing(e.short_reason());
        }
        if let Plan::FollowJob(job_id) = plan {
            self.feedback.say(format!(
                "a model testing job ({job_id}) blocks changes: sending when it finishes"
            ));
            self.job = Some(JobProgress::new(Some(job_id), "running", now));
            cmds.push(Cmd::PollJob {
                project: target.project,
                job_id,
                after: self.config.job_poll,
            });
        }
    }

    /// Values changed elsewhere, whether in the call (not sent) or not: Studio's figures
    /// are those of the other values, so they are read again.
    pub(super) fn report_changed_elsewhere(
        &mut self,
        flight: &InFlight,
        changed: &[ChangedElsewhere],
        now: Instant,
        cmds: &mut Vec<Cmd>,
    ) {
        let sent: Vec<String> = flight.entries.iter().map(|(id, _, _)| id.clone()).collect();
        let held: Vec<String> = changed
            .iter()
            .filter(|c| sent.contains(&format!("{}.{}", c.block_id, c.key)))
            .map(|c| format!("{}.{} is now {}", c.block_id, c.key, c.value))
            .collect();
        self.note_changed_elsewhere(changed, &sent, now);
        if !held.is_empty() {
            self.feedback
                .say(format!("changed elsewhere, not sent: {}", held.join(", ")));
        }
        if !changed.is_empty() {
            self.ask_results(flight.target, cmds);
        }
    }

    /// Each value the call carried, as its answer leaves it.
    pub(super) fn mark_answered(
        &mut self,
        flight: &InFlight,
        result: &Result<Option<SetImpulseThresholdsResponse>, ApiError>,
        plan: Plan,
        changed_elsewhere: &[ChangedElsewhere],
    ) {
        let (failures, saves) = (self.save.failures(), self.save.saves());
        for (id, edits_at_send, value) in &flight.entries {
            let Some(slider) = self.sliders.iter_mut().find(|s| s.id() == *id) else {
                continue;
            };
            let untouched = slider.edits == *edits_at_send;
            if let Some(theirs) = changed_elsewhere
                .iter()
                .find(|c| c.block_id == slider.block_id && c.key == slider.key)
            {
                // Not sent: Studio's value is someone else's, and the user decides.
                slider.saved = theirs.value.clone();
                slider.sync = SyncState::ChangedElsewhere {
                    theirs: theirs.value.clone(),
                };
                continue;
            }
            match (result, plan) {
                (Ok(_), _) => {
                    slider.saved = value.clone();
                    slider.confirmed_at = saves;
                    if untouched {
                        slider.sync = SyncState::Saved;
                    }
                }
                // Newer edits keep their own state: they go in the next call anyway.
                (Err(_), _) if !untouched => {}
                (Err(_), Plan::FollowJob(_)) => slider.sync = SyncState::Edited,
                (Err(_), Plan::ReadBack) => slider.sync = SyncState::Unconfirmed,
                (Err(_), Plan::Retry(delay)) => {
                    slider.sync = SyncState::Retrying {
                        attempt: failures,
                        delay,
                    };
                }
                (Err(e), _) => slider.sync = SyncState::Failed(e.short_reason()),
            }
        }
    }

    /// The status pane's line for a call's answer.
    pub(super) fn status_outcome(
        &self,
        result: &Result<Option<SetImpulseThresholdsResponse>, ApiError>,
        plan: Plan,
    ) -> StatusOutcome {
        match (result, plan) {
            (Ok(Some(r)), _) => StatusOutcome::Saved(r.clone()),
            (Ok(None), _) => StatusOutcome::Held("not sent: changed elsewhere".into()),
            (Err(e), Plan::Retry(delay)) => StatusOutcome::Failed(format!(
                "{e}; retrying (attempt {}, next in {:.1} s)",
                self.save.failures() + 1,
                delay.as_secs_f64()
            )),
            (Err(e), Plan::ReadBack) => {
                StatusOutcome::Failed(format!("{e}; reading back what Studio holds"))
            }
            (Err(e), Plan::FollowJob(job)) => {
                StatusOutcome::Failed(format!("{e}; sending again when job {job} finishes"))
            }
            (Err(e), _) => StatusOutcome::Failed(e.to_string()),
        }
    }

    /// Values changed elsewhere that were not in the call: a saved slider takes the new
    /// value, an edited one is held like a sent one.
    pub(super) fn note_changed_elsewhere(
        &mut self,
        changed: &[ChangedElsewhere],
        sent: &[String],
        now: Instant,
    ) {
        let mut taken = Vec::new();
        for c in changed {
            let Some(slider) = self
                .sliders
                .iter_mut()
                .find(|s| s.block_id == c.block_id && s.key == c.key)
            else {
                continue;
            };
            if sent.contains(&slider.id()) {
                continue;
            }
            slider.saved = c.value.clone();
            if slider.sync == SyncState::Saved {
                slider.set_value(c.value.clone());
                slider.edits += 1;
                taken.push(format!(
                    "{} is now {}",
                    slider.id(),
                    slider.display(&c.value)
                ));
            } else {
                slider.sync = SyncState::ChangedElsewhere {
                    theirs: c.value.clone(),
                };
            }
        }
        if !taken.is_empty() {
            self.feedback
                .say(format!("changed elsewhere: {}", taken.join(", ")));
            self.push_status(StatusEntry {
                request_id: 0,
                at: self.since_start(now),
                sent: taken,
                latency: None,
                outcome: StatusOutcome::Held("changed elsewhere: taken from Studio".into()),
            });
        }
    }

    /// `m`: send the user's value over the one changed elsewhere.
    pub(in crate::tuner) fn keep_mine(&mut self, now: Instant) {
        if let Some(slider) = self.sliders.get_mut(self.selected)
            && matches!(slider.sync, SyncState::ChangedElsewhere { .. })
        {
            slider.sync = SyncState::Edited;
            slider.edits += 1;
            self.feedback.hush();
            self.save.hurry(now);
        }
    }

    /// `t`: take the value changed elsewhere; whether there was one.
    pub(in crate::tuner) fn take_theirs(&mut self) -> bool {
        let Some(slider) = self.sliders.get_mut(self.selected) else {
            return false;
        };
        let SyncState::ChangedElsewhere { theirs } = &slider.sync else {
            return false;
        };
        let theirs = theirs.clone();
        slider.set_value(theirs.clone());
        slider.saved = theirs;
        slider.sync = SyncState::Saved;
        slider.edits += 1;
        self.feedback.hush();
        true
    }

    /// Nothing unsaved and nothing in flight: do what was waiting for that.
    pub(super) fn settle(&mut self, cmds: &mut Vec<Cmd>) {
        if self.save.in_flight() {
            return;
        }
        match self.save.after_settle {
            Some(AfterSettle::Quit { .. }) => {
                let pending = self.sliders.iter().any(|s| {
                    matches!(
                        s.sync,
                        SyncState::Edited | SyncState::Retrying { .. } | SyncState::Unconfirmed
                    )
                });
                if !pending {
                    self.finish();
                }
            }
            Some(AfterSettle::Switch(id)) => {
                self.save.after_settle = None;
                if self.has_unsaved() {
                    // Saving failed: stay, so that nothing is lost.
                    self.feedback
                        .say("not switched: some values were not saved".into());
                } else {
                    self.feedback.hush();
                    self.load(Some(id), cmds);
                }
            }
            None => {}
        }
    }

    pub(in crate::tuner) fn quit(&mut self, now: Instant, cmds: &mut Vec<Cmd>) {
        if self.is_quitting() || !self.has_unsaved() {
            return self.finish();
        }
        self.save.after_settle = Some(AfterSettle::Quit {
            by: now + self.config.save_on_quit,
        });
        self.feedback
            .say("saving… (quit again to exit without saving)".into());
        self.mode = Mode::Normal;
        // Failed values too: quitting is the last chance to save them.
        self.mark_failed_for_resending();
        if let Some(job) = &self.job {
            // A running job would refuse the call: the values go when it ends, within the
            // time quitting waits; the exit report says what did not.
            self.feedback.say(format!(
                "saving when job {} ends, waiting {} s at most… (quit again to exit without \
                 saving)",
                job.id().map_or_else(|| "?".into(), |id| id.to_string()),
                self.config.save_on_quit.as_secs()
            ));
            if !self.save.in_flight() {
                self.save.phase = Save::HeldByJob;
            }
            return;
        }
        self.save.hurry(now);
        self.send(now, cmds);
    }

    pub(in crate::tuner) fn mark_failed_for_resending(&mut self) {
        for slider in &mut self.sliders {
            if matches!(slider.sync, SyncState::Failed(_)) {
                slider.sync = SyncState::Edited;
            }
        }
    }

    /// Stops, listing what Studio does not hold, and saying so only where it is known.
    pub(in crate::tuner) fn finish(&mut self) {
        let answer_lost = self.save.answer_lost();
        let in_flight: Vec<String> = match &self.save.phase {
            Save::InFlight { flight, .. } => {
                flight.entries.iter().map(|(id, _, _)| id.clone()).collect()
            }
            _ => Vec::new(),
        };
        let job = self.job.as_ref().and_then(JobProgress::id);
        let unsaved = self
            .sliders
            .iter()
            .filter(|s| match s.sync {
                SyncState::Saved => false,
                // Moved back to what Studio holds: nothing to save.
                SyncState::Edited => s.value != s.saved,
                _ => true,
            })
            .map(|s| {
                let (id, value) = (s.id(), s.display(&s.value));
                let why = match &s.sync {
                    SyncState::ChangedElsewhere { theirs } => {
                        format!("not sent: changed elsewhere to {}", s.display(theirs))
                    }
                    _ if in_flight.contains(&id) || (answer_lost && s.sent.contains(&s.value)) => {
                        "sent, but no answer came: Studio may or may not hold it".into()
                    }
                    SyncState::Edited if job.is_some() => format!(
                        "not sent: job {} still runs; Studio had {}",
                        job.unwrap_or_default(),
                        s.display(&s.saved)
                    ),
                    _ => format!("Studio has {}", s.display(&s.saved)),
                };
                format!("{id}={value} ({why})")
            })
            .collect();
        self.exit = Some(ExitReport { unsaved });
    }

    pub(in crate::tuner) fn switch_impulse(&mut self, id: u64, now: Instant, cmds: &mut Vec<Cmd>) {
        if self.is_current(id) {
            return;
        }
        if self.has_unsaved() {
            self.save.after_settle = Some(AfterSettle::Switch(id));
            self.feedback.say("saving before switching impulse…".into());
            self.save.hurry(now);
            self.send(now, cmds);
        } else {
            self.load(Some(id), cmds);
        }
    }

    /// The job is over, or no longer followed: values held back while it ran go now.
    pub(in crate::tuner) fn end_job(&mut self, now: Instant, cmds: &mut Vec<Cmd>) {
        self.job = None;
        if self.save.phase == Save::HeldByJob {
            self.save.phase = Save::Idle;
        }
        if self.sliders.iter().any(|s| s.sync == SyncState::Edited) {
            self.send(now, cmds);
        } else {
            self.settle(cmds);
        }
    }
}
