//! The tuner core: all state and rules of the interactive tuner, with no I/O.
//!
//! `update(msg, now)` takes a message (a key, a timer, an API result) and the current time
//! and returns the effects to perform as [`Cmd`]s. The event loop in `app` performs them and
//! feeds their results back as messages, so debounce and coalescing are tested by feeding
//! `Instant`s, with no runtime and no sleeps.
//!
//! The rules of sending:
//! - An edit shows at once and (re)arms the debounce deadline.
//! - When the deadline passes, one set-thresholds call carries every threshold changed since
//!   the last call, with `allowCreatingRegenerateModelTestingJobs: false`.
//! - At most one call is in flight; edits made meanwhile go in one follow-up after it returns.
//! - A response never moves a slider the user has moved since its request went out.
//! - A failed call marks its thresholds failed; the next edit or `r` sends them again.

pub mod keys;
pub mod slider;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::api::ApiError;
use crate::api::client::{
    Believed, BlockThresholds, ChangedElsewhere, GuardedSet, UnreadableBlock,
};
use crate::api::models::*;
use crate::jobs::{JobOutcome, JobState, JobWatch};
use crate::metrics::sweep::{self, Objective, Parameter, Sweep};
use crate::metrics::{Summary, TestSet, Thresholds};
pub use keys::Action;
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
    /// The false-positive rate the "fewest missed anomalies" objective may not exceed.
    pub max_fpr: f64,
    /// First wait before resending after a transient failure; it doubles each time.
    pub retry_base: Duration,
    pub retry_max_delay: Duration,
    /// Attempts of one set of values before giving up (marking them failed).
    pub max_attempts: u32,
    /// And the longest time spent retrying.
    pub max_retry_time: Duration,
}

impl Default for TunerConfig {
    fn default() -> Self {
        Self {
            debounce: crate::defaults::DEBOUNCE,
            save_on_quit: Duration::from_secs(5),
            job_poll: Duration::from_millis(500),
            max_fpr: crate::defaults::MAX_FPR,
            retry_base: Duration::from_millis(250),
            retry_max_delay: Duration::from_secs(8),
            max_attempts: 8,
            max_retry_time: Duration::from_secs(60),
        }
    }
}

/// Effects for the event loop to perform.
#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    /// Resolve the project, read the impulse (default when `None`), the project's impulses
    /// and every threshold; answer with [`Msg::Loaded`].
    LoadImpulse { impulse: Option<u64> },
    /// Read the model testing summary; answer with [`Msg::ResultsLoaded`].
    LoadResults { impulse: u64 },
    /// Answer with [`Msg::SetDone`]; values that Studio no longer holds as `believed`
    /// (someone else changed them) are left out and reported.
    SetThresholds {
        request_id: u64,
        impulse: u64,
        request: SetImpulseThresholdsRequest,
        believed: Vec<Believed>,
    },
    /// regenerateModelTestingSummary; answer with [`Msg::RegenerationStarted`].
    StartRegeneration { impulse: u64 },
    /// Wait `after`, then getJobStatus; answer with [`Msg::JobPolled`].
    PollJob { job_id: u64, after: Duration },
    /// Read the per-window results page by page; answer with [`Msg::TestSetProgress`]
    /// after each page and [`Msg::TestSetLoaded`] at the end.
    LoadTestSet { impulse: Impulse },
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
}

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Action(Action),
    Pointer(Pointer),
    /// A deadline from [`Tuner::next_deadline`] passed.
    Tick,
    Loaded(Result<Loaded, ApiError>),
    ResultsLoaded {
        impulse: u64,
        result: Result<ModelTestingSummary, ApiError>,
    },
    SetDone {
        request_id: u64,
        result: Result<GuardedSet, ApiError>,
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
    /// The per-window results, or why there is no preview.
    TestSetLoaded {
        impulse: u64,
        result: Result<Arc<TestSet>, PreviewFailure>,
    },
    /// A signal asks to stop now.
    Terminate,
}

/// Why the per-window results could not be read, and whether asking again may help (a
/// network failure) or not (an impulse that cannot be previewed).
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewFailure {
    pub why: String,
    pub retryable: bool,
}

impl From<&str> for PreviewFailure {
    /// A reason that asking again will not change.
    fn from(why: &str) -> Self {
        Self {
            why: why.to_string(),
            retryable: false,
        }
    }
}

/// Where the per-window results for the local preview stand.
#[derive(Debug, Clone, PartialEq)]
pub enum PreviewSource {
    Loading { loaded: u64, total: u64 },
    Unavailable(String),
    Ready(Arc<TestSet>),
}

/// Figures computed locally at the displayed thresholds, before anything is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub source: PreviewSource,
    /// At the displayed thresholds.
    pub displayed: Option<Summary>,
    /// The server's figures, read back over the same labels.
    pub saved: Option<Summary>,
    /// The focused threshold across its range.
    pub sweep: Option<Sweep>,
    pub objective: Objective,
    /// What the figures and the sweep were computed for: recomputed only when that changes.
    computed_for: Option<Thresholds>,
    swept_for: Option<(Thresholds, usize, Objective, (f64, f64))>,
}

impl Preview {
    fn new(objective: Objective) -> Self {
        Self {
            source: PreviewSource::Loading {
                loaded: 0,
                total: 0,
            },
            displayed: None,
            saved: None,
            sweep: None,
            objective,
            computed_for: None,
            swept_for: None,
        }
    }
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
    Picker { selected: usize },
    Input { text: String, error: Option<String> },
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

#[derive(Debug, Clone, PartialEq)]
pub struct JobProgress {
    pub id: Option<u64>,
    pub started: Instant,
    /// Time since it started, as of the last poll.
    pub elapsed: Duration,
    pub state: &'static str,
    /// How long it is still waited for; set once its id is known.
    watch: Option<JobWatch>,
}

impl JobProgress {
    fn new(id: Option<u64>, state: &'static str, now: Instant) -> Self {
        Self {
            id,
            started: now,
            elapsed: Duration::ZERO,
            state,
            watch: id.map(|id| JobWatch::new(id, now)),
        }
    }

