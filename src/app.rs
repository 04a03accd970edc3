//! The event loop: the one place that touches the terminal, the clock and the network.
//!
//! It waits on terminal input, API results and the tuner's next deadline at once (no
//! fixed-rate tick: with nothing pending it sleeps until something happens), turns each into
//! a [`Msg`] for [`Tuner::update`], performs the [`Cmd`]s that come back, and redraws only
//! after a message or a resize (a mouse move over nothing, say, draws nothing).

use std::io;
use std::sync::Arc;
use std::time::Instant;

use crossterm::event::{Event, MouseButton, MouseEvent, MouseEventKind};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::layout::Rect;
use tokio::sync::mpsc;

use crate::api::client::only_project;
use crate::api::models::Impulse;
use crate::api::{ApiError, StudioClient};
use crate::keymap::{self, Screen};
use crate::preview;
use crate::tuner::{
    Action, Cmd, ExitReport, Loaded, Msg, Pointer, PreviewFailure, ProjectRef, Target, Tuner,
    TunerConfig,
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
    mut input: S,
    impulse: Option<u64>,
    initial: Option<Loaded>,
) -> io::Result<Outcome>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    S: Stream<Item = Input> + Unpin,
{
    let App {
        client,
        project,
        config,
        theme,
        suspend,
    } = app;
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let (mut tuner, cmds) = start(config, &client, project, impulse, initial);
    let effects = Effects { client, tx };
    effects.perform(cmds);
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
        let Some(msg) = next_msg(&tuner, terminal, &mut input, &mut rx, suspend).await? else {
            continue;
        };
        if matches!(msg, Msg::Action(_)) {
            key_at = Some(Instant::now());
        }
        let cmds = tuner.update(msg, Instant::now());
        effects.perform(cmds);
    }
}

/// A tuner, and what it asks for first; a load already done answers its first load.
fn start(
    config: TunerConfig,
    client: &StudioClient,
    project: Option<u64>,
    impulse: Option<u64>,
    initial: Option<Loaded>,
) -> (Tuner, Vec<Cmd>) {
    let now = Instant::now();
    let (mut tuner, cmds) = Tuner::new(config, client.base_url(), project, impulse, now);
    let Some(loaded) = initial else {
        return (tuner, cmds);
    };
    let load = match cmds.as_slice() {
        [Cmd::LoadImpulse { load, .. }] => *load,
        _ => 0,
    };
    let result = Ok(loaded);
    let cmds = tuner.update(Msg::Loaded { load, result }, now);
    (tuner, cmds)
}

/// Waits for something that changes the screen: a message for the tuner, or `None` when
/// only a redraw is needed (a resize, a return from suspension). Idle, this sleeps.
async fn next_msg<B, S>(
    tuner: &Tuner,
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
                    match to_msg(tuner, screen, event) {
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
fn to_msg(tuner: &Tuner, screen: Rect, event: Event) -> Option<Msg> {
    match event {
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

/// Performs commands on tasks; each answers with one message.
struct Effects {
    client: StudioClient,
    tx: mpsc::UnboundedSender<Msg>,
}

impl Effects {
    fn perform(&self, cmds: Vec<Cmd>) {
        for cmd in cmds {
            let client = self.client.clone();
            let tx = self.tx.clone();
            tokio::spawn(async move {
                let msg = perform(&client, cmd, &tx).await;
                // The loop may have ended: nobody needs the answer then.
                let _ = tx.send(msg);
            });
        }
    }
}

async fn perform(client: &StudioClient, cmd: Cmd, tx: &mpsc::UnboundedSender<Msg>) -> Msg {
    tracing::debug!(?cmd, "perform");
    match cmd {
        Cmd::LoadImpulse {
            load,
            project,
            impulse,
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
            let result = client
                .set_thresholds_unless_changed(at.project, at.impulse, &request, &believed)
                .await;
            if let Err(e) = &result {
                tracing::warn!(request_id, "set-thresholds failed: {e}");
            }
            Msg::SetDone { request_id, result }
        }
        Cmd::StartRegeneration { at } => Msg::RegenerationStarted {
            impulse: at.impulse,
            result: client
                .regenerate_model_testing_summary(at.project, at.impulse)
                .await,
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
        Cmd::LoadTestSet { project, impulse } => {
            load_test_set(
                client,
                Target {
                    project,
                    impulse: impulse.id,
                },
                &impulse,
                tx,
            )
            .await
        }
    }
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
        }) => load_impulse(client, id, name, impulse).await,
        project => load(client, project.map(|p| p.id), impulse).await,
    }
}

/// Reads the per-window results, saying how far it got after each page.
async fn load_test_set(
    client: &StudioClient,
    at: Target,
    impulse: &Impulse,
    tx: &mpsc::UnboundedSender<Msg>,
) -> Msg {
    let result = preview::load_test_set(client, at.project, impulse, |loaded, total| {
        let _ = tx.send(Msg::TestSetProgress {
            impulse: at.impulse,
            loaded,
            total,
        });
    })
    .await
    .map(Arc::new)
    .map_err(|e| PreviewFailure {
        retryable: matches!(&e, preview::PreviewError::Api(api) if api.is_transient()),
        why: e.to_string(),
    });
    Msg::TestSetLoaded {
        impulse: at.impulse,
        result,
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

/// Reads everything the tuner shows of an impulse, its blocks concurrently, and the
/// project's name.
pub async fn load(
    client: &StudioClient,
    project: Option<u64>,
    impulse: Option<u64>,
) -> Result<Loaded, ApiError> {
    let projects = client.list_projects().await;
    let (project_id, project_name) = match (project, projects) {
        (Some(id), Ok(list)) => {
            let name = list.iter().find(|p| p.id == id).map(|p| p.name.clone());
            (id, name.unwrap_or_else(|| format!("project {id}")))
        }
        // Some tokens may not list projects; the id given is enough.
        (Some(id), Err(_)) => (id, format!("project {id}")),
        (None, Ok(list)) => {
            let only = only_project(&list)?;
            (only.id, only.name.clone())
        }
        (None, Err(e)) => return Err(e),
    };
    load_impulse(client, project_id, project_name, impulse).await
}

/// Reads an impulse and its thresholds in a project already known.
async fn load_impulse(
    client: &StudioClient,
    project_id: u64,
    project_name: String,
    impulse: Option<u64>,
) -> Result<Loaded, ApiError> {
    let impulse: Impulse = client.get_impulse(project_id, impulse).await?;
    let (impulses, thresholds) = futures::try_join!(
        client.list_impulses(project_id),
        client.impulse_thresholds(project_id, &impulse)
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
