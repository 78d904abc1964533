//! The documented template context: every variable a template may use, what it holds, and a
//! typed struct that serialises to exactly those variables.
//!
//! | variable | holds |
//! |---|---|
//! | `case.reference`, `case.name`, `case.subject`, `case.status`, `case.category`, `case.severity`, `case.channel`, `case.owner`, `case.team`, `case.desired_outcome`, `case.create_time` | the case the message is about |
//! | `customer.display_name`, `customer.email`, `customer.phone`, `customer.locale` | the customer who complained |
//! | `offer.kind`, `offer.description`, `offer.amount`, `offer.amount_minor`, `offer.currency_code` | a resolution offer |
//! | `staff.display_name`, `staff.role` | the member of staff a staff message is for |
//! | `escalation.level`, `escalation.reason`, `escalation.clock` | an escalation that fired |
//! | `review.platform`, `review.url`, `review.rating`, `review.author_handle`, `review.text` | the review a case came from |
//! | `sender.display_name`, `sender.role` | who signs the message, for example a senior leader |
//! | `survey_link`, `reply_to`, `question`, `reply`, `update`, `tenant` | single values, see [`VARIABLES`] |
//!
//! A template may use a whole object (`customer`) or one of its attributes
//! (`customer.display_name`); any other path is refused when the template is stored.

use serde::{Deserialize, Serialize};

/// One documented template variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    /// The dotted path a template uses, for example `customer.display_name`.
    pub path: &'static str,
    /// What it holds.
    pub description: &'static str,
}

const fn var(path: &'static str, description: &'static str) -> Variable {
    Variable { path, description }
}

/// Every variable a template may use, by dotted path. A top-level name with attributes
/// (`case`) is an object; one without (`reply_to`) is a single value.
pub const VARIABLES: &[Variable] = &[
    var("case.reference", "the reference to quote to the customer, for example \"RD-7K3QF2M\""),
    var("case.name", "the case's resource name, tenants/{tenant}/cases/{case}"),
    var("case.subject", "the one-line summary of the complaint"),
    var("case.status", "where the case is, in words, for example \"investigating\""),
    var("case.category", "the category from the tenant's taxonomy"),
    var("case.severity", "how serious it is, for example \"high\""),
    var("case.channel", "how the customer reached us, for example \"email\""),
    var("case.owner", "the display name of the agent who owns the case"),
    var("case.team", "the team that owns the case"),
    var("case.desired_outcome", "the outcome the customer asked for, in their words"),
    var("case.create_time", "when the case was opened, formatted for reading"),
    var("customer.display_name", "the name to address the customer by"),
    var("customer.email", "the customer's email address"),
    var("customer.phone", "the customer's phone number in E.164 form"),
    var("customer.locale", "the customer's locale, for example \"fr-CA\""),
    var("offer.kind", "the kind of remedy, for example \"refund\""),
    var("offer.description", "what is offered, in words the customer will read"),
    var("offer.amount", "the amount with its currency, for example \"12.50 EUR\"; empty when none"),
    var("offer.amount_minor", "the amount in minor units, for example 1250; 0 when none"),
    var("offer.currency_code", "the ISO 4217 currency code, for example \"EUR\"; empty when none"),
    var("staff.display_name", "the name of the member of staff the message is for"),
    var("staff.role", "their role, for example \"manager\""),
    var("escalation.level", "the ladder level reached: 1 warning, 2 breach, then higher"),
    var("escalation.reason", "why it escalated, for example \"first response breached by 4m\""),
    var("escalation.clock", "the clock that ran out, for example \"first response\"; empty when none"),
    var("survey_link", "the satisfaction-survey link for this case"),
    var("reply_to", "the email address or phone number that reaches a person about this case"),
    var("question", "what the customer is asked, in a request for input"),
    var("reply", "the public reply the owner wrote, in a draft reply to a review"),
    var("update", "what has happened since the last message, in a status update"),
    var("review.platform", "the review site, for example \"trustpilot\""),
    var("review.url", "the public address of the review"),
    var("review.rating", "the rating, 1 to 5"),
    var("review.author_handle", "the reviewer's public handle"),
    var("review.text", "the review as posted"),
    var("sender.display_name", "the name of who signs the message, for example a senior leader"),
    var("sender.role", "their title, for example \"Head of Customer Care\""),
    var("tenant", "the organisation's name as customers know it"),
];

/// What a dotted path's first segment names in the documented context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TopLevel {
    /// An object with attributes, such as `case`.
    Object,
    /// A single value, such as `reply_to`.
    Value,
}

/// Looks up a top-level name.
pub(crate) fn top_level(name: &str) -> Option<TopLevel> {
    let mut found = None;
    for variable in VARIABLES {
        match variable.path.split_once('.') {
            Some((head, _)) if head == name => return Some(TopLevel::Object),
            None if variable.path == name => found = Some(TopLevel::Value),
            _ => {}
        }
    }
    found
}

