//! `redress status` and `redress parked list|retry` as an operator runs them, against the
//! databases `redress migrate` made, on PostgreSQL and on SQLite: each consumer's cursor, lease
//! and parked count; the parked events with their errors; a retry asked for one event or all,
//! and refused in one line for a consumer or an event that is not there.

mod support;

use std::time::Duration;

use redress_kit::ServiceKind;
use redress_testkit::TestDatabase;
use sea_orm::{ConnectionTrait, Statement, Value};
use support::redress;

async fn run(env: &[(&str, &str)], args: &[&str]) -> (Option<i32>, String, String) {
    let output = redress().args(args).envs(env.iter().copied()).output().await.expect("run redress");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), stdout, stderr)
}

/// What a consumer would have written: analytics at 42 holding its lease with one parked
/// event, escalation at 40 with its lease given up.
async fn seed(analytics_url: &str, escalation_url: &str) {
    let now = chrono::Utc::now();
    let rows: [(&str, ServiceKind, &str, i64, chrono::DateTime<chrono::Utc>); 2] = [
        (analytics_url, ServiceKind::Analytics, "analytics", 42, now + chrono::Duration::hours(1)),
        (escalation_url, ServiceKind::Escalation, "escalation", 40, chrono::DateTime::UNIX_EPOCH),
    ];
    for (url, kind, name, sequence, expires) in rows {
        let db = redress_kit::db::connect_url(url, kind, 1, Duration::from_secs(5)).await.expect("connect");
        let backend = db.get_database_backend();
        let sql = |text: &str| match backend {
            sea_orm::DatabaseBackend::Postgres => text.to_string(),
            _ => text.replace('$', "?"),
        };
        let values: Vec<Value> = vec![name.into(), sequence.into(), format!("{name}-replica").into(), expires.into()];
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            sql("INSERT INTO event_consumers (name, sequence, holder, lease_expires) VALUES ($1, $2, $3, $4)"),
            values,
        ))
        .await
        .expect("consumer row");
        if kind == ServiceKind::Analytics {
            let values: Vec<Value> = vec![now.into(), now.into(), false.into()];
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                sql("INSERT INTO parked_events (consumer, sequence, tenant, event_type, error, attempts, \
                     first_failure, last_failure, retry_requested) VALUES ('analytics', 7, 'acme', \
                     'CASE_EVENT_TYPE_CREATED', 'invalid byte sequence', 3, $1, $2, $3)"),
                values,
            ))
            .await
            .expect("parked row");
        }
        db.close().await.expect("close");
    }
}

async fn retry_requested(analytics_url: &str) -> bool {
    let db = redress_kit::db::connect_url(analytics_url, ServiceKind::Analytics, 1, Duration::from_secs(5))
        .await
        .expect("connect");
    let rows = redress_kit::consumer::parked::list(&db, Some("analytics")).await.expect("list");
    db.close().await.expect("close");
    rows[0].retry_requested
}

async fn status_and_parked(env: &[(&str, &str)], analytics_url: &str, escalation_url: &str) {
    let (code, _, stderr) = run(env, &["migrate"]).await;
    assert_eq!(code, Some(0), "migrate: {stderr}");
    seed(analytics_url, escalation_url).await;

    let (code, stdout, stderr) = run(env, &["status", "--json"]).await;
    assert_eq!(code, Some(0), "status: {stderr}");
    let status: serde_json::Value = serde_json::from_str(&stdout).expect("status is JSON");
    let consumers = status["consumers"].as_array().expect("consumers");
    assert_eq!(consumers.len(), 2, "{status}");
    let analytics = consumers.iter().find(|c| c["consumer"] == "analytics").expect("analytics");
    assert_eq!(analytics["service"], "analytics");
    assert_eq!((analytics["cursor"].as_i64(), analytics["parked"].as_i64()), (Some(42), Some(1)));
    assert_eq!(
        (analytics["holder"].as_str(), analytics["lease_held"].as_bool()),
        (Some("analytics-replica"), Some(true))
    );
    let escalation = consumers.iter().find(|c| c["consumer"] == "escalation").expect("escalation");
    assert_eq!((escalation["cursor"].as_i64(), escalation["parked"].as_i64()), (Some(40), Some(0)));
    assert_eq!(escalation["lease_held"], false);
    assert_eq!(status["errors"].as_array().map(Vec::len), Some(0), "{status}");

    let (code, stdout, _) = run(env, &["status"]).await;
    assert_eq!(code, Some(0));
    let line = stdout.lines().find(|l| l.contains("analytics-replica")).expect("a line for analytics");
    assert!(line.starts_with("analytics") && line.contains(" 42 ") && line.contains("held"), "{stdout}");
    assert!(line.trim_end().ends_with(" 1"), "{stdout}");

    let (code, stdout, stderr) = run(env, &["parked", "list", "analytics", "--json"]).await;
    assert_eq!(code, Some(0), "list: {stderr}");
    let listed: serde_json::Value = serde_json::from_str(&stdout).expect("list is JSON");
    assert_eq!(listed[0]["sequence"], 7);
    assert_eq!(listed[0]["error"], "invalid byte sequence");
    assert_eq!(listed[0]["tenant"], "acme");
    let (code, stdout, _) = run(env, &["parked", "list"]).await;
    assert_eq!(code, Some(0));
    assert_eq!(stdout.lines().count(), 2, "a header and the one event: {stdout}");
    assert!(stdout.contains("CASE_EVENT_TYPE_CREATED"));

    for (args, expected) in [
        (&["parked", "retry", "billing"][..], r#"no consumer "billing"; known: analytics, escalation"#),
        (&["parked", "retry", "analytics", "--sequence", "8"][..], "--sequence: analytics has no parked event at 8"),
    ] {
        let (code, _, stderr) = run(env, args).await;
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected) && stderr.trim_end().lines().count() == 1, "{args:?}: {stderr}");
    }
    assert!(!retry_requested(analytics_url).await, "a refused retry asks for nothing");
    let (code, _, stderr) = run(env, &["parked", "retry", "analytics", "--sequence", "7"]).await;
    assert_eq!(code, Some(0), "retry: {stderr}");
    assert!(stderr.contains("retry asked for 1 parked event"), "{stderr}");
    assert!(retry_requested(analytics_url).await);
}

#[tokio::test]
async fn status_and_parked_events_on_postgres() {
    let db = TestDatabase::create().await;
    status_and_parked(&[("REDRESS_DATABASE__URL", &db.url)], &db.url, &db.url).await;
}

#[tokio::test]
async fn status_and_parked_events_on_sqlite() {
    let dir = tempfile::tempdir().expect("data dir");
    let data_dir = dir.path().to_str().expect("utf-8 path");
    let url = |service: &str| format!("sqlite://{}?mode=rwc", dir.path().join(format!("{service}.db")).display());
    status_and_parked(&[("REDRESS_DATA_DIR", data_dir)], &url("analytics"), &url("escalation")).await;
}
