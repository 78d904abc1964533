//! The analytics service against PostgreSQL, in three parts, in one run:
//!
//! 1. Ingest: cases are taken through their life by 16 clients of the real case service
//!    (create, acknowledge, assign, investigate, resolve: five events each); then the analytics
//!    service starts and its consumer folds the whole backlog from the case service's event
//!    stream. Events per second from its start until its cursor reaches the head of the log.
//!    Then freshness: case lives are started at 100 a second (500 events a second) for 20 s
//!    while the consumer runs, and each event's lag from its write to its fold is measured.
//! 2. Report latency over 1,000,000 cases of one tenant: p50 and p99 of GetOverview,
//!    GetVolumeSeries, GetSlaCompliance, GetAgentPerformance and GetRecurringIssues, called one
//!    after another over gRPC. Taking a million cases through the whole pipeline would take
//!    too long here, so the reporting tables are filled in bulk with SQL (`generate_series`)
//!    with a year of varied cases, their SLA clocks and creation events, then vacuumed and
//!    analysed.
//! 3. Flight SQL: `SELECT * FROM cases` (every case of that tenant) fetched by Apache Arrow's
//!    ADBC Flight SQL driver with pyarrow in a Python process, beside `psql` running `COPY
//!    (the same SELECT) TO STDOUT` into /dev/null; rows per second of each and their ratio.
//!
//! `cargo bench -p redress-analytics --bench analytics` (or `script/bench`). It needs `psql` and a
//! Python with the packages in tests/python/requirements.txt. `REDRESS_BENCH_CASES` sets the
//! cases in part 2 and 3 (default 1,000,000), `REDRESS_BENCH_INGEST_CASES` the cases in part 1
//! (default 4,000), `REDRESS_BENCH_CALLS` the calls per report (default 24), `REDRESS_BENCH_FRESH_SECONDS` the
//! length of the freshness run (default 20) and
//! `REDRESS_BENCH_PYTHON` the Python interpreter (default `python3`).

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use redress_kit::server::{Component, ServerOptions};
use redress_kit::{Config, ServiceKind};
use redress_proto::analytics::v1::analytics_service_client::AnalyticsServiceClient;
use redress_proto::analytics::v1::*;
use redress_proto::case::v1::case_service_client::CaseServiceClient;
use redress_proto::case::v1::{
    AcknowledgeCaseRequest, AssignCaseRequest, Case, CreateCaseRequest, ResolveCaseRequest, StartInvestigationRequest,
};
use redress_proto::common::v1::{CaseReferences, Channel, Customer, Severity, TimeRange};
use redress_testkit::TestDatabase;
use redress_testkit::bench::{ms, percentile};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel as GrpcChannel;

const CLIENTS: usize = 16;
/// The tenant of part 1.
const INGEST_TENANT: &str = "bench";
/// The tenant of the million cases.
const LARGE_TENANT: &str = "bench-large";
/// Events per case in part 1.
const EVENTS_PER_CASE: usize = 5;
/// Case lives started per second while freshness is measured: 500 events a second.
const FRESH_CASES_PER_SECOND: f64 = 100.0;
const DAY_US: i64 = 24 * 3600 * 1_000_000;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

async fn serve(component: Component, shutdown: &CancellationToken) -> SocketAddr {
    let listener = redress_kit::server::bind("127.0.0.1:0".parse().expect("addr")).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let token = shutdown.clone();
    tokio::spawn(async move {
        redress_kit::server::serve(listener, vec![component], &ServerOptions::default(), token).await
    });
    addr
}

async fn channel(addr: SocketAddr) -> GrpcChannel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect")
}

fn config(url: &str) -> Config {
    let mut config = Config::default();
    config.database.url = url.to_string();
    config.database.max_connections = 24;
    config.log.level = "warn".into();
    config
}

// ── Part 1: ingest ─────────────────────────────────────────────────────────────────────────

