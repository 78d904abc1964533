//! The `redress` binary as a user runs it: bad configuration is refused in one line naming the
//! key; `migrate` then `serve case` works on PostgreSQL and on SQLite; `up` serves all five
//! services with per-RPC metrics; SIGTERM stops it within 5 s with exit code 0; a burst of
//! concurrent submissions to `up` all succeed without SQLite ever reporting a locked database.

mod support;

use support::redress;

use redress_testkit::{TestDatabase, Up, free_port, terminate, wait_serving};
use sea_orm::{ConnectionTrait, Database, Statement};
use std::process::Stdio;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn bad_configuration_is_refused_in_one_line_naming_the_key() {
    struct Bad {
        args: &'static [&'static str],
        env: &'static [(&'static str, &'static str)],
        expected: &'static str,
    }
    let cases = [
        Bad { args: &["serve", "billing"], env: &[], expected: r#"unknown service "billing""# },
        Bad {
            args: &["serve", "case"],
            env: &[("REDRESS_CASE__DATABASE_URL", "postgres//db/redress")],
            expected: "case.database_url: malformed URL",
        },
        Bad {
            args: &["--set", "case.listen=0.0.0.0:70000", "serve", "case"],
            env: &[],
            expected: "case.listen: port 70000 is out of range",
        },
        Bad {
            args: &["serve", "case"],
            env: &[("REDRESS_CASE__COLOUR", "blue")],
            expected: "case.colour: unknown key",
        },
        Bad { args: &["serve", "escalation"], env: &[], expected: "redis.url: required by the escalation service" },
        Bad { args: &["serve", "case"], env: &[], expected: "auth.mode: required outside `redress up`" },
        Bad {
            args: &["serve", "case"],
            env: &[("REDRESS_AUTH__MODE", "tokens")],
            expected: "auth.service_token: required in tokens mode",
        },
    ];
    for Bad { args, env, expected } in cases {
        let output = redress().args(args).envs(env.iter().copied()).output().await.expect("run redress");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: one line, got {stderr:?}");
        assert!(stderr.contains(expected), "{args:?}: expected {expected:?} in {stderr:?}");
    }
}

async fn migrate_then_serve_case(env: &[(&str, &str)]) {
    let migrate = redress().args(["migrate", "case"]).envs(env.iter().copied()).output().await.expect("migrate");
    assert!(migrate.status.success(), "migrate: {}", String::from_utf8_lossy(&migrate.stderr));

    let port = free_port();
    let child = redress()
        .args(["serve", "case", "--set", &format!("case.listen=127.0.0.1:{port}"), "--set", "metrics.listen="])
        .args(["--set", "auth.mode=off"])
        .args(["--set", "database.migrate_on_start=false"])
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve case");
    wait_serving(port, "redress.case.v1.CaseService").await;
    terminate(child).await;
}

#[tokio::test]
async fn migrate_then_serve_case_on_postgres() {
    let db = TestDatabase::create().await;
    // The API keys live beside the case service's tables only when database.url is set; here
    // they go to a SQLite file in a directory of the test's own.
    let dir = tempfile::tempdir().expect("data dir");
    let data_dir = dir.path().to_str().expect("utf-8 path");
    migrate_then_serve_case(&[("REDRESS_CASE__DATABASE_URL", &db.url), ("REDRESS_DATA_DIR", data_dir)]).await;

    let conn = Database::connect(db.url.as_str()).await.expect("connect");
    let row = conn
        .query_one_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT count(*) AS n FROM information_schema.tables \
             WHERE table_schema = 'redress_case' AND table_name = 'seaql_migrations'",
        ))
        .await
        .expect("query")
        .expect("a row");
    let n: i64 = row.try_get("", "n").expect("count");
    assert_eq!(n, 1, "the case service keeps its tables in its own schema");
    conn.close().await.expect("close");
}

#[tokio::test]
async fn migrate_then_serve_case_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().to_str().expect("utf-8 path");
    migrate_then_serve_case(&[("REDRESS_DATA_DIR", data_dir)]).await;
    assert!(dir.path().join("case.db").is_file(), "the case service keeps its own SQLite file");
}

async fn http_get(port: u16, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut body = String::new();
    stream.read_to_string(&mut body).await.expect("read");
    body
}

#[tokio::test]
async fn up_serves_all_five_with_metrics_and_stops_on_sigterm() {
    let up = Up::start(redress(), &[]).await;
    let metrics_port = up.metrics_port;

    // A call without a tenant is refused, and the call shows up in the per-RPC metrics.
    let channel = up.channel().await;
    let mut analytics = redress_proto::analytics::v1::analytics_service_client::AnalyticsServiceClient::new(channel);
    let _ = analytics.get_overview(redress_proto::analytics::v1::GetOverviewRequest::default()).await;
    let metrics = http_get(metrics_port, "/metrics").await;
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    // Probes that cannot speak gRPC (over TLS) ask the metrics port instead.
    let ready = http_get(metrics_port, "/readyz").await;
    assert!(ready.starts_with("HTTP/1.1 200") && ready.ends_with("ready\n"), "{ready}");
    let alive = http_get(metrics_port, "/livez").await;
    assert!(alive.starts_with("HTTP/1.1 200"), "{alive}");
    let line = metrics
        .lines()
        .find(|l| l.starts_with("rpc_server_call_duration_seconds_count") && l.contains("rpc_method=\"GetOverview\""))
        .unwrap_or_else(|| panic!("no GetOverview latency histogram in:\n{metrics}"));
    assert!(line.contains("rpc_grpc_status_code="), "{line}");

    up.stop().await;
}

