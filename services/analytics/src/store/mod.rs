//! The reporting tables: writing folded events into them, the reports' queries, the export,
//! and the rebuild from event 0. Raw SQL over sea-orm's connection, written once for
//! PostgreSQL's `$n` placeholders and rewritten to SQLite's `?n` by the kit.

pub mod export;
pub mod ingest;
pub mod rebuild;
pub mod recurring;
pub mod reports;
pub mod views;

use redress_kit::db::{Db, statement};
use sea_orm::{ConnectionTrait, DatabaseBackend, QueryResult, Value};

pub use crate::domain::query::Range;
use crate::error::Error;

/// The name of the analytics service's event consumer: its cursor and lease.
pub const CONSUMER: &str = "analytics";

/// The reporting store.
#[derive(Clone)]
pub struct Store {
    db: Db,
}

impl Store {
    /// The store over the service's migrated database.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Which database it is.
    pub fn backend(&self) -> DatabaseBackend {
        self.db.get_database_backend()
    }

    /// Every row of a query.
    ///
    /// On PostgreSQL the query is planned for its actual values every time. Statements are
    /// prepared and cached per connection, and after five runs PostgreSQL would switch to a
    /// generic plan that cannot see the time range: it guesses a range selects 0.5% of a
    /// tenant's cases and picks nested loops that take several times as long when the range
    /// covers most of them (GetSlaCompliance over a million cases: 5.5 s instead of 1.1 s).
    pub async fn rows(&self, text: &str, values: Vec<Value>) -> Result<Vec<QueryResult>, Error> {
        let backend = self.backend();
        if backend != DatabaseBackend::Postgres {
            return Ok(self.db.query_all_raw(statement(backend, text, values)).await?);
        }
        let txn = redress_kit::db::begin_write(&self.db).await?;
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan").await?;
        let rows = txn.query_all_raw(statement(backend, text, values)).await?;
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
    ) -> Result<Vec<(String, f64)>, Error> {
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
        rows.iter().map(|r| Ok((text(r, 0)?, r.try_get_by_index::<f64>(1)?))).collect()
    }
}

/// Column `i` of a row as text; NULL reads as empty.
pub(crate) fn text(row: &QueryResult, i: usize) -> Result<String, Error> {
    Ok(row.try_get_by_index::<Option<String>>(i)?.unwrap_or_default())
}

/// Column `i` of a row as a whole number; NULL reads as 0.
pub(crate) fn int(row: &QueryResult, i: usize) -> Result<i64, Error> {
    Ok(row.try_get_by_index::<Option<i64>>(i)?.unwrap_or_default())
}
