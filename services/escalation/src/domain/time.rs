//! Instants and spans as the contract carries them. The clocks count in `jiff` instants; the
//! contract's `Timestamp` and `Duration` keep nanoseconds, so nothing is lost either way.

use std::time::Duration;

use jiff::Timestamp;

/// A proto time as an instant; `None` when it is not one.
pub fn from_proto_time(at: &prost_types::Timestamp) -> Option<Timestamp> {
    Timestamp::new(at.seconds, at.nanos).ok()
}

/// An instant as a proto time.
pub fn proto_time(at: Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: at.as_second(), nanos: at.subsec_nanosecond() }
}

/// A span as a proto duration.
pub fn proto_duration(d: Duration) -> prost_types::Duration {
    prost_types::Duration { seconds: d.as_secs() as i64, nanos: d.subsec_nanos() as i32 }
}
