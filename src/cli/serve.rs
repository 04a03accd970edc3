//! `ei-tune serve`: the simulated Studio alone.

use std::io::Write;
use std::time::Duration;

use super::*;
use crate::studio::{Studio, StudioConfig, random_api_key};

/// The longest simulated job: a day.
const MAX_JOB_DURATION: Duration = Duration::from_secs(24 * 3600);

/// `ei-tune serve`: runs until Ctrl-C.
pub async fn serve(args: &ServeArgs) -> Result<(), CommandError> {
    let job_duration = Duration::try_from_secs_f64(args.job_seconds)
        .ok()
        .filter(|d| *d <= MAX_JOB_DURATION)
        .ok_or_else(|| {
            CommandError::usage(format!(
                "--job-seconds takes a number from 0 to {}",
                MAX_JOB_DURATION.as_secs()
            ))
        })?;
    let mut config = StudioConfig::new(args.api_key.clone().unwrap_or_else(random_api_key));
    config.bind = std::net::SocketAddr::new(args.bind, args.port);
    config.job_duration = job_duration;
    config.faults = args
        .faults
        .as_deref()
        .map(crate::studio::faults::FaultSpec::parse)
        .transpose()
        .map_err(|e| CommandError::usage(format!("--faults: {e}")))?;
    config.variations = args
        .variations
        .as_deref()
        .map(crate::studio::variations::Variations::parse)
        .transpose()
        .map_err(|e| CommandError::usage(format!("--variations: {e}")))?;
    config.unreadable_blocks = args.unreadable_blocks.clone();
    if !args.bind.is_loopback() {
        eprintln!(
            "warning: binding {}: the simulator is reachable from the network",
            args.bind
        );
    }
    let studio = Studio::start(config).await.map_err(|e| {
        CommandError::failed(format!("cannot listen on {}:{}: {e}", args.bind, args.port))
    })?;
    println!(
        "Simulated Studio on {} (project {}). Paste these lines in another shell:",
        studio.base_url(),
        studio.project_id()
    );
    println!("export EI_API_ENDPOINT={}", studio.base_url());
    println!("export EI_API_KEY={}", studio.api_key());
    println!("export EI_PROJECT_ID={}", studio.project_id());
    println!("Then: ei-tune list; ei-tune set 3.min_score=0.7; ei-tune. Ctrl-C stops.");
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
    studio.shutdown().await;
    Ok(())
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Port to listen on [default: a free one]
    #[arg(long, default_value_t = 0, hide_default_value = true)]
    pub port: u16,
    /// Address to bind; anything but loopback exposes the simulator to the network
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// The API key the simulator requires [default: a random one]
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<String>,
    /// How long a regeneration job runs, in seconds
    #[arg(long, default_value_t = crate::defaults::JOB_SECONDS, value_name = "SECONDS")]
    pub job_seconds: f64,
    /// Write logs to this file instead of stderr
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<std::path::PathBuf>,
    /// Inject faults, e.g. latency=20ms,jitter=10ms,5xx=0.1,429=0.05,drop-before=0.05,drop-after=0.05,slow=0.05,non-json=0.05,refuse=0.02,lose-set=0.1,seed=7
    #[arg(long, value_name = "SPEC")]
    pub faults: Option<String>,
    /// Vary the answers the ways the spec allows: all, or some of unknown-fields,
    /// no-optional, unknown-enums, integers, unicode-labels, thresholds-touch-project
    #[arg(long, value_name = "LIST")]
    pub variations: Option<String>,
    /// Learn blocks whose configuration cannot be read (comma-separated ids)
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub unreadable_blocks: Vec<u64>,
}

impl ServeArgs {
    pub async fn run(self) -> Result<String, CommandError> {
        serve(&self).await.map(|()| String::new())
    }
}
