//! The sequencer task: numbers committed events, one pass at a time (the pass itself is
//! [`crate::store::log::sequence_pass`]), woken by writers.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::App;
use crate::store::log::{BATCH, PASS_GAP};

/// Runs the sequencer until `shutdown`: woken by writers, and once a second in case a wake-up
/// was lost (a writer in another process, a failed pass).
pub async fn run(app: Arc<App>, shutdown: CancellationToken) -> anyhow::Result<()> {
    let store = app.store();
    let mut failures = 0u32;
    loop {
        let started = Instant::now();
        match store.sequence().await {
            Ok(n) if n == BATCH => continue,
            Ok(_) => failures = 0,
            Err(e) => {
                failures += 1;
                tracing::warn!(error = %e, failures, "sequencing events failed");
                let pause = Duration::from_millis(50 * u64::from(failures.min(20)));
                tokio::select! {
                    () = shutdown.cancelled() => return Ok(()),
                    () = tokio::time::sleep(pause) => continue,
                }
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            () = store.log().woken() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        // Writers committing while a pass runs are numbered together by the next one.
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            () = tokio::time::sleep_until(started + PASS_GAP) => {}
        }
    }
}
