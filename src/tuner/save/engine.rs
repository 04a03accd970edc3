//! The save engine's transitions: when the next call goes, what follows an answer, when
//! to read back.

use super::{AfterSettle, InFlight, Next, Plan, ReadBack, Save};
use crate::api::ApiError;
use crate::api::backoff::Backoff;
use crate::api::models::SetImpulseThresholdsResponse;
use crate::tuner::{SaveEngine, TunerConfig};
use std::time::{Duration, Instant};

impl SaveEngine {
    pub(in crate::tuner) fn next_deadline(&self) -> Option<Instant> {
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

    pub(in crate::tuner) fn in_flight(&self) -> bool {
        matches!(self.phase, Save::InFlight { .. })
    }

    pub(in crate::tuner) fn is_quitting(&self) -> bool {
        matches!(self.after_settle, Some(AfterSettle::Quit { .. }))
    }

    /// An answer may have been lost: a read-back is owed.
    pub(in crate::tuner) fn answer_lost(&self) -> bool {
        self.read_back != ReadBack::None
    }

    /// Whether a save waits for the scores being read.
    pub(in crate::tuner) fn held_for_scores(&self) -> bool {
        matches!(self.phase, Save::HeldForScores { .. })
    }

    /// Holds what is due until the scores being read are in, or `until`.
    pub(super) fn hold_for_scores(&mut self, until: Instant, quiet: Instant) {
        self.phase = Save::HeldForScores { until, quiet };
    }

    /// The scores being read are in (or could not be read): a held save goes once the
    /// quiet time of its last edit is over.
    pub(in crate::tuner) fn scores_read(&mut self, now: Instant) {
        if let Save::HeldForScores { quiet, .. } = self.phase {
            self.phase = Save::Debouncing {
                until: quiet.max(now),
            };
        }
    }

    /// A value changed at `now`: the quiet time starts again.
    pub(super) fn edited(&mut self, now: Instant, debounce: Duration, job_running: bool) {
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
    pub(in crate::tuner) fn hurry(&mut self, now: Instant) {
        match &mut self.phase {
            Save::InFlight { then, .. } => *then = Some(now),
            Save::HeldByJob => {}
            _ => self.phase = Save::Debouncing { until: now },
        }
    }

    pub(super) fn due(&self, now: Instant) -> bool {
        matches!(
            self.phase,
            Save::Debouncing { until } | Save::Backoff { until } | Save::HeldForScores { until, .. }
                if until <= now
        )
    }

    pub(super) fn start(&mut self, flight: InFlight) {
        self.phase = Save::InFlight { flight, then: None };
    }

    pub(super) fn request_id(&mut self) -> u64 {
        let id = self.next_request;
        self.next_request += 1;
        id
    }

    pub(in crate::tuner) fn load_id(&mut self) -> u64 {
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
    pub(in crate::tuner) fn abandon_loads(&mut self) {
        self.abandoned
            .extend(self.loads.drain(..).map(|(id, _)| id));
        let excess = self.abandoned.len().saturating_sub(64);
        self.abandoned.drain(..excess);
        if matches!(self.read_back, ReadBack::Loading { .. }) {
            self.read_back = ReadBack::AfterNextSave;
        }
    }

    /// Whether load `load` was abandoned (forgotten once answered).
    pub(in crate::tuner) fn abandoned(&mut self, load: u64) -> bool {
        let position = self.abandoned.iter().position(|id| *id == load);
        position.map(|i| self.abandoned.remove(i)).is_some()
    }

    /// Whether load `load` was asked for by this engine before one whose snapshot was
    /// already taken in: it would bring back values older than those shown (forgotten
    /// once answered).
    pub(in crate::tuner) fn superseded(&mut self, load: u64) -> bool {
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
    pub(in crate::tuner) fn merged(&mut self, load: u64) {
        self.newest_merged = self.newest_merged.max(load);
    }

    /// How many calls have been answered with success.
    pub(in crate::tuner) fn saves(&self) -> u64 {
        self.saves
    }

    /// The call `request_id` answered: the flight and the quiet-time end of edits made
    /// meanwhile, or `None` for an answer nobody waits for.
    pub(super) fn answered(&mut self, request_id: u64) -> Option<(InFlight, Option<Instant>)> {
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
    pub(super) fn plan(
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
    pub(super) fn give_up(&mut self) -> Plan {
        self.failures = 0;
        self.failing_since = None;
        Plan::GiveUp
    }

    /// A read-back found a lost call applied: the series of failures ends there.
    pub(in crate::tuner) fn confirmed(&mut self) {
        self.failures = 0;
        self.failing_since = None;
    }

    /// Whether the last call failed for a passing reason and is being retried.
    pub(super) fn retrying(&self) -> bool {
        self.failures > 0
    }

    /// Where the phase goes after an answer and its plan.
    pub(super) fn after_answer(
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
    pub(super) fn lost_answer(&mut self, late_until: Instant) {
        self.read_back = ReadBack::AfterNextSave;
        self.late_until = Some(self.late_until.map_or(late_until, |t| t.max(late_until)));
    }

    /// A call succeeded: the read-back it was waiting for, if any, as a load id.
    pub(super) fn read_back_after_save(&mut self) -> Option<u64> {
        (self.read_back == ReadBack::AfterNextSave).then(|| self.start_read_back())
    }

    /// The read-back a lost answer asks for, now, as a load id; `None` when one is out.
    pub(super) fn read_back_now(&mut self) -> Option<u64> {
        (!matches!(self.read_back, ReadBack::Loading { .. })).then(|| self.start_read_back())
    }

    /// The read-back's wait after a failure is over: its load id.
    pub(super) fn read_back_due(&mut self, now: Instant) -> Option<u64> {
        matches!(self.read_back, ReadBack::Backoff { until, .. } if until <= now)
            .then(|| self.start_read_back())
    }

    pub(super) fn start_read_back(&mut self) -> u64 {
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
    pub(in crate::tuner) fn loaded(
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
    pub(in crate::tuner) fn forget_impulse(&mut self) {
        self.read_back = ReadBack::None;
        self.late_until = None;
    }

    pub(super) fn failures(&self) -> u32 {
        self.failures
    }
}

/// The wait before the next attempt; the request id seeds the jitter, so that the core
/// stays deterministic.
pub(super) fn backoff(
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
