//! Parked events: events a consumer could not apply after bounded retries, recorded in the
//! table `parked_events` of the service's own database in the transaction that moves the
//! cursor past them, so one bad event never stops a consumer. An operator asks for a retry
//! (`redress parked retry`) once the cause is fixed; the consumer re-applies the event and
//! removes the row when it applies.
//!
//! A row holds where the event is (consumer, tenant, sequence, type) and why it failed, never
//! the event itself: a retry fetches the event from the case log as it stands then.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, FromQueryResult};
use sea_orm_migration::prelude::*;
use serde::Serialize;

use crate::db::statement;

/// The most characters of an error kept on a parked event.
const MAX_ERROR: usize = 2000;

/// The table of parked events; include it in the service's migrator beside
/// [`super::Migration`].
pub struct ParkedMigration;

impl MigrationName for ParkedMigration {
    fn name(&self) -> &str {
        "m0000_parked_events"
    }
}

#[tonic::async_trait]
impl MigrationTrait for ParkedMigration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let sql = match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                "CREATE TABLE parked_events (
                    consumer TEXT NOT NULL,
                    sequence BIGINT NOT NULL,
                    tenant TEXT NOT NULL,
                    event_type TEXT NOT NULL,
                    error TEXT NOT NULL,
                    attempts INTEGER NOT NULL,
                    first_failure TIMESTAMPTZ NOT NULL,
                    last_failure TIMESTAMPTZ NOT NULL,
                    retry_requested BOOLEAN NOT NULL DEFAULT FALSE,
                    PRIMARY KEY (consumer, sequence)
                )"
            }
            _ => {
                "CREATE TABLE parked_events (
                    consumer TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    tenant TEXT NOT NULL,
                    event_type TEXT NOT NULL,
                    error TEXT NOT NULL,
                    attempts INTEGER NOT NULL,
                    first_failure TEXT NOT NULL,
                    last_failure TEXT NOT NULL,
                    retry_requested BOOLEAN NOT NULL DEFAULT FALSE,
                    PRIMARY KEY (consumer, sequence)
                )"
            }
        };
        db.execute_unprepared(sql).await.map(|_| ())
    }
}

/// One parked event.
#[derive(Debug, Clone, PartialEq, Serialize, FromQueryResult)]
pub struct Parked {
    /// The consumer that parked it.
    pub consumer: String,
    /// Its tenant.
    pub tenant: String,
    /// Its place in the case log.
    pub sequence: i64,
    /// Its type, as the contract names it (`CASE_EVENT_TYPE_CREATED`).
    pub event_type: String,
    /// The last failure's error, one line.
    pub error: String,
    /// How many times applying it failed, retries included.
    pub attempts: i32,
    /// When applying it first failed.
    pub first_failure: DateTime<Utc>,
    /// When applying it last failed.
    pub last_failure: DateTime<Utc>,
    /// Whether an operator asked for a retry that the consumer has not yet made.
    pub retry_requested: bool,
}

/// Makes `error` safe to store and print: one line, no control characters, bounded.
pub(crate) fn clean(error: &str) -> String {
    let mut out: String = error.chars().map(|c| if c.is_control() { ' ' } else { c }).take(MAX_ERROR).collect();
    out.truncate(out.trim_end().len());
    out
}

/// Records `parked` (or, parked before, adds its attempts and keeps its first failure).
pub(crate) async fn park(db: &impl ConnectionTrait, parked: &Parked) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    db.execute_raw(statement(
        backend,
        "INSERT INTO parked_events
             (consumer, sequence, tenant, event_type, error, attempts, first_failure, last_failure, retry_requested)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (consumer, sequence) DO UPDATE SET
             error = excluded.error,
             attempts = parked_events.attempts + excluded.attempts,
             last_failure = excluded.last_failure,
             retry_requested = excluded.retry_requested",
        vec![
            parked.consumer.as_str().into(),
            parked.sequence.into(),
            clean(&parked.tenant).into(),
            clean(&parked.event_type).into(),
            clean(&parked.error).into(),
            parked.attempts.into(),
            parked.first_failure.into(),
            parked.last_failure.into(),
            parked.retry_requested.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// The parked events of `consumer`, or of every consumer, in log order.
pub async fn list(db: &impl ConnectionTrait, consumer: Option<&str>) -> Result<Vec<Parked>, DbErr> {
    let backend = db.get_database_backend();
    let columns =
        "consumer, tenant, sequence, event_type, error, attempts, first_failure, last_failure, retry_requested";
    let query = match consumer {
        Some(name) => statement(
            backend,
            &format!("SELECT {columns} FROM parked_events WHERE consumer = $1 ORDER BY consumer, sequence"),
            vec![name.into()],
        ),
        None => statement(backend, &format!("SELECT {columns} FROM parked_events ORDER BY consumer, sequence"), vec![]),
    };
    Parked::find_by_statement(query).all(db).await
}

/// Asks `consumer` to retry its parked event at `sequence`, or all of them; returns how many
/// were asked for. The consumer retries within a third of its lease.
pub async fn request_retry(db: &impl ConnectionTrait, consumer: &str, sequence: Option<i64>) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let result = match sequence {
        Some(sequence) => {
            db.execute_raw(statement(
                backend,
                "UPDATE parked_events SET retry_requested = $1 WHERE consumer = $2 AND sequence = $3",
                vec![true.into(), consumer.into(), sequence.into()],
            ))
            .await?
        }
        None => {
            db.execute_raw(statement(
                backend,
                "UPDATE parked_events SET retry_requested = $1 WHERE consumer = $2",
                vec![true.into(), consumer.into()],
            ))
            .await?
        }
    };
    Ok(result.rows_affected())
}

/// The sequences of `consumer`'s events whose retry was asked for, oldest first.
pub(crate) async fn requested(db: &impl ConnectionTrait, consumer: &str) -> Result<Vec<i64>, DbErr> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(statement(
            backend,
            "SELECT sequence FROM parked_events WHERE consumer = $1 AND retry_requested = $2 ORDER BY sequence",
            vec![consumer.into(), true.into()],
        ))
        .await?;
    rows.iter().map(|row| row.try_get_by_index::<i64>(0)).collect()
}

/// Removes a parked event that now applied.
pub(crate) async fn remove(db: &impl ConnectionTrait, consumer: &str, sequence: i64) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    db.execute_raw(statement(
        backend,
        "DELETE FROM parked_events WHERE consumer = $1 AND sequence = $2",
        vec![consumer.into(), sequence.into()],
    ))
    .await?;
    Ok(())
}

