//! The database: sea-orm over `postgres://…` (production) or `sqlite://…` (the embedded mode),
//! pooled. Each service keeps its tables apart: its own schema on PostgreSQL, its own file on
//! SQLite. Migrations are sea-orm-migration migrators, run by `redress migrate` or at start-up,
//! serialised across replicas by an advisory lock on PostgreSQL.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

use crate::ServiceKind;
use crate::config::Config;

/// How long a pooled connection may sit idle before it is pinged on checkout.
const PING_AFTER_IDLE: Duration = Duration::from_secs(10);

/// Connects `kind` to its database, as configured.
pub async fn connect(config: &Config, kind: ServiceKind) -> anyhow::Result<DatabaseConnection> {
    let url = config.database_url(kind);
    connect_url(&url, kind, config.database.max_connections, config.database.acquire_timeout.get()).await
}

/// Connects `kind` to the database at `url`.
pub async fn connect_url(
    url: &str,
    kind: ServiceKind,
    max_connections: u32,
    acquire_timeout: Duration,
) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(acquire_timeout)
        .connect_timeout(Duration::from_secs(5))
        // A connection in steady use is not pinged before each statement (a round trip per
        // statement); one idle long enough to have been dropped by a proxy or a restart is.
        // A hot connection that broke fails its statement as UNAVAILABLE, which the caller
        // retries with the same request_id.
        .test_before_acquire_if_idle_for(PING_AFTER_IDLE)
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        if let Some(dir) = sqlite_path(url).and_then(|p| Path::new(&p).parent().map(Path::to_path_buf))
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        options.map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    } else {
        options.set_schema_search_path(kind.schema());
    }
    let db = Database::connect(options)
        .await
        .with_context(|| format!("connecting {kind} to its database at {}", crate::config::mask_url(url)))?;
    Ok(db)
}

/// A database handle, for code that passes one along without importing sea_orm.
pub type Db = DatabaseConnection;

/// A database transaction, for application code that owns transactions without importing
/// sea_orm: it begins them ([`begin_write`]), hands them to the store and commits them.
pub type Txn = DatabaseTransaction;

/// The turn to write on SQLite, which allows one writer: a process's writers take turns (one at
/// a time, in order) instead of polling the busy timeout. On PostgreSQL it is no lock at all.
#[derive(Debug)]
pub struct WriteTurn(Option<tokio::sync::Mutex<()>>);

impl WriteTurn {
    /// The turn for writers on `db`: a lock on SQLite, none on PostgreSQL.
    pub fn new(db: &DatabaseConnection) -> Self {
        Self((db.get_database_backend() == DatabaseBackend::Sqlite).then(|| tokio::sync::Mutex::new(())))
    }

    /// Waits for this process's turn to write; hold the guard while the write is open.
    pub async fn take(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.0 {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
    }
}

/// Writes `$n`-style SQL (PostgreSQL's) for `backend`: unchanged on PostgreSQL, every `$n`
/// turned into SQLite's numbered `?n` otherwise, so a value can be referred to more than once.
pub fn sql(backend: DatabaseBackend, text: &str) -> String {
    if backend == DatabaseBackend::Postgres {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// A statement for `backend` from `$n`-style SQL and the values `$1`, `$2`, … stand for.
pub fn statement(backend: DatabaseBackend, text: &str, values: impl IntoIterator<Item = sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(backend, sql(backend, text), values)
}

/// Begins a transaction that writes. On SQLite it takes the write lock at `BEGIN IMMEDIATE`, so
/// writers wait their turn (the busy timeout) instead of one failing with "database is locked"
/// when another connection commits between its first read and its first write; on PostgreSQL
/// it is a plain `BEGIN`.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let options =
        TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() };
    db.begin_with_options(options).await
}

/// The file path of a `sqlite://path?…` URL.
fn sqlite_path(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| path.to_string())
}

/// Applies `M`'s pending migrations to `kind`'s database. On PostgreSQL the schema is created
/// first and an advisory lock keeps concurrent replicas from migrating at once.
pub async fn migrate<M: MigratorTrait>(db: &DatabaseConnection, kind: ServiceKind, url: &str) -> anyhow::Result<()> {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            // A dedicated connection holds the advisory lock for the whole migration.
            let lock = Database::connect(
                ConnectOptions::new(url.to_string()).max_connections(1).sqlx_logging(false).to_owned(),
            )
            .await
            .context("connecting for the migration lock")?;
            let key = migration_lock_key(kind);
            lock.execute_unprepared(&format!("SELECT pg_advisory_lock({key})"))
                .await
                .context("taking the migration lock")?;
            let result = async {
                db.execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS {}", kind.schema())).await?;
                M::up(db, None).await
            }
            .await;
            let _ = lock.execute_unprepared(&format!("SELECT pg_advisory_unlock({key})")).await;
            let _ = lock.close().await;
            result.with_context(|| format!("migrating {kind}"))?;
        }
        _ => M::up(db, None).await.with_context(|| format!("migrating {kind}"))?,
    }
    tracing::info!(service = %kind, "migrations applied");
    Ok(())
}

fn migration_lock_key(kind: ServiceKind) -> i64 {
    // A fixed key per service: "redress" in ASCII, plus the service's position.
    0x7265_6472_6573_7300 + ServiceKind::ALL.iter().position(|k| *k == kind).unwrap_or(0) as i64
}

/// Runs a migration's script, the PostgreSQL or the SQLite one by the connection's backend,
/// one `;`-separated statement at a time.
pub async fn run_script(
    db: &sea_orm_migration::SchemaManagerConnection<'_>,
    postgres: &str,
    sqlite: &str,
) -> Result<(), sea_orm::DbErr> {
    let script = match db.get_database_backend() {
        DatabaseBackend::Postgres => postgres,
        _ => sqlite,
    };
    for statement in script.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}

/// A readiness check: the database answers a trivial query.
pub async fn ping(db: &DatabaseConnection) -> Result<(), String> {
    let statement = Statement::from_string(db.get_database_backend(), "SELECT 1");
    db.query_one_raw(statement).await.map(|_| ()).map_err(|e| format!("database: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_sqlite() {
        assert_eq!(sql(DatabaseBackend::Sqlite, "a = $1 AND b = $12 AND c = '$'"), "a = ?1 AND b = ?12 AND c = '$'");
        assert_eq!(sql(DatabaseBackend::Postgres, "a = $1"), "a = $1");
    }

    #[test]
    fn sqlite_paths() {
        assert_eq!(sqlite_path("sqlite://./data/case.db?mode=rwc").as_deref(), Some("./data/case.db"));
        assert_eq!(sqlite_path("sqlite:///var/x.db").as_deref(), Some("/var/x.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
    }
}
