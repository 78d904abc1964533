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

use redress_kit::db::{Db, WriteTurn};
use sea_orm::{ConnectionTrait, DatabaseBackend, FromQueryResult, Statement};

use crate::error::Error;

/// The notification service's database.
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

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Which database it is.
    fn backend(&self) -> DatabaseBackend {
        self.db.get_database_backend()
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
