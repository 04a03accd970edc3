//! The simulated Studio's state and rules, apart from HTTP.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use crate::api::models::*;
use crate::metrics::detection::DetectionSet;
use crate::metrics::{TestSet, Thresholds};

use super::demo::{Regeneration, SimBlock, SimImpulse};

/// A refusal: the HTTP status and the `error` text of a `{success: false}` body.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub error: String,
}

impl Refusal {
    /// HTTP 200 with `success: false`: how Studio refuses a well-formed request.
    pub fn soft(error: impl Into<String>) -> Self {
        Self {
            status: 200,
            error: error.into(),
        }
    }

    pub fn not_found(error: impl Into<String>) -> Self {
        Self {
            status: 404,
            error: error.into(),
        }
    }
}

/// The scores of a model trained again: each class score's square root, anomaly scores a
/// little higher, detections a little less sure.
fn retrained(set: &TestSet) -> TestSet {
    let mut set = set.clone();
    for score in &mut set.class_scores {
        *score = score.sqrt();
    }
    match &mut set.anomaly {
        crate::metrics::AnomalyScores::None => {}
        crate::metrics::AnomalyScores::Single(scores) => {
            scores.iter_mut().for_each(|s| *s += 0.05);
        }
        crate::metrics::AnomalyScores::Visual { mean, max } => {
            mean.iter_mut()
                .chain(max.iter_mut())
                .for_each(|s| *s += 0.5);
        }
    }
    if let Some(d) = &set.detection {
        let mut images = d.images.clone();
        for detection in images.iter_mut().flat_map(|i| i.detections.iter_mut()) {
            detection.score *= 0.95;
        }
        set.detection = Some(DetectionSet::new(d.labels.clone(), d.matching, images));
    }
    set
}

/// Model testing results of one impulse.
#[derive(Debug, Clone, PartialEq)]
pub enum Results {
    /// Never tested.
    Missing,
    /// Current, computed at these thresholds.
    Current(Thresholds),
    /// Invalidated by a threshold change.
    Stale(StaleReason),
}

#[derive(Debug, Clone)]
struct ImpulseState {
    sim: SimImpulse,
    results: Results,
}

#[derive(Debug, Clone)]
pub struct SimJob {
    pub id: u64,
    pub impulse_id: u64,
    /// Model testing run again (startClassifyJob), or its summary regenerated.
    pub classify: bool,
    pub created: SystemTime,
    pub duration: Duration,
    /// Whether its results were applied (done once, when first seen finished).
    applied: bool,
}

impl SimJob {
    fn started_at(&self) -> SystemTime {
        self.created + self.duration.min(Duration::from_millis(200)) / 2
    }

    fn finishes_at(&self) -> SystemTime {
        self.created + self.duration
    }

    pub fn is_running(&self, now: SystemTime) -> bool {
        now < self.finishes_at()
    }

