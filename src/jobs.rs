//! How long to follow a Studio job, and what its status says.
//!
//! Studio's `Job` has no progress field: a running job's status may not change for a
//! while. A job whose status has not changed for [`STALLED_AFTER`] (nor been readable) is
//! taken as stalled, and one that keeps changing is followed for [`LONGEST_JOB`] at most:
//! model testing regenerations take seconds to minutes. Either way the wait ends with a
//! message that says the job may still run in Studio.

use std::time::{Duration, Instant};

use crate::api::models::Job;

/// A job whose status has not changed for this long is no longer waited for.
pub const STALLED_AFTER: Duration = Duration::from_secs(180);
/// No job is waited for longer than this, however it moves.
pub const LONGEST_JOB: Duration = Duration::from_secs(30 * 60);

/// How a finished job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    Succeeded,
    Failed,
    /// Finished without `finishedSuccessful`: the results themselves will tell.
    Unreported,
}

/// Where a followed job stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Finished(JobOutcome),
    /// Stopped waiting, and why.
    GaveUp(String),
}

/// Follows one job through its polls.
#[derive(Debug, Clone, PartialEq)]
pub struct JobWatch {
    pub id: u64,
    since: Instant,
    changed: Instant,
    last: Option<String>,
}

impl JobWatch {
    pub fn new(id: u64, now: Instant) -> Self {
        Self {
            id,
            since: now,
            changed: now,
            last: None,
        }
    }

    /// The state after a successful poll.
    pub fn observe(&mut self, job: &Job, now: Instant) -> JobState {
        if job.is_finished() {
            return JobState::Finished(match job.finished_successful {
                Some(true) => JobOutcome::Succeeded,
                Some(false) => JobOutcome::Failed,
                None => JobOutcome::Unreported,
            });
        }
        let fingerprint = serde_json::to_string(job).unwrap_or_default();
        if self.last.as_ref() != Some(&fingerprint) {
            self.last = Some(fingerprint);
            self.changed = now;
        }
        self.limits(now).unwrap_or(if job.started.is_some() {
            JobState::Running
        } else {
            JobState::Queued
        })
    }

    /// The state after a poll that failed: the job is still followed within the limits.
    pub fn poll_failed(&mut self, now: Instant) -> Option<JobState> {
        self.limits(now)
    }

    fn limits(&self, now: Instant) -> Option<JobState> {
        let id = self.id;
        if now.saturating_duration_since(self.since) >= LONGEST_JOB {
            return Some(JobState::GaveUp(format!(
                "job {id} has run for {} min; stopped waiting (it may still run in Studio)",
                LONGEST_JOB.as_secs() / 60
            )));
        }
        if now.saturating_duration_since(self.changed) >= STALLED_AFTER {
            return Some(JobState::GaveUp(format!(
                "job {id}: no change in its status for {} min; stopped waiting (it may still \
                 run in Studio)",
                STALLED_AFTER.as_secs() / 60
            )));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(started: bool, finished: bool, successful: Option<bool>) -> Job {
        Job {
            id: 7,
            category: "c".into(),
            category_key: "k".into(),
            key: "k".into(),
            created: "2026-01-01T00:00:00Z".into(),
            started: started.then(|| "2026-01-01T00:00:01Z".into()),
            finished: finished.then(|| "2026-01-01T00:00:02Z".into()),
            finished_successful: successful,
            job_notification_uids: Vec::new(),
            additional_info: None,
            compute_time: None,
        }
    }

    #[test]
    fn a_finished_job_without_its_outcome_is_not_a_failure() {
        let t0 = Instant::now();
        let mut w = JobWatch::new(7, t0);
        assert_eq!(
            w.observe(&job(true, true, None), t0),
            JobState::Finished(JobOutcome::Unreported)
        );
        assert_eq!(
            w.observe(&job(true, true, Some(false)), t0),
            JobState::Finished(JobOutcome::Failed)
        );
    }

    #[test]
    fn a_job_that_stops_changing_ends_the_wait_within_three_minutes() {
        let t0 = Instant::now();
        let mut w = JobWatch::new(7, t0);
        assert_eq!(w.observe(&job(false, false, None), t0), JobState::Queued);
        let s = Duration::from_secs(1);
        assert_eq!(
            w.observe(&job(true, false, None), t0 + 60 * s),
            JobState::Running
        );
        assert_eq!(
            w.observe(&job(true, false, None), t0 + 239 * s),
            JobState::Running
        );
        assert_eq!(w.poll_failed(t0 + 239 * s), None);
        let JobState::GaveUp(why) = w.observe(&job(true, false, None), t0 + 240 * s) else {
            panic!("still waiting");
        };
        assert!(why.contains("no change"), "{why}");
    }

    #[test]
    fn even_a_moving_job_is_followed_for_a_bounded_time() {
        let t0 = Instant::now();
        let mut w = JobWatch::new(7, t0);
        let mut now = t0;
        let mut state = JobState::Queued;
        for minute in 0..40u64 {
            now = t0 + Duration::from_secs(minute * 60);
            let mut j = job(true, false, None);
            j.compute_time = Some(minute as f64);
            state = w.observe(&j, now);
            if matches!(state, JobState::GaveUp(_)) {
                break;
            }
        }
        assert!(matches!(state, JobState::GaveUp(_)), "{state:?}");
        assert_eq!(now.duration_since(t0), LONGEST_JOB);
    }
}