    fn identified(&mut self, id: u64, now: Instant) {
        self.id = Some(id);
        self.state = "started";
        self.watch = Some(JobWatch::new(id, now));
    }
}

/// What follows a set-thresholds answer.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Plan {
    Done,
    Retry(Duration),
    FollowJob(u64),
    GiveUp,
}

/// What to do once nothing is unsaved and nothing is in flight.
#[derive(Debug, Clone, Copy, PartialEq)]
enum AfterSettle {
    Quit,
    Switch(u64),
}

/// Why the tuner stopped, and what it could not save.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExitReport {
    pub unsaved: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct InFlight {
    request_id: u64,
    impulse: u64,
    sent_at: Instant,
    /// (slider id, its edit count when sent, the value sent)
    entries: Vec<(String, u64, ThresholdValue)>,
}

/// The whole state of the interactive tuner.
#[derive(Debug, Clone)]
pub struct Tuner {
    pub config: TunerConfig,
    started: Instant,
    pub host: String,
    pub project_id: Option<u64>,
    pub project_name: Option<String>,
    pub impulse: Option<Impulse>,
    pub impulses: Vec<Impulse>,
    pub connection: Connection,
    pub sliders: Vec<Slider>,
    /// Learn blocks of the impulse whose thresholds could not be read.
    pub unreadable: Vec<UnreadableBlock>,
    pub selected: usize,
    pub mode: Mode,
    pub status: VecDeque<StatusEntry>,
    pub metrics: Metrics,
    pub job: Option<JobProgress>,
    /// A one-line message for the footer.
    pub notice: Option<String>,
    pub exit: Option<ExitReport>,
    pub preview: Preview,
    /// The preview failed for a passing reason: `r` asks again.
    preview_retryable: bool,
    /// A change made the results stale after the last read was asked for: a summary that
    /// says otherwise was read before the change.
    results_outdated: bool,
    in_flight: Option<InFlight>,
    deadline: Option<Instant>,
    /// When to resend after a transient failure.
    retry_at: Option<Instant>,
    /// Consecutive transient failures, and when the first of them happened.
    failures: u32,
    failing_since: Option<Instant>,
    /// A call's outcome is unknown: read the thresholds back after the next success.
    reconcile_pending: bool,
    /// Such read-backs under way: until all are answered, any load is read as one.
    reconciling: u32,
    quit_deadline: Option<Instant>,
    after_settle: Option<AfterSettle>,
    next_request_id: u64,
}

impl Tuner {
    /// A tuner about to load `impulse` (the default one when `None`) from `host`.
    pub fn new(
        config: TunerConfig,
        host: impl Into<String>,
        impulse: Option<u64>,
        now: Instant,
    ) -> (Self, Vec<Cmd>) {
        let tuner = Self {
            config,
            started: now,
            host: host.into(),
            project_id: None,
            project_name: None,
            impulse: None,
            impulses: Vec::new(),
            connection: Connection::Connecting,
            sliders: Vec::new(),
            unreadable: Vec::new(),
            selected: 0,
            mode: Mode::Normal,
            status: VecDeque::new(),
            metrics: Metrics::default(),
            job: None,
            notice: None,
            exit: None,
            preview: Preview::new(Objective::MacroF1),
            preview_retryable: false,
            results_outdated: false,
            in_flight: None,
            deadline: None,
            retry_at: None,
            failures: 0,
            failing_since: None,
            reconcile_pending: false,
            reconciling: 0,
            quit_deadline: None,
            after_settle: None,
            next_request_id: 1,
        };
        (tuner, vec![Cmd::LoadImpulse { impulse }])
    }

