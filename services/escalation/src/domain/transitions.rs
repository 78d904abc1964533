//! Which case event starts, stops, pauses and resumes which SLA clock.
//!
//! | the case                                   | first response | next update        | resolution |
//! |--------------------------------------------|----------------|--------------------|------------|
//! | opens (first seen, under a policy)         | starts         | starts             | starts     |
//! | is acknowledged                            | met            |                    |            |
//! | turns to awaiting the customer             | paused         | paused             | paused     |
//! | leaves awaiting the customer               | resumed        | resumed            | resumed    |
//! | tells the customer something (not waiting) |                | met, next cycle    |            |
//! | is resolved                                |                | stopped            | met        |
//! | is closed                                  | stopped        | stopped            | stopped    |
//! | is reopened                                |                | next cycle         | next cycle |

use jiff::Timestamp;
use redress_proto::case::v1::{CaseEvent, CaseEventType, CaseStatus, TimelineEntry, TimelineEntryKind, Visibility};
use redress_proto::common::v1::SlaClockKind;
use redress_proto::escalation::v1::SlaPolicy;

use super::Calendar;
use super::clock::Clock;
use super::policy;

/// The clock kinds a policy can set targets for, in the order they start.
pub const CLOCKS: [SlaClockKind; 3] = [SlaClockKind::FirstResponse, SlaClockKind::NextUpdate, SlaClockKind::Resolution];

/// The clocks a case opened at `start` runs under `policy`: one per target it sets.
pub fn start_clocks(policy: &SlaPolicy, start: Timestamp) -> Vec<Clock> {
    CLOCKS
        .iter()
        .filter_map(|kind| {
            let target = policy::target(policy, *kind as i32)?;
            Some(Clock::start(*kind as i32, target, policy::warning_percent(policy), start))
        })
        .collect()
}

/// What a case event changed, as the clocks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What happened.
    pub kind: CaseEventType,
    /// The status before.
    pub previous: CaseStatus,
    /// The status after.
    pub status: CaseStatus,
    /// When the case was acknowledged, if it is.
    pub acknowledged_at: Option<Timestamp>,
    /// Whether the change told the customer something.
    pub updates_customer: bool,
    /// When it happened.
    pub at: Timestamp,
}

