//! The reporting tables: folding events into them, the reports' queries, the export, and the
//! rebuild from event 0. Raw SQL over sea-orm's connection, written once for PostgreSQL's `$n`
//! placeholders and rewritten to SQLite's `?n`.

pub mod export;
pub mod ingest;
pub mod rebuild;
pub mod recurring;
pub mod reports;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, QueryResult, Statement, Value};

use crate::domain::Micros;

/// The name of the analytics service's event consumer: its cursor and lease.
pub const CONSUMER: &str = "analytics";

/// Statuses that count as finished.
pub const FINISHED: &str = "('CASE_STATUS_RESOLVED', 'CASE_STATUS_CLOSED')";

/// The reporting store.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
}

/// Rewrites `$n` placeholders as SQLite's numbered `?n`.
pub fn placeholders(backend: DatabaseBackend, text: &str) -> String {
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

/// A statement for `backend` from PostgreSQL-style SQL.
pub fn statement(backend: DatabaseBackend, text: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(backend, placeholders(backend, text), values)
}

/// A time range in microseconds, half open: [from, to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// The first instant included.
    pub from: Micros,
    /// The first instant excluded.
    pub to: Micros,
}

impl Range {
    /// All of time.
    pub const ALL: Range = Range { from: i64::MIN, to: i64::MAX };
}

impl Store {
    /// The store over the service's migrated database.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// The database.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Which database it is.
    pub fn backend(&self) -> DatabaseBackend {
        self.db.get_database_backend()
    }

    /// A statement from PostgreSQL-style SQL.
    pub fn statement(&self, text: &str, values: Vec<Value>) -> Statement {
        statement(self.backend(), text, values)
    }

    /// Every row of a query.
    ///
    /// On PostgreSQL the query is planned for its actual values every time. Statements are
    /// prepared and cached per connection, and after five runs PostgreSQL would switch to a
    /// generic plan that cannot see the time range: it guesses a range selects 0.5% of a
    /// tenant's cases and picks nested loops that take several times as long when the range
    /// covers most of them (GetSlaCompliance over a million cases: 5.5 s instead of 1.1 s).
    pub async fn rows(&self, text: &str, values: Vec<Value>) -> Result<Vec<QueryResult>, DbErr> {
        if self.backend() != DatabaseBackend::Postgres {
            return self.db.query_all_raw(self.statement(text, values)).await;
        }
        let txn = redress_kit::db::begin_write(&self.db).await?;
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan").await?;
        let rows = txn.query_all_raw(self.statement(text, values)).await?;
        txn.commit().await?;
        Ok(rows)
    }

    /// The median of `expr` per `group` (or overall when `group` is None) over the rows of
    /// `from_where` (a `FROM … WHERE …` clause whose placeholders `values` fill), ignoring NULLs.
    /// Rows: (group text, median as f64); the group is empty when not grouped.
    pub async fn medians(
        &self,
        expr: &str,
        group: Option<&str>,
        from_where: &str,
        values: Vec<Value>,
    ) -> Result<Vec<(String, f64)>, DbErr> {
        let key = group.unwrap_or("''");
        let sql = match self.backend() {
            DatabaseBackend::Postgres => format!(
                "SELECT {key} AS k, percentile_cont(0.5) WITHIN GROUP (ORDER BY {expr}) AS m \
                 {from_where} AND {expr} IS NOT NULL GROUP BY 1"
            ),
            _ => {
                let partition = group.map(|g| format!("PARTITION BY {g}")).unwrap_or_default();
                format!(
                    "SELECT k, AVG(x) AS m FROM (SELECT {key} AS k, {expr} AS x, \
                     ROW_NUMBER() OVER ({partition} ORDER BY {expr}) AS rn, COUNT(*) OVER ({partition}) AS n \
                     {from_where} AND {expr} IS NOT NULL) AS ranked \
                     WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY k"
                )
            }
        };
        let rows = self.rows(&sql, values).await?;
        rows.iter()
            .map(|r| Ok((r.try_get_by_index::<Option<String>>(0)?.unwrap_or_default(), r.try_get_by_index::<f64>(1)?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_for_sqlite() {
        assert_eq!(placeholders(DatabaseBackend::Sqlite, "a = $1 AND b = $12"), "a = ?1 AND b = ?12");
        assert_eq!(placeholders(DatabaseBackend::Postgres, "a = $1"), "a = $1");
    }
}
