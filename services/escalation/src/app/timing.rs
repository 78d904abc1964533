//! What every use case that moves a clock shares: a timed case with the calendar and policy its
//! clocks run under, writing a clock while planning its timer, and owing the case a report of
//! a clock's state.

use prost::Message;
use redress_kit::db::Txn;
use redress_proto::case::v1::{RecordSlaStatusRequest, SlaStatus};
use redress_proto::escalation::v1::{Calendar as CalendarProto, ClockState, SlaPolicy};

use crate::domain::Calendar;
use crate::domain::clock::Clock;
use crate::domain::policy::{self, Step};
use crate::domain::time::{proto_duration, proto_time};
use crate::error::Error;
use crate::store::effects::{Kind, enqueue};
use crate::store::{TimedCase, cases};
use crate::timers::TimerKey;

/// Everything needed to act on a timed case's clocks.
pub struct Timing {
    /// The case as last seen.
    pub case: TimedCase,
    /// The calendar its clocks run in.
    pub calendar: Calendar,
    /// The policy its clocks started under, if any.
    pub policy: Option<SlaPolicy>,
    /// The policy's ladder.
    pub ladder: Vec<Step>,
}

impl Timing {
    /// The timing of a case row.
    pub fn of(case: TimedCase) -> Result<Self, Error> {
        let corrupt =
            |what: &str, e: &dyn std::fmt::Display| Error::Corrupt(format!("{what} of case {}: {e}", case.case_id));
        let calendar = if case.calendar_document.is_empty() {
            Calendar::always_open()
        } else {
            let proto =
                CalendarProto::decode(case.calendar_document.as_slice()).map_err(|e| corrupt("calendar", &e))?;
            Calendar::from_proto("calendar", &proto).map_err(|e| corrupt("calendar", &e))?
        };
        let policy = if case.policy_document.is_empty() {
            None
        } else {
            Some(SlaPolicy::decode(case.policy_document.as_slice()).map_err(|e| corrupt("policy", &e))?)
        };
        let ladder = policy.as_ref().map(policy::ladder).unwrap_or_default();
        Ok(Self { case, calendar, policy, ladder })
    }
}

/// Timers to add to and remove from the index once a transaction commits.
#[derive(Debug, Default)]
pub struct Plan {
    /// Members and when they fire.
    pub schedule: Vec<(String, i64)>,
    /// Members no longer wanted.
    pub cancel: Vec<String>,
}

impl Plan {
    /// Adds what `other` planned.
    pub fn merge(&mut self, other: Plan) {
        self.schedule.extend(other.schedule);
        self.cancel.extend(other.cancel);
    }
}

/// Writes a clock and plans its timer; `previous` is its generation before the change.
pub async fn save_clock(
    txn: &Txn,
    timing: &Timing,
    clock: &Clock,
    previous: Option<i32>,
    plan: &mut Plan,
) -> Result<(), Error> {
    let next = clock.next_fire(&timing.calendar, &timing.ladder);
    cases::save_clock(txn, &timing.case.tenant, timing.case.case_id, clock, next).await?;
    let key = |generation: i32| TimerKey {
        case_id: timing.case.case_id,
        clock: clock.kind as u8,
        generation: generation as u32,
    };
    if let Some(old) = previous.filter(|g| *g != clock.generation) {
        plan.cancel.push(key(old).encode());
    }
    if let Some(next) = next {
        plan.schedule.push((key(clock.generation).encode(), next.as_millisecond()));
    }
    Ok(())
}

/// Owes the case a report of `clock`'s state; `what` tells reports of one cycle apart.
pub async fn report(txn: &Txn, timing: &Timing, clock: &Clock, what: &str) -> Result<(), Error> {
    let calendar = &timing.calendar;
    let at = clock.met_at.or(clock.breached_at).unwrap_or_else(jiff::Timestamp::now);
    let status = SlaStatus {
        clock: clock.kind,
        sla_policy: timing.case.policy.clone(),
        target: Some(proto_duration(clock.target)),
        business_time_used: Some(proto_duration(clock.used_at(calendar, at))),
        due_time: clock.due(calendar).map(proto_time),
        met: clock.state == ClockState::Met,
        breached: clock.breached(),
        met_time: clock.met_at.map(proto_time),
        breach_time: clock.breached_at.map(proto_time),
        paused: clock.state == ClockState::Paused,
    };
    let request_id = format!("{}/{}/{}/{what}", timing.case.name, clock.kind, clock.cycle);
    let request =
        RecordSlaStatusRequest { name: timing.case.name.clone(), status: Some(status), request_id: request_id.clone() };
    enqueue(txn, &timing.case.tenant, Kind::Sla, &request_id, request.encode_to_vec()).await
}
