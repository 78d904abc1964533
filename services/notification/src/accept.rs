//! Accepting a notification into the outbox, from SendNotification or from a rule: one row per
//! `(tenant, request_id)`, with its Message-ID fixed now so that every attempt carries it.

use chrono::{DateTime, Utc};
use prost::Message;
use redress_proto::notification::v1::{Notification, NotificationChannel, Priority, recipient};
use uuid::Uuid;

use crate::delivery::message_id;
use crate::store::notifications::NewNotification;

/// Where a notification came from: `api`, or the rule's name.
pub const API_SOURCE: &str = "api";

/// The recipient as ListNotifications filters it: a staff member's name, or the address used.
pub fn recipient_key(notification: &Notification) -> String {
    let channel = NotificationChannel::try_from(notification.channel).unwrap_or(NotificationChannel::Unspecified);
    match notification.recipient.as_ref().and_then(|r| r.recipient.as_ref()) {
        Some(recipient::Recipient::StaffMember(name)) => name.clone(),
        Some(recipient::Recipient::Address(address)) => address.clone(),
        Some(recipient::Recipient::Customer(customer)) => match channel {
            NotificationChannel::Email => customer.email.clone(),
            _ if !customer.phone.is_empty() => customer.phone.clone(),
            _ => customer.email.clone(),
        },
        None => String::new(),
    }
}

/// The row for `notification`, accepted now for `tenant` under `request_id`. Staff members'
/// destinations are resolved when it is delivered; other destinations are known now.
pub fn new_row(
    tenant: &str,
    request_id: &str,
    source: &str,
    mut notification: Notification,
    case_snapshot: Option<Vec<u8>>,
    email_from: &str,
    now: DateTime<Utc>,
) -> NewNotification {
    let id = Uuid::now_v7();
    let recipient = recipient_key(&notification);
    let staff = matches!(
        notification.recipient.as_ref().and_then(|r| r.recipient.as_ref()),
        Some(recipient::Recipient::StaffMember(_))
    );
    let channel = notification.channel;
    let message_id =
        if channel == NotificationChannel::Email as i32 { message_id(id, email_from) } else { String::new() };
    if notification.priority == Priority::Unspecified as i32 {
        notification.priority = Priority::Normal as i32;
    }
    let due = notification
        .send_time
        .as_ref()
        .and_then(|t| DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
        .map(|t| DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t))
        .filter(|t| *t > now)
        .unwrap_or(now);
    // Output-only fields are not kept from the request.
    let kept = Notification {
        recipient: notification.recipient.take(),
        channel,
        content: notification.content.take(),
        priority: notification.priority,
        case: std::mem::take(&mut notification.case),
        send_time: notification.send_time.take(),
        ..Notification::default()
    };
    NewNotification {
        id,
        tenant: tenant.to_string(),
        request_id: request_id.to_string(),
        source: source.to_string(),
        channel,
        priority: kept.priority,
        case_name: kept.case.clone(),
        destination: if staff { String::new() } else { recipient.clone() },
        recipient,
        message_id,
        due,
        now,
        request: kept.encode_to_vec(),
        case_snapshot,
    }
}
