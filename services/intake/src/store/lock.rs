//! Per-customer locks: submissions of one customer of one tenant take turns, so that the
//! decision "join the open case or open a new one" is made with every earlier submission
//! already written.
//!
//! Within a process, a keyed async mutex makes the turns. With Redis, the holder of that
//! mutex also takes a Redis lock shared by every replica (`SET key token NX PX ttl`, the
//! first try in one script with the tenant's rate-limit token), renewed
//! every third of the ttl while held, and released by a Lua compare-and-delete so that a
//! holder whose lock expired never deletes its successor's. A holder checks that it still
//! holds the lock before each change it makes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use redis::aio::ConnectionManager;
use redress_kit::TenantId;
use redress_kit::backoff::Backoff;
use tokio::sync::OwnedMutexGuard;
use tokio_util::sync::CancellationToken;

use super::limit::RateLimiter;
use crate::error::Error;

/// Takes a rate-limit token from the bucket in KEYS[1] (ARGV rate, burst) and, if one was
/// taken, the lock in KEYS[2] (ARGV token, ttl in ms): {1, 0, locked} or {0, wait µs, 0}.
/// Both keys carry the tenant's hash tag, so they live in one Redis Cluster slot.
const TAKE_AND_LOCK: &str = concat!(
    super::limit::take_token!(),
    r#"
if taken == 0 then
  return {0, wait, 0}
end
if redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[4]) then
  return {1, 0, 1}
end
return {1, 0, 0}
"#
);

const RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"#;

const RENEW: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"#;

/// Keyed locks, one per (tenant, customer).
pub struct CustomerLocks {
    local: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
    redis: Option<RedisLocks>,
    wait: Duration,
}

struct RedisLocks {
    connection: ConnectionManager,
    prefix: String,
    ttl: Duration,
    release: redis::Script,
    renew: redis::Script,
    take_and_lock: redis::Script,
}

/// A held customer lock. Release it with [`CustomerLock::release`]; dropping it releases
/// it in the background.
pub struct CustomerLock {
    // Dropped first: the Redis lock goes before the turn within the process.
    redis: Option<HeldRedisLock>,
    _local: OwnedMutexGuard<()>,
}

struct HeldRedisLock {
    connection: ConnectionManager,
    key: String,
    token: String,
    release: redis::Script,
    lost: Arc<AtomicBool>,
    renewal: CancellationToken,
    released: bool,
}

/// Local entries kept before the unused ones are swept.
const SWEEP_AT: usize = 4096;

impl CustomerLocks {
    /// Locks of this process alone, for the embedded mode.
    pub fn local(wait: Duration) -> Self {
        CustomerLocks { local: Mutex::new(HashMap::new()), redis: None, wait }
    }

    /// Locks shared by every replica through Redis; keys start with `prefix`.
    pub fn redis(connection: ConnectionManager, prefix: &str, ttl: Duration, wait: Duration) -> Self {
        let redis = RedisLocks {
            connection,
            prefix: format!("{prefix}:intake:lock:"),
            ttl,
            release: redis::Script::new(RELEASE),
            renew: redis::Script::new(RENEW),
            take_and_lock: redis::Script::new(TAKE_AND_LOCK),
        };
        CustomerLocks { local: Mutex::new(HashMap::new()), redis: Some(redis), wait }
    }

    fn local_mutex(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.local.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(existing) = map.get(key).and_then(Weak::upgrade) {
            return existing;
        }
        if map.len() >= SWEEP_AT {
            map.retain(|_, weak| weak.strong_count() > 0);
        }
        let fresh = Arc::new(tokio::sync::Mutex::new(()));
        map.insert(key.to_string(), Arc::downgrade(&fresh));
        fresh
    }

