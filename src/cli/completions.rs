//! `ei-tune completions`: shell completions.

use clap::CommandFactory;

use super::*;

/// Print shell completions
#[derive(Debug, Clone, clap::Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

impl CompletionsArgs {
    pub fn run(self) -> String {
        let mut out = Vec::new();
        clap_complete::generate(self.shell, &mut Cli::command(), "ei-tune", &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}
