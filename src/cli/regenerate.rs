//! `ei-tune regenerate`: start the regeneration job and, with `--wait`, follow it.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use super::*;
use crate::api::StudioClient;
use crate::jobs::{JobOutcome, JobState, JobWatch};

/// `ei-tune regenerate`.
pub async fn regenerate(args: &ConnectionArgs, wait: bool) -> Result<String, CommandError> {
    let t = target(args).await?;
    // Object detection's results come back only from model testing run again; when they
    // are stale because thresholds changed, the features are there already.
    let full_run = t
        .impulse
        .learn_blocks
        .iter()
        .any(|b| b.kind.is_object_detection());
    let job_id = if full_run {
        let stale = t
            .client
            .model_testing_summary(t.project, t.impulse.id)
            .await?
            .no_results_because_thresholds_changed
            .is_some();
        t.client
            .start_model_testing(t.project, t.impulse.id, stale)
            .await?
    } else {
        t.client
            .regenerate_model_testing_summary(t.project, t.impulse.id)
            .await?
    };
    if !wait {
        return Ok(format!(
            "Started regeneration job {job_id} for impulse {}.\n",
            t.impulse.id
        ));
    }
    let outcome = follow_job(&t.client, t.project, job_id).await?;
    let mut out = match outcome {
        JobOutcome::Failed => {
            return Err(CommandError::failed(format!(
                "regeneration job {job_id} failed"
            )));
        }
        JobOutcome::Succeeded => format!("Regeneration job {job_id} finished.\n"),
        JobOutcome::Unreported => format!(
            "Regeneration job {job_id} finished; Studio did not say whether it succeeded, \
             so here is what it reports now.\n"
        ),
    };
    let summary = t
        .client
        .model_testing_summary(t.project, t.impulse.id)
        .await?;
    out.push_str(&format_summary(&t.impulse, &summary));
    Ok(out)
}

/// Polls a job until it finishes, with a progress line on stderr. Polls that fail for a
/// passing reason are tried again; the wait ends as [`JobWatch`] says.
pub async fn follow_job(
    client: &StudioClient,
    project: u64,
    job_id: u64,
) -> Result<JobOutcome, CommandError> {
    let started = Instant::now();
    let mut watch = JobWatch::new(job_id, started);
    let mut stderr = std::io::stderr();
    let interactive = stderr.is_terminal();
    const SPINNER: [char; 4] = ['|', '/', '-', '\\'];
    let mut tick = 0usize;
    loop {
        let now = Instant::now();
        let state = match client.job_status(project, job_id).await {
            Ok(job) => Some(watch.observe(&job, now)),
            Err(e) if e.is_transient() => watch.poll_failed(now),
            Err(e) => return Err(e.into()),
        };
        let label = match state {
            Some(JobState::Finished(outcome)) => {
                if interactive {
                    let _ = write!(stderr, "\r\x1b[K");
                }
                return Ok(outcome);
            }
            Some(JobState::GaveUp(why)) => return Err(CommandError::failed(why)),
            Some(JobState::Queued) => "queued",
            Some(JobState::Running) => "running",
            None => "not answering",
        };
        if interactive {
            let _ = write!(
                stderr,
                "\r{} job {job_id} {label} {:.1} s",
                SPINNER[tick % SPINNER.len()],
                started.elapsed().as_secs_f64()
            );
            let _ = stderr.flush();
        } else if tick.is_multiple_of(8) {
            let _ = writeln!(
                stderr,
                "job {job_id} {label} {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
        tick += 1;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Start a job that regenerates the model testing results
#[derive(Debug, Clone, clap::Args)]
pub struct RegenerateArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Follow the job until it finishes, then print the new accuracy
    #[arg(long)]
    pub wait: bool,
}

impl RegenerateArgs {
    pub async fn run(self, context: &Context) -> Result<String, CommandError> {
        regenerate(&context.connection, self.wait).await
    }
}
