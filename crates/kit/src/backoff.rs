//! The one backoff every retry loop uses: exponential growth from a base, capped, with full
//! jitter (a uniform draw from zero to the ceiling), so that many callers that failed together
//! do not retry together.

use std::time::Duration;

use rand::Rng as _;

/// Exponential backoff with full jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling of the first delay.
    pub base: Duration,
    /// The largest ceiling, however many attempts.
    pub max: Duration,
}

impl Backoff {
    /// Backoff from `base`, doubling per attempt, capped at `max`.
    pub const fn new(base: Duration, max: Duration) -> Self {
        Self { base, max }
    }

    /// The ceiling before retry `attempt` (from 0): min(max, base × 2^attempt).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        self.base.saturating_mul(1u32 << attempt.min(20)).min(self.max)
    }

    /// The delay before retry `attempt` (from 0): uniform in [0, ceiling].
    pub fn delay(&self, attempt: u32) -> Duration {
        self.jittered(attempt, rand::rng().random::<f64>())
    }

    /// The delay for a draw `random` in [0, 1): `random` × ceiling. Values outside are clamped,
    /// and a draw that is not a number counts as 0.
    pub fn jittered(&self, attempt: u32, random: f64) -> Duration {
        let random = if random.is_nan() { 0.0 } else { random.clamp(0.0, 1.0) };
        self.ceiling(attempt).mul_f64(random)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_double_and_stop_at_the_cap() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        assert_eq!(b.ceiling(0), Duration::from_millis(100));
        assert_eq!(b.ceiling(2), Duration::from_millis(400));
        assert_eq!(b.ceiling(10), Duration::from_secs(1));
        assert_eq!(b.ceiling(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn delays_spread_between_zero_and_the_ceiling() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
        let delays: std::collections::BTreeSet<_> = (0..200).map(|_| b.delay(3)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(800)));
        assert!(delays.len() > 150, "jitter spreads delays: {} distinct of 200", delays.len());
        assert_eq!(b.jittered(3, 0.5), Duration::from_millis(400));
        assert_eq!(b.jittered(3, 7.0), Duration::from_millis(800));
        assert_eq!(b.jittered(3, f64::NAN), Duration::ZERO);
    }
}
