//! Personal data in what services keep about a case, and how an erasure removes it from
//! the template variables of messages (escalation alerts, customer communications).

use prost_types::value::Kind;
use prost_types::{Struct, Value};

/// What erased personal data reads as.
pub const ERASED: &str = "[erased]";

/// Variable names whose values are a customer's words or contact details wherever they appear.
const PERSONAL: &[&str] =
    &["subject", "description", "desired_outcome", "comment", "customer_comment", "public_reply", "email", "phone"];

/// Replaces the personal values of template variables with [`ERASED`]: everything under a
/// `customer` object and every value named in the personal list; staff names, references and
/// escalation details stay, so a pending staff alert still makes sense.
pub fn redact_variables(variables: &mut Struct) {
    for (key, value) in variables.fields.iter_mut() {
        redact_value(value, key == "customer" || PERSONAL.contains(&key.as_str()));
    }
}

/// Replaces every quotation in `text` (intake's reasons quote the words that decided them)
/// with [`ERASED`], keeping the reasoning around it.
pub fn unquote(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut parts = text.split('"');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    let rest: Vec<&str> = parts.collect();
    for (i, part) in rest.iter().enumerate() {
        if i % 2 == 0 {
            // Inside quotes, unless it is an unpaired last quote.
            if i + 1 < rest.len() {
                out.push_str(ERASED);
            } else {
                out.push('"');
                out.push_str(part);
            }
        } else {
            out.push_str(part);
        }
    }
    out
}

fn redact_value(value: &mut Value, personal: bool) {
    match value.kind.as_mut() {
        Some(Kind::StringValue(text)) if personal && !text.is_empty() => *text = ERASED.to_string(),
        Some(Kind::StructValue(inner)) => {
            for (key, value) in inner.fields.iter_mut() {
                redact_value(value, personal || PERSONAL.contains(&key.as_str()));
            }
        }
        Some(Kind::ListValue(list)) => list.values.iter_mut().for_each(|v| redact_value(v, personal)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn text(value: &str) -> Value {
        Value { kind: Some(Kind::StringValue(value.into())) }
    }

    fn object(fields: &[(&str, Value)]) -> Value {
        let fields: BTreeMap<String, Value> = fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        Value { kind: Some(Kind::StructValue(Struct { fields })) }
    }

    #[test]
    fn quotations_in_reasons_are_erased_and_the_reasoning_kept() {
        assert_eq!(
            unquote(r#"category delivery (confidence 0.80): "parcel", "never arrived""#),
            "category delivery (confidence 0.80): [erased], [erased]"
        );
        assert_eq!(unquote("severity high: public channel"), "severity high: public channel");
        assert_eq!(unquote(r#"odd "one"#), r#"odd "one"#);
    }

    #[test]
    fn the_customer_and_their_words_go_and_the_rest_stays() {
        let mut variables = Struct {
            fields: [
                ("case".to_string(), object(&[("reference", text("RD-1")), ("subject", text("Ana's kettle"))])),
                ("customer".to_string(), object(&[("display_name", text("Ana Silva")), ("tier", text("VIP"))])),
                ("staff".to_string(), object(&[("display_name", text("Tom Lead"))])),
                ("email".to_string(), text("ana@example.com")),
            ]
            .into_iter()
            .collect(),
        };
        redact_variables(&mut variables);
        let rendered = format!("{variables:?}");
        for gone in ["Ana", "ana@", "VIP"] {
            assert!(!rendered.contains(gone), "{gone} in {rendered}");
        }
        for kept in ["RD-1", "Tom Lead"] {
            assert!(rendered.contains(kept), "{kept} missing from {rendered}");
        }
    }
}
