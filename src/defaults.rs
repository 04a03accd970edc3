//! Defaults that more than one layer uses, named once: the command line shows them, the
//! tuner and the simulator start from them.

use std::time::Duration;

/// Quiet time after the last edit before values are sent.
pub const DEBOUNCE_MS: u64 = 300;
/// The false-positive rate the "fewest missed anomalies" objective may not exceed.
pub const MAX_FPR: f64 = 0.05;
/// How long the simulator's regeneration jobs run, in seconds.
pub const JOB_SECONDS: f64 = 3.0;

pub const DEBOUNCE: Duration = Duration::from_millis(DEBOUNCE_MS);
/// The missed-anomaly rate the "fewest false alarms" objective may not exceed.
pub const MAX_FNR: f64 = 0.10;
/// How much worse (in points, 0.10 = 10 percentage points, or 0.10 of F1) a suggestion may
/// make any headline figure before `suggest` warns and `--apply` asks for `--force`.
pub const GUARDRAIL: f64 = 0.10;
/// The most labels a test set may hold (classes, expected labels, `anomaly`, `no
/// anomaly`): far above any real project's, low enough that every figure stays quick and
/// every label's number fits in 16 bits. A set with more is refused, saying so.
pub const MAX_LABELS: usize = 10_000;
/// The most class scores (windows × classes) read into a test set: 256 MiB of them.
pub const MAX_CLASS_SCORES: usize = 32 * 1024 * 1024;
