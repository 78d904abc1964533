//! Preparing a notification for its first attempt: resolving the recipient to a destination
//! (a staff member through the directory, lazily), reading the case, choosing the template in
//! the best locale and rendering it. The result is stored, so every retry sends the same
//! message.

use prost::Message;
use redress_kit::TenantId;
use redress_proto::case::v1::Case;
use redress_proto::common::v1::Customer;
use redress_proto::notification::v1::notification::Content;
use redress_proto::notification::v1::{Notification, NotificationChannel, recipient};

use super::deliver::Deliverer;
use super::templates::choose;
use crate::delivery::{AttemptError, Prepared};
use crate::domain::content::{case_context, customer_vars, overlay, struct_to_json};
use crate::domain::context::StaffVars;
use crate::domain::{Audience, Template, TemplateContext};
use crate::store::notifications::Row;

/// Who the message is for, once resolved.
struct Resolved {
    destination: String,
    display_name: String,
    locale: String,
    staff: Option<StaffVars>,
    time_zone: String,
    customer: Option<Customer>,
}

impl Deliverer {
    /// Prepares `notification` (row `row`) for delivery.
    pub(super) async fn prepare(
        &self,
        tenant: &TenantId,
        row: &Row,
        notification: &Notification,
    ) -> Result<Prepared, AttemptError> {
        let channel = NotificationChannel::try_from(notification.channel).unwrap_or(NotificationChannel::Unspecified);
        let case = self.case_of(tenant, row, notification).await?;
        let needs_staff = matches!(channel, NotificationChannel::Email | NotificationChannel::Sms)
            || matches!(notification.content, Some(Content::Template(_)));
        let resolved = self.resolve(tenant, notification, channel, case.as_ref(), needs_staff).await?;
        let chosen = match &notification.content {
            Some(Content::Template(content)) => {
                let wanted = if !content.locale.is_empty() {
                    content.locale.clone()
                } else if !resolved.locale.is_empty() {
                    resolved.locale.clone()
                } else {
                    self.case_locale(notification, case.as_ref())
                };
                let chosen =
                    choose(&self.store, tenant.as_str(), &content.template_key, &wanted, &self.settings.default_locale)
                        .await
                        .map_err(|e| AttemptError::transient(format!("reading templates: {e}")))?
                        .ok_or_else(|| {
                            AttemptError::permanent(format!("no template {:?} in any locale", content.template_key))
                        })?;
                Some(chosen.template)
            }
            _ => None,
        };
        let mut prepared = Prepared {
            destination: resolved.destination.clone(),
            display_name: resolved.display_name.clone(),
            subject: String::new(),
            text: String::new(),
            html: None,
            staff_alert: resolved.staff.is_some(),
            time_zone: resolved.time_zone.clone(),
            case_reference: case.as_ref().map(|c| c.reference.clone()).unwrap_or_default(),
            owner: case.as_ref().map(|c| c.owner.clone()).unwrap_or_default(),
            team: case.as_ref().map(|c| c.team.clone()).unwrap_or_default(),
            template: String::new(),
        };
        match (&notification.content, chosen) {
            (Some(Content::Body(body)), _) => {
                prepared.subject = body.subject.clone();
                prepared.text = body.text.clone();
                prepared.html = (!body.html.is_empty()).then(|| body.html.clone());
            }
            (Some(Content::Template(content)), Some(template)) => {
                let context = self.context(tenant, case.as_ref(), &resolved, &template.locale).await;
                let mut values = serde_json::to_value(context)
                    .map_err(|e| AttemptError::permanent(format!("building the template context: {e}")))?;
                if let Some(given) = &content.variables {
                    overlay(&mut values, struct_to_json(given));
                }
                let rendered = render(&template, &values)?;
                prepared.subject = rendered.0;
                prepared.text = rendered.1;
                prepared.html = rendered.2;
                prepared.staff_alert |= template.audience == Audience::Staff;
                prepared.template = format!("{} ({})", template.key, template.locale);
            }
            _ => return Err(AttemptError::permanent("the notification has no content")),
        }
        Ok(prepared)
    }

    /// The case to render with: the snapshot a rule took at the event, or the case now.
    async fn case_of(
        &self,
        tenant: &TenantId,
        row: &Row,
        notification: &Notification,
    ) -> Result<Option<Case>, AttemptError> {
        if let Some(snapshot) = &row.case_snapshot {
            return Case::decode(snapshot.as_slice())
                .map(Some)
                .map_err(|e| AttemptError::permanent(format!("the stored case does not decode: {e}")));
        }
        if notification.case.is_empty() {
            return Ok(None);
        }
        let needs_case = matches!(notification.content, Some(Content::Template(_)))
            || notification.channel == NotificationChannel::CallTask as i32;
        if !needs_case {
            return Ok(None);
        }
        self.case.get_case(tenant, &notification.case).await.map(Some).map_err(AttemptError::from)
    }

