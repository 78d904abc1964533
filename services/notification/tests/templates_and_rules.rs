//! Templates and rules over gRPC, on PostgreSQL and SQLite: a template with an unknown
//! variable is refused naming the field; a tenant's template takes the built-in's place in its
//! locale and the fallback finds it; the default rules send the offer, the confirmation and a
//! survey days later; a tenant's own rule replaces the defaults; bad input and other tenants'
//! names are refused.

mod support;

use std::time::Duration;

use prost_types::FieldMask;
use redress_proto::case::v1::*;
use redress_proto::common::v1::Money;
use redress_proto::notification::v1::*;
use redress_testkit::{Backend, assert_invalid, on_both_backends};
use support::sinks::{SmtpBehaviour, SmtpSink};
use support::{CaseServer, NotificationServer, Notifications, complaint, email};
use tonic::Code;

on_both_backends!(
    templates_are_checked_stored_and_chosen_by_locale,
    rules_turn_case_events_into_messages,
    bad_input_and_other_tenants_are_refused
);

const WAIT: Duration = Duration::from_secs(20);

fn template(key: &str, locale: &str, text: &str) -> Template {
    Template {
        key: key.into(),
        locale: locale.into(),
        audience: Audience::Customer as i32,
        subject: "Votre dossier {{ case.reference }}".into(),
        text_body: text.into(),
        ..Template::default()
    }
}

