//! The kit's event consumer against a real case service: every event is applied exactly once
//! across a stop and restart (the cursor moves in the effect's transaction), and of two
//! replicas with one name only the lease holder consumes. Events are streamed in messages
//! within the negotiated size, and a change whose event could not be streamed is refused.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use redress_kit::ServiceKind;
use redress_kit::client::ClientOptions;
use redress_kit::consumer::{ConsumerOptions, EventHandler};
use redress_proto::case::v1::*;
use redress_testkit::{Backend, TestStore, on_both_backends};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, Statement};
use sea_orm_migration::MigrationTrait;
use sea_orm_migration::SchemaManager;
use support::{Server, complaint};
use tokio_util::sync::CancellationToken;

on_both_backends!(every_event_applied_once_across_restarts, large_events_stream_within_the_message_limit);

/// Records each event id in the consumer's own table; a duplicate would violate the key.
struct Recorder {
    batches: AtomicUsize,
}

#[tonic::async_trait]
impl EventHandler for Recorder {
    async fn handle(&self, txn: &DatabaseTransaction, events: &[CaseEvent]) -> anyhow::Result<()> {
        let backend = txn.get_database_backend();
        for event in events {
            let sql = match backend {
                sea_orm::DatabaseBackend::Postgres => "INSERT INTO effects (event_id, sequence) VALUES ($1, $2)",
                _ => "INSERT INTO effects (event_id, sequence) VALUES (?1, ?2)",
            };
            txn.execute_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [event.event_id.clone().into(), event.sequence.into()],
            ))
            .await?;
        }
        self.batches.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

async fn consumer_db(store: &TestStore) -> DatabaseConnection {
    let db = Database::connect(store.url.as_str()).await.expect("consumer database");
    redress_kit::consumer::Migration.up(&SchemaManager::new(&db)).await.expect("migrate");
    redress_kit::consumer::ParkedMigration.up(&SchemaManager::new(&db)).await.expect("migrate parked");
    db.execute_unprepared("CREATE TABLE effects (event_id TEXT PRIMARY KEY, sequence BIGINT NOT NULL)")
        .await
        .expect("effects");
    db
}

async fn count(db: &DatabaseConnection) -> (i64, i64) {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(backend, "SELECT COUNT(*), COALESCE(MAX(sequence), 0) FROM effects"))
        .await
        .expect("count")
        .expect("row");
    (row.try_get_by_index(0).expect("n"), row.try_get_by_index(1).expect("max"))
}

fn start_consumer(
    db: &DatabaseConnection,
    addr: std::net::SocketAddr,
    handler: Arc<Recorder>,
) -> (CancellationToken, tokio::task::JoinHandle<anyhow::Result<()>>) {
    start_consumer_with(db, addr, handler, ClientOptions::default())
}

fn start_consumer_with(
    db: &DatabaseConnection,
    addr: std::net::SocketAddr,
    handler: Arc<Recorder>,
    client: ClientOptions,
) -> (CancellationToken, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let channel = redress_kit::client::connect(&format!("http://{addr}"), &client).expect("channel");
    let mut options = ConsumerOptions::new("recorder", ServiceKind::Analytics, client);
    options.lease = Duration::from_secs(2);
    let token = CancellationToken::new();
    let task = tokio::spawn(redress_kit::consumer::run(db.clone(), channel, options, handler, token.clone()));
    (token, task)
}

