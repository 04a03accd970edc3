//! What Studio answers besides set-thresholds: the impulse and its thresholds, the model
//! testing summary, and the jobs that regenerate it.

use crate::api::ApiError;
use crate::api::models::{
    Job, ModelTestingSummary, RegenerateStatus, SetImpulseThresholdsResponse, StaleReason,
    ThresholdValue,
};
use crate::jobs::{JobOutcome, JobState};
use crate::tuner::{
    Cmd, Connection, JobProgress, Loaded, Metrics, ProjectRef, Slider, Slot, SyncState, Target,
    Tuner,
};
use std::time::Instant;

impl Tuner {
    /// Reads `impulse` (the default one when `None`) with its thresholds. Opening another
    /// impulse stops every read about the one shown.
    pub(super) fn load(&mut self, impulse: Option<u64>, cmds: &mut Vec<Cmd>) {
        let open = impulse.is_none_or(|id| !self.is_current(id)) || self.opening.under_way();
        if open {
            // Loads asked for before are of what is being left: their answers count no
            // more, and those of the slots below are not waited for.
            self.save.abandon_loads();
            self.opening.started();
            if self.impulse.is_some() {
                self.connection = Connection::Connecting;
                for slot in [Slot::Reload, Slot::Results, Slot::TestSet, Slot::History] {
                    cmds.push(Cmd::Cancel(slot));
                }
            }
        }
        cmds.push(Cmd::LoadImpulse {
            load: self.save.load_id(),
            project: self.project.clone(),
            impulse,
            open,
        });
    }

    pub(super) fn on_loaded(
        &mut self,
        load: u64,
        result: Result<Loaded, ApiError>,
        now: Instant,
        cmds: &mut Vec<Cmd>,
    ) {
        if self.save.abandoned(load) || self.save.superseded(load) {
            return;
        }
        // Any other load answers for the impulse being opened, if one is.
        self.opening.answered();
        let (read_back, issued_at) = self.save.loaded(load, result.is_ok(), &self.config, now);
        let loaded = match result {
            Ok(loaded) => loaded,
            Err(e) => {
                self.connection = Connection::Failing(e.short_reason());
                self.feedback.say(e.to_string());
                return;
            }
        };
        self.connection = Connection::Connected;
        self.save.merged(load);
        let same_impulse = self.is_current(loaded.impulse.id);
        // Its results were asked for with it (and may have come already).
        let asked_early = self.opening.take_early(loaded.impulse.id);
        let mut sliders: Vec<Slider> = loaded
            .blocks
            .iter()
            .flat_map(|b| b.thresholds.iter().map(|t| Slider::new(&b.block, t)))
            .collect();
        let mut confirmed = None;
        if same_impulse {
            let issued_at = issued_at.unwrap_or(self.save.saves());
            confirmed = self.merge_reload(&mut sliders, read_back, issued_at, now);
        } else {
            self.selected = 0;
            self.job = None;
            self.save.forget_impulse();
            if !asked_early {
                self.metrics = Metrics::default();
                self.preview.forget_scores();
            }
        }
        self.selected = self.selected.min(sliders.len().saturating_sub(1));
        self.sliders = sliders;
        self.unreadable = loaded.unreadable;
        self.project = Some(ProjectRef {
            id: loaded.project_id,
            name: Some(loaded.project_name),
        });
        self.impulses = loaded.impulses;
        self.impulse = Some(loaded.impulse);
        // A call whose answer was lost, found applied: the history says so, beside the
        // entry that said its outcome was unknown.
        if let (Some(before), Some(target)) = (confirmed, self.target()) {
            let answer = crate::history::Answer::applied_after_lost_answer();
            self.record_call(target, (before, &[]), answer, cmds);
        }
        self.fit_ranges_to_scores();
        if !same_impulse
            && !asked_early
            && let Some(target) = self.target()
        {
            self.ask_results(target, cmds);
            self.load_test_set(cmds);
        }
    }

