//! Fault injection for the simulator: what a real network and a busy service do.
//!
//! A spec is a comma-separated list, e.g.
//! `latency=20ms,jitter=10ms,bandwidth=50mbit,5xx=0.1,429=0.05,drop-before=0.05,drop-after=0.05,slow=0.05,non-json=0.05,refuse=0.02,seed=7`.
//! Rates are probabilities per request, drawn from one seeded generator, so a run is
//! reproducible; each injected fault is logged. `bandwidth` is one link shared by every
//! answer, paced on the bytes that leave (compressed, when the client asked for it).

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

use crate::api::models::GenericApiResponse;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultSpec {
    pub latency: Duration,
    pub jitter: Duration,
    /// The link's speed for answers, in bytes a second; `None`: unlimited.
    pub bandwidth: Option<f64>,
    /// HTTP 502, 503 or 504.
    pub server_error: f64,
    /// HTTP 429 with `Retry-After: 1`.
    pub too_many: f64,
    /// The connection drops before the request is handled (nothing applied).
    pub drop_before: f64,
    /// The request is handled, then the connection drops mid-answer.
    pub drop_after: f64,
    /// The answer trickles out in small pieces.
    pub slow: f64,
    /// A 200 whose body is an HTML error page (nothing applied).
    pub non_json: f64,
    /// `{success: false}` (nothing applied).
    pub refuse: f64,
    /// Of set-thresholds calls only: applied, then the answer is lost (the connection
    /// drops mid-answer). Drawn apart from the rates above.
    pub lose_set: f64,
    pub seed: u64,
}

