//! Firing an escalation: who is alerted, the record of it, and the calls owed to the
//! notification and case services, all written in the caller's transaction under one
//! idempotency key, so each key has at most one effect, ever.

use std::collections::BTreeMap;

use prost::Message;
use prost_types::value::Kind as ValueKind;
use redress_kit::db::Txn;
use redress_proto::case::v1::{CreateTaskRequest, EscalationRecord, RecordEscalationRequest, Task, TaskKind};
use redress_proto::common::v1::StaffRole;
use redress_proto::escalation::v1::{Escalation, EscalationReason, StaffMember};
use redress_proto::notification::v1::{
    Notification, NotificationChannel, Priority, Recipient, SendNotificationRequest, TemplateContent, notification,
    recipient,
};
use uuid::Uuid;

use crate::domain::escalation::clock_name;
use crate::domain::time::proto_time;
use crate::error::Error;
use crate::store::TimedCase;
use crate::store::directory::{member, with_role};
use crate::store::effects::{Kind, enqueue};

/// An escalation to fire.
pub struct Alert<'a> {
    /// The case.
    pub case: &'a TimedCase,
    /// The clock, or 0 for an unhappy customer or a manual escalation.
    pub clock: i32,
    /// The level reached.
    pub level: i32,
    /// Why.
    pub reason: EscalationReason,
    /// Why, in words.
    pub reason_text: String,
    /// The roles alerted.
    pub roles: Vec<StaffRole>,
    /// Whether the owner is alerted.
    pub notify_owner: bool,
    /// Who escalated by hand; empty for automatic escalations.
    pub creator: String,
    /// The idempotency key: one escalation per key, ever.
    pub key: String,
    /// Whether to put "call the customer" and "email from a senior leader" tasks on the case.
    pub tasks: bool,
}

/// The template staff alerts are rendered from.
pub const ALERT_TEMPLATE: &str = "escalation_alert";

fn text(value: impl Into<String>) -> prost_types::Value {
    prost_types::Value { kind: Some(ValueKind::StringValue(value.into())) }
}

fn object(fields: BTreeMap<String, prost_types::Value>) -> prost_types::Value {
    prost_types::Value { kind: Some(ValueKind::StructValue(prost_types::Struct { fields })) }
}

fn staff_id(member: &StaffMember) -> &str {
    member.name.rsplit('/').next().unwrap_or_default()
}

