//! The loops that drive the index: workers that sleep until the next deadline (woken early
//! when an earlier one is scheduled), claim bounded batches and fire them; a reaper for claims
//! whose worker died; and a guardian that rebuilds the index from the database when it was
//! lost (Redis emptied or restarted) or a schedule failed.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{Claimed, TimerIndex, TimerKey, now_ms};
use crate::store::Store;
use crate::store::entities::clocks;

/// How workers claim.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The most members taken at once.
    pub batch: usize,
    /// How long a claim stays hidden before the reaper returns it.
    pub visibility: Duration,
    /// The longest a worker sleeps without looking, a safety net behind the wake-ups.
    pub max_sleep: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self { batch: 256, visibility: Duration::from_secs(30), max_sleep: Duration::from_secs(5) }
    }
}

/// What a worker does with what it claims; returns the members to acknowledge.
#[async_trait::async_trait]
pub trait Act: Send + Sync + 'static {
    /// Acts on claimed members.
    async fn act(&self, claimed: &[Claimed]) -> Vec<String>;
}

#[async_trait::async_trait]
impl Act for crate::fire::Firer {
    async fn act(&self, claimed: &[Claimed]) -> Vec<String> {
        self.fire(claimed).await
    }
}

/// Runs one worker until `shutdown`.
pub async fn run_worker(
    index: Arc<dyn TimerIndex>,
    act: Arc<dyn Act>,
    options: WorkerOptions,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut failures = 0u32;
    while !shutdown.is_cancelled() {
        let now = now_ms();
        match index.claim(now, options.batch, options.visibility).await {
            Ok(claimed) if !claimed.is_empty() => {
                failures = 0;
                let done = act.act(&claimed).await;
                if let Err(e) = index.ack(&done).await {
                    tracing::warn!(
                        error = format!("{e:#}"),
                        "acknowledging timers failed; the reaper will return them"
                    );
                }
                continue;
            }
            Ok(_) => failures = 0,
            Err(e) => {
                failures += 1;
                tracing::warn!(error = format!("{e:#}"), failures, "claiming timers failed");
                let pause = Duration::from_millis(100 * u64::from(failures.min(30)));
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(pause) => continue,
                }
            }
        }
        let cap = now + options.max_sleep.as_millis() as i64;
        let until = match index.next_due().await {
            Ok(Some(due)) => due.min(cap),
            Ok(None) => cap,
            Err(_) => now + 200,
        };
        if until <= now_ms() {
            continue;
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = index.wait(until) => {}
        }
    }
    Ok(())
}

/// Returns expired claims until `shutdown`.
pub async fn run_reaper(
    index: Arc<dyn TimerIndex>,
    visibility: Duration,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let every = (visibility / 2).max(Duration::from_millis(100));
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            () = tokio::time::sleep(every) => {}
        }
        match index.reap(now_ms(), 1000).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(returned = n, "returned timers whose worker stopped"),
            Err(e) => tracing::warn!(error = format!("{e:#}"), "reaping timers failed"),
        }
    }
}

/// Schedules every clock that has a next deadline, a page at a time.
pub async fn rebuild(store: &Store, index: &dyn TimerIndex) -> anyhow::Result<u64> {
    let mut after: Option<(uuid::Uuid, i32)> = None;
    let mut total = 0u64;
    loop {
        let mut query = clocks::Entity::find().filter(clocks::Column::NextFire.is_not_null());
        if let Some((case_id, kind)) = after {
            query = query.filter(sea_orm::Condition::any().add(clocks::Column::CaseId.gt(case_id)).add(
                sea_orm::Condition::all().add(clocks::Column::CaseId.eq(case_id)).add(clocks::Column::Kind.gt(kind)),
            ));
        }
        let rows = query
            .order_by_asc(clocks::Column::CaseId)
            .order_by_asc(clocks::Column::Kind)
            .limit(5000)
            .all(&store.db)
            .await?;
        let Some(last) = rows.last() else { break };
        after = Some((last.case_id, last.kind));
        let timers: Vec<(String, i64)> = rows
            .iter()
            .filter_map(|r| {
                let key = TimerKey { case_id: r.case_id, clock: r.kind as u8, generation: r.generation as u32 };
                r.next_fire.map(|at| (key.encode(), at))
            })
            .collect();
        total += timers.len() as u64;
        index.schedule(&timers).await?;
    }
    index.mark_built().await?;
    Ok(total)
}

/// Builds the index at start, then rebuilds it whenever it is found lost or a schedule failed.
pub async fn run_guardian(
    store: Arc<Store>,
    index: Arc<dyn TimerIndex>,
    rebuild_now: Arc<Notify>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut needed = true;
    loop {
        if needed {
            match rebuild(&store, index.as_ref()).await {
                Ok(n) => {
                    tracing::info!(timers = n, "timer index built from the database");
                    needed = false;
                }
                Err(e) => tracing::warn!(error = format!("{e:#}"), "building the timer index failed; retrying"),
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            () = rebuild_now.notified() => needed = true,
            () = tokio::time::sleep(Duration::from_secs(1)) => {
                match index.intact().await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!("the timer index lost its data; rebuilding it from the database");
                        needed = true;
                    }
                    Err(e) => tracing::debug!(error = %e, "checking the timer index failed"),
                }
            }
        }
    }
}
