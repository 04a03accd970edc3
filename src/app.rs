//! The event loop: the one place that touches the terminal, the clock and the network.
//!
//! It waits on terminal input, API results and the tuner's next deadline at once (no
//! fixed-rate tick: with nothing pending it sleeps until something happens), turns each into
//! a [`Msg`] for [`Tuner::update`], performs the [`Cmd`]s that come back, and redraws only
//! after a message or a resize (a mouse move over nothing, say, draws nothing).

use std::collections::HashMap;
use std::io;
use std::time::Instant;

use crossterm::event::{Event, MouseButton, MouseEvent, MouseEventKind};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::layout::Rect;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use crate::api::client::only_project;
use crate::api::models::Impulse;
use crate::api::{ApiError, Policy, StudioClient, Write};
use crate::cache::ResultsCache;
use crate::history::Recorder;
use crate::keymap::{self, Screen};
use crate::preview::{self, Progress};
use crate::tuner::{
    Action, Cmd, ExitReport, Loaded, Mode, Msg, Pointer, PreviewFailure, ProjectRef, Slot, Target,
    Tuner, TunerConfig,
};
use crate::ui::{self, Theme};

/// What reaches the loop from outside.
#[derive(Debug)]
pub enum Input {
    Terminal(Event),
    /// SIGTERM, SIGHUP, or the input closing: stop now.
    Terminate,
}

/// The loop's fixed parts.
pub struct App {
    pub client: StudioClient,
    /// The project, when known; resolved from the credentials otherwise.
    pub project: Option<u64>,
    pub config: TunerConfig,
    pub theme: Theme,
    /// Ctrl-Z: hand the terminal back and stop until resumed. `None` where there is no
    /// real terminal (tests).
    pub suspend: Option<fn() -> io::Result<()>>,
    /// Where per-window results are kept: in memory, and on disk unless `--no-cache`.
    pub cache: ResultsCache,
    /// Where set-thresholds calls are written down; `None`: nowhere.
    pub history: Option<Recorder>,
}

/// How the session went: what could not be saved, and per key press the time from the
/// event to the finished frame.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub report: ExitReport,
    pub key_latencies: Vec<std::time::Duration>,
}

/// Runs the tuner until it exits.
///
/// `initial` is a load already done (so that a session that cannot load anything never
/// opens a UI); without it the loop loads `impulse` itself.
pub async fn run<B, S>(
    app: App,
    terminal: &mut Terminal<B>,
    input: S,
    impulse: Option<u64>,
    initial: Option<Loaded>,
) -> io::Result<Outcome>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    S: Stream<Item = Input> + Unpin,
{
    let mut session = Session::start(app, impulse);
    if let Some(loaded) = initial {
        session.answer_first_load(Ok(loaded));
    } else if let Some(cmd) = session.first_load.take() {
        session.effects.perform(vec![cmd]);
    }
    session.run(terminal, input).await
}

/// A tuner and what performs its commands, started before the terminal is taken over: what
/// it asks for at first (the results of a known impulse) is on its way while the caller
/// reads the impulse itself with [`Session::load_first`].
pub struct Session {
    tuner: Tuner,
    effects: Effects,
    rx: mpsc::UnboundedReceiver<Msg>,
    theme: Theme,
    suspend: Option<fn() -> io::Result<()>>,
    /// The tuner's first read of the impulse, left to the caller.
    first_load: Option<Cmd>,
}

impl Session {
    /// A tuner on `impulse` of `app.project`; everything it asks for but the impulse
    /// itself is performed now.
    pub fn start(app: App, impulse: Option<u64>) -> Self {
        let App {
            client,
            project,
            config,
            theme,
            suspend,
            cache,
            history,
        } = app;
        let (tx, rx) = mpsc::unbounded_channel::<Msg>();
        let (tuner, cmds) = Tuner::new(config, client.base_url(), project, impulse, Instant::now());
        let (first, others): (Vec<Cmd>, Vec<Cmd>) = cmds
            .into_iter()
            .partition(|c| matches!(c, Cmd::LoadImpulse { .. }));
        let mut effects = Effects {
            client,
            tx,
            cache,
            history,
            slots: HashMap::new(),
        };
        effects.perform(others);
        Self {
            tuner,
            effects,
            rx,
            theme,
            suspend,
            first_load: first.into_iter().next(),
        }
    }