    pub fn to_api(&self, now: SystemTime) -> Job {
        let started = (now >= self.started_at()).then(|| rfc3339(self.started_at()));
        let finished = (!self.is_running(now)).then(|| rfc3339(self.finishes_at()));
        let (category, category_key) = if self.classify {
            ("Classifying test data", "classify")
        } else {
            (
                "Regenerating model testing summary",
                "regenerate-model-testing-summary",
            )
        };
        Job {
            id: self.id,
            category: category.into(),
            category_key: category_key.into(),
            key: format!("{category_key}-{}", self.impulse_id),
            created: rfc3339(self.created),
            finished_successful: finished.as_ref().map(|_| true),
            compute_time: finished.as_ref().map(|_| self.duration.as_secs_f64()),
            started,
            finished,
            job_notification_uids: Vec::new(),
            additional_info: None,
        }
    }
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// The whole simulated project.
#[derive(Debug)]
pub struct StudioState {
    pub project: Project,
    impulses: Vec<ImpulseState>,
    jobs: BTreeMap<u64, SimJob>,
    next_job_id: u64,
    job_duration: Duration,
    /// How set-thresholds words its refusal while a job runs. The spec does not fix it, so
    /// clients must not depend on it: tests change it.
    pub blocked_by_job_message: String,
    /// The project's last modification (getProjectLastModificationDate), RFC 3339.
    modified: String,
    /// Whether a threshold change counts as a modification of the project. The spec says
    /// the date moves "when data is modified, or when an impulse is trained", so by
    /// default it does not; clients must not depend on either: tests change it.
    pub thresholds_touch_project: bool,
}

/// The simulator's default wording of the refusal while a job runs.
pub const BLOCKED_BY_JOB_MESSAGE: &str =
    "Cannot change thresholds while model testing results are being regenerated";

impl StudioState {
    pub fn new(project: Project, impulses: Vec<SimImpulse>, job_duration: Duration) -> Self {
        let impulses = impulses
            .into_iter()
            .map(|sim| {
                let results = match &sim.test_set {
                    Some(_) => Results::Current(metric_thresholds(&sim.blocks)),
                    None => Results::Missing,
                };
                ImpulseState { sim, results }
            })
            .collect();
        Self {
            project,
            impulses,
            jobs: BTreeMap::new(),
            next_job_id: 1,
            job_duration,
            blocked_by_job_message: BLOCKED_BY_JOB_MESSAGE.into(),
            modified: super::demo::DEMO_TRAINED.into(),
            thresholds_touch_project: false,
        }
    }

    /// The project's last modification date.
    pub fn modified(&self) -> &str {
        &self.modified
    }

    /// The project was modified at `now`: its date moves (always, even within a
    /// millisecond of the last move).
    fn touch(&mut self, now: SystemTime) {
        let mut at = now;
        while rfc3339(at) <= self.modified {
            at += Duration::from_millis(1);
        }
        self.modified = rfc3339(at);
    }

    /// The impulse's models were trained again at `now`: new scores, new training dates,
    /// and no model testing results until model testing runs again.
    pub fn retrain(&mut self, impulse_id: u64, now: SystemTime) -> Result<(), Refusal> {
        let state = self
            .impulse_state_mut(impulse_id)
            .ok_or_else(|| Refusal::not_found(format!("impulse {impulse_id} not found")))?;
        for block in &mut state.sim.blocks {
            block.trained = rfc3339(now);
        }
        if let Some(set) = &state.sim.test_set {
            state.sim.test_set = Some(std::sync::Arc::new(retrained(set)));
            state.results = Results::Missing;
        }
        self.touch(now);
        Ok(())
    }

    /// The impulse's test data changed at `now` (its last window left the test set): no
    /// model testing results until model testing runs again.
    pub fn replace_test_data(&mut self, impulse_id: u64, now: SystemTime) -> Result<(), Refusal> {
        let state = self
            .impulse_state_mut(impulse_id)
            .ok_or_else(|| Refusal::not_found(format!("impulse {impulse_id} not found")))?;
        if let Some(set) = &state.sim.test_set {
            let mut set = TestSet::clone(set);
            set.drop_last_window();
            state.sim.test_set = Some(std::sync::Arc::new(set));
            state.results = Results::Missing;
        }
        self.touch(now);
        Ok(())
    }

    /// The impulse's definition changed (its input images are read at another size).
    pub fn change_impulse(&mut self, impulse_id: u64) -> Result<(), Refusal> {
        let state = self
            .impulse_state_mut(impulse_id)
            .ok_or_else(|| Refusal::not_found(format!("impulse {impulse_id} not found")))?;
        for input in &mut state.sim.impulse.input_blocks {
            input.image_width = Some(input.image_width.unwrap_or(8) * 2);
        }
        Ok(())
    }

