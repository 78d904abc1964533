//! How one case event becomes reporting rows.
//!
//! Every event carries the whole case as it was right after the change, so the case's row is
//! a pure function of the latest event: replaying the log from event 0 gives the same rows.
//! Enumerations are stored by their protobuf names (`CHANNEL_EMAIL`), which BI tools show as
//! they are and the reports map back.
//!
//! Times to acknowledge and resolve come in two kinds:
//! - wall time, from the case's own timestamps: acknowledgement (or resolution) minus creation;
//! - business time, from the SLA clock the escalation service reported on the case: the
//!   `business_time_used` of the FIRST_RESPONSE (or RESOLUTION) clock once it is met. A case
//!   without a met clock of that kind has no business time.

use std::collections::HashMap;

use redress_proto::case::v1::{CaseEvent, CaseEventType, CaseStatus, OfferState, SurveyScale};
use redress_proto::common::v1::{Channel, Severity, SlaClockKind};

use super::{Micros, duration_us, timestamp_us};

/// One row per case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFact {
    /// The tenant.
    pub tenant: String,
    /// The case id (the last segment of its name).
    pub case_id: String,
    /// The case reference quoted to the customer.
    pub reference: String,
    /// `CASE_STATUS_…`.
    pub status: String,
    /// `CHANNEL_…`.
    pub channel: String,
    /// The category, empty when none.
    pub category: String,
    /// `SEVERITY_…`.
    pub severity: String,
    /// Whether the customer is unhappy.
    pub unhappy: bool,
    /// The owner's staff id, empty when unowned.
    pub owner: String,
    /// The owning team.
    pub team: String,
    /// The product referenced.
    pub product_id: String,
    /// The store, site or region referenced.
    pub location_id: String,
    /// Creation time.
    pub create_us: Micros,
    /// Last change.
    pub update_us: Micros,
    /// When acknowledged.
    pub acknowledge_us: Option<Micros>,
    /// When last resolved (kept after a reopen).
    pub resolve_us: Option<Micros>,
    /// When closed.
    pub close_us: Option<Micros>,
    /// Wall time from creation to acknowledgement.
    pub ack_wall_us: Option<Micros>,
    /// Business time to acknowledgement: the met FIRST_RESPONSE clock's time used.
    pub ack_business_us: Option<Micros>,
    /// Wall time from creation to the last resolution, while resolved or closed.
    pub resolve_wall_us: Option<Micros>,
    /// Business time to resolution: the met RESOLUTION clock's time used, while resolved or closed.
    pub resolve_business_us: Option<Micros>,
    /// Whether it is no longer open now (resolved or closed; see [`CaseStatus::is_open`]).
    pub resolved: bool,
    /// Whether it was ever resolved.
    pub ever_resolved: bool,
    /// The FIRST_RESPONSE clock was met.
    pub first_response_met: bool,
    /// The FIRST_RESPONSE clock was breached.
    pub first_response_breached: bool,
    /// The NEXT_UPDATE clock was breached (the store keeps "ever").
    pub next_update_breached: bool,
    /// The RESOLUTION clock was met.
    pub resolution_met: bool,
    /// The RESOLUTION clock was breached.
    pub resolution_breached: bool,
    /// Any clock breached (the store keeps "ever").
    pub sla_breached: bool,
    /// Highest escalation level reached; 0 when none.
    pub highest_escalation_level: i32,
    /// Escalations recorded.
    pub escalation_count: i32,
    /// Offers made.
    pub offer_count: i32,
    /// The accepted offer's kind (`OFFER_KIND_…`).
    pub accepted_offer_kind: Option<String>,
    /// The accepted offer's amount in minor units.
    pub accepted_amount_minor: Option<i64>,
    /// The accepted offer's currency.
    pub accepted_currency: Option<String>,
    /// `SURVEY_SCALE_…` of the satisfaction answer.
    pub satisfaction_scale: Option<String>,
    /// The satisfaction score on its scale.
    pub satisfaction_score: Option<i32>,
    /// Times reopened.
    pub reopen_count: i32,
    /// The root-cause category, empty when not documented.
    pub root_cause: String,
    /// The case version this row reflects.
    pub version: i64,
    /// The sequence of the event this row was folded from.
    pub last_sequence: i64,
}

