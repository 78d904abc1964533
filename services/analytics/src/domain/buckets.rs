//! Calendar buckets in a time zone: the start of the day, ISO week (Monday) or month that an
//! instant falls in, as seen on the wall clock of an IANA zone.
//!
//! When local midnight does not exist (a daylight-saving jump at midnight) the bucket starts at
//! the first instant of that local day; when it occurs twice, at the earlier.

use jiff::civil::{Date, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp, ToSpan};

use super::Micros;

/// Every current UTC offset is a multiple of 15 minutes, so instants grouped by quarter hour
/// fall in the same local bucket; SQLite reports pre-aggregate by this slot.
pub const SLOT_US: Micros = 15 * 60 * 1_000_000;

/// The length of a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A calendar day.
    Day,
    /// An ISO week, from Monday.
    Week,
    /// A calendar month.
    Month,
}

impl Unit {
    /// The PostgreSQL `date_trunc` field of this unit.
    pub fn postgres_field(self) -> &'static str {
        match self {
            Unit::Day => "day",
            Unit::Week => "week",
            Unit::Month => "month",
        }
    }
}

/// Parses an IANA zone name (from the same database as the SLA clocks'); empty means UTC.
pub fn zone(name: &str) -> Option<TimeZone> {
    if name.is_empty() {
        return Some(TimeZone::UTC);
    }
    TimeZone::get(name).ok()
}

/// The zone's IANA name, as PostgreSQL knows it.
pub fn zone_name(tz: &TimeZone) -> &str {
    tz.iana_name().unwrap_or("UTC")
}

/// The first local day of the bucket containing `date`.
fn first_day(date: Date, unit: Unit) -> Date {
    match unit {
        Unit::Day => date,
        Unit::Week => date.saturating_sub(i64::from(date.weekday().to_monday_zero_offset()).days()),
        Unit::Month => date.first_of_month(),
    }
}

/// The instant a local day starts in `tz`.
pub fn day_start(date: Date, tz: &TimeZone) -> Micros {
    let midnight = date.to_datetime(Time::midnight());
    // Midnight, or the first quarter hour of the day that exists.
    for step in 0..(24 * 4) {
        let local = midnight.saturating_add(SignedDuration::from_mins(15 * step));
        let ambiguous = tz.to_ambiguous_timestamp(local);
        if !matches!(ambiguous.offset(), AmbiguousOffset::Gap { .. })
            && let Ok(t) = ambiguous.earlier()
        {
            return t.as_microsecond();
        }
    }
    TimeZone::UTC.to_timestamp(midnight).map_or(0, Timestamp::as_microsecond)
}

/// The start of the bucket of `unit` in `tz` that contains `us`.
pub fn bucket_start(us: Micros, unit: Unit, tz: &TimeZone) -> Micros {
    let at = Timestamp::from_microsecond(us).unwrap_or(if us < 0 { Timestamp::MIN } else { Timestamp::MAX });
    day_start(first_day(tz.to_datetime(at).date(), unit), tz)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(rfc3339: &str) -> Micros {
        rfc3339.parse::<Timestamp>().unwrap().as_microsecond()
    }

    #[test]
    fn days_weeks_and_months_in_a_zone() {
        let ny = zone("America/New_York").unwrap();
        // 2024-03-13 02:30 UTC is still the 12th in New York (UTC−4 after the 10 March jump).
        let t = us("2024-03-13T02:30:00Z");
        assert_eq!(bucket_start(t, Unit::Day, &ny), us("2024-03-12T04:00:00Z"));
        assert_eq!(bucket_start(t, Unit::Day, &TimeZone::UTC), us("2024-03-13T00:00:00Z"));
        // The ISO week starts on Monday 11 March, after the jump.
        assert_eq!(bucket_start(t, Unit::Week, &ny), us("2024-03-11T04:00:00Z"));
        // The month started before the jump, at UTC−5.
        assert_eq!(bucket_start(t, Unit::Month, &ny), us("2024-03-01T05:00:00Z"));
        let kolkata = zone("Asia/Kolkata").unwrap();
        assert_eq!(bucket_start(us("2024-01-01T20:00:00Z"), Unit::Day, &kolkata), us("2024-01-01T18:30:00Z"));
    }

    #[test]
    fn a_missing_midnight_starts_the_day_at_its_first_instant() {
        // Santiago jumped from 00:00 to 01:00 on 2022-09-11.
        let santiago = zone("America/Santiago").unwrap();
        assert_eq!(bucket_start(us("2022-09-11T12:00:00Z"), Unit::Day, &santiago), us("2022-09-11T04:00:00Z"));
    }

    #[test]
    fn quarter_hour_slots_fall_in_one_bucket() {
        let kathmandu = zone("Asia/Kathmandu").unwrap(); // UTC+5:45
        let t = us("2024-05-05T18:14:59Z"); // 23:59:59 local
        let slot = t.div_euclid(SLOT_US) * SLOT_US;
        assert_eq!(bucket_start(slot, Unit::Day, &kathmandu), bucket_start(t, Unit::Day, &kathmandu));
        assert!(zone("Mars/Olympus").is_none());
        assert_eq!(zone(""), Some(TimeZone::UTC));
    }
}
