//! The tuner core: all state and rules of the interactive tuner, with no I/O.
//!
//! `update(msg, now)` takes a message (a key, a timer, an API result) and the current time
//! and returns the effects to perform as [`Cmd`]s. The event loop in `app` performs them and
//! feeds their results back as messages, so debounce and coalescing are tested by feeding
//! `Instant`s, with no runtime and no sleeps.
//!
//! The parts: `save` decides when values leave (one state machine), `input` turns actions
//! and pointer events into edits, `load` takes what Studio answers (impulse, results,
//! jobs), `figures` keeps the local preview and sweep up to date through `preview`, which
//! owns their state.

mod action;
mod feedback;
mod figures;
mod history;
mod input;
mod job;
mod joint;
mod load;
mod messages;
mod preview;
mod save;
pub mod slider;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::api::client::UnreadableBlock;
use crate::api::models::*;
use crate::metrics::Interrupt;
use crate::metrics::objective::{Bounds, Costs};
pub use action::Action;
pub use feedback::Feedback;
pub use history::HistoryList;
pub use job::JobProgress;
pub use joint::{JointView, MAX_MAP_POINTS};
pub use messages::{Cmd, Loaded, Msg, Pointer, Slot};
pub use preview::{Preview, PreviewFailure, PreviewSource};
use save::SaveEngine;
pub use slider::{Scale, Slider, SliderKind, SyncState};

/// Status lines kept for the status pane.
pub const STATUS_HISTORY: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TunerConfig {
    /// Quiet time after the last edit before values are sent.
    pub debounce: Duration,
    /// How long quitting waits for unsaved values to be saved.
    pub save_on_quit: Duration,
    /// Interval between job status polls.
    pub job_poll: Duration,
    /// The bounds of the constrained anomaly objectives.
    pub bounds: Bounds,
    /// What each mistake costs, when the user said: the default objective is then the
    /// lowest cost, and the figures show it.
    pub costs: Option<Costs>,
    /// First wait before resending after a transient failure; it doubles each time.
    pub retry_base: Duration,
    pub retry_max_delay: Duration,
    /// Attempts of one set of values before giving up (marking them failed).
    pub max_attempts: u32,
    /// And the longest time spent retrying.
    pub max_retry_time: Duration,
    /// How long a save waits for the scores being read for the first time (a save may
    /// make Studio stop serving them).
    pub scores_hold: Duration,
    /// How long after it was sent a call whose answer was lost may still reach Studio:
    /// the client's whole-answer timeout and a margin. The thresholds are read back once
    /// more after it.
    pub lost_call_window: Duration,
    /// How many times each sweep is computed: 1. More only makes the work heavy, for the
    /// tests of a tuner that answers keys and signals whatever it computes (debug builds
    /// read `EI_TUNE_SWEEP_REPEATS`).
    pub sweep_repeats: u32,
}

impl Default for TunerConfig {
    fn default() -> Self {
        Self {
            debounce: crate::defaults::DEBOUNCE,
            save_on_quit: Duration::from_secs(5),
            job_poll: Duration::from_millis(500),
            bounds: Bounds::default(),
            costs: None,
            retry_base: Duration::from_millis(250),
            retry_max_delay: Duration::from_secs(8),
            max_attempts: 8,
            max_retry_time: Duration::from_secs(60),
            lost_call_window: Duration::from_secs(35),
            scores_hold: Duration::from_secs(10),
            sweep_repeats: 1,
        }
    }
}

/// A project as far as the tuner knows it: its name is read once, with the first load.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectRef {
    pub id: u64,
    pub name: Option<String>,
}

/// An impulse of a project: where a call goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub project: u64,
    pub impulse: u64,
}

/// The longest value that can be typed (text thresholds included).
pub const MAX_TYPED_CHARS: usize = 200;

pub use crate::thresholds::SWEEP_POINTS;

