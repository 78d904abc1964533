//! Due clocks straight from the database, for when the index of deadlines cannot be reached.

use std::time::Duration;

use redress_kit::db::statement;
use sea_orm::{ConnectionTrait, DatabaseBackend};

use super::{Store, postgres};
use crate::error::Error;
use crate::timers::{Claimed, TimerKey};

/// Takes up to `limit` clocks due at `now_ms`, earliest first, and hides them for
/// `visibility` by moving their next deadline, as a claim in the index does: replicas polling
/// at the same time skip the rows locked by another (`FOR UPDATE SKIP LOCKED`) and do not see
/// the ones it took; firing a clock writes its real next deadline, and one whose worker died is
/// found again when the visibility passes. The partial index on `next_fire` bounds the search.
const CLAIM: &str = "WITH due AS (
    SELECT case_id, kind, next_fire FROM clocks
    WHERE next_fire IS NOT NULL AND next_fire <= $1
    ORDER BY next_fire
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE clocks SET next_fire = $3 FROM due
WHERE clocks.case_id = due.case_id AND clocks.kind = due.kind
RETURNING clocks.case_id, clocks.kind, clocks.generation, due.next_fire";

impl Store {
    /// Claims due clocks from the database, as members of the index would be claimed. Only
    /// PostgreSQL needs this: the embedded mode's in-process index cannot become unreachable,
    /// so on SQLite it claims nothing.
    pub async fn claim_due_clocks(
        &self,
        now_ms: i64,
        limit: usize,
        visibility: Duration,
    ) -> Result<Vec<Claimed>, Error> {
        if !postgres(&self.db) {
            return Ok(Vec::new());
        }
        let hidden_until = now_ms.saturating_add(i64::try_from(visibility.as_millis()).unwrap_or(i64::MAX));
        let values = [now_ms.into(), (limit.max(1) as i64).into(), hidden_until.into()];
        let rows = self.db.query_all_raw(statement(DatabaseBackend::Postgres, CLAIM, values)).await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let case_id: uuid::Uuid = row.try_get_by_index(0)?;
            let kind: i32 = row.try_get_by_index(1)?;
            let generation: i32 = row.try_get_by_index(2)?;
            let due_ms: i64 = row.try_get_by_index(3)?;
            let key = TimerKey { case_id, clock: kind as u8, generation: generation as u32 };
            claimed.push(Claimed { member: key.encode(), due_ms });
        }
        claimed.sort_by_key(|c| c.due_ms);
        Ok(claimed)
    }
}
