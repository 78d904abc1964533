//! The templates redress ships: every key in English, and the customer-facing ones in French.
//! A tenant's own template with the same key and locale takes their place.
//!
//! Each is a file beside this one, written as the message it is: `{locale}/{key}.txt` holds
//! the subject, a blank line and the plain-text body; `{locale}/{key}.html`, where there is
//! one, the HTML body.
//!
//! | key | audience | locales |
//! |---|---|---|
//! | `acknowledgement` | customer | en, fr |
//! | `status_update` | customer | en, fr |
//! | `input_request` | customer | en, fr |
//! | `resolution_offer` | customer | en, fr |
//! | `resolution_confirmation` | customer | en, fr |
//! | `satisfaction_survey` | customer | en, fr |
//! | `senior_leader_email` | customer | en, fr |
//! | `public_reply_draft` | customer | en, fr |
//! | `escalation_alert` | staff | en |

use super::locale::choose_locale;
use super::template::{Audience, Template};

/// The acknowledgement of a new case, with an apology. Uses `case`, `customer`, `reply_to`, `tenant`.
pub const ACKNOWLEDGEMENT: &str = "acknowledgement";
/// News on an open case; `update` is optional. Uses `case`, `customer`, `reply_to`, `tenant`.
pub const STATUS_UPDATE: &str = "status_update";
/// A request for the customer's input. Uses `question` with `case`, `customer`, `reply_to`, `tenant`.
pub const INPUT_REQUEST: &str = "input_request";
/// A resolution offer. Uses `offer` with `case`, `customer`, `reply_to`, `tenant`.
pub const RESOLUTION_OFFER: &str = "resolution_offer";
/// The confirmation that a case is resolved, with the satisfaction-survey link. Uses
/// `survey_link` with `case`, `customer`, `reply_to`, `tenant`.
pub const RESOLUTION_CONFIRMATION: &str = "resolution_confirmation";
/// The satisfaction survey sent some days after resolution. Uses `survey_link` with `case`,
/// `customer`, `reply_to`, `tenant`.
pub const SATISFACTION_SURVEY: &str = "satisfaction_survey";
/// An alert to a member of staff that a case escalated. Uses `staff`, `escalation`, `case`, `customer`.
pub const ESCALATION_ALERT: &str = "escalation_alert";
/// A personal email from a senior leader to an unhappy customer. Uses `sender` with `case`,
/// `customer`, `reply_to`, `tenant`.
pub const SENIOR_LEADER_EMAIL: &str = "senior_leader_email";
/// A draft public reply to a review, for the owner to post; `reply` is optional. Uses
/// `review`, `case`, `reply_to`, `tenant`.
pub const PUBLIC_REPLY_DRAFT: &str = "public_reply_draft";

/// Every built-in key.
pub const KEYS: [&str; 9] = [
    ACKNOWLEDGEMENT,
    STATUS_UPDATE,
    INPUT_REQUEST,
    RESOLUTION_OFFER,
    RESOLUTION_CONFIRMATION,
    SATISFACTION_SURVEY,
    ESCALATION_ALERT,
    SENIOR_LEADER_EMAIL,
    PUBLIC_REPLY_DRAFT,
];

/// One built-in template in one locale, as written in its files.
#[derive(Debug, Clone, Copy)]
struct Builtin {
    key: &'static str,
    /// The subject, a blank line, the plain-text body.
    message: &'static str,
    html: Option<&'static str>,
}

/// The built-in templates of a locale: `html:` the keys with an HTML body, `text:` those
/// without.
macro_rules! builtins {
    ($locale:literal; html: $($key:ident),*; text: $($plain:ident),*) => {
        &[
            $(Builtin {
                key: stringify!($key),
                message: include_str!(concat!($locale, "/", stringify!($key), ".txt")),
                html: Some(include_str!(concat!($locale, "/", stringify!($key), ".html"))),
            },)*
            $(Builtin {
                key: stringify!($plain),
                message: include_str!(concat!($locale, "/", stringify!($plain), ".txt")),
                html: None,
            },)*
        ]
    };
}

/// English: every key.
const EN: &[Builtin] = builtins!("en";
    html: acknowledgement, status_update, input_request, resolution_offer, resolution_confirmation,
        satisfaction_survey, escalation_alert, senior_leader_email;
    text: public_reply_draft);

