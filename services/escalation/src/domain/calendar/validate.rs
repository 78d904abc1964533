//! Building a [`Calendar`] from the contract's message, checking every field.

use std::collections::BTreeSet;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use redress_proto::escalation::v1 as pb;

use super::{Calendar, Interval, MINUTES_PER_DAY};
use crate::domain::Invalid;

impl Calendar {
    /// Checks a calendar message and builds the calendar it describes.
    ///
    /// `field` is the message's path in the request (`calendar`); violations name fields
    /// below it, for example `calendar.weekly_hours[0].intervals[1]`. Every violation is
    /// reported, not only the first. Output-only fields and display names are not read.
    pub fn from_proto(field: &str, message: &pb::Calendar) -> Result<Self, Invalid> {
        let mut invalid = Invalid::new();
        let zone = time_zone(&mut invalid, &format!("{field}.time_zone"), &message.time_zone);
        let weekly = weekly_hours(&mut invalid, field, &message.weekly_hours);
        let holidays = holidays(&mut invalid, field, &message.holidays);
        match zone {
            Some((zone, name)) if invalid.is_empty() => Ok(Calendar::assemble(zone, name, weekly, holidays)),
            _ => Err(invalid),
        }
    }
}

/// The zone and its IANA name.
fn time_zone(invalid: &mut Invalid, field: &str, value: &str) -> Option<(TimeZone, String)> {
    if value.is_empty() {
        invalid.add(field, "required: an IANA time zone such as \"Europe/London\"");
        return None;
    }
    let zone = TimeZone::get(value).ok();
    let name = zone.as_ref().and_then(TimeZone::iana_name).map(str::to_string);
    match (zone, name) {
        (Some(zone), Some(name)) => Some((zone, name)),
        _ => {
            invalid.add(field, format!("unknown time zone {value:?}"));
            None
        }
    }
}

/// The opening intervals by day, Monday first.
fn weekly_hours(invalid: &mut Invalid, field: &str, days: &[pb::DayHours]) -> [Vec<Interval>; 7] {
    let mut weekly: [Vec<Interval>; 7] = Default::default();
    // Where each day was first listed.
    let mut listed: [Option<usize>; 7] = [None; 7];
    for (i, day) in days.iter().enumerate() {
        let field = format!("{field}.weekly_hours[{i}]");
        let intervals = intervals(invalid, &field, &day.intervals);
        let Some(index) = day_index(invalid, &format!("{field}.day"), day.day) else {
            continue;
        };
        match listed[index] {
            Some(first) => invalid.add(
                format!("{field}.day"),
                format!("repeats the day of weekly_hours[{first}]; list each day once with all its intervals"),
            ),
            None => {
                listed[index] = Some(i);
                weekly[index] = intervals;
            }
        }
    }
    weekly
}

/// Index into the weekly hours, Monday first, of a `DayOfWeek` value.
fn day_index(invalid: &mut Invalid, field: &str, value: i32) -> Option<usize> {
    use pb::DayOfWeek::*;
    let index = match pb::DayOfWeek::try_from(value) {
        Ok(Monday) => 0,
        Ok(Tuesday) => 1,
        Ok(Wednesday) => 2,
        Ok(Thursday) => 3,
        Ok(Friday) => 4,
        Ok(Saturday) => 5,
        Ok(Sunday) => 6,
        Ok(Unspecified) => {
            invalid.add(field, "required");
            return None;
        }
        Err(_) => {
            invalid.add(field, format!("unknown day {value}"));
            return None;
        }
    };
    Some(index)
}

/// One day's intervals, which must be in order and must not overlap.
fn intervals(invalid: &mut Invalid, field: &str, list: &[pb::OpeningInterval]) -> Vec<Interval> {
    let mut intervals: Vec<Interval> = Vec::with_capacity(list.len());
    for (i, interval) in list.iter().enumerate() {
        let field = format!("{field}.intervals[{i}]");
        let opens = clock_time(invalid, &format!("{field}.opens"), &interval.opens);
        let closes = clock_time(invalid, &format!("{field}.closes"), &interval.closes);
        let (Some(opens), Some(closes)) = (opens, closes) else {
            continue;
        };
        if opens == MINUTES_PER_DAY {
            invalid.add(format!("{field}.opens"), "24:00 is only a closing time; open at 00:00 instead");
            continue;
        }
        if closes < opens {
            invalid.add(&field, "closes before it opens");
            continue;
        }
        if closes == opens {
            invalid.add(&field, "closes when it opens; an interval must be open for at least a minute");
            continue;
        }
        if let Some(previous) = intervals.last() {
            if closes <= previous.opens {
                invalid.add(&field, "comes before the interval before it; list intervals from earliest to latest");
                continue;
            }
            if opens < previous.closes {
                invalid.add(&field, "overlaps the interval before it");
                continue;
            }
        }
        intervals.push(Interval { opens, closes });
    }
    intervals
}

/// Minutes after midnight of a `HH:MM` time, 00:00 to 24:00.
fn clock_time(invalid: &mut Invalid, field: &str, value: &str) -> Option<u16> {
    let minutes = parse_clock_time(value);
    if minutes.is_none() {
        invalid.add(field, format!("not HH:MM (00:00 to 24:00): {value:?}"));
    }
    minutes
}

fn parse_clock_time(value: &str) -> Option<u16> {
    let (hours, minutes) = value.split_once(':')?;
    let hours = two_digits(hours)?;
    let minutes = two_digits(minutes)?;
    match (hours, minutes) {
        (24, 0) => Some(MINUTES_PER_DAY),
        (0..=23, 0..=59) => Some(hours * 60 + minutes),
        _ => None,
    }
}

fn two_digits(text: &str) -> Option<u16> {
    match text.as_bytes() {
        [tens @ b'0'..=b'9', ones @ b'0'..=b'9'] => Some(u16::from(tens - b'0') * 10 + u16::from(ones - b'0')),
        _ => None,
    }
}

/// The holiday dates; a date listed twice counts once.
fn holidays(invalid: &mut Invalid, field: &str, list: &[pb::Holiday]) -> BTreeSet<Date> {
    let mut dates = BTreeSet::new();
    for (i, holiday) in list.iter().enumerate() {
        let field = format!("{field}.holidays[{i}].date");
        match parse_date(&holiday.date) {
            Ok(date) => {
                dates.insert(date);
            }
            Err(description) => invalid.add(field, description),
        }
    }
    dates
}

fn parse_date(value: &str) -> Result<Date, String> {
    let not_a_date = || format!("not YYYY-MM-DD: {value:?}");
    let parts: Vec<&str> = value.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return Err(not_a_date());
    };
    if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_a_date());
    }
    let year: i16 = year.parse().map_err(|_| not_a_date())?;
    let month = two_digits(month).ok_or_else(not_a_date)?;
    let day = two_digits(day).ok_or_else(not_a_date)?;
    let (Ok(month), Ok(day)) = (i8::try_from(month), i8::try_from(day)) else {
        return Err(not_a_date());
    };
    Date::new(year, month, day).map_err(|_| format!("no such date: {value:?}"))
}
