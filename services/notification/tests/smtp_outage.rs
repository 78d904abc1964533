//! The SMTP server is down for 30 s, then comes up: every message arrives once, after
//! retries, with the Message-ID it was given when accepted. On PostgreSQL and SQLite. The retry
//! schedule is configured short (1 s doubling to 5 s) so the test takes about 35 s.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use redress_proto::notification::v1::DeliveryStatus;
use redress_testkit::{Backend, on_both_backends};
use support::sinks::{SmtpBehaviour, SmtpSink};
use support::{NotificationServer, Notifications, email};

on_both_backends!(smtp_down_for_thirty_seconds_then_up_delivers_each_message_once);

const OUTAGE: Duration = Duration::from_secs(30);

async fn smtp_down_for_thirty_seconds_then_up_delivers_each_message_once(backend: Backend) {
    // A port nobody listens on yet: connections are refused until the server starts on it.
    let port = redress_testkit::free_port();
    let server = NotificationServer::start(backend, |c| {
        c.notification.smtp_url = format!("smtp://127.0.0.1:{port}");
        c.notification.retry_base_delay = "1s".into();
        c.notification.retry_max_delay = "5s".into();
        c.notification.retry_max_attempts = 40;
    })
    .await;
    let mut client = server.client("acme", "agent-7", "agent").await;
    let started = Instant::now();
    let mut sent = HashMap::new();
    for i in 0..5 {
        let to = format!("customer{i}@example.com");
        let n = client.send(&format!("outage-{i}"), email(&to, "Your case", "We are on it")).await.expect("send");
        sent.insert(to, n);
    }

    // While the server is down, each notification is retrying with the error visible.
    let first = sent.values().next().expect("one").name.clone();
    let retrying = client.wait_status(&first, DeliveryStatus::Retrying, Duration::from_secs(10)).await;
    assert_eq!(retrying.status, DeliveryStatus::Retrying as i32, "{retrying:?}");
    assert!(retrying.last_error.contains("smtp connection failed"), "{}", retrying.last_error);
    assert!(retrying.next_attempt_time.is_some());

    tokio::time::sleep(OUTAGE.saturating_sub(started.elapsed())).await;
    for n in sent.values() {
        let n = client.get(&n.name).await;
        assert_ne!(n.status, DeliveryStatus::Delivered as i32, "nothing can be delivered while the server is down");
        assert_ne!(n.status, DeliveryStatus::DeadLetter as i32, "a lost connection is transient: {}", n.last_error);
    }
    let smtp = SmtpSink::start_on(port, SmtpBehaviour::default()).await;
    let up = Instant::now();

    let mails = smtp.wait_for(5, Duration::from_secs(20)).await;
    assert_eq!(mails.len(), 5, "every message arrives after the outage");
    let arrived_after = up.elapsed();
    for (to, n) in &sent {
        let done = client.wait_status(&n.name, DeliveryStatus::Delivered, Duration::from_secs(10)).await;
        assert_eq!(done.status, DeliveryStatus::Delivered as i32, "{done:?}");
        assert!(done.attempts >= 4, "delivered after retries: {} attempts", done.attempts);
        assert!(
            done.last_error.contains("smtp connection failed"),
            "the last failure stays visible: {}",
            done.last_error
        );
        let received: Vec<_> = mails.iter().filter(|m| m.to == [to.clone()]).collect();
        assert_eq!(received.len(), 1, "{to} got it once");
        assert_eq!(received[0].header("Message-ID").as_deref(), Some(done.message_id.as_str()));
    }
    // Nothing more arrives later.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(smtp.count(), 5, "each message once");
    eprintln!(
        "smtp outage: {:.1}s down, all 5 delivered {:.1}s after the server came up, {:.1}s in all",
        OUTAGE.as_secs_f64(),
        arrived_after.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    server.running.stop().await;
}