fn request<T>(message: T, agent: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let md = request.metadata_mut();
    md.insert("x-redress-tenant", INGEST_TENANT.parse().expect("tenant"));
    md.insert("x-redress-actor", agent.parse().expect("actor"));
    md.insert("x-redress-roles", "agent".parse().expect("roles"));
    request
}

/// One case through its life: five calls, five events.
async fn life(client: &mut CaseServiceClient<GrpcChannel>, i: usize) {
    let agent = format!("agent-{}", i % 40);
    let categories = ["billing", "delivery", "quality", "service", "returns"];
    let case = Case {
        customer: Some(Customer {
            customer_id: format!("cust-{i}"),
            email: "ana@example.com".into(),
            ..Default::default()
        }),
        channel: [Channel::Email, Channel::Phone, Channel::Web, Channel::Chat][i % 4] as i32,
        severity: Severity::Medium as i32,
        subject: "Kettle never arrived".into(),
        description: "I ordered a kettle three weeks ago. It never arrived and nobody answers my emails.".into(),
        desired_outcome: "a refund".into(),
        category: categories[i % categories.len()].into(),
        references: Some(CaseReferences { product_id: format!("SKU-{}", i % 50), ..Default::default() }),
        ..Case::default()
    };
    let create = CreateCaseRequest {
        parent: format!("tenants/{INGEST_TENANT}"),
        case: Some(case),
        request_id: uuid::Uuid::now_v7().to_string(),
    };
    let name = client.create_case(request(create, &agent)).await.expect("create").into_inner().case.expect("case").name;
    let ack = AcknowledgeCaseRequest {
        name: name.clone(),
        apologized: true,
        apology_text: "Sorry.".into(),
        ..Default::default()
    };
    client.acknowledge_case(request(ack, &agent)).await.expect("acknowledge");
    let team = format!("team-{}", i % 40 / 8);
    let assign = AssignCaseRequest {
        name: name.clone(),
        owner: agent.clone(),
        team,
        reason: "rota".into(),
        ..Default::default()
    };
    client.assign_case(request(assign, &agent)).await.expect("assign");
    let start = StartInvestigationRequest { name: name.clone(), ..Default::default() };
    client.start_investigation(request(start, &agent)).await.expect("investigate");
    let resolve = ResolveCaseRequest { name, fix_summary: "re-sent".into(), ..Default::default() };
    client.resolve_case(request(resolve, &agent)).await.expect("resolve");
}

/// Writes the case log through the case API; the seconds it took.
async fn write_log(case: SocketAddr, cases: usize) -> f64 {
    let channel = channel(case).await;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let mut client = CaseServiceClient::new(channel.clone());
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= cases {
                    return;
                }
                life(&mut client, i).await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("client");
    }
    started.elapsed().as_secs_f64()
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect(sql)
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect(sql)
}

// ── Part 2: a million cases ─────────────────────────────────────────────────────────────────

#[path = "analytics/seed.rs"]
mod seed;
use seed::seed_large;

fn range(from: i64, to: i64) -> Option<TimeRange> {
    Some(TimeRange {
        start_time: Some(redress_analytics::domain::to_timestamp(from)),
        end_time: Some(redress_analytics::domain::to_timestamp(to)),
    })
}

fn report<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert("x-redress-tenant", LARGE_TENANT.parse().expect("tenant"));
    request.metadata_mut().insert("x-redress-roles", "bi_reader".parse().expect("roles"));
    request
}

/// One report's latencies and the size of its last answer.
struct Latency {
    name: &'static str,
    what: String,
    p50: Duration,
    p99: Duration,
}

/// The reports' client.
type Client = AnalyticsServiceClient<tonic::transport::Channel>;

