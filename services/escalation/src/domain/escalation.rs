//! When an escalation is owed and how it reads: the level a manual escalation reaches from the
//! roles it names, the unhappy-customer trigger, and the words of an SLA escalation.

use redress_kit::time::clock_text;
use redress_proto::case::v1::Case;
use redress_proto::common::v1::{Severity, SlaClockKind, StaffRole};
use redress_proto::escalation::v1::{EscalationReason, EscalationTrigger};

use super::clock::Clock;
use super::policy::Step;

/// The roles a manual escalation alerts when it names none.
pub fn default_manual_roles() -> Vec<StaffRole> {
    vec![StaffRole::TeamLead, StaffRole::Manager]
}

/// The ladder level a role stands at: team lead (and agent) 2, manager 3, regional director
/// and customer care 4, anyone higher 5.
pub fn role_level(role: StaffRole) -> i32 {
    match role {
        StaffRole::TeamLead | StaffRole::Agent => 2,
        StaffRole::Manager => 3,
        StaffRole::RegionalDirector | StaffRole::CustomerCare => 4,
        _ => 5,
    }
}

/// The level a manual escalation reaches: the highest of the roles it alerts, at least 2.
pub fn manual_level(roles: &[StaffRole]) -> i32 {
    roles.iter().copied().map(role_level).max().unwrap_or(2)
}

/// The round an unhappy-customer escalation of `case` belongs to: one per opening, so a
/// reopened case that is still unhappy escalates again.
pub fn unhappy_round(case: &Case) -> i32 {
    case.reopen_count + 1
}

/// Why `case` is escalated at once as an unhappy customer, in words, if it is: an open case
/// whose customer is unhappy (intake decides that, public complaints included, per the
/// tenant's public channels) or that is critical, not yet escalated this round
/// (`escalated_round` is the last round escalated, 0 for none).
pub fn unhappy_trigger(case: &Case, escalated_round: i32) -> Option<String> {
    let critical = case.severity() == Severity::Critical;
    if !case.is_open() || !(case.unhappy || critical) || escalated_round >= unhappy_round(case) {
        return None;
    }
    Some(if case.unhappy && !case.unhappy_reason.is_empty() {
        format!("unhappy customer: {}", case.unhappy_reason)
    } else if case.unhappy {
        "unhappy customer".to_string()
    } else {
        "critical case".to_string()
    })
}

/// An enum value's name in words, without its prefix: `STAFF_ROLE_TEAM_LEAD` → "team lead".
fn words(name: &str, prefix: &str) -> String {
    name.trim_start_matches(prefix).to_lowercase().replace('_', " ")
}

/// A role in words: `StaffRole::TeamLead` → "team lead".
pub fn role_word(role: StaffRole) -> String {
    words(role.as_str_name(), "STAFF_ROLE_")
}

/// A clock kind (`SlaClockKind` number) in words: "first response"; "none" for no clock.
pub fn clock_name(clock: i32) -> String {
    SlaClockKind::try_from(clock)
        .ok()
        .filter(|c| *c != SlaClockKind::Unspecified)
        .map(|c| words(c.as_str_name(), "SLA_CLOCK_KIND_"))
        .unwrap_or_else(|| "none".into())
}

/// Why a ladder `step` of `clock` fires, as a reason and in words: "resolution at 75% of its
/// target 4h 00m", "first response breached: target 30m passed", "… breached 1h 00m ago".
pub fn step_reason(clock: &Clock, step: &Step) -> (EscalationReason, String) {
    let name = clock_name(clock.kind);
    let span = |d: std::time::Duration| clock_text(i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    match step.trigger {
        EscalationTrigger::Warning => (
            EscalationReason::SlaWarning,
            format!(
                "{name} at {}% of its target {}",
                (clock.warning.as_secs_f64() / clock.target.as_secs_f64().max(1e-9) * 100.0).round(),
                span(clock.target)
            ),
        ),
        _ if step.delay.is_zero() => {
            (EscalationReason::SlaBreach, format!("{name} breached: target {} passed", span(clock.target)))
        }
        _ => (
            EscalationReason::SlaBreach,
            format!("{name} breached {} ago: target {}", span(step.delay), span(clock.target)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use redress_proto::case::v1::CaseStatus;

    use super::*;
    use crate::domain::policy::default_ladder;

    fn case(status: CaseStatus, unhappy: bool, severity: Severity) -> Case {
        Case { status: status as i32, unhappy, severity: severity as i32, ..Default::default() }
    }

    #[test]
    fn manual_escalations_reach_the_level_of_their_highest_role() {
        assert_eq!(manual_level(&default_manual_roles()), 3);
        assert_eq!(manual_level(&[StaffRole::Agent]), 2);
        assert_eq!(manual_level(&[StaffRole::TeamLead, StaffRole::CustomerCare]), 4);
        assert_eq!(manual_level(&[StaffRole::SeniorLeader]), 5);
        assert_eq!(manual_level(&[]), 2);
    }

    #[test]
    fn unhappy_or_critical_open_cases_escalate_once_a_round() {
        let mut unhappy = case(CaseStatus::New, true, Severity::Medium);
        unhappy.unhappy_reason = "public complaint (social media)".into();
        assert_eq!(unhappy_trigger(&unhappy, 0).as_deref(), Some("unhappy customer: public complaint (social media)"));
        assert_eq!(unhappy_trigger(&unhappy, 1), None, "once a round");
        unhappy.reopen_count = 1;
        assert!(unhappy_trigger(&unhappy, 1).is_some(), "again after a reopening");
        let critical = case(CaseStatus::Investigating, false, Severity::Critical);
        assert_eq!(unhappy_trigger(&critical, 0).as_deref(), Some("critical case"));
        assert_eq!(
            unhappy_trigger(&case(CaseStatus::New, true, Severity::Low), 0).as_deref(),
            Some("unhappy customer")
        );
        assert_eq!(unhappy_trigger(&case(CaseStatus::New, false, Severity::High), 0), None, "calm, not critical");
        assert_eq!(unhappy_trigger(&case(CaseStatus::Resolved, true, Severity::Critical), 0), None, "not open");
    }

    #[test]
    fn sla_escalations_say_which_clock_and_how_late() {
        let clock = Clock::start(
            SlaClockKind::Resolution as i32,
            Duration::from_secs(4 * 3600),
            75,
            jiff::Timestamp::UNIX_EPOCH,
        );
        let ladder = default_ladder();
        assert_eq!(step_reason(&clock, &ladder[0]).1, "resolution at 75% of its target 4h 00m");
        assert_eq!(
            step_reason(&clock, &ladder[1]),
            (EscalationReason::SlaBreach, "resolution breached: target 4h 00m passed".into())
        );
        assert_eq!(step_reason(&clock, &ladder[2]).1, "resolution breached 1h 00m ago: target 4h 00m");
        assert_eq!(clock_name(0), "none");
        assert_eq!(role_word(StaffRole::RegionalDirector), "regional director");
    }
}
