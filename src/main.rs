#![deny(clippy::unwrap_used, clippy::expect_used)]
//! ei-tune's entry point: parse the command line, set up logging, dispatch.

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use ei_tune::cli::{Cli, Command};
use ei_tune::commands::{self, CommandError};
use ei_tune::logging;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(output) => write_out(&output),
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "error: {}",
                ei_tune::text::terminal_safe(&e.message)
            );
            ExitCode::from(e.code)
        }
    }
}

/// Writes a command's output, made safe for a terminal (server text may hold control
/// sequences). A closed pipe (`| head -1`) ends quietly, as other tools do; any other
/// write error is said and exits 1.
fn write_out(output: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(ei_tune::text::terminal_safe(output).as_bytes())
        .and_then(|()| stdout.flush());
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: cannot write the output: {e}");
            ExitCode::from(1)
        }
    }
}

fn init_log(path: Option<&std::path::Path>) -> Result<(), CommandError> {
    logging::init_file(path).map_err(CommandError::usage)
}

async fn run(cli: Cli) -> Result<String, CommandError> {
    let Some(command) = cli.command else {
        init_log(cli.connection.log_file.as_deref())?;
        return commands::tune(&cli.connection, &cli.tui).await;
    };
    match command {
        Command::Tune { connection, tui } => {
            let args = connection.or(&cli.connection);
            init_log(args.log_file.as_deref())?;
            commands::tune(&args, &tui.or(&cli.tui)).await
        }
        Command::Demo {
            tui,
            impulse,
            job_seconds,
            log_file,
        } => {
            init_log(log_file.as_deref().or(cli.connection.log_file.as_deref()))?;
            commands::demo(&tui.or(&cli.tui), impulse, job_seconds).await
        }
        Command::List {
            connection,
            json,
            runner,
        } => {
            let args = connection.or(&cli.connection);
            init_log(args.log_file.as_deref())?;
            if runner {
                ei_tune::whatif::list_runner(&args).await
            } else {
                commands::list(&args, json).await
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
            let options = commands::SetOptions {
                from,
                allow_jobs,
                other_project,
                json,
            };
            commands::set(&args, &assignments, &options).await
        }
        Command::Export { connection, file } => {
            let args = connection.or(&cli.connection);
            init_log(args.log_file.as_deref())?;
            ei_tune::whatif::export(&args, file.as_deref()).await
        }
        Command::Suggest {
            connection,
            objective,
            max_fpr,
            json,
            apply,
        } => {
            let args = connection.or(&cli.connection);
            init_log(args.log_file.as_deref())?;
            ei_tune::whatif::suggest(&args, objective, max_fpr, json, apply).await
        }
        Command::Regenerate { connection, wait } => {
            let args = connection.or(&cli.connection);
            init_log(args.log_file.as_deref())?;
            commands::regenerate(&args, wait).await
        }
        Command::Results { connection, json } => {
            let args = connection.or(&cli.connection);
            init_log(args.log_file.as_deref())?;
            commands::results(&args, json).await
        }
        Command::Serve(args) => {
            match &args.log_file {
                Some(path) => init_log(Some(path))?,
                None => logging::init_stderr(),
            }
            commands::serve(&args).await.map(|()| String::new())
        }
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "ei-tune", &mut out);
            Ok(String::from_utf8_lossy(&out).into_owned())
        }
    }
}
