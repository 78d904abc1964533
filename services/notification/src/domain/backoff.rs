//! When to try a delivery again, and when to give up.
//!
//! Delays grow exponentially with full jitter: before attempt `n` (the first retry is attempt
//! 2) the delay is drawn uniformly from zero to `min(max_delay, base_delay × 2^(n-2))`, so
//! that many notifications failing together do not retry together. A failure is transient
//! (worth retrying) or permanent (dead-letter at once); after `max_attempts` attempts even a
//! transient failure is dead-lettered. The draw is the kit's [`Backoff`]; what this module
//! adds is the decision: which failures are retried, how many times, and `Retry-After`.

use std::time::Duration;

use redress_kit::backoff::Backoff;

/// The longest delay a policy yields: what fits in a `u64` of nanoseconds (about 584 years).
const LONGEST: Duration = Duration::from_nanos(u64::MAX);

/// How deliveries are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The ceiling of the first retry's delay; it doubles with each attempt after.
    pub base_delay: Duration,
    /// The highest ceiling a delay may have.
    pub max_delay: Duration,
    /// How many attempts are made in all, the first included, before a transient failure is
    /// dead-lettered.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// One second doubling to at most ten minutes, twelve attempts: about half an hour at most
    /// from the first attempt to the dead-letter.
    fn default() -> Self {
        Self { base_delay: Duration::from_secs(1), max_delay: Duration::from_secs(600), max_attempts: 12 }
    }
}

/// Why a retry policy was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidRetryPolicy {
    /// The setting at fault.
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// How a delivery attempt failed, as the channel saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryFailure {
    /// The SMTP server answered with this reply code.
    Smtp {
        /// The reply code, for example 451 or 550.
        code: u16,
    },
    /// The SMS provider or webhook receiver answered with this HTTP status.
    Http {
        /// The status, for example 503 or 404.
        status: u16,
        /// How long the receiver asked us to wait (`Retry-After`), when it did.
        retry_after: Option<Duration>,
    },
    /// No answer in time.
    Timeout,
    /// The connection could not be made or was lost: refused, reset, a name that did not
    /// resolve, a TLS handshake cut short.
    Connection,
    /// The destination cannot be used at all: a malformed address, phone number or URL.
    InvalidDestination,
}

/// Whether a failure is worth retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// It may succeed later: retry.
    Transient,
    /// It will fail the same way again: dead-letter.
    Permanent,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Try again after this delay.
    Retry {
        /// How long to wait before the next attempt.
        delay: Duration,
    },
    /// Give up and keep the notification in the dead-letter with its last error.
    DeadLetter {
        /// Why.
        reason: DeadLetterReason,
    },
}

/// Why a notification was dead-lettered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadLetterReason {
    /// The failure was permanent.
    Permanent,
    /// Every allowed attempt failed.
    AttemptsExhausted,
}

/// Sorts a failure: SMTP 4xx is transient and 5xx permanent; HTTP 5xx, 408, 425 and 429 are
/// transient and other 4xx and 3xx (webhooks do not follow redirects) permanent; timeouts and
/// lost connections are transient; an unusable destination is permanent. Any other code is
/// treated as transient, which `max_attempts` bounds.
pub fn classify(failure: &DeliveryFailure) -> FailureClass {
    match *failure {
        DeliveryFailure::Smtp { code: 500..=599 } => FailureClass::Permanent,
        DeliveryFailure::Smtp { .. } => FailureClass::Transient,
        DeliveryFailure::Http { status: 408 | 425 | 429, .. } => FailureClass::Transient,
        DeliveryFailure::Http { status: 300..=499, .. } => FailureClass::Permanent,
        DeliveryFailure::Http { .. } => FailureClass::Transient,
        DeliveryFailure::Timeout | DeliveryFailure::Connection => FailureClass::Transient,
        DeliveryFailure::InvalidDestination => FailureClass::Permanent,
    }
}

