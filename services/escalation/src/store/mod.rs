//! Persistence of the escalation service: directory data, the cases being timed, their clocks
//! (the truth of every deadline), escalations, and the outbox of calls owed to other services.
//!
//! The only code that speaks sea-orm or SQL. Functions that take a `db` run in whatever the
//! caller passes, a transaction of the application ([`redress_kit::db::Txn`]) as a rule;
//! [`Store`]'s methods run on their own.

pub mod cases;
pub mod directory;
pub mod due;
pub mod effects;
pub mod entities;
pub mod escalations;

use chrono::{DateTime, Utc};
use jiff::Timestamp;
use redress_kit::db::{Db, WriteTurn};
use sea_orm::{ConnectionTrait, DatabaseBackend};
use tokio::sync::MutexGuard;

pub use cases::TimedCase;
pub use effects::Effect;

/// The escalation service's store.
pub struct Store {
    db: Db,
    /// Writers take turns on SQLite.
    turn: WriteTurn,
}

impl Store {
    /// A store over a migrated database.
    pub fn new(db: Db) -> Self {
        Self { turn: WriteTurn::new(&db), db }
    }

    /// The database, to begin transactions on (`redress_kit::db::begin_write`).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Waits for this process's turn to write, on SQLite.
    pub async fn turn(&self) -> Option<MutexGuard<'_, ()>> {
        self.turn.take().await
    }
}

/// A database time as a domain instant.
fn instant(at: DateTime<Utc>) -> Timestamp {
    Timestamp::from_microsecond(at.timestamp_micros()).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A domain instant as a database time.
fn datetime(at: Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.as_microsecond()).unwrap_or_default()
}

/// Whether `db` is PostgreSQL (else SQLite).
fn postgres(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DatabaseBackend::Postgres
}
