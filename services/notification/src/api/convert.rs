//! Stored rows as the contract's messages.

use prost::Message;
use redress_kit::time::timestamp;
use redress_proto::notification::v1::{self as pb, DeliveryStatus, Notification};

use crate::app::templates::{BUILTIN_PREFIX, Listed, audience_number};
use crate::delivery::Prepared;
use crate::domain::Template;
use crate::error::Error;
use crate::store::notifications::Row;
use crate::store::templates::TemplateRow;

/// A notification's resource name.
pub fn notification_name(tenant: &str, id: uuid::Uuid) -> String {
    format!("tenants/{tenant}/notifications/{id}")
}

/// A stored notification with its delivery status.
pub fn notification(row: &Row) -> Result<Notification, Error> {
    let mut n = Notification::decode(row.request.as_slice())
        .map_err(|e| Error::Corrupt(format!("notification {}: {e}", row.id)))?;
    n.name = notification_name(&row.tenant, row.id);
    n.status = row.status;
    n.attempts = row.attempts;
    n.last_error = row.last_error.clone();
    let waiting = row.status == DeliveryStatus::Pending as i32 || row.status == DeliveryStatus::Retrying as i32;
    n.next_attempt_time = waiting.then(|| timestamp(row.next_attempt_time));
    n.destination = row.destination.clone();
    n.message_id = row.message_id.clone();
    n.create_time = Some(timestamp(row.create_time));
    n.deliver_time = row.deliver_time.map(timestamp);
    if let Some(prepared) = row.prepared.as_deref().and_then(|p| serde_json::from_str::<Prepared>(p).ok()) {
        n.rendered_subject = prepared.subject;
        n.rendered_text = prepared.text;
    }
    Ok(n)
}

/// A tenant's template.
pub fn template(row: &TemplateRow) -> pb::Template {
    pb::Template {
        name: format!("tenants/{}/templates/{}", row.tenant, row.id),
        key: row.key.clone(),
        locale: row.locale.clone(),
        audience: row.audience,
        subject: row.subject.clone(),
        text_body: row.text_body.clone(),
        html_body: row.html_body.clone(),
        variables: serde_json::from_str(&row.variables).unwrap_or_default(),
        built_in: false,
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
    }
}

/// The id of a built-in template: `builtin.{key}.{locale}`.
pub fn builtin_id(key: &str, locale: &str) -> String {
    format!("{BUILTIN_PREFIX}{key}.{locale}")
}

/// A built-in template as the tenant sees it.
pub fn builtin(tenant: &str, template: &Template) -> pb::Template {
    pb::Template {
        name: format!("tenants/{tenant}/templates/{}", builtin_id(&template.key, &template.locale)),
        key: template.key.clone(),
        locale: template.locale.clone(),
        audience: audience_number(template.audience),
        subject: template.subject.clone(),
        text_body: template.text_body.clone(),
        html_body: template.html_body.clone().unwrap_or_default(),
        variables: template.check().unwrap_or_default(),
        built_in: true,
        create_time: None,
        update_time: None,
    }
}

/// A template as ListTemplates lists it to `tenant`.
pub fn listed(tenant: &str, listed: &Listed) -> pb::Template {
    match listed {
        Listed::Own(row) => template(row),
        Listed::BuiltIn(builtin) => self::builtin(tenant, builtin),
    }
}
