//! The command line: its options (`args`), one file per subcommand, and the error type
//! that gives each failure its exit code.

mod args;
mod check;
mod completions;
mod connect;
mod context;
mod error;
mod export;
mod history;
mod list;
mod regenerate;
mod report;
mod results;
mod serve;
mod set;
mod suggest;
mod sweep;
mod tune;

pub use args::*;
pub use connect::{NO_CREDENTIALS, Target, client, target};
pub use context::Context;
pub use error::{CommandError, EXIT_OUTCOME_UNKNOWN};
pub use export::export;
pub use list::{format_threshold_table, list, list_runner, runner_argument};
pub use regenerate::{follow_job, regenerate};
pub use results::{format_summary, results};
pub use serve::serve;
pub use set::{
    Assignment, ThresholdsFile, build_updates, describe_set, file_updates, parse_assignment,
    read_thresholds_file, set, threshold_value,
};
pub use suggest::{SuggestOptions, suggest};
pub use tune::{demo, latency_summary, tune};

/// Runs the command the user asked for (the tuner when none); its output, for standard
/// output.
pub async fn run(cli: Cli) -> Result<String, CommandError> {
    let command = cli.command.unwrap_or_else(|| {
        Command::Tune(TuneArgs {
            connection: ConnectionArgs::default(),
            tui: TuiArgs::default(),
        })
    });
    let context = Context::new(&cli.connection, &cli.tui, &command)?;
    match command {
        Command::Tune(args) => args.run(&context).await,
        Command::Demo(args) => args.run(&context).await,
        Command::List(args) => args.run(&context).await,
        Command::Set(args) => args.run(&context).await,
        Command::Regenerate(args) => args.run(&context).await,
        Command::Export(args) => args.run(&context).await,
        Command::Suggest(args) => args.run(&context).await,
        Command::Results(args) => args.run(&context).await,
        Command::Check(args) => args.run(&context).await,
        Command::Sweep(args) => args.run(&context).await,
        Command::History(args) => args.run(&context),
        Command::Report(args) => args.run(&context).await,
        Command::Serve(args) => args.run().await,
        Command::Completions(args) => Ok(args.run()),
    }
}
