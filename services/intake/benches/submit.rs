//! SubmitComplaint end to end: a client → intake (rate limit and customer lock in Redis,
//! submission record in PostgreSQL) → the case service over gRPC (ListCases for the
//! customer's history, CreateCase) → PostgreSQL, all on this machine, beside pgbench writing
//! the same rows in the same run.
//!
//! 1. Ceiling: 16 clients each submitting as fast as they are answered, taking turns with
//!    pgbench (3), round after round, so that both meet the machine in the same states; the
//!    ratio reported is the median of the rounds'.
//! 2. Fixed offered load: an open-loop generator sending at a fixed rate whether or not
//!    earlier calls have been answered; latency is measured from each call's scheduled time,
//!    so a stall counts against every call it delays.
//! 3. pgbench: the rows one SubmitComplaint writes (the case's request, case, timeline
//!    entry and event in one transaction, as the case service writes them, and intake's
//!    submission insert and update), 16 clients.
//!
//! The tenant starts with 20,000 earlier cases of other customers, and the tables are
//! analysed, as a production database's would be.
//!
//! `cargo bench -p redress-intake --bench submit` (or `script/bench`). `REDRESS_BENCH_SECONDS`
//! sets the measuring time of each phase (default 10), `REDRESS_BENCH_ROUNDS` how many rounds
//! redress and pgbench take turns for (default 3), `REDRESS_BENCH_RATE` the offered load in
//! complaints per second (default 200).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use prost::Message;
use redress_kit::Config;
use redress_kit::server::ServerOptions;
use redress_proto::case::v1::GetCaseRequest;
use redress_proto::case::v1::case_service_client::CaseServiceClient;
use redress_proto::common::v1::{Channel, Customer, CustomerTier};
use redress_proto::intake::v1::intake_service_client::IntakeServiceClient;
use redress_proto::intake::v1::{Complaint, SubmitComplaintRequest, SubmitComplaintResponse};
use redress_testkit::TestDatabase;
use redress_testkit::bench::{ms, percentile};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel as GrpcChannel;

const CLIENTS: usize = 16;
const CHANNELS: usize = 4;
const TENANT: &str = "bench";

const TEXTS: &[(Channel, &str)] = &[
    (Channel::Web, "My parcel never arrived. The tracking says delivered but nothing was left at my door."),
    (Channel::Email, "I was charged twice for order 44817 - two identical payments on my card. Please refund one."),
    (Channel::Phone, "The app keeps crashing whenever I try to log in, and the password reset email never comes."),
    (Channel::Chat, "Your driver was rude to my mother and shouted at her on her own doorstep."),
    (Channel::Email, "The washing machine still leaks after two repairs and the engineer never came back."),
    (Channel::Web, "Le colis n'est jamais arrivé et le suivi ne montre rien depuis dix jours."),
];

fn complaint(i: usize) -> Complaint {
    let (channel, text) = TEXTS[i % TEXTS.len()];
    Complaint {
        customer: Some(Customer {
            customer_id: format!("cust-{i}"),
            display_name: "Ana Silva".into(),
            email: "ana@example.com".into(),
            phone: "+447700900123".into(),
            tier: CustomerTier::Standard as i32,
            locale: "en-GB".into(),
        }),
        channel: channel as i32,
        description: text.into(),
        desired_outcome: "a refund".into(),
        ..Complaint::default()
    }
}

struct Servers {
    intake: SocketAddr,
    case: SocketAddr,
    shutdown: CancellationToken,
}

/// Earlier cases of other customers in the tenant, so that PostgreSQL plans the calls
/// against tables of a realistic size with statistics, as in production, rather than
/// against empty tables.
const SEEDED_CASES: usize = 20_000;

