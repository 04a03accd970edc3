//! A load of set-thresholds calls from many concurrent clients, for the load test and the
//! throughput figure (examples/load.rs).

use std::time::{Duration, Instant};

use crate::api::models::*;
use crate::api::{ApiError, ClientConfig, StudioClient};

/// The request number `k` of a load: both thresholds of impulse 1 from one number, so that
/// a state made of two different requests (a torn update) shows.
pub fn request(k: u32) -> SetImpulseThresholdsRequest {
    SetImpulseThresholdsRequest::without_jobs(vec![
        ThresholdUpdate::new(
            3,
            "min_score",
            ThresholdValue::Number(f64::from(k) / 1000.0),
        ),
        ThresholdUpdate::new(4, "min_anomaly_score", ThresholdValue::Number(f64::from(k))),
    ])
}

/// Sends `clients × calls_each` requests (numbers 0..) with `clients` running at once;
/// returns the wall time.
pub async fn run(
    base_url: &str,
    key: &str,
    project: u64,
    clients: u32,
    calls_each: u32,
) -> Result<Duration, ApiError> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let client = StudioClient::new(&ClientConfig::new(base_url).with_api_key(key))?;
        tasks.push(tokio::spawn(async move {
            for i in 0..calls_each {
                client
                    .set_thresholds(project, 1, &request(c * calls_each + i))
                    .await?;
            }
            Ok::<_, ApiError>(())
        }));
    }
    for task in tasks {
        task.await
            .map_err(|e| ApiError::Config(format!("a load task failed: {e}")))??;
    }
    Ok(started.elapsed())
}
