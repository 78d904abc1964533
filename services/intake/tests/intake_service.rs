//! The intake service over gRPC in front of a real case service, in both shapes: PostgreSQL
//! with Redis, and SQLite without Redis (embedded). Complaints become cases with their
//! triage; retries return the same case; repeat contacts join the open case, even 100 at
//! once; bad input is refused naming the field and creates nothing; the per-tenant rate limit
//! answers RESOURCE_EXHAUSTED with RetryInfo and is shared by replicas; an outage of the case
//! service is ridden out by retries without duplicates.

mod support;

use std::time::Duration;

use redress_proto::case::v1::{Attachment, CaseStatus, ListTimelineEntriesRequest, TimelineEntry, TimelineEntryKind};
use redress_proto::common::v1::{Channel, CustomerTier, Severity};
use redress_proto::intake::v1::*;
use redress_testkit::{Backend, assert_invalid, on_both_backends};
use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement};
use support::{Stack, complaint, request_id};
use tonic::Code;

on_both_backends!(
    complaints_open_cases_with_their_triage,
    repeat_contacts_join_the_open_case,
    a_hundred_concurrent_identical_submissions_make_one_case,
    bad_input_is_refused_naming_the_field_and_creates_nothing,
    the_rate_limit_is_per_tenant_and_shared_by_replicas,
    case_service_outages_are_retried_without_duplicates,
);

/// Rows in one of intake's own tables.
pub async fn rows(stack: &Stack, table: &str) -> i64 {
    let db = Database::connect(stack.intake_store.url.as_str()).await.expect("intake database");
    let (backend, qualified) = match db.get_database_backend() {
        DatabaseBackend::Postgres => (DatabaseBackend::Postgres, format!("redress_intake.{table}")),
        other => (other, table.to_string()),
    };
    let statement = Statement::from_string(backend, format!("SELECT COUNT(*) AS n FROM {qualified}"));
    let row = db.query_one_raw(statement).await.expect("count").expect("a row");
    let n: i64 = row.try_get("", "n").expect("n");
    let _ = db.close().await;
    n
}

async fn timeline(cases: &mut support::Cases, name: &str) -> Vec<TimelineEntry> {
    let request = ListTimelineEntriesRequest { parent: name.into(), page_size: 1000, ..Default::default() };
    let req = cases.req(request);
    cases.inner.list_timeline_entries(req).await.expect("timeline").into_inner().entries
}

async fn complaints_open_cases_with_their_triage(backend: Backend) {
    let stack = Stack::start(backend).await;
    let mut intake = stack.intake_client("acme").await;
    let mut cases = stack.case_client("acme").await;

    let mut first = complaint(
        "cust-1",
        Channel::Social,
        "  @ShopCo my kettle caught fire on the kitchen counter.   Nobody answers my emails.  ",
    );
    first.subject = "  Kettle\n fire ".into();
    first.tags = vec![" urgent ".into()];
    let id = request_id();
    let answer = intake.complaint(first.clone(), &id).await.expect("submit");
    assert_eq!(answer.outcome(), IntakeOutcome::CaseCreated);
    let triage = answer.triage.clone().expect("triage");
    assert_eq!(triage.category, "safety");
    assert_eq!(triage.severity(), Severity::Critical);
    assert!(triage.unhappy);
    assert!(triage.reasons.iter().any(|r| r.starts_with("severity critical: safety risk")), "{:?}", triage.reasons);
    assert!(triage.unhappy_reason.contains("public complaint (social media)"), "{}", triage.unhappy_reason);

    // The case carries the normalised complaint and the triage, as intake decided it.
    let case = cases.get(&answer.case).await;
    assert_eq!(case.reference, answer.case_reference);
    assert_eq!(case.subject, "Kettle fire");
    assert_eq!(case.description, "@ShopCo my kettle caught fire on the kitchen counter.   Nobody answers my emails.");
    assert_eq!(case.tags, ["urgent"]);
    assert_eq!((case.category.as_str(), case.severity(), case.unhappy), ("safety", Severity::Critical, true));
    assert_eq!(case.unhappy_reason, triage.unhappy_reason);
    assert_eq!(case.triage.as_ref(), Some(&triage));
    assert_eq!(case.status(), CaseStatus::New);

    // A retry with the same request_id answers the same, and opens nothing more.
    let again = intake.complaint(first.clone(), &id).await.expect("retry");
    assert_eq!(again, answer);
    assert_eq!(cases.all().await.len(), 1);
    // The same request_id for a different complaint is refused.
    let mut other = first.clone();
    other.description = "Something else entirely.".into();
    assert_invalid(&intake.complaint(other, &id).await.expect_err("reused"), "request_id");

    // Different complaints of the same customer are new cases; the third makes them a
    // repeat complainant, asked of the case service.
    let second = complaint("cust-1", Channel::Email, "I was charged twice for order 44817, please refund it.");
    let b = intake.complaint(second, &request_id()).await.expect("second");
    assert_eq!(b.outcome(), IntakeOutcome::CaseCreated);
    assert_ne!(b.case, answer.case);
    let third = complaint("cust-1", Channel::Web, "The app crashes whenever I open my account page.");
    let c = intake.complaint(third, &request_id()).await.expect("third");
    let triage = c.triage.expect("triage");
    assert!(
        triage.reasons.iter().any(|r| r.contains("repeat complainant, 2 cases in 30 days")),
        "{:?}",
        triage.reasons
    );
    assert_eq!(triage.severity(), Severity::High);

    // A VIP without a customer id: no history to ask for, severity raised for the tier.
    let mut vip = complaint("", Channel::Phone, "My monthly invoice shows a roaming fee for a trip I never took.");
    if let Some(customer) = vip.customer.as_mut() {
        customer.tier = CustomerTier::Vip as i32;
    }
    let d = intake.complaint(vip, &request_id()).await.expect("vip");
    assert_eq!(d.triage.expect("triage").severity(), Severity::High);
    assert_eq!(cases.all().await.len(), 4);
    // Another tenant sees none of it.
    assert!(stack.case_client("globex").await.all().await.is_empty());
    stack.stop().await;
}

