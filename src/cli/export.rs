//! `ei-tune export`: the thresholds as a file that `set --from` reads back.

use std::path::Path;

use super::*;
use crate::api::models::*;

/// `ei-tune export [FILE]`.
pub async fn export(args: &ConnectionArgs, file: Option<&Path>) -> Result<String, CommandError> {
    if let Some(path) = file {
        crate::text::check_writable(path).map_err(|e| CommandError::cannot_write(path, &e))?;
    }
    let t = target(args).await?;
    let blocks = t.thresholds().await?;
    let export = ThresholdsFile {
        project_id: Some(t.project),
        impulse_id: Some(t.impulse.id),
        thresholds: blocks
            .iter()
            .flat_map(|b| {
                b.thresholds
                    .iter()
                    .map(|th| ThresholdUpdate::new(b.block.id, th.key.clone(), th.value.clone()))
            })
            .collect(),
    };
    let text = serde_json::to_string_pretty(&export).unwrap_or_default() + "\n";
    match file {
        None => Ok(text),
        Some(path) => {
            crate::text::write_whole(path, text.as_bytes())
                .map_err(|e| CommandError::cannot_write(path, &e))?;
            let n = export.thresholds.len();
            Ok(format!(
                "Wrote {n} threshold{} of impulse {} to {}.\n",
                if n == 1 { "" } else { "s" },
                t.impulse.id,
                path.display()
            ))
        }
    }
}

/// Write the impulse's thresholds as JSON (to FILE, or stdout)
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Where to write it, written whole (default: standard output)
    #[arg(value_name = "FILE")]
    pub file: Option<std::path::PathBuf>,
}

impl ExportArgs {
    pub async fn run(self, context: &Context) -> Result<String, CommandError> {
        export(&context.connection, self.file.as_deref()).await
    }
}
