//! Redis over TLS (`rediss://`), as managed Redis services require: a real redis-server with a
//! TLS port and a certificate signed by a CA of the test's own, trusted through
//! `SSL_CERT_FILE` the way a platform team mounts its CA bundle.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Runs `openssl` with `args` in `dir`, failing the test with its output when it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl is installed");
    assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// A CA, and a server certificate for localhost signed by it.
fn certificates(dir: &Path) {
    openssl(dir, &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt"]);
    openssl(dir, &["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr"]);
    std::fs::write(dir.join("ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n").expect("ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "ext",
        ],
    );
}

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
    // `openssl req` asks for a subject unless one is configured.
    unsafe { std::env::set_var("OPENSSL_CONF", dir.path().join("openssl.cnf")) };
    std::fs::write(dir.path().join("openssl.cnf"), "[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=localhost\n")
        .expect("openssl.cnf");
    certificates(dir.path());
    let port = redress_testkit::free_port();
    let server = Command::new("redis-server")
        .args(["--port", "0", "--tls-port", &port.to_string(), "--save", "", "--appendonly", "no"])
        .args(["--tls-cert-file", "server.crt", "--tls-key-file", "server.key", "--tls-ca-cert-file", "ca.crt"])
        .args(["--tls-auth-clients", "no", "--bind", "127.0.0.1"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server is installed (see README: Requirements)");
    let _server = Server(server);
    // The test process trusts the test's CA, as a pod trusts a mounted bundle.
    unsafe { std::env::set_var("SSL_CERT_FILE", dir.path().join("ca.crt")) };

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