    /// Reads the impulse the tuner asked for first; an error is the caller's to report
    /// (nothing is shown yet).
    pub async fn load_first(&mut self) -> Result<(), ApiError> {
        let Some(Cmd::LoadImpulse {
            project, impulse, ..
        }) = self.first_load.clone()
        else {
            return Ok(());
        };
        let loaded = load_in(&self.effects.client, project, impulse).await?;
        self.answer_first_load(Ok(loaded));
        Ok(())
    }

    fn answer_first_load(&mut self, result: Result<Loaded, ApiError>) {
        let load = match self.first_load.take() {
            Some(Cmd::LoadImpulse { load, .. }) => load,
            _ => 0,
        };
        let cmds = self
            .tuner
            .update(Msg::Loaded { load, result }, Instant::now());
        self.effects.perform(cmds);
    }

    /// Runs the tuner on `terminal` until it exits.
    pub async fn run<B, S>(
        mut self,
        terminal: &mut Terminal<B>,
        mut input: S,
    ) -> io::Result<Outcome>
    where
        B: Backend,
        B::Error: Send + Sync + 'static,
        S: Stream<Item = Input> + Unpin,
    {
        if let Some(cmd) = self.first_load.take() {
            self.effects.perform(vec![cmd]);
        }
        let Self {
            mut tuner,
            mut effects,
            mut rx,
            theme,
            suspend,
            ..
        } = self;
        let mut key_latencies = Vec::new();
        let mut key_at: Option<Instant> = None;
        loop {
            terminal
                .draw(|frame| ui::render(frame, &tuner, &theme))
                .map_err(io::Error::other)?;
            if let Some(at) = key_at.take() {
                key_latencies.push(at.elapsed());
            }
            if let Some(report) = tuner.take_exit() {
                return Ok(Outcome {
                    report,
                    key_latencies,
                });
            }
            let Some(msg) =
                next_msg(&tuner, &theme, terminal, &mut input, &mut rx, suspend).await?
            else {
                continue;
            };
            if matches!(msg, Msg::Action(_)) {
                key_at = Some(Instant::now());
            }
            let cmds = tuner.update(msg, Instant::now());
            effects.perform(cmds);
        }
    }
}

/// Waits for something that changes the screen: a message for the tuner, or `None` when
/// only a redraw is needed (a resize, a return from suspension). Idle, this sleeps.
async fn next_msg<B, S>(
    tuner: &Tuner,
    theme: &Theme,
    terminal: &mut Terminal<B>,
    input: &mut S,
    rx: &mut mpsc::UnboundedReceiver<Msg>,
    suspend: Option<fn() -> io::Result<()>>,
) -> io::Result<Option<Msg>>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    S: Stream<Item = Input> + Unpin,
{
    loop {
        let deadline = tuner.next_deadline();
        tokio::select! {
            event = input.next() => match event {
                Some(Input::Terminal(Event::Resize(..))) => return Ok(None),
                Some(Input::Terminal(event)) => {
                    let size = terminal.size().map_err(io::Error::other)?;
                    let screen = Rect::new(0, 0, size.width, size.height);
                    match to_msg(tuner, theme, screen, event) {
                        Some(Msg::Action(Action::Suspend)) => {
                            suspend_terminal(terminal, suspend)?;
                            return Ok(None);
                        }
                        Some(msg) => return Ok(Some(msg)),
                        None => {}
                    }
                }
                Some(Input::Terminate) | None => return Ok(Some(Msg::Terminate)),
            },
            Some(msg) = rx.recv() => return Ok(Some(msg)),
            () = sleep_until(deadline) => return Ok(Some(Msg::Tick)),
        }
    }
}