async fn write(client: &mut support::Client, cases: usize, notes: usize) -> usize {
    for i in 0..cases {
        let case = client.create(complaint(&format!("case {i}"))).await;
        for n in 0..notes {
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
    cases * (notes + 1)
}

async fn wait_for(db: &DatabaseConnection, expected: i64) -> (i64, i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (n, max) = count(db).await;
        if n >= expected || tokio::time::Instant::now() > deadline {
            return (n, max);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn every_event_applied_once_across_restarts(backend: Backend) {
    let server = Server::start(backend).await;
    let mut client = server.client("acme", "agent-1", "agent").await;
    let store = TestStore::create(backend).await;
    let db = consumer_db(&store).await;
    let handler = Arc::new(Recorder { batches: AtomicUsize::new(0) });

    let (first, first_task) = start_consumer(&db, server.addr, handler.clone());
    // A second replica with the same name stands by while the first holds the lease.
    let (second, second_task) = start_consumer(&db, server.addr, handler.clone());
    let mut written = write(&mut client, 5, 19).await;
    assert_eq!(wait_for(&db, written as i64).await, (written as i64, written as i64));

    // Stop both, write more, restart one: it resumes from the cursor.
    first.cancel();
    second.cancel();
    first_task.await.expect("join").expect("first consumer");
    second_task.await.expect("join").expect("second consumer");
    written += write(&mut client, 3, 9).await;
    assert_eq!(count(&db).await.0, 100, "nothing is applied while stopped");
    let (again, again_task) = start_consumer(&db, server.addr, handler.clone());
    let (n, max) = wait_for(&db, written as i64).await;
    assert_eq!(n, written as i64, "every event applied exactly once");
    assert_eq!(max, written as i64);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count(&db).await.0, written as i64, "and nothing twice");
    again.cancel();
    again_task.await.expect("join").expect("consumer");
    assert!(handler.batches.load(Ordering::Relaxed) >= 2);
    server.stop().await;
}

/// With messages limited to 64 KiB, ten events of 30 KiB reach a consumer that decodes no more
/// than that, a few a message; a note that would make a 70 KiB event is refused and changes
/// nothing.
async fn large_events_stream_within_the_message_limit(backend: Backend) {
    const MAX: usize = 64 * 1024;
    let server = Server::start_with(backend, |config| config.grpc.max_message_bytes = MAX).await;
    let mut client = server.client("acme", "agent-1", "agent").await;
    let mut first = None;
    for i in 0..10 {
        let mut case = complaint(&format!("case {i}"));
        case.description = format!("{i} {}", "The kettle never arrived. ".repeat(30 * 1024 / 26));
        let case = client.create(case).await;
        first.get_or_insert(case);
    }
    let case = first.expect("a case");

    let note = TimelineEntry {
        kind: TimelineEntryKind::Note as i32,
        text: "Called the courier again. ".repeat(40 * 1024 / 26),
        ..Default::default()
    };
    let req = client.req(AddTimelineEntryRequest {
        parent: case.name.clone(),
        entry: Some(note),
        request_id: "too-large".into(),
    });
    let refused = client.inner.add_timeline_entry(req).await.expect_err("an event over the limit is refused");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition, "{refused:?}");
    assert!(refused.message().contains("grpc.max_message_bytes"), "names the cause: {}", refused.message());
    let req = client.req(GetCaseRequest { name: case.name.clone() });
    let now = client.inner.get_case(req).await.expect("get").into_inner().case.expect("case");
    assert_eq!(now.version, case.version, "the refused change wrote nothing");
    let req = client.req(ListTimelineEntriesRequest { parent: case.name.clone(), ..Default::default() });
    let entries = client.inner.list_timeline_entries(req).await.expect("timeline").into_inner().entries;
    assert_eq!(entries.len(), 1, "no entry for the refused note");

    let store = TestStore::create(backend).await;
    let db = consumer_db(&store).await;
    let handler = Arc::new(Recorder { batches: AtomicUsize::new(0) });
    let limited = ClientOptions { max_message_bytes: MAX, ..ClientOptions::default() };
    let (token, task) = start_consumer_with(&db, server.addr, handler.clone(), limited);
    assert_eq!(wait_for(&db, 10).await, (10, 10), "every event arrives, none in an oversized message");
    assert!(handler.batches.load(Ordering::Relaxed) >= 5, "two 30 KiB events at most in a 64 KiB message");
    token.cancel();
    task.await.expect("join").expect("consumer");
    server.stop().await;
}