    /// A reload of the impulse shown: values the user changed and Studio does not hold yet
    /// stay; after an unknown outcome, every value Studio holds differently is the user's
    /// to resend (a late-applied older request must not win); a value someone else wrote
    /// is taken when saved, held when edited. Where the read-back finds a lost call
    /// applied: what Studio held before it, for the history.
    fn merge_reload(
        &mut self,
        sliders: &mut Vec<Slider>,
        read_back: bool,
        issued_at: u64,
        now: Instant,
    ) -> Option<super::history::HeldBefore> {
        let before = self.held_now();
        let mut applied = false;
        let mut resend = Vec::new();
        let mut adopted = Vec::new();
        for slider in sliders.iter_mut() {
            let Some(old) = self.sliders.iter().find(|o| o.id() == slider.id()) else {
                continue;
            };
            if old.confirmed_at > issued_at {
                // Saved after this snapshot was asked for: the snapshot is older.
                *slider = old.clone();
                continue;
            }
            let server = slider.value.clone();
            if old.sync == SyncState::Unconfirmed && read_back {
                *slider = old.clone();
                applied |= self.confirm_or_resend(slider, server, &mut resend);
                continue;
            }
            // One of this tuner's own values, applied late: the newest is resent.
            let ours = old.sent.contains(&server);
            let differs = old.value != server && (read_back || ours);
            // Not ours, and not what this tuner last read: someone else wrote it.
            let elsewhere = !read_back && !ours && server != old.saved && server != old.value;
            if old.sync != SyncState::Saved || differs {
                *slider = old.clone();
                slider.saved = server.clone();
                if differs && slider.sync == SyncState::Saved {
                    slider.sync = SyncState::Edited;
                    slider.edits += 1;
                    resend.push(slider.id());
                } else if elsewhere && slider.sync != SyncState::Sending {
                    slider.sync = SyncState::ChangedElsewhere { theirs: server };
                }
            } else {
                slider.sent = old.sent.clone();
                if elsewhere {
                    adopted.push(format!(
                        "{} is now {}",
                        slider.id(),
                        slider.display(&server)
                    ));
                }
            }
        }
        self.keep_unsaved_unread(sliders);
        if !adopted.is_empty() {
            self.feedback
                .say(format!("changed elsewhere: {}", adopted.join(", ")));
        }
        if !resend.is_empty() {
            self.feedback.say(format!(
                "Studio held older values after a lost answer; resending {}",
                resend.join(", ")
            ));
            self.save.hurry(now);
        }
        applied.then_some(before)
    }

    /// A value whose call lost its answer, as the read-back finds it: held by Studio
    /// (saved), not held (sent again), or someone else's (the user decides); whether it was
    /// held.
    fn confirm_or_resend(
        &mut self,
        slider: &mut Slider,
        server: ThresholdValue,
        resend: &mut Vec<String>,
    ) -> bool {
        let held = server == slider.value;
        if held {
            slider.sync = SyncState::Saved;
            self.save.confirmed();
        } else if server == slider.saved || slider.sent.contains(&server) {
            slider.sync = SyncState::Edited;
            slider.edits += 1;
            resend.push(slider.id());
        } else {
            slider.sync = SyncState::ChangedElsewhere {
                theirs: server.clone(),
            };
        }
        slider.saved = server;
        held
    }

    /// A value not saved yet whose block could not be read this time is kept (and sent, or
    /// reported on exit), not dropped with the block.
    fn keep_unsaved_unread(&self, sliders: &mut Vec<Slider>) {
        let kept: Vec<Slider> = self
            .sliders
            .iter()
            .filter(|o| o.sync != SyncState::Saved && !sliders.iter().any(|s| s.id() == o.id()))
            .cloned()
            .collect();
        sliders.extend(kept);
    }

    /// Another writer may have changed thresholds while the terminal was elsewhere: read
    /// them again (once; nothing polls while idle).
    pub(super) fn on_focus_gained(&mut self, cmds: &mut Vec<Cmd>) {
        if self.opening.under_way() {
            return; // what is being opened is read now anyway
        }
        if let Some(target) = self.target() {
            self.load(Some(target.impulse), cmds);
            self.ask_results(target, cmds);
        }
    }

    /// Reads the model testing summary; any answer to an earlier read counts again.
    pub(super) fn ask_results(&mut self, target: Target, cmds: &mut Vec<Cmd>) {
        self.metrics.loading = true;
        self.results_outdated = false;
        cmds.push(Cmd::LoadResults { at: target });
    }

    /// Reads the per-window results again; until they come the preview keeps what it has.
    pub(super) fn load_test_set(&mut self, cmds: &mut Vec<Cmd>) {
        let Some(target) = self.target() else {
            return;
        };
        self.preview.read_again();
        cmds.push(Cmd::LoadTestSet { at: target });
    }

    pub(super) fn on_results(
        &mut self,
        impulse: u64,
        result: Result<ModelTestingSummary, ApiError>,
    ) {
        if !self.wants_results_of(impulse) {
            return;
        }
        self.metrics.loading = false;
        // Any answer says whether Studio can be reached, not only loads and saves.
        match &result {
            Err(e @ ApiError::Network { .. }) => {
                self.connection = Connection::Failing(e.short_reason());
            }
            Ok(_) if matches!(self.connection, Connection::Failing(_)) => {
                self.connection = Connection::Connected;
            }
            _ => {}
        }
        match result {
            // Read before a change made the results stale: it no longer holds.
            Ok(summary)
                if self.results_outdated
                    && summary.no_results_because_thresholds_changed.is_none() => {}
            Ok(summary) => self.take_summary(summary),
            Err(e) => self.metrics.error = Some(e.to_string()),
        }
        self.refresh_saved();
    }

