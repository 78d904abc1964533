//! The index in Redis: sorted sets scored by due time, sharded with hash tags so they spread
//! across a Redis Cluster.
//!
//! Shard `s` has two keys with the same hash tag, `{prefix}:{timers:s}:due` and
//! `{prefix}:{timers:s}:inflight`, so each Lua script touches one slot. Claiming moves due
//! members to the in-flight set scored by their visibility deadline, atomically; the reaper
//! moves expired claims back. Scheduling publishes the earliest new due time on
//! `{prefix}:timers:wake`, so sleeping workers wake early for it. `{prefix}:timers:epoch` is set
//! when the index is built from the database; when it is gone, Redis lost its data.

use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt;
use redis::aio::ConnectionManager;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{Claimed, TimerIndex, now_ms};

/// The number of shards: enough to spread over a cluster's nodes.
pub const SHARDS: usize = 16;

/// The longest a claim, acknowledgement, probe or read may take: past it Redis counts as
/// unreachable, so a dead or hung Redis is noticed within this, not the connection's own
/// reconnection backoff.
pub const CALL_TIMEOUT: Duration = Duration::from_millis(500);

/// The longest a write of many members (a schedule, a page of a rebuild) may take.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs one call to Redis within `limit`.
async fn within<T>(
    limit: Duration,
    what: &'static str,
    call: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(limit, call).await {
        Ok(result) => result.context(what),
        Err(_) => Err(anyhow::anyhow!("{what}: redis did not answer within {} ms", limit.as_millis())),
    }
}

const CLAIM: &str = r"
local items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
for i = 1, #items, 2 do
  redis.call('ZREM', KEYS[1], items[i])
  redis.call('ZADD', KEYS[2], ARGV[3], items[i])
end
return items
";

const REAP: &str = r"
local items = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for i = 1, #items do
  redis.call('ZREM', KEYS[2], items[i])
  redis.call('ZADD', KEYS[1], 'NX', ARGV[1], items[i])
end
return #items
";

/// Deadlines in Redis.
pub struct RedisIndex {
    connection: ConnectionManager,
    prefix: String,
    claim: redis::Script,
    reap: redis::Script,
    /// The latest due time announced by a scheduler, here or in another process.
    announced: watch::Sender<i64>,
}

impl RedisIndex {
    /// An index under `prefix` on `connection`; `client` opens the subscription that wakes
    /// workers when another process schedules an earlier deadline.
    pub async fn new(
        client: redis::Client,
        connection: ConnectionManager,
        prefix: &str,
        shutdown: CancellationToken,
    ) -> anyhow::Result<std::sync::Arc<Self>> {
        let index = std::sync::Arc::new(Self {
            connection,
            prefix: prefix.to_string(),
            claim: redis::Script::new(CLAIM),
            reap: redis::Script::new(REAP),
            announced: watch::Sender::new(i64::MAX),
        });
        let listener = index.clone();
        tokio::spawn(async move { listener.listen(client, shutdown).await });
        Ok(index)
    }

    fn due_key(&self, shard: usize) -> String {
        format!("{}:{{timers:{shard}}}:due", self.prefix)
    }

    fn inflight_key(&self, shard: usize) -> String {
        format!("{}:{{timers:{shard}}}:inflight", self.prefix)
    }

    fn epoch_key(&self) -> String {
        format!("{}:timers:epoch", self.prefix)
    }

    fn channel(&self) -> String {
        format!("{}:timers:wake", self.prefix)
    }