/// Calls one report `calls` times after two warm-up calls, with a clone of `client` and the
/// large tenant's parent; `call` answers with the rows it got.
async fn measure<F, Fut>(name: &'static str, calls: usize, client: &Client, mut call: F) -> Latency
where
    F: FnMut(Client, String) -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let parent = format!("tenants/{LARGE_TENANT}");
    for _ in 0..2 {
        call(client.clone(), parent.clone()).await;
    }
    let mut latencies = Vec::with_capacity(calls);
    let mut what = String::new();
    for _ in 0..calls {
        let started = Instant::now();
        what = call(client.clone(), parent.clone()).await;
        latencies.push(started.elapsed());
    }
    latencies.sort();
    Latency { name, what, p50: percentile(&latencies, 0.5), p99: percentile(&latencies, 0.99) }
}

async fn reports(addr: SocketAddr, calls: usize) -> Vec<Latency> {
    let client = AnalyticsServiceClient::new(channel(addr).await).max_decoding_message_size(64 * 1024 * 1024);
    let now = now_us();
    vec![
        measure("GetOverview (all time)", calls, &client, |mut c, parent| async move {
            let req = GetOverviewRequest { parent, time_zone: "Europe/London".into(), ..Default::default() };
            let o = c.get_overview(report(req)).await.expect("overview").into_inner();
            format!("{} cases, {} open", o.total_cases, o.open_cases)
        })
        .await,
        measure("GetVolumeSeries (year, weekly, category)", calls, &client, |mut c, parent| async move {
            let req = GetVolumeSeriesRequest {
                parent,
                time_range: range(now - 366 * DAY_US, now + DAY_US),
                granularity: Granularity::Week as i32,
                dimension: Dimension::Category as i32,
                time_zone: "Europe/London".into(),
            };
            let points = c.get_volume_series(report(req)).await.expect("volume").into_inner().points;
            format!("{} points, {} cases", points.len(), points.iter().map(|p| p.case_count).sum::<i64>())
        })
        .await,
        measure("GetSlaCompliance (all time, by team)", calls, &client, |mut c, parent| async move {
            let req =
                GetSlaComplianceRequest { parent, group_by: ComplianceGroupBy::Team as i32, ..Default::default() };
            let rows = c.get_sla_compliance(report(req)).await.expect("compliance").into_inner().rows;
            format!("{} rows, {} clocks", rows.len(), rows.iter().map(|r| r.met + r.breached).sum::<i64>())
        })
        .await,
        measure("GetAgentPerformance (all time)", calls, &client, |mut c, parent| async move {
            let req = GetAgentPerformanceRequest { parent, ..Default::default() };
            let agents = c.get_agent_performance(report(req)).await.expect("agents").into_inner().agents;
            format!("{} agents", agents.len())
        })
        .await,
        measure("GetRecurringIssues (8 weeks, 3 dimensions)", calls, &client, |mut c, parent| async move {
            let req = GetRecurringIssuesRequest { parent, ..Default::default() };
            let issues = c.get_recurring_issues(report(req)).await.expect("recurring").into_inner().issues;
            format!("{} issues", issues.len())
        })
        .await,
    ]
}

// ── Part 3: Flight SQL beside COPY ──────────────────────────────────────────────────────────

/// Fetches `SQL` twice over Flight SQL with ADBC and pyarrow; prints the rows and the faster
/// time in seconds.
const FLIGHT_CLIENT: &str = r#"
import os, sys, time
try:
    import adbc_driver_flightsql
    import adbc_driver_flightsql.dbapi as flight_sql
except ImportError as e:
    sys.exit(f"{e}: pip install -r tests/python/requirements.txt")
header = adbc_driver_flightsql.DatabaseOptions.RPC_CALL_HEADER_PREFIX.value + "x-redress-tenant"
best, rows = None, 0
with flight_sql.connect(os.environ["FLIGHT_URI"], db_kwargs={header: os.environ["FLIGHT_TENANT"]},
                        autocommit=True) as connection:
    with connection.cursor() as cursor:
        for _ in range(2):
            started = time.perf_counter()
            cursor.execute(os.environ["FLIGHT_SQL"])
            table = cursor.fetch_arrow_table()
            seconds = time.perf_counter() - started
            rows = table.num_rows
            best = seconds if best is None else min(best, seconds)