async fn repeat_contacts_join_the_open_case(backend: Backend) {
    let stack = Stack::start(backend).await;
    let mut intake = stack.intake_client("acme").await;
    let mut cases = stack.case_client("acme").await;
    let text = "My parcel never arrived. The tracking says delivered but nothing was left at my door.";

    let first = intake.complaint(complaint("cust-7", Channel::Web, text), &request_id()).await.expect("first");
    assert_eq!(first.outcome(), IntakeOutcome::CaseCreated);
    assert_eq!(first.triage.as_ref().map(|t| t.severity()), Some(Severity::Medium));

    // The same customer, nearly the same words, another channel, within 24 hours.
    let resend = "My parcel never arrived!! The tracking says delivered, but nothing was left at my door.";
    let joined = intake.complaint(complaint("cust-7", Channel::Phone, resend), &request_id()).await.expect("again");
    assert_eq!(joined.outcome(), IntakeOutcome::JoinedExistingCase);
    assert_eq!(joined.case, first.case);
    let triage = joined.triage.expect("triage");
    assert_eq!(triage.severity(), Severity::High);
    assert!(triage.reasons[0].starts_with("repeat contact: joined case"), "{:?}", triage.reasons);
    let case = cases.get(&first.case).await;
    assert_eq!(case.severity(), Severity::High, "a repeat contact raises severity");
    let entries = timeline(&mut cases, &first.case).await;
    let repeat: Vec<&TimelineEntry> = entries.iter().filter(|e| e.kind() == TimelineEntryKind::RepeatContact).collect();
    assert_eq!(repeat.len(), 1);
    assert!(repeat[0].text.starts_with("customer contacted again via phone\n\n"), "{}", repeat[0].text);
    assert!(repeat[0].text.ends_with(resend));
    assert_eq!(repeat[0].actor, "system:intake");
    assert_eq!(repeat[0].attributes.get("channel").map(String::as_str), Some("phone"));

    // Something else from the same customer, and the same words from someone else, are new cases.
    let other = "I was charged twice for my last order and want the duplicate refunded.";
    let b = intake.complaint(complaint("cust-7", Channel::Email, other), &request_id()).await.expect("other");
    assert_eq!(b.outcome(), IntakeOutcome::CaseCreated);
    let c = intake.complaint(complaint("cust-8", Channel::Web, text), &request_id()).await.expect("someone else");
    assert_eq!(c.outcome(), IntakeOutcome::CaseCreated);
    assert_eq!(cases.all().await.len(), 3);
    stack.stop().await;
}

