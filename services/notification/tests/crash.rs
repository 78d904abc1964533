//! Never twice, proved against crashes and replicas: two real `redress serve notification`
//! processes share one PostgreSQL database; 1,000 emails are accepted; one replica is killed
//! with SIGKILL while deliveries are in flight, then the other; both are restarted. At the SMTP
//! server every notification has arrived, each under the one Message-ID it was given when
//! accepted; the only copies beyond one per notification are of messages that were being sent
//! when a process died (the SMTP server had taken the message but the process never recorded
//! it), and they carry the same Message-ID, so receivers drop them. Sending the 1,000
//! request_ids again afterwards creates and sends nothing.
//!
//! Needs the binary: `cargo build -p redress` (as `script/test` does), or `REDRESS_BIN`.

mod support;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use redress_proto::notification::v1::notification_service_client::NotificationServiceClient;
use redress_proto::notification::v1::{SendNotificationRequest, SendNotificationResponse};
use redress_testkit::{TestDatabase, free_port};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use support::email;
use support::sinks::{SmtpBehaviour, SmtpSink};
use tokio::process::{Child, Command};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const NOTIFICATIONS: usize = 1_000;
const WORKERS: usize = 2;
const BATCH: usize = 8;

/// The `redress` binary, checked to be newer than this service's sources.
fn binary() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = std::env::var_os("REDRESS_BIN").map(PathBuf::from).unwrap_or_else(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
        target.join("debug").join("redress")
    });
    let built = std::fs::metadata(&path).and_then(|m| m.modified()).unwrap_or_else(|_| {
        panic!("no redress binary at {}: run `cargo build -p redress` first (`script/test` does)", path.display())
    });
    let newest = newest_source(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(
        built >= newest,
        "{} is older than the notification service's sources: run `cargo build -p redress` again",
        path.display()
    );
    path
}

fn newest_source(dir: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let time = if path.is_dir() {
            newest_source(&path)
        } else {
            entry.metadata().and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH)
        };
        newest = newest.max(time);
    }
    newest
}

/// A `redress serve notification` process.
struct Replica {
    port: u16,
    child: Child,
}

impl Replica {
    async fn start(database: &str, smtp: &str, logs: &Path, name: &str) -> Self {
        let port = free_port();
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(logs.join(format!("{name}.log"))).expect("log");
        let mut command = Command::new(binary());
        for (key, _) in std::env::vars() {
            if key.starts_with("REDRESS_") && !key.starts_with("REDRESS_TEST_") {
                command.env_remove(key);
            }
        }
        let settings = [
            format!("notification.listen=127.0.0.1:{port}"),
            format!("notification.database_url={database}"),
            format!("notification.smtp_url={smtp}"),
            "notification.email_from=Acme Care <care@acme.example>".into(),
            format!("notification.workers={WORKERS}"),
            format!("notification.batch_size={BATCH}"),
            "notification.smtp_timeout=2s".into(),
            "notification.http_timeout=2s".into(),
            "notification.claim_lease=4s".into(),
            "notification.poll_interval=250ms".into(),
            "notification.retry_base_delay=200ms".into(),
            "notification.retry_max_delay=1s".into(),
            "notification.rate_limit_max=0".into(),
            "peers.case=http://127.0.0.1:9".into(),
            "metrics.listen=".into(),
            "log.level=warn".into(),
            "auth.mode=off".into(),
        ];
        for setting in settings {
            command.args(["--set", &setting]);
        }
        let child = command
            .args(["serve", "notification"])
            .kill_on_drop(true)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start redress serve notification");
        let replica = Self { port, child };
        replica.wait_serving().await;
        replica
    }

