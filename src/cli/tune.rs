//! `ei-tune` and `ei-tune demo`: the interactive tuner on a real terminal.

use std::io::IsTerminal;
use std::time::Duration;

use super::*;
use crate::api::{ClientConfig, Secret, StudioClient};
use crate::app::{App, Input, Session};
use crate::cache::ResultsCache;
use crate::history::{History, Recorder};
use crate::metrics::Interrupt;
use crate::studio::{Studio, StudioConfig, random_api_key};
use crate::terminal::TerminalGuard;
use crate::tuner::{ExitReport, TunerConfig};
use crate::ui::Theme;

/// `ei-tune` / `ei-tune tune`: the interactive tuner on the configured impulse.
pub async fn tune(args: &ConnectionArgs, tui: &TuiArgs) -> Result<String, CommandError> {
    let client = client(args)?;
    let cache = connect::cache(args);
    let history = connect::recorder(args);
    run_tui(client, args.project, args.impulse, cache, history, tui).await
}

/// `ei-tune demo`: the simulated Studio in this process, and the tuner on it over HTTP.
pub async fn demo(
    tui: &TuiArgs,
    impulse: Option<u64>,
    job_seconds: f64,
    keep_history: bool,
) -> Result<String, CommandError> {
    let job_duration = Duration::try_from_secs_f64(job_seconds)
        .map_err(|_| CommandError::usage("--job-seconds takes a non-negative number"))?;
    let mut config = StudioConfig::new(random_api_key());
    config.job_duration = job_duration;
    let studio = Studio::start(config)
        .await
        .map_err(|e| CommandError::failed(format!("cannot start the simulated Studio: {e}")))?;
    let mut client_config = ClientConfig::new(studio.base_url());
    client_config.api_key = Some(Secret::new(studio.api_key()));
    client_config.compress = false;
    client_config.pages_in_flight = 2;
    let client = StudioClient::new(&client_config)?;
    // A simulator started afresh at a new port each time: results are kept in memory
    // only. Its calls are kept under the origin `demo`, so that one demo's history shows
    // in the next.
    let history = keep_history
        .then(History::default_location)
        .flatten()
        .map(|history| Recorder {
            history,
            origin: "demo".into(),
        });
    let result = run_tui(
        client,
        Some(studio.project_id()),
        impulse,
        ResultsCache::in_memory(),
        history,
        tui,
    )
    .await;
    studio.shutdown().await;
    result
}

async fn run_tui(
    client: StudioClient,
    project: Option<u64>,
    impulse: Option<u64>,
    cache: ResultsCache,
    history: Option<Recorder>,
    tui: &TuiArgs,
) -> Result<String, CommandError> {
    if !std::io::stdout().is_terminal() {
        return Err(CommandError::usage(
            "the tuner needs a terminal; for scripts use list, set and results",
        ));
    }
    let config = TunerConfig {
        debounce: tui.debounce(),
        bounds: tui.bounds().map_err(CommandError::usage)?,
        costs: tui.cost,
        sweep_repeats: sweep_repeats(),
        ..TunerConfig::default()
    };
    let app = App {
        client: client.clone(),
        project,
        config,
        theme: Theme::from_env(),
        suspend: Some(crate::terminal::suspend),
        cache,
        history,
    };
    // The results of a known impulse are asked for now, with the impulse. The impulse is
    // read before the terminal is taken over: a session that cannot load anything says
    // why on a plain terminal instead of opening an empty UI.
    let mut session = Session::start(app, impulse);
    say_while_waiting(&client, session.load_first()).await?;
    let report = {
        let mut guard = TerminalGuard::enter()
            .map_err(|e| CommandError::failed(format!("cannot set up the terminal: {e}")))?;
        let (input, interrupt) = terminal_input();
        session.set_interrupt(interrupt);
        session.run(&mut guard.terminal, input).await
        // The guard restores the terminal here, before anything is printed.
    };
    let outcome = report.map_err(|e| CommandError::failed(format!("terminal error: {e}")))?;
    if tui.stats {
        eprint!("{}", latency_summary(&outcome.key_latencies));
    }
    let report: ExitReport = outcome.report;
    if report.unsaved.is_empty() {
        Ok(String::new())
    } else {
        Err(CommandError::failed(format!(
            "these values were not saved to Studio:\n  {}",
            report.unsaved.join("\n  ")
        )))
    }
}

/// Key press to finished frame: count, median, 99th percentile and worst.
pub fn latency_summary(latencies: &[Duration]) -> String {
    if latencies.is_empty() {
        return "key presses: none\n".into();
    }
    let mut sorted = latencies.to_vec();
    sorted.sort_unstable();
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "key press to frame over {} presses: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms\n",
        sorted.len(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(at(1.0))
    )
}

/// Awaits `work`; if it takes more than a second, says on stderr what is being waited for,
/// so that a slow or silent server does not leave an empty screen.
async fn say_while_waiting<T>(
    client: &StudioClient,
    work: impl std::future::Future<Output = T>,
) -> T {
    let mut work = std::pin::pin!(work);
    tokio::select! {
        done = &mut work => return done,
        () = tokio::time::sleep(Duration::from_secs(1)) => {}
    }
    eprintln!(
        "waiting for {} (the project, the impulse and its thresholds)…",
        crate::text::clean(client.base_url())
    );
    work.await
}

