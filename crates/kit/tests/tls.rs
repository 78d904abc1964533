//! TLS on a listener, with the certificate renewed in place while the server runs: a client
//! that trusts the first CA connects; once the files hold a certificate of a second CA, new
//! connections get it (a client of the second CA connects, one of the first is refused)
//! without a restart; a plaintext client is refused throughout.

use redress_testkit::certs;

use std::path::Path;
use std::time::{Duration, Instant};

use redress_kit::client::ClientOptions;
use redress_kit::server::ServerOptions;
use redress_kit::tls::{ServerTls, client_config};
use tokio_util::sync::CancellationToken;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

/// Whether a fresh connection trusting `ca` gets a SERVING answer from `port`.
async fn answers(port: u16, ca: &Path) -> bool {
    let options = ClientOptions {
        tls: Some(client_config(ca.to_str().expect("utf-8")).expect("ca")),
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(2),
        ..ClientOptions::default()
    };
    let channel = redress_kit::client::connect(&format!("https://localhost:{port}"), &options).expect("channel");
    let mut health = HealthClient::new(channel);
    matches!(
        health.check(HealthCheckRequest { service: String::new() }).await,
        Ok(answer) if answer.get_ref().status == ServingStatus::Serving as i32
    )
}

#[tokio::test]
async fn a_renewed_certificate_is_served_without_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path();
    certs::issue(path, "first");
    certs::issue(path, "second");
    std::fs::copy(path.join("first.crt"), path.join("server.crt")).expect("copy");
    std::fs::copy(path.join("first.key"), path.join("server.key")).expect("copy");

    let tls = ServerTls::load(&path.join("server.crt"), &path.join("server.key"), Duration::from_millis(100))
        .expect("the first pair loads");
    let options = ServerOptions { tls: Some(tls), ..ServerOptions::default() };
    let listener = redress_kit::server::bind("127.0.0.1:0".parse().expect("addr")).await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let shutdown = CancellationToken::new();
    let token = shutdown.clone();
    tokio::spawn(async move { redress_kit::server::serve(listener, Vec::new(), &options, token).await });

    let deadline = Instant::now() + Duration::from_secs(10);
    while !answers(port, &path.join("first-ca.crt")).await {
        assert!(Instant::now() < deadline, "a client of the first CA never got an answer");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!answers(port, &path.join("second-ca.crt")).await, "the second CA does not vouch for the first pair");
    let plain = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}")).expect("endpoint");
    let plain = plain.connect_timeout(Duration::from_secs(2)).timeout(Duration::from_secs(2)).connect().await;
    if let Ok(channel) = plain {
        let answer = HealthClient::new(channel).check(HealthCheckRequest { service: String::new() }).await;
        assert!(answer.is_err(), "a plaintext call to a TLS listener is refused: {answer:?}");
    }

    // The certificate is renewed in place: the key first, then the chain, as a tool that
    // copies files one by one would leave them for a moment.
    let renewed = Instant::now();
    std::fs::copy(path.join("second.key"), path.join("server.key")).expect("copy");
    tokio::time::sleep(Duration::from_millis(300)).await;
    std::fs::copy(path.join("second.crt"), path.join("server.crt")).expect("copy");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !answers(port, &path.join("second-ca.crt")).await {
        assert!(Instant::now() < deadline, "the renewed certificate was never served");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("the renewed certificate was served {:?} after the files changed", renewed.elapsed());
    assert!(!answers(port, &path.join("first-ca.crt")).await, "new connections no longer get the first pair");
    shutdown.cancel();
}