#[derive(Debug, Clone, PartialEq)]
pub enum Connection {
    Connecting,
    Connected,
    Failing(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Normal,
    Help,
    Picker {
        selected: usize,
    },
    /// The joint map of `min_score` × `min_anomaly_score`.
    Map,
    /// The history view; `selected` counts from the newest call.
    History {
        selected: usize,
    },
    Input {
        text: String,
        error: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum StatusOutcome {
    Pending,
    Saved(SetImpulseThresholdsResponse),
    /// Nothing was sent, and why.
    Held(String),
    Failed(String),
}

/// One set-thresholds call, for the status pane.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusEntry {
    pub request_id: u64,
    /// When it was sent, since the session started.
    pub at: Duration,
    /// `BLOCK.KEY=VALUE` of each value sent.
    pub sent: Vec<String>,
    pub latency: Option<Duration>,
    pub outcome: StatusOutcome,
}

/// The model testing summary as last read, and whether it still holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    pub summary: Option<ModelTestingSummary>,
    /// Why the summary no longer matches the saved thresholds.
    pub stale: Option<String>,
    pub loading: bool,
    /// The impulse has no results at all.
    pub none: bool,
    pub error: Option<String>,
    /// Accuracy after each reading, for the sparkline.
    pub accuracy_history: Vec<f64>,
}

/// An impulse being opened: a load that opens one is out, and the impulse whose results
/// were asked for before it loaded (at start, with the ids given), whose answers count and
/// are not asked for again when it arrives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Opening {
    under_way: bool,
    early: Option<u64>,
}

impl Opening {
    /// A load that opens an impulse went out: reads of the one shown wait until it answers.
    fn started(&mut self) {
        self.under_way = true;
    }

    /// The load answered (or failed): the impulse shown is the one reads are about.
    fn answered(&mut self) {
        self.under_way = false;
    }

    fn under_way(self) -> bool {
        self.under_way
    }

    fn asked_early(&mut self, impulse: u64) {
        self.early = Some(impulse);
    }

    /// The impulse whose results went out early, until one has loaded.
    fn early(self) -> Option<u64> {
        self.early
    }

    /// Whether `loaded`'s results went out early; forgets them either way.
    fn take_early(&mut self, loaded: u64) -> bool {
        self.early.take() == Some(loaded)
    }
}

/// Why the tuner stopped, and what it could not save.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExitReport {
    pub unsaved: Vec<String>,
}

/// The whole state of the interactive tuner. Views read it through its accessors; only
/// [`Tuner::update`] changes it.
#[derive(Debug, Clone)]
pub struct Tuner {
    config: TunerConfig,
    started: Instant,
    host: String,
    project: Option<ProjectRef>,
    impulse: Option<Impulse>,
    impulses: Vec<Impulse>,
    connection: Connection,
    sliders: Vec<Slider>,
    /// Learn blocks of the impulse whose thresholds could not be read.
    unreadable: Vec<UnreadableBlock>,
    selected: usize,
    mode: Mode,
    metrics: Metrics,
    job: Option<JobProgress>,
    /// The notice line and the status pane.
    feedback: Feedback,
    exit: Option<ExitReport>,
    preview: Preview,
    /// A change made the results stale after the last read was asked for: a summary that
    /// says otherwise was read before the change.
    results_outdated: bool,
    /// When values leave, and what must be read back.
    save: SaveEngine,
    /// Whether another impulse is being opened, and which one's results went out early.
    opening: Opening,
    /// The history view's list, read when the view opens.
    history: HistoryList,
    /// The joint map, once opened: kept when closed (its figures stay chosen).
    joint: Option<JointView>,
    /// Raised while input waits: a long computation then stops, to be done again.
    interrupt: Interrupt,
    /// When to do again a computation that input stopped.
    recompute_at: Option<Instant>,
}

