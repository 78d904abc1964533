//! Redis for tests: a key prefix of the test's own on the shared server, or a server of its own.

use std::time::Duration;

use crate::{free_port, unreachable};

/// The Redis server tests use: `REDRESS_TEST_REDIS_URL`, by default `redis://127.0.0.1:6379`.
pub fn redis_url() -> String {
    std::env::var("REDRESS_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A unique key prefix on the test Redis, checked to be reachable.
pub async fn redis_prefix() -> String {
    let url = redis_url();
    let client = redis::Client::open(url.as_str()).unwrap_or_else(|e| unreachable("Redis", &url, e));
    let connect = client.get_multiplexed_async_connection();
    let mut connection = match tokio::time::timeout(Duration::from_secs(5), connect).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => unreachable("Redis", &url, e),
        Err(_) => unreachable("Redis", &url, "timed out"),
    };
    let pong: String = redis::cmd("PING").query_async(&mut connection).await.expect("redis PING");
    assert_eq!(pong, "PONG");
    format!("test-{}", uuid::Uuid::now_v7().simple())
}

/// A Redis server of the test's own, for tests that flush or restart Redis without disturbing
/// other tests. Stopped when dropped.
pub struct PrivateRedis {
    /// Its URL.
    pub url: String,
    /// Its port.
    pub port: u16,
    child: Option<std::process::Child>,
}

impl PrivateRedis {
    /// Starts `redis-server` on a free port, keeping nothing on disk.
    pub fn start() -> Self {
        let port = free_port();
        let mut redis = Self { url: format!("redis://127.0.0.1:{port}"), port, child: None };
        redis.launch();
        redis
    }

    fn launch(&mut self) {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start redis-server ({e}): this test needs the Redis server installed (`script/bootstrap` installs it)")
            });
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("redis-server on port {} did not start", self.port);
    }

    /// Stops the server abruptly and starts it again, empty.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// Kills the server (SIGKILL): its port refuses connections until [`Self::revive`].
    pub fn kill(&mut self) {
        self.stop();
    }

    /// Starts a killed server again on the same port, empty.
    pub fn revive(&mut self) {
        if self.child.is_none() {
            self.launch();
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