/// French: the keys for customers.
const FR: &[Builtin] = builtins!("fr";
    html: acknowledgement, status_update, input_request, resolution_offer, resolution_confirmation,
        satisfaction_survey, senior_leader_email;
    text: public_reply_draft);

/// The built-in templates by locale.
const LOCALES: [(&str, &[Builtin]); 2] = [("en", EN), ("fr", FR)];

/// Who a built-in key is for: the escalation alert goes to staff, the rest to customers.
fn audience(key: &str) -> Audience {
    if key == ESCALATION_ALERT { Audience::Staff } else { Audience::Customer }
}

impl Builtin {
    fn to_template(self, locale: &str) -> Template {
        let (subject, text) = self.message.split_once("\n\n").unwrap_or((self.message, ""));
        Template {
            key: self.key.to_string(),
            locale: locale.to_string(),
            audience: audience(self.key),
            subject: subject.to_string(),
            text_body: text.to_string(),
            html_body: self.html.map(str::to_string),
        }
    }
}

/// Every built-in template, in every locale it exists in.
pub fn builtin_templates() -> Vec<Template> {
    LOCALES
        .iter()
        .flat_map(|(locale, templates)| templates.iter().map(move |builtin| builtin.to_template(locale)))
        .collect()
}

/// The locales a built-in key exists in, for example `["en", "fr"]`.
pub fn builtin_locales(key: &str) -> Vec<&'static str> {
    LOCALES
        .iter()
        .filter(|(_, templates)| templates.iter().any(|builtin| builtin.key == key))
        .map(|(locale, _)| *locale)
        .collect()
}