/// Ctrl-Z: hands the terminal back until resumed (where there is a real terminal).
fn suspend_terminal<B>(
    terminal: &mut Terminal<B>,
    suspend: Option<fn() -> io::Result<()>>,
) -> io::Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
{
    let Some(suspend) = suspend else {
        return Ok(());
    };
    suspend()?;
    // The screen came back empty while ratatui remembers the last frame: draw a blank one
    // so that the next frame is drawn whole. (Terminal::clear would query the cursor, an
    // answer the event stream would swallow.)
    terminal
        .draw(|f| f.render_widget(ratatui::widgets::Clear, f.area()))
        .map_err(io::Error::other)?;
    Ok(())
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

/// A terminal event as a tuner message; `None` when it means nothing to the tuner.
fn to_msg(tuner: &Tuner, theme: &Theme, screen: Rect, event: Event) -> Option<Msg> {
    match event {
        // On the map a click or a drag moves both thresholds to the point under it.
        Event::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left) | MouseEventKind::Drag(MouseButton::Left),
            column,
            row,
            ..
        }) if *tuner.mode() == Mode::Map => {
            let map = tuner.joint()?.map.as_ref()?;
            ui::map::point_at(screen, theme, column, row, (map.xs.len(), map.ys.len()))
                .map(|(j, k)| Msg::Pointer(Pointer::MapPoint { j, k }))
        }
        // In the history the wheel moves the selection.
        Event::Mouse(MouseEvent {
            kind: kind @ (MouseEventKind::ScrollUp | MouseEventKind::ScrollDown),
            ..
        }) if matches!(tuner.mode(), Mode::History { .. }) => {
            Some(Msg::Action(if kind == MouseEventKind::ScrollUp {
                Action::SelectPrevious
            } else {
                Action::SelectNext
            }))
        }
        // The wheel moves min_anomaly_score, the map's up and down.
        Event::Mouse(MouseEvent {
            kind: kind @ (MouseEventKind::ScrollUp | MouseEventKind::ScrollDown),
            ..
        }) if *tuner.mode() == Mode::Map => Some(Msg::Action(Action::MapStep {
            dx: 0,
            dy: if kind == MouseEventKind::ScrollUp {
                1
            } else {
                -1
            },
            coarse: false,
        })),
        Event::Key(key) => keymap::action_for(Screen::of(tuner.mode()), key).map(Msg::Action),
        Event::FocusGained => Some(Msg::FocusGained),
        Event::Mouse(MouseEvent {
            kind, column, row, ..
        }) => match kind {
            MouseEventKind::Down(MouseButton::Left) => {
                ui::hit_test(tuner, screen, column, row, false).map(Msg::Pointer)
            }
            MouseEventKind::Drag(MouseButton::Left) => {
                ui::hit_test(tuner, screen, column, row, true).map(Msg::Pointer)
            }
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                ui::wheel_target(tuner, screen, column, row).map(|slider| {
                    Msg::Pointer(Pointer::Wheel {
                        slider,
                        up: kind == MouseEventKind::ScrollUp,
                    })
                })
            }
            _ => None,
        },
        _ => None,
    }
}

/// Performs commands on tasks; each answers with one message. A read in a [`Slot`] is
/// cancelled when another takes the slot or the tuner says so: its requests stop.
struct Effects {
    client: StudioClient,
    tx: mpsc::UnboundedSender<Msg>,
    cache: ResultsCache,
    history: Option<Recorder>,
    slots: HashMap<Slot, AbortHandle>,
}

impl Effects {
    fn perform(&mut self, cmds: Vec<Cmd>) {
        for cmd in cmds {
            match cmd {
                Cmd::Record(call) => {
                    // Written here, in order, before the loop can end (a session's last
                    // call is answered as it quits): one short append.
                    let _ = self.tx.send(record(self.history.as_ref(), call));
                }
                Cmd::Cancel(slot) => self.cancel(slot),
                cmd => self.spawn(cmd),
            }
        }
    }

    fn spawn(&mut self, cmd: Cmd) {
        let slot = cmd.slot();
        if let Some(slot) = slot {
            self.cancel(slot);
        }
        let client = self.client.clone();
        let tx = self.tx.clone();
        let cache = self.cache.clone();
        let history = self.history.clone();
        let task = tokio::spawn(async move {
            // The loop may have ended: nobody needs the answer then.
            if let Some(msg) = perform(&client, &cache, history, cmd, &tx).await {
                let _ = tx.send(msg);
            }
        });
        if let Some(slot) = slot {
            self.slots.insert(slot, task.abort_handle());
        }
    }

