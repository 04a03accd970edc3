//! The event loop: the one place that touches the terminal, the clock and the network.
//!
//! It waits on terminal input, API results and the tuner's next deadline at once (no
//! fixed-rate tick: with nothing pending it sleeps until something happens), turns each into
//! a [`Msg`] for [`Tuner::update`], performs the [`Cmd`]s that come back, and redraws only
//! after a message or a resize (a mouse move over nothing, say, draws nothing).

use std::collections::HashMap;
use std::io;
use std::time::Instant;

use crossterm::event::Event;
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::layout::Rect;
use tokio::sync::mpsc;

use crate::api::{ApiError, StudioClient};
use crate::cache::ResultsCache;
use crate::history::Recorder;
use crate::keymap::{self, Screen};
use crate::tuner::{Action, Cmd, ExitReport, Loaded, Msg, Tuner, TunerConfig};
use crate::ui::{self, Theme};

mod effects;

use effects::{Effects, load_in};
pub use effects::{demo_loaded, load};

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

    /// Long computations stop while `interrupt` is raised: input waits (see
    /// [`Tuner::set_interrupt`]).
    pub fn set_interrupt(&mut self, interrupt: crate::metrics::Interrupt) {
        self.tuner.set_interrupt(interrupt);
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

/// A terminal event as a tuner message; `None` when it means nothing to the tuner. Keys
/// go through the key map, mouse events through the views they land on.
fn to_msg(tuner: &Tuner, theme: &Theme, screen: Rect, event: Event) -> Option<Msg> {
    match event {
        Event::Key(key) => keymap::action_for(Screen::of(tuner.mode()), key).map(Msg::Action),
        Event::Mouse(mouse) => ui::mouse::to_msg(tuner, theme, screen, mouse),
        Event::FocusGained => Some(Msg::FocusGained),
        _ => None,
    }
}
