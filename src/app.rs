//! The event loop: the one place that touches the terminal, the clock and the network.
//!
//! It waits on terminal input, API results and the tuner's next deadline at once (no
//! fixed-rate tick: with nothing pending it sleeps until something happens), turns each into
//! a [`Msg`] for [`Tuner::update`], performs the [`Cmd`]s that come back, and redraws only
//! after a message or a resize (a mouse move over nothing, say, draws nothing).

use std::io;
use std::sync::Arc;
use std::time::Instant;

use crossterm::event::{
    Event, KeyCode, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::layout::Rect;
use tokio::sync::mpsc;

use crate::api::client::only_project;
use crate::api::models::Impulse;
use crate::api::{ApiError, StudioClient};
use crate::preview;
use crate::tuner::{Cmd, ExitReport, Loaded, Msg, Pointer, PreviewFailure, Tuner, TunerConfig};
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
    let mut known = Known {
        project,
        project_name: None,
    };
    if let Some(loaded) = &initial {
        known.learn(loaded);
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let now = Instant::now();
    let (mut tuner, mut cmds) = Tuner::new(config, client.base_url(), impulse, now);
    if let Some(loaded) = initial {
        cmds = tuner.update(Msg::Loaded(Ok(loaded)), now);
    }
    let effects = Effects { client, tx };
    effects.perform(cmds, &known);
    let mut key_latencies = Vec::new();
    let mut key_at: Option<Instant> = None;
    loop {
        terminal
            .draw(|frame| ui::render(frame, &tuner, &theme))
            .map_err(io::Error::other)?;
        if let Some(at) = key_at.take() {
            key_latencies.push(at.elapsed());
        }
        if let Some(report) = tuner.exit.take() {
            return Ok(Outcome {
                report,
                key_latencies,
            });
        }
        // Wait for something that changes the screen; idle, this sleeps.
        let msg = loop {
            let deadline = tuner.next_deadline();
            tokio::select! {
                event = input.next() => match event {
                    Some(Input::Terminal(Event::Resize(..))) => break None,
                    Some(Input::Terminal(Event::Key(key)))
                        if key.code == KeyCode::Char('z')
                            && key.modifiers.contains(KeyModifiers::CONTROL) =>
                    {
                        if let Some(suspend) = suspend {
                            suspend()?;
                            // The screen came back empty while ratatui remembers the last
                            // frame: draw a blank one so that the next frame is drawn whole.
                            // (Terminal::clear would query the cursor, an answer the event
                            // stream would swallow.)
                            terminal
                                .draw(|f| f.render_widget(ratatui::widgets::Clear, f.area()))
                                .map_err(io::Error::other)?;
                        }
                        break None;
                    }
                    Some(Input::Terminal(event)) => {
                        let size = terminal.size().map_err(io::Error::other)?;
                        let screen = Rect::new(0, 0, size.width, size.height);
                        if let Some(msg) = to_msg(&tuner, screen, event) {
                            break Some(msg);
                        }
                    }
                    Some(Input::Terminate) | None => break Some(Msg::Terminate),
                },
                Some(msg) = rx.recv() => break Some(msg),
                () = sleep_until(deadline) => break Some(Msg::Tick),
            }
        };
        let Some(msg) = msg else {
            continue;
        };
        if let Msg::Loaded(Ok(loaded)) = &msg {
            known.learn(loaded);
        }
        if matches!(msg, Msg::Key(_)) {
            key_at = Some(Instant::now());
        }
        let cmds = tuner.update(msg, Instant::now());
        effects.perform(cmds, &known);
    }
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
        Event::Key(key) if key.kind != KeyEventKind::Release => Some(Msg::Key(key)),
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

/// What the loop knows of the project: its id once given or loaded, and its name once
/// loaded, so that a reload does not ask listProjects again.
#[derive(Debug, Clone)]
struct Known {
    project: Option<u64>,
    project_name: Option<String>,
}

impl Known {
    fn learn(&mut self, loaded: &Loaded) {
        self.project = Some(loaded.project_id);
        self.project_name = Some(loaded.project_name.clone());
    }
}

/// Performs commands on tasks; each answers with one message.
struct Effects {
    client: StudioClient,
    tx: mpsc::UnboundedSender<Msg>,
}

impl Effects {
    fn perform(&self, cmds: Vec<Cmd>, known: &Known) {
        for cmd in cmds {
            let client = self.client.clone();
            let tx = self.tx.clone();
            let known = known.clone();
            tokio::spawn(async move {
                let msg = perform(&client, cmd, known, &tx).await;
                // The loop may have ended: nobody needs the answer then.
                let _ = tx.send(msg);
            });
        }
    }
}

async fn perform(
    client: &StudioClient,
    cmd: Cmd,
    known: Known,
    tx: &mpsc::UnboundedSender<Msg>,
) -> Msg {
    tracing::debug!(?cmd, "perform");
    let project = known.project;
    match cmd {
        Cmd::LoadImpulse { impulse } => Msg::Loaded(match (project, known.project_name) {
            (Some(id), Some(name)) => load_impulse(client, id, name, impulse).await,
            _ => load(client, project, impulse).await,
        }),
        Cmd::LoadResults { impulse } => {
            let result = match project {
                Some(p) => client.model_testing_summary(p, impulse).await,
                None => Err(no_project()),
            };
            Msg::ResultsLoaded { impulse, result }
        }
        Cmd::SetThresholds {
            request_id,
            impulse,
            request,
            believed,
        } => {
            let result = match project {
                Some(p) => {
                    client
                        .set_thresholds_unless_changed(p, impulse, &request, &believed)
                        .await
                }
                None => Err(no_project()),
            };
            if let Err(e) = &result {
                tracing::warn!(request_id, "set-thresholds failed: {e}");
            }
            Msg::SetDone { request_id, result }
        }
        Cmd::StartRegeneration { impulse } => {
            let result = match project {
                Some(p) => client.regenerate_model_testing_summary(p, impulse).await,
                None => Err(no_project()),
            };
            Msg::RegenerationStarted { impulse, result }
        }
        Cmd::PollJob { job_id, after } => {
            tokio::time::sleep(after).await;
            let result = match project {
                Some(p) => client.job_status(p, job_id).await,
                None => Err(no_project()),
            };
            Msg::JobPolled { job_id, result }
        }
        Cmd::LoadTestSet { impulse } => {
            let id = impulse.id;
            let result = match project {
                Some(p) => preview::load_test_set(client, p, &impulse, |loaded, total| {
                    let _ = tx.send(Msg::TestSetProgress {
                        impulse: id,
                        loaded,
                        total,
                    });
                })
                .await
                .map(Arc::new)
                .map_err(|e| PreviewFailure {
                    retryable: matches!(&e, preview::PreviewError::Api(api) if api.is_transient()),
                    why: e.to_string(),
                }),
                None => Err(PreviewFailure {
                    why: no_project().to_string(),
                    retryable: false,
                }),
            };
            Msg::TestSetLoaded {
                impulse: id,
                result,
            }
        }
    }
}

fn no_project() -> ApiError {
    ApiError::Config("no project: the impulse was not loaded".into())
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
