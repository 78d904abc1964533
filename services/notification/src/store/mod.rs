//! Persistence: notifications (which are also the outbox), templates and rules, on PostgreSQL
//! (schema `redress_notification`) or SQLite (a file of its own).
//!
//! Statements are written once with `$n` placeholders and rewritten for SQLite. Times are kept
//! to the microsecond, which both databases store exactly.

pub mod notifications;
pub mod page;
pub mod rules;
pub mod templates;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, Statement, Value};
use tokio::sync::{Mutex, MutexGuard};

/// The current time, to the microsecond both databases keep.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// Rewrites `$n` placeholders as SQLite's numbered `?n`.
pub(crate) fn sql(backend: DatabaseBackend, text: &str) -> String {
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

/// A statement for `backend` from `$n`-style SQL.
pub(crate) fn statement(backend: DatabaseBackend, text: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(backend, sql(backend, text), values)
}

/// The notification service's database.
pub struct Store {
    db: DatabaseConnection,
    /// SQLite has one writer: transactions take turns within the process rather than fail busy.
    serial: Option<Mutex<()>>,
}

impl Store {
    /// A store over a migrated database.
    pub fn new(db: DatabaseConnection) -> Self {
        let serial = (db.get_database_backend() == DatabaseBackend::Sqlite).then(|| Mutex::new(()));
        Self { db, serial }
    }

    /// The database.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Which database it is.
    pub fn backend(&self) -> DatabaseBackend {
        self.db.get_database_backend()
    }

    /// Waits for this process's turn to write, on SQLite; nothing on PostgreSQL.
    pub(crate) async fn turn(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.serial {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
    }

    /// Begins a transaction that holds SQLite's write lock from the start.
    pub(crate) async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        redress_kit::db::begin_write(&self.db).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_for_sqlite() {
        assert_eq!(sql(DatabaseBackend::Sqlite, "a = $1 AND b = $12 AND c = '$'"), "a = ?1 AND b = ?12 AND c = '$'");
        assert_eq!(sql(DatabaseBackend::Postgres, "a = $1"), "a = $1");
    }
}