    /// The customer's locale from the case, for a message that is not to a member of staff.
    fn case_locale(&self, notification: &Notification, case: Option<&Case>) -> String {
        let to_staff = matches!(
            notification.recipient.as_ref().and_then(|r| r.recipient.as_ref()),
            Some(recipient::Recipient::StaffMember(_))
        );
        match case.and_then(|c| c.customer.as_ref()) {
            Some(customer) if !to_staff => customer.locale.clone(),
            _ => String::new(),
        }
    }

    /// Resolves the recipient to a destination on `channel`.
    async fn resolve(
        &self,
        tenant: &TenantId,
        notification: &Notification,
        channel: NotificationChannel,
        case: Option<&Case>,
        needs_staff: bool,
    ) -> Result<Resolved, AttemptError> {
        let recipient = notification.recipient.as_ref().and_then(|r| r.recipient.as_ref());
        let mut resolved = Resolved {
            destination: String::new(),
            display_name: String::new(),
            locale: String::new(),
            staff: None,
            time_zone: String::new(),
            customer: None,
        };
        match recipient {
            Some(recipient::Recipient::StaffMember(name)) => {
                resolved.destination = name.clone();
                resolved.staff = Some(StaffVars::default());
                if needs_staff {
                    let member = self.directory.find(tenant, name).await.map_err(AttemptError::from)?;
                    resolved.destination = match channel {
                        NotificationChannel::Email => member.email.clone(),
                        NotificationChannel::Sms => member.phone.clone(),
                        _ => name.clone(),
                    };
                    if resolved.destination.is_empty() {
                        let what = if channel == NotificationChannel::Sms { "phone number" } else { "email address" };
                        return Err(AttemptError::permanent(format!("{name} has no {what} in the staff directory")));
                    }
                    let role = redress_proto::common::v1::StaffRole::try_from(member.role)
                        .map(|r| crate::domain::content::words(r.as_str_name(), "STAFF_ROLE_"))
                        .unwrap_or_default();
                    resolved.staff = Some(StaffVars { display_name: member.display_name.clone(), role });
                    resolved.display_name = member.display_name;
                    resolved.locale = member.locale;
                    resolved.time_zone = member.time_zone;
                }
            }
            Some(recipient::Recipient::Customer(customer)) => {
                resolved.destination = match channel {
                    NotificationChannel::Email => customer.email.clone(),
                    _ => customer.phone.clone(),
                };
                resolved.display_name = customer.display_name.clone();
                resolved.locale = customer.locale.clone();
                resolved.customer = Some(customer.clone());
            }
            Some(recipient::Recipient::Address(address)) => resolved.destination = address.clone(),
            None => return Err(AttemptError::permanent("the notification has no recipient")),
        }
        if channel == NotificationChannel::CallTask && resolved.destination.is_empty() {
            resolved.destination = case.map(|c| c.name.clone()).unwrap_or_default();
        }
        if resolved.destination.is_empty() {
            return Err(AttemptError::permanent("the recipient has no address for this channel"));
        }
        Ok(resolved)
    }

    /// The documented context for a message to `resolved` about `case`.
    async fn context(
        &self,
        tenant: &TenantId,
        case: Option<&Case>,
        resolved: &Resolved,
        locale: &str,
    ) -> TemplateContext {
        let mut context = match case {
            Some(case) => {
                let owner = self.directory.display_name(tenant, &case.owner).await.unwrap_or_default();
                let mut context = case_context(case, &owner, locale);
                context.survey_link =
                    Some(self.settings.survey_link(&case.reference, case.name.rsplit('/').next().unwrap_or("")));
                context
            }
            None => TemplateContext::default(),
        };
        if let Some(customer) = &resolved.customer {
            context.customer = Some(customer_vars(Some(customer), locale));
        }
        if let Some(staff) = &resolved.staff {
            context.staff = Some(staff.clone());
        }
        context.reply_to = Some(self.settings.reply_to.clone());
        let organisation = &self.settings.organisation_name;
        context.tenant = Some(if organisation.is_empty() { tenant.to_string() } else { organisation.clone() });
        context
    }
}

/// Renders a template, naming it in the error.
fn render(template: &Template, values: &serde_json::Value) -> Result<(String, String, Option<String>), AttemptError> {
    let what = format!("template {} ({})", template.key, template.locale);
    let compiled = template.compile().map_err(|e| AttemptError::permanent(format!("{what}: {e}")))?;
    let rendered = compiled.render(values).map_err(|e| AttemptError::permanent(format!("{what}: {e}")))?;
    Ok((rendered.subject, rendered.text, rendered.html))
}