    /// Applies what finished jobs did. Called before every request is answered, so that
    /// jobs need no background task and time is the only input.
    pub fn advance(&mut self, now: SystemTime) {
        let finished: Vec<(u64, u64)> = self
            .jobs
            .values()
            .filter(|j| !j.applied && !j.is_running(now))
            .map(|j| (j.id, j.impulse_id))
            .collect();
        for (job_id, impulse_id) in finished {
            if let Some(state) = self.impulse_state_mut(impulse_id) {
                state.results = Results::Current(metric_thresholds(&state.sim.blocks));
            }
            if let Some(job) = self.jobs.get_mut(&job_id) {
                job.applied = true;
            }
        }
    }

    pub fn impulses(&self) -> Vec<Impulse> {
        self.impulses
            .iter()
            .map(|s| s.sim.impulse.clone())
            .collect()
    }

    /// The impulse with this id, or the default (first) one.
    pub fn impulse(&self, id: Option<u64>) -> Result<&SimImpulse, Refusal> {
        match id {
            None => self
                .impulses
                .first()
                .map(|s| &s.sim)
                .ok_or_else(|| Refusal::not_found("this project has no impulse")),
            Some(id) => self
                .impulse_state(id)
                .map(|s| &s.sim)
                .ok_or_else(|| Refusal::not_found(format!("impulse {id} not found"))),
        }
    }

    fn impulse_state(&self, id: u64) -> Option<&ImpulseState> {
        self.impulses.iter().find(|s| s.sim.impulse.id == id)
    }

    fn impulse_state_mut(&mut self, id: u64) -> Option<&mut ImpulseState> {
        self.impulses.iter_mut().find(|s| s.sim.impulse.id == id)
    }

    /// The learn block with this id, in whichever impulse it is.
    pub fn block(&self, learn_id: u64) -> Result<&SimBlock, Refusal> {
        self.impulses
            .iter()
            .flat_map(|s| s.sim.blocks.iter())
            .find(|b| b.block.id == learn_id)
            .ok_or_else(|| Refusal::not_found(format!("learn block {learn_id} not found")))
    }

    /// The learn block with this id, to change it as a later Studio might.
    pub fn block_mut(&mut self, learn_id: u64) -> Option<&mut SimBlock> {
        self.impulses
            .iter_mut()
            .flat_map(|s| s.sim.blocks.iter_mut())
            .find(|b| b.block.id == learn_id)
    }

    pub fn running_job(&self, now: SystemTime) -> Option<&SimJob> {
        self.running_jobs(now).next()
    }

    /// listActiveJobs: every job not finished at `now`.
    pub fn running_jobs(&self, now: SystemTime) -> impl Iterator<Item = &SimJob> {
        self.jobs.values().filter(move |j| j.is_running(now))
    }

    pub fn job(&self, id: u64) -> Result<&SimJob, Refusal> {
        self.jobs
            .get(&id)
            .ok_or_else(|| Refusal::not_found(format!("job {id} not found")))
    }

    pub fn results(&self, impulse_id: Option<u64>) -> Result<(&SimImpulse, Results), Refusal> {
        let sim = self.impulse(impulse_id)?;
        let state = self
            .impulse_state(sim.impulse.id)
            .ok_or_else(|| Refusal::not_found("impulse not found"))?;
        Ok((&state.sim, state.results.clone()))
    }

