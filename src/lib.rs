#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
//! ei-tune: tune the thresholds of an Edge Impulse impulse interactively.
//!
//! The library holds everything the binary does, so that tests and benches exercise the
//! same code: the Studio client ([`api`]), the simulated Studio ([`studio`]) and the model
//! testing metrics they share ([`metrics`]).

pub mod api;
pub mod app;
pub mod cache;
pub mod cli;
pub mod defaults;
pub mod history;
pub mod jobs;
pub mod keymap;
pub mod logging;
pub mod metrics;
pub mod preview;
pub mod private_dir;
pub mod provenance;
pub mod report;
pub mod studio;
pub mod terminal;
pub mod text;
pub mod thresholds;
pub mod tuner;
pub mod ui;
pub mod write;
