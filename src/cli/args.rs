//! The command line: clap derive.
//!
//! Connection options are accepted before or after the subcommand (`ei-tune --project 1
//! list` and `ei-tune list --project 1`); the subcommand's own value wins.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use super::check::CheckArgs;
pub use super::completions::CompletionsArgs;
pub use super::export::ExportArgs;
pub use super::history::HistoryArgs;
pub use super::list::ListArgs;
pub use super::regenerate::RegenerateArgs;
pub use super::report::ReportArgs;
pub use super::results::ResultsArgs;
pub use super::serve::ServeArgs;
pub use super::set::SetArgs;
pub use super::suggest::SuggestArgs;
pub use super::sweep::SweepArgs;
pub use super::tune::DemoArgs;
pub use super::tune::TuneArgs;
use crate::api::client::DEFAULT_HOST;
use crate::metrics::objective::{Bounds, Costs, Objective};

#[derive(Debug, Parser)]
#[command(
    name = "ei-tune",
    version,
    about = "Tune the thresholds of an Edge Impulse impulse interactively",
    long_about = "Tune the thresholds of an Edge Impulse impulse interactively.\n\n\
                  Run `ei-tune demo` to try it offline on a simulated Studio project.\n\
                  With a project API key (Studio: your project's Dashboard, Keys), \
                  `EI_API_KEY=ei_... ei-tune` opens the tuner on your impulse."
)]
pub struct Cli {
    #[command(flatten)]
    pub connection: ConnectionArgs,

    #[command(flatten)]
    pub tui: TuiArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Whether this runs until stopped (the tuner, the simulator) rather than answering once.
    pub fn runs_long(&self) -> bool {
        matches!(
            self.command,
            None | Some(Command::Tune(_) | Command::Demo(_) | Command::Serve(_))
        )
    }
}

/// Options of the interactive tuner.
#[derive(Debug, Clone, Default, Args)]
pub struct TuiArgs {
    /// Quiet time after the last edit before values are sent, in milliseconds [default: 300]
    #[arg(long, value_name = "MS")]
    pub debounce_ms: Option<u64>,
    /// Highest false-alarm rate for the "fewest missed anomalies" objective [default: 0.05]
    #[arg(long, value_name = "RATE", allow_negative_numbers = true)]
    pub max_fpr: Option<f64>,
    /// Highest missed-anomaly rate for the "fewest false alarms" objective [default: 0.10]
    #[arg(long, value_name = "RATE", allow_negative_numbers = true)]
    pub max_fnr: Option<f64>,
    /// What each mistake costs: the default objective becomes the lowest expected cost per
    /// window, and the figures show it (e.g. missed-anomaly=10,false-alarm=1,uncertain=0.2)
    #[arg(long, value_name = "COSTS", value_parser = parse_costs)]
    pub cost: Option<Costs>,
    /// On exit, print the time from each key press to its finished frame (p50, p99)
    #[arg(long)]
    pub stats: bool,
}

impl TuiArgs {
    pub fn or(&self, outer: &TuiArgs) -> TuiArgs {
        TuiArgs {
            debounce_ms: self.debounce_ms.or(outer.debounce_ms),
            max_fpr: self.max_fpr.or(outer.max_fpr),
            max_fnr: self.max_fnr.or(outer.max_fnr),
            cost: self.cost.or(outer.cost),
            stats: self.stats || outer.stats,
        }
    }

    /// The bounds of the constrained objectives, checked.
    pub fn bounds(&self) -> Result<Bounds, String> {
        bounds(
            self.max_fpr.unwrap_or(crate::defaults::MAX_FPR),
            self.max_fnr.unwrap_or(crate::defaults::MAX_FNR),
        )
    }

    pub fn debounce(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.debounce_ms.unwrap_or(crate::defaults::DEBOUNCE_MS))
    }
}

#[derive(Debug, Clone, Default, Args)]
pub struct ConnectionArgs {
    /// Studio API base URL, up to and including /v1 [default: https://studio.edgeimpulse.com/v1]
    #[arg(
        long,
        env = "EI_API_ENDPOINT",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub host: Option<String>,

