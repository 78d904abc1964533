//! Persistence of cases: the only code that speaks SQL. Entities, the queries that read cases,
//! their timelines, playbooks and erasures, the statements that write them inside a
//! transaction the application holds, and the event log's writer and sequencer.

mod cases;
pub mod entities;
pub mod erase;
mod fast;
mod list;
pub mod log;
pub mod page;

pub use cases::{
    Loaded, NewCase, SeenRequest, append, find_by_external_reference, find_request, insert_case, insert_case_at_once,
    insert_event, insert_request, load, playbook, save_playbook, update_case,
};
pub use list::{CasePage, Visible};

use std::sync::Arc;

use redress_kit::db::{Db, WriteTurn};
use sea_orm::DatabaseBackend;
use tokio::sync::MutexGuard;

use self::log::Log;
use crate::error::Error;

/// The case service's store: the database, the SQLite write turn and the event log's signals.
pub struct Store {
    db: Db,
    /// Changes take turns on SQLite.
    serial: WriteTurn,
    log: Arc<Log>,
    /// The largest event a change may record, in streamed bytes ([`log::event_limit`]).
    event_limit: usize,
}

/// A turn to write: held for as long as a write transaction is open. On SQLite it keeps the
/// process's writers in line (one at a time, in order) rather than polling the busy timeout;
/// on PostgreSQL it is no lock at all.
pub struct Turn<'a> {
    _guard: Option<MutexGuard<'a, ()>>,
}

impl Store {
    /// A store over a migrated database, recording no event over `event_limit` streamed bytes.
    pub async fn new(db: Db, event_limit: usize) -> Result<Self, Error> {
        let head = log::read_head(&db).await?;
        let serial = WriteTurn::new(&db);
        Ok(Self { db, serial, log: Log::new(head), event_limit })
    }

    /// The largest event, in streamed bytes: what one `StreamEvents` message carries.
    pub fn event_limit(&self) -> usize {
        self.event_limit
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Whether the database is PostgreSQL (which has a one-statement path for new cases).
    pub fn is_postgres(&self) -> bool {
        self.db.get_database_backend() == DatabaseBackend::Postgres
    }

    /// The event log's in-process signals.
    pub fn log(&self) -> &Arc<Log> {
        &self.log
    }

    /// Waits for this process's turn to write (see [`Turn`]).
    pub async fn turn(&self) -> Turn<'_> {
        Turn { _guard: self.serial.take().await }
    }

    /// Numbers committed events (one pass of the sequencer), in this process's write turn.
    pub async fn sequence(&self) -> Result<u64, Error> {
        let _turn = self.turn().await;
        Ok(log::sequence_pass(&self.db, &self.log).await?)
    }

    /// Events after `after` and up to `upto` for one tenant or all, of some types or all: at
    /// most `limit`, and about one `StreamEvents` message's worth of bytes.
    pub async fn events(
        &self,
        after: i64,
        upto: i64,
        tenant: Option<&str>,
        types: &[i32],
        limit: u64,
    ) -> Result<log::Page, Error> {
        Ok(log::read(&self.db, after, upto, tenant, types, limit, self.event_limit).await?)
    }
}
