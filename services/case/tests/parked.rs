//! One bad event never stops the kit's consumer, against a real case service: an event its
//! handler cannot apply is parked after bounded retries, with its error, in the transaction
//! that moves the cursor past it; the events after it are applied; a transient failure
//! (connection lost) is waited out and never parks; the metrics count it; a retry that fails
//! again leaves it parked, and a retry after the fix applies it and removes it.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use redress_kit::ServiceKind;
use redress_kit::client::ClientOptions;
use redress_kit::consumer::parked::{self, Parked};
use redress_kit::consumer::{ConsumerOptions, EventHandler};
use redress_proto::case::v1::*;
use redress_testkit::{Backend, TestStore, on_both_backends};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr, RuntimeErr, Statement};
use sea_orm_migration::{MigrationTrait, SchemaManager};
use support::{Server, complaint};
use tokio_util::sync::CancellationToken;

on_both_backends!(a_bad_event_is_parked_and_retried);

/// Records each event in the consumer's own table, except the one it cannot apply; fails with
/// a lost connection on another a few times first.
struct Flaky {
    poison: AtomicI64,
    transient_at: AtomicI64,
    transient_left: AtomicUsize,
}

#[tonic::async_trait]
impl EventHandler for Flaky {
    async fn handle(&self, txn: &DatabaseTransaction, events: &[CaseEvent]) -> anyhow::Result<()> {
        let backend = txn.get_database_backend();
        for event in events {
            if event.sequence == self.poison.load(Ordering::SeqCst) {
                anyhow::bail!("event {} cannot be applied: poisoned", event.sequence);
            }
            if event.sequence == self.transient_at.load(Ordering::SeqCst)
                && self.transient_left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
            {
                return Err(DbErr::Conn(RuntimeErr::Internal("connection reset by peer".into())).into());
            }
            let sql = match backend {
                sea_orm::DatabaseBackend::Postgres => "INSERT INTO effects (sequence) VALUES ($1)",
                _ => "INSERT INTO effects (sequence) VALUES (?1)",
            };
            txn.execute_raw(Statement::from_sql_and_values(backend, sql, [event.sequence.into()])).await?;
        }
        Ok(())
    }
}

async fn effects(db: &DatabaseConnection) -> Vec<i64> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(backend, "SELECT sequence FROM effects ORDER BY sequence"))
        .await
        .expect("effects");
    rows.iter().map(|r| r.try_get_by_index::<i64>(0).expect("sequence")).collect()
}

/// Polls `probe` until it returns `Some`, for at most 30 s.
async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The value of the sample of `name` labelled `consumer="recorder"`.
fn sample(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains("consumer=\"recorder\""))
        .find_map(|l| l.rsplit(' ').next()?.parse().ok())
}

