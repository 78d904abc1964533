//! Rules for customer communications: which case events a rule answers, the default rules a
//! tenant gets unless it defines its own, and the notification a rule makes of an event.
//!
//! | default rule | event | template | to | when |
//! |---|---|---|---|---|
//! | `default-acknowledgement` | created | `acknowledgement` (with an apology) | customer, email | at once |
//! | `default-input-request` | customer input requested | `input_request` | customer, email | at once |
//! | `default-resolution-offer` | resolution proposed | `resolution_offer` | customer, email | at once |
//! | `default-resolution-confirmation` | resolved | `resolution_confirmation` | customer, email | at once |
//! | `default-satisfaction-survey` | resolved | `satisfaction_survey` | customer, email | `survey_delay` later |

use std::time::Duration;

use redress_proto::case::v1::{Case, CaseEvent, CaseEventType};
use redress_proto::notification::v1::{
    Notification, NotificationChannel, Priority, Recipient, Rule, RuleRecipient, TemplateContent, recipient,
};
use sha2::{Digest, Sha256};

use super::defaults;

/// The id prefix of the default rules: `tenants/{tenant}/rules/default-…`.
pub const DEFAULT_PREFIX: &str = "default-";
/// How a rule's request_id starts; the rest names the rule and the event.
pub const REQUEST_PREFIX: &str = "rule:";
/// What the case service writes before the question on a request for input.
const QUESTION_PREFIX: &str = "asked the customer: ";

/// The default rules for `tenant`, the survey `survey_delay` after resolution.
pub fn default_rules(tenant: &str, survey_delay: Duration) -> Vec<Rule> {
    let rule = |id: &str, display_name: &str, event: CaseEventType, template: &str, delay: Option<Duration>| Rule {
        name: format!("tenants/{tenant}/rules/{DEFAULT_PREFIX}{id}"),
        display_name: display_name.into(),
        event_type: event as i32,
        conditions: None,
        template_key: template.into(),
        recipient: RuleRecipient::Customer as i32,
        staff_member: String::new(),
        channel: NotificationChannel::Email as i32,
        priority: Priority::Normal as i32,
        delay: delay.map(|d| prost_types::Duration { seconds: d.as_secs() as i64, nanos: d.subsec_nanos() as i32 }),
        enabled: true,
        create_time: None,
        built_in: true,
    };
    vec![
        rule(
            "acknowledgement",
            "Acknowledge every new case with an apology",
            CaseEventType::Created,
            defaults::ACKNOWLEDGEMENT,
            None,
        ),
        rule(
            "input-request",
            "Ask the customer for what the case needs",
            CaseEventType::CustomerInputRequested,
            defaults::INPUT_REQUEST,
            None,
        ),
        rule(
            "resolution-offer",
            "Send the customer every resolution offered",
            CaseEventType::ResolutionProposed,
            defaults::RESOLUTION_OFFER,
            None,
        ),
        rule(
            "resolution-confirmation",
            "Confirm the resolution with a survey link",
            CaseEventType::Resolved,
            defaults::RESOLUTION_CONFIRMATION,
            None,
        ),
        rule(
            "satisfaction-survey",
            "Ask how we did some days after resolution",
            CaseEventType::Resolved,
            defaults::SATISFACTION_SURVEY,
            Some(survey_delay),
        ),
    ]
}

/// Whether `rule` answers `event`: enabled, the same event type, and every condition set holds
/// for the case as it was right after the event.
pub fn matches(rule: &Rule, event: &CaseEvent) -> bool {
    if !rule.enabled || rule.event_type != event.r#type {
        return false;
    }
    let Some(case) = &event.case else { return false };
    let Some(conditions) = &rule.conditions else { return true };
    let categories = conditions.categories.is_empty()
        || conditions.categories.iter().any(|c| c.trim().eq_ignore_ascii_case(case.category.trim()));
    let severities = conditions.severities.is_empty() || conditions.severities.contains(&case.severity);
    let channels = conditions.channels.is_empty() || conditions.channels.contains(&case.channel);
    let unhappy = conditions.unhappy.is_none_or(|wanted| wanted == case.unhappy);
    let statuses = conditions.statuses.is_empty() || conditions.statuses.contains(&case.status);
    categories && severities && channels && unhappy && statuses
}