/// Records the escalation and owes its effects, in `db`. `None` when the key was used before:
/// nothing more happens.
pub async fn escalate(db: &Txn, alert: Alert<'_>, now: jiff::Timestamp) -> Result<Option<Escalation>, Error> {
    let case = alert.case;
    let tenant = case.tenant.as_str();
    let owner = if case.owner.is_empty() { None } else { member(db, tenant, &case.owner).await? };
    let region = owner.as_ref().map(|o| o.region.clone()).unwrap_or_default();
    let told = super::who::decide(db, &alert, owner.as_ref(), &region).await?;
    let recipients = told.staff;

    let id = Uuid::now_v7();
    let escalation = Escalation {
        name: format!("tenants/{tenant}/escalations/{id}"),
        case: case.name.clone(),
        clock: alert.clock,
        level: alert.level,
        reason: alert.reason as i32,
        reason_text: alert.reason_text.clone(),
        notified_staff: recipients.iter().map(|r| r.name.clone()).collect(),
        notifications: Vec::new(),
        creator: alert.creator.clone(),
        escalate_time: Some(proto_time(now)),
        acknowledged: false,
        acknowledger: String::new(),
        acknowledge_time: None,
        acknowledgement_note: String::new(),
        notified_because: told.because,
    };
    if !crate::store::escalations::insert(db, tenant, id, case.case_id, &alert.key, now, &escalation).await? {
        return Ok(None);
    }

    let urgent = matches!(alert.reason, EscalationReason::SlaBreach | EscalationReason::UnhappyCustomer);
    for recipient in &recipients {
        let (channel, address) = if !recipient.email.is_empty() {
            (NotificationChannel::Email, recipient.email.clone())
        } else if !recipient.phone.is_empty() {
            (NotificationChannel::Sms, recipient.phone.clone())
        } else {
            tracing::debug!(staff = %recipient.name, "no email or phone to alert");
            continue;
        };
        let variables = BTreeMap::from([
            (
                "case".to_string(),
                object(BTreeMap::from([
                    ("reference".into(), text(&case.reference)),
                    ("name".into(), text(&case.name)),
                    ("subject".into(), text(&case.subject)),
                    ("owner".into(), text(&case.owner)),
                    ("team".into(), text(&case.team)),
                ])),
            ),
            (
                "staff".to_string(),
                object(BTreeMap::from([
                    ("display_name".into(), text(&recipient.display_name)),
                    (
                        "role".into(),
                        text(StaffRole::try_from(recipient.role).map(|r| r.as_str_name()).unwrap_or_default()),
                    ),
                ])),
            ),
            (
                "escalation".to_string(),
                object(BTreeMap::from([
                    ("level".into(), text(alert.level.to_string())),
                    ("reason".into(), text(&alert.reason_text)),
                    ("clock".into(), text(clock_name(alert.clock))),
                ])),
            ),
        ]);
        let request_id = format!("{}/notify/{}", alert.key, staff_id(recipient));
        let request = SendNotificationRequest {
            parent: format!("tenants/{tenant}"),
            notification: Some(Notification {
                recipient: Some(Recipient { recipient: Some(recipient::Recipient::Address(address)) }),
                channel: channel as i32,
                content: Some(notification::Content::Template(TemplateContent {
                    template_key: ALERT_TEMPLATE.into(),
                    locale: recipient.locale.clone(),
                    variables: Some(prost_types::Struct { fields: variables }),
                })),
                priority: if urgent { Priority::Urgent } else { Priority::High } as i32,
                case: case.name.clone(),
                ..Notification::default()
            }),
            request_id: request_id.clone(),
        };
        enqueue(db, tenant, Kind::Notify, &request_id, request.encode_to_vec()).await?;
    }

    let record = RecordEscalationRequest {
        name: case.name.clone(),
        escalation: Some(EscalationRecord {
            escalation: escalation.name.clone(),
            clock: alert.clock,
            level: alert.level,
            reason: alert.reason_text.clone(),
            notified: recipients.iter().map(|r| staff_id(r).to_string()).collect(),
            escalate_time: escalation.escalate_time,
        }),
        request_id: alert.key.clone(),
    };
    enqueue(db, tenant, Kind::Record, &alert.key, record.encode_to_vec()).await?;

    if alert.tasks {
        let leader = with_role(db, tenant, StaffRole::SeniorLeader, &case.team, &region).await?.into_iter().next();
        let due = |hours: i64| now.checked_add(jiff::SignedDuration::from_hours(hours)).ok().map(proto_time);
        let tasks = [
            (
                "call",
                Task {
                    kind: TaskKind::CallCustomer as i32,
                    title: "Call the customer".into(),
                    description: format!("The customer is unhappy: {}. Call them today.", alert.reason_text),
                    assignee: case.owner.clone(),
                    team: case.team.clone(),
                    due_time: due(4),
                    ..Task::default()
                },
            ),
            (
                "leader-email",
                Task {
                    kind: TaskKind::SeniorLeaderEmail as i32,
                    title: "Email from a senior leader".into(),
                    description: format!("A senior leader writes to the customer personally: {}.", alert.reason_text),
                    assignee: leader.as_ref().map(|l| staff_id(l).to_string()).unwrap_or_default(),
                    due_time: due(24),
                    ..Task::default()
                },
            ),
        ];
        for (suffix, task) in tasks {
            let request_id = format!("{}/{suffix}", alert.key);
            let request =
                CreateTaskRequest { parent: case.name.clone(), task: Some(task), request_id: request_id.clone() };
            enqueue(db, tenant, Kind::Task, &request_id, request.encode_to_vec()).await?;
        }
    }
    tracing::info!(
        redress.case.id = %case.case_id,
        level = alert.level,
        reason = alert.reason.as_str_name(),
        alerted = recipients.len(),
        "escalated"
    );
    Ok(Some(escalation))
}