    fn cancel(&mut self, slot: Slot) {
        if let Some(task) = self.slots.remove(&slot) {
            tracing::debug!(?slot, "cancelled");
            task.abort();
        }
    }
}

fn record(history: Option<&Recorder>, call: crate::history::Call) -> Msg {
    Msg::Recorded(match history {
        Some(history) => history.record(call).map_err(|e| {
            tracing::warn!("history not written: {e}");
            e.to_string()
        }),
        None => Ok(()),
    })
}

/// The history of the impulse at `at`, read off the runtime's threads.
async fn read_history(history: Option<Recorder>, at: Target) -> Msg {
    let read = tokio::task::spawn_blocking(move || match history {
        Some(h) => h
            .read_impulse(at.project, at.impulse)
            .map_err(|e| e.to_string()),
        None => Err("the history is off (--no-history)".into()),
    })
    .await;
    Msg::HistoryLoaded {
        impulse: at.impulse,
        result: read.unwrap_or_else(|e| Err(e.to_string())),
    }
}

async fn perform(
    client: &StudioClient,
    cache: &ResultsCache,
    history: Option<Recorder>,
    cmd: Cmd,
    tx: &mpsc::UnboundedSender<Msg>,
) -> Option<Msg> {
    tracing::debug!(?cmd, "perform");
    Some(match cmd {
        Cmd::LoadImpulse {
            load,
            project,
            impulse,
            ..
        } => Msg::Loaded {
            load,
            result: load_in(client, project, impulse).await,
        },
        Cmd::LoadResults { at } => Msg::ResultsLoaded {
            impulse: at.impulse,
            result: client.model_testing_summary(at.project, at.impulse).await,
        },
        Cmd::SetThresholds {
            request_id,
            at,
            request,
            believed,
        } => {
            let write = Write {
                project: at.project,
                impulse: at.impulse,
                request,
                believed,
            };
            let written = crate::write::write(client, cache, &write, Policy::ONCE, None).await;
            if let crate::api::Outcome::NotApplied { error, .. }
            | crate::api::Outcome::Unknown { error } = &written.outcome
            {
                tracing::warn!(request_id, "set-thresholds failed: {error}");
            }
            Msg::SetDone {
                request_id,
                outcome: written.outcome,
            }
        }
        Cmd::StartRegeneration {
            at,
            full_run,
            skip_features,
        } => Msg::RegenerationStarted {
            impulse: at.impulse,
            result: if full_run {
                client
                    .start_model_testing(at.project, at.impulse, skip_features)
                    .await
            } else {
                client
                    .regenerate_model_testing_summary(at.project, at.impulse)
                    .await
            },
        },
        Cmd::PollJob {
            project,
            job_id,
            after,
        } => {
            tokio::time::sleep(after).await;
            Msg::JobPolled {
                job_id,
                result: client.job_status(project, job_id).await,
            }
        }
        Cmd::LoadTestSet { at } => {
            load_test_set(client, cache, at, tx).await;
            return None;
        }
        Cmd::LoadHistory { at } => read_history(history, at).await,
        // Performed at once by `Effects::perform`; written the same way if it comes here.
        Cmd::Record(call) => record(history.as_ref(), call),
        Cmd::Cancel(_) => return None,
    })
}

/// Reads an impulse, and the project's name unless known already.
async fn load_in(
    client: &StudioClient,
    project: Option<ProjectRef>,
    impulse: Option<u64>,
) -> Result<Loaded, ApiError> {
    match project {
        Some(ProjectRef {
            id,
            name: Some(name),
        }) => load_impulse(client, id, async { Ok(name) }, impulse).await,
        project => load(client, project.map(|p| p.id), impulse).await,
    }
}