    /// Project API key, sent as x-api-key (Studio: Dashboard, Keys)
    #[arg(long, env = "EI_API_KEY", hide_env_values = true, value_name = "KEY")]
    pub api_key: Option<String>,

    /// Read the project API key from this file (keeps it out of `ps` and shell history)
    #[arg(
        long,
        env = "EI_API_KEY_FILE",
        hide_env_values = true,
        value_name = "PATH"
    )]
    pub api_key_file: Option<PathBuf>,

    /// Send credentials over plain http:// to a host that is not this machine
    #[arg(long)]
    pub allow_insecure_http: bool,

    /// User JWT token, sent as x-jwt-token
    #[arg(
        long,
        env = "EI_JWT_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub jwt: Option<String>,

    /// Project id [default: the key's project]
    #[arg(long, env = "EI_PROJECT_ID", hide_env_values = true, value_name = "ID")]
    pub project: Option<u64>,

    /// Impulse id [default: the project's default impulse]
    #[arg(long, value_name = "ID")]
    pub impulse: Option<u64>,

    /// Write logs to this file (level from EI_TUNE_LOG, default info)
    #[arg(
        long,
        env = "EI_TUNE_LOG_FILE",
        hide_env_values = true,
        value_name = "PATH"
    )]
    pub log_file: Option<PathBuf>,

    /// Seconds to wait for a connection
    #[arg(long, value_name = "SECONDS")]
    pub connect_timeout: Option<f64>,

    /// Seconds to wait for a whole answer
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,

    /// Write no history of set-thresholds calls (kept in $EI_TUNE_STATE_DIR, else in
    /// ei-tune/history.jsonl under the platform's state directory)
    #[arg(long)]
    pub no_history: bool,

    /// Neither read nor keep per-window results on disk (kept in $EI_TUNE_CACHE_DIR, else in
    /// ei-tune/results under the platform's cache directory; the demo keeps none)
    #[arg(long)]
    pub no_cache: bool,
}

impl ConnectionArgs {
    /// These options, with any gaps filled from `outer` (the options before the subcommand).
    ///
    /// clap fills both copies from the environment, so a value equal to its variable's may
    /// have come from there: an option given before the subcommand then wins over it, as
    /// a flag always wins over the environment.
    pub fn or(&self, outer: &ConnectionArgs) -> ConnectionArgs {
        fn pick<T: Clone>(
            inner: &Option<T>,
            outer: &Option<T>,
            variable: &str,
            text: impl Fn(&T) -> String,
        ) -> Option<T> {
            let from_env = |v: &T| std::env::var_os(variable).is_some_and(|e| e == *text(v));
            match (inner, outer) {
                (Some(i), Some(o)) if from_env(i) && !from_env(o) => Some(o.clone()),
                (Some(i), _) => Some(i.clone()),
                (None, o) => o.clone(),
            }
        }
        let path = |p: &PathBuf| p.display().to_string();
        ConnectionArgs {
            host: pick(&self.host, &outer.host, "EI_API_ENDPOINT", String::clone),
            api_key: pick(&self.api_key, &outer.api_key, "EI_API_KEY", String::clone),
            api_key_file: pick(
                &self.api_key_file,
                &outer.api_key_file,
                "EI_API_KEY_FILE",
                path,
            ),
            allow_insecure_http: self.allow_insecure_http || outer.allow_insecure_http,
            jwt: pick(&self.jwt, &outer.jwt, "EI_JWT_TOKEN", String::clone),
            project: pick(
                &self.project,
                &outer.project,
                "EI_PROJECT_ID",
                u64::to_string,
            ),
            impulse: self.impulse.or(outer.impulse),
            log_file: pick(&self.log_file, &outer.log_file, "EI_TUNE_LOG_FILE", path),
            connect_timeout: self.connect_timeout.or(outer.connect_timeout),
            timeout: self.timeout.or(outer.timeout),
            no_history: self.no_history || outer.no_history,
            no_cache: self.no_cache || outer.no_cache,
        }
    }

