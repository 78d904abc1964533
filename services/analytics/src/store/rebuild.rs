//! Emptying the reporting tables for a rebuild from event 0 (the use case is
//! [`crate::app::rebuild`]).
//!
//! In one transaction: the consumer's lease is handed to a placeholder holder until one lease
//! period from now, its cursor is rewound to 0 (`redress_kit::consumer::rewind`), its parked
//! events are forgotten (the replay parks again any that still fails), and every reporting
//! table is emptied. Touching the cursor row first waits for a batch in flight to commit, so
//! nothing it wrote survives the emptying.

use chrono::{DateTime, Utc};
use redress_kit::db::{Txn, statement};
use sea_orm::ConnectionTrait;

use super::CONSUMER;
use crate::error::Error;

/// The holder name a rebuild leaves on the cursor.
pub const REBUILD_HOLDER: &str = "rebuild";

/// Every reporting table, emptied by a rebuild.
pub const TABLES: [&str; 4] = ["event_facts", "case_facts", "sla_clock_facts", "escalation_facts"];

/// Inside `txn`: hands the consumer's lease to [`REBUILD_HOLDER`] until `until`, rewinds its
/// cursor to 0, forgets its parked events and empties the reporting tables.
pub async fn reset(txn: &Txn, until: DateTime<Utc>) -> Result<(), Error> {
    let hand_over = statement(
        txn.get_database_backend(),
        "UPDATE event_consumers SET holder = $1, lease_expires = $2 WHERE name = $3",
        [REBUILD_HOLDER.into(), until.into(), CONSUMER.into()],
    );
    txn.execute_raw(hand_over).await?;
    redress_kit::consumer::rewind(txn, CONSUMER, 0).await?;
    // The replay meets every parked event again: one that still fails is parked again.
    redress_kit::consumer::parked::forget(txn, CONSUMER).await?;
    for table in TABLES {
        txn.execute_unprepared(&format!("DELETE FROM {table}")).await?;
    }
    Ok(())
}