impl Tuner {
    /// A tuner about to load `impulse` (the default one when `None`) of `project` (the
    /// credentials' only project when `None`) from `host`.
    pub fn new(
        config: TunerConfig,
        host: impl Into<String>,
        project: Option<u64>,
        impulse: Option<u64>,
        now: Instant,
    ) -> (Self, Vec<Cmd>) {
        let mut tuner = Self {
            config,
            started: now,
            host: host.into(),
            project: project.map(|id| ProjectRef { id, name: None }),
            impulse: None,
            impulses: Vec::new(),
            connection: Connection::Connecting,
            sliders: Vec::new(),
            unreadable: Vec::new(),
            selected: 0,
            mode: Mode::Normal,
            feedback: Feedback::default(),
            metrics: Metrics::default(),
            job: None,
            exit: None,
            preview: Preview::default(),
            results_outdated: false,
            save: SaveEngine::default(),
            opening: Opening::default(),
            history: HistoryList::default(),
            joint: None,
            interrupt: Interrupt::never(),
            recompute_at: None,
        };
        let mut cmds = Vec::new();
        tuner.load(impulse, &mut cmds);
        // With the project and the impulse known, their results go out with the first
        // read instead of after it: the preview comes a round trip sooner.
        if let (Some(project), Some(impulse)) = (project, impulse) {
            let at = Target { project, impulse };
            tuner.opening.asked_early(impulse);
            tuner.ask_results(at, &mut cmds);
            tuner.preview.read_again();
            cmds.push(Cmd::LoadTestSet { at });
        }
        (tuner, cmds)
    }

