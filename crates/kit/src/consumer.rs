//! Consuming the case event log: what escalation, notification and analytics share.
//!
//! A consumer streams `CaseService.StreamEvents` for every tenant from its cursor, applies each
//! batch in a transaction of its own database, and advances its cursor in that same
//! transaction, so a crash replays and never skips. Among replicas, one holds a lease on the
//! consumer's name and consumes, renewing it on a clock of its own; the others wait to take
//! over when the lease expires (a holder that died) or is released (a holder that shut down).
//! The stream is resumed from the cursor after any failure, with backoff.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use redress_proto::case::v1::case_service_client::CaseServiceClient;
use redress_proto::case::v1::{CaseEvent, StreamEventsRequest};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, Statement, TransactionTrait,
    Value,
};
use sea_orm_migration::prelude::*;
use tokio_util::sync::CancellationToken;

use crate::ServiceKind;
use crate::client::{ClientOptions, TracedChannel, backoff};
use crate::tenant::TenantId;

/// The tenant id system-wide calls carry; `tenants/-` is what they ask for.
pub const SYSTEM_TENANT: &str = "system";

/// Applies batches of case events.
#[tonic::async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// Applies `events` inside `txn`. The consumer advances its cursor past them in the same
    /// transaction. An error rolls the batch back; it is retried from the same cursor.
    async fn handle(&self, txn: &DatabaseTransaction, events: &[CaseEvent]) -> anyhow::Result<()>;

    /// Called after a batch committed, for work that must follow the commit (waking a worker).
    async fn committed(&self, _events: &[CaseEvent]) {}
}

/// How long a consumer's lease lasts without renewal: a replica takes over from one that died
/// within this and a third of it. The holder renews every third of it.
pub const LEASE: Duration = Duration::from_secs(6);

/// How a consumer runs.
#[derive(Debug, Clone)]
pub struct ConsumerOptions {
    /// The consumer's name: one cursor and one lease per name.
    pub name: String,
    /// The service it runs in, for its identity on calls.
    pub service: ServiceKind,
    /// Only these event types (their numbers); empty for all.
    pub event_types: Vec<i32>,
    /// How long a lease lasts without renewal.
    pub lease: Duration,
    /// Backoff between reconnections.
    pub client: ClientOptions,
}

impl ConsumerOptions {
    /// A consumer named `name` in `service`, of every event type, with the default lease.
    pub fn new(name: impl Into<String>, service: ServiceKind, client: ClientOptions) -> Self {
        Self { name: name.into(), service, event_types: Vec::new(), lease: LEASE, client }
    }
}

/// The table holding consumers' cursors and leases; include it in the service's migrator.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0000_event_consumers"
    }
}

#[tonic::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let sql = match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                "CREATE TABLE event_consumers (
                    name TEXT PRIMARY KEY,
                    sequence BIGINT NOT NULL,
                    holder TEXT NOT NULL,
                    lease_expires TIMESTAMPTZ NOT NULL
                )"
            }
            _ => {
                "CREATE TABLE event_consumers (
                    name TEXT PRIMARY KEY NOT NULL,
                    sequence INTEGER NOT NULL,
                    holder TEXT NOT NULL,
                    lease_expires TEXT NOT NULL
                )"
            }
        };
        db.execute_unprepared(sql).await.map(|_| ())
    }
}

