//! Flight SQL queries on PostgreSQL: a pool of connections logged in as the read-only role,
//! one READ ONLY transaction per query with a statement timeout, and the caller's tenant signed
//! into the transaction for the views to filter by.

use std::str::FromStr;
use std::time::Duration;

use futures::TryStreamExt;
use sea_orm::sqlx::SqlSafeStr as _;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sea_orm::sqlx::{self, AssertSqlSafe, Column, Connection, Executor, Row, Statement, TypeInfo, ValueRef};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use sha2::{Digest, Sha256};
use tonic::Status;

use super::columns::Kind;
use super::{Limits, Sink, db_failure};
use crate::migration::READER_ROLE;

/// Runs Flight SQL queries as the read-only role.
pub struct PgReader {
    pool: PgPool,
    secret: String,
    limits: Limits,
}

/// The reader's URL: the configured one, or the service's with the reader role and no password.
pub fn reader_url(database_url: &str, configured: Option<&str>) -> anyhow::Result<String> {
    if let Some(url) = configured {
        return Ok(url.to_string());
    }
    let mut url = url::Url::parse(database_url)?;
    url.set_username(READER_ROLE).map_err(|()| anyhow::anyhow!("the database URL cannot carry a user"))?;
    url.set_password(None).map_err(|()| anyhow::anyhow!("the database URL cannot drop its password"))?;
    Ok(url.to_string())
}

impl PgReader {
    /// A lazily connecting pool for `url`, and the signing secret read with the service's own
    /// connection.
    pub async fn new(owner: &DatabaseConnection, url: &str, limits: Limits) -> anyhow::Result<Self> {
        let row = owner
            .query_one_raw(sea_orm::Statement::from_string(
                owner.get_database_backend(),
                "SELECT secret FROM reader_secret WHERE id = 1",
            ))
            .await?
            .ok_or_else(|| anyhow::anyhow!("the reader secret is missing; run the analytics migrations"))?;
        let secret: String = row.try_get_by_index(0)?;
        let options = PgConnectOptions::from_str(url)?
            .options([("search_path", "redress_analytics")])
            .application_name("redress-analytics-flight-sql");
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .idle_timeout(Duration::from_secs(300))
            .connect_lazy_with(options);
        Ok(Self { pool, secret, limits })
    }

    /// `tenant:mac`, the value the views accept as `redress.tenant` (see the migration).
    pub fn signed(&self, tenant: &str) -> String {
        let digest = Sha256::digest(format!("{}:{tenant}", self.secret).as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("{tenant}:{hex}")
    }

    /// Describes `sql` and, unless `describe_only`, runs it, reporting to `sink`.
    pub async fn run(&self, tenant: &str, sql: &str, describe_only: bool, sink: &mut Sink) -> Result<(), Status> {
        let mut conn = self.pool.acquire().await.map_err(db_status)?;
        let mut txn = conn.begin().await.map_err(db_status)?;
        sqlx::query("SET TRANSACTION READ ONLY").execute(&mut *txn).await.map_err(db_status)?;
        sqlx::query("SELECT set_config('statement_timeout', $1, true), set_config('redress.tenant', $2, true)")
            .bind(format!("{}ms", self.limits.timeout.as_millis().max(1)))
            .bind(self.signed(tenant))
            .execute(&mut *txn)
            .await
            .map_err(db_status)?;
        let prepared = (&mut *txn).prepare(AssertSqlSafe(sql.to_string()).into_sql_str()).await.map_err(db_status)?;
        let (mut columns, mut types) = (Vec::new(), Vec::new());
        for column in prepared.columns() {
            let type_name = column.type_info().name().to_string();
            let kind = Kind::of_postgres(&type_name).ok_or_else(|| {
                Status::invalid_argument(format!(
                    "column {:?} is of type {type_name}, which results cannot carry; cast it, for example {}::text",
                    column.name(),
                    column.name()
                ))
            })?;
            columns.push((column.name().to_string(), kind));
            types.push(type_name);
        }
        let Some(mut out) = sink.start(&columns, describe_only, self.limits.max_rows)? else { return Ok(()) };
        let mut rows = sqlx::query(AssertSqlSafe(sql.to_string())).fetch(&mut *txn);
        while let Some(row) = rows.try_next().await.map_err(db_status)? {
            for (i, (builder, type_name)) in out.next()?.iter_mut().zip(&types).enumerate() {
                let value = row.try_get_raw(i).map_err(db_status)?;
                if value.is_null() {
                    builder.null();
                    continue;
                }
                let bytes = value.as_bytes().map_err(|e| Status::internal(format!("column {i}: {e}")))?;
                builder.postgres(type_name, bytes).map_err(Status::internal)?;
            }
            if !out.appended(sink).await? {
                return Ok(());
            }
        }
        drop(rows);
        out.finish(sink).await?;
        txn.rollback().await.map_err(db_status)?;
        Ok(())
    }
}

/// What a client is told when the database is out of reach.
const UNREACHABLE: &str = "the SQL endpoint cannot reach its database; retry later";

/// How a PostgreSQL error reads to a Flight SQL client.
fn db_status(error: sqlx::Error) -> Status {
    match &error {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.to_string()).unwrap_or_default();
            let message = db.message().to_string();
            match code.as_str() {
                "57014" => Status::deadline_exceeded(format!(
                    "the query ran longer than analytics.flight_statement_timeout and was cancelled: {message}"
                )),
                "25006" | "42501" => Status::permission_denied(format!("read-only SQL endpoint: {message}")),
                c if c.starts_with("42") || c.starts_with("22") || c.starts_with("0A") || c.starts_with("21") => {
                    Status::invalid_argument(message)
                }
                "28000" | "28P01" => {
                    tracing::error!(code = %code, "the flight sql reader role cannot log in");
                    Status::unavailable(UNREACHABLE)
                }
                _ => db_failure(format_args!("{code}: {message}"), None),
            }
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => {
            db_failure(&error, Some(UNREACHABLE))
        }
        _ => db_failure(&error, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reader_url_swaps_the_user() {
        let url = reader_url("postgres://svc:secret@db:5432/redress?sslmode=require", None).unwrap();
        assert_eq!(url, "postgres://redress_analytics_reader@db:5432/redress?sslmode=require");
        assert_eq!(reader_url("postgres://a@b/c", Some("postgres://r:p@b/c")).unwrap(), "postgres://r:p@b/c");
    }
}