    pub fn config(&self) -> &TunerConfig {
        &self.config
    }
    pub fn host(&self) -> &str {
        &self.host
    }
    pub fn project(&self) -> Option<&ProjectRef> {
        self.project.as_ref()
    }
    pub fn impulse(&self) -> Option<&Impulse> {
        self.impulse.as_ref()
    }
    pub fn impulses(&self) -> &[Impulse] {
        &self.impulses
    }
    pub fn connection(&self) -> &Connection {
        &self.connection
    }
    pub fn sliders(&self) -> &[Slider] {
        &self.sliders
    }
    pub fn unreadable(&self) -> &[UnreadableBlock] {
        &self.unreadable
    }
    pub fn selected(&self) -> usize {
        self.selected
    }
    pub fn mode(&self) -> &Mode {
        &self.mode
    }
    pub fn status(&self) -> &VecDeque<StatusEntry> {
        self.feedback.status()
    }
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }
    pub fn job(&self) -> Option<&JobProgress> {
        self.job.as_ref()
    }
    pub fn notice(&self) -> Option<&str> {
        self.feedback.notice()
    }
    pub fn preview(&self) -> &Preview {
        &self.preview
    }
    /// Why the tuner stopped, once it has: taken by the event loop.
    pub fn take_exit(&mut self) -> Option<ExitReport> {
        self.exit.take()
    }

    /// When the event loop must wake the tuner with [`Msg::Tick`], if at all.
    pub fn next_deadline(&self) -> Option<Instant> {
        match (self.save.next_deadline(), self.recompute_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Long computations stop while `interrupt` is raised (input waits), and are done
    /// again once the input is read.
    pub fn set_interrupt(&mut self, interrupt: Interrupt) {
        self.interrupt = interrupt;
    }

    pub fn in_flight(&self) -> bool {
        self.save.in_flight()
    }

    pub fn is_quitting(&self) -> bool {
        self.save.is_quitting()
    }

    pub fn selected_slider(&self) -> Option<&Slider> {
        self.sliders.get(self.selected)
    }

    /// The sync state of a slider in words: saved, edited, waiting, sending, failed.
    pub fn sync_label(&self, slider: &Slider) -> String {
        match &slider.sync {
            SyncState::Saved => "saved".into(),
            SyncState::Edited if self.save.held_for_scores() => "waiting for the scores".into(),
            SyncState::Edited if self.save.in_flight() || self.job.is_some() => "waiting".into(),
            SyncState::Edited => "edited".into(),
            SyncState::Sending => "sending".into(),
            SyncState::Unconfirmed => "answer lost: reading back".into(),
            SyncState::Retrying { attempt, delay } => format!(
                "retrying (attempt {}, next in {:.1} s)",
                attempt + 1,
                delay.as_secs_f64()
            ),
            SyncState::Failed(reason) => format!("failed: {reason}"),
            SyncState::ChangedElsewhere { theirs } => format!(
                "changed elsewhere to {}: m keeps yours, t takes it",
                slider.display(theirs)
            ),
        }
    }

    /// Whether the values shown differ from what the server holds.
    pub fn has_unsaved(&self) -> bool {
        self.save.in_flight() || self.sliders.iter().any(|s| s.sync != SyncState::Saved)
    }

    pub fn update(&mut self, msg: Msg, now: Instant) -> Vec<Cmd> {
        let mut cmds = Vec::new();
        // With a live interrupt (the event loop's), long work waits for the tick after
        // the frame: what a key did is drawn before the sweep or the map it starts.
        let stop = if self.interrupt.is_live() && !matches!(msg, Msg::Tick) {
            Interrupt::raised()
        } else {
            self.interrupt.clone()
        };
        match msg {
            Msg::Action(action) => self.on_action(action, now, &mut cmds),
            Msg::Pointer(pointer) => self.on_pointer(pointer, now),
            Msg::Tick => self.on_tick(now, &mut cmds),
            Msg::Loaded { load, result } => self.on_loaded(load, result, now, &mut cmds),
            Msg::ResultsLoaded { impulse, result } => self.on_results(impulse, result),
            Msg::SetDone {
                request_id,
                outcome,
            } => self.on_set_done(request_id, outcome, now, &mut cmds),
            Msg::RegenerationStarted { impulse, result } => {
                self.on_regeneration_started(impulse, result, now, &mut cmds);
            }
            Msg::JobPolled { job_id, result } => self.on_job_polled(job_id, result, now, &mut cmds),
            Msg::TestSetProgress {
                impulse,
                loaded,
                total,
            } => self.on_test_set_progress(impulse, loaded, total),
            Msg::TestSetCached { impulse, set } => self.on_cached_test_set(impulse, set),
            Msg::TestSetLoaded { impulse, result } => self.on_test_set(impulse, result, now),
            Msg::FocusGained => self.on_focus_gained(&mut cmds),
            Msg::Recorded(result) => self.on_recorded(result),
            Msg::HistoryLoaded { impulse, result } => self.on_history_loaded(impulse, result),
            Msg::Terminate => self.finish(),
        }
        // Quitting, nothing more is computed: the figures would not be seen.
        if self.exit.is_some() || self.save.is_quitting() {
            self.recompute_at = None;
            return cmds;
        }
        self.refresh_preview(&stop);
        self.refresh_map(&stop);
        let stopped =
            self.preview.interrupted() || self.joint.as_ref().is_some_and(|j| j.interrupted);
        self.recompute_at = stopped.then_some(now);
        cmds
    }

    fn is_current(&self, impulse: u64) -> bool {
        self.impulse.as_ref().is_some_and(|i| i.id == impulse)
    }

    /// Whether results about `impulse` are for the impulse shown or the one being opened.
    fn wants_results_of(&self, impulse: u64) -> bool {
        self.is_current(impulse) || self.opening.early() == Some(impulse)
    }

    /// Where calls about the impulse shown go, once it is loaded.
    fn target(&self) -> Option<Target> {
        Some(Target {
            project: self.project.as_ref()?.id,
            impulse: self.impulse.as_ref()?.id,
        })
    }

    /// A line for the status pane, newest first.
    fn push_status(&mut self, entry: StatusEntry) {
        self.feedback.push_status(entry);
    }

    fn since_start(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.started)
    }

    fn display_of(&self, id: &str, value: &ThresholdValue) -> String {
        self.sliders
            .iter()
            .find(|s| s.id() == id)
            .map_or_else(|| value.to_string(), |s| s.display(value))
    }
}

#[cfg(test)]
mod tests;
