//! What the tuner hears and what it asks for: messages in, commands out.

use super::{Action, PreviewFailure, ProjectRef, Target};
use crate::api::ApiError;
use crate::api::client::{BlockThresholds, Outcome, UnreadableBlock};
use crate::api::models::*;
use crate::history::{HistoryError, Reading};
use crate::metrics::{Scores, TestSet};
use std::sync::Arc;
use std::time::Duration;

/// Effects for the event loop to perform. Each carries all it needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    /// Read the impulse (default when `None`), the project's impulses and every threshold,
    /// resolving the project first when unknown; answer with [`Msg::Loaded`] and `load`.
    /// `open`: another impulse is being opened (not the one shown read again).
    LoadImpulse {
        load: u64,
        project: Option<ProjectRef>,
        impulse: Option<u64>,
        open: bool,
    },
    /// Read the model testing summary; answer with [`Msg::ResultsLoaded`].
    LoadResults { at: Target },
    /// Answer with [`Msg::SetDone`]; values that Studio no longer holds as `believed`
    /// (someone else changed them) are left out and reported.
    SetThresholds {
        request_id: u64,
        at: Target,
        request: SetImpulseThresholdsRequest,
        believed: Vec<crate::api::client::Believed>,
    },
    /// regenerateModelTestingSummary; answer with [`Msg::RegenerationStarted`].
    /// `full_run`: startClassifyJob (model testing run again, what object detection
    /// needs) instead, skipping feature generation when only thresholds changed
    /// (`skip_features`).
    StartRegeneration {
        at: Target,
        full_run: bool,
        skip_features: bool,
    },
    /// Wait `after`, then getJobStatus; answer with [`Msg::JobPolled`].
    PollJob {
        project: u64,
        job_id: u64,
        after: Duration,
    },
    /// Read the per-window results page by page, with the impulse's definition as Studio
    /// serves it now (what produced the scores is part of it); answer with
    /// [`Msg::TestSetProgress`] after each page and [`Msg::TestSetLoaded`] at the end.
    LoadTestSet { at: Target },
    /// Append an answered set-thresholds call to the history; answer with
    /// [`Msg::Recorded`].
    Record(crate::history::Call),
    /// Read the history of the impulse at `at`; answer with [`Msg::HistoryLoaded`].
    LoadHistory { at: Target },
    /// Stop the read in `slot`, if one is out: nobody needs its answer any more.
    Cancel(Slot),
}

/// Reads a newer one of the same kind replaces: the event loop cancels the older, whose
/// requests stop. Writes, regenerations and job polls have no slot: they always finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    /// Opening an impulse.
    Open,
    /// Reading the impulse shown again (`r`, focus, a read-back).
    Reload,
    Results,
    /// The per-window results, page after page.
    TestSet,
    History,
}

impl Cmd {
    /// The slot this command's read takes, if it is one.
    pub fn slot(&self) -> Option<Slot> {
        match self {
            Cmd::LoadImpulse { open: true, .. } => Some(Slot::Open),
            Cmd::LoadImpulse { open: false, .. } => Some(Slot::Reload),
            Cmd::LoadResults { .. } => Some(Slot::Results),
            Cmd::LoadTestSet { .. } => Some(Slot::TestSet),
            Cmd::LoadHistory { .. } => Some(Slot::History),
            Cmd::SetThresholds { .. }
            | Cmd::StartRegeneration { .. }
            | Cmd::PollJob { .. }
            | Cmd::Record(_)
            | Cmd::Cancel(_) => None,
        }
    }
}

/// What the loader read.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub project_id: u64,
    pub project_name: String,
    pub impulse: Impulse,
    pub impulses: Vec<Impulse>,
    pub blocks: Vec<BlockThresholds>,
    /// Blocks whose thresholds could not be read: shown, with why.
    pub unreadable: Vec<UnreadableBlock>,
}

/// A pointer event, already hit-tested against the slider bars.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pointer {
    /// A click on a slider; `fraction` is where on its bar, if on the bar.
    Press {
        slider: usize,
        fraction: Option<f64>,
    },
    Drag {
        slider: usize,
        fraction: f64,
    },
    Wheel {
        slider: usize,
        up: bool,
    },
    /// A click or drag on point `(j, k)` of the joint map: `min_score` index `j`,
    /// `min_anomaly_score` index `k`.
    MapPoint {
        j: usize,
        k: usize,
    },
}

#[derive(Debug)]
pub enum Msg {
    Action(Action),
    Pointer(Pointer),
    /// A deadline from [`Tuner::next_deadline`] passed.
    Tick,
    /// The answer to [`Cmd::LoadImpulse`] `load`.
    Loaded {
        load: u64,
        result: Result<Loaded, ApiError>,
    },
    ResultsLoaded {
        impulse: u64,
        result: Result<ModelTestingSummary, ApiError>,
    },
    /// What became of [`Cmd::SetThresholds`] `request_id`.
    SetDone {
        request_id: u64,
        outcome: Outcome,
    },
    /// The terminal has the user's attention again: someone may have changed thresholds
    /// meanwhile.
    FocusGained,
    RegenerationStarted {
        impulse: u64,
        result: Result<u64, ApiError>,
    },
    JobPolled {
        job_id: u64,
        result: Result<Job, ApiError>,
    },
    TestSetProgress {
        impulse: u64,
        loaded: u64,
        total: u64,
    },
    /// The per-window results kept from an earlier read; the read goes on to check them.
    TestSetCached {
        impulse: u64,
        set: Arc<TestSet>,
    },
    /// The per-window scores (Studio's, or kept from the same model on the same data when
    /// Studio withholds its own), or why there is no preview.
    TestSetLoaded {
        impulse: u64,
        result: Result<Scores, PreviewFailure>,
    },
    /// Whether [`Cmd::Record`] was written.
    Recorded(Result<(), HistoryError>),
    /// The history of `impulse`, or why it could not be read.
    HistoryLoaded {
        impulse: u64,
        result: Result<Reading, HistoryError>,
    },
    /// A signal asks to stop now.
    Terminate,
}
