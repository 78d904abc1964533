//! Redis over TLS (`rediss://`), as managed Redis services require: a real redis-server with a
//! TLS port and a certificate signed by a CA of the test's own, trusted through
//! `SSL_CERT_FILE` the way a platform team mounts its CA bundle.

use redress_testkit::certs;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn rediss_urls_connect_over_tls() {
    let dir = tempfile::tempdir().expect("temp dir");
    certs::issue(dir.path(), "server");
    let port = redress_testkit::free_port();
    let server = Command::new("redis-server")
        .args(["--port", "0", "--tls-port", &port.to_string(), "--save", "", "--appendonly", "no"])
        .args(["--tls-cert-file", "server.crt", "--tls-key-file", "server.key", "--tls-ca-cert-file", "server-ca.crt"])
        .args(["--tls-auth-clients", "no", "--bind", "127.0.0.1"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server is installed (`script/bootstrap` installs it)");
    let _server = Server(server);
    // The test process trusts the test's CA, as a pod trusts a mounted bundle.
    unsafe { std::env::set_var("SSL_CERT_FILE", dir.path().join("server-ca.crt")) };

    let url = format!("rediss://localhost:{port}");
    let mut connected = None;
    for _ in 0..50 {
        match redress_kit::redis::connect(&url).await {
            Ok(connection) => {
                connected = Some(connection);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let mut connection = connected.expect("connected over TLS");
    redress_kit::redis::ping(&connection).await.expect("PING over TLS");
    let _: () = redis::cmd("SET").arg("redress:tls").arg("yes").query_async(&mut connection).await.expect("SET");
    let value: String = redis::cmd("GET").arg("redress:tls").query_async(&mut connection).await.expect("GET");
    assert_eq!(value, "yes");

    // Plain text to the TLS port is refused: the URL's scheme decides, nothing falls back.
    let plain = format!("redis://localhost:{port}");
    assert!(redress_kit::redis::connect(&plain).await.is_err(), "a plain connection to a TLS port must fail");
}