/// Forgets every event `consumer` parked, for a replay of the log from a rewound cursor, which
/// meets them again.
pub async fn forget(db: &impl ConnectionTrait, consumer: &str) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let result = db
        .execute_raw(statement(backend, "DELETE FROM parked_events WHERE consumer = $1", vec![consumer.into()]))
        .await?;
    Ok(result.rows_affected())
}

/// Records that a retry failed again: the event stays parked, with the new error.
pub(crate) async fn failed_again(
    db: &impl ConnectionTrait,
    consumer: &str,
    sequence: i64,
    error: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    db.execute_raw(statement(
        backend,
        "UPDATE parked_events SET error = $1, attempts = attempts + 1, last_failure = $2, retry_requested = $3
         WHERE consumer = $4 AND sequence = $5",
        vec![clean(error).into(), now.into(), false.into(), consumer.into(), sequence.into()],
    ))
    .await?;
    Ok(())
}

/// How many events `consumer` has parked.
pub async fn count(db: &impl ConnectionTrait, consumer: &str) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(statement(
            backend,
            "SELECT COUNT(*) FROM parked_events WHERE consumer = $1",
            vec![consumer.into()],
        ))
        .await?;
    Ok(match row {
        Some(row) => row.try_get_by_index::<i64>(0)?,
        None => 0,
    })
}

/// Where one consumer stands, for `redress status`.
#[derive(Debug, Clone, PartialEq, Serialize, FromQueryResult)]
pub struct ConsumerStatus {
    /// The consumer's name.
    pub consumer: String,
    /// The last sequence applied.
    pub cursor: i64,
    /// The replica holding the lease, or the last one that did.
    pub holder: String,
    /// When the lease runs out; in the past when nobody holds it.
    pub lease_expires: DateTime<Utc>,
    /// How many events it has parked.
    pub parked: i64,
}

/// Every consumer of the database, by name.
pub async fn statuses(db: &impl ConnectionTrait) -> Result<Vec<ConsumerStatus>, DbErr> {
    let backend = db.get_database_backend();
    ConsumerStatus::find_by_statement(statement(
        backend,
        "SELECT c.name AS consumer, c.sequence AS cursor, c.holder AS holder, c.lease_expires AS lease_expires,
                (SELECT COUNT(*) FROM parked_events p WHERE p.consumer = c.name) AS parked
         FROM event_consumers c ORDER BY c.name",
        vec![],
    ))
    .all(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_kept_on_one_bounded_line() {
        assert_eq!(clean("bad\n\u{0}value\t "), "bad  value");
        assert_eq!(clean(&"x".repeat(5000)).len(), MAX_ERROR);
    }

    #[tokio::test]
    async fn park_list_retry_and_remove_on_sqlite() {
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        let manager = SchemaManager::new(&db);
        super::super::Migration.up(&manager).await.unwrap();
        ParkedMigration.up(&manager).await.unwrap();
        let t0 = Utc::now();
        let parked = Parked {
            consumer: "c".into(),
            tenant: "acme".into(),
            sequence: 7,
            event_type: "CASE_EVENT_TYPE_CREATED".into(),
            error: "no".into(),
            attempts: 3,
            first_failure: t0,
            last_failure: t0,
            retry_requested: false,
        };
        park(&db, &parked).await.unwrap();
        park(&db, &Parked { error: "still no".into(), ..parked.clone() }).await.unwrap();
        let listed = list(&db, Some("c")).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].attempts, listed[0].error.as_str()), (6, "still no"));
        assert_eq!(count(&db, "c").await.unwrap(), 1);
        assert!(list(&db, Some("other")).await.unwrap().is_empty());

        assert!(requested(&db, "c").await.unwrap().is_empty());
        assert_eq!(request_retry(&db, "c", Some(8)).await.unwrap(), 0, "no such event");
        assert_eq!(request_retry(&db, "c", None).await.unwrap(), 1);
        assert_eq!(requested(&db, "c").await.unwrap(), vec![7]);
        failed_again(&db, "c", 7, "again", t0).await.unwrap();
        assert!(requested(&db, "c").await.unwrap().is_empty(), "a failed retry waits for the next request");
        assert_eq!(list(&db, None).await.unwrap()[0].attempts, 7);
        remove(&db, "c", 7).await.unwrap();
        assert_eq!(count(&db, "c").await.unwrap(), 0);
    }
}