/// The idempotency key of the notification `rule` makes of the event `event_id`: the same
/// rule and event always give the same key, so a replayed event never sends twice.
pub fn request_id(rule_name: &str, event_id: &str) -> String {
    let rule_id = rule_name.rsplit('/').next().unwrap_or(rule_name);
    let key = format!("{REQUEST_PREFIX}{rule_id}:{event_id}");
    if key.len() <= redress_kit::validate::MAX_REQUEST_ID_LEN {
        key
    } else {
        let digest = Sha256::digest(key.as_bytes());
        format!("{REQUEST_PREFIX}{}", hex::encode(&digest[..24]))
    }
}

/// What a rule makes of an event: the notification to accept and its idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The idempotency key, from the rule and the event.
    pub request_id: String,
    /// The notification, as if sent through SendNotification.
    pub notification: Notification,
    /// The case as it was right after the event, to render with.
    pub case: Case,
}

/// The notification `rule` makes of `event`, or `None` when the recipient cannot be reached on
/// the rule's channel (a customer with no email for an email rule, a case with no owner).
pub fn plan(rule: &Rule, event: &CaseEvent) -> Option<Planned> {
    let case = event.case.clone()?;
    let channel = NotificationChannel::try_from(rule.channel).ok()?;
    let recipient = match RuleRecipient::try_from(rule.recipient).ok()? {
        RuleRecipient::Customer => {
            let customer = case.customer.clone()?;
            let reachable = match channel {
                NotificationChannel::Email => !customer.email.is_empty(),
                NotificationChannel::Sms => !customer.phone.is_empty(),
                NotificationChannel::CallTask => true,
                _ => false,
            };
            if !reachable {
                return None;
            }
            recipient::Recipient::Customer(customer)
        }
        RuleRecipient::CaseOwner if !case.owner.is_empty() => {
            recipient::Recipient::StaffMember(format!("tenants/{}/staff/{}", event.tenant, case.owner))
        }
        RuleRecipient::StaffMember if !rule.staff_member.is_empty() => {
            recipient::Recipient::StaffMember(rule.staff_member.clone())
        }
        _ => return None,
    };
    if channel == NotificationChannel::Webhook || channel == NotificationChannel::Unspecified {
        return None;
    }
    let mut variables = prost_types::Struct::default();
    if event.r#type == CaseEventType::CustomerInputRequested as i32
        && let Some(entry) = &event.timeline_entry
    {
        let question = entry.text.strip_prefix(QUESTION_PREFIX).unwrap_or(&entry.text).to_string();
        let value = prost_types::Value { kind: Some(prost_types::value::Kind::StringValue(question)) };
        variables.fields.insert("question".into(), value);
    }
    let send_time = match (&event.event_time, &rule.delay) {
        (Some(at), Some(delay)) if delay.seconds > 0 || delay.nanos > 0 => {
            let nanos = i64::from(at.nanos) + i64::from(delay.nanos);
            Some(prost_types::Timestamp {
                seconds: at.seconds.saturating_add(delay.seconds).saturating_add(nanos / 1_000_000_000),
                nanos: (nanos % 1_000_000_000) as i32,
            })
        }
        _ => None,
    };
    let notification = Notification {
        recipient: Some(Recipient { recipient: Some(recipient) }),
        channel: channel as i32,
        content: Some(redress_proto::notification::v1::notification::Content::Template(TemplateContent {
            template_key: rule.template_key.clone(),
            locale: String::new(),
            variables: (!variables.fields.is_empty()).then_some(variables),
        })),
        priority: rule.priority,
        case: case.name.clone(),
        send_time,
        ..Notification::default()
    };
    Some(Planned { request_id: request_id(&rule.name, &event.event_id), notification, case })
}

#[cfg(test)]
mod tests {
    use redress_proto::case::v1::{CaseStatus, TimelineEntry};
    use redress_proto::common::v1::{Customer, Severity};
    use redress_proto::notification::v1::RuleConditions;
    use redress_proto::notification::v1::notification::Content;

    use super::*;

    fn event(kind: CaseEventType) -> CaseEvent {
        CaseEvent {
            sequence: 7,
            event_id: "0190c2a4-5b1e-7d3f-9a2b-3c4d5e6f7a8b".into(),
            tenant: "acme".into(),
            r#type: kind as i32,
            event_time: Some(prost_types::Timestamp { seconds: 1_000, nanos: 500_000_000 }),
            case: Some(Case {
                name: "tenants/acme/cases/c1".into(),
                category: "Delivery".into(),
                severity: Severity::High as i32,
                status: CaseStatus::New as i32,
                customer: Some(Customer { email: "ana@example.com".into(), ..Customer::default() }),
                ..Case::default()
            }),
            ..CaseEvent::default()
        }
    }

