//! The index of SLA deadlines: which clock fires when.
//!
//! The truth of every clock is its row in the database; the index only says when to look at
//! it. A member names a clock and the generation of its deadlines, so a member left over from
//! before a pause, a reset or a met clock is recognised as stale when it fires and is dropped.
//! Workers claim due members atomically, act, then acknowledge; a claim not acknowledged within
//! its visibility timeout is returned by the reaper. In production the index lives in Redis
//! ([`redis::RedisIndex`]); in the single-process embedded mode an in-process index
//! ([`memory::MemoryIndex`]) stands behind the same trait.

pub mod health;
pub mod memory;
pub mod redis;
pub mod worker;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

/// A due member taken by a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The member.
    pub member: String,
    /// When it was due, in milliseconds since the epoch.
    pub due_ms: i64,
}

/// The index of deadlines.
#[async_trait::async_trait]
pub trait TimerIndex: Send + Sync + 'static {
    /// Adds or moves members to fire at their times (milliseconds since the epoch).
    async fn schedule(&self, timers: &[(String, i64)]) -> anyhow::Result<()>;
    /// Removes members that are no longer wanted.
    async fn cancel(&self, members: &[String]) -> anyhow::Result<()>;
    /// Takes up to `limit` members due at `now_ms`, hiding them for `visibility`.
    async fn claim(&self, now_ms: i64, limit: usize, visibility: Duration) -> anyhow::Result<Vec<Claimed>>;
    /// Acknowledges members that were acted on.
    async fn ack(&self, members: &[String]) -> anyhow::Result<()>;
    /// Returns claims whose visibility timeout passed to the due set; how many.
    async fn reap(&self, now_ms: i64, limit: usize) -> anyhow::Result<usize>;
    /// The earliest due time, if any member is pending.
    async fn next_due(&self) -> anyhow::Result<Option<i64>>;
    /// Sleeps until `until_ms`, or less when a member due earlier is scheduled.
    async fn wait(&self, until_ms: i64);
    /// Whether the index still holds what was built into it (false after Redis lost its data).
    async fn intact(&self) -> anyhow::Result<bool>;
    /// Records that the index was (re)built from the database.
    async fn mark_built(&self) -> anyhow::Result<()>;
    /// Members pending or claimed.
    async fn pending(&self) -> anyhow::Result<u64>;
}

/// A clock's place in the index: the case, the clock kind and the generation of its deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerKey {
    /// The case.
    pub case_id: Uuid,
    /// The clock kind (`SlaClockKind` number).
    pub clock: u8,
    /// The generation of the clock's deadlines.
    pub generation: u32,
}

impl TimerKey {
    /// The member: 21 bytes in URL-safe base64, 28 characters, to keep Redis memory small.
    pub fn encode(&self) -> String {
        let mut bytes = [0u8; 21];
        bytes[..16].copy_from_slice(self.case_id.as_bytes());
        bytes[16] = self.clock;
        bytes[17..].copy_from_slice(&self.generation.to_be_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Reads a member; `None` if it is not one.
    pub fn decode(member: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(member).ok()?;
        if bytes.len() != 21 {
            return None;
        }
        let case_id = Uuid::from_slice(&bytes[..16]).ok()?;
        let generation = u32::from_be_bytes(bytes[17..21].try_into().ok()?);
        Some(Self { case_id, clock: bytes[16], generation })
    }
}

/// Milliseconds since the epoch now.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_round_trip() {
        let key = TimerKey { case_id: Uuid::now_v7(), clock: 3, generation: 70_000 };
        let member = key.encode();
        assert_eq!(member.len(), 28);
        assert_eq!(TimerKey::decode(&member), Some(key));
        assert_eq!(TimerKey::decode("nope"), None);
    }
}
