use serde_json::json;

use super::*;
use crate::domain::context::{CustomerVars, TemplateContext};

fn customer_template(subject: &str, text: &str, html: Option<&str>) -> Template {
    Template {
        key: "acknowledgement".into(),
        locale: "en".into(),
        audience: Audience::Customer,
        subject: subject.into(),
        text_body: text.into(),
        html_body: html.map(str::to_string),
    }
}

fn staff_template(subject: &str, text: &str) -> Template {
    Template { audience: Audience::Staff, key: "escalation_alert".into(), ..customer_template(subject, text, None) }
}

fn violations(template: &Template) -> Vec<FieldViolation> {
    match template.compile() {
        Err(TemplateError::Invalid(violations)) => violations,
        Err(other) => panic!("expected violations, got {other}"),
        Ok(_) => panic!("expected the template to be refused"),
    }
}

const WAY_BACK: &str = "Reply to {{ reply_to }} quoting {{ case.reference }}.";

#[test]
fn renders_subject_text_and_html_with_escaping_only_in_html() {
    let template = customer_template(
        "Hello {{ customer.display_name }}",
        &format!("Dear {{{{ customer.display_name }}}},\n{WAY_BACK}"),
        Some(&format!("<p>Dear {{{{ customer.display_name }}}},</p><p>{WAY_BACK}</p>")),
    );
    let context = json!({
        "customer": {"display_name": "<script>alert('x')</script> & Co"},
        "reply_to": "care@example.com",
        "case": {"reference": "RD-1"},
    });
    let rendered = template.render(&context).expect("renders");
    assert_eq!(rendered.subject, "Hello <script>alert('x')</script> & Co");
    assert_eq!(rendered.text, "Dear <script>alert('x')</script> & Co,\nReply to care@example.com quoting RD-1.");
    let html = rendered.html.expect("has an HTML body");
    assert!(html.contains("&lt;script&gt;alert(&#x27;x&#x27;)&lt;&#x2f;script&gt; &amp; Co"), "{html}");
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.starts_with("<p>Dear "), "markup written by the template is kept: {html}");
}

#[test]
fn a_typed_context_renders_like_json() {
    let template = staff_template("{{ customer.display_name }}", "{{ customer.email }} {{ tenant }}");
    let context = TemplateContext {
        customer: Some(CustomerVars {
            display_name: "Ana".into(),
            email: "ana@example.com".into(),
            ..Default::default()
        }),
        tenant: Some("Acme".into()),
        ..Default::default()
    };
    let rendered = template.render(&context).expect("renders");
    assert_eq!(
        (rendered.subject.as_str(), rendered.text.as_str(), rendered.html),
        ("Ana", "ana@example.com Acme", None)
    );
}

#[test]
fn an_unset_value_fails_the_render_and_names_the_variable() {
    let compiled =
        staff_template("Case {{ case.reference }}", "Hello\n{{ customer.display_name }}").compile().expect("valid");
    let err = compiled.render(&json!({"case": {"reference": "RD-1"}})).expect_err("customer is not set");
    assert_eq!(
        err,
        TemplateError::Render {
            field: TEXT_BODY_FIELD,
            detail: "\"customer.display_name\" is not set (line 2)".into()
        }
    );

    let err = compiled
        .render(&json!({"case": {"reference": "RD-1"}, "customer": {"display_name": null}}))
        .expect_err("a null is not a value");
    assert!(err.to_string().contains("customer.display_name"), "{err}");

    let err = compiled.render(&json!({})).expect_err("nothing is set");
    assert!(matches!(err, TemplateError::Render { field: SUBJECT_FIELD, .. }), "{err}");
}

#[test]
fn optional_parts_can_be_guarded_with_is_defined() {
    let template =
        staff_template("x", "{% if update is defined %}\nNews: {{ update }}\n{% else %}\nNo news.\n{% endif %}\n");
    assert_eq!(template.render(&json!({})).expect("renders").text, "No news.\n");
    assert_eq!(template.render(&json!({"update": "Shipped"})).expect("renders").text, "News: Shipped\n");
}

#[test]
fn the_subject_is_rendered_on_one_line() {
    let template = staff_template("Case: {{ case.subject }}", "x");
    let rendered =
        template.render(&json!({"case": {"subject": "Broken\r\nBcc: everyone@example.com\n"}})).expect("renders");
    assert_eq!(rendered.subject, "Case: Broken Bcc: everyone@example.com");
}

#[test]
fn variables_are_reported_as_dotted_paths() {
    let template = customer_template(
        "{{ case.reference }}",
        "{% set name = customer.display_name %}{{ name }} {% for c in [1, 2] %}{{ loop.index }}{{ c }}{% endfor %}\n\
         {{ offer.amount | upper }} {{ offer }} {{ reply_to }} {{ case.reference }}",
        None,
    );
    assert_eq!(
        template.check().expect("valid"),
        vec!["case.reference", "customer.display_name", "offer", "offer.amount", "reply_to"]
    );
}

