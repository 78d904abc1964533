//! Flight SQL queries on SQLite (the embedded mode): each query opens its own read-only
//! connection to the analytics file, creates the documented views as temporary views holding
//! only the caller's tenant, and then installs SQLite's authorizer, which lets the query read
//! table data only through those views and refuses every write, schema change, ATTACH and
//! PRAGMA. A progress handler cancels it at the statement timeout.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use arrow_schema::SchemaRef;
use futures::TryStreamExt;
use libsqlite3_sys as ffi;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sea_orm::sqlx::{self, AssertSqlSafe, Column, ConnectOptions, Connection, Executor, Row, Statement, TypeInfo};
use sea_orm::sqlx::{Decode, Sqlite, ValueRef};
use sea_orm::DatabaseBackend;
use sea_orm::sqlx::SqlSafeStr as _;
use tonic::Status;

use super::columns::{Builder, Kind, SqliteValue, batch, schema};
use super::{BATCH_ROWS, Limits, Sink, query_refused};
use crate::views::{VIEWS, select};

/// Runs Flight SQL queries against the analytics SQLite file.
pub struct SqliteReader {
    path: PathBuf,
    limits: Limits,
}

/// The file path of a `sqlite://path?…` URL.
pub fn path_of(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Whether a name is one of the documented views.
fn is_view(name: *const c_char) -> bool {
    if name.is_null() {
        return false;
    }
    // SAFETY: SQLite passes NUL-terminated strings valid for the callback's duration.
    let name = unsafe { CStr::from_ptr(name) };
    VIEWS.iter().any(|v| v.as_bytes() == name.to_bytes())
}

/// The authorizer: reads only through the documented views, SELECT, functions and recursive
/// CTEs; everything else is denied at prepare time.
extern "C" fn authorize(
    _data: *mut c_void,
    action: c_int,
    _table_or_function: *const c_char,
    _column: *const c_char,
    _database: *const c_char,
    view: *const c_char,
) -> c_int {
    match action {
        ffi::SQLITE_SELECT | ffi::SQLITE_RECURSIVE => ffi::SQLITE_OK,
        ffi::SQLITE_FUNCTION => {
            // load_extension is off at compile-time defaults, and refused here regardless.
            if _table_or_function.is_null() {
                return ffi::SQLITE_DENY;
            }
            // SAFETY: as above.
            let name = unsafe { CStr::from_ptr(_table_or_function) };
            if name.to_bytes().eq_ignore_ascii_case(b"load_extension") { ffi::SQLITE_DENY } else { ffi::SQLITE_OK }
        }
        ffi::SQLITE_READ if is_view(view) => ffi::SQLITE_OK,
        _ => ffi::SQLITE_DENY,
    }
}

impl SqliteReader {
    /// A reader of the analytics file at `path`.
    pub fn new(path: PathBuf, limits: Limits) -> Self {
        Self { path, limits }
    }

    /// A fresh read-only connection showing `tenant` alone.
    async fn open(&self, tenant: &str) -> Result<SqliteConnection, Status> {
        let options = SqliteConnectOptions::new()
            .filename(&self.path)
            .read_only(true)
            .create_if_missing(false)
            .busy_timeout(Duration::from_secs(5))
            .statement_cache_capacity(0);
        let mut conn = options.connect().await.map_err(db_status)?;
        // The tenant id is checked (lowercase letters, digits, hyphens), so it is safe to quote.
        let predicate = format!("tenant = '{tenant}'");
        for view in VIEWS {
            let body = select(view, DatabaseBackend::Sqlite, &predicate).unwrap_or_default();
            let ddl = format!("CREATE TEMP VIEW {view} AS {body}");
            conn.execute(AssertSqlSafe(ddl)).await.map_err(db_status)?;
        }
        let mut handle = conn.lock_handle().await.map_err(db_status)?;
        // SAFETY: the handle is a live connection; the callback is a plain function that keeps
        // no state, so it outlives nothing.
        let rc = unsafe {
            ffi::sqlite3_set_authorizer(handle.as_raw_handle().as_ptr(), Some(authorize), std::ptr::null_mut())
        };
        if rc != ffi::SQLITE_OK {
            return Err(Status::internal("internal error"));
        }
        let deadline = Instant::now() + self.limits.timeout;
        handle.set_progress_handler(1_000, move || Instant::now() < deadline);
        drop(handle);
        Ok(conn)
    }

    /// Describes `sql` and, unless `describe_only`, runs it, reporting to `sink`.
    pub async fn run(&self, tenant: &str, sql: &str, describe_only: bool, mut sink: Sink) {
        if let Err(status) = self.run_inner(tenant, sql, describe_only, &mut sink).await {
            sink.fail(status).await;
        }
    }

    async fn run_inner(&self, tenant: &str, sql: &str, describe_only: bool, sink: &mut Sink) -> Result<(), Status> {
        let mut conn = self.open(tenant).await?;
        let prepared = (&mut conn).prepare(AssertSqlSafe(sql.to_string()).into_sql_str()).await.map_err(db_status)?;
        let columns: Vec<(String, Kind)> = prepared
            .columns()
            .iter()
            .map(|c| (c.name().to_string(), Kind::of_sqlite(c.type_info().name())))
            .collect();
        if columns.is_empty() {
            return Err(query_refused());
        }
        let schema: SchemaRef = schema(&columns);
        if !sink.schema(schema.clone()) || describe_only {
            return Ok(());
        }
        let mut builders: Vec<Builder> = columns.iter().map(|(_, k)| Builder::new(*k)).collect();
        let mut rows = sqlx::query(AssertSqlSafe(sql.to_string())).fetch(&mut conn);
        let (mut total, mut pending) = (0u64, 0usize);
        while let Some(row) = rows.try_next().await.map_err(db_status)? {
            total += 1;
            if total > self.limits.max_rows {
                return Err(super::too_many_rows(self.limits.max_rows));
            }
            for (i, builder) in builders.iter_mut().enumerate() {
                let raw = row.try_get_raw(i).map_err(db_status)?;
                builder.sqlite(value(raw));
            }
            pending += 1;
            if pending == BATCH_ROWS {
                let b = batch(&schema, &mut builders).map_err(|e| Status::internal(e.to_string()))?;
                pending = 0;
                if !sink.send(b).await {
                    return Ok(());
                }
            }
        }
        drop(rows);
        if pending > 0 {
            let b = batch(&schema, &mut builders).map_err(|e| Status::internal(e.to_string()))?;
            sink.send(b).await;
        }
        let _ = conn.close().await;
        Ok(())
    }
}

/// A SQLite value by its storage class.
fn value(raw: sqlx::sqlite::SqliteValueRef<'_>) -> SqliteValue {
    if raw.is_null() {
        return SqliteValue::Null;
    }
    let class = raw.type_info().name().to_ascii_uppercase();
    let decoded = match class.as_str() {
        "INTEGER" | "BOOLEAN" => <i64 as Decode<Sqlite>>::decode(raw).map(SqliteValue::Integer),
        "REAL" => <f64 as Decode<Sqlite>>::decode(raw).map(SqliteValue::Real),
        "BLOB" => <Vec<u8> as Decode<Sqlite>>::decode(raw).map(SqliteValue::Blob),
        _ => <String as Decode<Sqlite>>::decode(raw).map(SqliteValue::Text),
    };
    decoded.unwrap_or(SqliteValue::Null)
}

/// How a SQLite error reads to a Flight SQL client.
fn db_status(error: sqlx::Error) -> Status {
    match &error {
        sqlx::Error::Database(db) => {
            let code: i64 = db.code().and_then(|c| c.parse().ok()).unwrap_or_default();
            let message = db.message().to_string();
            match code & 0xff {
                9 => Status::deadline_exceeded(
                    "the query ran longer than analytics.flight_statement_timeout and was cancelled",
                ),
                23 | 8 => Status::permission_denied(format!("read-only SQL endpoint: {message}")),
                1 | 20 | 25 => Status::invalid_argument(message),
                _ => {
                    tracing::error!(code, error = %message, "flight sql query failed");
                    Status::internal("internal error")
                }
            }
        }
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => {
            tracing::warn!(error = %error, "flight sql database unavailable");
            Status::unavailable("the SQL endpoint cannot open its database; retry later")
        }
        _ => {
            tracing::error!(error = %error, "flight sql query failed");
            Status::internal("internal error")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths() {
        assert_eq!(path_of("sqlite://./data/analytics.db?mode=rwc"), Some(PathBuf::from("./data/analytics.db")));
        assert_eq!(path_of("sqlite::memory:"), None);
    }
}
