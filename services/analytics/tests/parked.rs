//! A poison event against the real analytics service on PostgreSQL: a case-created event whose
//! category holds a NUL (written straight into the case log, as the API now refuses it), which
//! PostgreSQL refuses to store as text. The consumer parks it with its error and goes on: the
//! cases after it are reported, the cursor passes it, the metrics count it. Once the event is
//! fixed at its source, a retry applies it and removes it.

mod support;

use std::time::Duration;

use prost::Message;
use redress_kit::ServiceKind;
use redress_kit::consumer::parked;
use redress_proto::case::v1::CaseEvent;
use redress_proto::common::v1::{Channel, Severity};
use redress_testkit::Backend;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use support::{cases, start_analytics, start_case, write_past_case};

async fn categories(db: &DatabaseConnection) -> Vec<String> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT category FROM case_facts ORDER BY category",
        ))
        .await
        .expect("case facts");
    rows.iter().map(|r| r.try_get_by_index::<String>(0).expect("category")).collect()
}

fn sample(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains("consumer=\"analytics\""))
        .find_map(|l| l.rsplit(' ').next()?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_event_postgres_refuses_is_parked_and_retried_after_the_fix() {
    let telemetry =
        redress_kit::telemetry::init(&redress_kit::Config::default(), "analytics-parked").expect("telemetry");
    let case = start_case(Backend::Postgres).await;
    let analytics = start_analytics(Backend::Postgres, &case, "30s", 10_000).await;
    let mut client = cases(&case, "acme", "agent-1", "agent").await;
    client.open("billing", Channel::Email, Severity::Medium, "SKU-A").await;
    analytics.caught_up(&case).await;

    let case_db = redress_kit::db::connect_url(&case.store.url, ServiceKind::Case, 2, Duration::from_secs(5))
        .await
        .expect("case db");
    let now_us = chrono::Utc::now().timestamp_micros();
    write_past_case(&case_db, "acme", "bad\u{0}category", "SKU-B", "", now_us).await;
    client.open("delivery", Channel::Email, Severity::Medium, "SKU-C").await;
    analytics.caught_up(&case).await;

    let listed = parked::list(&analytics.db, Some("analytics")).await.expect("parked");
    assert_eq!(listed.len(), 1, "{listed:?}");
    let bad = &listed[0];
    assert_eq!((bad.tenant.as_str(), bad.event_type.as_str()), ("acme", "CASE_EVENT_TYPE_CREATED"));
    assert!(bad.error.contains("invalid byte sequence for encoding \"UTF8\": 0x00"), "{}", bad.error);
    assert_eq!(bad.attempts, 3);
    assert!(analytics.cursor().await > bad.sequence, "the cursor passed it");
    assert_eq!(categories(&analytics.db).await, ["billing", "delivery"], "the case after it is reported");
    let metrics = telemetry.metrics_text();
    assert_eq!(sample(&metrics, "redress_consumer_events_parked_total"), Some(1.0), "{metrics}");
    assert_eq!(sample(&metrics, "redress_consumer_parked_events"), Some(1.0), "{metrics}");

    // The fix: the event in the case log loses its NUL. Then a retry applies it.
    let backend = case_db.get_database_backend();
    let row = case_db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            "SELECT payload FROM events WHERE sequence = $1",
            [bad.sequence.into()],
        ))
        .await
        .expect("event")
        .expect("row");
    let mut event = CaseEvent::decode(row.try_get_by_index::<Vec<u8>>(0).expect("payload").as_slice()).expect("decode");
    event.case.as_mut().expect("case").category = "quality".into();
    case_db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "UPDATE events SET payload = $1 WHERE sequence = $2",
            [event.encode_to_vec().into(), bad.sequence.into()],
        ))
        .await
        .expect("fix");
    assert_eq!(parked::request_retry(&analytics.db, "analytics", Some(bad.sequence)).await.expect("retry"), 1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while parked::count(&analytics.db, "analytics").await.expect("count") > 0 {
        assert!(tokio::time::Instant::now() < deadline, "the retry never applied the fixed event");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(categories(&analytics.db).await, ["billing", "delivery", "quality"]);
    while sample(&telemetry.metrics_text(), "redress_consumer_parked_events") != Some(0.0) {
        assert!(tokio::time::Instant::now() < deadline, "the gauge never fell back to 0");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let _ = case_db.close().await;
    analytics.stop().await;
    case.stop().await;
}