/// Reads the per-window results, saying how far it got after each page and what the
/// cache held; then, the answer given, keeps what was read.
async fn load_test_set(
    client: &StudioClient,
    cache: &ResultsCache,
    at: Target,
    tx: &mpsc::UnboundedSender<Msg>,
) {
    let impulse = at.impulse;
    let report = |progress: Progress| {
        let _ = tx.send(match progress {
            Progress::Pages { loaded, total } => Msg::TestSetProgress {
                impulse,
                loaded,
                total,
            },
            Progress::Cached(set) => Msg::TestSetCached { impulse, set },
        });
    };
    let read = preview::read_test_set(client, at.project, impulse, cache, report).await;
    let (result, to_keep) = match read {
        Ok(read) => (Ok(read.scores), read.to_keep),
        Err(e) => (
            Err(PreviewFailure {
                withheld: matches!(e, preview::PreviewError::Withheld(_)),
                why: e.to_string(),
            }),
            None,
        ),
    };
    let _ = tx.send(Msg::TestSetLoaded { impulse, result });
    if let Some(to_keep) = to_keep {
        // Not in the read's slot: a read asked for next does not undo the keeping.
        let (client, cache) = (client.clone(), cache.clone());
        tokio::spawn(async move { preview::keep(&client, &cache, to_keep).await });
    }
}

/// What a client loads from the simulator for the demo impulse at `index` (0-based):
/// lets tests and benchmarks of the tuner and its views start without a server.
pub fn demo_loaded(index: usize) -> Result<Loaded, String> {
    let impulses = crate::studio::demo::demo_impulses()?;
    let sim = impulses
        .get(index)
        .ok_or_else(|| format!("the demo has no impulse at index {index}"))?;
    Ok(Loaded {
        project_id: crate::studio::demo::DEMO_PROJECT_ID,
        project_name: crate::studio::demo::DEMO_PROJECT_NAME.into(),
        impulse: sim.impulse.clone(),
        impulses: impulses.iter().map(|i| i.impulse.clone()).collect(),
        blocks: sim
            .blocks
            .iter()
            .map(|b| crate::api::BlockThresholds {
                block: b.block.clone(),
                thresholds: b.thresholds.clone(),
            })
            .collect(),
        unreadable: Vec::new(),
    })
}

/// Reads everything the tuner shows of an impulse and the project's name, in two round
/// trips: the project list, the impulse and the project's impulses together, then the
/// thresholds of every learn block together (their ids come with the impulse; there is no
/// call that reads an impulse's thresholds at once). Without a project id the list of
/// projects must name it first: one more round trip.
pub async fn load(
    client: &StudioClient,
    project: Option<u64>,
    impulse: Option<u64>,
) -> Result<Loaded, ApiError> {
    let Some(project_id) = project else {
        let list = client.list_projects().await?;
        let only = only_project(&list)?;
        let name = only.name.clone();
        return load_impulse(client, only.id, async { Ok(name) }, impulse).await;
    };
    let name = async {
        // Some tokens may not list projects; the id given is enough.
        let name = match client.list_projects().await {
            Ok(list) => list
                .into_iter()
                .find(|p| p.id == project_id)
                .map(|p| p.name),
            Err(_) => None,
        };
        Ok(name.unwrap_or_else(|| format!("project {project_id}")))
    };
    load_impulse(client, project_id, name, impulse).await
}

/// Reads an impulse, the project's impulses and every threshold, and the project's name
/// (`name`), concurrently.
async fn load_impulse(
    client: &StudioClient,
    project_id: u64,
    name: impl std::future::Future<Output = Result<String, ApiError>>,
    impulse: Option<u64>,
) -> Result<Loaded, ApiError> {
    let impulse_and_thresholds = async {
        let impulse: Impulse = client.get_impulse(project_id, impulse).await?;
        let thresholds = client.impulse_thresholds(project_id, &impulse).await?;
        Ok::<_, ApiError>((impulse, thresholds))
    };
    let (project_name, impulses, (impulse, thresholds)) = futures::try_join!(
        name,
        client.list_impulses(project_id),
        impulse_and_thresholds
    )?;
    Ok(Loaded {
        project_id,
        project_name,
        impulse,
        impulses,
        blocks: thresholds.blocks,
        unreadable: thresholds.unreadable,
    })
}