async fn templates_are_checked_stored_and_chosen_by_locale(backend: Backend) {
    let smtp = SmtpSink::start(SmtpBehaviour::default()).await;
    let cases = CaseServer::start(backend).await;
    let (smtp_url, case_url) = (smtp.url(), cases.url());
    let server = NotificationServer::start(backend, |c| {
        c.notification.smtp_url = smtp_url;
        c.peers.case = case_url;
        c.notification.default_rules = false;
    })
    .await;
    let mut admin = server.client("acme", "admin-1", "admin").await;
    let create = |t: Template, request_id: &str| CreateTemplateRequest {
        parent: "tenants/acme".into(),
        template: Some(t),
        request_id: request_id.into(),
    };

    // An unknown variable is refused, naming the field and the variable.
    let bad = template("status_update", "fr", "Bonjour {{ customer.shoe_size }}, {{ reply_to }} {{ case.reference }}");
    let status = admin.inner.create_template(admin.req(create(bad, "t-bad"))).await.expect_err("refused");
    assert_invalid(&status, "template.text_body");
    assert!(status.message().contains("customer.shoe_size"), "{}", status.message());
    // A customer-facing template must give a way back to a person.
    let no_way_back = template("status_update", "fr", "Bonjour {{ customer.display_name }}");
    let status = admin.inner.create_template(admin.req(create(no_way_back, "t-bad2"))).await.expect_err("refused");
    assert_invalid(&status, "template.text_body");
    // Only admins administer templates.
    let mut agent = server.client("acme", "agent-7", "agent").await;
    let ok = template(
        "status_update",
        "fr_ca",
        "Bonjour {{ customer.display_name }}. Écrivez à {{ reply_to }} ({{ case.reference }}).",
    );
    let status = agent.inner.create_template(agent.req(create(ok.clone(), "t-1"))).await.expect_err("not an admin");
    assert_eq!(status.code(), Code::PermissionDenied);

    let created =
        admin.inner.create_template(admin.req(create(ok.clone(), "t-1"))).await.expect("created").into_inner();
    let created = created.template.expect("template");
    assert_eq!(created.locale, "fr-CA", "the locale is kept in canonical form");
    assert_eq!(created.variables, ["case.reference", "customer.display_name", "reply_to"]);
    assert!(!created.built_in && created.name.starts_with("tenants/acme/templates/"));
    let again = admin.inner.create_template(admin.req(create(ok.clone(), "t-1"))).await.expect("replayed").into_inner();
    assert_eq!(again.template.expect("template").name, created.name, "the same request_id returns the first");
    let status = admin.inner.create_template(admin.req(create(ok, "t-2"))).await.expect_err("taken");
    assert_eq!(status.code(), Code::AlreadyExists);

    // The list holds the tenant's template and the built-ins, 17 of them.
    let list = |key: &str, page_size: i32, page_token: String| ListTemplatesRequest {
        parent: "tenants/acme".into(),
        key: key.into(),
        page_size,
        page_token,
        ..Default::default()
    };
    let page = admin
        .inner
        .list_templates(admin.req(list("status_update", 0, String::new())))
        .await
        .expect("list")
        .into_inner();
    let locales: Vec<(String, bool)> = page.templates.iter().map(|t| (t.locale.clone(), t.built_in)).collect();
    assert_eq!(locales, [("en".to_string(), true), ("fr".to_string(), true), ("fr-CA".to_string(), false)]);
    let mut seen = 0;
    let mut token = String::new();
    loop {
        let page = admin.inner.list_templates(admin.req(list("", 5, token))).await.expect("list").into_inner();
        seen += page.templates.len();
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, 18, "17 built-in templates and the tenant's own");

    // Built-ins cannot be changed; the tenant's can, and stay checked.
    let builtin = page.templates.iter().find(|t| t.built_in).cloned().expect("a built-in");
    let mask = |paths: &[&str]| Some(FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() });
    let status = admin
        .inner
        .update_template(admin.req(UpdateTemplateRequest { template: Some(builtin), update_mask: mask(&["subject"]) }))
        .await
        .expect_err("built in");
    assert_eq!(status.code(), Code::FailedPrecondition);
    let mut changed = created.clone();
    changed.text_body =
        "Bonjour {{ customer.display_name }} : {{ update }}. {{ reply_to }}, dossier {{ case.reference }}.".into();
    let updated = admin
        .inner
        .update_template(
            admin.req(UpdateTemplateRequest { template: Some(changed.clone()), update_mask: mask(&["text_body"]) }),
        )
        .await
        .expect("updated")
        .into_inner()
        .template
        .expect("template");
    assert!(updated.variables.contains(&"update".to_string()));
    changed.text_body = "{{ nonsense }}".into();
    let status = admin
        .inner
        .update_template(
            admin.req(UpdateTemplateRequest { template: Some(changed), update_mask: mask(&["text_body"]) }),
        )
        .await
        .expect_err("refused");
    assert_invalid(&status, "template.text_body");

    // Sending: fr-CA finds the tenant's template; it-IT falls back to the built-in English.
    let mut case_agent = cases.client("acme", "agent-7", "agent").await;
    let case = case_agent.create(complaint("Éloïse", "eloise@example.fr", "fr-CA")).await;
    let update = |to: &str, locale: &str| Notification {
        recipient: Some(Recipient { recipient: Some(recipient::Recipient::Address(to.into())) }),
        channel: NotificationChannel::Email as i32,
        content: Some(notification::Content::Template(TemplateContent {
            template_key: "status_update".into(),
            locale: locale.into(),
            variables: Some(prost_types::Struct {
                fields: [(
                    "update".to_string(),
                    prost_types::Value { kind: Some(prost_types::value::Kind::StringValue("colis expédié".into())) },
                )]
                .into_iter()
                .collect(),
            }),
        })),
        case: case.name.clone(),
        ..Notification::default()
    };
    let fr = agent.send("u-fr", update("eloise@example.fr", "fr-CA")).await.expect("send");
    let it = agent.send("u-it", update("giulia@example.it", "it-IT")).await.expect("send");
    let fr = agent.wait_status(&fr.name, DeliveryStatus::Delivered, WAIT).await;
    let it = agent.wait_status(&it.name, DeliveryStatus::Delivered, WAIT).await;
    assert_eq!(
        fr.rendered_text,
        format!("Bonjour Éloïse : colis expédié. care@acme.example, dossier {}.", case.reference)
    );
    assert_eq!(fr.rendered_subject, format!("Votre dossier {}", case.reference));
    assert!(it.rendered_subject.starts_with("News on your complaint"), "{}", it.rendered_subject);
    assert!(it.rendered_text.contains("colis expédié"), "{}", it.rendered_text);
    assert_eq!(smtp.wait_for(2, WAIT).await.len(), 2);

    // A template variable that is not set fails the render: dead-lettered, saying which.
    let mut question = update("giulia@example.it", "en");
    if let Some(notification::Content::Template(t)) = question.content.as_mut() {
        t.template_key = "input_request".into();
        t.variables = None;
    }
    let sent = agent.send("q-1", question).await.expect("send");
    let dead = agent.wait_status(&sent.name, DeliveryStatus::DeadLetter, WAIT).await;
    assert!(dead.last_error.contains("\"question\" is not set"), "{}", dead.last_error);

    server.running.stop().await;
    cases.running.stop().await;
}

