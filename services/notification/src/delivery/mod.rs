//! The channels to the outside world: email over SMTP, SMS and webhooks over HTTP, and the
//! peers read while preparing a message (the case service, the staff directory). They send
//! what they are given and sort how it failed; when to try again is decided by the outbox
//! workers in `app::deliver`.

mod email;
mod http;
pub mod peers;

use redress_proto::notification::v1::{Notification, Priority};
use serde::{Deserialize, Serialize};

pub use self::email::{CASE_HEADER, EmailChannel, NOTIFICATION_HEADER as EMAIL_NOTIFICATION_HEADER, message_id};
pub use self::http::{HttpChannel, IDEMPOTENCY_HEADER, NOTIFICATION_HEADER};
use self::peers::PeerError;
use crate::domain::DeliveryFailure;
use crate::store::notifications::Row;

/// A message ready to send, kept with the notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prepared {
    /// Where it goes: an email address, a phone number, a URL, or a staff member's name.
    pub destination: String,
    /// The name to put beside the address.
    #[serde(default)]
    pub display_name: String,
    /// The subject as rendered.
    pub subject: String,
    /// The plain-text body as rendered.
    pub text: String,
    /// The HTML body as rendered, if any.
    #[serde(default)]
    pub html: Option<String>,
    /// True for an alert to staff, which quiet hours hold unless urgent.
    #[serde(default)]
    pub staff_alert: bool,
    /// The recipient's IANA time zone, for quiet hours, when the directory knows it.
    #[serde(default)]
    pub time_zone: String,
    /// The case's reference, or empty.
    #[serde(default)]
    pub case_reference: String,
    /// The case owner's staff id, who gets call tasks.
    #[serde(default)]
    pub owner: String,
    /// The case owner's team.
    #[serde(default)]
    pub team: String,
    /// The template used, as `key (locale)`, or empty for a finished body.
    #[serde(default)]
    pub template: String,
}

/// Why an attempt failed: what the channel saw, for the retry policy, and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptError {
    /// The failure, sorted.
    pub failure: DeliveryFailure,
    /// What happened, shown as the notification's last error.
    pub message: String,
}

impl AttemptError {
    /// An error from a channel.
    pub fn new(failure: DeliveryFailure, message: impl Into<String>) -> Self {
        Self { failure, message: message.into() }
    }

    /// A failure that will not go away by trying again.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::new(DeliveryFailure::InvalidDestination, message)
    }

    /// A failure that may go away.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::new(DeliveryFailure::Connection, message)
    }
}

impl From<PeerError> for AttemptError {
    fn from(error: PeerError) -> Self {
        match error {
            PeerError::Transient(m) => AttemptError::transient(m),
            PeerError::Permanent(m) => AttemptError::permanent(m),
        }
    }
}

/// The JSON a webhook receiver gets; the same bytes on every attempt.
pub fn webhook_body(row: &Row, notification: &Notification, prepared: &Prepared) -> Vec<u8> {
    let priority = Priority::try_from(notification.priority).unwrap_or(Priority::Unspecified);
    let body = serde_json::json!({
        "type": "redress.notification",
        "id": row.id.to_string(),
        "notification": format!("tenants/{}/notifications/{}", row.tenant, row.id),
        "tenant": row.tenant,
        "case": row.case_name,
        "case_reference": prepared.case_reference,
        "priority": priority.as_str_name(),
        "subject": prepared.subject,
        "text": prepared.text,
        "html": prepared.html,
        "create_time": row.create_time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    });
    serde_json::to_vec(&body).unwrap_or_default()
}
