//! The command line: its options (`args`), one file per subcommand, and the error type
//! that gives each failure its exit code.

mod args;
mod check;
mod connect;
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

use clap::CommandFactory;

pub use args::*;
pub use connect::{NO_CREDENTIALS, Target, client, target};
pub use error::{CommandError, EXIT_OUTCOME_UNKNOWN};
pub use export::export;
pub use list::{format_threshold_table, list, list_runner, runner_argument};
pub use regenerate::{follow_job, regenerate};
pub use results::{format_summary, results};
pub use serve::serve;
pub use set::{
    Assignment, SetOptions, ThresholdsFile, build_updates, describe_set, file_updates,
    parse_assignment, read_thresholds_file, set, threshold_value,
};
pub use suggest::{SuggestOptions, suggest};
pub use tune::{demo, latency_summary, tune};

fn init_log(path: Option<&std::path::Path>) -> Result<(), CommandError> {
    crate::logging::init_file(path).map_err(CommandError::usage)
}

/// Runs the command the user asked for; its output, for standard output.
pub async fn run(cli: Cli) -> Result<String, CommandError> {
    let Some(command) = cli.command else {
        init_log(cli.connection.log_file.as_deref())?;
        return tune::tune(&cli.connection, &cli.tui).await;
    };
    match command {
        Command::Tune { connection, tui } => {
            let args = connection.or(&cli.connection);
            init_log(args.log_file.as_deref())?;
            tune::tune(&args, &tui.or(&cli.tui)).await
        }
        Command::Demo {
            tui,
            impulse,
            job_seconds,
            log_file,
            no_history,
        } => {
            init_log(log_file.as_deref().or(cli.connection.log_file.as_deref()))?;
            let history = !(no_history || cli.connection.no_history);
            tune::demo(&tui.or(&cli.tui), impulse, job_seconds, history).await
        }
        Command::List {
            connection,
            json,
            runner,
        } => {
            let args = connection.or(&cli.connection);
            init_log(args.log_file.as_deref())?;
            if runner {
                list::list_runner(&args).await
            } else {
                list::list(&args, json).await
            }
        }
        Command::Set {
            connection,
            assignments,
            from,
            allow_jobs,
            other_project,
            json,
        } => {
            let args = connection.or(&cli.connection);
            init_log(args.log_file.as_deref())?;
            let options = set::SetOptions {
                from,
                allow_jobs,
                other_project,
                json,
            };
            set::set(&args, &assignments, &options).await
        }
        Command::Export { connection, file } => {
            let args = connection.or(&cli.connection);
            init_log(args.log_file.as_deref())?;
            export::export(&args, file.as_deref()).await
        }
        Command::Suggest {
            connection,
            objective,
            max_fpr,
            max_fnr,
            cost,
            joint,
            json,
            apply,
            force,
        } => {
            let args = connection.or(&cli.connection);
            init_log(args.log_file.as_deref())?;
            let bounds = args::bounds(max_fpr, max_fnr).map_err(CommandError::usage)?;
            let options = suggest::SuggestOptions {
                request: crate::metrics::suggest::Request {
                    objective: objective.map(|o| o.objective(bounds)),
                    costs: cost,
                    bounds,
                },
                joint,
                json,
                apply,
                force,
            };
            suggest::suggest(&args, &options).await
        }
        Command::Regenerate { connection, wait } => {
            let args = connection.or(&cli.connection);
            init_log(args.log_file.as_deref())?;
            regenerate::regenerate(&args, wait).await
        }
        Command::Check {
            connection,
            min,
            max,
            json,
            junit,
            fresh,
        } => {
            let args = connection.or(&cli.connection);
            init_log(args.log_file.as_deref())?;
            let bounds: Vec<check::Bound> = min.into_iter().chain(max).collect();
            let options = check::CheckOptions { json, junit, fresh };
            check::check(&args, &bounds, &options).await
        }
        Command::Sweep {
            connection,
            keys,
            points,
            json,
            csv: _,
        } => {
            let args = connection.or(&cli.connection);
            init_log(args.log_file.as_deref())?;
            let options = sweep::SweepOptions { keys, points, json };
            sweep::sweep(&args, &options).await
        }
        Command::History {
            project,
            impulse,
            origin,
            last,
            json,
        } => {
            let options = history::HistoryOptions {
                project: project.or(cli.connection.project),
                impulse: impulse.or(cli.connection.impulse),
                origin,
                last,
                json,
            };
            history::history(&options)
        }
        Command::Report { connection, file } => {
            let args = connection.or(&cli.connection);
            init_log(args.log_file.as_deref())?;
            report::report(&args, &file).await
        }
        Command::Results { connection, json } => {
            let args = connection.or(&cli.connection);
            init_log(args.log_file.as_deref())?;
            results::results(&args, json).await
        }
        Command::Serve(args) => {
            match &args.log_file {
                Some(path) => init_log(Some(path))?,
                None => crate::logging::init_stderr(),
            }
            serve::serve(&args).await.map(|()| String::new())
        }
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "ei-tune", &mut out);
            Ok(String::from_utf8_lossy(&out).into_owned())
        }
    }
}
