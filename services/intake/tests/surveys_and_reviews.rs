//! Survey answers and third-party reviews through intake, in front of a real case service,
//! on PostgreSQL with Redis and on SQLite without: a detractor opens an unhappy case, or
//! reopens and marks unhappy the case it is about; a promoter opens none but is kept and
//! recorded on the case it names; a one-star review opens a public, unhappy case with a
//! "reply publicly" task, and the reply posted goes on the timeline.

mod support;

use redress_proto::case::v1::{
    AcknowledgeCaseRequest, AddTimelineEntryRequest, CaseStatus, ResolveCaseRequest, StartInvestigationRequest,
    SurveyScale, TaskKind, TaskState, TimelineEntry, TimelineEntryKind,
};
use redress_proto::common::v1::{Channel, Severity};
use redress_proto::intake::v1::*;
use redress_testkit::{Backend, on_both_backends};
use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement};
use support::{Stack, complaint, customer, request_id};

on_both_backends!(surveys_flag_detractors_and_keep_every_answer, low_reviews_open_public_cases_with_a_reply_task);

/// The survey answers intake kept: (score, class, case).
async fn kept_answers(stack: &Stack) -> Vec<(i32, i32, String)> {
    let db = Database::connect(stack.intake_store.url.as_str()).await.expect("intake database");
    let backend = db.get_database_backend();
    let table =
        if backend == DatabaseBackend::Postgres { "redress_intake.survey_responses" } else { "survey_responses" };
    let sql = format!("SELECT score, survey_class, case_name FROM {table} ORDER BY create_time, id");
    let rows = db.query_all_raw(Statement::from_string(backend, sql)).await.expect("select");
    let _ = db.close().await;
    rows.iter()
        .map(|row| {
            (
                row.try_get("", "score").expect("score"),
                row.try_get("", "survey_class").expect("class"),
                row.try_get("", "case_name").expect("case"),
            )
        })
        .collect()
}

fn survey(scale: SurveyScale, score: i32, comment: &str, case: &str) -> SurveyResponse {
    SurveyResponse {
        customer: Some(customer("cust-5")),
        scale: scale as i32,
        score,
        comment: comment.into(),
        case: case.into(),
        external_reference: format!("survey-{}", request_id()),
        ..SurveyResponse::default()
    }
}

async fn surveys_flag_detractors_and_keep_every_answer(backend: Backend) {
    let stack = Stack::start(backend).await;
    let mut intake = stack.intake_client("acme").await;
    let mut cases = stack.case_client("acme").await;

    // A detractor about nothing in particular: an unhappy-customer case.
    let detractor = survey(SurveyScale::Nps, 3, "The engineer never turned up and nobody called.", "");
    let id = request_id();
    let answer = intake.survey(detractor.clone(), &id).await.expect("detractor");
    assert_eq!(answer.survey_class(), SurveyClass::Detractor);
    assert_eq!(answer.outcome(), IntakeOutcome::CaseCreated);
    let case = cases.get(&answer.case).await;
    assert_eq!(case.channel(), Channel::Survey);
    assert!(case.unhappy);
    assert!(case.unhappy_reason.starts_with("detractor survey, NPS 3"), "{}", case.unhappy_reason);
    assert_eq!(case.severity(), Severity::High);
    assert_eq!(case.subject, "Detractor survey: NPS 3");
    assert_eq!(intake.survey(detractor, &id).await.expect("retry"), answer, "a retry answers the same");

    // A promoter: no case, but kept.
    let promoter =
        intake.survey(survey(SurveyScale::Csat, 5, "Lovely service", ""), &request_id()).await.expect("promoter");
    assert_eq!(promoter.survey_class(), SurveyClass::Promoter);
    assert_eq!(promoter.outcome(), IntakeOutcome::RecordedOnly);
    assert!(promoter.case.is_empty());
    assert_eq!(cases.all().await.len(), 1, "a promoter opens no case");

    // A resolved complaint, then a promoter about it: recorded on the case as its satisfaction.
    let text = "The dishwasher door does not close.";
    let opened = intake.complaint(complaint("cust-5", Channel::Email, text), &request_id()).await.expect("complaint");
    let name = opened.case.clone();
    let ack = AcknowledgeCaseRequest {
        name: name.clone(),
        apologized: true,
        apology_text: "We are sorry.".into(),
        ..Default::default()
    };
    let req = cases.req(ack);
    cases.inner.acknowledge_case(req).await.expect("acknowledge");
    let req = cases.req(StartInvestigationRequest { name: name.clone(), ..Default::default() });
    cases.inner.start_investigation(req).await.expect("investigate");
    let req = cases.req(ResolveCaseRequest {
        name: name.clone(),
        fix_summary: "Replaced the hinge.".into(),
        ..Default::default()
    });
    cases.inner.resolve_case(req).await.expect("resolve");
    let happy =
        intake.survey(survey(SurveyScale::Nps, 9, "Fixed quickly", &name), &request_id()).await.expect("promoter");
    assert_eq!(happy.outcome(), IntakeOutcome::CaseUpdated);
    assert_eq!(happy.case, name);
    let case = cases.get(&name).await;
    assert_eq!(case.satisfaction.as_ref().map(|s| s.score), Some(9));
    assert_eq!(case.status(), CaseStatus::Resolved, "a promoter leaves the case as it is");

    // A detractor about the resolved case: recorded, reopened and marked unhappy at once.
    let unhappy = intake
        .survey(survey(SurveyScale::Csat, 1, "It broke again the next day.", &name), &request_id())
        .await
        .expect("d");
    assert_eq!(unhappy.survey_class(), SurveyClass::Detractor);
    assert_eq!(unhappy.outcome(), IntakeOutcome::CaseUpdated);
    let case = cases.get(&name).await;
    assert_eq!(case.status(), CaseStatus::Reopened);
    assert!(case.unhappy);
    assert!(case.unhappy_reason.starts_with("detractor survey, CSAT 1"), "{}", case.unhappy_reason);
    assert_eq!(case.satisfaction.as_ref().map(|s| s.score), Some(1));
    assert_eq!(case.severity(), Severity::High);
    assert_eq!(cases.all().await.len(), 2);

    let kept = kept_answers(&stack).await;
    let classes: Vec<(i32, i32)> = kept.iter().map(|(s, c, _)| (*s, *c)).collect();
    let (d, p) = (SurveyClass::Detractor as i32, SurveyClass::Promoter as i32);
    assert_eq!(classes, [(3, d), (5, p), (9, p), (1, d)], "every answer is kept once");
    assert_eq!(kept[0].2, answer.case);
    assert!(kept[1].2.is_empty());
    assert_eq!(kept[2].2, name);
    stack.stop().await;
}

