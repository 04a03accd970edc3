//! Logging through tracing: to a file (never to a screen the TUI owns), or to stderr for
//! the simulator alone.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

fn filter() -> EnvFilter {
    EnvFilter::try_from_env("EI_TUNE_LOG").unwrap_or_else(|_| EnvFilter::new("info"))
}

/// The log file named could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot open log file {}: {source}", path.display())]
pub struct LogFileError {
    path: PathBuf,
    source: std::io::Error,
}

/// Logs to `path`, appending; without a path, logs nothing.
pub fn init_file(path: Option<&Path>) -> Result<(), LogFileError> {
    let Some(path) = path else {
        return Ok(());
    };
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    // What a log holds (hosts, paths, server text) is the user's alone; and a link planted
    // at its name is not followed.
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let file = options.open(path).map_err(|source| LogFileError {
        path: path.to_path_buf(),
        source,
    })?;
    // A log that cannot be written (a full disk, /dev/full) must not write its complaint
    // over the tuner's screen.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_ansi(false)
        .log_internal_errors(false)
        .with_writer(Mutex::new(file))
        .try_init();
    Ok(())
}

/// Logs to stderr.
pub fn init_stderr() {
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_ansi(std::io::stderr().is_terminal())
        .log_internal_errors(false)
        .with_writer(std::io::stderr)
        .try_init();
}