/// One row per event: the events fact table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFact {
    /// Position in the case log.
    pub sequence: i64,
    /// The tenant.
    pub tenant: String,
    /// The event's UUID.
    pub event_id: String,
    /// The case id.
    pub case_id: String,
    /// `CASE_EVENT_TYPE_…`.
    pub event_type: String,
    /// When the change was committed.
    pub event_us: Micros,
    /// Who made the change.
    pub actor: String,
    /// Status after the change.
    pub status: String,
    /// Status before the change.
    pub previous_status: String,
}

/// One row per SLA clock of a case, as last reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaFact {
    /// The tenant.
    pub tenant: String,
    /// The case id.
    pub case_id: String,
    /// `SLA_CLOCK_KIND_…`.
    pub clock: String,
    /// The policy's resource name.
    pub sla_policy: String,
    /// The target in business time.
    pub target_us: Micros,
    /// Business time used when reported.
    pub business_time_used_us: Micros,
    /// Met (in time or late).
    pub met: bool,
    /// Breached.
    pub breached: bool,
    /// Paused while the case awaits the customer.
    pub paused: bool,
    /// When met.
    pub met_us: Option<Micros>,
    /// When breached.
    pub breach_us: Option<Micros>,
    /// When it runs out at the current pace.
    pub due_us: Option<Micros>,
}

/// One row per escalation recorded on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationFact {
    /// The tenant.
    pub tenant: String,
    /// The case id.
    pub case_id: String,
    /// Its position on the case, from 0.
    pub position: i32,
    /// The escalation's resource name in the escalation service.
    pub escalation: String,
    /// `SLA_CLOCK_KIND_…`, or unspecified for an unhappy customer or by hand.
    pub clock: String,
    /// The ladder level.
    pub level: i32,
    /// Why.
    pub reason: String,
    /// How many people were alerted.
    pub notified_count: i32,
    /// When it fired.
    pub escalate_us: Option<Micros>,
}

/// What one event folds into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folded {
    /// The event's row.
    pub event: EventFact,
    /// The case's row after the event.
    pub case: CaseFact,
    /// The case's clocks.
    pub clocks: Vec<SlaFact>,
    /// The case's escalations.
    pub escalations: Vec<EscalationFact>,
}

/// The id of a case from its name `tenants/{tenant}/cases/{case}`.
pub fn case_id_of(name: &str) -> Option<&str> {
    let mut parts = name.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("tenants"), Some(_), Some("cases"), Some(id), None) if !id.is_empty() => Some(id),
        _ => None,
    }
}

fn status_name(value: i32) -> String {
    CaseStatus::try_from(value).unwrap_or(CaseStatus::Unspecified).as_str_name().to_string()
}

/// The protobuf name of a clock kind.
pub fn clock_name(value: i32) -> String {
    SlaClockKind::try_from(value).unwrap_or(SlaClockKind::Unspecified).as_str_name().to_string()
}