impl RetryPolicy {
    /// Refuses a policy that could never deliver or never wait, naming the setting.
    pub fn validate(&self) -> Result<(), InvalidRetryPolicy> {
        if self.max_attempts == 0 {
            return Err(InvalidRetryPolicy { field: "max_attempts", reason: "must be at least 1" });
        }
        if self.base_delay.is_zero() {
            return Err(InvalidRetryPolicy { field: "base_delay", reason: "must be more than zero" });
        }
        if self.max_delay < self.base_delay {
            return Err(InvalidRetryPolicy { field: "max_delay", reason: "must be at least base_delay" });
        }
        Ok(())
    }

    /// The kit's backoff for this policy: its retry `n` (from 0) is attempt `n + 2`.
    fn backoff(&self) -> Backoff {
        Backoff::new(self.base_delay, self.max_delay)
    }

    /// The most the delay before `attempt` can be: zero for the first attempt, then
    /// `base_delay` doubling with each attempt, never above `max_delay`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        if attempt <= 1 {
            return Duration::ZERO;
        }
        self.backoff().ceiling(attempt - 2).min(LONGEST)
    }

    /// The delay before `attempt` with full jitter: `random` gives a number in [0, 1) (values
    /// outside are clamped, and one that is not a number reads as 0), which scales the
    /// [`ceiling`](Self::ceiling).
    pub fn delay_before(&self, attempt: u32, random: impl FnOnce() -> f64) -> Duration {
        let ceiling = self.ceiling(attempt);
        if ceiling.is_zero() {
            return Duration::ZERO;
        }
        let unit = random();
        let unit = if unit.is_finite() { unit } else { 0.0 };
        self.backoff().jittered(attempt - 2, unit).min(ceiling)
    }

    /// What to do after attempt number `attempts_made` failed with `failure`: dead-letter a
    /// permanent failure or the last allowed attempt, otherwise retry after a jittered delay,
    /// waiting at least as long as a `Retry-After` asked (up to `max_delay`).
    pub fn decide(&self, attempts_made: u32, failure: &DeliveryFailure, random: impl FnOnce() -> f64) -> RetryDecision {
        if classify(failure) == FailureClass::Permanent {
            return RetryDecision::DeadLetter { reason: DeadLetterReason::Permanent };
        }
        if attempts_made >= self.max_attempts {
            return RetryDecision::DeadLetter { reason: DeadLetterReason::AttemptsExhausted };
        }
        let mut delay = self.delay_before(attempts_made.saturating_add(1), random);
        if let DeliveryFailure::Http { retry_after: Some(asked), .. } = failure {
            delay = delay.max((*asked).min(self.max_delay));
        }
        RetryDecision::Retry { delay }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A uniform number in [0, 1) from a xorshift generator.
    fn xorshift(state: &mut u64) -> f64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        (*state >> 11) as f64 / (1u64 << 53) as f64
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn ceilings_double_from_the_base_up_to_the_maximum() {
        let policy = RetryPolicy { base_delay: secs(2), max_delay: secs(60), max_attempts: 10 };
        let ceilings: Vec<u64> = (1..=8).map(|n| policy.ceiling(n).as_secs()).collect();
        assert_eq!(ceilings, vec![0, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(policy.ceiling(0), Duration::ZERO);
        assert_eq!(policy.ceiling(u32::MAX), secs(60), "no overflow however many attempts");
        let huge = RetryPolicy { base_delay: Duration::MAX, max_delay: Duration::MAX, max_attempts: 3 };
        assert_eq!(huge.ceiling(70), Duration::from_nanos(u64::MAX));
    }

    #[test]
    fn full_jitter_spreads_delays_between_zero_and_the_ceiling() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay_before(1, || 0.9), Duration::ZERO, "the first attempt goes at once");
        assert_eq!(policy.delay_before(4, || 0.0), Duration::ZERO);
        assert_eq!(policy.delay_before(4, || 0.5), secs(2));
        assert_eq!(policy.delay_before(4, || 0.999_999), secs(4).mul_f64(0.999_999));
        assert_eq!(policy.delay_before(4, || 7.0), secs(4), "out-of-range randomness is clamped");
        assert_eq!(policy.delay_before(4, || -1.0), Duration::ZERO);
        assert_eq!(policy.delay_before(4, || f64::NAN), Duration::ZERO);

        // A simple deterministic generator: every delay stays within its ceiling and they differ.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let delays: Vec<Duration> = (0..200).map(|_| policy.delay_before(9, || xorshift(&mut state))).collect();
        assert!(delays.iter().all(|d| *d <= policy.ceiling(9)));
        let distinct: std::collections::BTreeSet<_> = delays.iter().collect();
        assert!(distinct.len() > 150, "jitter spreads retries: {} distinct of 200", distinct.len());
    }

    #[test]
    fn failures_are_sorted_into_transient_and_permanent() {
        use DeliveryFailure::*;
        use FailureClass::*;
        let cases = [
            (Smtp { code: 421 }, Transient),
            (Smtp { code: 450 }, Transient),
            (Smtp { code: 452 }, Transient),
            (Smtp { code: 550 }, Permanent),
            (Smtp { code: 553 }, Permanent),
            (Smtp { code: 354 }, Transient),
            (Http { status: 500, retry_after: None }, Transient),
            (Http { status: 503, retry_after: Some(secs(30)) }, Transient),
            (Http { status: 429, retry_after: None }, Transient),
            (Http { status: 408, retry_after: None }, Transient),
            (Http { status: 400, retry_after: None }, Permanent),
            (Http { status: 401, retry_after: None }, Permanent),
            (Http { status: 404, retry_after: None }, Permanent),
            (Http { status: 410, retry_after: None }, Permanent),
            (Http { status: 301, retry_after: None }, Permanent),
            (Timeout, Transient),
            (Connection, Transient),
            (InvalidDestination, Permanent),
        ];
        for (failure, class) in cases {
            assert_eq!(classify(&failure), class, "{failure:?}");
        }
    }

    #[test]
    fn decisions_retry_transient_failures_until_the_attempts_run_out() {
        let policy = RetryPolicy { base_delay: secs(1), max_delay: secs(60), max_attempts: 4 };
        let busy = DeliveryFailure::Smtp { code: 451 };
        assert_eq!(policy.decide(1, &busy, || 0.5), RetryDecision::Retry { delay: Duration::from_millis(500) });
        assert_eq!(policy.decide(3, &busy, || 0.5), RetryDecision::Retry { delay: secs(2) });
        assert_eq!(
            policy.decide(4, &busy, || 0.5),
            RetryDecision::DeadLetter { reason: DeadLetterReason::AttemptsExhausted }
        );
        assert_eq!(
            policy.decide(1, &DeliveryFailure::Smtp { code: 550 }, || 0.5),
            RetryDecision::DeadLetter { reason: DeadLetterReason::Permanent }
        );

        let slow_down = DeliveryFailure::Http { status: 429, retry_after: Some(secs(30)) };
        assert_eq!(policy.decide(1, &slow_down, || 0.5), RetryDecision::Retry { delay: secs(30) });
        let too_long = DeliveryFailure::Http { status: 503, retry_after: Some(secs(3600)) };
        assert_eq!(policy.decide(1, &too_long, || 0.5), RetryDecision::Retry { delay: secs(60) });
    }

    #[test]
    fn nonsense_policies_are_refused_with_the_setting() {
        assert_eq!(RetryPolicy::default().validate(), Ok(()));
        let zero_attempts = RetryPolicy { max_attempts: 0, ..RetryPolicy::default() };
        assert_eq!(zero_attempts.validate().map_err(|e| e.field), Err("max_attempts"));
        let zero_base = RetryPolicy { base_delay: Duration::ZERO, ..RetryPolicy::default() };
        assert_eq!(zero_base.validate().map_err(|e| e.field), Err("base_delay"));
        let inverted = RetryPolicy { base_delay: secs(10), max_delay: secs(5), max_attempts: 3 };
        assert_eq!(
            inverted.validate().map_err(|e| e.to_string()),
            Err("max_delay: must be at least base_delay".into())
        );
    }
}