#[test]
fn unknown_variables_are_refused_with_field_and_name() {
    let template = customer_template(
        "{{ customer.shoe_size }}",
        &format!("{{{{ shoe_size }}}} {WAY_BACK}"),
        Some(&format!("{{{{ reply_to.domain }}}} {{{{ case.reference.upper }}}} {WAY_BACK}")),
    );
    let found = violations(&template);
    let described: Vec<(&str, &str)> = found.iter().map(|v| (v.field, v.description.as_str())).collect();
    assert_eq!(
        described,
        vec![
            (
                SUBJECT_FIELD,
                "unknown variable \"customer.shoe_size\"; known: customer.display_name, customer.email, customer.phone, customer.locale"
            ),
            (
                TEXT_BODY_FIELD,
                "unknown variable \"shoe_size\"; known: case, customer, offer, staff, escalation, survey_link, reply_to, question, reply, update, review, sender, tenant"
            ),
            (
                HTML_BODY_FIELD,
                "unknown variable \"case.reference.upper\"; \"case.reference\" is a single value with no attributes"
            ),
            (
                HTML_BODY_FIELD,
                "unknown variable \"reply_to.domain\"; \"reply_to\" is a single value with no attributes"
            ),
        ]
    );
    let message = TemplateError::Invalid(found).to_string();
    assert!(message.starts_with("template refused: template.subject: unknown variable"), "{message}");
}

#[test]
fn syntax_errors_are_refused_with_the_line() {
    let template = staff_template("ok", "line one\nline two {{ case.reference\nline three");
    let found = violations(&template);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].field, TEXT_BODY_FIELD);
    assert!(found[0].description.starts_with("syntax error"), "{}", found[0].description);
    assert!(
        found[0].description.contains("(line 2)") || found[0].description.contains("(line 3)"),
        "{}",
        found[0].description
    );

    let found = violations(&staff_template("{% if %}", "fine"));
    assert_eq!(found[0].field, SUBJECT_FIELD);
    assert!(found[0].description.contains("line 1"), "{}", found[0].description);
}

#[test]
fn mistakes_only_a_render_finds_are_refused_with_the_sample_context() {
    let found = violations(&staff_template("x", "{{ case.reference | no_such_filter }}"));
    assert_eq!(found[0].field, TEXT_BODY_FIELD);
    assert!(
        found[0].description.contains("no_such_filter") || found[0].description.contains("unknown filter"),
        "{found:?}"
    );
    assert!(found[0].description.ends_with("with the sample context"), "{found:?}");

    let found = violations(&staff_template("x", "{{ customer['shoe_size'] }}"));
    assert_eq!(found[0].field, TEXT_BODY_FIELD, "{found:?}");

    let found = violations(&staff_template("x", "{% for i in range(100000) %}{{ i }}{% endfor %}"));
    assert_eq!(found[0].field, TEXT_BODY_FIELD, "a runaway loop runs out of fuel: {found:?}");
}

#[test]
fn customer_messages_must_give_a_way_back_to_a_person() {
    let template =
        customer_template("Sorry", "We are sorry, {{ customer.display_name }}.", Some("<p>{{ reply_to }}</p>"));
    let found = violations(&template);
    assert_eq!(
        found,
        vec![
            FieldViolation::new(
                TEXT_BODY_FIELD,
                "a customer-facing message must give a way back to a person: use {{ reply_to }} and {{ case.reference }}"
            ),
            FieldViolation::new(
                HTML_BODY_FIELD,
                "a customer-facing message must give a way back to a person: use {{ case.reference }}"
            ),
        ]
    );
    assert!(staff_template("Alert", "Case escalated.").compile().is_ok(), "staff messages need no way back");
}

#[test]
fn key_locale_subject_and_body_are_checked() {
    let template = Template {
        key: "Bad Key".into(),
        locale: "not a locale".into(),
        audience: Audience::Staff,
        subject: "two\nlines".into(),
        text_body: "  ".into(),
        html_body: Some(String::new()),
    };
    let fields: Vec<&str> = violations(&template).iter().map(|v| v.field).collect();
    assert_eq!(fields, vec![KEY_FIELD, LOCALE_FIELD, SUBJECT_FIELD, TEXT_BODY_FIELD]);

    let big = staff_template("x", &"a".repeat(MAX_BODY_BYTES + 1));
    let found = violations(&big);
    assert_eq!(found[0].field, TEXT_BODY_FIELD);
    assert!(found[0].description.contains("at most 65536"), "{found:?}");

    let empty_html = Template { html_body: Some(" ".into()), ..staff_template("s", "t") };
    assert_eq!(empty_html.render(&json!({})).expect("renders").html, None, "a blank HTML body is no HTML body");
}

#[test]
fn a_compiled_template_renders_many_times() {
    let compiled = staff_template("{{ staff.display_name }}", "{{ escalation.level }}").compile().expect("valid");
    assert_eq!(compiled.audience(), Audience::Staff);
    assert_eq!(compiled.variables(), ["escalation.level", "staff.display_name"]);
    for level in 1..=3 {
        let rendered = compiled
            .render(&json!({"staff": {"display_name": "Priya"}, "escalation": {"level": level}}))
            .expect("renders");
        assert_eq!(rendered.text, level.to_string());
    }
}