async fn a_hundred_concurrent_identical_submissions_make_one_case(backend: Backend) {
    let stack = Stack::start(backend).await;
    let mut cases = stack.case_client("acme").await;
    // With Redis, half the submissions go to a second replica: only the Redis lock keeps
    // the two from opening a case each.
    let replica = if stack.redis {
        let replica = support::start_intake(&stack.config, redress_testkit::listener().await).await;
        support::wait_serving(replica.addr).await;
        Some(replica)
    } else {
        None
    };
    let first = stack.intake_client("acme").await;
    let second = match &replica {
        Some(replica) => support::Intake::connect(replica.addr, "acme").await,
        None => first.clone(),
    };
    let text = "The washing machine you delivered yesterday leaks all over the kitchen floor.";
    let mut tasks = Vec::new();
    for i in 0..100 {
        let mut intake = if i % 2 == 0 { first.clone() } else { second.clone() };
        let channel = if i % 3 == 0 { Channel::Email } else { Channel::Chat };
        tasks.push(tokio::spawn(
            async move { intake.complaint(complaint("cust-100", channel, text), &request_id()).await },
        ));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("task").expect("submitted"));
    }
    let created = answers.iter().filter(|a| a.outcome() == IntakeOutcome::CaseCreated).count();
    let joined = answers.iter().filter(|a| a.outcome() == IntakeOutcome::JoinedExistingCase).count();
    assert_eq!((created, joined), (1, 99));
    assert!(answers.iter().all(|a| a.case == answers[0].case));
    let all = cases.all().await;
    assert_eq!(all.len(), 1, "exactly one case");
    let entries = timeline(&mut cases, &all[0].name).await;
    assert_eq!(entries.iter().filter(|e| e.kind() == TimelineEntryKind::RepeatContact).count(), 99);
    assert_eq!(all[0].severity(), Severity::High);
    if let Some(replica) = replica {
        replica.stop().await;
    }
    stack.stop().await;
}

async fn bad_input_is_refused_naming_the_field_and_creates_nothing(backend: Backend) {
    let stack = Stack::start(backend).await;
    let mut intake = stack.intake_client("acme").await;
    let good = || complaint("cust-1", Channel::Email, "The kettle leaks.");

    let mut refused = Vec::new();
    let mut c = good();
    c.description = "   ".into();
    refused.push((intake.complaint(c, &request_id()).await, "complaint.description"));
    let mut c = good();
    c.description = "a".repeat(70 * 1024);
    refused.push((intake.complaint(c, &request_id()).await, "complaint.description"));
    let mut c = good();
    c.customer.as_mut().expect("customer").email = "ana.example.com".into();
    refused.push((intake.complaint(c, &request_id()).await, "complaint.customer.email"));
    let mut c = good();
    c.customer.as_mut().expect("customer").phone = "07700 900123".into();
    refused.push((intake.complaint(c, &request_id()).await, "complaint.customer.phone"));
    let mut c = good();
    c.channel = 99;
    refused.push((intake.complaint(c, &request_id()).await, "complaint.channel"));
    let mut c = good();
    c.attachments = (0..21)
        .map(|i| Attachment {
            uri: format!("https://files.example.com/{i}.jpg"),
            media_type: "image/jpeg".into(),
            size_bytes: 1000,
            filename: format!("{i}.jpg"),
        })
        .collect();
    refused.push((intake.complaint(c, &request_id()).await, "complaint.attachments"));
    refused.push((intake.complaint(good(), "").await, "request_id"));
    let review = Review { platform: "trustpilot".into(), rating: 7, text: "Great".into(), ..Review::default() };
    refused.push((intake.review(review, &request_id()).await.map(|_| Default::default()), "review.rating"));
    let survey = SurveyResponse {
        customer: Some(support::customer("cust-1")),
        scale: redress_proto::case::v1::SurveyScale::Nps as i32,
        score: 11,
        ..SurveyResponse::default()
    };
    refused.push((intake.survey(survey, &request_id()).await.map(|_| Default::default()), "survey_response.score"));
    let anonymous_detractor = SurveyResponse {
        scale: redress_proto::case::v1::SurveyScale::Csat as i32,
        score: 1,
        ..SurveyResponse::default()
    };
    refused.push((
        intake.survey(anonymous_detractor, &request_id()).await.map(|_| Default::default()),
        "survey_response.customer",
    ));
    for (result, field) in &refused {
        assert_invalid(result.as_ref().expect_err(field), field);
    }
    // Several problems at once are all named.
    let mut c = good();
    c.description.clear();
    c.customer.as_mut().expect("customer").email = "nope".into();
    let status = intake.complaint(c, &request_id()).await.expect_err("two problems");
    assert_invalid(&status, "complaint.description");
    assert_invalid(&status, "complaint.customer.email");
    // Another tenant's parent, or a case of another tenant.
    let request =
        SubmitComplaintRequest { parent: "tenants/globex".into(), complaint: Some(good()), request_id: request_id() };
    let mut req = tonic::Request::new(request);
    req.metadata_mut().insert("x-redress-tenant", "acme".parse().expect("tenant"));
    assert_eq!(intake.inner.submit_complaint(req).await.expect_err("parent").code(), Code::PermissionDenied);
    let about_another_tenant = SurveyResponse {
        scale: redress_proto::case::v1::SurveyScale::Csat as i32,
        score: 5,
        case: "tenants/globex/cases/0190f5c2-7d3e-7b1a-9c4d-2f6e8a1b3c5d".into(),
        ..SurveyResponse::default()
    };
    let status = intake.survey(about_another_tenant, &request_id()).await.expect_err("another tenant's case");
    assert_eq!(status.code(), Code::NotFound);

    assert!(stack.case_client("acme").await.all().await.is_empty(), "no case was created");
    assert_eq!(rows(&stack, "submissions").await, 0, "no submission was recorded");
    assert_eq!(rows(&stack, "survey_responses").await, 0);
    stack.stop().await;
}

