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

use super::*;
use crate::api::backoff::Backoff;
use crate::api::client::{Believed, ChangedElsewhere};

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

impl SaveEngine {
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let phase = match self.phase {
            Save::Debouncing { until }
            | Save::Backoff { until }
            | Save::HeldForScores { until, .. } => Some(until),
            _ => None,
        };
        let read_back = match self.read_back {
            ReadBack::Backoff { until, .. } => Some(until),
            _ => None,
        };
        let quit = match self.after_settle {
            Some(AfterSettle::Quit { by }) => Some(by),
            _ => None,
        };
        [phase, read_back, quit].into_iter().flatten().min()
    }

    pub(super) fn in_flight(&self) -> bool {
        matches!(self.phase, Save::InFlight { .. })
    }

    pub(super) fn is_quitting(&self) -> bool {
        matches!(self.after_settle, Some(AfterSettle::Quit { .. }))
    }

    /// An answer may have been lost: a read-back is owed.
    pub(super) fn answer_lost(&self) -> bool {
        self.read_back != ReadBack::None
    }

    /// Whether a save waits for the scores being read.
    pub(super) fn held_for_scores(&self) -> bool {
        matches!(self.phase, Save::HeldForScores { .. })
    }

    /// Holds what is due until the scores being read are in, or `until`.
    fn hold_for_scores(&mut self, until: Instant, quiet: Instant) {
        self.phase = Save::HeldForScores { until, quiet };
    }

    /// The scores being read are in (or could not be read): a held save goes once the
    /// quiet time of its last edit is over.
    pub(super) fn scores_read(&mut self, now: Instant) {
        if let Save::HeldForScores { quiet, .. } = self.phase {
            self.phase = Save::Debouncing {
                until: quiet.max(now),
            };
        }
    }

    /// A value changed at `now`: the quiet time starts again.
    fn edited(&mut self, now: Instant, debounce: Duration, job_running: bool) {
        let until = now + debounce;
        match &mut self.phase {
            Save::InFlight { then, .. } => *then = Some(until),
            Save::HeldByJob => {}
            Save::HeldForScores { quiet, .. } => *quiet = until,
            _ if job_running => self.phase = Save::HeldByJob,
            // A server's Retry-After (or the backoff) is not cut short by typing.
            Save::Backoff { until: wait } => *wait = (*wait).max(until),
            _ => self.phase = Save::Debouncing { until },
        }
    }

    /// Send as soon as nothing is in flight.
    pub(super) fn hurry(&mut self, now: Instant) {
        match &mut self.phase {
            Save::InFlight { then, .. } => *then = Some(now),
            Save::HeldByJob => {}
            _ => self.phase = Save::Debouncing { until: now },
        }
    }

    fn due(&self, now: Instant) -> bool {
        matches!(
            self.phase,
            Save::Debouncing { until } | Save::Backoff { until } | Save::HeldForScores { until, .. }
                if until <= now
        )
    }

    fn start(&mut self, flight: InFlight) {
        self.phase = Save::InFlight { flight, then: None };
    }

    fn request_id(&mut self) -> u64 {
        let id = self.next_request;
        self.next_request += 1;
        id
    }

    pub(super) fn load_id(&mut self) -> u64 {
        let id = self.next_load;
        self.next_load += 1;
        // Loads that never answer (the loop ended) are forgotten after a while.
        if self.loads.len() >= 64 {
            self.loads.remove(0);
        }
        self.loads.push((id, self.saves));
        id
    }

    /// Another impulse is being opened: every load out is of what is being left. A
    /// read-back among them is asked for again after the next save, should the impulse
    /// not open after all.
    pub(super) fn abandon_loads(&mut self) {
        self.abandoned
            .extend(self.loads.drain(..).map(|(id, _)| id));
        let excess = self.abandoned.len().saturating_sub(64);
        self.abandoned.drain(..excess);
        if matches!(self.read_back, ReadBack::Loading { .. }) {
            self.read_back = ReadBack::AfterNextSave;
        }
    }

    /// Whether load `load` was abandoned (forgotten once answered).
    pub(super) fn abandoned(&mut self, load: u64) -> bool {
        let position = self.abandoned.iter().position(|id| *id == load);
        position.map(|i| self.abandoned.remove(i)).is_some()
    }

    /// Whether load `load` was asked for by this engine before one whose snapshot was
    /// already taken in: it would bring back values older than those shown (forgotten
    /// once answered).
    pub(super) fn superseded(&mut self, load: u64) -> bool {
        let asked = self.loads.iter().position(|(id, _)| *id == load);
        match asked {
            Some(i) if load < self.newest_merged => {
                self.loads.remove(i);
                true
            }
            _ => false,
        }
    }

    /// Load `load`'s snapshot was taken in.
    pub(super) fn merged(&mut self, load: u64) {
        self.newest_merged = self.newest_merged.max(load);
    }

    /// How many calls have been answered with success.
    pub(super) fn saves(&self) -> u64 {
        self.saves
    }

    /// The call `request_id` answered: the flight and the quiet-time end of edits made
    /// meanwhile, or `None` for an answer nobody waits for.
    fn answered(&mut self, request_id: u64) -> Option<(InFlight, Option<Instant>)> {
        match std::mem::replace(&mut self.phase, Save::Idle) {
            Save::InFlight { flight, then } if flight.request_id == request_id => {
                Some((flight, then))
            }
            other => {
                self.phase = other;
                None
            }
        }
    }

    /// What follows an answer: retry transient failures with exponential backoff (bounded
    /// in attempts and time), follow a job that blocks changes, or give up.
    fn plan(
        &mut self,
        result: &Result<Option<SetImpulseThresholdsResponse>, ApiError>,
        config: &TunerConfig,
        job_followed: bool,
        request_id: u64,
        now: Instant,
    ) -> Plan {
        let Err(e) = result else {
            self.failures = 0;
            self.failing_since = None;
            self.saves += 1;
            return Plan::Done;
        };
        if !(e.is_transient() || e.blocking_job().is_some()) {
            return self.give_up();
        }
        // Following a job counts as an attempt too: a server that keeps refusing, naming a
        // job that ends at once, is given up on like any other failure.
        self.failures += 1;
        let since = *self.failing_since.get_or_insert(now);
        if self.failures >= config.max_attempts
            || now.saturating_duration_since(since) >= config.max_retry_time
        {
            return self.give_up();
        }
        if let Some(job) = e.blocking_job()
            && !job_followed
        {
            return Plan::FollowJob(job);
        }
        if e.outcome_unknown() {
            // Resending blind could undo a newer value when the lost call lands late.
            return Plan::ReadBack;
        }
        Plan::Retry(backoff(config, self.failures, request_id, e.retry_after()))
    }

    /// The series of failures ends: the user's next edit or `r` starts a new one, with all
    /// its attempts.
    fn give_up(&mut self) -> Plan {
        self.failures = 0;
        self.failing_since = None;
        Plan::GiveUp
    }

    /// A read-back found a lost call applied: the series of failures ends there.
    pub(super) fn confirmed(&mut self) {
        self.failures = 0;
        self.failing_since = None;
    }

    /// Whether the last call failed for a passing reason and is being retried.
    fn retrying(&self) -> bool {
        self.failures > 0
    }

    /// Where the phase goes after an answer and its plan.
    fn after_answer(
        &mut self,
        plan: Plan,
        then: Option<Instant>,
        edited: bool,
        now: Instant,
    ) -> Next {
        match plan {
            Plan::Retry(delay) => {
                self.phase = Save::Backoff { until: now + delay };
                Next::Wait
            }
            Plan::FollowJob(_) => {
                self.phase = Save::HeldByJob;
                Next::Wait
            }
            Plan::Done | Plan::GiveUp | Plan::ReadBack if edited => match then {
                // Edits made meanwhile: one follow-up once their quiet time is over.
                Some(until) if until > now && !self.is_quitting() => {
                    self.phase = Save::Debouncing { until };
                    Next::Wait
                }
                _ => Next::Send,
            },
            Plan::Done | Plan::GiveUp | Plan::ReadBack => Next::Settle,
        }
    }

    /// An answer was lost: read back after the next call that succeeds, and again once
    /// the lost call cannot land any more (`late_until`).
    fn lost_answer(&mut self, late_until: Instant) {
        self.read_back = ReadBack::AfterNextSave;
        self.late_until = Some(self.late_until.map_or(late_until, |t| t.max(late_until)));
    }

    /// A call succeeded: the read-back it was waiting for, if any, as a load id.
    fn read_back_after_save(&mut self) -> Option<u64> {
        (self.read_back == ReadBack::AfterNextSave).then(|| self.start_read_back())
    }

    /// The read-back a lost answer asks for, now, as a load id; `None` when one is out.
    fn read_back_now(&mut self) -> Option<u64> {
        (!matches!(self.read_back, ReadBack::Loading { .. })).then(|| self.start_read_back())
    }

    /// The read-back's wait after a failure is over: its load id.
    fn read_back_due(&mut self, now: Instant) -> Option<u64> {
        matches!(self.read_back, ReadBack::Backoff { until, .. } if until <= now)
            .then(|| self.start_read_back())
    }

    fn start_read_back(&mut self) -> u64 {
        let attempt = match self.read_back {
            ReadBack::Backoff { attempt, .. } => attempt,
            _ => 0,
        };
        let load = self.load_id();
        self.read_back = ReadBack::Loading { load };
        self.read_back_attempt = attempt;
        load
    }

    /// Load `load` answered: whether to read it as a read-back, and the number of saves
    /// answered when it was asked for (`None`: not asked for by this engine). The
    /// read-back's own answer settles it, or that of a load asked for after it (which
    /// replaced it); if that failed, it is asked again after a wait that grows; if a lost
    /// call may still land, once more when it no longer can.
    pub(super) fn loaded(
        &mut self,
        load: u64,
        ok: bool,
        config: &TunerConfig,
        now: Instant,
    ) -> (bool, Option<u64>) {
        let issued = self
            .loads
            .iter()
            .position(|(id, _)| *id == load)
            .map(|i| self.loads.remove(i).1);
        let ReadBack::Loading { load: expected } = self.read_back else {
            return (false, issued);
        };
        if load >= expected {
            let attempt = self.read_back_attempt + 1;
            self.read_back = match (ok, self.late_until) {
                (false, _) => ReadBack::Backoff {
                    until: now + backoff(config, attempt, load, None),
                    attempt,
                },
                (true, Some(late)) if late > now => ReadBack::Backoff {
                    until: late,
                    attempt: 0,
                },
                (true, _) => {
                    self.late_until = None;
                    ReadBack::None
                }
            };
        }
        (true, issued)
    }

    /// Another impulse is shown: what was owed for the last one no longer applies here.
    pub(super) fn forget_impulse(&mut self) {
        self.read_back = ReadBack::None;
        self.late_until = None;
    }

    fn failures(&self) -> u32 {
        self.failures
    }
}