/// The built-in template for `key` in the best locale for `wanted`, falling back through the
/// tenant's default locale to English; `None` for a key redress does not ship.
pub fn builtin_template(key: &str, wanted: &str, tenant_default: Option<&str>) -> Option<Template> {
    let locale = choose_locale(wanted, tenant_default, builtin_locales(key))?;
    LOCALES
        .iter()
        .filter(|(name, _)| *name == locale)
        .flat_map(|(name, templates)| templates.iter().map(move |builtin| (name, builtin)))
        .find(|(_, builtin)| builtin.key == key)
        .map(|(name, builtin)| builtin.to_template(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::context::sample_context;
    use crate::domain::template::{Audience, WAY_BACK_VARIABLES};

    #[test]
    fn every_key_ships_in_english_and_customer_keys_in_french() {
        for key in KEYS {
            let template = builtin_template(key, "en", None).expect("an English default");
            let expected: &[&str] = if template.audience == Audience::Customer { &["en", "fr"] } else { &["en"] };
            assert_eq!(builtin_locales(key), expected, "{key}");
        }
        let all = builtin_templates();
        assert_eq!(all.len(), 17);
        let mut pairs: Vec<(&str, &str)> = all.iter().map(|t| (t.key.as_str(), t.locale.as_str())).collect();
        pairs.sort();
        pairs.dedup();
        assert_eq!(pairs.len(), all.len(), "one template per key and locale");
        assert!(all.iter().all(|t| KEYS.contains(&t.key.as_str())));
    }

    #[test]
    fn every_default_passes_the_check_and_renders_with_the_sample_context() {
        let context = sample_context();
        for template in builtin_templates() {
            let what = format!("{} ({})", template.key, template.locale);
            let variables = template.check().unwrap_or_else(|err| panic!("{what}: {err}"));
            assert!(!variables.is_empty(), "{what}");
            let rendered = template.render(&context).unwrap_or_else(|err| panic!("{what}: {err}"));
            assert!(!rendered.subject.is_empty() && !rendered.subject.contains('\n'), "{what}: {}", rendered.subject);
            assert!(!rendered.text.contains("{{") && !rendered.text.contains("{%"), "{what}: {}", rendered.text);
            assert!(!rendered.text.contains("\n\n\n"), "{what}: no stray blank lines:\n{}", rendered.text);
            assert_eq!(rendered.html.is_some(), template.html_body.is_some(), "{what}");
            if let Some(html) = &rendered.html {
                assert!(html.starts_with('<') && !html.contains("{{"), "{what}: {html}");
            }
        }
    }

    #[test]
    fn every_customer_facing_default_gives_a_way_back_to_a_person_in_every_locale() {
        let context = sample_context();
        let reply_to = context.reply_to.clone().expect("sample reply_to");
        let reference = context.case.clone().expect("sample case").reference;
        let customer_facing: Vec<Template> =
            builtin_templates().into_iter().filter(|t| t.audience == Audience::Customer).collect();
        assert_eq!(customer_facing.len(), 16);
        for template in customer_facing {
            let what = format!("{} ({})", template.key, template.locale);
            let variables = template.check().unwrap_or_else(|err| panic!("{what}: {err}"));
            for wanted in WAY_BACK_VARIABLES {
                assert!(template.text_body.contains(&format!("{{{{ {wanted} }}}}")), "{what}: text uses {wanted}");
                if let Some(html) = &template.html_body {
                    assert!(html.contains(&format!("{{{{ {wanted} }}}}")), "{what}: HTML uses {wanted}");
                }
                assert!(variables.iter().any(|v| v == wanted), "{what}: {wanted} in {variables:?}");
            }
            let rendered = template.render(&context).unwrap_or_else(|err| panic!("{what}: {err}"));
            for part in [Some(&rendered.text), rendered.html.as_ref()].into_iter().flatten() {
                assert!(part.contains(&reply_to), "{what}: a way back to a person in\n{part}");
                assert!(part.contains(&reference), "{what}: the case reference in\n{part}");
            }
        }
    }

    #[test]
    fn the_acknowledgement_apologises_and_escapes_the_customer_name_in_html() {
        let mut context = sample_context();
        if let Some(customer) = context.customer.as_mut() {
            customer.display_name = "<script>alert(1)</script>".into();
        }
        let english = builtin_template(ACKNOWLEDGEMENT, "en-GB", None).expect("exists");
        let rendered = english.render(&context).expect("renders");
        assert!(rendered.text.contains("We are sorry"), "{}", rendered.text);
        assert!(rendered.text.contains("from start to finish.\n\nYou told us you would like"), "{}", rendered.text);
        assert!(rendered.text.starts_with("Dear <script>alert(1)</script>,"), "text is not escaped");
        let html = rendered.html.expect("HTML");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;") && !html.contains("<script>"), "{html}");

        let french = builtin_template(ACKNOWLEDGEMENT, "fr_CA", Some("de")).expect("exists");
        assert_eq!(french.locale, "fr");
        let rendered = french.render(&context).expect("renders");
        assert!(
            rendered.subject.starts_with("Toutes nos excuses") && rendered.text.contains("désolés"),
            "{rendered:?}"
        );
        let fallback = builtin_template(ESCALATION_ALERT, "fr-CA", Some("fr")).expect("exists");
        assert_eq!(fallback.locale, "en", "a missing locale falls back to English");
        assert_eq!(builtin_template("no_such_key", "en", None), None);
    }

    #[test]
    fn optional_parts_render_without_their_values() {
        let mut context = sample_context();
        context.update = None;
        context.reply = None;
        if let Some(case) = context.case.as_mut() {
            case.owner.clear();
            case.desired_outcome.clear();
        }
        if let Some(offer) = context.offer.as_mut() {
            *offer = crate::domain::context::OfferVars::new("explanation", "a full explanation of the delay", 0, "");
        }
        for key in [STATUS_UPDATE, PUBLIC_REPLY_DRAFT, ACKNOWLEDGEMENT, RESOLUTION_OFFER, ESCALATION_ALERT] {
            for locale in builtin_locales(key) {
                let template = builtin_template(key, locale, None).expect("exists");
                let rendered = template.render(&context).unwrap_or_else(|err| panic!("{key} ({locale}): {err}"));
                assert!(!rendered.text.contains("()") && !rendered.text.contains(" ,"), "{key}: {}", rendered.text);
            }
        }
        let update = builtin_template(STATUS_UPDATE, "en", None).expect("exists").render(&context).expect("renders");
        assert!(update.text.contains("still working on your complaint RD-7K3QF2M"), "{}", update.text);
        let alert = builtin_template(ESCALATION_ALERT, "en", None).expect("exists").render(&context).expect("renders");
        assert!(alert.text.contains("Owner: nobody yet"), "{}", alert.text);
    }
}
