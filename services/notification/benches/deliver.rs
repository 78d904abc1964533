//! Delivery throughput and latency: notifications per second from SendNotification through
//! the outbox to a local SMTP server and a local webhook receiver, and the time from request
//! to arrival (p50, p99), on PostgreSQL and on SQLite.
//!
//! `cargo bench -p redress-notification --bench deliver` (or `script/bench`). Set
//! `REDRESS_BENCH_NOTIFICATIONS` to change how many are sent (default 4000, half email, half
//! webhook), `REDRESS_BENCH_CLIENTS` how many clients send at once (default 32).

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redress_proto::notification::v1::*;
use redress_testkit::Backend;
use redress_testkit::bench::percentile;
use support::sinks::{HttpSink, SmtpBehaviour, SmtpSink};
use support::{NotificationServer, Notifications, email};
use tokio::sync::Mutex;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn webhook(url: &str, i: usize) -> Notification {
    Notification {
        recipient: Some(Recipient { recipient: Some(recipient::Recipient::Address(url.into())) }),
        channel: NotificationChannel::Webhook as i32,
        content: Some(notification::Content::Body(MessageBody {
            subject: format!("Case {i} escalated"),
            text: "The first-response clock ran out.".into(),
            html: String::new(),
        })),
        ..Notification::default()
    }
}

async fn run(backend: Backend, total: usize, clients: usize) {
    let smtp = SmtpSink::start(SmtpBehaviour::default()).await;
    let hooks = HttpSink::start(Vec::new()).await;
    let smtp_url = smtp.url();
    let server = NotificationServer::start(backend, |c| {
        c.log.level = "warn".into();
        c.database.max_connections = 32;
        c.notification.smtp_url = smtp_url;
        c.notification.workers = 8;
        c.notification.batch_size = 64;
        c.notification.smtp_pool_size = 64;
        // One webhook URL receives half of everything: the per-recipient limit would hold it.
        c.notification.rate_limit_max = u32::try_from(total).unwrap_or(u32::MAX);
    })
    .await;
    let hook_url = hooks.url("/hooks");
    let started: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let begin = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let mut client = server.client("acme", "system:bench", "system").await;
        let (started, hook_url) = (started.clone(), hook_url.clone());
        tasks.push(tokio::spawn(async move {
            for i in (c..total).step_by(clients) {
                let notification = if i % 2 == 0 {
                    email(&format!("customer{i}@example.com"), &format!("Your case {i}"), "We are on it.")
                } else {
                    webhook(&hook_url, i)
                };
                let at = Instant::now();
                let sent = client.send(&format!("bench-{i}"), notification).await.expect("send");
                started.lock().await.insert(sent.name, at);
            }
        }));
    }
    for task in tasks {
        task.await.expect("client");
    }
    let accepted = begin.elapsed();
    let deadline = Instant::now() + Duration::from_secs(300);
    while smtp.count() + hooks.hits().len() < total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let started = started.lock().await;
    let mut arrivals: Vec<(String, Instant)> =
        smtp.mails().into_iter().filter_map(|m| m.header("X-Redress-Notification").map(|name| (name, m.at))).collect();
    arrivals.extend(
        hooks.hits().into_iter().filter_map(|h| h.headers.get("x-redress-notification").map(|n| (n.clone(), h.at))),
    );
    let mut latencies: Vec<Duration> = arrivals
        .iter()
        .filter_map(|(name, at)| started.get(name).map(|sent| at.saturating_duration_since(*sent)))
        .collect();
    latencies.sort();
    let last = arrivals.iter().map(|(_, at)| *at).max().unwrap_or(begin);
    let elapsed = last.saturating_duration_since(begin);
    println!(
        "deliver {:<8} {} notifications ({} email, {} webhook) from {clients} clients: accepted in {:.2}s; \
         delivered {:.0}/s; request to delivery p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        format!("{backend:?}").to_lowercase(),
        latencies.len(),
        smtp.count(),
        hooks.hits().len(),
        accepted.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64().max(1e-9),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    assert_eq!(latencies.len(), total, "every notification delivered");
    server.running.stop().await;
}

fn main() {
    let total = setting("REDRESS_BENCH_NOTIFICATIONS", 4000);
    let clients = setting("REDRESS_BENCH_CLIENTS", 32);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        run(Backend::Postgres, total, clients).await;
        run(Backend::Sqlite, total, clients).await;
    });
}