impl Change {
    /// The change `event` describes, at `at`; `None` for the events that never move a clock
    /// (this service's own escalation and SLA records).
    pub fn of(event: &CaseEvent, at: Timestamp) -> Option<Self> {
        let kind = CaseEventType::try_from(event.r#type).unwrap_or(CaseEventType::Unspecified);
        if matches!(kind, CaseEventType::EscalationRecorded | CaseEventType::SlaStatusRecorded) {
            return None;
        }
        let case = event.case.as_ref();
        Some(Self {
            kind,
            previous: CaseStatus::try_from(event.previous_status).unwrap_or(CaseStatus::Unspecified),
            status: case.map(|c| c.status()).unwrap_or(CaseStatus::Unspecified),
            acknowledged_at: case
                .and_then(|c| c.acknowledgement.as_ref())
                .and_then(|a| a.acknowledge_time.as_ref())
                .and_then(super::time::from_proto_time),
            updates_customer: event.timeline_entry.as_ref().is_some_and(updates_customer),
            at,
        })
    }
}

/// Whether a timeline entry told the customer something (a staff message to them, not theirs).
pub fn updates_customer(entry: &TimelineEntry) -> bool {
    entry.visibility() == Visibility::CustomerFacing
        && !matches!(
            entry.kind(),
            TimelineEntryKind::CustomerMessage
                | TimelineEntryKind::CustomerResponse
                | TimelineEntryKind::Satisfaction
                | TimelineEntryKind::RepeatContact
        )
}

/// Applies `change` to `clock` (see the table above); true when it met the clock, which owes
/// the case a report.
pub fn apply(clock: &mut Clock, calendar: &Calendar, change: &Change) -> bool {
    let at = change.at;
    let awaiting = CaseStatus::AwaitingCustomer;
    let kind = SlaClockKind::try_from(clock.kind).unwrap_or(SlaClockKind::Unspecified);
    let mut met = false;
    if kind == SlaClockKind::FirstResponse
        && let Some(ack) = change.acknowledged_at
    {
        met |= clock.meet(calendar, ack);
    }
    if change.status == awaiting && change.previous != awaiting {
        clock.pause(calendar, at);
    }
    if change.previous == awaiting && change.status != awaiting {
        clock.resume(at);
    }
    let resolved = change.kind == CaseEventType::Resolved;
    match kind {
        SlaClockKind::Resolution if resolved => met |= clock.meet(calendar, at),
        SlaClockKind::NextUpdate if resolved => {
            clock.stop(calendar, at);
        }
        SlaClockKind::NextUpdate if change.updates_customer && change.status != awaiting => {
            // The customer heard from us: this cycle is met, the next starts now.
            met |= clock.meet(calendar, at);
            clock.restart(at);
        }
        _ => {}
    }
    if change.kind == CaseEventType::Closed {
        clock.stop(calendar, at);
    }
    if change.kind == CaseEventType::Reopened && matches!(kind, SlaClockKind::Resolution | SlaClockKind::NextUpdate) {
        clock.restart(at);
    }
    met
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use redress_proto::escalation::v1::ClockState;

    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + secs).unwrap()
    }

    fn change(kind: CaseEventType, previous: CaseStatus, status: CaseStatus, at: i64) -> Change {
        Change { kind, previous, status, acknowledged_at: None, updates_customer: false, at: t(at) }
    }

    fn clocks() -> Vec<Clock> {
        let policy = SlaPolicy {
            first_response_target: Some(prost_types::Duration { seconds: 60, nanos: 0 }),
            resolution_target: Some(prost_types::Duration { seconds: 600, nanos: 0 }),
            next_update_target: Some(prost_types::Duration { seconds: 120, nanos: 0 }),
            ..Default::default()
        };
        start_clocks(&policy, t(0))
    }

    #[test]
    fn a_policy_starts_one_clock_per_target() {
        let kinds: Vec<i32> = clocks().iter().map(|c| c.kind).collect();
        assert_eq!(kinds, [1, 2, 3]);
        let only =
            SlaPolicy { resolution_target: Some(prost_types::Duration { seconds: 5, nanos: 0 }), ..Default::default() };
        assert_eq!(start_clocks(&only, t(0)).len(), 1);
    }

    #[test]
    fn waiting_for_the_customer_pauses_every_clock_and_resolving_meets_resolution() {
        let cal = Calendar::always_open();
        let mut clocks = clocks();
        let wait =
            change(CaseEventType::CustomerInputRequested, CaseStatus::Investigating, CaseStatus::AwaitingCustomer, 10);
        for clock in &mut clocks {
            assert!(!apply(clock, &cal, &wait));
            assert_eq!(clock.state, ClockState::Paused);
        }
        let back =
            change(CaseEventType::CustomerResponded, CaseStatus::AwaitingCustomer, CaseStatus::Investigating, 20);
        for clock in &mut clocks {
            apply(clock, &cal, &back);
            assert_eq!(clock.state, ClockState::Running);
        }
        let resolved = change(CaseEventType::Resolved, CaseStatus::Investigating, CaseStatus::Resolved, 30);
        let met: Vec<bool> = clocks.iter_mut().map(|c| apply(c, &cal, &resolved)).collect();
        assert_eq!(met, [false, false, true], "only resolution is met on resolving");
        assert_eq!(clocks[1].state, ClockState::Stopped, "next update stops");
        assert_eq!(clocks[2].used, Duration::from_secs(20), "ten seconds paused do not count");
    }

    #[test]
    fn acknowledging_meets_first_response_and_an_update_restarts_next_update() {
        let cal = Calendar::always_open();
        let mut clocks = clocks();
        let mut ack = change(CaseEventType::Acknowledged, CaseStatus::New, CaseStatus::Acknowledged, 5);
        ack.acknowledged_at = Some(t(5));
        assert!(apply(&mut clocks[0], &cal, &ack));
        assert_eq!(clocks[0].state, ClockState::Met);
        let mut update =
            change(CaseEventType::TimelineEntryAdded, CaseStatus::Acknowledged, CaseStatus::Acknowledged, 50);
        update.updates_customer = true;
        assert!(apply(&mut clocks[1], &cal, &update));
        assert_eq!((clocks[1].state, clocks[1].cycle), (ClockState::Running, 2));
        let closed = change(CaseEventType::Closed, CaseStatus::Resolved, CaseStatus::Closed, 60);
        apply(&mut clocks[2], &cal, &closed);
        assert_eq!(clocks[2].state, ClockState::Stopped);
        let reopened = change(CaseEventType::Reopened, CaseStatus::Closed, CaseStatus::Investigating, 70);
        apply(&mut clocks[2], &cal, &reopened);
        assert_eq!((clocks[2].state, clocks[2].cycle), (ClockState::Running, 2));
    }
}