impl FaultSpec {
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut f = Self::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}`: expected KEY=VALUE"))?;
            let rate = || -> Result<f64, String> {
                let r: f64 = value
                    .parse()
                    .map_err(|_| format!("`{part}`: {value} is not a rate"))?;
                if (0.0..=1.0).contains(&r) {
                    Ok(r)
                } else {
                    Err(format!("`{part}`: a rate is from 0 to 1"))
                }
            };
            let duration = || -> Result<Duration, String> {
                humantime::parse_duration(value).map_err(|e| format!("`{part}`: {e} (e.g. 20ms)"))
            };
            match key {
                "latency" => f.latency = duration()?,
                "bandwidth" => {
                    f.bandwidth = Some(bandwidth(value).map_err(|e| format!("`{part}`: {e}"))?)
                }
                "jitter" => f.jitter = duration()?,
                "5xx" => f.server_error = rate()?,
                "429" => f.too_many = rate()?,
                "drop-before" => f.drop_before = rate()?,
                "drop-after" => f.drop_after = rate()?,
                "slow" => f.slow = rate()?,
                "non-json" => f.non_json = rate()?,
                "refuse" => f.refuse = rate()?,
                "lose-set" => f.lose_set = rate()?,
                "seed" => {
                    f.seed = value
                        .parse()
                        .map_err(|_| format!("`{part}`: the seed is a whole number"))?;
                }
                _ => {
                    return Err(format!(
                        "`{key}` is not a fault (latency, jitter, bandwidth, 5xx, 429, \
                         drop-before, drop-after, slow, non-json, refuse, lose-set, seed)"
                    ));
                }
            }
        }
        if f.total() > 1.0 {
            return Err(format!("the rates add up to {}, more than 1", f.total()));
        }
        Ok(f)
    }

    fn total(&self) -> f64 {
        self.server_error
            + self.too_many
            + self.drop_before
            + self.drop_after
            + self.slow
            + self.non_json
            + self.refuse
    }
}

/// `50mbit`, `800kbit`, `1gbit`, `2MB` (bytes) or a plain number of bits a second, as
/// bytes a second.
fn bandwidth(value: &str) -> Result<f64, String> {
    let value = value.trim();
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{value} is not a speed (e.g. 50mbit)"))?;
    let bits_per_unit = match unit.to_ascii_lowercase().as_str() {
        "" | "bit" => 1.0,
        "kbit" => 1e3,
        "mbit" => 1e6,
        "gbit" => 1e9,
        "b" => 8.0,
        "kb" => 8e3,
        "mb" => 8e6,
        "gb" => 8e9,
        other => {
            return Err(format!(
                "`{other}` is not a unit (kbit, mbit, gbit, kB, MB)"
            ));
        }
    };
    let bytes = number * bits_per_unit / 8.0;
    if bytes.is_finite() && bytes >= 1.0 {
        Ok(bytes)
    } else {
        Err(format!("{value} is not a speed above 8 bit/s"))
    }
}

/// A link of limited speed that every answer shares: each piece of a body leaves when
/// the pieces before it (of any answer) have.
#[derive(Debug)]
struct Link {
    bytes_per_second: f64,
    free_at: Mutex<tokio::time::Instant>,
}

/// The largest piece a paced body is cut into: small enough to pace smoothly.
const PACED_PIECE: usize = 16 * 1024;

impl Link {
    /// When a piece of `bytes` that is ready now has left.
    fn reserve(&self, bytes: usize) -> tokio::time::Instant {
        let mut free_at = self.free_at.lock().unwrap_or_else(|p| p.into_inner());
        let start = (*free_at).max(tokio::time::Instant::now());
        *free_at = start + Duration::from_secs_f64(bytes as f64 / self.bytes_per_second);
        *free_at
    }

    fn pace(self: Arc<Self>, response: Response) -> Response {
        let (parts, body) = response.into_parts();
        let pieces = body.into_data_stream().flat_map(|chunk| {
            let pieces: Vec<Result<Bytes, axum::Error>> = match chunk {
                Ok(bytes) => (0..bytes.len())
                    .step_by(PACED_PIECE)
                    .map(|at| Ok(bytes.slice(at..(at + PACED_PIECE).min(bytes.len()))))
                    .collect(),
                Err(e) => vec![Err(e)],
            };
            futures::stream::iter(pieces)
        });
        let paced = pieces.then(move |piece| {
            let link = Arc::clone(&self);
            async move {
                if let Ok(bytes) = &piece {
                    tokio::time::sleep_until(link.reserve(bytes.len())).await;
                }
                piece
            }
        });
        Response::from_parts(parts, Body::from_stream(paced))
    }
}

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    ServerError(u16),
    TooMany,
    DropBefore,
    DropAfter,
    Slow,
    NonJson,
    Refuse,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ServerError(code) => write!(f, "HTTP {code}"),
            Self::TooMany => f.write_str("HTTP 429"),
            Self::DropBefore => f.write_str("drop before handling"),
            Self::DropAfter => f.write_str("drop after handling"),
            Self::Slow => f.write_str("slow body"),
            Self::NonJson => f.write_str("non-JSON body"),
            Self::Refuse => f.write_str("success: false"),
        }
    }
}

/// The spec and its generator.
#[derive(Debug)]
pub struct Faults {
    spec: FaultSpec,
    rng: Mutex<fastrand::Rng>,
    link: Option<Arc<Link>>,
}

impl Faults {
    pub fn new(spec: FaultSpec) -> Self {
        let rng = fastrand::Rng::with_seed(spec.seed);
        let link = spec.bandwidth.map(|bytes_per_second| {
            Arc::new(Link {
                bytes_per_second,
                free_at: Mutex::new(tokio::time::Instant::now()),
            })
        });
        Self {
            spec,
            rng: Mutex::new(rng),
            link,
        }
    }

    /// Whether this set-thresholds call loses its answer.
    fn lose_set(&self) -> bool {
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        rng.f64() < self.spec.lose_set
    }

    /// The delay and the fault (if any) for the next request.
    pub fn draw(&self) -> (Duration, Option<Fault>) {
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        let s = &self.spec;
        let jitter = if s.jitter.is_zero() {
            Duration::ZERO
        } else {
            s.jitter.mul_f64(rng.f64())
        };
        let roll = rng.f64();
        let code = [502, 503, 504][rng.usize(..3)];
        let bands = [
            (s.server_error, Fault::ServerError(code)),
            (s.too_many, Fault::TooMany),
            (s.drop_before, Fault::DropBefore),
            (s.drop_after, Fault::DropAfter),
            (s.slow, Fault::Slow),
            (s.non_json, Fault::NonJson),
            (s.refuse, Fault::Refuse),
        ];
        let mut edge = 0.0;
        let fault = bands.into_iter().find_map(|(rate, fault)| {
            edge += rate;
            (roll < edge).then_some(fault)
        });
        (s.latency + jitter, fault)
    }
}

/// A 200 whose body breaks off: the client sees the connection drop mid-answer.
fn broken_body() -> Response {
    let stream = futures::stream::iter([
        Ok(Bytes::from_static(b"{\"success\":tr")),
        Err(std::io::Error::other("injected connection drop")),
    ]);
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The middleware: delays, then maybe a fault instead of (or around) the real answer,
/// sent at the link's speed.
pub async fn inject(State(faults): State<Arc<Faults>>, request: Request, next: Next) -> Response {
    let response = answer(&faults, request, next).await;
    match &faults.link {
        Some(link) => Arc::clone(link).pace(response),
        None => response,
    }
}

async fn answer(faults: &Faults, request: Request, next: Next) -> Response {
    let (delay, fault) = faults.draw();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if request.uri().path().ends_with("/set-thresholds") && faults.lose_set() {
        tracing::info!(path = %request.uri().path(), "injected fault: set-thresholds answer lost");
        let _applied = next.run(request).await;
        return broken_body();
    }
    let Some(fault) = fault else {
        return next.run(request).await;
    };
    tracing::info!(path = %request.uri().path(), %fault, "injected fault");
    match fault {
        Fault::ServerError(code) => (
            StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            axum::Json(GenericApiResponse::failure("Injected gateway failure")),
        )
            .into_response(),
        Fault::TooMany => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "1")],
            axum::Json(GenericApiResponse::failure("Too many requests")),
        )
            .into_response(),
        Fault::DropBefore => broken_body(),
        Fault::DropAfter => {
            let _applied = next.run(request).await;
            broken_body()
        }
        Fault::Slow => {
            let response = next.run(request).await;
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let chunks: Vec<Bytes> = bytes.chunks(64).map(Bytes::copy_from_slice).collect();
            let stream = futures::stream::iter(chunks).then(|chunk| async move {
                tokio::time::sleep(Duration::from_millis(2)).await;
                Ok::<_, std::io::Error>(chunk)
            });
            Response::from_parts(parts, Body::from_stream(stream))
        }
        Fault::NonJson => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
        )
            .into_response(),
        Fault::Refuse => axum::Json(GenericApiResponse::failure(
            "Injected failure: the service refused",
        ))
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_bad_ones_say_why() {
        let f = FaultSpec::parse("latency=20ms,jitter=5ms,5xx=0.1,429=0.05,seed=9").unwrap();
        assert_eq!(f.latency, Duration::from_millis(20));
        assert_eq!(f.server_error, 0.1);
        assert_eq!(f.seed, 9);
        assert!(
            FaultSpec::parse("5xx=2")
                .unwrap_err()
                .contains("from 0 to 1")
        );
        assert!(
            FaultSpec::parse("teleport=0.1")
                .unwrap_err()
                .contains("not a fault")
        );
        assert!(
            FaultSpec::parse("5xx=0.6,429=0.6")
                .unwrap_err()
                .contains("more than 1")
        );
        assert!(FaultSpec::parse("latency=fast").is_err());
        let b = FaultSpec::parse("bandwidth=50mbit").unwrap();
        assert_eq!(b.bandwidth, Some(6_250_000.0));
        assert_eq!(bandwidth("2MB"), Ok(2_000_000.0));
        assert!(bandwidth("fast").is_err());
        assert!(bandwidth("0mbit").is_err());
    }

    #[test]
    fn draws_are_reproducible_and_near_their_rates() {
        let spec = FaultSpec::parse("5xx=0.2,drop-after=0.1,seed=3").unwrap();
        let (a, b) = (Faults::new(spec.clone()), Faults::new(spec.clone()));
        let first: Vec<_> = (0..100).map(|_| a.draw()).collect();
        let second: Vec<_> = (0..100).map(|_| b.draw()).collect();
        assert_eq!(first, second);
        let faults = Faults::new(spec);
        let drawn: Vec<_> = (0..10_000).map(|_| faults.draw().1).collect();
        let errors = drawn
            .iter()
            .filter(|f| matches!(f, Some(Fault::ServerError(_))))
            .count();
        let drops = drawn
            .iter()
            .filter(|f| **f == Some(Fault::DropAfter))
            .count();
        assert!((1800..2200).contains(&errors), "{errors}");
        assert!((850..1150).contains(&drops), "{drops}");
    }
}