    /// setImpulseThresholds: validates every entry, then applies all of them or none.
    pub fn set_thresholds(
        &mut self,
        impulse_id: u64,
        request: &SetImpulseThresholdsRequest,
        now: SystemTime,
    ) -> Result<SetImpulseThresholdsResponse, Refusal> {
        if self.impulse_state(impulse_id).is_none() {
            return Err(Refusal::not_found(format!(
                "impulse {impulse_id} not found"
            )));
        }
        if let Some(job) = self.running_job(now) {
            return Err(Refusal::soft(format!(
                "{} (job {})",
                self.blocked_by_job_message, job.id
            )));
        }
        if request.thresholds.is_empty() {
            return Err(Refusal::soft("thresholds is empty: nothing to set"));
        }
        let state = self
            .impulse_state(impulse_id)
            .ok_or_else(|| Refusal::not_found("impulse not found"))?;
        refuse_invalid(&state.sim, request)?;
        let next_job_id = self.next_job_id;
        let job_duration = self.job_duration;
        let state = self
            .impulse_state_mut(impulse_id)
            .ok_or_else(|| Refusal::not_found("impulse not found"))?;
        let had_results = matches!(state.results, Results::Current(_));
        state.apply(request);
        let status = state.regenerate(request);
        let job_id = (status == RegenerateStatus::StartedJob).then_some(next_job_id);
        if let Some(id) = job_id {
            self.start_job(id, impulse_id, now, job_duration);
        }
        if self.thresholds_touch_project {
            self.touch(now);
        }
        Ok(SetImpulseThresholdsResponse {
            success: true,
            error: None,
            had_model_testing_results: had_results,
            regenerate_model_testing_status: status,
            regenerate_model_testing_results_job_id: job_id,
        })
    }

    /// regenerateModelTestingSummary: a job that brings back current results. While one
    /// runs, asking again returns the same job.
    pub fn regenerate(&mut self, impulse_id: u64, now: SystemTime) -> Result<u64, Refusal> {
        let state = self.tested(
            impulse_id,
            "This impulse has no model testing results to regenerate; run model testing first.",
        )?;
        if state.sim.regeneration == Regeneration::Never {
            return Err(Refusal::soft(
                "Model testing results of object detection models cannot be regenerated from \
                 the summary; run model testing again.",
            ));
        }
        Ok(self.job_for(impulse_id, now, false))
    }

    /// startClassifyJob: model testing run again, as a job; the results are current at the
    /// thresholds held when it ends. Skipping feature generation (what a threshold change
    /// allows) halves its time. While a job runs, asking again returns it.
    pub fn start_classify(
        &mut self,
        impulse_id: u64,
        skip_features: bool,
        now: SystemTime,
    ) -> Result<u64, Refusal> {
        self.tested(
            impulse_id,
            "This impulse has no test data with a trained model to classify.",
        )?;
        let id = self.job_for(impulse_id, now, true);
        if skip_features
            && let Some(job) = self.jobs.get_mut(&id)
            && job.created == now
        {
            job.duration /= 2;
        }
        Ok(id)
    }

    /// An impulse that has a test set, or a refusal saying `untested`.
    fn tested(&self, impulse_id: u64, untested: &str) -> Result<&ImpulseState, Refusal> {
        let state = self
            .impulse_state(impulse_id)
            .ok_or_else(|| Refusal::not_found(format!("impulse {impulse_id} not found")))?;
        match state.sim.test_set {
            Some(_) => Ok(state),
            None => Err(Refusal::soft(untested)),
        }
    }

    /// The job running, or a new one for `impulse_id`.
    fn job_for(&mut self, impulse_id: u64, now: SystemTime, classify: bool) -> u64 {
        if let Some(job) = self.running_job(now) {
            return job.id;
        }
        let id = self.next_job_id;
        self.start_job(id, impulse_id, now, self.job_duration);
        if let Some(job) = self.jobs.get_mut(&id) {
            job.classify = classify;
        }
        id
    }

