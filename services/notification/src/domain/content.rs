//! The values a notification is rendered with: the case's fields as the documented context,
//! overlaid with the variables the sender gave.

use chrono::DateTime;
use redress_proto::case::v1::{Case, CaseStatus, OfferKind, ResolutionOffer};
use redress_proto::common::v1::{Channel, Customer, Severity, SlaClockKind};
use serde_json::{Map, Value};

use super::context::{CaseVars, CustomerVars, EscalationVars, OfferVars, ReviewVars, TemplateContext};

/// An enum's proto name in words: `CASE_STATUS_AWAITING_CUSTOMER` with prefix `CASE_STATUS_`
/// is "awaiting customer".
pub fn words(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix).unwrap_or(name).to_ascii_lowercase().replace('_', " ")
}

/// The customer's name to greet them by, or a polite stand-in in their language.
fn greeting_name(customer: Option<&Customer>, locale: &str) -> String {
    match customer.map(|c| c.display_name.trim()).filter(|name| !name.is_empty()) {
        Some(name) => name.to_string(),
        None if locale.starts_with("fr") => "client".into(),
        None => "customer".into(),
    }
}

/// The customer as `customer.*`, greeted in `locale` when they gave no name.
pub fn customer_vars(customer: Option<&Customer>, locale: &str) -> CustomerVars {
    CustomerVars {
        display_name: greeting_name(customer, locale),
        email: customer.map(|c| c.email.clone()).unwrap_or_default(),
        phone: customer.map(|c| c.phone.clone()).unwrap_or_default(),
        locale: customer.map(|c| c.locale.clone()).unwrap_or_default(),
    }
}

/// An offer as `offer.*`.
pub fn offer_vars(offer: &ResolutionOffer) -> OfferVars {
    let kind =
        OfferKind::try_from(offer.kind).map_or_else(|_| "other".into(), |k| words(k.as_str_name(), "OFFER_KIND_"));
    match &offer.amount {
        Some(money) => OfferVars::new(&kind, &offer.description, money.amount_minor, &money.currency_code),
        None => OfferVars::new(&kind, &offer.description, 0, ""),
    }
}

/// What a case contributes to the context: `case`, `customer`, the latest offer, the latest
/// escalation and the review it came from. `owner` is the owner's display name when known
/// (empty otherwise, which the templates leave out); `locale` is the message's locale.
pub fn case_context(case: &Case, owner: &str, locale: &str) -> TemplateContext {
    let status =
        CaseStatus::try_from(case.status).map_or_else(|_| String::new(), |s| words(s.as_str_name(), "CASE_STATUS_"));
    let severity =
        Severity::try_from(case.severity).map_or_else(|_| String::new(), |s| words(s.as_str_name(), "SEVERITY_"));
    let channel =
        Channel::try_from(case.channel).map_or_else(|_| String::new(), |c| words(c.as_str_name(), "CHANNEL_"));
    let create_time = case
        .create_time
        .as_ref()
        .and_then(|t| DateTime::from_timestamp(t.seconds, 0))
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    let escalation = case.escalations.last().map(|e| EscalationVars {
        level: e.level,
        reason: e.reason.clone(),
        clock: match SlaClockKind::try_from(e.clock) {
            Ok(SlaClockKind::Unspecified) | Err(_) => String::new(),
            Ok(kind) => words(kind.as_str_name(), "SLA_CLOCK_KIND_"),
        },
    });
    let review = case.review.as_ref().map(|r| ReviewVars {
        platform: r.platform.clone(),
        url: r.url.clone(),
        rating: r.rating,
        author_handle: r.author_handle.clone(),
        text: case.description.clone(),
    });
    TemplateContext {
        case: Some(CaseVars {
            reference: case.reference.clone(),
            name: case.name.clone(),
            subject: case.subject.clone(),
            status,
            category: case.category.clone(),
            severity,
            channel,
            owner: owner.to_string(),
            team: case.team.clone(),
            desired_outcome: case.desired_outcome.clone(),
            create_time,
        }),
        customer: Some(customer_vars(case.customer.as_ref(), locale)),
        offer: case.offers.last().map(offer_vars),
        escalation,
        review,
        ..TemplateContext::default()
    }
}

