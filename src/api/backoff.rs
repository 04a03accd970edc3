//! The one backoff: how long to wait before trying again, for reads, writes and the tuner.

use std::time::Duration;

/// Exponential backoff with jitter: attempt 1 waits `base`, each next one twice as long,
/// at most `max`, spread by a factor in [0.8, 1.2) drawn from `seed`; never shorter than
/// a server's `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The wait before the attempt after `attempt`. The jitter is a hash of `seed` and
    /// `attempt`, not a random draw, so that a pure caller stays deterministic; callers
    /// that are many (clients) pass seeds that differ.
    pub fn wait(&self, attempt: u32, seed: u64, retry_after: Option<Duration>) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30) as i32;
        let exponential = self.base.as_secs_f64() * 2f64.powi(doublings);
        let capped = exponential.min(self.max.as_secs_f64());
        let h = (seed ^ (u64::from(attempt) << 32))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29)
            .wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let jitter = 0.8 + 0.4 * ((h >> 11) as f64 / (1u64 << 53) as f64);
        Duration::from_secs_f64(capped * jitter).max(retry_after.unwrap_or_default())
    }
}

/// A seed that differs from one process to the next, for callers that are many.
pub fn process_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| {
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Backoff = Backoff {
        base: Duration::from_millis(250),
        max: Duration::from_secs(8),
    };

    #[test]
    fn doubles_within_its_jitter_up_to_the_cap() {
        for seed in 0..200 {
            for attempt in 1..40 {
                let nominal = (0.25 * 2f64.powi(attempt as i32 - 1)).min(8.0);
                let wait = B.wait(attempt, seed, None).as_secs_f64();
                assert!(
                    wait >= nominal * 0.8 - 1e-9 && wait < nominal * 1.2,
                    "attempt {attempt}: {wait} for {nominal}"
                );
            }
        }
    }

    #[test]
    fn never_shorter_than_retry_after_and_spread_by_seed() {
        let long = Duration::from_secs(60);
        assert_eq!(B.wait(1, 7, Some(long)), long);
        let waits: std::collections::BTreeSet<_> = (0..50).map(|s| B.wait(3, s, None)).collect();
        assert!(waits.len() > 40, "{waits:?}");
    }
}