async fn a_bad_event_is_parked_and_retried(backend: Backend) {
    let telemetry = redress_kit::telemetry::init(&redress_kit::Config::default(), "parked-test").expect("telemetry");
    let server = Server::start(backend).await;
    let mut client = server.client("acme", "agent-1", "agent").await;
    let store = TestStore::create(backend).await;
    let db = Database::connect(store.url.as_str()).await.expect("consumer database");
    let manager = SchemaManager::new(&db);
    redress_kit::consumer::Migration.up(&manager).await.expect("migrate");
    redress_kit::consumer::ParkedMigration.up(&manager).await.expect("migrate parked");
    db.execute_unprepared("CREATE TABLE effects (sequence BIGINT PRIMARY KEY)").await.expect("effects");

    // Twelve events, numbered 1 to 12.
    for i in 0..4 {
        let case = client.create(complaint(&format!("case {i}"))).await;
        for n in 0..2 {
            let entry =
                TimelineEntry { kind: TimelineEntryKind::Note as i32, text: format!("note {n}"), ..Default::default() };
            let req = client.req(AddTimelineEntryRequest {
                parent: case.name.clone(),
                entry: Some(entry),
                request_id: String::new(),
            });
            client.inner.add_timeline_entry(req).await.expect("note");
        }
    }

    // Event 5 cannot be applied; event 8 loses its connection more times than an event is tried.
    let handler = Arc::new(Flaky {
        poison: AtomicI64::new(5),
        transient_at: AtomicI64::new(8),
        transient_left: AtomicUsize::new(5),
    });
    let channel =
        redress_kit::client::connect(&format!("http://{}", server.addr), &ClientOptions::default()).expect("channel");
    let mut options = ConsumerOptions::new("recorder", ServiceKind::Analytics, ClientOptions::default());
    options.lease = Duration::from_secs(2);
    options.retry_delay = Duration::from_millis(20);
    options.client.backoff_base = Duration::from_millis(20);
    options.client.backoff_max = Duration::from_millis(100);
    let token = CancellationToken::new();
    let task = tokio::spawn(redress_kit::consumer::run(db.clone(), channel, options, handler.clone(), token.clone()));

    let cursor = eventually("the cursor to pass every event", || async {
        let at = redress_kit::consumer::cursor(&db, "recorder").await.expect("cursor");
        (at >= 12).then_some(at)
    })
    .await;
    assert_eq!(cursor, 12);
    let expected: Vec<i64> = (1..=12).filter(|&s| s != 5).collect();
    assert_eq!(effects(&db).await, expected, "every event but the bad one applied, once");
    assert_eq!(handler.transient_left.load(Ordering::SeqCst), 0, "the lost connections were all seen");
    let listed = parked::list(&db, None).await.expect("list");
    assert_eq!(listed.len(), 1, "only the bad event is parked, not the one that lost its connection: {listed:?}");
    let Parked {
        consumer,
        tenant,
        sequence,
        event_type,
        error,
        attempts,
        first_failure,
        last_failure,
        retry_requested,
    } = listed[0].clone();
    assert_eq!((consumer.as_str(), tenant.as_str(), sequence), ("recorder", "acme", 5));
    assert!(event_type.starts_with("CASE_EVENT_TYPE_"), "{event_type}");
    assert!(error.contains("event 5 cannot be applied: poisoned"), "{error}");
    assert_eq!(attempts, 3, "tried three times");
    assert!(first_failure <= last_failure && !retry_requested);

    let metrics = telemetry.metrics_text();
    assert_eq!(sample(&metrics, "redress_consumer_events_parked_total"), Some(1.0), "{metrics}");
    assert_eq!(sample(&metrics, "redress_consumer_parked_events"), Some(1.0), "{metrics}");

    // A retry before the fix fails again: the event stays parked, with one more attempt.
    assert_eq!(parked::request_retry(&db, "recorder", Some(5)).await.expect("retry"), 1);
    let again = eventually("the retry to fail again", || async {
        let rows = parked::list(&db, Some("recorder")).await.expect("list");
        rows.first().filter(|p| !p.retry_requested).cloned()
    })
    .await;
    assert_eq!(again.attempts, 4);

    // After the fix, a retry applies it and removes it.
    handler.poison.store(-1, Ordering::SeqCst);
    assert_eq!(parked::request_retry(&db, "recorder", None).await.expect("retry"), 1);
    eventually("the retried event to be applied", || async {
        (parked::count(&db, "recorder").await.expect("count") == 0).then_some(())
    })
    .await;
    assert_eq!(effects(&db).await, (1..=12).collect::<Vec<i64>>());
    assert_eq!(redress_kit::consumer::cursor(&db, "recorder").await.expect("cursor"), 12, "the cursor stays");
    let metrics = eventually("the gauge to fall back to 0", || async {
        let metrics = telemetry.metrics_text();
        (sample(&metrics, "redress_consumer_parked_events") == Some(0.0)).then_some(metrics)
    })
    .await;
    assert_eq!(sample(&metrics, "redress_consumer_events_parked_total"), Some(1.0), "{metrics}");

    token.cancel();
    task.await.expect("join").expect("consumer");
    server.stop().await;
}