/// Rewrites `$n` placeholders as SQLite's numbered `?n`.
fn sql(backend: DatabaseBackend, text: &str) -> String {
    if backend == DatabaseBackend::Postgres {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

fn statement(backend: DatabaseBackend, text: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(backend, sql(backend, text), values)
}

/// Takes or renews the lease; true while `holder` holds it.
pub async fn take_lease(
    db: &impl ConnectionTrait,
    name: &str,
    holder: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<bool, DbErr> {
    let backend = db.get_database_backend();
    let expires = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(15));
    let result = db
        .execute_raw(statement(
            backend,
            "INSERT INTO event_consumers (name, sequence, holder, lease_expires) VALUES ($1, 0, $2, $3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, lease_expires = excluded.lease_expires
             WHERE event_consumers.holder = $2 OR event_consumers.lease_expires < $4",
            vec![name.into(), holder.into(), expires.into(), now.into()],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Gives the lease up, so a replica takes over at once; nothing if `holder` no longer holds it.
pub async fn release_lease(db: &impl ConnectionTrait, name: &str, holder: &str) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let expired = DateTime::<Utc>::UNIX_EPOCH;
    db.execute_raw(statement(
        backend,
        "UPDATE event_consumers SET lease_expires = $1 WHERE name = $2 AND holder = $3",
        vec![expired.into(), name.into(), holder.into()],
    ))
    .await?;
    Ok(())
}

/// The consumer's cursor: the last sequence applied.
pub async fn cursor(db: &impl ConnectionTrait, name: &str) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(statement(backend, "SELECT sequence FROM event_consumers WHERE name = $1", vec![name.into()]))
        .await?;
    Ok(match row {
        Some(row) => row.try_get_by_index::<i64>(0)?,
        None => 0,
    })
}

/// Advances the cursor inside the batch's transaction, checking the lease is still ours.
async fn advance(
    txn: &DatabaseTransaction,
    name: &str,
    holder: &str,
    sequence: i64,
    expires: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let backend = txn.get_database_backend();
    let result = txn
        .execute_raw(statement(
            backend,
            "UPDATE event_consumers SET sequence = $1, lease_expires = $2 WHERE name = $3 AND holder = $4",
            vec![sequence.into(), expires.into(), name.into(), holder.into()],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Rewinds the cursor to `sequence` (for a rebuild from event 0), whoever holds the lease.
pub async fn rewind(db: &impl ConnectionTrait, name: &str, sequence: i64) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    db.execute_raw(statement(
        backend,
        "UPDATE event_consumers SET sequence = $1 WHERE name = $2",
        vec![sequence.into(), name.into()],
    ))
    .await?;
    Ok(())
}

/// Why one streaming session ended.
enum Ended {
    Shutdown,
    LostLease,
    Failed(anyhow::Error),
}

/// Runs the consumer until `shutdown`.
pub async fn run(
    db: DatabaseConnection,
    case: TracedChannel,
    options: ConsumerOptions,
    handler: Arc<dyn EventHandler>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let holder = format!("{}-{}", options.name, uuid::Uuid::now_v7());
    let mut failures = 0u32;
    loop {
        if shutdown.is_cancelled() {
            return Ok(());
        }
        match take_lease(&db, &options.name, &holder, Utc::now(), options.lease).await {
            Ok(true) => {}
            Ok(false) => {
                tokio::select! {
                    () = shutdown.cancelled() => return Ok(()),
                    () = tokio::time::sleep(options.lease / 3) => continue,
                }
            }
            Err(e) => {
                tracing::warn!(consumer = %options.name, error = %e, "taking the consumer lease failed");
                failures += 1;
                pause(&options, failures, &shutdown).await;
                continue;
            }
        }
        match session(&db, &case, &options, &holder, handler.as_ref(), &shutdown).await {
            Ended::Shutdown => {
                if let Err(e) = release_lease(&db, &options.name, &holder).await {
                    tracing::warn!(consumer = %options.name, error = %e, "releasing the consumer lease failed");
                }
                return Ok(());
            }
            Ended::LostLease => {
                tracing::warn!(consumer = %options.name, "consumer lease lost; standing by");
                failures = 0;
            }
            Ended::Failed(e) => {
                failures += 1;
                tracing::warn!(consumer = %options.name, error = format!("{e:#}"), failures, "event stream interrupted; resuming from the cursor");
                pause(&options, failures, &shutdown).await;
            }
        }
    }
}

async fn pause(options: &ConsumerOptions, failures: u32, shutdown: &CancellationToken) {
    let delay = backoff(&options.client, failures.saturating_sub(1)).max(Duration::from_millis(20));
    tokio::select! {
        () = shutdown.cancelled() => {}
        () = tokio::time::sleep(delay) => {}
    }
}

/// Streams from the cursor and applies batches until something ends the session.
async fn session(
    db: &DatabaseConnection,
    case: &TracedChannel,
    options: &ConsumerOptions,
    holder: &str,
    handler: &dyn EventHandler,
    shutdown: &CancellationToken,
) -> Ended {
    let from = match cursor(db, &options.name).await {
        Ok(sequence) => sequence,
        Err(e) => return Ended::Failed(e.into()),
    };
    let tenant = match TenantId::parse(SYSTEM_TENANT) {
        Ok(t) => t,
        Err(e) => return Ended::Failed(anyhow::anyhow!(e)),
    };
    let request = StreamEventsRequest {
        parent: "tenants/-".into(),
        after_sequence: from,
        event_types: options.event_types.clone(),
    };
    let mut request = crate::client::as_service(tonic::Request::new(request), options.service);
    if let Ok(value) = tenant.as_str().parse() {
        request.metadata_mut().insert(crate::tenant::TENANT_HEADER, value);
    }
    // The case service sizes every message to fit this (the same `grpc.max_message_bytes`).
    let mut client = CaseServiceClient::new(case.clone()).max_decoding_message_size(options.client.max_message_bytes);
    let opened = tokio::select! {
        () = shutdown.cancelled() => return Ended::Shutdown,
        opened = client.stream_events(request) => opened,
    };
    let mut stream = match opened {
        Ok(response) => response.into_inner(),
        Err(status) => return Ended::Failed(anyhow::anyhow!("opening the event stream: {status}")),
    };
    tracing::info!(consumer = %options.name, after = from, "consuming case events");
    let mut last = from;
    let mut renew = tokio::time::interval(options.lease / 3);
    renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    renew.reset();
    loop {
        let message = tokio::select! {
            () = shutdown.cancelled() => return Ended::Shutdown,
            _ = renew.tick() => {
                match take_lease(db, &options.name, holder, Utc::now(), options.lease).await {
                    Ok(true) => continue,
                    Ok(false) => return Ended::LostLease,
                    Err(e) => return Ended::Failed(e.into()),
                }
            }
            message = stream.message() => message,
        };
        let batch = match message {
            Ok(Some(batch)) => batch,
            Ok(None) => return Ended::Failed(anyhow::anyhow!("the event stream ended")),
            Err(status) => return Ended::Failed(anyhow::anyhow!("event stream: {status}")),
        };
        let expires = Utc::now() + chrono::Duration::from_std(options.lease).unwrap_or(chrono::Duration::seconds(15));
        // Skip anything at or below the cursor (a replay after a reconnection).
        let events: Vec<CaseEvent> = batch.events.into_iter().filter(|e| e.sequence > last).collect();
        if events.is_empty() {
            match take_lease(db, &options.name, holder, Utc::now(), options.lease).await {
                Ok(true) => continue,
                Ok(false) => return Ended::LostLease,
                Err(e) => return Ended::Failed(e.into()),
            }
        }
        let next = events.last().map_or(last, |e| e.sequence);
        let applied = async {
            // On SQLite, take the write lock at once so a concurrent writer makes this wait
            // rather than fail; PostgreSQL ignores the mode.
            let mode = sea_orm::TransactionOptions {
                sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                ..Default::default()
            };
            let txn = db.begin_with_options(mode).await?;
            handler.handle(&txn, &events).await?;
            if !advance(&txn, &options.name, holder, next, expires).await? {
                txn.rollback().await?;
                return Ok::<bool, anyhow::Error>(false);
            }
            txn.commit().await?;
            Ok(true)
        }
        .await;
        match applied {
            Ok(true) => {
                last = next;
                handler.committed(&events).await;
            }
            Ok(false) => return Ended::LostLease,
            Err(e) => return Ended::Failed(e.context(format!("applying events after {last}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_for_sqlite() {
        assert_eq!(sql(DatabaseBackend::Sqlite, "a = $1 AND b = $12"), "a = ?1 AND b = ?12");
        assert_eq!(sql(DatabaseBackend::Postgres, "a = $1"), "a = $1");
    }

    #[tokio::test]
    async fn leases_exclude_other_holders_until_they_expire() {
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        let manager = SchemaManager::new(&db);
        Migration.up(&manager).await.unwrap();
        let t0 = Utc::now();
        let lease = Duration::from_secs(10);
        assert!(take_lease(&db, "c", "a", t0, lease).await.unwrap());
        assert!(take_lease(&db, "c", "a", t0, lease).await.unwrap(), "the holder renews");
        assert!(!take_lease(&db, "c", "b", t0, lease).await.unwrap(), "another waits");
        let later = t0 + chrono::Duration::seconds(11);
        assert!(take_lease(&db, "c", "b", later, lease).await.unwrap(), "and takes over after expiry");
        assert!(!take_lease(&db, "c", "a", later, lease).await.unwrap());
        assert_eq!(cursor(&db, "c").await.unwrap(), 0);
        let txn = db.begin().await.unwrap();
        assert!(!advance(&txn, "c", "a", 5, later).await.unwrap(), "a lost lease cannot advance");
        assert!(advance(&txn, "c", "b", 5, later).await.unwrap());
        txn.commit().await.unwrap();
        assert_eq!(cursor(&db, "c").await.unwrap(), 5);

        // A holder that shuts down gives the lease up: another takes it at once.
        release_lease(&db, "c", "a").await.unwrap();
        assert!(!take_lease(&db, "c", "a", later, lease).await.unwrap(), "only the holder releases");
        release_lease(&db, "c", "b").await.unwrap();
        assert!(take_lease(&db, "c", "a", later, lease).await.unwrap(), "released, it is free at once");
        assert_eq!(cursor(&db, "c").await.unwrap(), 5, "the cursor stays");
    }
}
