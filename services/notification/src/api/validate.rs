//! Request validation: every problem found, each naming its field.

use redress_kit::error::Violations;
use redress_kit::validate::{enum_value, has_control_chars, is_e164, is_email, text};
use redress_kit::{ApiError, TenantId};
use redress_proto::case::v1::{CaseEventType, CaseStatus};
use redress_proto::common::v1::{Channel, Customer, Severity};
use redress_proto::notification::v1::notification::Content;
use redress_proto::notification::v1::{
    CreateRuleRequest, CreateTemplateRequest, Notification, NotificationChannel, Priority, Rule, RuleRecipient,
    SendNotificationRequest, recipient,
};

use crate::app::templates::{audience, canonical, check};
use crate::domain::Template;
use crate::domain::context::{TopLevel, top_level};
use crate::domain::locale::Locale;
use crate::domain::template::{MAX_BODY_BYTES, MAX_KEY_LEN, MAX_SUBJECT_BYTES};

/// The longest delay a rule may have.
const MAX_RULE_DELAY_SECONDS: i64 = 90 * 86_400;

/// The position in a page token, recorded as a violation (saying `refused`) when the token is
/// not one `decode` accepts; `None` for no token.
pub fn page_token<T>(
    v: &mut Violations,
    token: &str,
    decode: impl FnOnce(&str) -> Option<T>,
    refused: &str,
) -> Option<T> {
    if token.is_empty() {
        return None;
    }
    let position = decode(token);
    v.check(position.is_none(), "page_token", refused);
    position
}

/// A locale to filter by, in canonical form; empty for any.
pub fn locale_filter(v: &mut Violations, value: &str) -> String {
    let locale = if value.is_empty() { String::new() } else { canonical(value) };
    v.check(!locale.is_empty() && Locale::parse(&locale).is_err(), "locale", "not a locale such as fr-CA");
    locale
}

/// Checks a CreateTemplateRequest: the template to create, checked by the domain, and the
/// variables it uses.
pub fn create_template(req: &CreateTemplateRequest) -> Result<(Template, Vec<String>), ApiError> {
    let mut v = Violations::new();
    redress_kit::validate::request_id(&mut v, "request_id", &req.request_id, true);
    let Some(given) = &req.template else {
        v.add("template", "required");
        v.finish()?;
        return Err(ApiError::invalid("template", "required"));
    };
    let checked = template(&mut v, given);
    v.finish()?;
    Ok(checked)
}

/// A template to create, checked by the domain; the variables it uses when it passed.
fn template(v: &mut Violations, given: &redress_proto::notification::v1::Template) -> (Template, Vec<String>) {
    let template = Template {
        key: given.key.clone(),
        locale: canonical(&given.locale),
        audience: audience(v, given.audience),
        subject: given.subject.clone(),
        text_body: given.text_body.clone(),
        html_body: (!given.html_body.trim().is_empty()).then(|| given.html_body.clone()),
    };
    let variables = check(v, &template);
    (template, variables)
}

/// Whether a name has the shape `tenants/{tenant}/{collection}/{id}` with valid segments, and
/// which tenant it names.
fn named_tenant<'a>(name: &'a str, collection: &str) -> Option<&'a str> {
    let ids = redress_kit::names::parse("name", name, &["tenants", collection]).ok()?;
    Some(ids[0])
}

/// A template key as the domain accepts it.
pub fn template_key(v: &mut Violations, field: &str, key: &str) {
    let valid = !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        v.add(field, format!("required: up to {MAX_KEY_LEN} lower-case letters, digits and _, starting with a letter"));
    }
}

fn customer(v: &mut Violations, field: &str, customer: &Customer, channel: NotificationChannel) {
    if !customer.email.is_empty() && !is_email(&customer.email) {
        v.add(format!("{field}.email"), "not an email address");
    }
    if !customer.phone.is_empty() && !is_e164(&customer.phone) {
        v.add(format!("{field}.phone"), "not a phone number in E.164 form, such as +447700900123");
    }
    text(v, &format!("{field}.display_name"), &customer.display_name, 200, false);
    if !customer.locale.is_empty() && Locale::parse(&customer.locale).is_err() {
        v.add(format!("{field}.locale"), "not a locale such as fr-CA");
    }
    match channel {
        NotificationChannel::Email if customer.email.is_empty() => {
            v.add(format!("{field}.email"), "required to email the customer")
        }
        NotificationChannel::Sms if customer.phone.is_empty() => {
            v.add(format!("{field}.phone"), "required to send the customer an SMS")
        }
        _ => {}
    }
}

