//! Redis: the index of SLA deadlines and the rate limiter shared by replicas.

use anyhow::Context as _;
use redis::aio::ConnectionManager;

/// Connects to Redis at `url` with a reconnecting connection manager.
pub async fn connect(url: &str) -> anyhow::Result<ConnectionManager> {
    let client = redis::Client::open(url).with_context(|| format!("redis URL {}", crate::config::mask_url(url)))?;
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(std::time::Duration::from_secs(3)))
        .set_response_timeout(Some(std::time::Duration::from_secs(3)));
    ConnectionManager::new_with_config(client, config)
        .await
        .with_context(|| format!("connecting to redis at {}", crate::config::mask_url(url)))
}

/// A readiness check: Redis answers PING.
pub async fn ping(connection: &ConnectionManager) -> Result<(), String> {
    let mut connection = connection.clone();
    redis::cmd("PING").query_async::<String>(&mut connection).await.map(|_| ()).map_err(|e| format!("redis: {e}"))
}
