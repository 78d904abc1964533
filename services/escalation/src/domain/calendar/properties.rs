//! Business-time arithmetic agrees with a brute-force, minute-by-minute reference over random
//! calendars in Europe/London, America/New_York, Asia/Tokyo (no daylight saving) and
//! America/Santiago (clocks change at midnight), around the daylight-saving changes of 2026 and
//! 2027 and on random days of those years.

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use proptest::prelude::*;
use redress_proto::escalation::v1 as pb;

use super::Calendar;

const ZONES: [&str; 4] = ["Europe/London", "America/New_York", "Asia/Tokyo", "America/Santiago"];
/// The days the clocks change in 2026 and 2027 (Tokyo's are London's and New York's).
const CHANGES: [[&str; 4]; 4] = [
    ["2026-03-29", "2026-10-25", "2027-03-28", "2027-10-31"],
    ["2026-03-08", "2026-11-01", "2027-03-14", "2027-11-07"],
    ["2026-03-29", "2026-10-25", "2026-03-08", "2026-11-01"],
    ["2026-04-05", "2026-09-06", "2027-04-04", "2027-09-05"],
];
/// Minutes in a day.
const DAY: i64 = 1440;
/// Minutes the reference decides: five days from the window's start.
const WINDOW: usize = 5 * 1440;
/// Minutes the reference reads before the window, so it knows the latest wall-clock time shown
/// when the window opens inside a repeated hour.
const LEAD: i64 = 3 * 60;

/// The brute-force reference: decides each minute on its own from the wall clock.
struct Reference {
    zone: TimeZone,
    /// Opening minutes `[opens, closes)` by day, Monday first.
    weekly: [Vec<(u16, u16)>; 7],
    /// Holidays as days since 1970-01-01.
    holidays: BTreeSet<i64>,
}

impl Reference {
    /// Whether each of the `count` minutes from minute `start` (since the epoch) is open: open
    /// when the latest wall-clock minute shown so far is an opening minute of a working day.
    fn open_minutes(&self, start: i64, count: usize) -> Vec<bool> {
        let mut open = Vec::with_capacity(count);
        let mut latest = i64::MIN;
        let first = start - LEAD;
        let mut offset = self.offset_minutes(first);
        for minute in first..start + count as i64 {
            // The offsets of these zones change only on the hour: read each hour's at its start
            // and check it still holds at its end.
            if minute.rem_euclid(60) == 0 {
                offset = self.offset_minutes(minute);
                assert_eq!(offset, self.offset_minutes(minute + 59), "an offset changed within an hour");
            }
            latest = latest.max(minute + offset);
            if minute >= start {
                open.push(self.open_at(latest));
            }
        }
        open
    }

    /// The zone's offset in minutes at the given minute since the epoch.
    fn offset_minutes(&self, minute: i64) -> i64 {
        let seconds = self.zone.to_offset(Timestamp::from_second(minute * 60).unwrap()).seconds();
        assert_eq!(seconds % 60, 0, "offset of whole minutes");
        i64::from(seconds / 60)
    }

    /// Whether the local minute (since the local epoch) is an opening minute.
    fn open_at(&self, local: i64) -> bool {
        let (day, minute) = (local.div_euclid(DAY), local.rem_euclid(DAY));
        if self.holidays.contains(&day) {
            return false;
        }
        // 1970-01-01 was a Thursday: index 3, Monday first.
        let weekday = (day + 3).rem_euclid(7) as usize;
        self.weekly[weekday].iter().any(|&(opens, closes)| i64::from(opens) <= minute && minute < i64::from(closes))
    }
}

/// One random calendar, window and set of questions.
#[derive(Debug, Clone)]
struct Case {
    zone: usize,
    weekly: [Vec<(u16, u16)>; 7],
    /// Around a change of the clocks, or a random day of 2026–2027.
    near_change: bool,
    change: usize,
    random_day: i64,
    /// Minutes after three days before the anchor day that the window starts.
    window_offset: i64,
    /// Holidays, in days from the anchor day.
    holidays: Vec<i64>,
    /// `(from, to)` minutes into the window for `business_between`.
    between: Vec<(usize, usize)>,
    /// `(start minute, business minutes)` for `add_business`.
    adds: Vec<(usize, i64)>,
    /// Minutes into the window for `is_open` and `next_open`.
    probes: Vec<usize>,
}

/// A minute of the day to open or close at, often one that a change of the clocks skips or repeats.
fn boundary() -> impl Strategy<Value = u16> {
    prop_oneof![
        3 => 0u16..=1440,
        2 => (0u16..=96).prop_map(|quarter| quarter * 15),
        2 => prop::sample::select(vec![0u16, 60, 75, 90, 120, 150, 180, 1440]),
    ]
}

/// One day's intervals: consecutive pairs of sorted boundaries, each open or not, so some touch.
fn day() -> impl Strategy<Value = Vec<(u16, u16)>> {
    let intervals = (prop::collection::vec(boundary(), 0..=7), prop::collection::vec(any::<bool>(), 7)).prop_map(
        |(mut points, open)| {
            points.sort_unstable();
            points.dedup();
            points.windows(2).zip(open).filter(|(_, open)| *open).map(|(pair, _)| (pair[0], pair[1])).collect()
        },
    );
    prop_oneof![6 => intervals, 1 => Just(vec![(0, 1440)]), 1 => Just(vec![])]
}

