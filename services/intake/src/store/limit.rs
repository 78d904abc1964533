//! The per-tenant rate limit: a token bucket of `burst` tokens refilled at `rate` per
//! second, one token per submission.
//!
//! With Redis the bucket is one hash per tenant, read and written by one Lua script with
//! Redis's own clock, so every replica draws from the same bucket and no two replicas'
//! clocks need to agree. Without Redis (the embedded mode) the bucket lives in the process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;
use redress_kit::TenantId;

use crate::error::Error;

/// Takes one token from the bucket in KEYS[1] (ARGV rate in tokens per second, burst) into
/// `taken` (1 or 0) and `wait` (microseconds until a token is due), with Redis's clock.
macro_rules! take_token {
    () => {
        r#"
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000000)
end
local taken = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  taken = 1
else
  wait = math.ceil((1 - tokens) * 1000000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', string.format('%d', math.max(now, at)))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
"#
    };
}
pub(crate) use take_token;

/// Takes one token: returns {1, 0} when taken, {0, microseconds until one is due} when empty.
const TAKE: &str = concat!(take_token!(), "return {taken, wait}\n");

/// The rate limit of submissions per tenant.
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    backend: Backend,
}

enum Backend {
    Redis { connection: ConnectionManager, prefix: String, script: redis::Script },
    Local(Mutex<HashMap<TenantId, Bucket>>),
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets kept in process before full ones are forgotten.
const LOCAL_BUCKETS: usize = 10_000;

impl RateLimiter {
    /// A limiter shared by every replica through Redis; keys start with `prefix`.
    pub fn redis(connection: ConnectionManager, prefix: &str, rate: f64, burst: u32) -> Self {
        let backend =
            Backend::Redis { connection, prefix: format!("{prefix}:intake:rate:"), script: redis::Script::new(TAKE) };
        RateLimiter { rate, burst: f64::from(burst), backend }
    }

    /// A limiter of this process alone.
    pub fn local(rate: f64, burst: u32) -> Self {
        RateLimiter { rate, burst: f64::from(burst), backend: Backend::Local(Mutex::new(HashMap::new())) }
    }

    /// The Redis bucket of `tenant` with the rate and burst, for scripts that take a token
    /// as part of something else; `None` for a limiter in process.
    pub(crate) fn redis_bucket(&self, tenant: &TenantId) -> Option<(String, f64, f64)> {
        match &self.backend {
            Backend::Redis { prefix, .. } => Some((format!("{prefix}{{{tenant}}}"), self.rate, self.burst)),
            Backend::Local(_) => None,
        }
    }

    /// Takes a token for `tenant`, or says how long until one is due.
    pub async fn take(&self, tenant: &TenantId) -> Result<(), Error> {
        let wait = match &self.backend {
            Backend::Redis { connection, prefix, script } => {
                let mut connection = connection.clone();
                let (taken, wait_micros): (i64, i64) = script
                    .key(format!("{prefix}{{{tenant}}}"))
                    .arg(self.rate)
                    .arg(self.burst)
                    .invoke_async(&mut connection)
                    .await?;
                if taken == 1 { None } else { Some(Duration::from_micros(wait_micros.max(1) as u64)) }
            }
            Backend::Local(buckets) => self.take_local(buckets, tenant, Instant::now()),
        };
        match wait {
            None => Ok(()),
            Some(retry_after) => Err(Error::RateLimited { retry_after }),
        }
    }

    fn take_local(
        &self,
        buckets: &Mutex<HashMap<TenantId, Bucket>>,
        tenant: &TenantId,
        now: Instant,
    ) -> Option<Duration> {
        let mut buckets = buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= LOCAL_BUCKETS && !buckets.contains_key(tenant) {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(tenant.clone()).or_insert(Bucket { tokens: self.burst, at: now });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.at = bucket.at.max(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            None
        } else {
            Some(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate).max(Duration::from_micros(1)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_bucket_allows_a_burst_then_the_rate() {
        let limiter = RateLimiter::local(2.0, 3);
        let Backend::Local(buckets) = &limiter.backend else { unreachable!() };
        let (acme, globex) = (TenantId::parse("acme").unwrap(), TenantId::parse("globex").unwrap());
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.take_local(buckets, &acme, start), None);
        }
        let wait = limiter.take_local(buckets, &acme, start).expect("the burst is spent");
        assert!(wait > Duration::from_millis(490) && wait <= Duration::from_millis(500), "{wait:?}");
        assert_eq!(limiter.take_local(buckets, &globex, start), None, "each tenant has its own bucket");
        assert_eq!(limiter.take_local(buckets, &acme, start + Duration::from_millis(500)), None);
        assert!(limiter.take_local(buckets, &acme, start + Duration::from_millis(600)).is_some());
        assert_eq!(limiter.take_local(buckets, &acme, start + Duration::from_secs(60)), None);
    }
}