    fn start_job(&mut self, id: u64, impulse_id: u64, now: SystemTime, duration: Duration) {
        self.next_job_id = id + 1;
        self.jobs.insert(
            id,
            SimJob {
                id,
                impulse_id,
                classify: false,
                created: now,
                duration,
                applied: false,
            },
        );
    }
}

/// Refuses the whole request when any entry is invalid, naming each.
fn refuse_invalid(sim: &SimImpulse, request: &SetImpulseThresholdsRequest) -> Result<(), Refusal> {
    let problems: Vec<String> = request
        .thresholds
        .iter()
        .enumerate()
        .filter_map(|(i, update)| {
            validate_update(sim, update).err().map(|why| {
                format!(
                    "thresholds[{i}] (block {}, key {}): {why}",
                    update.block_id, update.key
                )
            })
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Refusal::soft(format!(
            "No thresholds were changed. {}",
            problems.join("; ")
        )))
    }
}

impl ImpulseState {
    /// Takes every value of a request found valid.
    fn apply(&mut self, request: &SetImpulseThresholdsRequest) {
        for update in &request.thresholds {
            if let Some(threshold) = self
                .sim
                .blocks
                .iter_mut()
                .filter(|b| b.block.id == update.block_id)
                .flat_map(|b| b.thresholds.iter_mut())
                .find(|t| t.key == update.key)
            {
                threshold.value = update.value.clone();
            }
        }
    }

    /// What the results become after a change of thresholds, as Studio decides: again at
    /// once, stale until a full run, or stale until a job (started when the request lets
    /// one be).
    fn regenerate(&mut self, request: &SetImpulseThresholdsRequest) -> RegenerateStatus {
        let had_results = matches!(self.results, Results::Current(_));
        let force_job = request
            .force_run_regenerate_model_testing_in_job
            .unwrap_or(false);
        let wants_job = request.allow_creating_regenerate_model_testing_jobs || force_job;
        match (self.sim.regeneration, &self.sim.test_set) {
            (_, None) => RegenerateStatus::NotRegenerated,
            (Regeneration::Never, Some(_)) => {
                if had_results {
                    self.results = Results::Stale(StaleReason::ShouldRerunFullJob);
                }
                RegenerateStatus::NotRegenerated
            }
            (Regeneration::Inline, Some(_)) if !force_job => {
                self.results = Results::Current(metric_thresholds(&self.sim.blocks));
                RegenerateStatus::Regenerated
            }
            (Regeneration::Inline | Regeneration::Job, Some(_)) => {
                self.results = Results::Stale(StaleReason::CanRegenerateModelSummary);
                if wants_job {
                    RegenerateStatus::StartedJob
                } else {
                    RegenerateStatus::RequiresJob
                }
            }
        }
    }
}

/// The metrics thresholds that an impulse's blocks hold now.
pub fn metric_thresholds(blocks: &[SimBlock]) -> Thresholds {
    Thresholds::from_blocks(blocks.iter().flat_map(|b| {
        b.thresholds
            .iter()
            .map(|t| (b.block.kind.as_str(), t.key.as_str(), &t.value))
    }))
}

/// Why one entry of a set-thresholds request is refused.
#[derive(Debug, thiserror::Error)]
enum BadUpdate {
    #[error("block {block} is not a learn block of impulse {impulse} (its learn blocks: {blocks})")]
    NotALearnBlock {
        block: u64,
        impulse: u64,
        blocks: String,
    },
    #[error("unknown key; block {block} has {keys}")]
    UnknownKey { block: u64, keys: String },
    #[error(transparent)]
    Value(#[from] crate::thresholds::InvalidValue),
}

fn validate_update(sim: &SimImpulse, update: &ThresholdUpdate) -> Result<(), BadUpdate> {
    let block = sim
        .blocks
        .iter()
        .find(|b| b.block.id == update.block_id)
        .ok_or_else(|| BadUpdate::NotALearnBlock {
            block: update.block_id,
            impulse: sim.impulse.id,
            blocks: sim
                .blocks
                .iter()
                .map(|b| b.block.id.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    let threshold = block
        .thresholds
        .iter()
        .find(|t| t.key == update.key)
        .ok_or_else(|| BadUpdate::UnknownKey {
            block: block.block.id,
            keys: crate::thresholds::keys_of(&block.thresholds),
        })?;
    Ok(crate::thresholds::check_value(threshold, &update.value)?)
}

mod classify;

pub use classify::{WindowPredictions, WindowResults, Windows, classify_response};

#[cfg(test)]
mod tests;
