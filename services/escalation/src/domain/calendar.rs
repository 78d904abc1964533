//! Business-hours calendars and business-time arithmetic.
//!
//! A calendar is an IANA time zone, opening intervals for each day of the week (several a day,
//! to the minute) and holidays (local dates closed all day). Opening hours are local
//! wall-clock times: a local day of 23 or 25 hours keeps its hours as its clocks show them.
//! SLA clocks run only while the calendar is open; [`Calendar::add_business`] finds a deadline
//! and [`Calendar::business_between`] measures the business time used.
//!
//! # Daylight-saving changes
//!
//! Each boundary of an interval, an opening or closing time on a local date, is the **first
//! instant at which the local wall clock reads that time or later**:
//!
//! - a time that occurs once is that instant;
//! - a time skipped when the clocks go forward is the transition itself, where the wall clock
//!   jumps past it: an interval opening in the skipped hour opens at the transition, and an
//!   interval wholly inside the skipped hour is empty that day;
//! - a time repeated when the clocks go back is its first occurrence. The repeated stretch
//!   after it belongs to whichever interval holds the minute before the clocks went back: on
//!   the night London goes from 02:00 BST back to 01:00 GMT, 01:00–01:30 is open for half an
//!   hour, 01:30–02:00 for an hour and a half and 00:00–02:00 for three hours.
//!
//! Put another way, the calendar is open at an instant when the latest wall-clock time shown
//! up to that instant lies inside the opening hours of a day that is not a holiday. The rule
//! keeps boundaries in order, so intervals never overlap and a day's `24:00` meets the next
//! day's `00:00`.
//!
//! # Cost
//!
//! The arithmetic walks the calendar interval by interval, a local day at a time: its cost
//! grows with the number of days spanned, never with the number of minutes. A 24×7 calendar
//! takes constant time.

mod validate;

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};

/// Minutes in a local day as opening hours count them; `24:00` is minute 1440.
const MINUTES_PER_DAY: u16 = 24 * 60;

/// Opening hours within one local day: open from `opens` until just before `closes`, in
/// minutes after local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Interval {
    /// Minute of the day it opens, 0 to 1439.
    opens: u16,
    /// Minute of the day it closes, after `opens`, up to 1440.
    closes: u16,
}

/// A business-hours calendar: when SLA clocks run.
///
/// Built from the contract's calendar with [`Calendar::from_proto`], which checks every field,
/// or as [`Calendar::always_open`] for 24×7. See the [module documentation](self) for how
/// opening hours meet daylight-saving changes.
#[derive(Debug, Clone)]
pub struct Calendar {
    /// The time zone the hours and holidays are in.
    zone: TimeZone,
    /// The zone's IANA name.
    zone_name: String,
    /// Opening intervals by day, Monday first; in order, not overlapping.
    weekly: [Vec<Interval>; 7],
    /// Local dates closed all day.
    holidays: BTreeSet<Date>,
    /// Whether every day is open from 00:00 to 24:00 with no holidays.
    always_open: bool,
}

impl Calendar {
    /// A calendar that is always open (24×7), in UTC.
    pub fn always_open() -> Self {
        let whole_day = vec![Interval { opens: 0, closes: MINUTES_PER_DAY }];
        Self::assemble(TimeZone::UTC, "UTC".to_string(), std::array::from_fn(|_| whole_day.clone()), BTreeSet::new())
    }

    /// A calendar from checked parts; works out whether it is 24×7.
    fn assemble(zone: TimeZone, zone_name: String, weekly: [Vec<Interval>; 7], holidays: BTreeSet<Date>) -> Self {
        let covers_day = |intervals: &Vec<Interval>| {
            let mut reached = 0;
            for interval in intervals {
                if interval.opens != reached {
                    return false;
                }
                reached = interval.closes;
            }
            reached == MINUTES_PER_DAY
        };
        let always_open = holidays.is_empty() && weekly.iter().all(covers_day);
        Self { zone, zone_name, weekly, holidays, always_open }
    }

    /// The IANA name of the calendar's time zone, for example `Europe/London`.
    pub fn time_zone(&self) -> &str {
        &self.zone_name
    }

    /// Whether the calendar is open at every instant (24×7 with no holidays), whatever its
    /// time zone.
    pub fn is_always_open(&self) -> bool {
        self.always_open
    }

    /// Whether the calendar is open at `at`. An interval includes its opening instant and
    /// excludes its closing instant.
    pub fn is_open(&self, at: Timestamp) -> bool {
        if self.always_open {
            return true;
        }
        // Only the local date of `at` and the day after can hold it: the latest wall-clock
        // time shown up to `at` is never earlier than the one shown at `at`, and never a whole
        // day later.
        let date = self.local_date(at);
        let last = date.tomorrow().unwrap_or(date);
        self.spans(date, last).take_while(|&(opens, _)| opens <= at).any(|(_, closes)| at < closes)
    }

    /// The first instant at or after `at` when the calendar is open: `at` itself while open,
    /// otherwise the next opening. `None` when it never opens again.
    pub fn next_open(&self, at: Timestamp) -> Option<Timestamp> {
        if self.always_open {
            return Some(at);
        }
        if !self.has_hours() {
            return None;
        }
        self.spans(self.local_date(at), Date::MAX).find(|&(_, closes)| closes > at).map(|(opens, _)| opens.max(at))
    }

