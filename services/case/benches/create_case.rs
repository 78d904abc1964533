//! CreateCase throughput and latency against PostgreSQL at 16 concurrent clients, beside
//! pgbench writing the same rows in one transaction, in the same run.
//!
//! `cargo bench -p redress-case --bench create_case` (or `script/bench`). Set
//! `REDRESS_BENCH_SECONDS` to change the measuring time (default 10).

use std::sync::Arc;
use std::time::{Duration, Instant};

use prost::Message;
use redress_kit::Config;
use redress_proto::case::v1::case_service_client::CaseServiceClient;
use redress_proto::case::v1::{Case, CreateCaseRequest};
use redress_proto::common::v1::{Channel, Customer, CustomerTier};
use redress_testkit::bench::{ms, percentile, pgbench};
use redress_testkit::{Running, TestDatabase};

const CLIENTS: usize = 16;

fn complaint(i: usize) -> Case {
    Case {
        customer: Some(Customer {
            customer_id: format!("cust-{i}"),
            display_name: "Ana Silva".into(),
            email: "ana@example.com".into(),
            phone: "+447700900123".into(),
            tier: CustomerTier::Gold as i32,
            locale: "en-GB".into(),
        }),
        channel: Channel::Email as i32,
        subject: "Kettle never arrived".into(),
        description: "I ordered a kettle three weeks ago. It never arrived and nobody answers my emails. \
                      I want a refund and an explanation."
            .into(),
        desired_outcome: "a refund".into(),
        category: "delivery".into(),
        ..Case::default()
    }
}

async fn run_redress(url: &str, seconds: u64) -> (f64, Duration, Duration, usize) {
    let mut config = Config::default();
    config.database.url = url.to_string();
    config.database.max_connections = 32;
    config.log.level = "warn".into();
    let options = redress_case::Options::from_config(&config).expect("options");
    let server = Running::serve(redress_case::build(options).await.expect("build").into_component()).await;
    let channel = server.channel().await;
    let start = Instant::now();
    let warmup = Duration::from_secs(2);
    let end = start + warmup + Duration::from_secs(seconds);
    let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let mut client = CaseServiceClient::new(channel.clone());
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let now = Instant::now();
                if now >= end {
                    return latencies;
                }
                let i = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let mut request = tonic::Request::new(CreateCaseRequest {
                    parent: "tenants/bench".into(),
                    case: Some(complaint(i)),
                    request_id: uuid::Uuid::now_v7().to_string(),
                });
                request.metadata_mut().insert("x-redress-tenant", "bench".parse().expect("tenant"));
                client.create_case(request).await.expect("create");
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
    server.stop().await;
    latencies.sort();
    let throughput = latencies.len() as f64 / seconds as f64;
    let document_size = complaint(0).encoded_len() + 200;
    (throughput, percentile(&latencies, 0.5), percentile(&latencies, 0.99), document_size)
}

/// pgbench inserting the rows one CreateCase writes (request, case, timeline entry, event) in
/// one transaction, into the case service's own tables.
fn run_pgbench(url: &str, seconds: u64, document_size: usize) -> f64 {
    let script = format!(
        "\\set n random(1, 1000000000)
BEGIN;
INSERT INTO redress_case.requests (tenant, request_id, method, case_id, resource, create_time)
  VALUES ('pgbench', gen_random_uuid()::text, 'CreateCase', gen_random_uuid(), 'tenants/pgbench/cases/x', now());
INSERT INTO redress_case.cases (id, tenant, reference, status, severity, channel, category, owner, team, customer_id,
  unhappy, external_reference, version, create_time, update_time, document)
  VALUES (gen_random_uuid(), 'pgbench', 'RD-' || md5(random()::text), 1, 2, 2, 'delivery', '', '', 'cust-' || :n,
  false, NULL, 1, now(), now(), decode(repeat('ab', {document_size}), 'hex'));
INSERT INTO redress_case.timeline_entries (case_id, position, tenant, create_time, document)
  VALUES (gen_random_uuid(), 1, 'pgbench', now(), decode(repeat('ab', 120), 'hex'));
INSERT INTO redress_case.events (sequence, tenant, case_id, event_type, event_time, payload)
  VALUES (NULL, 'pgbench', gen_random_uuid(), 1, now(), decode(repeat('ab', {}), 'hex'));
END;
",
        document_size + 200
    );
    pgbench(url, "redress-create-case", &script, CLIENTS, seconds)
}

fn main() {
    let seconds: u64 = std::env::var("REDRESS_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let db = runtime.block_on(TestDatabase::create());
    let (throughput, p50, p99, document_size) = runtime.block_on(run_redress(&db.url, seconds));
    let pgbench = run_pgbench(&db.url, seconds, document_size);
    println!("CreateCase over gRPC, PostgreSQL, {CLIENTS} concurrent clients, {seconds} s:");
    println!("  throughput   {throughput:>10.0} cases/s");
    println!("  latency p50  {:>10.2} ms", ms(p50));
    println!("  latency p99  {:>10.2} ms", ms(p99));
    println!("pgbench, the same rows in one transaction, {CLIENTS} clients:");
    println!("  throughput   {pgbench:>10.0} tx/s");
    println!("ratio redress / pgbench: {:.2} (goal: at least 0.60)", throughput / pgbench);
    drop(db);
}
