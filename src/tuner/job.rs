//! The regeneration job the tuner follows: started by the user, or found blocking a save.

use std::time::{Duration, Instant};

use crate::api::ApiError;
use crate::api::models::Job;
use crate::jobs::{JobState, JobWatch};

#[derive(Debug, Clone, PartialEq)]
pub struct JobProgress {
    id: Option<u64>,
    started: Instant,
    /// Time since it started, as of the last poll.
    elapsed: Duration,
    state: &'static str,
    /// How long it is still waited for; set once its id is known.
    watch: Option<JobWatch>,
}

impl JobProgress {
    /// A job in `state`; its id once Studio said it.
    pub(super) fn new(id: Option<u64>, state: &'static str, now: Instant) -> Self {
        Self {
            id,
            started: now,
            elapsed: Duration::ZERO,
            state,
            watch: id.map(|id| JobWatch::new(id, now)),
        }
    }

    /// Studio's id for it, once known.
    pub fn id(&self) -> Option<u64> {
        self.id
    }

    /// Its state in a word: starting, started, queued, running, not answering.
    pub fn state(&self) -> &'static str {
        self.state
    }

    /// Time since it started, as of the last poll.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Studio gave the job started by the user its id.
    pub(super) fn identified(&mut self, id: u64, now: Instant) {
        self.id = Some(id);
        self.state = "started";
        self.watch = Some(JobWatch::new(id, now));
    }

    /// Takes a poll's answer: where the job stands, `None` while it is not answering
    /// (polled again within the watch's limits).
    pub(super) fn polled(
        &mut self,
        job_id: u64,
        result: &Result<Job, ApiError>,
        now: Instant,
    ) -> Option<JobState> {
        self.elapsed = now.saturating_duration_since(self.started);
        let watch = self.watch.get_or_insert_with(|| JobWatch::new(job_id, now));
        let state = match result {
            Ok(job) => Some(watch.observe(job, now)),
            // A poll that failed for a passing reason is tried again, within the limits.
            Err(e) if e.is_transient() => watch.poll_failed(now),
            Err(e) => Some(JobState::GaveUp(format!("lost track of job {job_id}: {e}"))),
        };
        self.state = match &state {
            Some(JobState::Queued) => "queued",
            None => "not answering",
            _ => "running",
        };
        state
    }
}