    async fn wait_serving(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let endpoint =
                tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{}", self.port)).expect("endpoint");
            if let Ok(channel) = endpoint.connect().await {
                let request = HealthCheckRequest { service: "redress.notification.v1.NotificationService".into() };
                if let Ok(response) = HealthClient::new(channel).check(request).await
                    && response.into_inner().status == ServingStatus::Serving as i32
                {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "the notification service on port {} never became SERVING", self.port);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn client(&self) -> NotificationServiceClient<tonic::transport::Channel> {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{}", self.port))
            .expect("endpoint")
            .connect()
            .await
            .expect("connect");
        NotificationServiceClient::new(channel)
    }

    /// SIGKILL: no shutdown, no draining, claims left behind.
    async fn kill(mut self) {
        self.child.start_kill().expect("SIGKILL");
        let _ = self.child.wait().await;
    }
}

async fn send(client: &mut NotificationServiceClient<tonic::transport::Channel>, i: usize) -> SendNotificationResponse {
    let mut request = tonic::Request::new(SendNotificationRequest {
        parent: "tenants/acme".into(),
        notification: Some(email(&format!("customer{i}@example.com"), &format!("Your case {i}"), "We are on it.")),
        request_id: format!("crash-{i}"),
    });
    request.metadata_mut().insert("x-redress-tenant", "acme".parse().expect("tenant"));
    request.metadata_mut().insert("x-redress-actor", "agent-7".parse().expect("actor"));
    client.send_notification(request).await.expect("send").into_inner()
}

/// Sends every request_id through both replicas in turn, 32 at a time; returns the names.
async fn send_all(a: &Replica, b: &Replica) -> HashMap<usize, String> {
    let clients = [a.client().await, b.client().await];
    let mut names = HashMap::new();
    let mut pending = futures::stream::FuturesUnordered::new();
    use futures::StreamExt;
    for i in 0..NOTIFICATIONS {
        let mut client = clients[i % 2].clone();
        pending.push(async move { (i, send(&mut client, i).await) });
        if pending.len() >= 32
            && let Some((i, response)) = pending.next().await
        {
            names.insert(i, response.notification.expect("notification").name);
        }
    }
    while let Some((i, response)) = pending.next().await {
        names.insert(i, response.notification.expect("notification").name);
    }
    names
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row =
        db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect("query").expect("row");
    row.try_get_by_index(0).expect("count")
}

async fn wait_until(smtp: &SmtpSink, received: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while smtp.count() < received {
        assert!(Instant::now() < deadline, "only {} received", smtp.count());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_replicas_mid_delivery_never_loses_and_never_changes_a_message_id() {
    let database = TestDatabase::create().await;
    let logs = tempfile::tempdir().expect("a directory for logs");
    // Each message takes 100 ms to be accepted, so many are in flight when a process dies.
    let smtp =
        SmtpSink::start(SmtpBehaviour { accept_delay: Duration::from_millis(100), ..SmtpBehaviour::default() }).await;
    let a = Replica::start(&database.url, &smtp.url(), logs.path(), "a").await;
    let b = Replica::start(&database.url, &smtp.url(), logs.path(), "b").await;

    let names = send_all(&a, &b).await;
    assert_eq!(names.len(), NOTIFICATIONS);
    assert_eq!(names.values().collect::<HashSet<_>>().len(), NOTIFICATIONS, "one notification per request_id");

    // Kill one replica mid-delivery; the other carries on and, once the claims lapse, delivers
    // what the dead one held. Then kill that one too, and restart both.
    wait_until(&smtp, 250).await;
    a.kill().await;
    let at_first_kill = smtp.count();
    assert!(at_first_kill < NOTIFICATIONS / 2, "the first kill came mid-delivery ({at_first_kill} received)");
    wait_until(&smtp, at_first_kill + 250).await;
    b.kill().await;
    let at_second_kill = smtp.count();
    assert!(at_second_kill < NOTIFICATIONS, "the second kill came mid-delivery ({at_second_kill} received)");
    let a = Replica::start(&database.url, &smtp.url(), logs.path(), "a").await;
    let b = Replica::start(&database.url, &smtp.url(), logs.path(), "b").await;

    let db = Database::connect(database.url.as_str()).await.expect("connect");
    let delivered = "SELECT COUNT(*) FROM redress_notification.notifications WHERE status = 3";
    let deadline = Instant::now() + Duration::from_secs(90);
    while count(&db, delivered).await < NOTIFICATIONS as i64 {
        let log = std::fs::read_to_string(logs.path().join("a.log")).unwrap_or_default();
        assert!(Instant::now() < deadline, "not everything was delivered; replica a says:\n{log}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let attempts = count(&db, "SELECT COALESCE(SUM(attempts), 0) FROM redress_notification.notifications").await;

    // The same 1,000 request_ids again, after the crashes: the same notifications, nothing sent.
    let again = send_all(&a, &b).await;
    assert_eq!(again, names, "a retried request returns the notification it made");
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mails = smtp.mails();
    let mut by_recipient: HashMap<String, Vec<String>> = HashMap::new();
    for mail in &mails {
        let id = mail.header("Message-ID").expect("every mail has a Message-ID");
        by_recipient.entry(mail.to.join(",")).or_default().push(id);
    }
    assert_eq!(by_recipient.len(), NOTIFICATIONS, "every notification arrived");
    let expected: HashMap<String, String> = {
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT recipient, message_id FROM redress_notification.notifications",
            ))
            .await
            .expect("rows");
        rows.iter()
            .map(|r| {
                (r.try_get_by_index::<String>(0).expect("recipient"), r.try_get_by_index::<String>(1).expect("id"))
            })
            .collect()
    };
    let mut duplicates = 0;
    for (recipient, ids) in &by_recipient {
        let first = &ids[0];
        assert!(ids.iter().all(|id| id == first), "{recipient}: every copy has the same Message-ID: {ids:?}");
        assert_eq!(Some(first), expected.get(recipient), "{recipient}: the Message-ID given when it was accepted");
        duplicates += ids.len() - 1;
    }
    let distinct: HashSet<&String> = by_recipient.values().map(|ids| &ids[0]).collect();
    assert_eq!(distinct.len(), NOTIFICATIONS, "one Message-ID per notification");
    let in_flight_bound = 2 * WORKERS * BATCH;
    assert!(
        duplicates <= in_flight_bound,
        "only messages in flight when a process died can arrive twice: {duplicates} > {in_flight_bound}"
    );
    println!(
        "crash: {NOTIFICATIONS} accepted through 2 replicas; replica a killed at {at_first_kill} received, replica b at \
         {at_second_kill}; after restart all {NOTIFICATIONS} delivered ({attempts} attempts recorded); the SMTP server \
         received {} messages with {} distinct Message-IDs: {duplicates} duplicate copies (bound: {in_flight_bound} in \
         flight), each with its original Message-ID; resending the {NOTIFICATIONS} request_ids sent nothing",
        mails.len(),
        distinct.len(),
    );

    a.kill().await;
    b.kill().await;
    db.close().await.expect("close");
}
