//! The loops that drive the index: workers that sleep until the next deadline (woken early
//! when an earlier one is scheduled), claim bounded batches and fire them; a reaper for claims
//! whose worker died; and a guardian that rebuilds the index from the database when it was
//! lost (Redis emptied or restarted) or a schedule failed.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::health::Health;
use super::{Claimed, TimerIndex, TimerKey, now_ms};
use crate::store::Store;

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
impl Act for crate::app::fire::Firer {
    async fn act(&self, claimed: &[Claimed]) -> Vec<String> {
        self.fire(claimed).await
    }
}

/// Where workers find due clocks while the index cannot be reached.
#[derive(Clone)]
pub struct Fallback {
    /// The database, the truth of every clock.
    pub store: Arc<Store>,
    /// Whether the index answers.
    pub health: Arc<Health>,
    /// How often the database is polled while the index is down.
    pub poll: Duration,
}

/// Runs one worker until `shutdown`. With a `fallback`, a claim that fails marks the index
/// down, and while it is down due clocks are claimed from the database every `poll`.
pub async fn run_worker(
    index: Arc<dyn TimerIndex>,
    act: Arc<dyn Act>,
    options: WorkerOptions,
    fallback: Option<Fallback>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut failures = 0u32;
    while !shutdown.is_cancelled() {
        if let Some(fallback) = fallback.as_ref().filter(|f| f.health.is_down()) {
            from_database(fallback, act.as_ref(), &options, &shutdown).await;
            continue;
        }
        // With a fallback, an index that fails is taken to be down: the next round reads the
        // database rather than retrying Redis.
        let down = |e: &anyhow::Error| {
            fallback.as_ref().is_some_and(|f| {
                f.health.mark_down(e);
                true
            })
        };
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
            Err(e) if down(&e) => continue,
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
            Err(e) if down(&e) => continue,
            Err(_) => now + 200,
        };
        if until <= now_ms() {
            continue;
        }
        let went_down = async {
            match &fallback {
                Some(fallback) => fallback.health.until(true).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = index.wait(until) => {}
            () = went_down => {}
        }
    }
    Ok(())
}

/// One round while the index is down: fires what the database says is due, or waits a poll
/// (less if the index comes back).
async fn from_database(fallback: &Fallback, act: &dyn Act, options: &WorkerOptions, shutdown: &CancellationToken) {
    match fallback.store.claim_due_clocks(now_ms(), options.batch, options.visibility).await {
        Ok(claimed) if !claimed.is_empty() => {
            // Nothing to acknowledge: firing a clock writes its next deadline to its row.
            act.act(&claimed).await;
            return;
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "claiming due clocks from the database failed"),
    }
    tokio::select! {
        () = shutdown.cancelled() => {}
        () = tokio::time::sleep(fallback.poll) => {}
        () = fallback.health.until(false) => {}
    }
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
        let page = store.deadlines(after, 5000).await?;
        let Some(last) = page.last() else { break };
        after = Some((last.case_id, last.kind));
        let timers: Vec<(String, i64)> = page
            .iter()
            .map(|d| {
                let key = TimerKey { case_id: d.case_id, clock: d.kind as u8, generation: d.generation as u32 };
                (key.encode(), d.next_fire)
            })
            .collect();
        total += timers.len() as u64;
        index.schedule(&timers).await?;
    }
    index.mark_built().await?;
    Ok(total)
}

/// Builds the index at start, then rebuilds it whenever it is found lost or a schedule failed.
/// Every second it probes the index: one that does not answer is marked down (workers turn to
/// the database); one that answers again is marked up and rebuilt, since the clocks fired and
/// scheduled meanwhile are only in the database.
pub async fn run_guardian(
    store: Arc<Store>,
    index: Arc<dyn TimerIndex>,
    health: Arc<Health>,
    rebuild_now: Arc<Notify>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut needed = true;
    loop {
        if needed && !health.is_down() {
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
                    Ok(true) => needed |= health.mark_up(),
                    Ok(false) => {
                        health.mark_up();
                        tracing::warn!("the timer index lost its data; rebuilding it from the database");
                        needed = true;
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "probing the timer index failed");
                        health.mark_down(&e);
                    }
                }
            }
        }
    }
}
