//! A fresh PostgreSQL database, or SQLite file, for each test.

use std::time::Duration;

use sea_orm::{ConnectionTrait, Database};

use crate::unreachable;

/// The PostgreSQL server tests use: `REDRESS_TEST_DATABASE_URL`, by default
/// `postgres://postgres@127.0.0.1:5432/postgres`.
pub fn postgres_url() -> String {
    std::env::var("REDRESS_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
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

    /// The default configuration with this database for every service.
    pub fn config(&self) -> redress_kit::Config {
        let mut config = redress_kit::Config::default();
        config.database.url = self.url.clone();
        config
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
