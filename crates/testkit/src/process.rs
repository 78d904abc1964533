//! Servers run as separate processes: free ports, waiting for SERVING, stopping with SIGTERM,
//! and `redress up` as a user starts it.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use redress_kit::ServiceKind;
use tokio::process::{Child, Command};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// A free TCP port on 127.0.0.1, for servers started as separate processes.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Waits until `service` (a fully qualified gRPC name, or "" for the server as a whole) on
/// 127.0.0.1:`port` answers SERVING, for at most 30 s.
pub async fn wait_serving(port: u16, service: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let endpoint = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}")).expect("endpoint");
        if let Ok(channel) = endpoint.connect().await {
            let mut client = HealthClient::new(channel);
            let request = HealthCheckRequest { service: service.to_string() };
            if let Ok(response) = client.check(request).await
                && response.into_inner().status == ServingStatus::Serving as i32
            {
                return;
            }
        }
        assert!(Instant::now() < deadline, "{service} on port {port} never became SERVING");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends SIGTERM to a child process and checks that it exits with 0 within 5 s.
pub async fn terminate(mut child: tokio::process::Child) {
    let pid = child.id().expect("running");
    let started = Instant::now();
    let status = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill");
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("stopped within 5 s of SIGTERM")
        .expect("exit status");
    assert_eq!(exit.code(), Some(0), "clean exit after SIGTERM");
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// `redress up` started by a test: all five services on one free port of 127.0.0.1, the
/// metrics and Flight SQL listeners on free ports of their own, the data in a temporary
/// directory that lives as long as this value.
pub struct Up {
    /// The process.
    pub child: Child,
    /// The gRPC port.
    pub port: u16,
    /// The metrics port.
    pub metrics_port: u16,
    /// The data directory.
    pub dir: tempfile::TempDir,
}

impl Up {
    /// Runs `redress` (a command for the binary, without arguments) as `redress up` with
    /// `settings` (each a `--set key=value`), its output discarded, and waits until the server
    /// and each of the five services answer SERVING.
    pub async fn start(redress: Command, settings: &[String]) -> Self {
        Self::spawn_in(tempfile::tempdir().expect("tempdir"), redress, settings, Stdio::null()).await
    }

    /// As [`Up::start`], with the process's log (its standard error) kept in [`Up::log_path`].
    pub async fn start_logged(redress: Command, settings: &[String]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = std::fs::File::create(dir.path().join("up.log")).expect("log file");
        Self::spawn_in(dir, redress, settings, Stdio::from(log)).await
    }

    async fn spawn_in(dir: tempfile::TempDir, mut redress: Command, settings: &[String], stderr: Stdio) -> Self {
        let (port, metrics_port) = (free_port(), free_port());
        redress
            .args(["up", "--listen", &format!("127.0.0.1:{port}"), "--data-dir", dir.path().to_str().expect("utf-8")])
            .args(["--set", &format!("metrics.listen=127.0.0.1:{metrics_port}")])
            .args(["--set", &format!("analytics.flight_listen=127.0.0.1:{}", free_port())]);
        for setting in settings {
            redress.args(["--set", setting]);
        }
        let child = redress.stdout(Stdio::null()).stderr(stderr).spawn().expect("up");
        wait_serving(port, "").await;
        for service in ServiceKind::ALL {
            wait_serving(port, service.grpc_name()).await;
        }
        Self { child, port, metrics_port, dir }
    }

    /// A channel to its gRPC port.
    pub async fn channel(&self) -> tonic::transport::Channel {
        crate::connect(([127, 0, 0, 1], self.port).into()).await
    }

    /// Where [`Up::start_logged`] keeps the process's log.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("up.log")
    }

    /// Stops it with SIGTERM and checks that it exits with 0 within 5 s; the data directory
    /// stays until the value returned is dropped.
    pub async fn stop(self) -> tempfile::TempDir {
        terminate(self.child).await;
        self.dir
    }
}
