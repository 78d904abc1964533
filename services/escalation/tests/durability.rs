//! Nothing lost, nothing twice: 10,000 pending timers survive a SIGKILL of the escalation
//! process, an emptied Redis is rebuilt from the database, clocks due while Redis is down fire
//! from the database on time, and two replicas on one Redis never escalate twice. The case service runs in process; the escalation service runs as a real
//! `redress serve escalation` process where it must die.

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use redress_proto::case::v1::ListCasesRequest;
use redress_proto::common::v1::StaffRole;
use redress_proto::escalation::v1::{EscalationTrigger, LadderStep, SlaPolicy};
use redress_testkit::bench::{ms, percentile};
use redress_testkit::{Backend, PrivateRedis, TestStore, free_port};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use support::{Clients, Stack, Timers, secs, start_case};

/// The `redress` binary, built by `cargo build -p redress` (as `script/test` does).
fn binary() -> std::path::PathBuf {
    let path = std::env::var("REDRESS_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/debug/redress"));
    assert!(
        path.exists(),
        "no redress binary at {}: run `cargo build -p redress` first (`script/test` does)",
        path.display()
    );
    path
}

/// An escalation service as its own process.
struct Process {
    child: tokio::process::Child,
    port: u16,
}

impl Process {
    fn start(store: &TestStore, redis: &str, case: std::net::SocketAddr) -> Self {
        let port = free_port();
        let mut command = tokio::process::Command::new(binary());
        for (key, _) in std::env::vars() {
            if key.starts_with("REDRESS_") && !key.starts_with("REDRESS_TEST_") {
                command.env_remove(key);
            }
        }
        let child = command
            .args(["serve", "escalation"])
            .env("REDRESS_ESCALATION__DATABASE_URL", &store.url)
            .env("REDRESS_ESCALATION__LISTEN", format!("127.0.0.1:{port}"))
            .env("REDRESS_REDIS__URL", redis)
            .env("REDRESS_PEERS__CASE", format!("http://{case}"))
            .env("REDRESS_PEERS__NOTIFICATION", format!("http://127.0.0.1:{}", free_port()))
            .env("REDRESS_METRICS__LISTEN", "")
            .env("REDRESS_LOG__LEVEL", "warn")
            .env("REDRESS_AUTH__MODE", "off")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start redress serve escalation");
        Self { child, port }
    }

    async fn kill(mut self) {
        self.child.start_kill().expect("SIGKILL");
        let _ = self.child.wait().await;
    }
}

/// A policy whose one ladder step records the breach and alerts nobody by mail, so each case
/// owes exactly one effect per firing: its escalation record.
fn policy(target: f64) -> SlaPolicy {
    SlaPolicy {
        priority: 1,
        first_response_target: secs(target),
        ladder: vec![LadderStep {
            level: 2,
            trigger: EscalationTrigger::Breach as i32,
            notify_owner: true,
            ..Default::default()
        }],
        ..Default::default()
    }
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row =
        db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect("query").expect("row");
    row.try_get_by_index(0).expect("count")
}

