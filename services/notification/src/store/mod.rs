//! Persistence: notifications (which are also the outbox), templates and rules, on PostgreSQL
//! (schema `redress_notification`) or SQLite (a file of its own). The only code of the service
//! that speaks to the database; it answers with the service's own [`Error`].
//!
//! Statements are written once with `$n` placeholders and rewritten for SQLite by
//! `redress_kit::db::statement`. Times are kept to the microsecond, which both databases store
//! exactly.

pub mod notifications;
pub mod rules;
pub mod templates;

use redress_kit::db::Db;
use sea_orm::{ConnectionTrait, DatabaseBackend, FromQueryResult, Statement};
use tokio::sync::{Mutex, MutexGuard};

use crate::error::Error;

/// The notification service's database.
pub struct Store {
    db: Db,
    /// SQLite has one writer: transactions take turns within the process rather than fail busy.
    serial: Option<Mutex<()>>,
}

impl Store {
    /// A store over a migrated database.
    pub fn new(db: Db) -> Self {
        let serial = (db.get_database_backend() == DatabaseBackend::Sqlite).then(|| Mutex::new(()));
        Self { db, serial }
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Which database it is.
    fn backend(&self) -> DatabaseBackend {
        self.db.get_database_backend()
    }

    /// Waits for this process's turn to write, on SQLite; nothing on PostgreSQL.
    async fn turn(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.serial {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
    }
}

/// Runs `insert` (an `INSERT … ON CONFLICT DO NOTHING RETURNING …`) and, when it stored nothing,
/// `existing`, which reads what an earlier call with the same key stored. Returns the row and
/// whether this call created it; `None` when the conflict was on another key.
async fn insert_once<R: FromQueryResult>(
    conn: &impl ConnectionTrait,
    insert: Statement,
    existing: Statement,
) -> Result<Option<(R, bool)>, Error> {
    if let Some(created) = R::find_by_statement(insert).one(conn).await? {
        return Ok(Some((created, true)));
    }
    Ok(R::find_by_statement(existing).one(conn).await?.map(|seen| (seen, false)))
}