    /// When the event loop must wake the tuner with [`Msg::Tick`], if at all.
    pub fn next_deadline(&self) -> Option<Instant> {
        // The debounce deadline only matters when a call could go out.
        let idle = self.in_flight.is_none() && !self.job_running();
        [
            self.deadline.filter(|_| idle),
            self.retry_at.filter(|_| idle),
            self.quit_deadline,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    pub fn in_flight(&self) -> bool {
        self.in_flight.is_some()
    }

    pub fn is_quitting(&self) -> bool {
        self.after_settle == Some(AfterSettle::Quit)
    }

    fn job_running(&self) -> bool {
        self.job.is_some()
    }

    pub fn selected_slider(&self) -> Option<&Slider> {
        self.sliders.get(self.selected)
    }

    /// The sync state of a slider in words: saved, edited, waiting, sending, failed.
    pub fn sync_label(&self, slider: &Slider) -> String {
        match &slider.sync {
            SyncState::Saved => "saved".into(),
            SyncState::Edited if self.in_flight.is_some() || self.job_running() => "waiting".into(),
            SyncState::Edited => "edited".into(),
            SyncState::Sending => "sending".into(),
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
        self.in_flight.is_some() || self.sliders.iter().any(|s| s.sync != SyncState::Saved)
    }

    pub fn update(&mut self, msg: Msg, now: Instant) -> Vec<Cmd> {
        let mut cmds = Vec::new();
        match msg {
            Msg::Key(key) => self.on_key(key, now, &mut cmds),
            Msg::Action(action) => self.on_action(action, now, &mut cmds),
            Msg::Pointer(pointer) => self.on_pointer(pointer, now),
            Msg::Tick => self.on_tick(now, &mut cmds),
            Msg::Loaded(result) => self.on_loaded(result, now, &mut cmds),
            Msg::ResultsLoaded { impulse, result } => self.on_results(impulse, result),
            Msg::SetDone { request_id, result } => {
                self.on_set_done(request_id, result, now, &mut cmds);
            }
            Msg::RegenerationStarted { impulse, result } => {
                self.on_regeneration_started(impulse, result, now, &mut cmds);
            }
            Msg::JobPolled { job_id, result } => self.on_job_polled(job_id, result, now, &mut cmds),
            Msg::TestSetProgress {
                impulse,
                loaded,
                total,
            } => {
                if self.is_current(impulse)
                    && matches!(self.preview.source, PreviewSource::Loading { .. })
                {
                    self.preview.source = PreviewSource::Loading { loaded, total };
                }
            }
            Msg::TestSetLoaded { impulse, result } => {
                if self.is_current(impulse) {
                    self.preview.source = match result {
                        Ok(set) => PreviewSource::Ready(set),
                        Err(failure) => {
                            self.preview_retryable = failure.retryable;
                            PreviewSource::Unavailable(failure.why)
                        }
                    };
                    self.preview.computed_for = None;
                    self.preview.swept_for = None;
                    self.fit_ranges_to_scores();
                    self.refresh_saved();
                }
            }
            Msg::FocusGained => self.on_focus_gained(&mut cmds),
            Msg::Terminate => self.finish(),
        }
        self.refresh_preview();
        cmds
    }

    fn is_current(&self, impulse: u64) -> bool {
        self.impulse.as_ref().is_some_and(|i| i.id == impulse)
    }

    /// Open-ended sliders cover the scores their thresholds are compared with, so that the
    /// sweep and `o` search every value that decides differently (Studio's suggested value
    /// may be absent, or far from the optimum).
    fn fit_ranges_to_scores(&mut self) {
        let PreviewSource::Ready(set) = &self.preview.source else {
            return;
        };
        let Some((lo, hi)) = set.anomaly_span() else {
            return;
        };
        for slider in &mut self.sliders {
            if Parameter::of_key(&slider.block_type, &slider.key)
                == Some(Parameter::MinAnomalyScore)
                && let SliderKind::Numeric(scale) = &mut slider.kind
            {
                *scale = scale.covering(lo, hi);
            }
        }
    }

    /// The thresholds the sliders show, as the metrics take them.
    pub fn displayed_thresholds(&self) -> Thresholds {
        Thresholds::from_blocks(
            self.sliders
                .iter()
                .map(|s| (s.block_type.as_str(), s.key.as_str(), &s.value)),
        )
    }

    /// Recomputes the preview and the sweep when what they depend on changed.
    fn refresh_preview(&mut self) {
        let PreviewSource::Ready(set) = &self.preview.source else {
            self.preview.displayed = None;
            self.preview.sweep = None;
            return;
        };
        let set = Arc::clone(set);
        let thresholds = self.displayed_thresholds();
        if self.preview.computed_for != Some(thresholds) {
            self.preview.computed_for = Some(thresholds);
            self.preview.displayed = Some(set.evaluate(&thresholds));
        }
        // The sweep varies the focused threshold: its own value does not change the curves,
        // so moving it (the common case) costs one evaluation, not a sweep.
        let focus = self.selected_slider().and_then(|slider| {
            let parameter = Parameter::of_key(&slider.block_type, &slider.key)?;
            let scale = *slider.scale()?;
            Some((parameter, scale))
        });
        let Some((parameter, scale)) = focus else {
            self.preview.sweep = None;
            self.preview.swept_for = None;
            return;
        };
        let others = parameter.set(&thresholds, 0.0);
        let key = (
            others,
            self.selected,
            self.preview.objective,
            (scale.min, scale.max),
        );
        if self.preview.swept_for == Some(key) {
            return;
        }
        self.preview.swept_for = Some(key);
        let xs: Vec<f64> = sweep::points(scale.min, scale.max, SWEEP_POINTS)
            .into_iter()
            .map(|x| scale.clean(x))
            .collect();
        let objective = if self.preview.objective.applies_to(parameter) {
            self.preview.objective
        } else {
            Objective::MacroF1
        };
        self.preview.sweep = Some(sweep::sweep(&set, &thresholds, parameter, &xs, &objective));
    }

    /// The server's figures over the preview's labels: they change with the summary or the
    /// per-window results, not with the displayed thresholds.
    fn refresh_saved(&mut self) {
        self.preview.saved = match &self.preview.source {
            PreviewSource::Ready(set) => self
                .metrics
                .summary
                .as_ref()
                .and_then(|s| Summary::from_api(&s.accuracy, set).ok()),
            _ => None,
        };
    }

    /// Moves the focused threshold to the sweep's optimum: an ordinary edit.
    fn optimize(&mut self, now: Instant) {
        let target = match (&self.preview.source, &self.preview.sweep) {
            (PreviewSource::Ready(_), Some(sweep)) => sweep.optimum,
            (PreviewSource::Unavailable(why), _) => {
                self.notice = Some(format!("no preview: {why}"));
                return;
            }
            (PreviewSource::Loading { .. }, _) => {
                self.notice = Some("the results are still loading".into());
                return;
            }
            (PreviewSource::Ready(_), None) => {
                self.notice = Some("only numeric score thresholds can be optimised".into());
                return;
            }
        };
        match target {
            Some(x) => self.edit(self.selected, ThresholdValue::Number(x), now),
            None => {
                self.notice = Some(format!(
                    "no value of this threshold reaches: {}",
                    self.preview.objective.name()
                ));
            }
        }
    }

    fn cycle_objective(&mut self) {
        let parameter = self
            .selected_slider()
            .and_then(|s| Parameter::of_key(&s.block_type, &s.key))
            .unwrap_or(Parameter::MinScore);
        self.preview.objective = self.preview.objective.next(parameter, self.config.max_fpr);
        self.notice = Some(format!("objective: {}", self.preview.objective.name()));
    }

    fn on_key(&mut self, key: KeyEvent, now: Instant, cmds: &mut Vec<Cmd>) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            return self.on_action(Action::Quit, now, cmds);
        }
        match &mut self.mode {
            Mode::Normal => {
                if let Some(action) = keys::action_for(key) {
                    self.on_action(action, now, cmds);
                }
            }
            Mode::Help => self.mode = Mode::Normal,
            Mode::Picker { selected } => match key.code {
                KeyCode::Up | KeyCode::Char('k') => *selected = selected.saturating_sub(1),
                KeyCode::Down | KeyCode::Char('j') => {
                    *selected = (*selected + 1).min(self.impulses.len().saturating_sub(1));
                }
                KeyCode::Enter => {
                    let chosen = self.impulses.get(*selected).map(|i| i.id);
                    self.mode = Mode::Normal;
                    if let Some(id) = chosen {
                        self.switch_impulse(id, now, cmds);
                    }
                }
                KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('i') => self.mode = Mode::Normal,
                _ => {}
            },
            Mode::Input { text, error } => match key.code {
                KeyCode::Esc => self.mode = Mode::Normal,
                KeyCode::Backspace => {
                    text.pop();
                    *error = None;
                }
                KeyCode::Char(c) if !c.is_control() && text.chars().count() < MAX_TYPED_CHARS => {
                    text.push(c);
                    *error = None;
                }
                KeyCode::Enter => {
                    let typed = text.clone();
                    let Some(slider) = self.sliders.get(self.selected) else {
                        self.mode = Mode::Normal;
                        return;
                    };
                    match slider.parse_input(&typed) {
                        Ok(value) => {
                            self.mode = Mode::Normal;
                            self.edit(self.selected, value, now);
                        }
                        Err(e) => {
                            if let Mode::Input { error, .. } = &mut self.mode {
                                *error = Some(e);
                            }
                        }
                    }
                }
                _ => {}
            },
        }
    }

    fn on_action(&mut self, action: Action, now: Instant, cmds: &mut Vec<Cmd>) {
        if action == Action::Quit {
            return self.quit(now, cmds);
        }
        if self.mode != Mode::Normal {
            self.mode = Mode::Normal;
        }
        let i = self.selected;
        let step = |tuner: &Tuner, steps: i32, coarse: bool| {
            tuner.sliders.get(i).map(|s| s.stepped(steps, coarse))
        };
        let value = match action {
            Action::SelectPrevious => {
                self.selected = self.selected.saturating_sub(1);
                None
            }
            Action::SelectNext => {
                self.selected = (self.selected + 1).min(self.sliders.len().saturating_sub(1));
                None
            }
            Action::StepDown => step(self, -1, false),
            Action::StepUp => step(self, 1, false),
            Action::CoarseDown => step(self, -1, true),
            Action::CoarseUp => step(self, 1, true),
            Action::RangeStart => self.sliders.get(i).map(|s| s.at_fraction(0.0)),
            Action::RangeEnd => self.sliders.get(i).map(|s| s.at_fraction(1.0)),
            Action::Jump(d) => self
                .sliders
                .get(i)
                .map(|s| s.at_fraction(f64::from(d.min(9)) / 10.0)),
            Action::Suggested => match self.sliders.get(i) {
                Some(s) => match s.suggested {
                    Some(v) => Some(ThresholdValue::Number(v)),
                    None => {
                        self.notice = Some(format!("{} has no suggested value", s.id()));
                        None
                    }
                },
                None => None,
            },
            Action::RevertToSaved => self.sliders.get(i).map(|s| s.saved.clone()),
            Action::Activate => match self.sliders.get(i).map(|s| &s.kind) {
                Some(SliderKind::Options(_)) => step(self, 1, false),
                Some(SliderKind::Numeric(_) | SliderKind::Text) => {
                    self.start_input();
                    None
                }
                None => None,
            },
            Action::EditValue => {
                self.start_input();
                None
            }
            Action::CycleOption => match self.sliders.get(i).map(|s| &s.kind) {
                Some(SliderKind::Options(_)) => step(self, 1, false),
                _ => None,
            },
            Action::Regenerate => {
                self.regenerate(now, cmds);
                None
            }
            Action::Reload => {
                self.reload(now, cmds);
                None
            }
            Action::ImpulsePicker => {
                if !self.impulses.is_empty() {
                    let current = self.impulse.as_ref().map(|i| i.id);
                    let selected = self
                        .impulses
                        .iter()
                        .position(|i| Some(i.id) == current)
                        .unwrap_or(0);
                    self.mode = Mode::Picker { selected };
                }
                None
            }
            Action::Help => {
                self.mode = Mode::Help;
                None
            }
            Action::Optimize => {
                self.optimize(now);
                None
            }
            Action::CycleObjective => {
                self.cycle_objective();
                None
            }
            Action::KeepMine => {
                self.keep_mine(now);
                None
            }
            Action::TakeTheirs => {
                if self.take_theirs()
                    && let Some(impulse) = self.impulse.as_ref().map(|i| i.id)
                {
                    // Studio's figures are those of its value, which the tuner had not read.
                    self.ask_results(impulse, cmds);
                }
                None
            }
            Action::Quit => None,
        };
        if let Some(value) = value {
            self.edit(i, value, now);
        }
    }

    fn start_input(&mut self) {
        if let Some(s) = self.sliders.get(self.selected) {
            self.mode = Mode::Input {
                text: s.display(&s.value),
                error: None,
            };
        }
    }

    fn on_pointer(&mut self, pointer: Pointer, now: Instant) {
        if self.mode != Mode::Normal {
            self.mode = Mode::Normal;
            return;
        }
        match pointer {
            Pointer::Press { slider, fraction } if slider < self.sliders.len() => {
                self.selected = slider;
                if let Some(f) = fraction {
                    let value = self.sliders[slider].at_fraction(f);
                    self.edit(slider, value, now);
                }
            }
            Pointer::Drag { slider, fraction } if slider < self.sliders.len() => {
                self.selected = slider;
                let value = self.sliders[slider].at_fraction(fraction);
                self.edit(slider, value, now);
            }
            Pointer::Wheel { slider, up } if slider < self.sliders.len() => {
                self.selected = slider;
                let value = self.sliders[slider].stepped(if up { 1 } else { -1 }, false);
                self.edit(slider, value, now);
            }
            _ => {}
        }
    }

    /// The one way a value changes: shown at once, sent after the debounce.
    fn edit(&mut self, i: usize, value: ThresholdValue, now: Instant) {
        let Some(slider) = self.sliders.get_mut(i) else {
            return;
        };
        if slider.value == value {
            return;
        }
        slider.set_value(value);
        slider.edits += 1;
        slider.sync = SyncState::Edited;
        self.notice = None;
        self.deadline = Some(now + self.config.debounce);
    }

    fn on_tick(&mut self, now: Instant, cmds: &mut Vec<Cmd>) {
        if self.quit_deadline.is_some_and(|d| d <= now) {
            return self.finish();
        }
        let due = |t: Option<Instant>| t.is_some_and(|t| t <= now);
        if (due(self.deadline) || due(self.retry_at)) && self.in_flight.is_none() {
            self.deadline = None;
            self.send(now, cmds);
        }
    }

    /// Sends every unsaved value in one call, unless a call is in flight or a job blocks.
    fn send(&mut self, now: Instant, cmds: &mut Vec<Cmd>) {
        if self.in_flight.is_some() || self.job_running() {
            return;
        }
        let Some(impulse) = self.impulse.as_ref().map(|i| i.id) else {
            return;
        };
        // Whatever is unsaved goes now, retries included.
        self.retry_at = None;
        let mut entries = Vec::new();
        let mut updates = Vec::new();
        for slider in &mut self.sliders {
            // Values changed elsewhere wait for the user's word (m or t).
            if matches!(
                slider.sync,
                SyncState::Saved | SyncState::Sending | SyncState::ChangedElsewhere { .. }
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
            updates.push(ThresholdUpdate::new(
                slider.block_id,
                slider.key.clone(),
                slider.value.clone(),
            ));
        }
        if updates.is_empty() {
            self.settle(cmds);
            return;
        }
        let request_id = self.next_request_id;
        self.next_request_id += 1;
        self.status.push_front(StatusEntry {
            request_id,
            at: now.saturating_duration_since(self.started),
            sent: entries
                .iter()
                .map(|(id, _, v)| format!("{id}={}", self.display_of(id, v)))
                .collect(),
            latency: None,
            outcome: StatusOutcome::Pending,
        });
        self.status.truncate(STATUS_HISTORY);
        self.in_flight = Some(InFlight {
            request_id,
            impulse,
            sent_at: now,
            entries,
        });
        let believed = self.believed();
        cmds.push(Cmd::SetThresholds {
            request_id,
            impulse,
            request: SetImpulseThresholdsRequest::without_jobs(updates),
            believed,
        });
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

    /// Reads the model testing summary; any answer to an earlier read counts again.
    fn ask_results(&mut self, impulse: u64, cmds: &mut Vec<Cmd>) {
        self.metrics.loading = true;
        self.results_outdated = false;
        cmds.push(Cmd::LoadResults { impulse });
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
            self.status.push_front(StatusEntry {
                request_id: 0,
                at: now.saturating_duration_since(self.started),
                sent: taken,
                latency: None,
                outcome: StatusOutcome::Held("changed elsewhere: taken from Studio".into()),
            });
            self.status.truncate(STATUS_HISTORY);
        }
    }

    /// Another writer may have changed thresholds while the terminal was elsewhere: read
    /// them again (once; nothing polls while idle).
    fn on_focus_gained(&mut self, cmds: &mut Vec<Cmd>) {
        if let Some(impulse) = self.impulse.as_ref().map(|i| i.id) {
            cmds.push(Cmd::LoadImpulse {
                impulse: Some(impulse),
            });
            self.ask_results(impulse, cmds);
        }
    }

    /// `m`: send the user's value over the one changed elsewhere.
    fn keep_mine(&mut self, now: Instant) {
        if let Some(slider) = self.sliders.get_mut(self.selected)
            && matches!(slider.sync, SyncState::ChangedElsewhere { .. })
        {
            slider.sync = SyncState::Edited;
            slider.edits += 1;
            self.deadline = Some(now);
            self.notice = None;
        }
    }

    /// `t`: take the value changed elsewhere; whether there was one.
    fn take_theirs(&mut self) -> bool {
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

    fn display_of(&self, id: &str, value: &ThresholdValue) -> String {
        self.sliders
            .iter()
            .find(|s| s.id() == id)
            .map_or_else(|| value.to_string(), |s| s.display(value))
    }

    fn on_set_done(
        &mut self,
        request_id: u64,
        result: Result<GuardedSet, ApiError>,
        now: Instant,
        cmds: &mut Vec<Cmd>,
    ) {
        let Some(flight) = self.in_flight.take_if(|f| f.request_id == request_id) else {
            return; // an answer to a request this tuner no longer waits for
        };
        let latency = now.saturating_duration_since(flight.sent_at);
        let changed_elsewhere = result
            .as_ref()
            .map(|g| g.changed_elsewhere.clone())
            .unwrap_or_default();
        let result = result.map(|g| g.response);
        let plan = self.plan_after(&result, request_id, now);
        self.mark_answered(&flight, &result, plan, &changed_elsewhere);
        let sent: Vec<String> = flight.entries.iter().map(|(id, _, _)| id.clone()).collect();
        let held: Vec<String> = changed_elsewhere
            .iter()
            .filter(|c| sent.contains(&format!("{}.{}", c.block_id, c.key)))
            .map(|c| format!("{}.{} is now {}", c.block_id, c.key, c.value))
            .collect();
        self.note_changed_elsewhere(&changed_elsewhere, &sent, now);
        if !held.is_empty() {
            self.notice = Some(format!("changed elsewhere, not sent: {}", held.join(", ")));
        }
        if !changed_elsewhere.is_empty() {
            // Studio's figures are those of the other values.
            self.ask_results(flight.impulse, cmds);
        }
        let outcome = self.status_outcome(&result, plan);
        if let Some(entry) = self.status.iter_mut().find(|e| e.request_id == request_id) {
            entry.latency = Some(latency);
            entry.outcome = outcome;
        }
        match (&result, plan) {
            (Ok(response), _) => {
                self.connection = Connection::Connected;
                self.failures = 0;
                self.failing_since = None;
                if self.reconcile_pending {
                    // An earlier call may have been applied late: read back what Studio holds.
                    self.reconcile_pending = false;
                    self.reconciling += 1;
                    cmds.push(Cmd::LoadImpulse {
                        impulse: Some(flight.impulse),
                    });
                }
                if let Some(response) = response {
                    self.on_regeneration_status(flight.impulse, response, now, cmds);
                }
            }
            (Err(e), plan) => {
                if e.outcome_unknown() {
                    self.reconcile_pending = true;
                }
                if matches!(e, ApiError::Network { .. }) {
                    self.connection = Connection::Failing(e.short_reason());
                }
                match plan {
                    Plan::Retry(delay) => self.retry_at = Some(now + delay),
                    Plan::FollowJob(job_id) => {
                        self.notice = Some(format!(
                            "a model testing job ({job_id}) blocks changes: sending when it finishes"
                        ));
                        self.job = Some(JobProgress::new(Some(job_id), "running", now));
                        cmds.push(Cmd::PollJob {
                            job_id,
                            after: self.config.job_poll,
                        });
                    }
                    Plan::Done | Plan::GiveUp => {}
                }
            }
        }
        // Edits made meanwhile: one follow-up, now if their quiet time is over.
        let due = self.deadline.is_none_or(|d| d <= now);
        let edited = self.sliders.iter().any(|s| s.sync == SyncState::Edited);
        if edited && (due || self.is_quitting()) && self.retry_at.is_none() {
            self.deadline = None;
            self.send(now, cmds);
        } else if !edited && self.retry_at.is_none() && self.in_flight.is_none() {
            self.settle(cmds);
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
                    if untouched {
                        slider.sync = SyncState::Saved;
                    }
                }
                // Newer edits keep their own state: they go in the next call anyway.
                (Err(_), _) if !untouched => {}
                (Err(_), Plan::FollowJob(_)) => slider.sync = SyncState::Edited,
                (Err(_), Plan::Retry(delay)) => {
                    slider.sync = SyncState::Retrying {
                        attempt: self.failures,
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
                self.failures + 1,
                delay.as_secs_f64()
            )),
            (Err(e), Plan::FollowJob(job)) => {
                StatusOutcome::Failed(format!("{e}; sending again when job {job} finishes"))
            }
            (Err(e), _) => StatusOutcome::Failed(e.to_string()),
        }
    }

    /// What to do after a call: retry transient failures with exponential backoff (bounded
    /// in attempts and time), follow a job that blocks changes, or give up.
    fn plan_after(
        &mut self,
        result: &Result<Option<SetImpulseThresholdsResponse>, ApiError>,
        request_id: u64,
        now: Instant,
    ) -> Plan {
        let Err(e) = result else {
            return Plan::Done;
        };
        if !(e.is_transient() || e.blocking_job().is_some()) {
            return Plan::GiveUp;
        }
        // Following a job counts as an attempt too: a server that keeps refusing, naming a
        // job that ends at once, is given up on like any other failure.
        self.failures += 1;
        let since = *self.failing_since.get_or_insert(now);
        if self.failures >= self.config.max_attempts
            || now.saturating_duration_since(since) >= self.config.max_retry_time
        {
            return Plan::GiveUp;
        }
        if let Some(job) = e.blocking_job()
            && self.job.is_none()
        {
            return Plan::FollowJob(job);
        }
        Plan::Retry(self.backoff(self.failures, request_id, e.retry_after()))
    }

    /// Exponential backoff with jitter; never shorter than a server's `Retry-After`.
    fn backoff(&self, attempt: u32, request_id: u64, retry_after: Option<Duration>) -> Duration {
        let exponential = self.config.retry_base.as_secs_f64() * 2f64.powi(attempt as i32 - 1);
        let capped = exponential.min(self.config.retry_max_delay.as_secs_f64());
        // Jitter in [0.8, 1.2) from a hash of the request: spreads clients apart, and keeps
        // the core deterministic (no random source).
        let h = (request_id ^ (u64::from(attempt) << 32))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29)
            .wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let jitter = 0.8 + 0.4 * ((h >> 11) as f64 / (1u64 << 53) as f64);
        Duration::from_secs_f64(capped * jitter).max(retry_after.unwrap_or_default())
    }

    fn on_regeneration_status(
        &mut self,
        impulse: u64,
        response: &SetImpulseThresholdsResponse,
        now: Instant,
        cmds: &mut Vec<Cmd>,
    ) {
        match &response.regenerate_model_testing_status {
            // A status this version does not know: the values are saved; what became of
            // the results, the summary itself says.
            RegenerateStatus::Regenerated | RegenerateStatus::Other(_) => {
                self.ask_results(impulse, cmds);
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
                        job_id,
                        after: self.config.job_poll,
                    });
                }
            }
            RegenerateStatus::NotRegenerated => {
                if response.had_model_testing_results {
                    self.results_outdated = true;
                    self.metrics.stale = Some(
                        "thresholds changed; this model needs a full model testing run in Studio"
                            .into(),
                    );
                }
            }
        }
    }

    /// Nothing unsaved and nothing in flight: do what was waiting for that.
    fn settle(&mut self, cmds: &mut Vec<Cmd>) {
        if self.in_flight.is_some() {
            return;
        }
        match self.after_settle {
            Some(AfterSettle::Quit) => {
                let pending = self
                    .sliders
                    .iter()
                    .any(|s| matches!(s.sync, SyncState::Edited | SyncState::Retrying { .. }));
                if !pending {
                    self.finish();
                }
            }
            Some(AfterSettle::Switch(id)) => {
                if !self.has_unsaved() {
                    self.after_settle = None;
                    self.notice = None;
                    self.connection = Connection::Connecting;
                    cmds.push(Cmd::LoadImpulse { impulse: Some(id) });
                } else {
                    // Saving failed: stay, so that nothing is lost.
                    self.after_settle = None;
                    self.notice = Some("not switched: some values were not saved".into());
                }
            }
            None => {}
        }
    }

    fn quit(&mut self, now: Instant, cmds: &mut Vec<Cmd>) {
        if self.is_quitting() || !self.has_unsaved() {
            return self.finish();
        }
        self.after_settle = Some(AfterSettle::Quit);
        self.quit_deadline = Some(now + self.config.save_on_quit);
        self.notice = Some("saving… (quit again to exit without saving)".into());
        self.mode = Mode::Normal;
        self.deadline = None;
        // Failed values too: quitting is the last chance to save them.
        self.mark_failed_for_resending();
        if let Some(job) = &self.job {
            // A running job would refuse the call: the values go when it ends, within the
            // time quitting waits; the exit report says what did not.
            self.notice = Some(format!(
                "saving when job {} ends… (quit again to exit without saving)",
                job.id.map_or_else(|| "?".into(), |id| id.to_string())
            ));
            return;
        }
        self.send(now, cmds);
    }

    fn mark_failed_for_resending(&mut self) {
        for slider in &mut self.sliders {
            if matches!(slider.sync, SyncState::Failed(_)) {
                slider.sync = SyncState::Edited;
            }
        }
    }

    /// Stops, listing what the server does not hold.
    /// Stops, listing what Studio does not hold, and saying so only where it is known.
    fn finish(&mut self) {
        let answer_lost = self.reconcile_pending || self.reconciling > 0;
        let in_flight: Vec<String> = self
            .in_flight
            .iter()
            .flat_map(|f| f.entries.iter().map(|(id, _, _)| id.clone()))
            .collect();
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

    fn switch_impulse(&mut self, id: u64, now: Instant, cmds: &mut Vec<Cmd>) {
        if self.impulse.as_ref().is_some_and(|i| i.id == id) {
            return;
        }
        if self.has_unsaved() {
            self.after_settle = Some(AfterSettle::Switch(id));
            self.notice = Some("saving before switching impulse…".into());
            self.deadline = None;
            self.send(now, cmds);
        } else {
            self.connection = Connection::Connecting;
            cmds.push(Cmd::LoadImpulse { impulse: Some(id) });
        }
    }

    fn reload(&mut self, now: Instant, cmds: &mut Vec<Cmd>) {
        // Failed values go again now; then everything is read back.
        self.mark_failed_for_resending();
        self.deadline = None;
        self.send(now, cmds);
        let impulse = self.impulse.as_ref().map(|i| i.id);
        cmds.push(Cmd::LoadImpulse { impulse });
        if let Some(impulse) = impulse {
            self.ask_results(impulse, cmds);
        }
        // A preview lost to a passing failure is asked for again.
        if std::mem::take(&mut self.preview_retryable)
            && let Some(impulse) = self.impulse.clone()
        {
            self.preview.source = PreviewSource::Loading {
                loaded: 0,
                total: 0,
            };
            cmds.push(Cmd::LoadTestSet { impulse });
        }
    }

    fn regenerate(&mut self, now: Instant, cmds: &mut Vec<Cmd>) {
        let Some(impulse) = self.impulse.as_ref().map(|i| i.id) else {
            return;
        };
        if self.job.is_some() {
            self.notice = Some("a regeneration job is already running".into());
            return;
        }
        self.job = Some(JobProgress::new(None, "starting", now));
        cmds.push(Cmd::StartRegeneration { impulse });
    }

    fn on_loaded(&mut self, result: Result<Loaded, ApiError>, now: Instant, cmds: &mut Vec<Cmd>) {
        let reconciling = self.reconciling > 0;
        self.reconciling = self.reconciling.saturating_sub(1);
        let loaded = match result {
            Ok(loaded) => loaded,
            Err(e) => {
                // The read-back did not happen: the next success asks again.
                self.reconcile_pending |= reconciling;
                self.connection = Connection::Failing(e.short_reason());
                self.notice = Some(e.to_string());
                return;
            }
        };
        self.connection = Connection::Connected;
        let same_impulse = self
            .impulse
            .as_ref()
            .is_some_and(|i| i.id == loaded.impulse.id);
        let mut sliders: Vec<Slider> = loaded
            .blocks
            .iter()
            .flat_map(|b| b.thresholds.iter().map(|t| Slider::new(&b.block, t)))
            .collect();
        if same_impulse {
            self.merge_reload(&mut sliders, reconciling, now);
        } else {
            self.selected = 0;
            self.metrics = Metrics::default();
            self.metrics.loading = true;
            self.job = None;
            self.preview = Preview::new(self.preview.objective);
            self.ask_results(loaded.impulse.id, cmds);
            cmds.push(Cmd::LoadTestSet {
                impulse: loaded.impulse.clone(),
            });
        }
        self.selected = self.selected.min(sliders.len().saturating_sub(1));
        self.sliders = sliders;
        self.fit_ranges_to_scores();
        self.unreadable = loaded.unreadable;
        self.project_id = Some(loaded.project_id);
        self.project_name = Some(loaded.project_name);
        self.impulses = loaded.impulses;
        self.impulse = Some(loaded.impulse);
    }

    /// A reload of the impulse shown: values the user changed and Studio does not hold yet
    /// stay; after an unknown outcome, every value Studio holds differently is the user's
    /// to resend (a late-applied older request must not win); a value someone else wrote
    /// is taken when saved, held when edited.
    fn merge_reload(&mut self, sliders: &mut [Slider], reconciling: bool, now: Instant) {
        let mut resend = Vec::new();
        let mut adopted = Vec::new();
        for slider in sliders.iter_mut() {
            let Some(old) = self.sliders.iter().find(|o| o.id() == slider.id()) else {
                continue;
            };
            let server = slider.value.clone();
            // One of this tuner's own values, applied late: the newest is resent.
            let ours = old.sent.contains(&server);
            let differs = old.value != server && (reconciling || ours);
            // Not ours, and not what this tuner last read: someone else wrote it.
            let elsewhere = !reconciling && !ours && server != old.saved && server != old.value;
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
        if !adopted.is_empty() {
            self.notice = Some(format!("changed elsewhere: {}", adopted.join(", ")));
        }
        if !resend.is_empty() {
            self.notice = Some(format!(
                "Studio held older values after a lost answer; resending {}",
                resend.join(", ")
            ));
            self.deadline = Some(now);
        }
    }

    fn on_results(&mut self, impulse: u64, result: Result<ModelTestingSummary, ApiError>) {
        if self.impulse.as_ref().map(|i| i.id) != Some(impulse) {
            return;
        }
        self.metrics.loading = false;
        match result {
            // Read before a change made the results stale: it no longer holds.
            Ok(summary)
                if self.results_outdated
                    && summary.no_results_because_thresholds_changed.is_none() => {}
            Ok(summary) => {
                self.metrics.error = None;
                if let Some(reason) = summary.no_results_because_thresholds_changed {
                    self.metrics.stale = Some(match reason {
                        StaleReason::CanRegenerateModelSummary => {
                            "needs a regeneration job: press g".into()
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
            Err(e) => self.metrics.error = Some(e.to_string()),
        }
        self.refresh_saved();
    }

    fn on_regeneration_started(
        &mut self,
        impulse: u64,
        result: Result<u64, ApiError>,
        now: Instant,
        cmds: &mut Vec<Cmd>,
    ) {
        match result {
            Ok(job_id) => {
                if let Some(job) = &mut self.job {
                    job.identified(job_id, now);
                }
                self.metrics.stale = Some(format!("regenerating (job {job_id})"));
                cmds.push(Cmd::PollJob {
                    job_id,
                    after: self.config.job_poll,
                });
            }
            Err(e) => {
                self.job = None;
                self.notice = Some(format!("regeneration of impulse {impulse} failed: {e}"));
            }
        }
    }

    fn on_job_polled(
        &mut self,
        job_id: u64,
        result: Result<Job, ApiError>,
        now: Instant,
        cmds: &mut Vec<Cmd>,
    ) {
        let Some(progress) = self.job.as_mut().filter(|j| j.id == Some(job_id)) else {
            return;
        };
        progress.elapsed = now.saturating_duration_since(progress.started);
        let watch = progress
            .watch
            .get_or_insert_with(|| JobWatch::new(job_id, now));
        let state = match &result {
            Ok(job) => Some(watch.observe(job, now)),
            // A poll that failed for a passing reason is tried again, within the limits.
            Err(e) if e.is_transient() => watch.poll_failed(now),
            Err(e) => Some(JobState::GaveUp(format!("lost track of job {job_id}: {e}"))),
        };
        match state {
            Some(JobState::Finished(outcome)) => self.on_job_finished(job_id, outcome, now, cmds),
            Some(JobState::GaveUp(why)) => {
                self.notice = Some(why);
                self.end_job(now, cmds);
            }
            running => {
                progress.state = match running {
                    Some(JobState::Queued) => "queued",
                    None => "not answering",
                    _ => "running",
                };
                cmds.push(Cmd::PollJob {
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
        self.notice = Some(match outcome {
            JobOutcome::Succeeded => format!("job {job_id} finished: results regenerated"),
            JobOutcome::Failed => format!("job {job_id} failed"),
            JobOutcome::Unreported => {
                format!("job {job_id} finished (Studio did not say how): reading the results again")
            }
        });
        if outcome != JobOutcome::Failed
            && let Some(impulse) = self.impulse.clone()
        {
            self.ask_results(impulse.id, cmds);
            // The per-window results are read again; until then the preview keeps the
            // set it has.
            if !matches!(self.preview.source, PreviewSource::Ready(_)) {
                self.preview.source = PreviewSource::Loading {
                    loaded: 0,
                    total: 0,
                };
            }
            cmds.push(Cmd::LoadTestSet { impulse });
        }
        self.end_job(now, cmds);
    }

    /// The job is over, or no longer followed: values held back while it ran go now.
    fn end_job(&mut self, now: Instant, cmds: &mut Vec<Cmd>) {
        self.job = None;
        if self.sliders.iter().any(|s| s.sync == SyncState::Edited) {
            self.deadline = None;
            self.send(now, cmds);
        }
    }
}

#[cfg(test)]
mod tests;