    pub fn host(&self) -> &str {
        self.host.as_deref().unwrap_or(DEFAULT_HOST)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the interactive tuner (the default)
    Tune(TuneArgs),
    /// Open the tuner on the simulated Studio's demo project, offline
    Demo(DemoArgs),
    /// Print every threshold of the impulse
    List(ListArgs),
    /// Set thresholds in one call: BLOCK.KEY=VALUE (e.g. 4.min_anomaly_score=0.45)
    Set(SetArgs),
    /// Start a job that regenerates the model testing results
    Regenerate(RegenerateArgs),
    /// Write the impulse's thresholds as JSON (to FILE, or stdout)
    Export(ExportArgs),
    /// For each threshold, the value that optimises an objective, from the test results
    Suggest(SuggestArgs),
    /// Print the model testing summary: accuracy, per class, confusion matrix
    Results(ResultsArgs),
    /// Exit 0 when the figures at the saved thresholds meet every bound, 1 with what
    /// failed otherwise (for pipelines)
    Check(CheckArgs),
    /// Every figure across one threshold's range, or a grid of two, as CSV or JSON
    Sweep(SweepArgs),
    /// The set-thresholds calls ei-tune made (the tuner's and the commands'), oldest first
    History(HistoryArgs),
    /// One self-contained HTML file (no script, nothing fetched) on why the thresholds are
    /// what they are: thresholds, figures, per class, confusion matrix, sweeps, history
    Report(ReportArgs),
    /// Run the simulated Studio alone, with the demo project
    Serve(ServeArgs),
    /// Print shell completions
    Completions(CompletionsArgs),
}

/// The objectives of `suggest` (docs/objectives.md defines each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ObjectiveArg {
    /// Best macro F1 over every outcome (each class, and anomaly), uncertain counted wrong
    F1,
    /// Best mean recall over every expected outcome
    BalancedAccuracy,
    /// Best accuracy
    Accuracy,
    /// Missed anomalies and false alarms weighed alike (anomaly thresholds)
    AnomalyBalance,
    /// Fewest missed anomalies with false alarms at most --max-fpr (anomaly thresholds)
    FewestMissed,
    /// Fewest false alarms with missed anomalies at most --max-fnr (anomaly thresholds)
    FewestFalseAlarms,
}

impl ObjectiveArg {
    pub fn objective(self, bounds: Bounds) -> Objective {
        match self {
            Self::F1 => Objective::MacroF1,
            Self::BalancedAccuracy => Objective::BalancedAccuracy,
            Self::Accuracy => Objective::Accuracy,
            Self::AnomalyBalance => Objective::AnomalyBalance,
            Self::FewestMissed => Objective::FewestMissed {
                max_fpr: bounds.max_fpr,
            },
            Self::FewestFalseAlarms => Objective::FewestFalseAlarms {
                max_fnr: bounds.max_fnr,
            },
        }
    }
}

pub(super) fn parse_costs(text: &str) -> Result<Costs, String> {
    Costs::parse(text)
}

/// The bounds of the constrained objectives, each a rate from 0 to 1.
pub fn bounds(max_fpr: f64, max_fnr: f64) -> Result<Bounds, String> {
    for (flag, rate) in [("--max-fpr", max_fpr), ("--max-fnr", max_fnr)] {
        if !(0.0..=1.0).contains(&rate) {
            return Err(format!("{flag} takes a rate from 0 to 1"));
        }
    }
    Ok(Bounds { max_fpr, max_fnr })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn options_after_the_subcommand_win() {
        let cli = Cli::try_parse_from([
            "ei-tune",
            "--project",
            "1",
            "--impulse",
            "7",
            "list",
            "--project",
            "2",
        ])
        .unwrap();
        let command = cli.command.expect("a subcommand");
        assert!(matches!(command, Command::List(_)));
        let context = super::super::Context::new(&cli.connection, &cli.tui, &command).unwrap();
        assert_eq!(context.connection.project, Some(2));
        assert_eq!(context.connection.impulse, Some(7));
    }
}