    #[test]
    fn defaults_acknowledge_offer_confirm_and_survey_later() {
        let rules = default_rules("acme", Duration::from_secs(3 * 86_400));
        assert_eq!(rules.len(), 5);
        assert!(rules.iter().all(|r| r.enabled && r.built_in && r.name.starts_with("tenants/acme/rules/default-")));
        let created = event(CaseEventType::Created);
        let answering: Vec<&str> =
            rules.iter().filter(|r| matches(r, &created)).map(|r| r.template_key.as_str()).collect();
        assert_eq!(answering, ["acknowledgement"]);
        let resolved = event(CaseEventType::Resolved);
        let planned: Vec<Planned> =
            rules.iter().filter(|r| matches(r, &resolved)).filter_map(|r| plan(r, &resolved)).collect();
        assert_eq!(planned.len(), 2);
        assert_eq!(planned[0].notification.send_time, None, "the confirmation goes at once");
        let survey = planned[1].notification.send_time.expect("the survey waits");
        assert_eq!((survey.seconds, survey.nanos), (1_000 + 3 * 86_400, 500_000_000));
        assert_eq!(planned[1].request_id, "rule:default-satisfaction-survey:0190c2a4-5b1e-7d3f-9a2b-3c4d5e6f7a8b");
        assert_ne!(planned[0].request_id, planned[1].request_id);
    }

    #[test]
    fn conditions_must_all_hold() {
        let mut rule = default_rules("acme", Duration::ZERO).remove(0);
        let created = event(CaseEventType::Created);
        rule.conditions = Some(RuleConditions {
            categories: vec!["delivery".into()],
            severities: vec![Severity::High as i32, Severity::Critical as i32],
            unhappy: Some(false),
            ..RuleConditions::default()
        });
        assert!(matches(&rule, &created), "categories compare without case");
        rule.conditions.as_mut().expect("set").unhappy = Some(true);
        assert!(!matches(&rule, &created));
        rule.conditions.as_mut().expect("set").unhappy = None;
        rule.conditions.as_mut().expect("set").statuses = vec![CaseStatus::Resolved as i32];
        assert!(!matches(&rule, &created));
        rule.conditions = None;
        rule.enabled = false;
        assert!(!matches(&rule, &created), "a disabled rule answers nothing");
    }

    #[test]
    fn unreachable_recipients_make_nothing_and_questions_are_passed_on() {
        let rules = default_rules("acme", Duration::ZERO);
        let mut no_email = event(CaseEventType::Created);
        if let Some(customer) = no_email.case.as_mut().and_then(|c| c.customer.as_mut()) {
            customer.email.clear();
            customer.phone = "+447700900123".into();
        }
        assert_eq!(plan(&rules[0], &no_email), None);

        let mut owner_rule = rules[0].clone();
        owner_rule.recipient = RuleRecipient::CaseOwner as i32;
        owner_rule.channel = NotificationChannel::InApp as i32;
        assert_eq!(plan(&owner_rule, &event(CaseEventType::Created)), None, "no owner yet");
        let mut owned = event(CaseEventType::Created);
        if let Some(case) = owned.case.as_mut() {
            case.owner = "agent-7".into();
        }
        let planned = plan(&owner_rule, &owned).expect("planned");
        let to = planned.notification.recipient.and_then(|r| r.recipient);
        assert_eq!(to, Some(recipient::Recipient::StaffMember("tenants/acme/staff/agent-7".into())));

        let mut asked = event(CaseEventType::CustomerInputRequested);
        asked.timeline_entry =
            Some(TimelineEntry { text: "asked the customer: which colour?".into(), ..TimelineEntry::default() });
        let planned = plan(&rules[1], &asked).expect("planned");
        let Some(Content::Template(content)) = planned.notification.content else { panic!("a template") };
        let question = content.variables.and_then(|v| v.fields.get("question").cloned()).and_then(|v| v.kind);
        assert_eq!(question, Some(prost_types::value::Kind::StringValue("which colour?".into())));
    }

    #[test]
    fn long_keys_are_hashed_to_fit() {
        let long = format!("tenants/acme/rules/{}", "r".repeat(120));
        let key = request_id(&long, "e");
        assert!(key.len() <= 128 && key.starts_with("rule:"), "{key}");
        assert_eq!(key, request_id(&long, "e"), "stable");
    }
}
