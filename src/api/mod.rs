//! The typed Edge Impulse Studio client and the API objects it shares with the simulator.

pub mod backoff;
pub mod client;
pub mod error;
pub mod models;
pub mod redact;
pub mod secret;
pub mod skim;

pub use client::{
    Believed, BlockThresholds, ChangedElsewhere, ClientConfig, ImpulseThresholds, Outcome, Policy,
    StudioClient, UnreadableBlock, Write,
};
pub use error::ApiError;
pub use secret::Secret;
