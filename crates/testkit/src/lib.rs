//! Test support: real PostgreSQL and Redis for every test that needs them, the services
//! served on 127.0.0.1:0, and the generated clients speaking as a tenant.
//!
//! Tests reach PostgreSQL through `REDRESS_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and Redis through `REDRESS_TEST_REDIS_URL`
//! (default `redis://127.0.0.1:6379`). Each test gets its own database or key prefix, so tests
//! run in parallel. A server that cannot be reached fails the test with a message saying what
//! to start; no test passes silently without the servers it needs.
//!
//! The testkit depends on the kit and the contract only: a test names the service it starts
//! (`component!(redress_case, config)`), so every service can use the testkit in its tests.

pub mod bench;
pub mod certs;

mod assert;
mod clients;
mod db;
mod process;
mod redis;
mod server;

pub use assert::assert_invalid;
pub use clients::{
    AnalyticsClient, Caller, CaseClient, Connect, EscalationClient, IntakeClient, NotificationClient, request,
};
pub use db::{Backend, TestDatabase, TestStore, postgres_url};
pub use process::{Up, free_port, terminate, wait_serving};
pub use redis::{PrivateRedis, redis_prefix, redis_url};
pub use server::{Running, Server, connect, connect_when_listening, listener};

/// What to do when a test server cannot be reached.
const START_HINT: &str = "run the tests with `script/test`, which starts a private one, or `script/services <command>`";

fn unreachable(what: &str, url: &str, error: impl std::fmt::Display) -> ! {
    panic!(
        "{what} is not reachable at {url}: {error}\n\
         this test needs a real {what}; {START_HINT}\n\
         (set REDRESS_TEST_DATABASE_URL / REDRESS_TEST_REDIS_URL to point elsewhere)"
    )
}
