//! Rebuilding the reporting tables from event 0, for an operator command.
//!
//! One transaction empties the tables and rewinds the consumer ([`store::rebuild::reset`]).
//! The replica that held the lease notices on its next batch (its cursor no longer advances:
//! the lease is not its own) or on its next heartbeat (the lease is taken and not yet expired),
//! and stands by. When the placeholder's lease expires, the next lease holder streams the log
//! again from the start. As a last guard, the consumer refuses a batch that does not follow the
//! stored cursor, which ends a session that slipped past both. The same events fold into the
//! same rows, so reports match.

use std::time::Duration;

use redress_kit::db::begin_write;

use crate::error::Error;
use crate::store::{self, CONSUMER, Store};

/// Empties the reporting tables and rewinds the consumer to event 0; the consumer replays the
/// log into them once `lease` (the consumer's lease period) has passed. A transient database
/// failure is retried a few times.
pub async fn rebuild(store: &Store, lease: Duration) -> Result<(), Error> {
    let mut attempt = 0;
    loop {
        match rebuild_once(store, lease).await {
            Err(e) if attempt < 5 && e.retryable() => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
            }
            other => return other,
        }
    }
}

async fn rebuild_once(store: &Store, lease: Duration) -> Result<(), Error> {
    let until = redress_kit::time::now() + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(15));
    let txn = begin_write(store.db()).await?;
    store::rebuild::reset(&txn, until).await?;
    txn.commit().await?;
    tracing::info!(consumer = CONSUMER, "reporting tables emptied; the case log replays from event 0");
    Ok(())
}
