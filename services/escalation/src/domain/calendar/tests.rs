use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use redress_proto::escalation::v1::{self as pb, DayOfWeek};

use super::Calendar;
use crate::domain::FieldViolation;

const WEEKDAYS: [DayOfWeek; 5] =
    [DayOfWeek::Monday, DayOfWeek::Tuesday, DayOfWeek::Wednesday, DayOfWeek::Thursday, DayOfWeek::Friday];
const EVERY_DAY: [DayOfWeek; 7] = [
    DayOfWeek::Monday,
    DayOfWeek::Tuesday,
    DayOfWeek::Wednesday,
    DayOfWeek::Thursday,
    DayOfWeek::Friday,
    DayOfWeek::Saturday,
    DayOfWeek::Sunday,
];

fn message(zone: &str, days: &[DayOfWeek], intervals: &[(&str, &str)], holidays: &[&str]) -> pb::Calendar {
    pb::Calendar {
        time_zone: zone.to_string(),
        weekly_hours: days
            .iter()
            .map(|day| pb::DayHours {
                day: *day as i32,
                intervals: intervals
                    .iter()
                    .map(|(opens, closes)| pb::OpeningInterval { opens: opens.to_string(), closes: closes.to_string() })
                    .collect(),
            })
            .collect(),
        holidays: holidays.iter().map(|date| pb::Holiday { date: date.to_string(), ..Default::default() }).collect(),
        ..Default::default()
    }
}

fn calendar(zone: &str, days: &[DayOfWeek], intervals: &[(&str, &str)], holidays: &[&str]) -> Calendar {
    Calendar::from_proto("calendar", &message(zone, days, intervals, holidays)).unwrap()
}

/// The instant of a local wall-clock time in `zone` (the earlier one if it repeats).
fn local(zone: &str, datetime: &str) -> Timestamp {
    let datetime: jiff::civil::DateTime = datetime.parse().unwrap();
    TimeZone::get(zone).unwrap().to_ambiguous_timestamp(datetime).earlier().unwrap()
}

