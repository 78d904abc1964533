//! A consumer any distance behind a backlog of large events catches up: with 2,000 events of
//! 60 KiB in the case log (about 120 MB, nearly thirty times what one message may carry), each
//! consumer — escalation, notification, analytics — started against it reaches the log's last
//! sequence. The seconds each took are printed.
//!
//! The services run in this process on PostgreSQL and Redis, each as `redress serve` would
//! build it, with the default 4 MiB message limit.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use redress_kit::{Config, ServiceKind};
use redress_proto::case::v1::case_service_client::CaseServiceClient;
use redress_proto::case::v1::{Case, CreateCaseRequest};
use redress_proto::common::v1::{Channel as ContactChannel, Customer, CustomerTier, Severity};
use redress_testkit::{Running, TestDatabase, component, redis_prefix, redis_url, request};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

/// Events in the backlog.
const EVENTS: usize = 2_000;
/// Calls in flight while writing it.
const WRITERS: usize = 32;
/// The size of each complaint's description, which each event carries.
const DESCRIPTION_BYTES: usize = 60 * 1024;

/// A complaint whose description is `DESCRIPTION_BYTES` long.
fn complaint(i: usize) -> Case {
    let sentence = format!("Complaint {i}: the kettle I ordered never arrived and nobody answers. ");
    let mut description = sentence.repeat(DESCRIPTION_BYTES / sentence.len() + 1);
    description.truncate(DESCRIPTION_BYTES);
    Case {
        customer: Some(Customer {
            customer_id: format!("cust-{i}"),
            tier: CustomerTier::Standard as i32,
            ..Customer::default()
        }),
        channel: ContactChannel::Web as i32,
        subject: format!("kettle {i}"),
        description,
        category: "delivery".into(),
        severity: Severity::Medium as i32,
        ..Case::default()
    }
}

async fn write_backlog(addr: SocketAddr) {
    let channel = redress_testkit::connect(addr).await;
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        let (mut client, next) = (CaseServiceClient::new(channel.clone()), next.clone());
        writers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= EVENTS {
                    return;
                }
                let create = CreateCaseRequest {
                    parent: "tenants/acme".into(),
                    case: Some(complaint(i)),
                    request_id: format!("backlog-{i}"),
                };
                client
                    .create_case(request(create, "acme", "agent-1", "agent"))
                    .await
                    .unwrap_or_else(|e| panic!("case {i}: {e:?}"));
            }
        }));
    }
    for writer in writers {
        writer.await.expect("writer");
    }
}

async fn single_i64(db: &DatabaseConnection, sql: &str) -> i64 {
    let statement = Statement::from_string(db.get_database_backend(), sql);
    match db.query_one_raw(statement).await {
        Ok(Some(row)) => row.try_get_by_index::<Option<i64>>(0).expect("a number").unwrap_or(0),
        _ => 0,
    }
}

/// Waits until `check` returns at least `target`, for at most `limit`; returns how long it took.
async fn wait_until<F, Fut>(what: &str, target: i64, limit: Duration, check: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = i64>,
{
    let started = Instant::now();
    loop {
        let reached = check().await;
        if reached >= target {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "{what}: at {reached} of {target} after {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn connect(url: &str, kind: ServiceKind) -> DatabaseConnection {
    redress_kit::db::connect_url(url, kind, 2, Duration::from_secs(5)).await.expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_consumer_catches_up_with_a_backlog_of_large_events() {
    let database = TestDatabase::create().await;
    let mut config = Config::default();
    config.database.url = database.url.clone();
    config.database.max_connections = 16;
    config.redis.url = redis_url();
    config.redis.key_prefix = redis_prefix().await;
    config.analytics.flight_listen = String::new().into();

    let case = Running::serve(component!(redress_case, config)).await;
    config.peers.case = case.url();
    let started = Instant::now();
    write_backlog(case.addr).await;
    let written = started.elapsed();
    let case_db = connect(&database.url, ServiceKind::Case).await;
    let numbered = || async { single_i64(&case_db, "SELECT MAX(sequence) FROM events").await };
    wait_until("numbering the backlog", EVENTS as i64, Duration::from_secs(30), numbered).await;
    let payload = single_i64(&case_db, "SELECT CAST(SUM(LENGTH(payload)) AS BIGINT) FROM events").await;
    println!(
        "backlog: {EVENTS} events, {:.0} MB, written in {:.1} s by {WRITERS} concurrent callers",
        payload as f64 / 1e6,
        written.as_secs_f64()
    );
    assert!(payload as usize >= EVENTS * DESCRIPTION_BYTES, "every event carries its description");

    for kind in [ServiceKind::Escalation, ServiceKind::Notification, ServiceKind::Analytics] {
        let component = match kind {
            ServiceKind::Escalation => component!(redress_escalation, config),
            ServiceKind::Notification => component!(redress_notification, config),
            _ => component!(redress_analytics, config),
        };
        let name = match kind {
            ServiceKind::Escalation => "escalation",
            ServiceKind::Notification => redress_notification::consume::CONSUMER,
            _ => redress_analytics::store::CONSUMER,
        };
        let db = connect(&database.url, kind).await;
        let running = Running::serve(component).await;
        let cursor = || async { redress_kit::consumer::cursor(&db, name).await.unwrap_or(0) };
        let took = wait_until(&format!("the {kind} consumer"), EVENTS as i64, Duration::from_secs(40), cursor).await;
        println!("{kind}: caught up with {EVENTS} events of 60 KiB in {:.1} s", took.as_secs_f64());
        running.stop_cleanly().await;
    }
    case.stop_cleanly().await;
}