fn business_minutes() -> impl Strategy<Value = i64> {
    prop_oneof![0i64..=120, 0i64..=DAY, 0i64..=3 * DAY]
}

fn case() -> impl Strategy<Value = Case> {
    let minute = 0..WINDOW;
    (
        (0..ZONES.len(), prop::array::uniform7(day()), any::<bool>(), 0usize..4, 0i64..730, 0..2 * DAY),
        prop::collection::vec(-4i64..=5, 0..=3),
        prop::collection::vec((minute.clone(), minute.clone()), 4),
        prop::collection::vec((minute.clone(), business_minutes()), 4),
        prop::collection::vec(minute, 4),
    )
        .prop_map(
            |((zone, weekly, near_change, change, random_day, window_offset), holidays, between, adds, probes)| Case {
                zone,
                weekly,
                near_change,
                change,
                random_day,
                window_offset,
                holidays,
                between,
                adds,
                probes,
            },
        )
}

fn clock(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn message(zone: &str, weekly: &[Vec<(u16, u16)>; 7], holidays: &[Date]) -> pb::Calendar {
    pb::Calendar {
        time_zone: zone.to_string(),
        weekly_hours: weekly
            .iter()
            .enumerate()
            .map(|(index, intervals)| pb::DayHours {
                day: index as i32 + 1,
                intervals: intervals
                    .iter()
                    .map(|&(opens, closes)| pb::OpeningInterval { opens: clock(opens), closes: clock(closes) })
                    .collect(),
            })
            .collect(),
        holidays: holidays.iter().map(|date| pb::Holiday { date: date.to_string(), ..Default::default() }).collect(),
        ..Default::default()
    }
}

fn days_since_epoch(date: Date) -> i64 {
    date.to_zoned(TimeZone::UTC).unwrap().timestamp().as_second().div_euclid(DAY * 60)
}

fn minutes(n: i64) -> Duration {
    Duration::from_secs(u64::try_from(n).unwrap() * 60)
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(10_000) })]

    #[test]
    fn arithmetic_agrees_with_the_minute_by_minute_reference(case in case()) {
        let zone_name = ZONES[case.zone];
        let zone = TimeZone::get(zone_name).unwrap();
        let anchor: Date = if case.near_change {
            CHANGES[case.zone][case.change].parse().unwrap()
        } else {
            Date::constant(2026, 1, 1).checked_add(case.random_day.days()).unwrap()
        };
        let holidays: Vec<Date> =
            case.holidays.iter().map(|&offset| anchor.checked_add(offset.days()).unwrap()).collect();
        let calendar = Calendar::from_proto("calendar", &message(zone_name, &case.weekly, &holidays)).unwrap();
        let reference = Reference {
            zone,
            weekly: case.weekly.clone(),
            holidays: holidays.iter().map(|&date| days_since_epoch(date)).collect(),
        };

        let start = (days_since_epoch(anchor) - 3) * DAY + case.window_offset;
        let at = |minute: usize| Timestamp::from_second((start + minute as i64) * 60).unwrap();
        let open = reference.open_minutes(start, WINDOW);
        // prefix[i]: open minutes among the first i.
        let mut prefix = Vec::with_capacity(WINDOW + 1);
        prefix.push(0i64);
        for &minute_open in &open {
            prefix.push(prefix[prefix.len() - 1] + i64::from(minute_open));
        }
        let has_hours = case.weekly.iter().any(|intervals| !intervals.is_empty());

        for &(from, to) in &case.between {
            let expected = if to > from { prefix[to] - prefix[from] } else { 0 };
            prop_assert_eq!(calendar.business_between(at(from), at(to)), minutes(expected), "between {} and {}", at(from), at(to));
        }

        for &(from, business) in &case.adds {
            let target = prefix[from] + business;
            // The first minute boundary at or after `from` by which `business` has elapsed.
            let reached = from + prefix[from..].partition_point(|&elapsed| elapsed < target);
            let got = calendar.add_business(at(from), minutes(business));
            if reached <= WINDOW {
                prop_assert_eq!(got, Some(at(reached)), "{} minutes from {}", business, at(from));
            } else {
                prop_assert_eq!(got.is_some(), has_hours, "{} minutes from {}", business, at(from));
                prop_assert!(got.is_none_or(|got| got > at(WINDOW)), "{} minutes from {}: {:?}", business, at(from), got);
            }
        }

        for &probe in &case.probes {
            prop_assert_eq!(calendar.is_open(at(probe)), open[probe], "open at {}", at(probe));
            let got = calendar.next_open(at(probe));
            match open[probe..].iter().position(|&minute_open| minute_open) {
                Some(ahead) => prop_assert_eq!(got, Some(at(probe + ahead)), "next open after {}", at(probe)),
                None => prop_assert!(got.is_none_or(|got| got >= at(WINDOW)), "next open after {}: {:?}", at(probe), got),
            }
        }
    }
}