fn utc(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn hours(n: u64) -> Duration {
    Duration::from_secs(n * 3600)
}

fn minutes(n: u64) -> Duration {
    Duration::from_secs(n * 60)
}

fn violations(message: &pb::Calendar) -> Vec<FieldViolation> {
    Calendar::from_proto("calendar", message).unwrap_err().0
}

#[test]
fn weekends_are_skipped() {
    let zone = "Europe/London";
    let office = calendar(zone, &WEEKDAYS, &[("09:00", "17:00")], &[]);
    // 2026-01-09 is a Friday.
    let friday = local(zone, "2026-01-09T16:00");
    let monday_ten = local(zone, "2026-01-12T10:00");
    assert_eq!(office.add_business(friday, hours(2)), Some(monday_ten));
    assert_eq!(office.business_between(friday, monday_ten), hours(2));
    assert_eq!(office.business_between(monday_ten, friday), Duration::ZERO);

    let saturday = local(zone, "2026-01-10T11:00");
    assert!(!office.is_open(saturday));
    assert!(office.is_open(friday));
    assert_eq!(office.next_open(saturday), Some(local(zone, "2026-01-12T09:00")));
    assert_eq!(office.next_open(friday), Some(friday));
    assert_eq!(office.add_business(saturday, hours(1)), Some(monday_ten));
    // A week of business time from Monday 09:00 runs out at Friday's close.
    assert_eq!(office.add_business(local(zone, "2026-01-12T09:00"), hours(40)), Some(local(zone, "2026-01-16T17:00")));
    // Open instants include the opening and exclude the closing.
    assert!(office.is_open(local(zone, "2026-01-12T09:00")));
    assert!(!office.is_open(local(zone, "2026-01-12T17:00")));
    // Seconds are kept.
    let late = local(zone, "2026-01-09T16:59:30");
    assert_eq!(office.add_business(late, Duration::from_secs(60)), Some(local(zone, "2026-01-12T09:00:30")));
    assert_eq!(office.add_business(late, Duration::ZERO), Some(late));
}

#[test]
fn holidays_are_skipped() {
    let zone = "America/New_York";
    let office = calendar(zone, &WEEKDAYS, &[("09:00", "17:00")], &["2026-01-12", "2026-01-13"]);
    let friday = local(zone, "2026-01-09T16:00");
    let wednesday_ten = local(zone, "2026-01-14T10:00");
    assert_eq!(office.add_business(friday, hours(2)), Some(wednesday_ten));
    assert_eq!(office.business_between(friday, wednesday_ten), hours(2));
    assert!(!office.is_open(local(zone, "2026-01-12T12:00")));
    assert_eq!(office.next_open(local(zone, "2026-01-12T12:00")), Some(local(zone, "2026-01-14T09:00")));
}

#[test]
fn several_intervals_a_day() {
    let zone = "Asia/Tokyo";
    let office = calendar(zone, &WEEKDAYS, &[("09:00", "12:00"), ("13:00", "17:30"), ("20:00", "24:00")], &[]);
    let morning = local(zone, "2026-02-02T11:30");
    assert_eq!(office.add_business(morning, hours(1)), Some(local(zone, "2026-02-02T13:30")));
    assert_eq!(office.business_between(local(zone, "2026-02-02T11:00"), local(zone, "2026-02-02T14:00")), hours(2));
    // Closing at exactly the end of the afternoon, then the evening, then the next morning.
    assert_eq!(office.add_business(morning, minutes(30 + 270)), Some(local(zone, "2026-02-02T17:30")));
    assert_eq!(office.add_business(morning, minutes(30 + 270 + 240 + 60)), Some(local(zone, "2026-02-03T10:00")));
    assert!(!office.is_open(local(zone, "2026-02-02T12:30")));
    assert!(office.is_open(local(zone, "2026-02-02T23:59")));
    assert!(!office.is_open(local(zone, "2026-02-03T00:00")));
    assert_eq!(office.next_open(local(zone, "2026-02-02T12:30")), Some(local(zone, "2026-02-02T13:00")));
    // A whole weekday: 3 + 4.5 + 4 hours.
    assert_eq!(office.business_between(local(zone, "2026-02-02T00:00"), local(zone, "2026-02-03T00:00")), minutes(690));
}

#[test]
fn always_open_runs_in_real_time() {
    let always = Calendar::always_open();
    assert!(always.is_always_open());
    assert_eq!(always.time_zone(), "UTC");
    let start = utc("2026-03-28T23:17:05Z");
    assert!(always.is_open(start));
    assert_eq!(always.next_open(start), Some(start));
    assert_eq!(always.add_business(start, hours(50)), Some(utc("2026-03-31T01:17:05Z")));
    assert_eq!(always.business_between(start, utc("2026-03-31T01:17:05Z")), hours(50));
    assert_eq!(always.add_business(start, Duration::from_secs(u64::MAX)), None);

    // Every day 00:00 to 24:00 is 24×7 in any zone, across a daylight-saving change.
    let london = calendar("Europe/London", &EVERY_DAY, &[("00:00", "12:00"), ("12:00", "24:00")], &[]);
    assert!(london.is_always_open());
    assert_eq!(london.business_between(utc("2026-03-28T12:00:00Z"), utc("2026-03-29T12:00:00Z")), hours(24));
    // A holiday makes it an ordinary calendar: two days less the 23 hours of 2026-03-29.
    let closed_once = calendar("Europe/London", &EVERY_DAY, &[("00:00", "24:00")], &["2026-03-29"]);
    assert!(!closed_once.is_always_open());
    assert_eq!(closed_once.business_between(utc("2026-03-28T12:00:00Z"), utc("2026-03-30T12:00:00Z")), hours(25));
}

#[test]
fn a_calendar_that_never_opens() {
    let never = calendar("Europe/London", &[], &[], &[]);
    let start = utc("2026-01-01T00:00:00Z");
    assert!(!never.is_open(start));
    assert_eq!(never.next_open(start), None);
    assert_eq!(never.add_business(start, minutes(1)), None);
    assert_eq!(never.add_business(start, Duration::ZERO), Some(start));
    assert_eq!(never.business_between(start, utc("2027-01-01T00:00:00Z")), Duration::ZERO);
}

#[test]
fn local_days_of_23_and_25_hours() {
    let zone = "Europe/London";
    let mornings = calendar(zone, &EVERY_DAY, &[("00:00", "12:00")], &[]);
    // 2026-03-29: clocks go from 01:00 GMT to 02:00 BST; the morning has 11 hours.
    assert_eq!(mornings.business_between(utc("2026-03-28T12:00:00Z"), utc("2026-03-29T12:00:00Z")), hours(11));
    // 2026-10-25: clocks go from 02:00 BST back to 01:00 GMT; the morning has 13 hours.
    assert_eq!(mornings.business_between(utc("2026-10-24T12:00:00Z"), utc("2026-10-25T12:00:00Z")), hours(13));
    // Saturday 11:00 BST plus two hours: one on Saturday, one from Sunday 00:00 BST.
    assert_eq!(mornings.add_business(local(zone, "2026-10-24T11:00"), hours(2)), Some(utc("2026-10-25T00:00:00Z")));

    let zone = "America/New_York";
    let office = calendar(zone, &EVERY_DAY, &[("09:00", "17:00")], &[]);
    // Saturday 2026-03-07 16:00 EST plus two hours: Sunday 10:00 EDT.
    assert_eq!(office.add_business(local(zone, "2026-03-07T16:00"), hours(2)), Some(utc("2026-03-08T14:00:00Z")));
    assert_eq!(office.business_between(utc("2026-03-07T21:00:00Z"), utc("2026-03-08T14:00:00Z")), hours(2));
}

#[test]
fn skipped_times_start_at_the_transition() {
    let zone = "Europe/London";
    // 01:00 to 02:00 does not exist on 2026-03-29; the transition is 01:00 UTC.
    let inside = calendar(zone, &EVERY_DAY, &[("01:15", "01:45")], &[]);
    let day = (utc("2026-03-29T00:00:00Z"), utc("2026-03-30T00:00:00Z"));
    assert_eq!(inside.business_between(day.0, day.1), Duration::ZERO);
    assert_eq!(inside.next_open(day.0), Some(local(zone, "2026-03-30T01:15")));

    let across = calendar(zone, &EVERY_DAY, &[("01:30", "03:00")], &[]);
    assert_eq!(across.next_open(day.0), Some(utc("2026-03-29T01:00:00Z")));
    assert_eq!(across.business_between(day.0, day.1), hours(1));
    assert!(across.is_open(utc("2026-03-29T01:00:00Z")));
    assert!(!across.is_open(utc("2026-03-29T00:59:00Z")));

    let zone = "America/New_York";
    // 02:00 to 03:00 does not exist on 2026-03-08; the transition is 07:00 UTC.
    let night = calendar(zone, &EVERY_DAY, &[("00:00", "02:30"), ("02:45", "04:00")], &[]);
    let day = (local(zone, "2026-03-08T00:00"), local(zone, "2026-03-09T00:00"));
    assert_eq!(night.business_between(day.0, day.1), hours(3));
    assert_eq!(night.add_business(day.0, hours(2)), Some(utc("2026-03-08T07:00:00Z")));
    assert_eq!(night.add_business(day.0, hours(2) + minutes(1)), Some(utc("2026-03-08T07:01:00Z")));
}

#[test]
fn repeated_times_use_the_first_occurrence() {
    let zone = "Europe/London";
    // On 2026-10-25 the clocks go from 02:00 BST (01:00 UTC) back to 01:00 GMT.
    let day = (local(zone, "2026-10-25T00:00"), local(zone, "2026-10-26T00:00"));
    let early = calendar(zone, &EVERY_DAY, &[("01:00", "01:30")], &[]);
    assert_eq!(early.business_between(day.0, day.1), minutes(30));
    assert_eq!(early.next_open(day.0), Some(utc("2026-10-25T00:00:00Z")));
    let late = calendar(zone, &EVERY_DAY, &[("01:30", "02:00")], &[]);
    assert_eq!(late.business_between(day.0, day.1), minutes(90));
    assert!(late.is_open(utc("2026-10-25T01:45:00Z")));
    assert!(!late.is_open(utc("2026-10-25T02:00:00Z")));
    let night = calendar(zone, &EVERY_DAY, &[("00:00", "02:00")], &[]);
    assert_eq!(night.business_between(day.0, day.1), hours(3));
    assert_eq!(night.add_business(day.0, hours(3)), Some(utc("2026-10-25T02:00:00Z")));
}

#[test]
fn clocks_that_change_at_midnight() {
    let zone = "America/Santiago";
    // 2026-04-05 00:00 -03 (03:00 UTC) goes back to Saturday 23:00 -04: the repeated hour stays
    // with Saturday, whose 24:00 is the first time the clock reads Sunday 00:00 (04:00 UTC).
    let saturday_night = calendar(zone, &[DayOfWeek::Saturday], &[("22:00", "24:00")], &[]);
    let (from, to) = (utc("2026-04-04T00:00:00Z"), utc("2026-04-06T00:00:00Z"));
    assert_eq!(saturday_night.business_between(from, to), hours(3));
    assert!(saturday_night.is_open(utc("2026-04-05T03:30:00Z")));
    assert!(!saturday_night.is_open(utc("2026-04-05T04:00:00Z")));
    let sunday = calendar(zone, &[DayOfWeek::Sunday], &[("00:00", "01:00")], &[]);
    assert_eq!(sunday.next_open(from), Some(utc("2026-04-05T04:00:00Z")));
    assert_eq!(sunday.business_between(from, to), hours(1));
    // 2026-09-06 00:00 -04 (04:00 UTC) jumps to 01:00 -03: Sunday opens at the transition.
    let early = calendar(zone, &[DayOfWeek::Sunday], &[("00:00", "02:00")], &[]);
    assert_eq!(early.next_open(utc("2026-09-05T12:00:00Z")), Some(utc("2026-09-06T04:00:00Z")));
    assert_eq!(early.add_business(utc("2026-09-05T12:00:00Z"), hours(1)), Some(utc("2026-09-06T05:00:00Z")));
    assert_eq!(early.business_between(utc("2026-09-05T12:00:00Z"), utc("2026-09-07T00:00:00Z")), hours(1));
}

#[test]
fn time_zone_names_are_checked_and_canonical() {
    let unknown = violations(&message("Mars/Olympus", &WEEKDAYS, &[("09:00", "17:00")], &[]));
    assert_eq!(unknown, vec![FieldViolation::new("calendar.time_zone", "unknown time zone \"Mars/Olympus\"")]);
    let missing = violations(&message("", &WEEKDAYS, &[("09:00", "17:00")], &[]));
    assert_eq!(missing[0].field, "calendar.time_zone");
    assert!(missing[0].description.starts_with("required"));
    assert_eq!(violations(&message("Etc/Unknown", &[], &[], &[]))[0].field, "calendar.time_zone");
    assert_eq!(calendar("europe/london", &[], &[], &[]).time_zone(), "Europe/London");
}

#[test]
fn every_violation_names_its_field() {
    let mut bad = message("Mars/Olympus", &[DayOfWeek::Monday], &[("09:00", "12:00"), ("11:00", "13:00")], &[]);
    let interval = |opens: &str, closes: &str| pb::OpeningInterval { opens: opens.into(), closes: closes.into() };
    bad.weekly_hours.push(pb::DayHours {
        day: DayOfWeek::Tuesday as i32,
        intervals: vec![
            interval("17:00", "09:00"),
            interval("9:00", "10:00"),
            interval("10:00", "24:01"),
            interval("24:00", "24:00"),
            interval("12:00", "12:00"),
            interval("13:00", "24:00"),
            interval("10:00", "11:00"),
        ],
    });
    bad.weekly_hours.push(pb::DayHours { day: DayOfWeek::Monday as i32, intervals: vec![] });
    bad.weekly_hours.push(pb::DayHours { day: 0, intervals: vec![] });
    bad.weekly_hours.push(pb::DayHours { day: 42, intervals: vec![] });
    for date in ["2026-12-25", "2026-13-01", "26-12-25", "2026-02-29", "2026-1-01", ""] {
        bad.holidays.push(pb::Holiday { date: date.into(), ..Default::default() });
    }
    let found: Vec<(String, String)> = violations(&bad).into_iter().map(|v| (v.field, v.description)).collect();
    let fields: Vec<&str> = found.iter().map(|(field, _)| field.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "calendar.time_zone",
            "calendar.weekly_hours[0].intervals[1]",
            "calendar.weekly_hours[1].intervals[0]",
            "calendar.weekly_hours[1].intervals[1].opens",
            "calendar.weekly_hours[1].intervals[2].closes",
            "calendar.weekly_hours[1].intervals[3].opens",
            "calendar.weekly_hours[1].intervals[4]",
            "calendar.weekly_hours[1].intervals[6]",
            "calendar.weekly_hours[2].day",
            "calendar.weekly_hours[3].day",
            "calendar.weekly_hours[4].day",
            "calendar.holidays[1].date",
            "calendar.holidays[2].date",
            "calendar.holidays[3].date",
            "calendar.holidays[4].date",
            "calendar.holidays[5].date",
        ],
        "{found:#?}"
    );
    let description = |field: &str| &found.iter().find(|(f, _)| f == field).unwrap().1;
    assert_eq!(description("calendar.weekly_hours[0].intervals[1]"), "overlaps the interval before it");
    assert_eq!(description("calendar.weekly_hours[1].intervals[0]"), "closes before it opens");
    assert!(description("calendar.weekly_hours[1].intervals[1].opens").starts_with("not HH:MM"));
    assert!(description("calendar.weekly_hours[1].intervals[6]").contains("earliest to latest"));
    assert!(description("calendar.weekly_hours[2].day").starts_with("repeats the day of weekly_hours[0]"));
    assert_eq!(description("calendar.weekly_hours[3].day"), "required");
    assert!(description("calendar.holidays[1].date").starts_with("no such date"));
    assert!(description("calendar.holidays[2].date").starts_with("not YYYY-MM-DD"));
    assert!(description("calendar.holidays[3].date").starts_with("no such date"));

    let error = Calendar::from_proto("calendar", &bad).unwrap_err();
    assert!(error.to_string().starts_with("calendar.time_zone: unknown time zone \"Mars/Olympus\"; "));
}
