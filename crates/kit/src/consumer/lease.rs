//! A consumer's row: its cursor (the last sequence applied) and its lease (which replica
//! consumes), in the table `event_consumers` of the service's own database.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseTransaction, DbErr};

use crate::db::statement;
use sea_orm_migration::prelude::*;

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
pub(crate) async fn advance(
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

#[cfg(test)]
mod tests {
    use sea_orm::TransactionTrait;

    use super::*;

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