async fn low_reviews_open_public_cases_with_a_reply_task(backend: Backend) {
    let stack = Stack::start(backend).await;
    let mut intake = stack.intake_client("acme").await;
    let mut cases = stack.case_client("acme").await;

    let review = Review {
        platform: " Trustpilot ".into(),
        url: "https://www.trustpilot.com/reviews/abc123".into(),
        rating: 1,
        title: "Never again".into(),
        text: "Parcel left in the rain, everything soaked. Customer service never replied.".into(),
        author_handle: "jane_d".into(),
        external_reference: "tp-abc123".into(),
        ..Review::default()
    };
    let id = request_id();
    let answer = intake.review(review.clone(), &id).await.expect("review");
    assert_eq!(answer.outcome(), IntakeOutcome::CaseCreated);
    let triage = answer.triage.clone().expect("triage");
    assert!(triage.unhappy);
    assert!(triage.unhappy_reason.starts_with("review rated 1 of 5"), "{}", triage.unhappy_reason);
    assert_eq!(triage.severity(), Severity::High);
    let case = cases.get(&answer.case).await;
    assert_eq!(case.channel(), Channel::ReviewSite, "a public case");
    assert!(case.unhappy);
    assert_eq!(case.customer.as_ref().map(|c| c.customer_id.as_str()), Some("trustpilot:jane_d"));
    let details = case.review.clone().expect("review details");
    assert_eq!(
        (details.platform.as_str(), details.rating, details.author_handle.as_str()),
        ("trustpilot", 1, "jane_d")
    );
    assert_eq!(details.url, review.url);
    assert_eq!(case.external_reference, "trustpilot:tp-abc123", "review ids are unique per platform");
    let task = case.tasks.iter().find(|t| t.name == answer.reply_task).expect("the reply task");
    assert_eq!(task.kind(), TaskKind::PublicReply);
    assert_eq!(task.state(), TaskState::Open);
    assert_eq!(task.title, "Reply publicly on trustpilot");

    // A retry, and the same review again under another request_id: one case, one task.
    assert_eq!(intake.review(review.clone(), &id).await.expect("retry"), answer);
    let duplicate = intake.review(review.clone(), &request_id()).await.expect("duplicate");
    assert_eq!(duplicate.case, answer.case);
    assert_eq!(duplicate.reply_task, answer.reply_task);
    assert_eq!(cases.get(&answer.case).await.tasks.len(), 1);

    // The reply that was posted goes on the timeline and onto the review details.
    let entry = TimelineEntry {
        kind: TimelineEntryKind::PublicReply as i32,
        text: "Hi Jane, we are sorry. We have sent a replacement.".into(),
        ..TimelineEntry::default()
    };
    let request = AddTimelineEntryRequest { parent: answer.case.clone(), entry: Some(entry), request_id: request_id() };
    let req = cases.req(request);
    cases.inner.add_timeline_entry(req).await.expect("public reply");
    let case = cases.get(&answer.case).await;
    assert_eq!(
        case.review.as_ref().map(|r| r.public_reply.as_str()),
        Some("Hi Jane, we are sorry. We have sent a replacement.")
    );

    // A good review opens nothing.
    let good = Review { rating: 4, external_reference: "tp-def456".into(), text: "Quick delivery.".into(), ..review };
    let answer = intake.review(good, &request_id()).await.expect("good review");
    assert_eq!(answer.outcome(), IntakeOutcome::RecordedOnly);
    assert!(answer.case.is_empty() && answer.reply_task.is_empty());
    assert_eq!(cases.all().await.len(), 1);
    stack.stop().await;
}
