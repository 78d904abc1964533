//! Time as every service keeps it: the current instant to the microsecond both databases store,
//! conversion to and from the contract's `Timestamp`, and durations written for people.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The current time, cut to the microsecond both PostgreSQL and SQLite keep, so that a value
/// read back equals the value written.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// A time as the contract's `Timestamp`.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: at.timestamp(), nanos: at.timestamp_subsec_nanos() as i32 }
}

/// The contract's `Timestamp` as a time, or `None` when it is not one (nanos out of range, or
/// seconds outside what chrono represents).
pub fn from_timestamp(at: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).ok()?)
}

/// A period in the largest unit that states it exactly: "30 days", "36 hours", "90 seconds".
/// For periods people configure (retention, cooling-off), where the unit carries the meaning.
pub fn period_text(period: Duration) -> String {
    let secs = period.as_secs();
    if secs > 0 && secs.is_multiple_of(86_400) {
        format!("{} days", secs / 86_400)
    } else if secs > 0 && secs.is_multiple_of(3600) {
        format!("{} hours", secs / 3600)
    } else {
        format!("{secs} seconds")
    }
}

/// A span of seconds as a clock reads it: "1h 05m" from an hour, "12m" from a minute, "40s"
/// under one; negative spans read as "0s". For business time used or left on an SLA clock.
pub fn clock_text(seconds: i64) -> String {
    let m = seconds / 60;
    if m >= 60 {
        format!("{}h {:02}m", m / 60, m % 60)
    } else if m >= 1 {
        format!("{m}m")
    } else {
        format!("{}s", seconds.max(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_round_trips_through_a_timestamp_at_microsecond_precision() {
        let at = now();
        assert_eq!(at.timestamp_subsec_nanos() % 1000, 0);
        assert_eq!(from_timestamp(&timestamp(at)), Some(at));
        assert_eq!(from_timestamp(&prost_types::Timestamp { seconds: 0, nanos: -1 }), None);
        assert_eq!(from_timestamp(&prost_types::Timestamp { seconds: i64::MAX, nanos: 0 }), None);
    }

    #[test]
    fn periods_read_in_the_largest_exact_unit() {
        assert_eq!(period_text(Duration::from_secs(30 * 86_400)), "30 days");
        assert_eq!(period_text(Duration::from_secs(36 * 3600)), "36 hours");
        assert_eq!(period_text(Duration::from_secs(90)), "90 seconds");
        assert_eq!(period_text(Duration::ZERO), "0 seconds");
    }

    #[test]
    fn clocks_read_in_the_largest_useful_unit() {
        assert_eq!(clock_text(3), "3s");
        assert_eq!(clock_text(-5), "0s");
        assert_eq!(clock_text(125), "2m");
        assert_eq!(clock_text(3_900), "1h 05m");
        assert_eq!(clock_text(0), "0s");
        assert_eq!(clock_text(26 * 3600), "26h 00m");
    }
}
