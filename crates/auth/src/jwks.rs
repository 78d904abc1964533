//! A live key set: loaded at start, re-read in the background, refreshed at once (but rarely)
//! when a token names a key it does not know.
//!
//! Key rotation is picked up two ways: every `refresh_interval` a background task re-reads the
//! source, and a token whose `kid` is unknown triggers an immediate re-read, at most once per
//! [`MIN_UNKNOWN_KEY_REFRESH`], so a flood of forged kids cannot hammer the issuer. A failed or
//! empty refresh keeps the previous set and logs a warning. The background task holds only a
//! weak reference and is aborted when the last [`Jwks`] handle drops.

use std::sync::{Arc, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;
use tokio::task::AbortHandle;
use tracing::{debug, info, warn};

use crate::Error;
use crate::fetch::{Fetcher, JwksSource};
use crate::keyset::KeySet;

/// The least time between two refreshes triggered by unknown key ids.
pub const MIN_UNKNOWN_KEY_REFRESH: Duration = Duration::from_secs(10);

/// A cheaply cloneable handle on the current key set of one source.
#[derive(Clone)]
pub struct Jwks {
    inner: Arc<Inner>,
    /// Aborts the background refresh when the last handle drops.
    _task: Option<Arc<TaskGuard>>,
}

struct Inner {
    /// `None` for a fixed set.
    fetcher: Option<Fetcher>,
    current: RwLock<Arc<KeySet>>,
    /// Serialises fetches; holds when the last unknown-key refresh started.
    refresh: Mutex<Option<Instant>>,
}

struct TaskGuard(AbortHandle);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = self.inner.fetcher.as_ref().map(|fetcher| fetcher.source().to_string());
        f.debug_struct("Jwks").field("source", &source).field("keys", &self.current().len()).finish()
    }
}

impl Jwks {
    /// Loads the set from `source` (failing if it cannot be read or holds no usable key) and
    /// spawns a task that re-reads it every `refresh_interval`. Must run inside a tokio runtime.
    pub async fn load(source: JwksSource, refresh_interval: Duration) -> Result<Self, Error> {
        if refresh_interval.is_zero() {
            return Err(Error::InvalidSetting {
                name: "jwks_refresh_interval",
                reason: "must be positive".to_string(),
            });
        }
        let fetcher = Fetcher::new(source)?;
        let keys = KeySet::from_json(&fetcher.fetch().await?)?;
        info!(source = %fetcher.source(), keys = keys.len(), "jwks loaded");
        let inner =
            Arc::new(Inner { fetcher: Some(fetcher), current: RwLock::new(Arc::new(keys)), refresh: Mutex::new(None) });
        let task = tokio::spawn(refresh_periodically(Arc::downgrade(&inner), refresh_interval));
        Ok(Self { inner, _task: Some(Arc::new(TaskGuard(task.abort_handle()))) })
    }

    /// A set that never changes: no source, no refresh.
    pub fn fixed(keys: KeySet) -> Self {
        let inner = Inner { fetcher: None, current: RwLock::new(Arc::new(keys)), refresh: Mutex::new(None) };
        Self { inner: Arc::new(inner), _task: None }
    }

    /// Where the set comes from; `None` for a fixed set.
    pub fn source(&self) -> Option<&JwksSource> {
        self.inner.fetcher.as_ref().map(Fetcher::source)
    }

