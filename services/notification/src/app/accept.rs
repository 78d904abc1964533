//! Accepting a notification into the outbox, from SendNotification or from a rule: one row per
//! `(tenant, request_id)`, with its Message-ID fixed now so that every attempt carries it.

use chrono::{DateTime, Utc};
use prost::Message;
use redress_kit::ApiError;
use redress_kit::time::{from_timestamp, now};
use redress_proto::notification::v1::notification::Content;
use redress_proto::notification::v1::{DeliveryStatus, Notification, NotificationChannel, Priority, recipient};
use uuid::Uuid;

use super::App;
use crate::delivery::message_id;
use crate::error::Error;
use crate::store::notifications::Row;

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

impl App {
    /// SendNotification: accepts `notification` for `tenant` under `request_id`, once; a call
    /// with a key already used returns the notification it accepted.
    pub async fn send_notification(
        &self,
        tenant: &str,
        request_id: &str,
        notification: Notification,
    ) -> Result<Row, Error> {
        if let Some(Content::Template(content)) = &notification.content
            && !self.template_exists(tenant, &content.template_key).await?
        {
            return Err(ApiError::invalid(
                "notification.template.template_key",
                format!("no template {:?}: create it, or use a built-in key", content.template_key),
            )
            .into());
        }
        let row = new_row(tenant, request_id, API_SOURCE, notification, None, &self.settings.email_from, now());
        let (row, created) = self.store.accept(row).await?;
        if created {
            self.wake.notify_waiters();
            tracing::debug!(notification = %row.id, channel = row.channel, "notification accepted");
        }
        Ok(row)
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
) -> Row {
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
        .and_then(from_timestamp)
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
    Row {
        id,
        tenant: tenant.to_string(),
        request_id: request_id.to_string(),
        source: source.to_string(),
        channel,
        priority: kept.priority,
        status: DeliveryStatus::Pending as i32,
        case_name: kept.case.clone(),
        destination: if staff { String::new() } else { recipient.clone() },
        recipient,
        message_id,
        attempts: 0,
        last_error: String::new(),
        next_attempt_time: due,
        lease_owner: None,
        lease_expires: None,
        rate_time: None,
        create_time: now,
        update_time: now,
        deliver_time: None,
        request: kept.encode_to_vec(),
        case_snapshot,
        prepared: None,
    }
}