    /// The instant at which `business` of open time has elapsed after `start`: the earliest
    /// instant `t` at or after `start` with `business_between(start, t) >= business`. When
    /// `start` is outside the hours, counting begins at the next opening; a deadline that
    /// runs out exactly at a closing time is that closing time. Zero is `start` itself.
    ///
    /// `None` when the calendar never accumulates that much open time or the instant lies
    /// beyond the year 9999.
    pub fn add_business(&self, start: Timestamp, business: Duration) -> Option<Timestamp> {
        if business.is_zero() {
            return Some(start);
        }
        let mut remaining = SignedDuration::try_from(business).ok()?;
        if self.always_open {
            return start.checked_add(remaining).ok();
        }
        if !self.has_hours() {
            return None;
        }
        for (opens, closes) in self.spans(self.local_date(start), Date::MAX) {
            if closes <= start {
                continue;
            }
            let from = opens.max(start);
            let available = closes.duration_since(from);
            if remaining <= available {
                return from.checked_add(remaining).ok();
            }
            remaining = remaining.saturating_sub(available);
        }
        None
    }

    /// The open time that elapses from `from` until `to`; zero when `to` is not after
    /// `from`.
    pub fn business_between(&self, from: Timestamp, to: Timestamp) -> Duration {
        if to <= from {
            return Duration::ZERO;
        }
        if self.always_open {
            return to.duration_since(from).unsigned_abs();
        }
        // Intervals of later dates than the day after `to`'s local date open after `to`.
        let last = self.local_date(to);
        let last = last.tomorrow().unwrap_or(last);
        let mut total = SignedDuration::ZERO;
        for (opens, closes) in self.spans(self.local_date(from), last) {
            if opens >= to {
                break;
            }
            let (opens, closes) = (opens.max(from), closes.min(to));
            if opens < closes {
                total = total.saturating_add(closes.duration_since(opens));
            }
        }
        total.unsigned_abs()
    }

    /// Whether any day of the week has opening hours.
    fn has_hours(&self) -> bool {
        self.weekly.iter().any(|intervals| !intervals.is_empty())
    }

    /// The local date at `at` in the calendar's zone.
    fn local_date(&self, at: Timestamp) -> Date {
        self.zone.to_datetime(at).date()
    }

    /// The opening intervals of `date`: none on a holiday.
    fn intervals_on(&self, date: Date) -> &[Interval] {
        if self.holidays.contains(&date) {
            return &[];
        }
        &self.weekly[weekday_index(date.weekday())]
    }

    /// The open spans of the local dates `first` to `last` as instants, in order and not
    /// overlapping; spans emptied by a daylight-saving change are left out.
    fn spans(&self, first: Date, last: Date) -> Spans<'_> {
        Spans { calendar: self, date: Some(first), last, next: 0 }
    }

    /// The instant of `minute` (0 to 1440) on the local `date`: the first instant at which
    /// the wall clock reads that time or later (see the module documentation).
    fn boundary(&self, date: Date, minute: u16) -> Timestamp {
        let beyond = if date.year() < 0 { Timestamp::MIN } else { Timestamp::MAX };
        let Ok(local) = date.to_datetime(Time::midnight()).checked_add(SignedDuration::from_mins(i64::from(minute)))
        else {
            return beyond;
        };
        let instant = match self.zone.to_ambiguous_timestamp(local).offset() {
            AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(local),
            // The first occurrence, under the offset before the clocks went back.
            AmbiguousOffset::Fold { before, .. } => before.to_timestamp(local),
            // Skipped: the transition. Under the later offset the time reads as an instant
            // before the transition, and no other transition lies between them.
            AmbiguousOffset::Gap { before, after } => {
                after.to_timestamp(local).and_then(|probe| match self.zone.following(probe).next() {
                    Some(transition) => Ok(transition.timestamp()),
                    None => before.to_timestamp(local),
                })
            }
        };
        instant.unwrap_or(beyond)
    }
}

/// Index into the weekly hours, Monday first.
fn weekday_index(day: Weekday) -> usize {
    usize::from(day.to_monday_zero_offset().unsigned_abs())
}

/// The open spans of a run of local dates, as `(opens, closes)` instants.
struct Spans<'a> {
    calendar: &'a Calendar,
    /// The date being walked; `None` past the end of time.
    date: Option<Date>,
    /// The last date to walk.
    last: Date,
    /// The next interval of `date` to yield.
    next: usize,
}

impl Iterator for Spans<'_> {
    type Item = (Timestamp, Timestamp);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let date = self.date.filter(|date| *date <= self.last)?;
            match self.calendar.intervals_on(date).get(self.next) {
                Some(interval) => {
                    self.next += 1;
                    let opens = self.calendar.boundary(date, interval.opens);
                    let closes = self.calendar.boundary(date, interval.closes);
                    if opens < closes {
                        return Some((opens, closes));
                    }
                }
                None => {
                    self.next = 0;
                    self.date = date.tomorrow().ok();
                }
            }
        }
    }
}