async fn rules_turn_case_events_into_messages(backend: Backend) {
    let smtp = SmtpSink::start(SmtpBehaviour::default()).await;
    let cases = CaseServer::start(backend).await;
    let (smtp_url, case_url) = (smtp.url(), cases.url());
    let server = NotificationServer::start(backend, |c| {
        c.notification.smtp_url = smtp_url;
        c.peers.case = case_url;
        c.notification.survey_delay = "3d".into();
    })
    .await;
    let mut admin = server.client("acme", "admin-1", "admin").await;
    let rules =
        admin.inner.list_rules(admin.req(ListRulesRequest { parent: "tenants/acme".into(), ..Default::default() }));
    let rules = rules.await.expect("list").into_inner().rules;
    assert_eq!(rules.len(), 5, "the defaults are in force");
    assert!(rules.iter().all(|r| r.built_in && r.enabled));
    let status = admin
        .inner
        .delete_rule(admin.req(DeleteRuleRequest { name: rules[0].name.clone() }))
        .await
        .expect_err("defaults cannot be deleted");
    assert_eq!(status.code(), Code::FailedPrecondition);

    // A case through its life: acknowledgement, the offer, the confirmation, a survey in 3 days.
    let mut agent = cases.client("acme", "agent-7", "agent").await;
    let case = agent.create(complaint("Ana Silva", "ana@example.com", "en")).await;
    let name = case.name.clone();
    let ack = agent.req(AcknowledgeCaseRequest {
        name: name.clone(),
        apologized: true,
        apology_text: "Sorry".into(),
        ..Default::default()
    });
    agent.inner.acknowledge_case(ack).await.expect("acknowledge");
    let start = agent.req(StartInvestigationRequest { name: name.clone(), ..Default::default() });
    agent.inner.start_investigation(start).await.expect("investigate");
    let offer = ResolutionOffer {
        kind: OfferKind::Refund as i32,
        amount: Some(Money { amount_minor: 1250, currency_code: "EUR".into() }),
        description: "a full refund of the kettle".into(),
        ..Default::default()
    };
    let propose = agent.req(ProposeResolutionRequest { name: name.clone(), offer: Some(offer), ..Default::default() });
    agent.inner.propose_resolution(propose).await.expect("propose");
    let accept = agent.req(RecordCustomerResponseRequest {
        name: name.clone(),
        response: Some(record_customer_response_request::Response::OfferResponse(OfferResponse {
            offer: format!("{name}/offers/1"),
            decision: OfferDecision::Accept as i32,
            ..Default::default()
        })),
        ..Default::default()
    });
    agent.inner.record_customer_response(accept).await.expect("accept");
    let resolve = agent.req(ResolveCaseRequest { name: name.clone(), ..Default::default() });
    agent.inner.resolve_case(resolve).await.expect("resolve");

    let mails = smtp.wait_for(3, WAIT).await;
    let subjects: Vec<String> = mails.iter().filter_map(|m| m.header("Subject")).collect();
    assert_eq!(mails.len(), 3, "{subjects:?}");
    // Delivered by concurrent workers: in any order.
    assert!(subjects.iter().any(|s| s.starts_with("We are sorry")), "{subjects:?}");
    let offer_mail =
        mails.iter().find(|m| m.part("text/plain").is_some_and(|t| t.contains("12.50 EUR"))).expect("the offer");
    assert!(offer_mail.part("text/plain").expect("text").contains("a full refund of the kettle"));
    let confirmation =
        mails.iter().find(|m| m.part("text/plain").is_some_and(|t| t.contains("https://survey.acme.example/")));
    assert!(confirmation.is_some(), "the confirmation carries the survey link: {subjects:?}");

    let mut reader = server.client("acme", "agent-7", "agent").await;
    let listed = reader.all(&name, "", DeliveryStatus::Unspecified).await;
    assert_eq!(listed.len(), 4, "acknowledgement, offer, confirmation, survey");
    let survey = listed.iter().find(|n| n.status == DeliveryStatus::Pending as i32).expect("the survey waits");
    let due = survey.next_attempt_time.expect("due").seconds - chrono::Utc::now().timestamp();
    assert!((3 * 86_400 - 120..=3 * 86_400).contains(&due), "due in 3 days: {due}s");

    // A tenant's own rule replaces the defaults: a disabled one turns them all off.
    let off = Rule {
        display_name: "No acknowledgements".into(),
        event_type: CaseEventType::Created as i32,
        template_key: "acknowledgement".into(),
        recipient: RuleRecipient::Customer as i32,
        channel: NotificationChannel::Email as i32,
        enabled: false,
        ..Default::default()
    };
    let created = admin
        .inner
        .create_rule(admin.req(CreateRuleRequest {
            parent: "tenants/acme".into(),
            rule: Some(off),
            request_id: "r-1".into(),
        }))
        .await
        .expect("created")
        .into_inner()
        .rule
        .expect("rule");
    assert!(!created.built_in && !created.enabled);
    let rules =
        admin.inner.list_rules(admin.req(ListRulesRequest { parent: "tenants/acme".into(), ..Default::default() }));
    assert_eq!(rules.await.expect("list").into_inner().rules, std::slice::from_ref(&created));
    let quiet = agent.create(complaint("Ben", "ben@example.com", "en")).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(reader.all(&quiet.name, "", DeliveryStatus::Unspecified).await.is_empty(), "no rule applies any more");
    assert_eq!(smtp.count(), 3);
    admin.inner.delete_rule(admin.req(DeleteRuleRequest { name: created.name.clone() })).await.expect("deleted");
    let status = admin.inner.delete_rule(admin.req(DeleteRuleRequest { name: created.name })).await.expect_err("gone");
    assert_eq!(status.code(), Code::NotFound);

    server.running.stop().await;
    cases.running.stop().await;
}