async fn seed(url: &str) {
    use sea_orm::ConnectionTrait;
    let db = sea_orm::Database::connect(url).await.expect("connect to seed");
    let sql = format!(
        "INSERT INTO redress_case.cases (id, tenant, reference, status, severity, channel, category, owner, team,
           customer_id, unhappy, external_reference, version, create_time, update_time, document)
         SELECT gen_random_uuid(), '{TENANT}', 'RD-SEED' || i, 1 + i % 7, 1 + i % 4, 1 + i % 8, 'delivery', '', '',
           'earlier-' || i, i % 5 = 0, NULL, 1, now() - (i || ' minutes')::interval, now(),
           decode(repeat('ab', 600), 'hex')
         FROM generate_series(1, {SEEDED_CASES}) AS i"
    );
    db.execute_unprepared(&sql).await.expect("seed cases");
    db.execute_unprepared("ANALYZE").await.expect("analyze");
    let _ = db.close().await;
}

async fn start(url: &str, redis_prefix: String, first: bool) -> Servers {
    let shutdown = CancellationToken::new();
    let mut config = Config::default();
    config.database.url = url.to_string();
    config.database.max_connections = 32;
    let options = redress_case::Options::from_config(&config).expect("case options");
    let case = redress_case::build(options).await.expect("case build").into_component();
    if first {
        seed(url).await;
    }
    let listener = redress_kit::server::bind("127.0.0.1:0".parse().expect("addr")).await.expect("bind");
    let case_addr = listener.local_addr().expect("addr");
    let token = shutdown.clone();
    tokio::spawn(
        async move { redress_kit::server::serve(listener, vec![case], &ServerOptions::default(), token).await },
    );

    config.database.max_connections = 24;
    config.peers.case = format!("http://{case_addr}");
    config.redis.url = redress_testkit::redis_url();
    config.redis.key_prefix = redis_prefix;
    config.intake.rate_limit_per_second = 1_000_000.0;
    config.intake.rate_limit_burst = 1_000_000;
    let options = redress_intake::Options::from_config(&config).expect("intake options");
    let intake = redress_intake::build(options).await.expect("intake build").into_component();
    let listener = redress_kit::server::bind("127.0.0.1:0".parse().expect("addr")).await.expect("bind");
    let intake_addr = listener.local_addr().expect("addr");
    let token = shutdown.clone();
    tokio::spawn(
        async move { redress_kit::server::serve(listener, vec![intake], &ServerOptions::default(), token).await },
    );
    Servers { intake: intake_addr, case: case_addr, shutdown }
}

async fn channels(addr: SocketAddr) -> Vec<GrpcChannel> {
    let mut out = Vec::new();
    for _ in 0..CHANNELS {
        let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{addr}")).expect("endpoint");
        out.push(endpoint.connect().await.expect("connect"));
    }
    out
}

async fn submit(client: &mut IntakeServiceClient<GrpcChannel>, i: usize) -> SubmitComplaintResponse {
    let message = SubmitComplaintRequest {
        parent: format!("tenants/{TENANT}"),
        complaint: Some(complaint(i)),
        request_id: uuid::Uuid::now_v7().to_string(),
    };
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert("x-redress-tenant", TENANT.parse().expect("tenant"));
    client.submit_complaint(request).await.expect("submit").into_inner()
}

/// Closed loop: `CLIENTS` clients submitting back to back for `seconds` after a warm-up.
async fn ceiling(channels: &[GrpcChannel], next: &Arc<AtomicUsize>, seconds: u64) -> (f64, Duration, Duration) {
    let start = Instant::now();
    let warmup = Duration::from_secs(2);
    let end = start + warmup + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let mut client = IntakeServiceClient::new(channels[c % channels.len()].clone());
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let now = Instant::now();
                if now >= end {
                    return latencies;
                }
                submit(&mut client, next.fetch_add(1, Ordering::Relaxed)).await;
                if now >= start + warmup {
                    latencies.push(now.elapsed());
                }
            }
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("client"));
    }
    latencies.sort();
    (latencies.len() as f64 / seconds as f64, percentile(&latencies, 0.5), percentile(&latencies, 0.99))
}