/// The attributes of a top-level object, in documented order.
pub(crate) fn attributes(object: &str) -> Vec<&'static str> {
    VARIABLES
        .iter()
        .filter_map(|v| v.path.split_once('.').filter(|(head, _)| *head == object).map(|(_, attr)| attr))
        .collect()
}

/// The top-level names, in documented order, without repeats.
pub(crate) fn top_level_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for variable in VARIABLES {
        let head = variable.path.split_once('.').map_or(variable.path, |(head, _)| head);
        if !names.contains(&head) {
            names.push(head);
        }
    }
    names
}

/// The values a template is rendered with. Unset parts are left out, so a template that uses
/// them fails to render rather than printing nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TemplateContext {
    /// The case the message is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<CaseVars>,
    /// The customer who complained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerVars>,
    /// A resolution offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<OfferVars>,
    /// The member of staff a staff message is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff: Option<StaffVars>,
    /// An escalation that fired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<EscalationVars>,
    /// The satisfaction-survey link for the case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey_link: Option<String>,
    /// The email address or phone number that reaches a person about the case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// What the customer is asked, in a request for input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    /// The public reply the owner wrote, in a draft reply to a review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    /// What has happened since the last message, in a status update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<String>,
    /// The review the case came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<ReviewVars>,
    /// Who signs the message, for example a senior leader.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<SenderVars>,
    /// The organisation's name as customers know it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// The case, as `case.*`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseVars {
    /// The reference to quote to the customer.
    pub reference: String,
    /// The resource name.
    pub name: String,
    /// The one-line summary.
    pub subject: String,
    /// Where the case is, in words.
    pub status: String,
    /// The category from the tenant's taxonomy.
    pub category: String,
    /// How serious it is.
    pub severity: String,
    /// How the customer reached us.
    pub channel: String,
    /// The display name of the owner.
    pub owner: String,
    /// The owning team.
    pub team: String,
    /// The outcome the customer asked for.
    pub desired_outcome: String,
    /// When the case was opened, formatted for reading.
    pub create_time: String,
}

/// The customer, as `customer.*`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerVars {
    /// The name to address the customer by.
    pub display_name: String,
    /// The email address.
    pub email: String,
    /// The phone number in E.164 form.
    pub phone: String,
    /// The locale.
    pub locale: String,
}

/// A resolution offer, as `offer.*`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferVars {
    /// The kind of remedy, for example "refund".
    pub kind: String,
    /// What is offered, in words the customer will read.
    pub description: String,
    /// The amount with its currency, as [`format_amount`] writes it; empty when none.
    pub amount: String,
    /// The amount in minor units; 0 when none.
    pub amount_minor: i64,
    /// The ISO 4217 currency code; empty when none.
    pub currency_code: String,
}

impl OfferVars {
    /// An offer of `amount_minor` in `currency_code`, with `amount` formatted from them.
    pub fn new(kind: &str, description: &str, amount_minor: i64, currency_code: &str) -> Self {
        let amount = if currency_code.is_empty() { String::new() } else { format_amount(amount_minor, currency_code) };
        Self {
            kind: kind.to_string(),
            description: description.to_string(),
            amount,
            amount_minor,
            currency_code: currency_code.to_string(),
        }
    }
}

/// A member of staff, as `staff.*`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffVars {
    /// Their name.
    pub display_name: String,
    /// Their role.
    pub role: String,
}

/// An escalation, as `escalation.*`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationVars {
    /// The ladder level reached.
    pub level: i32,
    /// Why it escalated.
    pub reason: String,
    /// The clock that ran out, in words; empty when none did.
    pub clock: String,
}

/// A review, as `review.*`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewVars {
    /// The review site.
    pub platform: String,
    /// The public address of the review.
    pub url: String,
    /// The rating, 1 to 5.
    pub rating: i32,
    /// The reviewer's public handle.
    pub author_handle: String,
    /// The review as posted.
    pub text: String,
}

/// Who signs a message, as `sender.*`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderVars {
    /// Their name.
    pub display_name: String,
    /// Their title.
    pub role: String,
}

/// Writes an amount in minor units with its currency, for example `1250, "EUR"` → `"12.50 EUR"`
/// and `500, "JPY"` → `"500 JPY"`, using the currency's ISO 4217 minor unit.
pub fn format_amount(amount_minor: i64, currency_code: &str) -> String {
    let code = currency_code.trim().to_ascii_uppercase();
    let digits = minor_unit_digits(&code);
    let sign = if amount_minor < 0 { "-" } else { "" };
    let magnitude = amount_minor.unsigned_abs();
    if digits == 0 {
        return format!("{sign}{magnitude} {code}");
    }
    let scale = 10u64.pow(digits);
    let width = digits as usize;
    format!("{sign}{}.{:0width$} {code}", magnitude / scale, magnitude % scale)
}

