#![deny(clippy::unwrap_used, clippy::expect_used)]
//! ei-tune's entry point: parse the command line, set up logging, dispatch.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use ei_tune::cli::{self, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The tuner and the simulator do several things at once; a scripting command reads an
    // answer or a few, where one thread is enough and passing work between threads only
    // costs (a large results read spends an eighth of its time on it).
    let mut builder = if cli.runs_long() {
        let mut threads = tokio::runtime::Builder::new_multi_thread();
        threads.worker_threads(2);
        threads
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let outcome = runtime.block_on(cli::run(cli));
    // A task still blocked on the disk or a slow peer must not keep the process alive.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    match outcome {
        Ok(output) => write_out(&output),
        Err(cli::CommandError::Unmet(report)) => {
            write_out(&report);
            ExitCode::from(1)
        }
        Err(cli::CommandError::Refused { report, reason }) => {
            write_out(&report);
            let _ = writeln!(
                std::io::stderr(),
                "error: {}",
                ei_tune::text::terminal_safe(&reason)
            );
            ExitCode::from(1)
        }
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "error: {}",
                ei_tune::text::terminal_safe(&e.to_string())
            );
            ExitCode::from(e.exit_code())
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