/// How many times each sweep is computed: 1; in debug builds, `EI_TUNE_SWEEP_REPEATS`
/// makes the work heavy for the tests of a tuner that answers whatever it computes.
fn sweep_repeats() -> u32 {
    let asked = cfg!(debug_assertions)
        .then(|| std::env::var("EI_TUNE_SWEEP_REPEATS").ok()?.parse().ok())
        .flatten();
    asked.unwrap_or(1)
}

/// Tasks that end with the stream that owns them.
struct AbortOnDrop(Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.iter().for_each(tokio::task::JoinHandle::abort);
    }
}

/// Terminal events and termination signals, as one stream, and the interrupt raised while
/// any waits. They are read on tasks of their own, not by the event loop: one that comes
/// while the tuner computes stops the computation, so that a key or a signal is answered
/// at once whatever it computes.
fn terminal_input() -> (impl futures::Stream<Item = Input> + Unpin, Interrupt) {
    use futures::StreamExt;
    let interrupt = Interrupt::new();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let forward = |tx: tokio::sync::mpsc::UnboundedSender<Input>, interrupt: Interrupt| {
        move |input: Input| {
            // Counted before it is queued: the loop never takes one not yet counted.
            interrupt.arrived();
            tx.send(input).is_ok()
        }
    };
    let send = forward(tx.clone(), interrupt.clone());
    let keys = tokio::spawn(async move {
        let mut events = crossterm::event::EventStream::new();
        while let Some(event) = events.next().await {
            let input = event.map_or(Input::Terminate, Input::Terminal);
            let last = matches!(input, Input::Terminate);
            if !send(input) || last {
                break;
            }
        }
    });
    let send = forward(tx, interrupt.clone());
    let signals = tokio::spawn(async move {
        wait_for_termination().await;
        send(Input::Terminate);
    });
    let tasks = AbortOnDrop(vec![keys, signals]);
    let taken = interrupt.clone();
    let queued = futures::stream::poll_fn(move |cx| {
        let _owned = &tasks;
        let next = rx.poll_recv(cx);
        if let std::task::Poll::Ready(Some(_)) = &next {
            taken.taken();
        }
        next
    });
    // For the terminal-safety tests, in debug builds only: a key that makes the tuner
    // panic. Release builds, which users run, have no such hook.
    let panic_key = if cfg!(debug_assertions) {
        std::env::var("EI_TUNE_PANIC_ON_KEY")
            .ok()
            .and_then(|k| k.chars().next())
    } else {
        None
    };
    let input = queued.map(move |input| match input {
        Input::Terminal(crossterm::event::Event::Key(key))
            if panic_key.is_some()
                && key.code == crossterm::event::KeyCode::Char(panic_key.unwrap_or_default()) =>
        {
            panic!("panic requested with EI_TUNE_PANIC_ON_KEY")
        }
        input => input,
    });
    (input, interrupt)
}

#[cfg(unix)]
async fn wait_for_termination() {
    use tokio::signal::unix::{SignalKind, signal};
    // Every signal whose default action ends the process: each must restore the terminal.
    let kinds = [
        SignalKind::terminate(),
        SignalKind::hangup(),
        SignalKind::interrupt(),
        SignalKind::quit(),
        SignalKind::user_defined1(),
        SignalKind::user_defined2(),
        SignalKind::alarm(),
        SignalKind::pipe(),
    ];
    let mut streams: Vec<_> = kinds.into_iter().filter_map(|k| signal(k).ok()).collect();
    if streams.is_empty() {
        return std::future::pending().await;
    }
    let waits = streams.iter_mut().map(|s| Box::pin(s.recv()));
    futures::future::select_all(waits).await;
}

#[cfg(not(unix))]
async fn wait_for_termination() {
    let _ = tokio::signal::ctrl_c().await;
}

/// Open the interactive tuner (the default)
#[derive(Debug, Clone, clap::Args)]
pub struct TuneArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub tui: TuiArgs,
}

/// Open the tuner on the simulated Studio's demo project, offline
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub tui: TuiArgs,
    /// The demo impulse to open (1-6; 2 is the large test set, 4 and 6 object detection)
    #[arg(long, value_name = "ID")]
    pub impulse: Option<u64>,
    /// How long a regeneration job runs, in seconds
    #[arg(long, default_value_t = crate::defaults::JOB_SECONDS, value_name = "SECONDS")]
    pub job_seconds: f64,
    /// Write logs to this file
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<std::path::PathBuf>,
    /// Write no history of set-thresholds calls
    #[arg(long)]
    pub no_history: bool,
}

impl TuneArgs {
    pub async fn run(self, context: &Context) -> Result<String, CommandError> {
        tune(&context.connection, &context.tui).await
    }
}

impl DemoArgs {
    pub async fn run(self, context: &Context) -> Result<String, CommandError> {
        let history = !(self.no_history || context.connection.no_history);
        demo(&context.tui, self.impulse, self.job_seconds, history).await
    }
}