print(rows, best)
"#;

/// Rows and seconds of the Flight SQL fetch.
fn flight(python: &str, addr: SocketAddr, sql: &str) -> (u64, f64) {
    let output = Command::new(python)
        .args(["-c", FLIGHT_CLIENT])
        .env("FLIGHT_URI", format!("grpc://{addr}"))
        .env("FLIGHT_TENANT", LARGE_TENANT)
        .env("FLIGHT_SQL", sql)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} ({e}); set REDRESS_BENCH_PYTHON"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the Flight SQL client failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut words = stdout.split_whitespace();
    let rows = words.next().and_then(|w| w.parse().ok()).expect("rows");
    let seconds = words.next().and_then(|w| w.parse().ok()).expect("seconds");
    (rows, seconds)
}

/// The faster of two `psql -c "COPY (select) TO STDOUT" > /dev/null`, in seconds.
fn copy(url: &str, select: &str) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..2 {
        let started = Instant::now();
        let output = Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", &format!("COPY ({select}) TO STDOUT"), url])
            .env("PGOPTIONS", "-c search_path=redress_analytics")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .expect("psql is installed (it ships with PostgreSQL)");
        let seconds = started.elapsed().as_secs_f64();
        assert!(output.status.success(), "psql failed: {}", String::from_utf8_lossy(&output.stderr));
        best = best.min(seconds);
    }
    best
}

/// What part 1 leaves running for the others, and its figures.
struct Ingested {
    /// Seconds the case API took to write the log.
    write_seconds: f64,
    /// Events in the log.
    events: i64,
    /// Seconds from the analytics service's start until its cursor reached the head.
    fold_seconds: f64,
    /// The case service's gRPC address.
    case: SocketAddr,
    /// The analytics service's gRPC address.
    analytics: SocketAddr,
    /// Its Flight SQL endpoint.
    flight: SocketAddr,
    /// Its database.
    db: DatabaseConnection,
}

/// Part 1: the case log written through the case API, then the analytics service started and
/// its consumer timed folding the whole log.
async fn ingest(url: &str, ingest_cases: usize, max_rows: u64, shutdown: &CancellationToken) -> Ingested {
    let options = redress_case::Options::from_config(&config(url)).expect("case options");
    let case = serve(redress_case::build(options).await.expect("case build").into_component(), shutdown).await;
    let write_seconds = write_log(case, ingest_cases).await;
    let case_db =
        redress_kit::db::connect_url(url, ServiceKind::Case, 1, Duration::from_secs(5)).await.expect("case db");
    let mut events = 0;
    while events < (ingest_cases * EVENTS_PER_CASE) as i64 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        events = scalar(&case_db, "SELECT COALESCE(MAX(sequence), 0) FROM events").await;
    }
    let _ = case_db.close().await;

    let mut config = config(url);
    config.peers.case = format!("http://{case}");
    config.analytics.flight_listen = "127.0.0.1:0".into();
    config.analytics.flight_statement_timeout = "600s".into();
    config.analytics.flight_max_rows = max_rows;
    let options = redress_analytics::Options::from_config(&config).expect("analytics options");
    let service = redress_analytics::build(options).await.expect("analytics build");
    let flight = service.flight_addr().expect("flight sql listens");
    let db = redress_kit::db::connect_url(url, ServiceKind::Analytics, 2, Duration::from_secs(5))
        .await
        .expect("analytics db");
    let folding = Instant::now();
    let analytics = serve(service.into_component(), shutdown).await;
    while redress_kit::consumer::cursor(&db, "analytics").await.expect("cursor") < events {
        assert!(folding.elapsed() < Duration::from_secs(600), "the consumer never caught up");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let fold_seconds = folding.elapsed().as_secs_f64();
    assert_eq!(scalar(&db, "SELECT count(*) FROM event_facts").await, events, "every event folded once");
    Ingested { write_seconds, events, fold_seconds, case, analytics, flight, db }
}

