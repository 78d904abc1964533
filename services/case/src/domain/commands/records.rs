//! What other services and the customer report about a case: escalations, SLA clocks,
//! satisfaction, and the erasure of personal data.

use redress_kit::time::clock_text;
use redress_proto::case::v1::{
    Case, CaseEventType, Erasure, ErasureTrigger, EscalationRecord, Satisfaction, SlaStatus, SurveyScale,
    TimelineEntryKind, Visibility,
};

use super::{Change, Step};

pub(super) fn escalation(case: &mut Case, mut record: EscalationRecord, step: &Step) -> Change {
    if record.escalate_time.is_none() {
        record.escalate_time = step.time();
    }
    let mut text = format!("escalated to level {}", record.level);
    if !record.reason.is_empty() {
        text.push_str(&format!(": {}", record.reason));
    }
    if !record.notified.is_empty() {
        text.push_str(&format!("; alerted {}", record.notified.join(", ")));
    }
    case.escalations.push(record.clone());
    let mut change =
        step.change(CaseEventType::EscalationRecorded, TimelineEntryKind::Escalation, Visibility::Internal, text);
    change.escalation = Some(record);
    change
}

pub(super) fn sla(case: &mut Case, sla: SlaStatus, step: &Step) -> Change {
    let clock = redress_proto::common::v1::SlaClockKind::try_from(sla.clock)
        .map(|c| c.as_str_name().trim_start_matches("SLA_CLOCK_KIND_").to_lowercase().replace('_', " "))
        .unwrap_or_default();
    let state = match (sla.met, sla.breached) {
        (true, false) => "met",
        (true, true) => "met late",
        (false, true) => "breached",
        (false, false) if sla.paused => "paused",
        (false, false) => "running",
    };
    let used = sla.business_time_used.as_ref().map(|d| d.seconds).unwrap_or_default();
    let target = sla.target.as_ref().map(|d| d.seconds).unwrap_or_default();
    let text = format!("{clock} clock {state}: {} of {} business time used", clock_text(used), clock_text(target));
    case.sla.retain(|s| s.clock != sla.clock);
    case.sla.push(sla);
    case.sla.sort_by_key(|s| s.clock);
    step.change(CaseEventType::SlaStatusRecorded, TimelineEntryKind::Sla, Visibility::Internal, text)
}

pub(super) fn satisfaction(case: &mut Case, mut satisfaction: Satisfaction, step: &Step) -> Change {
    if satisfaction.respond_time.is_none() {
        satisfaction.respond_time = step.time();
    }
    let scale = match satisfaction.scale() {
        SurveyScale::Nps => "NPS 0-10",
        _ => "CSAT 1-5",
    };
    let mut text = format!("customer rated {} ({scale})", satisfaction.score);
    if !satisfaction.comment.is_empty() {
        text.push_str(&format!(": \"{}\"", satisfaction.comment));
    }
    case.satisfaction = Some(satisfaction);
    step.change(CaseEventType::SatisfactionRecorded, TimelineEntryKind::Satisfaction, Visibility::CustomerFacing, text)
}

pub(super) fn erase_personal_data(case: &mut Case, erasure: Erasure, anonymous_id: &str, step: &Step) -> Change {
    crate::domain::erase::redact_case(case, anonymous_id);
    let why = match erasure.trigger() {
        ErasureTrigger::Retention => "after the tenant's retention period",
        _ => "on the customer's request",
    };
    let text = format!("personal data erased {why} ({})", erasure.name);
    let mut change =
        step.change(CaseEventType::PersonalDataErased, TimelineEntryKind::Note, Visibility::Internal, text);
    change.entry.attributes.insert("erasure".into(), erasure.name.clone());
    change.erasure = Some(erasure);
    change
}