/// How many digits follow the decimal point in a currency (ISO 4217 minor unit).
fn minor_unit_digits(code: &str) -> u32 {
    match code {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI" | "VND"
        | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

/// A context with every documented variable set, for checking and previewing templates.
pub fn sample_context() -> TemplateContext {
    TemplateContext {
        case: Some(CaseVars {
            reference: "RD-7K3QF2M".into(),
            name: "tenants/acme/cases/0190c2a4-5b1e-7d3f-9a2b-3c4d5e6f7a8b".into(),
            subject: "Parcel arrived damaged".into(),
            status: "investigating".into(),
            category: "delivery".into(),
            severity: "high".into(),
            channel: "email".into(),
            owner: "Sam Okafor".into(),
            team: "Customer Care".into(),
            desired_outcome: "a replacement and an apology".into(),
            create_time: "2025-03-14 09:30 UTC".into(),
        }),
        customer: Some(CustomerVars {
            display_name: "Ana Silva".into(),
            email: "ana.silva@example.com".into(),
            phone: "+447700900123".into(),
            locale: "en-GB".into(),
        }),
        offer: Some(OfferVars::new("refund", "a full refund of the delivery charge", 1250, "EUR")),
        staff: Some(StaffVars { display_name: "Priya Raman".into(), role: "manager".into() }),
        escalation: Some(EscalationVars {
            level: 2,
            reason: "first response breached by 4m".into(),
            clock: "first response".into(),
        }),
        survey_link: Some("https://survey.example.com/s/RD-7K3QF2M".into()),
        reply_to: Some("care@example.com".into()),
        question: Some("Could you send us a photo of the damaged parcel?".into()),
        reply: Some("We are sorry your parcel arrived damaged; a replacement is on its way.".into()),
        update: Some("The carrier has confirmed the damage and a replacement is being packed.".into()),
        review: Some(ReviewVars {
            platform: "trustpilot".into(),
            url: "https://www.trustpilot.com/reviews/abc123".into(),
            rating: 1,
            author_handle: "ana_s".into(),
            text: "Parcel arrived crushed and nobody answered my emails.".into(),
        }),
        sender: Some(SenderVars { display_name: "Claire Dubois".into(), role: "Head of Customer Care".into() }),
        tenant: Some("Acme".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects the dotted paths of a JSON value's leaves, one level of nesting deep.
    fn paths(value: &serde_json::Value) -> Vec<String> {
        let mut out = Vec::new();
        if let serde_json::Value::Object(map) = value {
            for (key, inner) in map {
                match inner {
                    serde_json::Value::Object(fields) => out.extend(fields.keys().map(|f| format!("{key}.{f}"))),
                    _ => out.push(key.clone()),
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn the_typed_context_serialises_to_exactly_the_documented_variables() {
        let json = serde_json::to_value(sample_context()).expect("serialises");
        let mut documented: Vec<String> = VARIABLES.iter().map(|v| v.path.to_string()).collect();
        documented.sort();
        assert_eq!(paths(&json), documented);

        let empty = serde_json::to_value(TemplateContext::default()).expect("serialises");
        assert_eq!(empty, serde_json::json!({}), "unset parts are left out");
    }

    #[test]
    fn the_schema_knows_objects_attributes_and_single_values() {
        assert_eq!(top_level("case"), Some(TopLevel::Object));
        assert_eq!(top_level("reply_to"), Some(TopLevel::Value));
        assert_eq!(top_level("tenant"), Some(TopLevel::Value));
        assert_eq!(top_level("shoe_size"), None);
        assert_eq!(attributes("customer"), vec!["display_name", "email", "phone", "locale"]);
        let names = top_level_names();
        assert_eq!(names.first(), Some(&"case"));
        assert!(names.contains(&"survey_link") && names.contains(&"sender"));
        assert_eq!(names.iter().filter(|n| **n == "case").count(), 1);
    }

    #[test]
    fn amounts_are_written_with_the_currency_minor_unit() {
        assert_eq!(format_amount(1250, "EUR"), "12.50 EUR");
        assert_eq!(format_amount(5, "usd"), "0.05 USD");
        assert_eq!(format_amount(500, "JPY"), "500 JPY");
        assert_eq!(format_amount(12345, "KWD"), "12.345 KWD");
        assert_eq!(format_amount(-1250, "GBP"), "-12.50 GBP");
        assert_eq!(format_amount(i64::MIN, "EUR"), "-92233720368547758.08 EUR");
        assert_eq!(OfferVars::new("explanation", "why it happened", 0, "").amount, "");
    }
}