/// How fresh the reports stay under a steady stream of changes.
struct Freshness {
    /// Events per second offered.
    events_per_second: f64,
    /// Events measured.
    events: usize,
    /// Lag from an event's write in the case service to its fold: median, 99th percentile, worst.
    p50: Duration,
    p99: Duration,
    max: Duration,
}

/// Part 1b: case lives started at `cases_per_second` (five events each) for `seconds`, open
/// loop, while the consumer runs. Each event's lag is the time from its write in the case
/// service (its `event_time`) until the consumer's cursor, polled every 2 ms, passed it.
async fn freshness(ingested: &Ingested, url: &str, first: usize, cases_per_second: f64, seconds: u64) -> Freshness {
    let case_db =
        redress_kit::db::connect_url(url, ServiceKind::Case, 2, Duration::from_secs(5)).await.expect("case db");
    let head = "SELECT COALESCE(MAX(sequence), 0) FROM events";
    let before = scalar(&case_db, head).await;
    let db = ingested.db.clone();
    let stop = CancellationToken::new();
    let polling = stop.clone();
    let poller = tokio::spawn(async move {
        let mut seen: Vec<(i64, i64)> = Vec::new();
        let mut last = -1;
        while !polling.is_cancelled() {
            let cursor = redress_kit::consumer::cursor(&db, "analytics").await.expect("cursor");
            if cursor != last {
                seen.push((cursor, now_us()));
                last = cursor;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        seen
    });
    let channel = channel(ingested.case).await;
    let total = (cases_per_second * seconds as f64) as usize;
    let interval = Duration::from_secs_f64(1.0 / cases_per_second);
    let start = tokio::time::Instant::now();
    let mut lives = Vec::with_capacity(total);
    for k in 0..total {
        tokio::time::sleep_until(start + interval.mul_f64(k as f64)).await;
        let mut client = CaseServiceClient::new(channel.clone());
        lives.push(tokio::spawn(async move { life(&mut client, first + k).await }));
    }
    for life in lives {
        life.await.expect("case life");
    }
    let after = scalar(&case_db, head).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while redress_kit::consumer::cursor(&ingested.db, "analytics").await.expect("cursor") < after {
        assert!(Instant::now() < deadline, "the consumer never caught up");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    stop.cancel();
    let seen = poller.await.expect("poller");
    let rows = case_db
        .query_all_raw(sea_orm::Statement::from_string(
            DatabaseBackend::Postgres,
            format!("SELECT sequence, event_time FROM events WHERE sequence > {before} ORDER BY sequence"),
        ))
        .await
        .expect("events");
    let _ = case_db.close().await;
    let mut lags = Vec::with_capacity(rows.len());
    for row in &rows {
        let sequence: i64 = row.try_get_by_index(0).expect("sequence");
        let written: chrono::DateTime<chrono::Utc> = row.try_get_by_index(1).expect("event_time");
        let folded = seen.iter().find(|(cursor, _)| *cursor >= sequence).map(|(_, at)| *at).expect("folded");
        lags.push(Duration::from_micros(u64::try_from(folded - written.timestamp_micros()).unwrap_or(0)));
    }
    lags.sort();
    Freshness {
        events_per_second: cases_per_second * EVENTS_PER_CASE as f64,
        events: lags.len(),
        p50: percentile(&lags, 0.5),
        p99: percentile(&lags, 0.99),
        max: lags.last().copied().unwrap_or_default(),
    }
}

fn main() {
    let cases: usize = env("REDRESS_BENCH_CASES", 1_000_000);
    let ingest_cases: usize = env("REDRESS_BENCH_INGEST_CASES", 4_000);
    let calls: usize = env("REDRESS_BENCH_CALLS", 24);
    let fresh_seconds: u64 = env("REDRESS_BENCH_FRESH_SECONDS", 20);
    let python: String = env("REDRESS_BENCH_PYTHON", "python3".to_string());
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let db = runtime.block_on(TestDatabase::create());
    let shutdown = CancellationToken::new();

    let ingested = runtime.block_on(ingest(&db.url, ingest_cases, cases as u64 + 1, &shutdown));
    let fresh = runtime.block_on(freshness(&ingested, &db.url, ingest_cases, FRESH_CASES_PER_SECOND, fresh_seconds));
    let (seed_seconds, latencies) = runtime.block_on(async {
        let seed_seconds = seed_large(&ingested.db, cases).await;
        let seeded = format!("SELECT count(*) FROM case_facts WHERE tenant = '{LARGE_TENANT}'");
        assert_eq!(scalar(&ingested.db, &seeded).await, cases as i64);
        (seed_seconds, reports(ingested.analytics, calls).await)
    });
    let (flight_rows, flight_seconds) = flight(&python, ingested.flight, "SELECT * FROM cases");
    assert_eq!(flight_rows, cases as u64, "Flight SQL returned every case");
    let tenant = format!("tenant = '{LARGE_TENANT}'");
    let select =
        redress_analytics::store::views::select("cases", DatabaseBackend::Postgres, &tenant).expect("the view");
    let copy_seconds = copy(&db.url, &select);
    shutdown.cancel();
    runtime.block_on(async {
        let _ = ingested.db.close().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    });

    let Ingested { write_seconds, events, fold_seconds, .. } = ingested;
    let flight_rate = flight_rows as f64 / flight_seconds;
    let copy_rate = cases as f64 / copy_seconds;
    println!("Analytics on PostgreSQL");
    println!(
        "ingest: {ingest_cases} cases taken through their life by {CLIENTS} clients of the case service \
         ({events} events, written in {write_seconds:.1} s), then folded by the analytics consumer from the event stream:"
    );
    println!(
        "    folded         {:>10.0} events/s ({events} events in {fold_seconds:.2} s)",
        events as f64 / fold_seconds
    );
    println!(
        "freshness: case lives started at {FRESH_CASES_PER_SECOND} a second for {fresh_seconds} s ({:.0} events/s offered), \
         lag from each event's write in the case service to its fold:",
        fresh.events_per_second
    );
    println!(
        "    {} events: p50 {:.1} ms, p99 {:.1} ms, worst {:.1} ms (goal: p99 under 1 s at 500 events/s)",
        fresh.events,
        ms(fresh.p50),
        ms(fresh.p99),
        ms(fresh.max)
    );
    println!(
        "reports over {cases} cases of one tenant (the reporting tables filled in bulk with SQL generate_series \
         in {seed_seconds:.1} s, not through the pipeline), {calls} calls each after 2 warm-up calls, one at a time:"
    );
    println!("    {:<44} {:>9} {:>9}   answer", "report", "p50 ms", "p99 ms");
    for l in &latencies {
        println!("    {:<44} {:>9.1} {:>9.1}   {}", l.name, ms(l.p50), ms(l.p99), l.what);
    }
    println!("SELECT * FROM cases, {cases} rows, best of 2 each:");
    println!("    Flight SQL into Python (ADBC + pyarrow)  {flight_rate:>12.0} rows/s ({flight_seconds:.2} s)");
    println!("    psql COPY (same SELECT) TO STDOUT        {copy_rate:>12.0} rows/s ({copy_seconds:.2} s)");
    println!("ratio Flight SQL / COPY: {:.2}", flight_rate / copy_rate);
    println!("whole run: {:.0} s", started.elapsed().as_secs_f64());
    drop(db);
}
