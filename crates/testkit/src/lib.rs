//! Test support: real PostgreSQL and Redis for every test that needs them.
//!
//! Tests reach PostgreSQL through `REDRESS_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and Redis through `REDRESS_TEST_REDIS_URL`
//! (default `redis://127.0.0.1:6379`). Each test gets its own database or key prefix, so tests
//! run in parallel. A server that cannot be reached fails the test with a message saying what
//! to start; no test passes silently without the servers it needs.

pub mod certs;

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// The PostgreSQL server tests use.
pub fn postgres_url() -> String {
    std::env::var("REDRESS_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The Redis server tests use.
pub fn redis_url() -> String {
    std::env::var("REDRESS_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// What to do when a test server cannot be reached.
const START_HINT: &str = "run the tests with `script/test`, which starts a private one, or `script/services <command>`";

fn unreachable(what: &str, url: &str, error: impl std::fmt::Display) -> ! {
    panic!(
        "{what} is not reachable at {url}: {error}\n\
         this test needs a real {what}; {START_HINT}\n\
         (set REDRESS_TEST_DATABASE_URL / REDRESS_TEST_REDIS_URL to point elsewhere)"
    )
}

/// A PostgreSQL database created for one test and dropped when the value is dropped.
pub struct TestDatabase {
    /// The URL of the new database.
    pub url: String,
    name: String,
    admin_url: String,
}

impl TestDatabase {
    /// Creates an empty database with a unique name.
    pub async fn create() -> Self {
        let admin_url = postgres_url();
        let admin = match tokio::time::timeout(Duration::from_secs(10), Database::connect(admin_url.as_str())).await {
            Ok(Ok(db)) => db,
            Ok(Err(e)) => unreachable("PostgreSQL", &admin_url, e),
            Err(_) => unreachable("PostgreSQL", &admin_url, "timed out"),
        };
        let name = format!("redress_test_{}", uuid::Uuid::now_v7().simple());
        admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("creating the test database");
        let _ = admin.close().await;
        let mut url = url::Url::parse(&admin_url).expect("REDRESS_TEST_DATABASE_URL is a URL");
        url.set_path(&format!("/{name}"));
        Self { url: url.to_string(), name, admin_url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Dropping needs its own runtime: the test's runtime may be shutting down.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async move {
                if let Ok(admin) = Database::connect(admin_url.as_str()).await {
                    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
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

/// A free TCP port on 127.0.0.1, for servers started as separate processes.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Waits until `service` (a fully qualified gRPC name, or "" for the server as a whole) on
/// 127.0.0.1:`port` answers SERVING, for at most 30 s.
pub async fn wait_serving(port: u16, service: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let endpoint = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}")).expect("endpoint");
        if let Ok(channel) = endpoint.connect().await {
            let mut client = HealthClient::new(channel);
            let request = HealthCheckRequest { service: service.to_string() };
            if let Ok(response) = client.check(request).await
                && response.into_inner().status == ServingStatus::Serving as i32
            {
                return;
            }
        }
        assert!(Instant::now() < deadline, "{service} on port {port} never became SERVING");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends SIGTERM to a child process and checks that it exits with 0 within 5 s.
pub async fn terminate(mut child: tokio::process::Child) {
    let pid = child.id().expect("running");
    let started = Instant::now();
    let status = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill");
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("stopped within 5 s of SIGTERM")
        .expect("exit status");
    assert_eq!(exit.code(), Some(0), "clean exit after SIGTERM");
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// The two databases redress runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL: production.
    Postgres,
    /// SQLite: the embedded mode.
    Sqlite,
}

/// A fresh database of either kind for one test, removed when dropped.
pub struct TestStore {
    /// The database URL to configure.
    pub url: String,
    _postgres: Option<TestDatabase>,
    _dir: Option<tempfile::TempDir>,
}

impl TestStore {
    /// Creates an empty database on `backend`.
    pub async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Postgres => {
                let db = TestDatabase::create().await;
                Self { url: db.url.clone(), _postgres: Some(db), _dir: None }
            }
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                Self { url, _postgres: None, _dir: Some(dir) }
            }
        }
    }
}

/// Defines `$name` as two tests, one on PostgreSQL and one on SQLite, each calling
/// `$body(backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    super::$name($crate::Backend::Postgres).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    super::$name($crate::Backend::Sqlite).await;
                }
            }
        )*
    };
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

/// What the benchmarks share to report their figures.
pub mod bench {
    use std::time::Duration;

    /// The `p` quantile (0 to 1) of sorted durations, nearest rank; zero for none.
    pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
    }

    /// A duration in milliseconds, for printing.
    pub fn ms(d: Duration) -> f64 {
        d.as_secs_f64() * 1000.0
    }
}
