//! The timer index against a Redis server of its own: schedule throughput, fire lateness and
//! Redis memory per pending timer for 100,000 and 1,000,000 timers, beside `redis-benchmark`'s
//! ZADD throughput on the same machine in the same run.
//!
//! `cargo bench -p redress-escalation --bench timers` (or `script/bench`).
//! Goals: lateness p99 ≤ 50 ms and max ≤ 250 ms for 100,000 timers due over 30 s; ≥ 30,000
//! timers scheduled per second from one process; ≤ 200 bytes of Redis memory per pending timer.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redress_escalation::timers::redis::RedisIndex;
use redress_escalation::timers::worker::{Act, WorkerOptions, run_worker};
use redress_escalation::timers::{Claimed, TimerIndex, TimerKey, now_ms};
use redress_testkit::PrivateRedis;
use tokio_util::sync::CancellationToken;

/// Records how late each timer fired.
struct Recorder {
    lateness: Mutex<Vec<i64>>,
}

#[async_trait::async_trait]
impl Act for Recorder {
    async fn act(&self, claimed: &[Claimed]) -> Vec<String> {
        let now = now_ms();
        let mut lateness = self.lateness.lock().unwrap_or_else(|p| p.into_inner());
        lateness.extend(claimed.iter().map(|c| now - c.due_ms));
        claimed.iter().map(|c| c.member.clone()).collect()
    }
}

async fn used_memory(connection: &mut redis::aio::MultiplexedConnection) -> i64 {
    let info: String = redis::cmd("INFO").arg("memory").query_async(connection).await.expect("INFO");
    info.lines().find_map(|l| l.strip_prefix("used_memory:")).and_then(|v| v.trim().parse().ok()).expect("used_memory")
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn run(redis: &PrivateRedis, count: usize, window: Duration) {
    let client = redis::Client::open(redis.url.as_str()).expect("client");
    let mut plain = client.get_multiplexed_async_connection().await.expect("connect");
    redis::cmd("FLUSHALL").query_async::<()>(&mut plain).await.expect("flush");
    let before = used_memory(&mut plain).await;
    let manager = redress_kit::redis::connect(&redis.url).await.expect("connect");
    let shutdown = CancellationToken::new();
    let index: Arc<dyn TimerIndex> = RedisIndex::new(client, manager, "bench", shutdown.clone()).await.expect("index");

    // Schedule: due uniformly over the window, starting after scheduling is done.
    let lead = Duration::from_secs(if count > 200_000 { 40 } else { 8 });
    let start = now_ms() + lead.as_millis() as i64;
    let span = window.as_millis() as i64;
    let timers: Vec<(String, i64)> = (0..count)
        .map(|i| {
            let key = TimerKey { case_id: uuid::Uuid::now_v7(), clock: (i % 3 + 1) as u8, generation: 1 };
            (key.encode(), start + (i as i64 * span) / count as i64)
        })
        .collect();
    let began = Instant::now();
    let mut batches = Vec::new();
    for chunk in timers.chunks(2_000) {
        let index = index.clone();
        let chunk = chunk.to_vec();
        batches.push(tokio::spawn(async move { index.schedule(&chunk).await }));
        if batches.len() >= 8 {
            for b in batches.drain(..) {
                b.await.expect("join").expect("schedule");
            }
        }
    }
    for b in batches {
        b.await.expect("join").expect("schedule");
    }
    let scheduled_in = began.elapsed();
    let after = used_memory(&mut plain).await;
    assert!(now_ms() < start, "scheduling took longer than the lead; lengthen it");

    let recorder = Arc::new(Recorder { lateness: Mutex::new(Vec::with_capacity(count)) });
    let mut workers = Vec::new();
    for _ in 0..2 {
        let (index, act) = (index.clone(), recorder.clone() as Arc<dyn Act>);
        let options =
            WorkerOptions { batch: 512, visibility: Duration::from_secs(30), max_sleep: Duration::from_secs(5) };
        workers.push(tokio::spawn(run_worker(index, act, options, None, shutdown.clone())));
    }
    let deadline = Instant::now() + lead + window + Duration::from_secs(30);
    while recorder.lateness.lock().map(|l| l.len()).unwrap_or(0) < count && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shutdown.cancel();
    for w in workers {
        let _ = w.await;
    }
    let mut lateness = recorder.lateness.lock().map(|l| l.clone()).unwrap_or_default();
    lateness.sort_unstable();
    println!("{count} timers due over {} s:", window.as_secs());
    println!(
        "  scheduled        {:>10.0} timers/s ({:.2} s)",
        count as f64 / scheduled_in.as_secs_f64(),
        scheduled_in.as_secs_f64()
    );
    println!("  fired            {:>10} of {count}", lateness.len());
    println!(
        "  lateness         p50 {} ms   p99 {} ms   max {} ms",
        percentile(&lateness, 0.5),
        percentile(&lateness, 0.99),
        lateness.last().copied().unwrap_or_default()
    );
    println!("  redis memory     {:>10.1} bytes per pending timer", (after - before) as f64 / count as f64);
}

fn redis_benchmark_zadd(port: u16) -> String {
    let output = std::process::Command::new("redis-benchmark")
        .args(["-p", &port.to_string(), "-t", "zadd", "-n", "300000", "-c", "50", "-P", "16", "-q"])
        .output()
        .expect("redis-benchmark is installed (it ships with Redis)");
    String::from_utf8_lossy(&output.stdout)
        .split(['\r', '\n'])
        .rfind(|l| l.contains("ZADD"))
        .unwrap_or("no ZADD figure")
        .trim()
        .to_string()
}

fn main() {
    let redis = PrivateRedis::start();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(run(&redis, 100_000, Duration::from_secs(30)));
    runtime.block_on(run(&redis, 1_000_000, Duration::from_secs(60)));
    println!("redis-benchmark on the same machine, pipelined 16: {}", redis_benchmark_zadd(redis.port));
}
