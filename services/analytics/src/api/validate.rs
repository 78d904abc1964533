//! Request checks: the parent, time ranges, time zones and enumerations. Each problem is a
//! field violation naming the field.

use chrono_tz::Tz;
use redress_kit::caller::Caller;
use redress_kit::error::Violations;
use redress_kit::{ApiError, names};
use redress_proto::common::v1::TimeRange;

use crate::domain::buckets::zone;
use crate::domain::{Micros, timestamp_us};
use crate::store::Range;

/// The earliest and latest instants accepted (years 1 to 9999, as protobuf timestamps allow).
const MIN_SECONDS: i64 = -62_135_596_800;
const MAX_SECONDS: i64 = 253_402_300_799;

/// Checks `parent` is the caller's tenant.
pub fn parent(caller: &Caller, value: &str) -> Result<(), ApiError> {
    names::check_parent("parent", value, &caller.tenant)
}

/// A timestamp's microseconds, or a violation.
pub fn timestamp(v: &mut Violations, field: &str, t: &prost_types::Timestamp) -> Option<Micros> {
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&t.seconds) || !(0..1_000_000_000).contains(&t.nanos) {
        v.add(field, "not a valid timestamp");
        return None;
    }
    Some(timestamp_us(t))
}

/// A time range: an unset start is the beginning of the record (an error when `start_required`),
/// an unset end is `now`; the start must come before the end.
pub fn range(v: &mut Violations, field: &str, value: Option<&TimeRange>, start_required: bool, now: Micros) -> Range {
    let mut out = Range { from: i64::MIN, to: now.saturating_add(1) };
    let Some(value) = value else {
        v.check(start_required, format!("{field}.start_time"), "required");
        return out;
    };
    match &value.start_time {
        Some(t) => out.from = timestamp(v, &format!("{field}.start_time"), t).unwrap_or(out.from),
        None => v.check(start_required, format!("{field}.start_time"), "required"),
    }
    if let Some(t) = &value.end_time {
        out.to = timestamp(v, &format!("{field}.end_time"), t).unwrap_or(out.to);
    }
    if out.from >= out.to {
        v.add(format!("{field}.end_time"), "must be after start_time");
    }
    out
}

/// An IANA time zone; empty is UTC.
pub fn time_zone(v: &mut Violations, field: &str, value: &str) -> Tz {
    match zone(value) {
        Some(tz) => tz,
        None => {
            v.add(field, format!("{value:?} is not an IANA time zone such as Europe/London"));
            Tz::UTC
        }
    }
}

/// A string filter of at most 300 characters.
pub fn filter(v: &mut Violations, field: &str, value: &str) {
    if value.chars().count() > 300 || redress_kit::validate::has_control_chars(value) {
        v.add(field, "at most 300 characters without control characters");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(seconds: i64) -> prost_types::Timestamp {
        prost_types::Timestamp { seconds, nanos: 0 }
    }

    #[test]
    fn ranges() {
        let now = 1_000_000_000;
        let mut v = Violations::new();
        let all = range(&mut v, "time_range", None, false, now);
        assert_eq!((all.from, all.to), (i64::MIN, now + 1));
        assert!(v.is_empty());
        let r = TimeRange { start_time: Some(ts(10)), end_time: Some(ts(20)) };
        assert_eq!(range(&mut v, "time_range", Some(&r), true, now), Range { from: 10_000_000, to: 20_000_000 });
        assert!(v.is_empty());
        range(&mut v, "time_range", None, true, now);
        let backwards = TimeRange { start_time: Some(ts(20)), end_time: Some(ts(10)) };
        range(&mut v, "time_range", Some(&backwards), false, now);
        let bad = TimeRange { start_time: Some(prost_types::Timestamp { seconds: 1, nanos: -1 }), end_time: None };
        range(&mut v, "time_range", Some(&bad), false, now);
        let status = tonic::Status::from(v.finish().unwrap_err());
        assert!(status.message().contains("time_range.start_time: required"), "{}", status.message());
        assert!(status.message().contains("time_range.end_time: must be after start_time"));
        assert!(status.message().contains("time_range.start_time: not a valid timestamp"));
    }

    #[test]
    fn zones() {
        let mut v = Violations::new();
        assert_eq!(time_zone(&mut v, "time_zone", "Europe/Paris").name(), "Europe/Paris");
        time_zone(&mut v, "time_zone", "Nowhere/Special");
        assert!(tonic::Status::from(v.finish().unwrap_err()).message().contains("time_zone"));
    }
}