async fn the_rate_limit_is_per_tenant_and_shared_by_replicas(backend: Backend) {
    let stack = Stack::start_with(backend, |config| {
        config.intake.rate_limit_per_second = 2.0;
        config.intake.rate_limit_burst = 3;
    })
    .await;
    let mut intake = stack.intake_client("acme").await;
    let text = "The kettle leaks.";
    for i in 0..3 {
        let customer = format!("cust-{i}");
        intake.complaint(complaint(&customer, Channel::Web, text), &request_id()).await.expect("within the burst");
    }
    let status = intake.complaint(complaint("cust-9", Channel::Web, text), &request_id()).await.expect_err("limited");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    use tonic_types::StatusExt;
    let delay = status.get_error_details().retry_info().and_then(|r| r.retry_delay).expect("RetryInfo");
    assert!(delay > Duration::ZERO && delay <= Duration::from_millis(500), "{delay:?}");
    // Another tenant has its own bucket.
    let mut globex = stack.intake_client("globex").await;
    globex.complaint(complaint("cust-1", Channel::Web, text), &request_id()).await.expect("another tenant");
    if stack.redis {
        // A second replica draws from the same bucket.
        let replica = support::start_intake(&stack.config, redress_testkit::listener().await).await;
        let mut other = support::Intake::connect(replica.addr, "acme").await;
        let status = other.complaint(complaint("cust-9", Channel::Web, text), &request_id()).await.expect_err("shared");
        assert_eq!(status.code(), Code::ResourceExhausted);
        replica.stop().await;
    }
    // After the delay a token is due again.
    tokio::time::sleep(delay + Duration::from_millis(20)).await;
    intake.complaint(complaint("cust-9", Channel::Web, text), &request_id()).await.expect("refilled");
    stack.stop().await;
}

async fn case_service_outages_are_retried_without_duplicates(backend: Backend) {
    let stack = Stack::start(backend).await;
    // A second intake whose case service is not up yet.
    let spare = redress_testkit::listener().await;
    let case_addr = spare.local_addr().expect("addr");
    drop(spare);
    let mut config = stack.config.clone();
    config.peers.case = format!("http://{case_addr}");
    config.client.max_retries = 12;
    config.client.backoff_base = "50ms".into();
    config.client.backoff_max = "400ms".into();
    let intake = support::start_intake(&config, redress_testkit::listener().await).await;
    let client = support::Intake::connect(intake.addr, "acme").await;
    let id = request_id();
    let text = "The fridge you sent is also broken.";
    let submitted = tokio::spawn({
        let (mut client, id) = (client.clone(), id.clone());
        async move { client.complaint(complaint("cust-3", Channel::Phone, text), &id).await }
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let store = redress_testkit::TestStore::create(backend).await;
    let case = support::start_case(&store.url, tokio::net::TcpListener::bind(case_addr).await.expect("rebind")).await;
    let answer = submitted.await.expect("task").expect("submitted once the case service is up");
    assert_eq!(answer.outcome(), IntakeOutcome::CaseCreated);
    support::wait_serving(intake.addr).await;
    let again = client.clone().complaint(complaint("cust-3", Channel::Phone, text), &id).await.expect("retry");
    assert_eq!(again.case, answer.case);
    let channel = redress_testkit::connect(case.addr).await;
    let mut cases = support::Cases {
        inner: redress_proto::case::v1::case_service_client::CaseServiceClient::new(channel),
        tenant: "acme".into(),
    };
    assert_eq!(cases.all().await.len(), 1);
    intake.stop().await;
    case.stop().await;
    stack.stop().await;
}