/// Checks a SendNotificationRequest for `tenant`. `allow_http` lets webhooks use `http://`.
pub fn send_notification(req: &SendNotificationRequest, tenant: &TenantId, allow_http: bool) -> Result<(), ApiError> {
    let mut v = Violations::new();
    redress_kit::validate::request_id(&mut v, "request_id", &req.request_id, true);
    match &req.notification {
        None => v.add("notification", "required"),
        Some(n) => notification(&mut v, tenant, n, allow_http),
    }
    v.finish()
}

/// Checks a CreateRuleRequest for `tenant`.
pub fn create_rule(req: &CreateRuleRequest, tenant: &TenantId) -> Result<(), ApiError> {
    let mut v = Violations::new();
    redress_kit::validate::request_id(&mut v, "request_id", &req.request_id, true);
    match &req.rule {
        None => v.add("rule", "required"),
        Some(r) => rule(&mut v, tenant, r),
    }
    v.finish()
}

/// Checks a notification to send for `tenant`. `allow_http` lets webhooks use `http://`.
pub fn notification(v: &mut Violations, tenant: &TenantId, n: &Notification, allow_http: bool) {
    let channel = enum_value::<NotificationChannel>(v, "notification.channel", n.channel, false);
    enum_value::<Priority>(v, "notification.priority", n.priority, true);
    let field = "notification.recipient";
    match (n.recipient.as_ref().and_then(|r| r.recipient.as_ref()), channel) {
        (None, _) => v.add(field, "required: a staff_member, a customer or an address"),
        (_, None) => {}
        (Some(recipient::Recipient::StaffMember(name)), Some(channel)) => {
            if named_tenant(name, "staff") != Some(tenant.as_str()) {
                v.add(
                    format!("{field}.staff_member"),
                    format!("not a member of staff of this tenant: tenants/{tenant}/staff/{{staff}}"),
                );
            }
            if channel == NotificationChannel::Webhook {
                v.add(format!("{field}.staff_member"), "a webhook goes to an address (an https URL)");
            }
        }
        (Some(recipient::Recipient::Customer(c)), Some(channel)) => {
            customer(v, &format!("{field}.customer"), c, channel);
            match channel {
                NotificationChannel::Webhook => {
                    v.add(format!("{field}.customer"), "a webhook goes to an address (an https URL)")
                }
                NotificationChannel::InApp => {
                    v.add(format!("{field}.customer"), "in-app notifications go to a member of staff")
                }
                _ => {}
            }
        }
        (Some(recipient::Recipient::Address(address)), Some(channel)) => {
            let field = format!("{field}.address");
            let problem = match channel {
                NotificationChannel::Email if !is_email(address) => Some("not an email address".to_string()),
                NotificationChannel::Sms | NotificationChannel::CallTask if !is_e164(address) => {
                    Some("not a phone number in E.164 form, such as +447700900123".to_string())
                }
                NotificationChannel::Webhook => webhook_url(address, allow_http).err(),
                NotificationChannel::InApp => Some("in-app notifications go to a member of staff".to_string()),
                _ => None,
            };
            if let Some(problem) = problem {
                v.add(field, problem);
            }
        }
    }
    if !n.case.is_empty() {
        let ids = redress_kit::names::parse("notification.case", &n.case, &["tenants", "cases"]).ok();
        if ids.as_ref().map(|ids| ids[0]) != Some(tenant.as_str()) {
            v.add("notification.case", format!("not a case of this tenant: tenants/{tenant}/cases/{{case}}"));
        }
    } else if channel == Some(NotificationChannel::CallTask) {
        v.add("notification.case", "required for a call task: the task goes on the case, for its owner");
    }
    match &n.content {
        None => v.add("notification.content", "required: a template or a body"),
        Some(Content::Template(t)) => {
            template_key(v, "notification.template.template_key", &t.template_key);
            if !t.locale.is_empty() && Locale::parse(&t.locale).is_err() {
                v.add("notification.template.locale", "not a locale such as fr-CA");
            }
            if let Some(variables) = &t.variables {
                for (name, value) in &variables.fields {
                    let field = format!("notification.template.variables.{name}");
                    let is_object = matches!(value.kind, Some(prost_types::value::Kind::StructValue(_)));
                    match top_level(name) {
                        None => v.add(field, "not a variable templates may use (see docs/notification.md)"),
                        Some(TopLevel::Object) if !is_object => v.add(field, "must be an object of its attributes"),
                        Some(TopLevel::Value) if is_object => v.add(field, "must be a single value"),
                        _ => {}
                    }
                }
            }
        }
        Some(Content::Body(body)) => {
            if body.text.trim().is_empty() {
                v.add("notification.body.text", "required");
            }
            if body.subject.len() > MAX_SUBJECT_BYTES
                || body.subject.contains(['\r', '\n'])
                || has_control_chars(&body.subject)
            {
                v.add("notification.body.subject", format!("one line of at most {MAX_SUBJECT_BYTES} bytes"));
            }
            for (field, value) in [("notification.body.text", &body.text), ("notification.body.html", &body.html)] {
                if value.len() > MAX_BODY_BYTES {
                    v.add(field, format!("at most {MAX_BODY_BYTES} bytes"));
                }
                if has_control_chars(value) {
                    v.add(field, "must not contain control characters");
                }
            }
        }
    }
    if let Some(at) = &n.send_time
        && (at.nanos < 0 || at.nanos >= 1_000_000_000 || chrono::DateTime::from_timestamp(at.seconds, 0).is_none())
    {
        v.add("notification.send_time", "not a valid time");
    }
}