/// Folds one event. None when it carries no case (nothing to report on).
pub fn fold(event: &CaseEvent) -> Option<Folded> {
    let case = event.case.as_ref()?;
    let case_id = case_id_of(&case.name)?.to_string();
    let tenant = event.tenant.clone();
    let status = CaseStatus::try_from(case.status).unwrap_or(CaseStatus::Unspecified);
    let create_us = case.create_time.as_ref().map(timestamp_us).unwrap_or_default();
    let acknowledge_us = case.acknowledgement.as_ref().and_then(|a| a.acknowledge_time.as_ref()).map(timestamp_us);
    let resolve_us = case.resolve_time.as_ref().map(timestamp_us);
    let resolved = !case.is_open();
    let clock = |kind: SlaClockKind| case.sla.iter().find(|s| s.clock == kind as i32);
    let met_business = |kind: SlaClockKind| {
        clock(kind).filter(|s| s.met).map(|s| s.business_time_used.as_ref().map(duration_us).unwrap_or_default())
    };
    let breached = |kind: SlaClockKind| clock(kind).is_some_and(|s| s.breached);
    let accepted = case.offers.iter().rev().find(|o| o.state == OfferState::Accepted as i32);
    let satisfaction = case.satisfaction.as_ref();

    let fact = CaseFact {
        tenant: tenant.clone(),
        case_id: case_id.clone(),
        reference: case.reference.clone(),
        status: status.as_str_name().to_string(),
        channel: Channel::try_from(case.channel).unwrap_or(Channel::Unspecified).as_str_name().to_string(),
        category: case.category.clone(),
        severity: Severity::try_from(case.severity).unwrap_or(Severity::Unspecified).as_str_name().to_string(),
        unhappy: case.unhappy,
        owner: case.owner.clone(),
        team: case.team.clone(),
        product_id: case.references.as_ref().map(|r| r.product_id.clone()).unwrap_or_default(),
        location_id: case.references.as_ref().map(|r| r.location_id.clone()).unwrap_or_default(),
        create_us,
        update_us: case.update_time.as_ref().map(timestamp_us).unwrap_or(create_us),
        acknowledge_us,
        resolve_us,
        close_us: case.close_time.as_ref().map(timestamp_us),
        ack_wall_us: acknowledge_us.map(|t| (t - create_us).max(0)),
        ack_business_us: met_business(SlaClockKind::FirstResponse),
        resolve_wall_us: resolve_us.filter(|_| resolved).map(|t| (t - create_us).max(0)),
        resolve_business_us: met_business(SlaClockKind::Resolution).filter(|_| resolved),
        resolved,
        ever_resolved: resolve_us.is_some(),
        first_response_met: clock(SlaClockKind::FirstResponse).is_some_and(|s| s.met),
        first_response_breached: breached(SlaClockKind::FirstResponse),
        next_update_breached: breached(SlaClockKind::NextUpdate),
        resolution_met: clock(SlaClockKind::Resolution).is_some_and(|s| s.met),
        resolution_breached: breached(SlaClockKind::Resolution),
        sla_breached: case.sla.iter().any(|s| s.breached),
        highest_escalation_level: case.escalations.iter().map(|e| e.level).max().unwrap_or(0).max(0),
        escalation_count: i32::try_from(case.escalations.len()).unwrap_or(i32::MAX),
        offer_count: i32::try_from(case.offers.len()).unwrap_or(i32::MAX),
        accepted_offer_kind: accepted.map(|o| o.kind().as_str_name().to_string()),
        accepted_amount_minor: accepted.and_then(|o| o.amount.as_ref()).map(|m| m.amount_minor),
        accepted_currency: accepted.and_then(|o| o.amount.as_ref()).map(|m| m.currency_code.clone()),
        satisfaction_scale: satisfaction
            .map(|s| SurveyScale::try_from(s.scale).unwrap_or(SurveyScale::Unspecified).as_str_name().to_string()),
        satisfaction_score: satisfaction.map(|s| s.score),
        reopen_count: case.reopen_count,
        root_cause: case.root_cause.as_ref().map(|r| r.category.clone()).unwrap_or_default(),
        version: case.version,
        last_sequence: event.sequence,
    };
    let clocks = case
        .sla
        .iter()
        .map(|s| SlaFact {
            tenant: tenant.clone(),
            case_id: case_id.clone(),
            clock: clock_name(s.clock),
            sla_policy: s.sla_policy.clone(),
            target_us: s.target.as_ref().map(duration_us).unwrap_or_default(),
            business_time_used_us: s.business_time_used.as_ref().map(duration_us).unwrap_or_default(),
            met: s.met,
            breached: s.breached,
            paused: s.paused,
            met_us: s.met_time.as_ref().map(timestamp_us),
            breach_us: s.breach_time.as_ref().map(timestamp_us),
            due_us: s.due_time.as_ref().map(timestamp_us),
        })
        .collect();
    let escalations = case
        .escalations
        .iter()
        .enumerate()
        .map(|(i, e)| EscalationFact {
            tenant: tenant.clone(),
            case_id: case_id.clone(),
            position: i32::try_from(i).unwrap_or(i32::MAX),
            escalation: e.escalation.clone(),
            clock: clock_name(e.clock),
            level: e.level,
            reason: e.reason.clone(),
            notified_count: i32::try_from(e.notified.len()).unwrap_or(i32::MAX),
            escalate_us: e.escalate_time.as_ref().map(timestamp_us),
        })
        .collect();
    let event = EventFact {
        sequence: event.sequence,
        tenant,
        event_id: event.event_id.clone(),
        case_id,
        event_type: CaseEventType::try_from(event.r#type)
            .unwrap_or(CaseEventType::Unspecified)
            .as_str_name()
            .to_string(),
        event_us: event.event_time.as_ref().map(timestamp_us).unwrap_or_default(),
        actor: event.actor.clone(),
        status: fact.status.clone(),
        previous_status: status_name(event.previous_status),
    };
    Some(Folded { event, case: fact, clocks, escalations })
}

/// What a batch of events folds into: every event's row, and the latest fold of each case.
#[derive(Debug, Default)]
pub struct Batch {
    /// The events' rows, in log order.
    pub events: Vec<EventFact>,
    /// The latest fold of each case in the batch, in first-seen order.
    pub cases: Vec<Folded>,
    /// Where each (tenant, case id) is in `cases`.
    index: HashMap<(String, String), usize>,
}

impl Batch {
    /// Adds the fold of the next event in log order.
    pub fn add(&mut self, folded: Folded) {
        self.events.push(folded.event.clone());
        let key = (folded.case.tenant.clone(), folded.case.case_id.clone());
        match self.index.get(&key) {
            Some(&i) => self.cases[i] = folded,
            None => {
                self.index.insert(key, self.cases.len());
                self.cases.push(folded);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use redress_proto::case::v1::*;
    use redress_proto::common::v1::{CaseReferences, Money};

    use super::*;
    use crate::domain::{to_duration, to_timestamp};

    const T0: i64 = 1_700_000_000_000_000;

    fn sla(kind: SlaClockKind, used_min: i64, met: bool, breached: bool) -> SlaStatus {
        SlaStatus {
            clock: kind as i32,
            target: Some(to_duration(60 * 60_000_000)),
            business_time_used: Some(to_duration(used_min * 60_000_000)),
            met,
            breached,
            ..Default::default()
        }
    }

    fn resolved_case() -> Case {
        Case {
            name: "tenants/acme/cases/0190-abc".into(),
            reference: "RD-1".into(),
            channel: redress_proto::common::v1::Channel::Email as i32,
            category: "delivery".into(),
            severity: redress_proto::common::v1::Severity::High as i32,
            status: CaseStatus::Resolved as i32,
            owner: "agent-7".into(),
            team: "north".into(),
            references: Some(CaseReferences { product_id: "SKU-1".into(), ..Default::default() }),
            acknowledgement: Some(Acknowledgement {
                acknowledge_time: Some(to_timestamp(T0 + 30 * 60_000_000)),
                ..Default::default()
            }),
            offers: vec![
                ResolutionOffer { state: OfferState::Rejected as i32, ..Default::default() },
                ResolutionOffer {
                    kind: OfferKind::Refund as i32,
                    state: OfferState::Accepted as i32,
                    amount: Some(Money { amount_minor: 1250, currency_code: "EUR".into() }),
                    ..Default::default()
                },
            ],
            sla: vec![
                sla(SlaClockKind::FirstResponse, 20, true, false),
                sla(SlaClockKind::NextUpdate, 90, false, true),
                sla(SlaClockKind::Resolution, 300, true, true),
            ],
            escalations: vec![
                EscalationRecord { level: 1, ..Default::default() },
                EscalationRecord { level: 3, notified: vec!["a".into(), "b".into()], ..Default::default() },
            ],
            satisfaction: Some(Satisfaction { scale: SurveyScale::Csat as i32, score: 4, ..Default::default() }),
            create_time: Some(to_timestamp(T0)),
            resolve_time: Some(to_timestamp(T0 + 5 * 3_600_000_000)),
            version: 9,
            ..Default::default()
        }
    }

    fn event(case: Case) -> CaseEvent {
        CaseEvent {
            sequence: 42,
            event_id: "e-1".into(),
            tenant: "acme".into(),
            r#type: CaseEventType::Resolved as i32,
            event_time: case.resolve_time,
            case: Some(case),
            previous_status: CaseStatus::Investigating as i32,
            ..Default::default()
        }
    }

    #[test]
    fn a_resolved_case_folds_into_its_row() {
        let folded = fold(&event(resolved_case())).unwrap();
        let c = &folded.case;
        assert_eq!((c.tenant.as_str(), c.case_id.as_str()), ("acme", "0190-abc"));
        assert_eq!(c.status, "CASE_STATUS_RESOLVED");
        assert_eq!(c.channel, "CHANNEL_EMAIL");
        assert_eq!(c.severity, "SEVERITY_HIGH");
        assert_eq!(c.product_id, "SKU-1");
        assert_eq!(c.ack_wall_us, Some(30 * 60_000_000));
        assert_eq!(c.ack_business_us, Some(20 * 60_000_000), "business time from the met first-response clock");
        assert_eq!(c.resolve_wall_us, Some(5 * 3_600_000_000));
        assert_eq!(c.resolve_business_us, Some(300 * 60_000_000));
        assert!(c.resolved && c.ever_resolved);
        assert!(c.first_response_met && !c.first_response_breached);
        assert!(c.next_update_breached && c.resolution_breached && c.sla_breached);
        assert_eq!((c.highest_escalation_level, c.escalation_count, c.offer_count), (3, 2, 2));
        assert_eq!(c.accepted_amount_minor, Some(1250));
        assert_eq!(c.accepted_offer_kind.as_deref(), Some("OFFER_KIND_REFUND"));
        assert_eq!(c.satisfaction_score, Some(4));
        assert_eq!((c.version, c.last_sequence), (9, 42));
        assert_eq!(folded.clocks.len(), 3);
        assert_eq!(folded.escalations[1].notified_count, 2);
        assert_eq!(folded.event.previous_status, "CASE_STATUS_INVESTIGATING");
        assert_eq!(folded.event.event_type, "CASE_EVENT_TYPE_RESOLVED");
    }

    #[test]
    fn a_reopened_case_is_not_resolved_but_was() {
        let mut case = resolved_case();
        case.status = CaseStatus::Reopened as i32;
        case.reopen_count = 1;
        let c = fold(&event(case)).unwrap().case;
        assert!(!c.resolved && c.ever_resolved);
        assert_eq!(c.resolve_wall_us, None);
        assert_eq!(c.resolve_business_us, None);
    }

    #[test]
    fn an_unmet_clock_has_no_business_time_and_nameless_events_fold_to_nothing() {
        let mut case = resolved_case();
        case.sla = vec![sla(SlaClockKind::FirstResponse, 10, false, false)];
        let c = fold(&event(case)).unwrap().case;
        assert_eq!(c.ack_business_us, None);
        let mut nameless = event(resolved_case());
        if let Some(case) = nameless.case.as_mut() {
            case.name = "garbage".into();
        }
        assert!(fold(&nameless).is_none());
        assert!(fold(&CaseEvent::default()).is_none());
        assert_eq!(case_id_of("tenants/a/cases/x/tasks/1"), None);
    }
}
