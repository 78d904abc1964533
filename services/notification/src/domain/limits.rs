//! When a notification may go: quiet hours for non-urgent staff alerts, and the per-recipient
//! rate limit. Both only postpone; neither drops a notification.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jiff::tz::TimeZone;

/// A daily window, in a time zone, during which non-urgent staff alerts wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// Minutes after local midnight when quiet hours start.
    pub start_minute: u32,
    /// Minutes after local midnight when they end; before `start_minute` when they span midnight.
    pub end_minute: u32,
}

impl QuietHours {
    /// Whether a local minute of the day is inside the window.
    pub fn contains(&self, minute: u32) -> bool {
        if self.start_minute <= self.end_minute {
            (self.start_minute..self.end_minute).contains(&minute)
        } else {
            minute >= self.start_minute || minute < self.end_minute
        }
    }

    /// When `now` falls in quiet hours in `zone`, the instant they end; `None` outside them.
    /// A local end time skipped by a daylight-saving change is moved forward by the change
    /// (02:30 on a night that jumps from 02:00 to 03:00 is 03:30).
    pub fn held_until(&self, now: DateTime<Utc>, zone: &TimeZone) -> Option<DateTime<Utc>> {
        let instant = jiff::Timestamp::from_microsecond(now.timestamp_micros()).ok()?;
        let local = instant.to_zoned(zone.clone());
        let minute = u32::from(local.hour().unsigned_abs()) * 60 + u32::from(local.minute().unsigned_abs());
        if !self.contains(minute) {
            return None;
        }
        let mut day = local.date();
        if minute >= self.end_minute {
            day = day.tomorrow().ok()?;
        }
        let hour = i8::try_from(self.end_minute / 60).ok()?;
        let min = i8::try_from(self.end_minute % 60).ok()?;
        let end = day.at(hour, min, 0, 0).to_zoned(zone.clone()).ok()?;
        DateTime::from_timestamp_micros(end.timestamp().as_microsecond())
    }
}

/// How many notifications one recipient may get in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// The most in one window.
    pub max: u32,
    /// The window.
    pub window: Duration,
}

impl RateLimit {
    /// Whether one more may go now, given how many went in the window ending `now` and when the
    /// oldest of them went: `None` if it may, otherwise when it may.
    pub fn wait_until(
        &self,
        sent_in_window: u64,
        oldest_in_window: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if sent_in_window < u64::from(self.max) {
            return None;
        }
        let window = chrono::Duration::from_std(self.window).unwrap_or(chrono::Duration::hours(1));
        Some(oldest_in_window.map_or(now + window, |oldest| (oldest + window).max(now)))
    }

    /// The start of the window ending at `now`.
    pub fn window_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - chrono::Duration::from_std(self.window).unwrap_or(chrono::Duration::hours(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("a time").with_timezone(&Utc)
    }

    fn zone(name: &str) -> TimeZone {
        TimeZone::get(name).expect("a time zone")
    }

    #[test]
    fn overnight_quiet_hours_hold_until_the_morning() {
        let quiet = QuietHours { start_minute: 22 * 60, end_minute: 7 * 60 };
        let utc = zone("UTC");
        assert_eq!(quiet.held_until(at("2025-03-14T21:59:00Z"), &utc), None);
        assert_eq!(quiet.held_until(at("2025-03-14T22:00:00Z"), &utc), Some(at("2025-03-15T07:00:00Z")));
        assert_eq!(quiet.held_until(at("2025-03-15T03:10:00Z"), &utc), Some(at("2025-03-15T07:00:00Z")));
        assert_eq!(quiet.held_until(at("2025-03-15T07:00:00Z"), &utc), None);

        // 23:30 in Paris is 22:30 UTC in winter: held until 07:00 Paris time, 06:00 UTC.
        let paris = zone("Europe/Paris");
        assert_eq!(quiet.held_until(at("2025-01-10T22:30:00Z"), &paris), Some(at("2025-01-11T06:00:00Z")));
        assert_eq!(quiet.held_until(at("2025-01-10T20:30:00Z"), &paris), None, "21:30 in Paris");
    }

    #[test]
    fn daytime_windows_and_daylight_saving_changes() {
        let lunch = QuietHours { start_minute: 12 * 60, end_minute: 13 * 60 };
        let utc = zone("UTC");
        assert_eq!(lunch.held_until(at("2025-06-01T12:30:00Z"), &utc), Some(at("2025-06-01T13:00:00Z")));
        assert_eq!(lunch.held_until(at("2025-06-01T13:00:00Z"), &utc), None);
        assert!(!lunch.contains(11 * 60 + 59) && lunch.contains(12 * 60));

        // Quiet until 02:30 on the night New York skips from 02:00 to 03:00: the end is 03:30 EDT.
        let night = QuietHours { start_minute: 22 * 60, end_minute: 2 * 60 + 30 };
        let new_york = zone("America/New_York");
        assert_eq!(night.held_until(at("2025-03-09T05:00:00Z"), &new_york), Some(at("2025-03-09T07:30:00Z")));
    }

    #[test]
    fn the_rate_limit_waits_for_the_oldest_to_leave_the_window() {
        let limit = RateLimit { max: 3, window: Duration::from_secs(3600) };
        let now = at("2025-03-14T12:00:00Z");
        assert_eq!(limit.wait_until(2, Some(at("2025-03-14T11:10:00Z")), now), None);
        assert_eq!(limit.wait_until(3, Some(at("2025-03-14T11:10:00Z")), now), Some(at("2025-03-14T12:10:00Z")));
        assert_eq!(limit.wait_until(3, None, now), Some(at("2025-03-14T13:00:00Z")));
        assert_eq!(limit.window_start(now), at("2025-03-14T11:00:00Z"));
    }
}
