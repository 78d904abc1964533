//! An SLA clock: a target in business time, the business time used, and where it stands.
//!
//! A clock runs in segments: `used` is the business time of the finished segments and `since`
//! the start of the running one. Pausing folds the running segment into `used`; resuming opens
//! a new one. Every change that moves the clock's deadlines bumps its `generation`, so timers
//! scheduled for an earlier generation are recognised as stale when they fire.

use std::time::Duration;

use jiff::Timestamp;
use redress_proto::escalation::v1::{ClockState, EscalationTrigger};

use super::Calendar;
use super::policy::Step;

/// One SLA clock of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    /// Which clock (`SlaClockKind` number).
    pub kind: i32,
    /// The target in business time.
    pub target: Duration,
    /// The business time at which the warning step fires.
    pub warning: Duration,
    /// Business time used in finished segments.
    pub used: Duration,
    /// The start of the running segment; `None` unless running.
    pub since: Option<Timestamp>,
    /// Running, paused, met or stopped.
    pub state: ClockState,
    /// When the target was passed.
    pub breached_at: Option<Timestamp>,
    /// When the clock was met.
    pub met_at: Option<Timestamp>,
    /// The highest ladder level fired in this cycle.
    pub level: i32,
    /// Whether an escalation of this cycle was acknowledged: no further levels fire.
    pub acknowledged: bool,
    /// How many times the clock restarted (next update after each update, resolution after a reopen).
    pub cycle: i32,
    /// Bumped whenever the clock's deadlines move.
    pub generation: i32,
}

impl Clock {
    /// A clock that starts running at `at`.
    pub fn start(kind: i32, target: Duration, warning_percent: u32, at: Timestamp) -> Self {
        let warning = target.mul_f64(f64::from(warning_percent.min(99)) / 100.0);
        Self {
            kind,
            target,
            warning,
            used: Duration::ZERO,
            since: Some(at),
            state: ClockState::Running,
            breached_at: None,
            met_at: None,
            level: 0,
            acknowledged: false,
            cycle: 1,
            generation: 1,
        }
    }

    /// Business time used at `at`.
    pub fn used_at(&self, calendar: &Calendar, at: Timestamp) -> Duration {
        match self.since {
            Some(since) if self.state == ClockState::Running => self.used + calendar.business_between(since, at),
            _ => self.used,
        }
    }

    /// When business time used reaches `mark`, if the clock is running.
    fn reaches(&self, calendar: &Calendar, mark: Duration) -> Option<Timestamp> {
        let since = self.since.filter(|_| self.state == ClockState::Running)?;
        if self.used >= mark {
            return Some(since);
        }
        calendar.add_business(since, mark - self.used)
    }

    /// When the target runs out at the current pace; `None` unless running.
    pub fn due(&self, calendar: &Calendar) -> Option<Timestamp> {
        self.breached_at.or_else(|| self.reaches(calendar, self.target))
    }

    /// When the warning threshold is reached; `None` unless running.
    pub fn warning_time(&self, calendar: &Calendar) -> Option<Timestamp> {
        self.reaches(calendar, self.warning)
    }

    /// When `step` fires, if it can.
    fn fire_time(&self, calendar: &Calendar, step: &Step) -> Option<Timestamp> {
        if self.state != ClockState::Running || self.acknowledged || step.level <= self.level {
            return None;
        }
        let trigger = match step.trigger {
            EscalationTrigger::Warning => self.warning_time(calendar)?,
            _ => self.due(calendar)?,
        };
        let delay = jiff::SignedDuration::try_from(step.delay).ok()?;
        trigger.checked_add(delay).ok()
    }

    /// The earliest instant at which a step not yet fired becomes due.
    pub fn next_fire(&self, calendar: &Calendar, ladder: &[Step]) -> Option<Timestamp> {
        ladder.iter().filter_map(|s| self.fire_time(calendar, s)).min()
    }

    /// The steps due at `now`, lowest level first. Marks the breach when the target has passed.
    pub fn take_due(&mut self, calendar: &Calendar, ladder: &[Step], now: Timestamp) -> Vec<Step> {
        if self.state == ClockState::Running
            && self.breached_at.is_none()
            && let Some(due) = self.reaches(calendar, self.target)
            && due <= now
        {
            self.breached_at = Some(due);
        }
        let mut due: Vec<Step> =
            ladder.iter().filter(|s| self.fire_time(calendar, s).is_some_and(|t| t <= now)).cloned().collect();
        due.sort_by_key(|s| s.level);
        if let Some(top) = due.last() {
            self.level = top.level;
        }
        due
    }

    /// Pauses a running clock at `at`, keeping the business time used.
    pub fn pause(&mut self, calendar: &Calendar, at: Timestamp) -> bool {
        self.state == ClockState::Running && self.halt(calendar, at, ClockState::Paused)
    }

    /// Folds the running segment into the time used at `at` and leaves the clock in `state`.
    fn halt(&mut self, calendar: &Calendar, at: Timestamp, state: ClockState) -> bool {
        self.used = self.used_at(calendar, at);
        self.since = None;
        self.state = state;
        self.generation += 1;
        true
    }