async fn wait_for(db: &DatabaseConnection, sql: &str, expected: i64, limit: Duration) -> i64 {
    let deadline = Instant::now() + limit;
    loop {
        let n = count(db, sql).await;
        if n >= expected || Instant::now() > deadline {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Opens `n` cases, 32 at a time.
async fn open_cases(clients: &Clients, n: usize) {
    let mut tasks = Vec::new();
    for worker in 0..32 {
        let mut c = clients.clone();
        tasks.push(tokio::spawn(async move {
            for i in (worker..n).step_by(32) {
                c.open(&format!("case {i}"), "agent-1", "billing").await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("opener");
    }
}

/// Every case has exactly one escalation record, as the case service sees it.
async fn every_case_escalated_once(clients: &mut Clients, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut token = String::new();
        let mut counts = Vec::new();
        loop {
            let req = clients.req(ListCasesRequest {
                parent: clients.parent(),
                page_size: 1000,
                page_token: token,
                ..Default::default()
            });
            let page = clients.case.list_cases(req).await.expect("list").into_inner();
            counts.extend(page.cases.iter().map(|c| c.escalations.len()));
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        assert_eq!(counts.len(), n);
        assert!(counts.iter().all(|c| *c <= 1), "a case was escalated twice");
        if counts.iter().all(|c| *c == 1) {
            return;
        }
        assert!(Instant::now() < deadline, "{} of {n} cases escalated", counts.iter().filter(|c| **c == 1).count());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

const ESCALATIONS: &str = "SELECT COUNT(*) FROM redress_escalation.escalations";
const DISTINCT: &str = "SELECT COUNT(DISTINCT case_id) FROM redress_escalation.escalations";
const CLOCKS: &str = "SELECT COUNT(*) FROM redress_escalation.clocks";
const RECORDED: &str =
    "SELECT COUNT(*) FROM redress_escalation.effects WHERE kind = 'record' AND done AND last_error = ''";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_pending_timers_survive_a_kill_and_fire_exactly_once() {
    const CASES: usize = 10_000;
    let redis = PrivateRedis::start();
    let (case, _case_store) = start_case(Backend::Postgres).await;
    let escalation_store = TestStore::create(Backend::Postgres).await;
    let process = Process::start(&escalation_store, &redis.url, case.addr);
    let db = Database::connect(escalation_store.url.as_str()).await.expect("escalation database");
    let escalation_addr = format!("127.0.0.1:{}", process.port).parse().expect("addr");
    let mut clients = Clients::connect(case.addr, escalation_addr, "acme", "admin-1", "admin").await;
    clients.staff("agent-1", StaffRole::Agent, "billing", "").await;
    clients.policy(policy(45.0)).await;

    open_cases(&clients, CASES).await;
    assert_eq!(wait_for(&db, CLOCKS, CASES as i64, Duration::from_secs(120)).await, CASES as i64, "a clock per case");
    let fired_before = count(&db, ESCALATIONS).await;
    process.kill().await;
    assert!(fired_before < CASES as i64, "timers were still pending when the process died ({fired_before} fired)");

    let process = Process::start(&escalation_store, &redis.url, case.addr);
    assert_eq!(wait_for(&db, ESCALATIONS, CASES as i64, Duration::from_secs(180)).await, CASES as i64);
    assert_eq!(count(&db, DISTINCT).await, CASES as i64, "one escalation per case");
    assert_eq!(wait_for(&db, RECORDED, CASES as i64, Duration::from_secs(120)).await, CASES as i64);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(count(&db, ESCALATIONS).await, CASES as i64, "nothing fired twice");
    every_case_escalated_once(&mut clients, CASES).await;
    process.kill().await;
    case.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_emptied_redis_is_rebuilt_from_the_database_and_everything_fires() {
    const CASES: usize = 2_000;
    let mut redis = PrivateRedis::start();
    let timers = Timers::Redis(redis.url.clone(), "redress".into());
    let stack = Stack::start(Backend::Postgres, timers).await;
    let mut clients = stack.clients("acme", "admin-1", "admin").await;
    clients.staff("agent-1", StaffRole::Agent, "billing", "").await;
    clients.policy(policy(40.0)).await;
    let db = Database::connect(stack.escalation_store.url.as_str()).await.expect("escalation database");
    open_cases(&clients, CASES).await;
    assert_eq!(wait_for(&db, CLOCKS, CASES as i64, Duration::from_secs(60)).await, CASES as i64);
    let fired_before = count(&db, ESCALATIONS).await;
    assert!(fired_before < CASES as i64, "timers were still pending when Redis lost them ({fired_before} fired)");

    // Redis loses everything: first a FLUSHALL, then a restart of the server itself.
    let client = redis::Client::open(redis.url.as_str()).expect("redis");
    let mut connection = client.get_multiplexed_async_connection().await.expect("connect");
    redis::cmd("FLUSHALL").query_async::<()>(&mut connection).await.expect("flushall");
    tokio::time::sleep(Duration::from_secs(3)).await;
    redis.restart();

    assert_eq!(wait_for(&db, ESCALATIONS, CASES as i64, Duration::from_secs(90)).await, CASES as i64);
    assert_eq!(count(&db, DISTINCT).await, CASES as i64);
    every_case_escalated_once(&mut clients, CASES).await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_on_one_redis_never_escalate_twice() {
    const CASES: usize = 10_000;
    let prefix = redress_testkit::redis_prefix().await;
    let timers = Timers::Redis(redress_testkit::redis_url(), prefix);
    let stack = Stack::start(Backend::Postgres, timers.clone()).await;
    let second = Stack::start_escalation(&stack.escalation_store, &timers, stack.case.addr).await;
    let mut clients = stack.clients("acme", "admin-1", "admin").await;
    clients.staff("agent-1", StaffRole::Agent, "billing", "").await;
    clients.policy(policy(20.0)).await;
    let db = Database::connect(stack.escalation_store.url.as_str()).await.expect("escalation database");
    open_cases(&clients, CASES).await;
    assert_eq!(wait_for(&db, ESCALATIONS, CASES as i64, Duration::from_secs(180)).await, CASES as i64);
    assert_eq!(count(&db, DISTINCT).await, CASES as i64, "one escalation per case");
    assert_eq!(wait_for(&db, RECORDED, CASES as i64, Duration::from_secs(120)).await, CASES as i64);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(count(&db, ESCALATIONS).await, CASES as i64, "nothing fired twice");
    every_case_escalated_once(&mut clients, CASES).await;
    second.stop().await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clocks_due_while_redis_is_down_fire_from_the_database_within_a_second() {
    const CASES: usize = 500;
    const OUTAGE: Duration = Duration::from_secs(10);
    let mut redis = PrivateRedis::start();
    let timers = Timers::Redis(redis.url.clone(), "redress".into());
    let stack = Stack::start(Backend::Postgres, timers).await;
    let mut clients = stack.clients("acme", "admin-1", "admin").await;
    clients.staff("agent-1", StaffRole::Agent, "billing", "").await;
    clients.policy(policy(12.0)).await;
    let db = Database::connect(stack.escalation_store.url.as_str()).await.expect("escalation database");
    // 20 waves of 25 cases 350 ms apart: their clocks fall due over 7 s, as clocks do over a
    // working day, not all in one instant.
    let start = Instant::now();
    for wave in 0..20u32 {
        open_cases(&clients, CASES / 20).await;
        tokio::time::sleep((start + Duration::from_millis(350) * (wave + 1)).saturating_duration_since(Instant::now()))
            .await;
    }
    assert_eq!(wait_for(&db, CLOCKS, CASES as i64, Duration::from_secs(60)).await, CASES as i64);

    // Redis dies a second before the first clock falls due and stays dead for 10 s; every clock
    // falls due inside the outage.
    let first = count(&db, "SELECT MIN(next_fire) FROM redress_escalation.clocks").await;
    let last = count(&db, "SELECT MAX(next_fire) FROM redress_escalation.clocks").await;
    let kill_at = first - 1000;
    assert!(last < kill_at + OUTAGE.as_millis() as i64 - 500, "the clocks fall due over {} ms", last - first);
    let now = jiff::Timestamp::now().as_millisecond();
    assert!(kill_at > now, "opening the cases took too long: the first clock is due in {} ms", first - now);
    tokio::time::sleep(Duration::from_millis((kill_at - now) as u64)).await;
    assert_eq!(count(&db, ESCALATIONS).await, 0, "nothing fired before the outage");
    redis.kill();
    let killed = Instant::now();
    let fired = wait_for(&db, ESCALATIONS, CASES as i64, OUTAGE.saturating_sub(killed.elapsed())).await;
    tokio::time::sleep(OUTAGE.saturating_sub(killed.elapsed())).await;
    redis.revive();
    assert_eq!(fired, CASES as i64, "{fired} of {CASES} clocks fired during the outage");

    // Each fired once, and late by how much.
    assert_eq!(wait_for(&db, ESCALATIONS, CASES as i64, Duration::from_secs(30)).await, CASES as i64);
    assert_eq!(count(&db, DISTINCT).await, CASES as i64, "one escalation per case");
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT (EXTRACT(EPOCH FROM e.escalate_time - c.breached_at) * 1000000)::BIGINT
             FROM redress_escalation.escalations e
             JOIN redress_escalation.clocks c ON c.case_id = e.case_id AND c.kind = e.clock",
        ))
        .await
        .expect("lateness");
    let mut late: Vec<Duration> = rows
        .iter()
        .map(|r| Duration::from_micros(r.try_get_by_index::<i64>(0).expect("lateness").max(0) as u64))
        .collect();
    late.sort();
    assert_eq!(late.len(), CASES);
    let (p50, p99, max) = (percentile(&late, 0.5), percentile(&late, 0.99), percentile(&late, 1.0));
    println!(
        "{CASES} clocks due over {} ms during a {} s Redis outage: lateness p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        last - first,
        OUTAGE.as_secs(),
        ms(p50),
        ms(p99),
        ms(max)
    );
    assert!(p99 <= Duration::from_secs(1), "p99 lateness {p99:?} over 1 s");

    // Redis back: the index is rebuilt, and the case service heard of each escalation once.
    let client = redis::Client::open(redis.url.as_str()).expect("redis");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let built: bool = match client.get_multiplexed_async_connection().await {
            Ok(mut connection) => {
                redis::cmd("EXISTS").arg("redress:timers:epoch").query_async(&mut connection).await.unwrap_or(false)
            }
            Err(_) => false,
        };
        if built {
            break;
        }
        assert!(Instant::now() < deadline, "the index was not rebuilt after Redis came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    every_case_escalated_once(&mut clients, CASES).await;
    assert_eq!(count(&db, ESCALATIONS).await, CASES as i64, "nothing fired twice");
    stack.stop().await;
}