    fn take_summary(&mut self, summary: ModelTestingSummary) {
        self.metrics.error = None;
        if let Some(reason) = summary.no_results_because_thresholds_changed {
            self.metrics.stale = Some(match reason {
                StaleReason::CanRegenerateModelSummary => {
                    "needs a regeneration job: press g".into()
                }
                StaleReason::ShouldRerunFullJob => {
                    "needs model testing to run again: press g".into()
                }
                _ => reason.explanation(),
            });
        } else if summary.window_count() == 0 {
            self.metrics.none = true;
            self.metrics.stale = None;
            self.metrics.summary = None;
        } else {
            self.metrics.none = false;
            self.metrics.stale = None;
            if let Some(a) = summary.accuracy.accuracy() {
                self.metrics.accuracy_history.push(a);
            }
            self.metrics.summary = Some(summary);
        }
    }

    /// What set-thresholds said of the results.
    pub(super) fn on_regeneration_status(
        &mut self,
        target: Target,
        response: &SetImpulseThresholdsResponse,
        now: Instant,
        cmds: &mut Vec<Cmd>,
    ) {
        match &response.regenerate_model_testing_status {
            // A status this version does not know: the values are saved; what became of
            // the results, the summary itself says.
            RegenerateStatus::Regenerated | RegenerateStatus::Other(_) => {
                self.ask_results(target, cmds);
            }
            RegenerateStatus::RequiresJob => {
                self.metrics.stale = Some("needs a regeneration job: press g".into());
                self.results_outdated = true;
            }
            RegenerateStatus::StartedJob => {
                self.metrics.stale = Some("a job is regenerating the results".into());
                self.results_outdated = true;
                if let Some(job_id) = response.regenerate_model_testing_results_job_id {
                    self.job = Some(JobProgress::new(Some(job_id), "started", now));
                    cmds.push(Cmd::PollJob {
                        project: target.project,
                        job_id,
                        after: self.config.job_poll,
                    });
                }
            }
            RegenerateStatus::NotRegenerated => {
                if response.had_model_testing_results {
                    self.results_outdated = true;
                    self.metrics.stale = Some("needs model testing to run again: press g".into());
                }
            }
        }
    }

    pub(super) fn on_regeneration_started(
        &mut self,
        impulse: u64,
        result: Result<u64, ApiError>,
        now: Instant,
        cmds: &mut Vec<Cmd>,
    ) {
        match (result, self.target()) {
            (Ok(job_id), Some(target)) => {
                if let Some(job) = &mut self.job {
                    job.identified(job_id, now);
                }
                self.metrics.stale = Some(format!("regenerating (job {job_id})"));
                cmds.push(Cmd::PollJob {
                    project: target.project,
                    job_id,
                    after: self.config.job_poll,
                });
            }
            (Ok(_), None) => self.end_job(now, cmds),
            (Err(e), _) => {
                self.feedback
                    .say(format!("regeneration of impulse {impulse} failed: {e}"));
                self.end_job(now, cmds);
            }
        }
    }

    pub(super) fn on_job_polled(
        &mut self,
        job_id: u64,
        result: Result<Job, ApiError>,
        now: Instant,
        cmds: &mut Vec<Cmd>,
    ) {
        let Some(project) = self.project.as_ref().map(|p| p.id) else {
            return;
        };
        let Some(progress) = self.job.as_mut().filter(|j| j.id() == Some(job_id)) else {
            return;
        };
        match progress.polled(job_id, &result, now) {
            Some(JobState::Finished(outcome)) => self.on_job_finished(job_id, outcome, now, cmds),
            Some(JobState::GaveUp(why)) => {
                self.feedback.say(why);
                self.end_job(now, cmds);
            }
            _ => {
                cmds.push(Cmd::PollJob {
                    project,
                    job_id,
                    after: self.config.job_poll,
                });
            }
        }
    }

    fn on_job_finished(
        &mut self,
        job_id: u64,
        outcome: JobOutcome,
        now: Instant,
        cmds: &mut Vec<Cmd>,
    ) {
        self.feedback.say(match outcome {
            JobOutcome::Succeeded => format!("job {job_id} finished: results regenerated"),
            JobOutcome::Failed => format!("job {job_id} failed"),
            JobOutcome::Unreported => {
                format!("job {job_id} finished (Studio did not say how): reading the results again")
            }
        });
        if outcome != JobOutcome::Failed
            && let Some(target) = self.target()
        {
            self.ask_results(target, cmds);
            self.load_test_set(cmds);
        }
        self.end_job(now, cmds);
    }
}
