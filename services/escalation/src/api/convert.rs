//! The application's answers as the contract's messages.

use redress_proto::escalation::v1::{ClockState, SlaClock};

use crate::app::sla::CaseSla;
use crate::domain::time::{proto_duration, proto_time};

/// A case's clocks as they stand at `now`.
pub fn clocks(sla: &CaseSla, now: jiff::Timestamp) -> Vec<SlaClock> {
    let calendar = &sla.timing.calendar;
    sla.clocks
        .iter()
        .map(|clock| {
            let used = clock.used_at(calendar, now);
            SlaClock {
                kind: clock.kind,
                target: Some(proto_duration(clock.target)),
                due_time: if clock.state == ClockState::Running { clock.due(calendar).map(proto_time) } else { None },
                business_time_used: Some(proto_duration(used)),
                business_time_remaining: Some(proto_duration(clock.target.saturating_sub(used))),
                state: clock.state as i32,
                breached: clock.breached() || used > clock.target,
                escalation_level: clock.level,
                start_time: clock.since.map(proto_time),
                met_time: clock.met_at.map(proto_time),
                breach_time: clock.breached_at.map(proto_time),
                escalation_acknowledged: clock.acknowledged,
            }
        })
        .collect()
}
