//! Throughput of the simulator under load: `cargo run --release --example load [CLIENTS] [CALLS]`.
//! Starts the simulator in-process and sends set-thresholds calls from concurrent clients
//! over loopback HTTP; prints calls per second. Figures in BENCHMARKS.md.

use ei_tune::studio::{Studio, StudioConfig, load};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let clients: u32 = args.next().map_or(Ok(50), |a| a.parse())?;
    let calls: u32 = args.next().map_or(Ok(20), |a| a.parse())?;
    let studio = Studio::start(StudioConfig::new("ei_load")).await?;
    // Warm up connections and caches.
    load::run(
        &studio.base_url(),
        "ei_load",
        studio.project_id(),
        clients,
        2,
    )
    .await?;
    let mut rates = Vec::new();
    for _ in 0..5 {
        let took = load::run(
            &studio.base_url(),
            "ei_load",
            studio.project_id(),
            clients,
            calls,
        )
        .await?;
        rates.push(f64::from(clients * calls) / took.as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "{} set-thresholds calls from {clients} clients: median {:.0} calls/s (min {:.0}, max {:.0}) over 5 runs",
        clients * calls,
        rates[2],
        rates[0],
        rates[4]
    );
    studio.shutdown().await;
    Ok(())
}
