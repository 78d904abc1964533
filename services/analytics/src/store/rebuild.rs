//! Rebuilding the reporting tables from event 0.
//!
//! In one transaction: the consumer's lease is handed to a placeholder holder until one lease
//! period from now, its cursor is rewound to 0 (`redress_kit::consumer::rewind`), its parked
//! events are forgotten (the replay parks again any that still fails), and every reporting
//! table is emptied. Touching the cursor row first waits for a batch in flight to
//! commit, so nothing it wrote survives the emptying.
//!
//! The replica that held the lease notices on its next batch (its cursor no longer advances:
//! the lease is not its own) or on its next heartbeat (the lease is taken and not yet expired),
//! and stands by. When the placeholder's lease expires, the next lease holder streams the log
//! again from the start. As a last guard, the handler refuses a batch that does not follow the
//! stored cursor, which ends a session that slipped past both. The same events fold into the
//! same rows, so reports match.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DbErr};

use super::{CONSUMER, Store};

/// The holder name a rebuild leaves on the cursor.
pub const REBUILD_HOLDER: &str = "rebuild";

/// Every reporting table, emptied by a rebuild.
pub const TABLES: [&str; 4] = ["event_facts", "case_facts", "sla_clock_facts", "escalation_facts"];

impl Store {
    /// Empties the reporting tables and rewinds the consumer to event 0; the consumer replays
    /// the log into them once `lease` (the consumer's lease period) has passed.
    pub async fn rebuild(&self, lease: Duration) -> Result<(), DbErr> {
        let mut attempt = 0;
        loop {
            match self.rebuild_once(lease).await {
                Err(e) if attempt < 5 && redress_kit::error::db_retryable(&e) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                }
                other => return other,
            }
        }
    }

    async fn rebuild_once(&self, lease: Duration) -> Result<(), DbErr> {
        let until = chrono::Utc::now() + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(15));
        let txn = redress_kit::db::begin_write(self.db()).await?;
        let hand_over = self.statement(
            "UPDATE event_consumers SET holder = $1, lease_expires = $2 WHERE name = $3",
            vec![REBUILD_HOLDER.into(), until.into(), CONSUMER.into()],
        );
        txn.execute_raw(hand_over).await?;
        redress_kit::consumer::rewind(&txn, CONSUMER, 0).await?;
        // The replay meets every parked event again: one that still fails is parked again.
        redress_kit::consumer::parked::forget(&txn, CONSUMER).await?;
        for table in TABLES {
            txn.execute_unprepared(&format!("DELETE FROM {table}")).await?;
        }
        txn.commit().await?;
        tracing::info!(consumer = CONSUMER, "reporting tables emptied; the case log replays from event 0");
        Ok(())
    }
}