    /// The shard a member lives in (FNV-1a over its bytes).
    pub fn shard(member: &str) -> usize {
        let mut hash: u32 = 0x811c_9dc5;
        for byte in member.bytes() {
            hash ^= u32::from(byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
        hash as usize % SHARDS
    }

    fn by_shard<T>(items: &[T], member: impl Fn(&T) -> &str) -> Vec<Vec<&T>> {
        let mut shards: Vec<Vec<&T>> = (0..SHARDS).map(|_| Vec::new()).collect();
        for item in items {
            shards[Self::shard(member(item))].push(item);
        }
        shards
    }

    async fn listen(&self, client: redis::Client, shutdown: CancellationToken) {
        loop {
            let subscribed = async {
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(self.channel()).await?;
                let mut messages = pubsub.into_on_message();
                while let Some(message) = messages.next().await {
                    if let Ok(due) = message.get_payload::<i64>() {
                        self.announce(due);
                    }
                }
                Ok::<(), redis::RedisError>(())
            };
            tokio::select! {
                () = shutdown.cancelled() => return,
                result = subscribed => {
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "timer wake-up subscription failed; resubscribing");
                    }
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    }

    /// Removes `members` from the sorted set `key` names for their shard, within `limit`.
    async fn remove(
        &self,
        members: &[String],
        key: impl Fn(usize) -> String,
        limit: Duration,
        what: &'static str,
    ) -> anyhow::Result<()> {
        if members.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for (shard, items) in Self::by_shard(members, |m| m.as_str()).into_iter().enumerate() {
            if !items.is_empty() {
                pipe.cmd("ZREM").arg(key(shard)).arg(items).ignore();
            }
        }
        let mut connection = self.connection.clone();
        within(limit, what, pipe.query_async::<()>(&mut connection)).await
    }

    fn announce(&self, due: i64) {
        self.announced.send_replace(due);
    }
}

#[async_trait::async_trait]
impl TimerIndex for RedisIndex {
    async fn schedule(&self, timers: &[(String, i64)]) -> anyhow::Result<()> {
        if timers.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for (shard, items) in Self::by_shard(timers, |t| t.0.as_str()).into_iter().enumerate() {
            if items.is_empty() {
                continue;
            }
            let mut zadd = redis::cmd("ZADD");
            zadd.arg(self.due_key(shard));
            for (member, due) in items {
                zadd.arg(*due).arg(member);
            }
            pipe.add_command(zadd).ignore();
        }
        let earliest = timers.iter().map(|t| t.1).min().unwrap_or(i64::MAX);
        pipe.cmd("PUBLISH").arg(self.channel()).arg(earliest).ignore();
        let mut connection = self.connection.clone();
        within(WRITE_TIMEOUT, "scheduling timers", pipe.query_async::<()>(&mut connection)).await?;
        self.announce(earliest);
        Ok(())
    }

    async fn cancel(&self, members: &[String]) -> anyhow::Result<()> {
        self.remove(members, |shard| self.due_key(shard), WRITE_TIMEOUT, "cancelling timers").await
    }

    async fn claim(&self, now: i64, limit: usize, visibility: Duration) -> anyhow::Result<Vec<Claimed>> {
        let per_shard = limit.div_ceil(SHARDS).max(1);
        let deadline = now + visibility.as_millis() as i64;
        let calls = (0..SHARDS).map(|shard| {
            let mut connection = self.connection.clone();
            let mut invocation = self.claim.prepare_invoke();
            invocation.key(self.due_key(shard)).key(self.inflight_key(shard)).arg(now).arg(per_shard).arg(deadline);
            async move { invocation.invoke_async::<Vec<(String, i64)>>(&mut connection).await }
        });
        let mut claimed = Vec::new();
        let results =
            within(CALL_TIMEOUT, "claiming timers", async { Ok(futures::future::join_all(calls).await) }).await?;
        for result in results {
            for (member, due_ms) in result.context("claiming timers")? {
                claimed.push(Claimed { member, due_ms });
            }
        }
        claimed.sort_by_key(|c| c.due_ms);
        Ok(claimed)
    }

    async fn ack(&self, members: &[String]) -> anyhow::Result<()> {
        self.remove(members, |shard| self.inflight_key(shard), CALL_TIMEOUT, "acknowledging timers").await
    }

    async fn reap(&self, now: i64, limit: usize) -> anyhow::Result<usize> {
        let mut total = 0;
        for shard in 0..SHARDS {
            let mut connection = self.connection.clone();
            let mut invocation = self.reap.prepare_invoke();
            invocation.key(self.due_key(shard)).key(self.inflight_key(shard)).arg(now).arg(limit);
            let n: usize = within(CALL_TIMEOUT, "reaping timers", invocation.invoke_async(&mut connection)).await?;
            total += n;
        }
        Ok(total)
    }

    async fn next_due(&self) -> anyhow::Result<Option<i64>> {
        let mut pipe = redis::pipe();
        for shard in 0..SHARDS {
            pipe.cmd("ZRANGE").arg(self.due_key(shard)).arg(0).arg(0).arg("WITHSCORES");
        }
        let mut connection = self.connection.clone();
        let firsts: Vec<Vec<(String, i64)>> =
            within(CALL_TIMEOUT, "reading the next deadline", pipe.query_async(&mut connection)).await?;
        Ok(firsts.into_iter().flatten().map(|(_, due)| due).min())
    }

    async fn wait(&self, until_ms: i64) {
        let mut announced = self.announced.subscribe();
        announced.borrow_and_update();
        let sleep = tokio::time::sleep(Duration::from_millis((until_ms - now_ms()).max(0) as u64));
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => return,
                changed = announced.changed() => {
                    if changed.is_err() || *announced.borrow_and_update() < until_ms {
                        return;
                    }
                }
            }
        }
    }

    async fn intact(&self) -> anyhow::Result<bool> {
        let mut connection = self.connection.clone();
        let mut exists = redis::cmd("EXISTS");
        exists.arg(self.epoch_key());
        let exists: bool = within(CALL_TIMEOUT, "probing the index", exists.query_async(&mut connection)).await?;
        Ok(exists)
    }

    async fn mark_built(&self) -> anyhow::Result<()> {
        let mut connection = self.connection.clone();
        let epoch = uuid::Uuid::now_v7().to_string();
        let mut set = redis::cmd("SET");
        set.arg(self.epoch_key()).arg(epoch);
        within(WRITE_TIMEOUT, "marking the index built", set.query_async::<()>(&mut connection)).await?;
        Ok(())
    }

    async fn pending(&self) -> anyhow::Result<u64> {
        let mut pipe = redis::pipe();
        for shard in 0..SHARDS {
            pipe.cmd("ZCARD").arg(self.due_key(shard));
            pipe.cmd("ZCARD").arg(self.inflight_key(shard));
        }
        let mut connection = self.connection.clone();
        let counts: Vec<u64> = within(CALL_TIMEOUT, "counting timers", pipe.query_async(&mut connection)).await?;
        Ok(counts.into_iter().sum())
    }
}