/// Open loop: one call every 1/`rate` seconds for `seconds`, each timed from when it was due.
async fn offered(
    channels: &[GrpcChannel],
    next: &Arc<AtomicUsize>,
    rate: f64,
    seconds: u64,
) -> (f64, Duration, Duration, usize) {
    let total = (rate * seconds as f64).round() as usize;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let mut tasks = Vec::with_capacity(total);
    for k in 0..total {
        let due = start + interval.mul_f64(k as f64);
        tokio::time::sleep_until(due).await;
        let mut client = IntakeServiceClient::new(channels[k % channels.len()].clone());
        let i = next.fetch_add(1, Ordering::Relaxed);
        tasks.push(tokio::spawn(async move {
            submit(&mut client, i).await;
            (due.elapsed(), tokio::time::Instant::now())
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let mut last = start;
    for task in tasks {
        let (latency, done) = task.await.expect("call");
        latencies.push(latency);
        last = last.max(done);
    }
    latencies.sort();
    let span = (last - start).as_secs_f64().max(seconds as f64);
    let late = latencies.iter().filter(|l| **l > Duration::from_secs(1)).count();
    (latencies.len() as f64 / span, percentile(&latencies, 0.5), percentile(&latencies, 0.99), late)
}

/// Removes the events pgbench wrote: no case service is to number them.
async fn forget_pgbench_events(url: &str) {
    use sea_orm::ConnectionTrait;
    let db = sea_orm::Database::connect(url).await.expect("connect");
    db.execute_unprepared("DELETE FROM redress_case.events WHERE tenant = 'pgbench' AND sequence IS NULL")
        .await
        .expect("forget pgbench's events");
    let _ = db.close().await;
}

/// pgbench writing the rows one SubmitComplaint writes, into the services' own tables.
fn pgbench(url: &str, seconds: u64, case_size: usize, response_size: usize) -> f64 {
    let script = format!(
        "\\set n random(1, 2000000000)
INSERT INTO redress_intake.submissions (tenant, request_id, method, request_hash, state, plan_outcome, plan_case,
  response, create_time, update_time)
  VALUES ('pgbench', 'r' || :n, 'SubmitComplaint', decode(md5(random()::text) || md5(random()::text), 'hex'), 0, 1, '',
  NULL, now(), now()) ON CONFLICT DO NOTHING;
BEGIN;
INSERT INTO redress_case.requests (tenant, request_id, method, case_id, resource, create_time)
  VALUES ('pgbench', gen_random_uuid()::text, 'CreateCase', gen_random_uuid(), 'tenants/pgbench/cases/x', now());
INSERT INTO redress_case.cases (id, tenant, reference, status, severity, channel, category, owner, team, customer_id,
  unhappy, external_reference, version, create_time, update_time, document)
  VALUES (gen_random_uuid(), 'pgbench', 'RD-' || md5(random()::text), 1, 2, 2, 'delivery', '', '', 'cust-' || :n,
  false, NULL, 1, now(), now(), decode(repeat('ab', {case_size}), 'hex'));
INSERT INTO redress_case.timeline_entries (case_id, position, tenant, create_time, document)
  VALUES (gen_random_uuid(), 1, 'pgbench', now(), decode(repeat('ab', 120), 'hex'));
INSERT INTO redress_case.events (sequence, tenant, case_id, event_type, event_time, payload)
  VALUES (NULL, 'pgbench', gen_random_uuid(), 1, now(), decode(repeat('ab', {}), 'hex'));
END;
UPDATE redress_intake.submissions SET state = 1, response = decode(repeat('ab', {response_size}), 'hex'),
  update_time = now() WHERE tenant = 'pgbench' AND request_id = 'r' || :n;
",
        case_size + 200
    );
    redress_testkit::bench::pgbench(url, "redress-submit", &script, CLIENTS, seconds)
}

fn main() {
    let seconds: u64 = std::env::var("REDRESS_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let rate: f64 = std::env::var("REDRESS_BENCH_RATE").ok().and_then(|s| s.parse().ok()).unwrap_or(200.0);
    let rounds: usize = std::env::var("REDRESS_BENCH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3).max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let db = runtime.block_on(TestDatabase::create());
    let (pairs, open) = runtime.block_on(async {
        let prefix = redress_testkit::redis_prefix().await;
        let mut servers = start(&db.url, prefix.clone(), true).await;
        let mut channels = channels(servers.intake).await;
        let next = Arc::new(AtomicUsize::new(0));
        // What one submission writes, to give pgbench rows of the same size.
        let sample = {
            let mut client = IntakeServiceClient::new(channels[0].clone());
            submit(&mut client, next.fetch_add(1, Ordering::Relaxed)).await
        };
        let mut cases = CaseServiceClient::new(channels_to(servers.case).await);
        let mut request = tonic::Request::new(GetCaseRequest { name: sample.case.clone() });
        request.metadata_mut().insert("x-redress-tenant", TENANT.parse().expect("tenant"));
        let case = cases.get_case(request).await.expect("get").into_inner().case.expect("case");
        let (case_size, response_size) = (case.encoded_len() + 200, sample.encoded_len());
        // redress and pgbench take turns, so that both meet the machine in the same states.
        // The services are stopped while pgbench runs, and pgbench's events, which no
        // sequencer should number, are removed after it.
        let mut pairs = Vec::with_capacity(rounds);
        for round in 0..rounds {
            if round > 0 {
                servers = start(&db.url, prefix.clone(), false).await;
                channels = self::channels(servers.intake).await;
            }
            let ceiling = ceiling(&channels, &next, seconds).await;
            servers.shutdown.cancel();
            tokio::time::sleep(Duration::from_millis(500)).await;
            let url = db.url.clone();
            let tps = tokio::task::spawn_blocking(move || pgbench(&url, seconds, case_size, response_size))
                .await
                .expect("pgbench");
            forget_pgbench_events(&db.url).await;
            pairs.push((ceiling, tps));
        }
        let servers = start(&db.url, prefix, false).await;
        let channels = self::channels(servers.intake).await;
        let open = offered(&channels, &next, rate, seconds).await;
        servers.shutdown.cancel();
        (pairs, open)
    });
    let (achieved, open_p50, open_p99, late) = open;
    println!("SubmitComplaint end to end (intake → case → PostgreSQL, Redis rate limit and locks), {seconds} s each:");
    println!(
        "  ceiling, {CLIENTS} concurrent clients, taking turns with pgbench writing the same rows (case: 4 rows in \
         one transaction; intake: submission insert and update), {CLIENTS} clients:"
    );
    println!("    round   redress/s    p50 ms    p99 ms   pgbench tx/s   ratio");
    let mut ratios = Vec::with_capacity(pairs.len());
    for (round, ((throughput, p50, p99), tps)) in pairs.iter().enumerate() {
        let ratio = throughput / tps;
        ratios.push(ratio);
        println!(
            "    {:>5} {throughput:>11.0} {:>9.2} {:>9.2} {tps:>14.0} {ratio:>7.2}",
            round + 1,
            ms(*p50),
            ms(*p99)
        );
    }
    println!("  fixed offered load, open loop at {rate:.0}/s (latency from each call's scheduled time):");
    println!("    completed      {achieved:>10.0} complaints/s");
    println!("    latency p50    {:>10.2} ms", ms(open_p50));
    println!("    latency p99    {:>10.2} ms", ms(open_p99));
    println!("    over 1 s       {late:>10}");
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    println!("ratio redress / pgbench, median of {} rounds: {median:.2} (goal: at least 0.50)", ratios.len());
    drop(db);
}

async fn channels_to(addr: SocketAddr) -> GrpcChannel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect")
}