/// Overlays `top` on `base`: objects merge attribute by attribute, anything else is replaced.
pub fn overlay(base: &mut Value, top: Value) {
    match (base, top) {
        (Value::Object(base), Value::Object(top)) => {
            for (key, value) in top {
                match base.get_mut(&key) {
                    Some(existing) if existing.is_object() && value.is_object() => overlay(existing, value),
                    _ => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, top) => *base = top,
    }
}

/// A protobuf `Struct` as JSON. Whole numbers stay whole (`2`, not `2.0`).
pub fn struct_to_json(value: &prost_types::Struct) -> Value {
    Value::Object(value.fields.iter().map(|(k, v)| (k.clone(), value_to_json(v))).collect::<Map<_, _>>())
}

fn value_to_json(value: &prost_types::Value) -> Value {
    use prost_types::value::Kind;
    match &value.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::Bool(*b),
        Some(Kind::NumberValue(n)) => {
            if n.fract() == 0.0 && n.abs() < 9.0e15 {
                Value::from(*n as i64)
            } else {
                serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number)
            }
        }
        Some(Kind::StringValue(s)) => Value::String(s.clone()),
        Some(Kind::ListValue(list)) => Value::Array(list.values.iter().map(value_to_json).collect()),
        Some(Kind::StructValue(inner)) => struct_to_json(inner),
    }
}

#[cfg(test)]
mod tests {
    use redress_proto::common::v1::Money;
    use serde_json::json;

    use super::*;

    fn case() -> Case {
        Case {
            name: "tenants/acme/cases/1".into(),
            reference: "RD-1".into(),
            subject: "Kettle never arrived".into(),
            status: CaseStatus::AwaitingCustomer as i32,
            severity: Severity::High as i32,
            channel: Channel::ReviewSite as i32,
            customer: Some(Customer { email: "ana@example.com".into(), ..Customer::default() }),
            offers: vec![ResolutionOffer {
                kind: OfferKind::Refund as i32,
                description: "a refund".into(),
                amount: Some(Money { amount_minor: 1250, currency_code: "EUR".into() }),
                ..ResolutionOffer::default()
            }],
            create_time: Some(prost_types::Timestamp { seconds: 1_741_944_600, nanos: 0 }),
            ..Case::default()
        }
    }

    #[test]
    fn a_case_becomes_the_documented_context() {
        let context = case_context(&case(), "", "fr-CA");
        let vars = context.case.expect("case");
        assert_eq!(vars.status, "awaiting customer");
        assert_eq!(vars.severity, "high");
        assert_eq!(vars.channel, "review site");
        assert_eq!(vars.create_time, "2025-03-14 09:30 UTC");
        assert_eq!(context.customer.expect("customer").display_name, "client", "greeted in French without a name");
        assert_eq!(context.offer.expect("offer").amount, "12.50 EUR");
        assert!(context.escalation.is_none() && context.review.is_none());
    }

    #[test]
    fn variables_overlay_the_case_attribute_by_attribute() {
        let mut base = json!({"case": {"reference": "RD-1", "subject": "x"}, "tenant": "acme"});
        overlay(&mut base, json!({"case": {"subject": "y"}, "tenant": "Acme Ltd", "update": "shipped"}));
        assert_eq!(
            base,
            json!({"case": {"reference": "RD-1", "subject": "y"}, "tenant": "Acme Ltd", "update": "shipped"})
        );

        use prost_types::value::Kind;
        let given = prost_types::Struct {
            fields: [
                ("level".to_string(), prost_types::Value { kind: Some(Kind::NumberValue(2.0)) }),
                ("ratio".to_string(), prost_types::Value { kind: Some(Kind::NumberValue(0.5)) }),
            ]
            .into_iter()
            .collect(),
        };
        assert_eq!(struct_to_json(&given), json!({"level": 2, "ratio": 0.5}));
    }
}