async fn bad_input_and_other_tenants_are_refused(backend: Backend) {
    let server = NotificationServer::start(backend, |_| {}).await;
    let mut client = server.client("acme", "agent-7", "agent").await;

    let status = client.send("", email("ana@example.com", "s", "t")).await.expect_err("no request_id");
    assert_invalid(&status, "request_id");
    let status = client.send("b-1", email("not an address", "s", "t")).await.expect_err("bad address");
    assert_invalid(&status, "notification.recipient.address");
    let mut no_channel = email("ana@example.com", "s", "t");
    no_channel.channel = 0;
    assert_invalid(&client.send("b-2", no_channel).await.expect_err("no channel"), "notification.channel");
    let mut hook = email("http://", "s", "t");
    hook.channel = NotificationChannel::Webhook as i32;
    assert_invalid(&client.send("b-3", hook).await.expect_err("bad URL"), "notification.recipient.address");
    let mut task = email("+447700900123", "s", "t");
    task.channel = NotificationChannel::CallTask as i32;
    assert_invalid(&client.send("b-4", task).await.expect_err("no case"), "notification.case");
    let mut unknown = email("ana@example.com", "s", "t");
    unknown.content = Some(notification::Content::Template(TemplateContent {
        template_key: "no_such_template".into(),
        ..Default::default()
    }));
    assert_invalid(
        &client.send("b-5", unknown.clone()).await.expect_err("no template"),
        "notification.template.template_key",
    );
    if let Some(notification::Content::Template(t)) = unknown.content.as_mut() {
        t.template_key = "acknowledgement".into();
        t.variables = Some(prost_types::Struct {
            fields: [(
                "shoe_size".to_string(),
                prost_types::Value { kind: Some(prost_types::value::Kind::NumberValue(9.0)) },
            )]
            .into_iter()
            .collect(),
        });
    }
    assert_invalid(
        &client.send("b-6", unknown).await.expect_err("unknown variable"),
        "notification.template.variables.shoe_size",
    );
    let mut staff = email("ana@example.com", "s", "t");
    staff.recipient =
        Some(Recipient { recipient: Some(recipient::Recipient::StaffMember("tenants/globex/staff/s1".into())) });
    assert_invalid(
        &client.send("b-7", staff).await.expect_err("another tenant's staff"),
        "notification.recipient.staff_member",
    );
    assert!(client.all("", "", DeliveryStatus::Unspecified).await.is_empty(), "nothing was accepted");

    // Another tenant sees nothing of acme's.
    let sent = client.send("t-1", email("ana@example.com", "s", "t")).await.expect("send");
    let mut globex = server.client("globex", "agent-1", "agent").await;
    let status = globex.inner.get_notification(globex.req(GetNotificationRequest { name: sent.name.clone() })).await;
    assert_eq!(status.expect_err("not theirs").code(), Code::NotFound);
    assert!(globex.all("", "", DeliveryStatus::Unspecified).await.is_empty());
    let status = globex
        .inner
        .list_notifications(
            globex.req(ListNotificationsRequest { parent: "tenants/acme".into(), ..Default::default() }),
        )
        .await
        .expect_err("not their tenant");
    assert_eq!(status.code(), Code::PermissionDenied);

    // Pages: 25 notifications in pages of 10, newest first, none twice.
    for i in 0..24 {
        client.send(&format!("p-{i}"), email("page@example.com", "s", "t")).await.expect("send");
    }
    let mut names = Vec::new();
    let mut token = String::new();
    loop {
        let req = client.req(ListNotificationsRequest {
            parent: "tenants/acme".into(),
            page_size: 10,
            page_token: token,
            ..Default::default()
        });
        let page = client.inner.list_notifications(req).await.expect("list").into_inner();
        names.extend(page.notifications.into_iter().map(|n| n.name));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(names.len(), 25);
    assert_eq!(names.last(), Some(&sent.name), "newest first");
    let unique: std::collections::HashSet<_> = names.iter().collect();
    assert_eq!(unique.len(), 25);
    let req = client.req(ListNotificationsRequest {
        parent: "tenants/acme".into(),
        page_token: "forged".into(),
        ..Default::default()
    });
    assert_invalid(&client.inner.list_notifications(req).await.expect_err("forged token"), "page_token");
    let filtered = client.all("", "page@example.com", DeliveryStatus::Unspecified).await;
    assert_eq!(filtered.len(), 24);

    server.running.stop().await;
}
