//! Flight SQL queries on SQLite (the embedded mode): each query opens its own read-only
//! connection to the analytics file, creates the documented views as temporary views holding
//! only the caller's tenant, and then installs SQLite's authorizer, which lets the query read
//! table data only through those views and refuses every write, schema change, ATTACH and
//! PRAGMA. A progress handler cancels it at the statement timeout.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::path::PathBuf;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use libsqlite3_sys as ffi;
use sea_orm::DatabaseBackend;
use sea_orm::sqlx::SqlSafeStr as _;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sea_orm::sqlx::{self, AssertSqlSafe, Column, ConnectOptions, Connection, Executor, Row, TypeInfo};
use sea_orm::sqlx::{Decode, Sqlite, ValueRef};
use tonic::Status;

use super::columns::{Kind, SqliteValue};
use super::{Limits, Sink, db_failure};
use crate::store::views::{VIEWS, select};

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

/// The bytes of a string SQLite passes to the authorizer; empty for NULL.
fn text<'a>(name: *const c_char) -> &'a [u8] {
    if name.is_null() {
        return b"";
    }
    // SAFETY: SQLite passes NUL-terminated strings valid for the callback's duration.
    unsafe { CStr::from_ptr(name) }.to_bytes()
}

/// Whether a name is one of the documented views.
fn is_view(name: &[u8]) -> bool {
    VIEWS.iter().any(|v| v.as_bytes() == name)
}

/// The names of the analytics files' own tables and views and of SQLite's catalog, which a
/// query may reach only through the documented views. Filled as connections open (every file
/// has the same tables); the authorizer, a plain C callback, reads it.
static HIDDEN: RwLock<Vec<Vec<u8>>> = RwLock::new(Vec::new());

/// Whether `name` is hidden; when in doubt (a poisoned lock), it is.
fn is_hidden(name: &[u8]) -> bool {
    HIDDEN.read().map(|names| names.iter().any(|n| n.eq_ignore_ascii_case(name))).unwrap_or(true)
}

/// Adds names to [`HIDDEN`].
fn hide(names: impl IntoIterator<Item = Vec<u8>>) {
    let Ok(mut hidden) = HIDDEN.write() else { return };
    for name in names {
        if !hidden.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
            hidden.push(name);
        }
    }
}

/// The authorizer: reads only through the documented views, SELECT, functions and common
/// table expressions; everything else is denied at prepare time.
///
/// SQLite passes, for SQLITE_FUNCTION, NULL and the function's name; for SQLITE_READ the table
/// (or view) and column, the database, and last the view the read happens inside, if any. A
/// column read names its real database; a table from which no column is read (`SELECT
/// count(*) FROM t`) is reported with an empty column and the database as written in the
/// query, NULL when unqualified, exactly as a common table expression is. Those are told apart
/// by name, through [`HIDDEN`].
extern "C" fn authorize(
    _data: *mut c_void,
    action: c_int,
    first: *const c_char,
    second: *const c_char,
    database: *const c_char,
    inside: *const c_char,
) -> c_int {
    let (database, inside) = (text(database), text(inside));
    match action {
        ffi::SQLITE_SELECT | ffi::SQLITE_RECURSIVE => ffi::SQLITE_OK,
        ffi::SQLITE_FUNCTION => {
            // load_extension is off at compile-time defaults, and refused here regardless.
            let name = text(second);
            if name.is_empty() || name.eq_ignore_ascii_case(b"load_extension") {
                ffi::SQLITE_DENY
            } else {
                ffi::SQLITE_OK
            }
        }
        // A column of one of the tenant's temporary views, or the view itself.
        ffi::SQLITE_READ if is_view(text(first)) && (database == b"temp" || database.is_empty()) => ffi::SQLITE_OK,
        // A base table read by one of those views.
        ffi::SQLITE_READ if is_view(inside) => ffi::SQLITE_OK,
        ffi::SQLITE_READ if is_hidden(text(first)) => ffi::SQLITE_DENY,
        // A common table expression or subquery of the query itself.
        ffi::SQLITE_READ if database.is_empty() => ffi::SQLITE_OK,
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
        let catalog = "SELECT name FROM sqlite_schema UNION SELECT name FROM sqlite_temp_schema";
        let names: Vec<String> = sqlx::query_scalar(catalog).fetch_all(&mut conn).await.map_err(db_status)?;
        let catalog = ["sqlite_schema", "sqlite_master", "sqlite_temp_schema", "sqlite_temp_master"];
        hide(names.into_iter().filter(|n| !VIEWS.contains(&n.as_str())).map(String::into_bytes));
        hide(catalog.map(|n| n.as_bytes().to_vec()));
        let mut handle = conn.lock_handle().await.map_err(db_status)?;
        // SAFETY: the handle is a live connection; the callback is a plain function whose only
        // state is a static, so it outlives nothing.
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
    pub async fn run(&self, tenant: &str, sql: &str, describe_only: bool, sink: &mut Sink) -> Result<(), Status> {
        let mut conn = self.open(tenant).await?;
        // Describing finds a type for computed columns too (count(*), CAST, strftime), which
        // SQLite declares none for: from the query plan, or else from the first row.
        let described = (&mut conn).describe(AssertSqlSafe(sql.to_string()).into_sql_str()).await.map_err(db_status)?;
        let columns: Vec<(String, Kind)> =
            described.columns().iter().map(|c| (c.name().to_string(), Kind::of_sqlite(c.type_info().name()))).collect();
        let Some(mut out) = sink.start(&columns, describe_only, self.limits.max_rows)? else { return Ok(()) };
        let mut rows = sqlx::query(AssertSqlSafe(sql.to_string())).fetch(&mut conn);
        while let Some(row) = rows.try_next().await.map_err(db_status)? {
            for (i, builder) in out.next()?.iter_mut().enumerate() {
                builder.sqlite(value(row.try_get_raw(i).map_err(db_status)?));
            }
            if !out.appended(sink).await? {
                return Ok(());
            }
        }
        drop(rows);
        out.finish(sink).await?;
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
                _ => db_failure(format_args!("{code}: {message}"), None),
            }
        }
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => {
            db_failure(&error, Some("the SQL endpoint cannot open its database; retry later"))
        }
        _ => db_failure(&error, None),
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