/// The local addresses of the TCP sockets `pid` listens on, from /proc.
fn listening_addresses(pid: u32) -> Vec<std::net::SocketAddr> {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("the process's descriptors")
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().into_owned();
            Some(target.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
        })
        .collect();
    let mut addresses = Vec::new();
    for (file, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
        let table = std::fs::read_to_string(file).unwrap_or_default();
        for line in table.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // local_address, state (0A is LISTEN) and inode.
            let (Some(local), Some(state), Some(inode)) = (fields.get(1), fields.get(3), fields.get(9)) else {
                continue;
            };
            if *state != "0A" || !inodes.iter().any(|i| i == inode) {
                continue;
            }
            let (host, port) = local.split_once(':').expect("host:port");
            let port = u16::from_str_radix(port, 16).expect("a port");
            let bytes: Vec<u8> =
                (0..host.len() / 2).map(|i| u8::from_str_radix(&host[2 * i..2 * i + 2], 16).expect("hex")).collect();
            let ip: std::net::IpAddr = if v6 {
                // Four 32-bit words, each in host (little-endian) order.
                let mut octets = [0u8; 16];
                for (word, chunk) in bytes.chunks(4).enumerate() {
                    for (i, byte) in chunk.iter().rev().enumerate() {
                        octets[word * 4 + i] = *byte;
                    }
                }
                std::net::Ipv6Addr::from(octets).into()
            } else {
                std::net::Ipv4Addr::new(bytes[3], bytes[2], bytes[1], bytes[0]).into()
            };
            addresses.push(std::net::SocketAddr::new(ip, port));
        }
    }
    addresses
}

#[tokio::test]
async fn up_with_default_settings_listens_on_loopback_only() {
    // The defaults are fixed ports, which another program (or another test's port 0) may hold
    // for a moment: start once all three are free.
    let defaults = [50051, 9464, 50057];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !defaults.iter().all(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok()) {
        assert!(std::time::Instant::now() < deadline, "the default ports {defaults:?} stay taken");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let child = redress()
        .args(["up", "--data-dir", dir.path().to_str().expect("utf-8")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("up");
    // The defaults: gRPC on 50051, metrics on 9464, Flight SQL on 50057.
    wait_serving(50051, "").await;
    let pid = child.id().expect("running");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let addresses = loop {
        let addresses = listening_addresses(pid);
        if addresses.len() >= 3 || std::time::Instant::now() > deadline {
            break addresses;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let ports: Vec<u16> = addresses.iter().map(|a| a.port()).collect();
    for port in defaults {
        assert!(ports.contains(&port), "redress up listens on {port}: {addresses:?}");
    }
    assert!(addresses.iter().all(|a| a.ip().is_loopback()), "every listener is on loopback: {addresses:?}");
    terminate(child).await;
}

/// 32 callers submit 200 complaints each, all at once, to `redress up` on its SQLite files:
/// every call succeeds, analytics counts every case, and no write ever met a locked database.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_submissions_to_up_never_finds_the_database_locked() {
    use redress_proto::analytics::v1::GetOverviewRequest;
    use redress_proto::analytics::v1::analytics_service_client::AnalyticsServiceClient;
    use redress_proto::common::v1::{Channel as ContactChannel, Customer};
    use redress_proto::intake::v1::intake_service_client::IntakeServiceClient;
    use redress_proto::intake::v1::{Complaint, SubmitComplaintRequest};

    const CALLERS: usize = 32;
    const EACH: usize = 200;
    let limits = ["intake.rate_limit_per_second=100000".to_string(), "intake.rate_limit_burst=100000".to_string()];
    let up = Up::start_logged(redress(), &limits).await;
    let log_path = up.log_path();
    let channel = up.channel().await;
    fn identify<T>(message: T) -> tonic::Request<T> {
        redress_testkit::request(message, "acme", "agent-1", "supervisor")
    }

    let started = std::time::Instant::now();
    let mut callers = Vec::new();
    for caller in 0..CALLERS {
        let mut intake = IntakeServiceClient::new(channel.clone());
        callers.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            for i in 0..EACH {
                let request = SubmitComplaintRequest {
                    parent: "tenants/acme".into(),
                    complaint: Some(Complaint {
                        customer: Some(Customer { customer_id: format!("c-{caller}-{i}"), ..Default::default() }),
                        channel: ContactChannel::Email as i32,
                        description: format!("Order {caller}-{i}: the kettle I bought leaks from the base."),
                        ..Default::default()
                    }),
                    request_id: format!("burst-{caller}-{i}"),
                };
                if let Err(status) = intake.submit_complaint(identify(request)).await {
                    failures.push(format!("{caller}-{i}: {status:?}"));
                }
            }
            failures
        }));
    }
    let mut failures = Vec::new();
    for caller in callers {
        failures.extend(caller.await.expect("caller"));
    }
    let submitted = started.elapsed();
    assert!(
        failures.is_empty(),
        "{} of {} submissions failed, first: {:?}",
        failures.len(),
        CALLERS * EACH,
        failures.first()
    );

    let mut analytics = AnalyticsServiceClient::new(channel);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let request = identify(GetOverviewRequest { parent: "tenants/acme".into(), ..Default::default() });
        let open = analytics.get_overview(request).await.map(|r| r.into_inner().open_cases).unwrap_or(0);
        if open >= (CALLERS * EACH) as i64 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "analytics counts {open} open cases of {}", CALLERS * EACH);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    println!("{} submissions by {CALLERS} callers in {:.1} s", CALLERS * EACH, submitted.as_secs_f64());
    let _dir = up.stop().await;
    let log = std::fs::read_to_string(log_path).expect("the log");
    assert!(log.contains("redress up: all five services"), "the process log was captured: {log}");
    let locked: Vec<&str> = log.lines().filter(|l| l.contains("database is locked")).collect();
    assert!(locked.is_empty(), "{} log lines say the database is locked, first: {}", locked.len(), locked[0]);
}