/// The wait before the next attempt; the request id seeds the jitter, so that the core
/// stays deterministic.
fn backoff(
    config: &TunerConfig,
    attempt: u32,
    request_id: u64,
    retry_after: Option<Duration>,
) -> Duration {
    Backoff {
        base: config.retry_base,
        max: config.retry_max_delay,
    }
    .wait(attempt, request_id, retry_after)
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
            self.notice = Some(format!(
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
        self.notice = None;
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
        if self.opening_impulse {
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
        let reading = matches!(self.preview.source, PreviewSource::Loading { .. });
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
        if self.save.retrying()
            && self
                .status
                .front()
                .is_some_and(|e| matches!(e.outcome, StatusOutcome::Failed(_)))
        {
            self.status.pop_front();
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

    pub(super) fn on_set_done(
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
        // The tuner writes once and reads back on its own schedule: an outcome is an
        // answer (nothing sent when every value changed elsewhere) or an error.
        let result = match outcome {
            Outcome::Applied { response } => Ok(response),
            Outcome::Partial { response, .. } => Ok(Some(response)),
            Outcome::ChangedElsewhere(_) => Ok(None),
            Outcome::NotApplied { error, .. } | Outcome::Unknown { error } => Err(error),
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
            Err(e) => Some(crate::history::Answer::failed(&e.short_reason())),
        };
        if let Some(answer) = answer {
            self.record_call(flight.target, before, answer, cmds);
        }
        let outcome = self.status_outcome(&result, plan);
        if let Some(entry) = self.status.iter_mut().find(|e| e.request_id == request_id) {
            entry.latency = Some(now.saturating_duration_since(flight.sent_at));
            entry.outcome = outcome;
        }
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

    fn on_saved(
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

    fn on_failed(
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
            self.notice = Some(format!(
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
    fn report_changed_elsewhere(
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
            self.notice = Some(format!("changed elsewhere, not sent: {}", held.join(", ")));
        }
        if !changed.is_empty() {
            self.ask_results(flight.target, cmds);
        }
    }

    /// Each value the call carried, as its answer leaves it.
    fn mark_answered(
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
    fn status_outcome(
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
    fn note_changed_elsewhere(
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
            self.notice = Some(format!("changed elsewhere: {}", taken.join(", ")));
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
    pub(super) fn keep_mine(&mut self, now: Instant) {
        if let Some(slider) = self.sliders.get_mut(self.selected)
            && matches!(slider.sync, SyncState::ChangedElsewhere { .. })
        {
            slider.sync = SyncState::Edited;
            slider.edits += 1;
            self.notice = None;
            self.save.hurry(now);
        }
    }

    /// `t`: take the value changed elsewhere; whether there was one.
    pub(super) fn take_theirs(&mut self) -> bool {
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
        self.notice = None;
        true
    }

    /// Nothing unsaved and nothing in flight: do what was waiting for that.
    fn settle(&mut self, cmds: &mut Vec<Cmd>) {
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
                    self.notice = Some("not switched: some values were not saved".into());
                } else {
                    self.notice = None;
                    self.load(Some(id), cmds);
                }
            }
            None => {}
        }
    }

    pub(super) fn quit(&mut self, now: Instant, cmds: &mut Vec<Cmd>) {
        if self.is_quitting() || !self.has_unsaved() {
            return self.finish();
        }
        self.save.after_settle = Some(AfterSettle::Quit {
            by: now + self.config.save_on_quit,
        });
        self.notice = Some("saving… (quit again to exit without saving)".into());
        self.mode = Mode::Normal;
        // Failed values too: quitting is the last chance to save them.
        self.mark_failed_for_resending();
        if let Some(job) = &self.job {
            // A running job would refuse the call: the values go when it ends, within the
            // time quitting waits; the exit report says what did not.
            self.notice = Some(format!(
                "saving when job {} ends, waiting {} s at most… (quit again to exit without \
                 saving)",
                job.id.map_or_else(|| "?".into(), |id| id.to_string()),
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

    pub(super) fn mark_failed_for_resending(&mut self) {
        for slider in &mut self.sliders {
            if matches!(slider.sync, SyncState::Failed(_)) {
                slider.sync = SyncState::Edited;
            }
        }
    }

    /// Stops, listing what Studio does not hold, and saying so only where it is known.
    pub(super) fn finish(&mut self) {
        let answer_lost = self.save.answer_lost();
        let in_flight: Vec<String> = match &self.save.phase {
            Save::InFlight { flight, .. } => {
                flight.entries.iter().map(|(id, _, _)| id.clone()).collect()
            }
            _ => Vec::new(),
        };
        let job = self.job.as_ref().and_then(|j| j.id);
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

    pub(super) fn switch_impulse(&mut self, id: u64, now: Instant, cmds: &mut Vec<Cmd>) {
        if self.is_current(id) {
            return;
        }
        if self.has_unsaved() {
            self.save.after_settle = Some(AfterSettle::Switch(id));
            self.notice = Some("saving before switching impulse…".into());
            self.save.hurry(now);
            self.send(now, cmds);
        } else {
            self.load(Some(id), cmds);
        }
    }

    /// The job is over, or no longer followed: values held back while it ran go now.
    pub(super) fn end_job(&mut self, now: Instant, cmds: &mut Vec<Cmd>) {
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