    /// Resumes a paused clock at `at`.
    pub fn resume(&mut self, at: Timestamp) -> bool {
        if self.state != ClockState::Paused {
            return false;
        }
        self.since = Some(at);
        self.state = ClockState::Running;
        self.generation += 1;
        true
    }

    /// Meets the clock at `at`; a clock met after its target is also breached.
    pub fn meet(&mut self, calendar: &Calendar, at: Timestamp) -> bool {
        if !matches!(self.state, ClockState::Running | ClockState::Paused) {
            return false;
        }
        if self.breached_at.is_none()
            && let Some(due) = self.reaches(calendar, self.target)
            && due < at
        {
            self.breached_at = Some(due);
        }
        self.used = self.used_at(calendar, at);
        if self.breached_at.is_none() && self.used > self.target {
            self.breached_at = Some(at);
        }
        self.since = None;
        self.met_at = Some(at);
        self.state = ClockState::Met;
        self.generation += 1;
        true
    }

    /// Stops the clock at `at` (the case closed).
    pub fn stop(&mut self, calendar: &Calendar, at: Timestamp) -> bool {
        matches!(self.state, ClockState::Running | ClockState::Paused) && self.halt(calendar, at, ClockState::Stopped)
    }

    /// Acknowledging an escalation stops the ladder: no further level of this cycle fires, and
    /// the deadlines planned for it are stale.
    pub fn acknowledge(&mut self) {
        self.acknowledged = true;
        self.generation += 1;
    }

    /// Starts a new cycle at `at`: nothing used, nothing fired.
    pub fn restart(&mut self, at: Timestamp) {
        self.used = Duration::ZERO;
        self.since = Some(at);
        self.state = ClockState::Running;
        self.breached_at = None;
        self.met_at = None;
        self.level = 0;
        self.acknowledged = false;
        self.cycle += 1;
        self.generation += 1;
    }

    /// Whether the clock passed its target.
    pub fn breached(&self) -> bool {
        self.breached_at.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policy::default_ladder;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + secs).unwrap()
    }

    #[test]
    fn the_ladder_fires_in_order_and_once() {
        let cal = Calendar::always_open();
        let ladder = default_ladder();
        let mut clock = Clock::start(1, Duration::from_secs(100), 75, t(0));
        assert_eq!(clock.next_fire(&cal, &ladder), Some(t(75)), "warning at 75%");
        assert!(clock.take_due(&cal, &ladder, t(74)).is_empty());
        let fired = clock.take_due(&cal, &ladder, t(75));
        assert_eq!(fired.iter().map(|s| s.level).collect::<Vec<_>>(), [1]);
        assert_eq!(clock.next_fire(&cal, &ladder), Some(t(100)), "breach next");
        let fired = clock.take_due(&cal, &ladder, t(100));
        assert_eq!(fired.iter().map(|s| s.level).collect::<Vec<_>>(), [2]);
        assert_eq!(clock.breached_at, Some(t(100)));
        assert_eq!(clock.next_fire(&cal, &ladder), Some(t(100 + 3600)), "manager an hour after the breach");
        assert!(clock.take_due(&cal, &ladder, t(100)).is_empty(), "nothing fires twice");
        // A late worker fires everything that is due at once, in order.
        let fired = clock.take_due(&cal, &ladder, t(100 + 5 * 3600));
        assert_eq!(fired.iter().map(|s| s.level).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(clock.next_fire(&cal, &ladder), None);
    }

    #[test]
    fn a_pause_moves_the_deadline_by_its_length() {
        let cal = Calendar::always_open();
        let ladder = default_ladder();
        let mut clock = Clock::start(3, Duration::from_secs(100), 75, t(0));
        assert_eq!(clock.due(&cal), Some(t(100)));
        assert!(clock.pause(&cal, t(30)));
        assert_eq!(clock.used, Duration::from_secs(30));
        assert_eq!(clock.next_fire(&cal, &ladder), None, "a paused clock fires nothing");
        assert!(clock.resume(t(50)));
        assert_eq!(clock.due(&cal), Some(t(120)), "20 s of pause moves the deadline 20 s");
        assert_eq!(clock.generation, 3);
    }

    #[test]
    fn met_and_acknowledged_clocks_stop_escalating() {
        let cal = Calendar::always_open();
        let ladder = default_ladder();
        let mut clock = Clock::start(1, Duration::from_secs(100), 75, t(0));
        assert!(clock.meet(&cal, t(40)));
        assert!(!clock.breached());
        assert_eq!(clock.next_fire(&cal, &ladder), None);
        let mut late = Clock::start(1, Duration::from_secs(100), 75, t(0));
        assert!(late.meet(&cal, t(130)));
        assert!(late.breached(), "met late is breached");
        assert_eq!(late.breached_at, Some(t(100)));
        let mut acknowledged = Clock::start(1, Duration::from_secs(100), 75, t(0));
        acknowledged.take_due(&cal, &ladder, t(100));
        let generation = acknowledged.generation;
        acknowledged.acknowledge();
        assert_eq!(acknowledged.generation, generation + 1, "the planned deadlines are stale");
        assert_eq!(acknowledged.next_fire(&cal, &ladder), None);
        acknowledged.restart(t(200));
        assert_eq!(acknowledged.cycle, 2);
        assert_eq!(acknowledged.next_fire(&cal, &ladder), Some(t(275)));
    }
}
