//! What every subcommand runs with, built once: the connection options merged (the
//! subcommand's own values win over those given before it), the tuner's options merged
//! the same way, and logging set up.

use std::path::Path;

use super::*;

/// Where a command's logs go.
enum Logging<'a> {
    /// To this file, or nowhere.
    File(Option<&'a Path>),
    /// To this file, or standard error (the simulator, run alone).
    FileOrStderr(Option<&'a Path>),
    /// Not set up: the command talks to no server.
    None,
}

pub struct Context {
    pub connection: ConnectionArgs,
    pub tui: TuiArgs,
}

impl Context {
    /// The options of `command` over those given before it; logging set up as it asks.
    pub fn new(
        connection: &ConnectionArgs,
        tui: &TuiArgs,
        command: &Command,
    ) -> Result<Self, CommandError> {
        let suggest_tui;
        let (own_connection, own_tui) = match command {
            Command::Tune(a) => (Some(&a.connection), Some(&a.tui)),
            Command::Demo(a) => (None, Some(&a.tui)),
            Command::Suggest(a) => {
                suggest_tui = TuiArgs {
                    max_fpr: a.max_fpr,
                    max_fnr: a.max_fnr,
                    cost: a.cost,
                    ..TuiArgs::default()
                };
                (Some(&a.connection), Some(&suggest_tui))
            }
            Command::List(a) => (Some(&a.connection), None),
            Command::Set(a) => (Some(&a.connection), None),
            Command::Regenerate(a) => (Some(&a.connection), None),
            Command::Export(a) => (Some(&a.connection), None),
            Command::Results(a) => (Some(&a.connection), None),
            Command::Check(a) => (Some(&a.connection), None),
            Command::Sweep(a) => (Some(&a.connection), None),
            Command::Report(a) => (Some(&a.connection), None),
            Command::History(_) | Command::Serve(_) | Command::Completions(_) => (None, None),
        };
        refuse_unused_tuner_options(tui, command)?;
        let context = Self {
            connection: own_connection.map_or_else(|| connection.clone(), |c| c.or(connection)),
            tui: own_tui.map_or_else(|| tui.clone(), |t| t.or(tui)),
        };
        let merged_log = context.connection.log_file.as_deref();
        let logging = match command {
            Command::Demo(a) => Logging::File(a.log_file.as_deref().or(merged_log)),
            Command::Serve(a) => Logging::FileOrStderr(a.log_file.as_deref()),
            Command::History(_) | Command::Completions(_) => Logging::None,
            _ => Logging::File(merged_log),
        };
        match logging {
            Logging::File(path) | Logging::FileOrStderr(path @ Some(_)) => {
                crate::logging::init_file(path).map_err(|e| CommandError::usage(e.to_string()))?;
            }
            Logging::FileOrStderr(None) => crate::logging::init_stderr(),
            Logging::None => {}
        }
        Ok(context)
    }
}

/// The tuner's options given before a subcommand that does not take them would be
/// ignored without a word (`ei-tune --cost missed-anomaly=3 list`): refused, as they are
/// after it.
fn refuse_unused_tuner_options(outer: &TuiArgs, command: &Command) -> Result<(), CommandError> {
    const TUNER: &str = "the tuner's (ei-tune, tune, demo)";
    const OBJECTIVES: &str = "the tuner's and suggest's";
    let given = [
        ("--debounce-ms", outer.debounce_ms.is_some(), TUNER),
        ("--stats", outer.stats, TUNER),
        ("--max-fpr", outer.max_fpr.is_some(), OBJECTIVES),
        ("--max-fnr", outer.max_fnr.is_some(), OBJECTIVES),
        ("--cost", outer.cost.is_some(), OBJECTIVES),
    ];
    let taken = |owner: &str| match command {
        Command::Tune(_) | Command::Demo(_) => true,
        Command::Suggest(_) => owner == OBJECTIVES,
        _ => false,
    };
    match given.iter().find(|(_, set, owner)| *set && !taken(owner)) {
        Some((name, _, owner)) => Err(CommandError::usage(format!(
            "{name} is {owner} option; this subcommand does not take it"
        ))),
        None => Ok(()),
    }
}