    /// Takes a token from the tenant's rate limit, then waits for the lock of `customer_id`
    /// in `tenant` for at most the configured wait. With Redis the token and the first try
    /// for the lock are one script, one round trip.
    pub async fn lock(
        &self,
        tenant: &TenantId,
        customer_id: &str,
        limiter: &RateLimiter,
    ) -> Result<CustomerLock, Error> {
        let digest = super::request_hash(customer_id.as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        let key = format!("{{{tenant}}}:{hex}");
        let deadline = tokio::time::Instant::now() + self.wait;
        let busy = || Error::Busy("another submission of this customer is still being handled; retry".into());
        let mutex = self.local_mutex(&key);
        let local = tokio::time::timeout_at(deadline, mutex.lock_owned()).await.map_err(|_| busy())?;
        let (redis, bucket) = match (&self.redis, limiter.redis_bucket(tenant)) {
            (Some(redis), Some(bucket)) => (redis, Some(bucket)),
            (Some(redis), None) => {
                limiter.take(tenant).await?;
                (redis, None)
            }
            (None, _) => {
                limiter.take(tenant).await?;
                return Ok(CustomerLock { redis: None, _local: local });
            }
        };
        let key = format!("{}{key}", redis.prefix);
        let token = uuid::Uuid::now_v7().to_string();
        let ttl_ms = u64::try_from(redis.ttl.as_millis()).unwrap_or(u64::MAX);
        let mut connection = redis.connection.clone();
        let mut taken = false;
        if let Some((bucket, rate, burst)) = bucket {
            let (token_taken, wait_micros, locked): (i64, i64, i64) = redis
                .take_and_lock
                .key(bucket)
                .key(&key)
                .arg(rate)
                .arg(burst)
                .arg(&token)
                .arg(ttl_ms)
                .invoke_async(&mut connection)
                .await?;
            if token_taken == 0 {
                return Err(Error::RateLimited { retry_after: Duration::from_micros(wait_micros.max(1) as u64) });
            }
            taken = locked == 1;
        }
        let pause = Backoff::new(Duration::from_millis(2), Duration::from_millis(50));
        let mut attempt = 0;
        while !taken {
            let set: Option<String> = redis::cmd("SET")
                .arg(&key)
                .arg(&token)
                .arg("NX")
                .arg("PX")
                .arg(ttl_ms)
                .query_async(&mut connection)
                .await?;
            taken = set.is_some();
            if !taken {
                let jittered = pause.delay(attempt);
                if tokio::time::Instant::now() + jittered >= deadline {
                    return Err(busy());
                }
                tokio::time::sleep(jittered).await;
                attempt += 1;
            }
        }
        let lost = Arc::new(AtomicBool::new(false));
        let renewal = CancellationToken::new();
        tokio::spawn(renew(
            redis.connection.clone(),
            redis.renew.clone(),
            key.clone(),
            token.clone(),
            redis.ttl,
            lost.clone(),
            renewal.clone(),
        ));
        Ok(CustomerLock {
            redis: Some(HeldRedisLock {
                connection: redis.connection.clone(),
                key,
                token,
                release: redis.release.clone(),
                lost,
                renewal,
                released: false,
            }),
            _local: local,
        })
    }
}

/// Renews a held lock every third of its ttl until cancelled; marks it lost when it is no
/// longer this holder's.
async fn renew(
    mut connection: ConnectionManager,
    script: redis::Script,
    key: String,
    token: String,
    ttl: Duration,
    lost: Arc<AtomicBool>,
    stop: CancellationToken,
) {
    let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(ttl / 3) => {}
        }
        let renewed: Result<i64, _> = script.key(&key).arg(&token).arg(ttl_ms).invoke_async(&mut connection).await;
        match renewed {
            Ok(1) => {}
            Ok(_) => {
                tracing::warn!("customer lock expired while held");
                lost.store(true, Ordering::SeqCst);
                return;
            }
            Err(e) => tracing::warn!(error = %e, "customer lock renewal failed"),
        }
    }
}

impl CustomerLock {
    /// Fails when the lock was lost (it expired while held), so that nothing more is changed
    /// under a lock another submission may now hold.
    pub fn ensure_held(&self) -> Result<(), Error> {
        match &self.redis {
            Some(held) if held.lost.load(Ordering::SeqCst) => {
                Err(Error::Busy("the customer's lock expired while held; retry with the same request_id".into()))
            }
            _ => Ok(()),
        }
    }

    /// Releases the lock.
    pub async fn release(mut self) {
        if let Some(held) = self.redis.as_mut() {
            held.renewal.cancel();
            let mut connection = held.connection.clone();
            let released: Result<i64, _> =
                held.release.key(&held.key).arg(&held.token).invoke_async(&mut connection).await;
            if let Err(e) = released {
                tracing::warn!(error = %e, "customer lock release failed; it expires by itself");
            }
            held.released = true;
        }
    }
}

impl Drop for HeldRedisLock {
    fn drop(&mut self) {
        self.renewal.cancel();
        if self.released {
            return;
        }
        // Dropped without release (the call failed or was cancelled): release in the background.
        let (mut connection, script, key, token) =
            (self.connection.clone(), self.release.clone(), self.key.clone(), self.token.clone());
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let _: Result<i64, _> = script.key(&key).arg(&token).invoke_async(&mut connection).await;
            });
        }
    }
}
