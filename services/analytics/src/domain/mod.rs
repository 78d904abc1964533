//! Pure rules of the analytics service: how a case event becomes reporting rows, how time is
//! bucketed in a time zone, and the statistic that finds recurring issues. No I/O.

pub mod buckets;
pub mod fold;
pub mod query;
pub mod recurring;
pub mod stats;

use chrono::{DateTime, Utc};

/// Microseconds since the Unix epoch, the unit every stored time and duration uses.
pub type Micros = i64;

/// A microsecond in a week.
pub const WEEK_US: Micros = 7 * 24 * 3600 * 1_000_000;

/// The microseconds of a protobuf timestamp.
pub fn timestamp_us(t: &prost_types::Timestamp) -> Micros {
    t.seconds.saturating_mul(1_000_000).saturating_add(i64::from(t.nanos) / 1_000)
}

/// The microseconds of a protobuf duration.
pub fn duration_us(d: &prost_types::Duration) -> Micros {
    d.seconds.saturating_mul(1_000_000).saturating_add(i64::from(d.nanos) / 1_000)
}

/// A protobuf timestamp from microseconds.
pub fn to_timestamp(us: Micros) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: us.div_euclid(1_000_000), nanos: (us.rem_euclid(1_000_000) * 1_000) as i32 }
}

/// A protobuf duration from microseconds (non-negative durations only make sense here).
pub fn to_duration(us: Micros) -> prost_types::Duration {
    prost_types::Duration { seconds: us / 1_000_000, nanos: ((us % 1_000_000) * 1_000) as i32 }
}

/// A chrono time from microseconds, clamped to what chrono represents.
pub fn from_us(us: Micros) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_trip() {
        for us in [0, 1, 999_999, 1_700_000_000_123_456, -1, -1_500_000] {
            assert_eq!(timestamp_us(&to_timestamp(us)), us, "{us}");
        }
        assert_eq!(duration_us(&to_duration(90_500_000)), 90_500_000);
        let t = to_timestamp(-1_500_000);
        assert_eq!((t.seconds, t.nanos), (-2, 500_000_000));
    }
}