/// Checks a webhook URL: https (or http when allowed), with a host.
pub fn webhook_url(value: &str, allow_http: bool) -> Result<(), String> {
    let url = url::Url::parse(value).map_err(|_| "not a URL".to_string())?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        _ => return Err("must be an https URL".into()),
    }
    if url.host_str().unwrap_or_default().is_empty() {
        return Err("has no host".into());
    }
    Ok(())
}

/// Checks a rule for `tenant`.
pub fn rule(v: &mut Violations, tenant: &TenantId, rule: &Rule) {
    text(v, "rule.display_name", &rule.display_name, 200, false);
    enum_value::<CaseEventType>(v, "rule.event_type", rule.event_type, false);
    template_key(v, "rule.template_key", &rule.template_key);
    let recipient = enum_value::<RuleRecipient>(v, "rule.recipient", rule.recipient, false);
    let channel = enum_value::<NotificationChannel>(v, "rule.channel", rule.channel, false);
    enum_value::<Priority>(v, "rule.priority", rule.priority, true);
    match recipient {
        Some(RuleRecipient::StaffMember) if named_tenant(&rule.staff_member, "staff") != Some(tenant.as_str()) => {
            v.add(
                "rule.staff_member",
                format!("required: a member of staff of this tenant, tenants/{tenant}/staff/{{staff}}"),
            );
        }
        Some(RuleRecipient::StaffMember) => {}
        Some(_) if !rule.staff_member.is_empty() => v.add("rule.staff_member", "only for RULE_RECIPIENT_STAFF_MEMBER"),
        _ => {}
    }
    match (channel, recipient) {
        (Some(NotificationChannel::Webhook), _) => {
            v.add("rule.channel", "rules cannot send webhooks (they have no URL)")
        }
        (Some(NotificationChannel::InApp), Some(RuleRecipient::Customer)) => {
            v.add("rule.channel", "in-app notifications go to a member of staff")
        }
        _ => {}
    }
    if let Some(delay) = &rule.delay
        && (delay.seconds < 0 || delay.nanos < 0 || delay.seconds > MAX_RULE_DELAY_SECONDS)
    {
        v.add("rule.delay", "must be between 0 and 90 days");
    }
    if let Some(conditions) = &rule.conditions {
        for (i, category) in conditions.categories.iter().enumerate() {
            text(v, &format!("rule.conditions.categories[{i}]"), category, 100, true);
        }
        enum_values::<Severity>(v, "rule.conditions.severities", &conditions.severities);
        enum_values::<Channel>(v, "rule.conditions.channels", &conditions.channels);
        enum_values::<CaseStatus>(v, "rule.conditions.statuses", &conditions.statuses);
    }
}

/// Checks that every value of a repeated enum field is a known one, none unspecified.
fn enum_values<E: TryFrom<i32>>(v: &mut Violations, field: &str, values: &[i32]) {
    for (i, value) in values.iter().enumerate() {
        enum_value::<E>(v, &format!("{field}[{i}]"), *value, false);
    }
}