    /// The current set.
    pub fn current(&self) -> Arc<KeySet> {
        Arc::clone(&self.inner.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Re-reads the source now, whatever the rate limit; on failure the previous set stays.
    pub async fn refresh(&self) -> Result<(), Error> {
        let _serialised = self.inner.refresh.lock().await;
        self.inner.reload().await
    }

    /// Re-reads the source because a token named an unknown key, unless that was done less
    /// than [`MIN_UNKNOWN_KEY_REFRESH`] ago. Concurrent callers wait for one re-read rather
    /// than each starting their own. Returns whether this call re-read the set successfully.
    pub async fn refresh_for_unknown_key(&self) -> bool {
        if self.inner.fetcher.is_none() {
            return false;
        }
        let mut last = self.inner.refresh.lock().await;
        if last.is_some_and(|at| at.elapsed() < MIN_UNKNOWN_KEY_REFRESH) {
            debug!("jwks refresh for an unknown key skipped: rate limited");
            return false;
        }
        *last = Some(Instant::now());
        match self.inner.reload().await {
            Ok(()) => true,
            Err(e) => {
                warn!(error = %e, "jwks refresh for an unknown key failed, keeping the previous key set");
                false
            }
        }
    }
}

impl Inner {
    /// Fetches and swaps in the set; callers hold the `refresh` lock.
    async fn reload(&self) -> Result<(), Error> {
        let Some(fetcher) = &self.fetcher else { return Ok(()) };
        let keys = Arc::new(KeySet::from_json(&fetcher.fetch().await?)?);
        let previous =
            std::mem::replace(&mut *self.current.write().unwrap_or_else(PoisonError::into_inner), Arc::clone(&keys));
        if *previous != *keys {
            info!(source = %fetcher.source(), keys = keys.len(), "jwks changed");
        } else {
            debug!(source = %fetcher.source(), keys = keys.len(), "jwks refreshed, unchanged");
        }
        Ok(())
    }
}

/// Re-reads the set every `interval` until the last handle drops.
async fn refresh_periodically(weak: Weak<Inner>, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        let Some(inner) = weak.upgrade() else { return };
        let _serialised = inner.refresh.lock().await;
        if let Err(e) = inner.reload().await {
            let source = inner.fetcher.as_ref().map(|fetcher| fetcher.source().to_string());
            warn!(source = ?source, error = %e, "jwks refresh failed, keeping the previous key set");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::test_keys::{TestKey, jwks};

    #[tokio::test]
    async fn loads_a_file_and_refuses_bad_sources() {
        let key = TestKey::ec("e1");
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(jwks(&[&key]).as_bytes()).expect("write");
        let source = JwksSource::File(file.path().to_path_buf());
        let set = Jwks::load(source.clone(), Duration::from_secs(60)).await.expect("load");
        assert!(set.current().contains_kid("e1"));
        assert_eq!(set.source(), Some(&source));
        assert!(format!("{set:?}").contains("keys: 1"));

        let missing = JwksSource::File(file.path().with_extension("missing"));
        let err = Jwks::load(missing, Duration::from_secs(60)).await.expect_err("missing file");
        assert!(matches!(err, Error::KeySetUnavailable(_)), "{err:?}");

        let zero = Jwks::load(source, Duration::ZERO).await.expect_err("zero interval");
        assert!(matches!(zero, Error::InvalidSetting { name: "jwks_refresh_interval", .. }));

        let ftp = JwksSource::Url("ftp://idp.test/jwks".parse().expect("url"));
        let err = Jwks::load(ftp, Duration::from_secs(60)).await.expect_err("ftp");
        assert!(matches!(err, Error::InvalidSetting { name: "jwks_url", .. }), "{err:?}");

        let mut big = tempfile::NamedTempFile::new().expect("temp file");
        big.write_all(&vec![b' '; crate::fetch::MAX_DOCUMENT_BYTES + 1]).expect("write");
        let err = Jwks::load(JwksSource::File(big.path().into()), Duration::from_secs(60)).await.expect_err("big");
        assert!(err.to_string().contains("larger than"), "{err}");
    }

    #[tokio::test]
    async fn a_fixed_set_never_refreshes() {
        let keys = KeySet::from_json(jwks(&[&TestKey::ec("e1")]).as_bytes()).expect("set");
        let set = Jwks::fixed(keys.clone());
        assert_eq!(*set.current(), keys);
        assert!(!set.refresh_for_unknown_key().await);
        assert_eq!(set.refresh().await, Ok(()));
        assert_eq!(set.source(), None);
    }

    #[test]
    fn urls_are_shown_without_passwords() {
        let source = JwksSource::Url("https://user:hunter2@idp.test/jwks".parse().expect("url"));
        assert_eq!(source.to_string(), "https://user@idp.test/jwks");
    }
}
