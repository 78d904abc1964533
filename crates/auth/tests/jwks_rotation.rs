//! Key rotation end to end: a JWKS served over HTTP on 127.0.0.1 (by a tiny hyper server whose
//! answer the test swaps and whose hits it counts) and from a file, verified through
//! [`Verifier`] as a service would.

#[path = "../src/test_keys.rs"]
mod test_keys;

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Response, StatusCode};
use redress_auth::{Error, Jwks, JwksSource, Validation, Verifier};
use test_keys::{AUDIENCE, ISSUER, TestKey, claims, jwks, now};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use url::Url;

/// An HTTP server answering every request with the current status and body.
struct JwksServer {
    url: Url,
    answer: Arc<Mutex<(StatusCode, String)>>,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl JwksServer {
    async fn start(body: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let url = Url::parse(&format!("http://{}/jwks.json", listener.local_addr().expect("address"))).expect("url");
        let answer = Arc::new(Mutex::new((StatusCode::OK, body)));
        let hits = Arc::new(AtomicUsize::new(0));
        let (served, counted) = (Arc::clone(&answer), Arc::clone(&hits));
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (served, counted) = (Arc::clone(&served), Arc::clone(&counted));
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |_request| {
                        counted.fetch_add(1, Ordering::SeqCst);
                        let (status, body) = served.lock().expect("answer").clone();
                        let response = Response::builder()
                            .status(status)
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from(body)));
                        async move { Ok::<_, Infallible>(response.expect("response")) }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        Self { url, answer, hits, task }
    }

    fn serve(&self, status: StatusCode, body: String) {
        *self.answer.lock().expect("answer") = (status, body);
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn verifier(source: JwksSource, refresh: Duration) -> Verifier {
    let jwks = Jwks::load(source, refresh).await.expect("jwks loads");
    Verifier::new(jwks, Validation::new(ISSUER, AUDIENCE)).expect("verifier")
}

/// Waits up to five seconds for `done`.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..100 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_picked_up_at_once_through_its_unknown_kid() {
    let (a, b) = (TestKey::rsa_a("key-a"), TestKey::rsa_b("key-b"));
    let server = JwksServer::start(jwks(&[&a])).await;
    let verifier = verifier(JwksSource::Url(server.url.clone()), Duration::from_secs(3600)).await;
    assert_eq!(server.hits(), 1, "loaded once at start");

    let claims_a = verifier.verify(&a.token(&claims(now()))).await.expect("key A verifies");
    assert_eq!(claims_a.tenant, "acme");
    assert_eq!(server.hits(), 1, "a known key needs no fetch");

    // The issuer rotates: only key B is published now.
    server.serve(StatusCode::OK, jwks(&[&b]));
    let claims_b = verifier.verify(&b.token(&claims(now()))).await.expect("key B verifies at once");
    assert_eq!(claims_b.sub, "staff-17");
    assert_eq!(server.hits(), 2, "the unknown kid caused one fetch");
    assert!(verifier.jwks().current().contains_kid("key-b"));
    assert!(!verifier.jwks().current().contains_kid("key-a"));

    let err = verifier.verify(&a.token(&claims(now()))).await.expect_err("key A is gone");
    assert_eq!(err, Error::UnknownKey { kid: Some("key-a".into()) });
    assert_eq!(server.hits(), 2, "the retry for key A was rate limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_forged_kids_fetches_at_most_once() {
    let (a, forger) = (TestKey::ec("key-a"), TestKey::ec("forger"));
    let server = JwksServer::start(jwks(&[&a])).await;
    let verifier = verifier(JwksSource::Url(server.url.clone()), Duration::from_secs(3600)).await;
    assert_eq!(server.hits(), 1);

    let mut burst = JoinSet::new();
    for _ in 0..50 {
        let (verifier, kid) = (verifier.clone(), format!("forged-{:016x}", rand::random::<u64>()));
        let header = serde_json::json!({"alg": "ES256", "kid": kid});
        let token = forger.token_with_header(&header, &claims(now()));
        burst.spawn(async move { (kid, verifier.verify(&token).await) });
    }
    while let Some(joined) = burst.join_next().await {
        let (kid, verified) = joined.expect("task");
        assert_eq!(verified, Err(Error::UnknownKey { kid: Some(kid) }));
    }
    let fetches = server.hits() - 1;
    assert!((1..=2).contains(&fetches), "50 forged kids caused {fetches} fetches");

    for i in 0..50 {
        let header = serde_json::json!({"alg": "ES256", "kid": format!("again-{i}")});
        assert!(verifier.verify(&forger.token_with_header(&header, &claims(now()))).await.is_err());
    }
    assert_eq!(server.hits() - 1, fetches, "still rate limited");
    assert!(verifier.verify(&a.token(&claims(now()))).await.is_ok(), "genuine tokens still pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_refresh_follows_the_issuer_and_survives_its_failures() {
    let (a, b) = (TestKey::ec("key-a"), TestKey::rsa_a("key-b"));
    let server = JwksServer::start(jwks(&[&a])).await;
    let verifier = verifier(JwksSource::Url(server.url.clone()), Duration::from_millis(100)).await;

    server.serve(StatusCode::OK, jwks(&[&a, &b]));
    eventually("the new key is published", || verifier.jwks().current().contains_kid("key-b")).await;

    // Failures keep the previous set: an error status, then a document with no usable key.
    for (status, body) in
        [(StatusCode::INTERNAL_SERVER_ERROR, "oops".to_string()), (StatusCode::OK, r#"{"keys":[]}"#.to_string())]
    {
        server.serve(status, body);
        let seen = server.hits();
        eventually("two more refreshes", || server.hits() >= seen + 2).await;
        assert_eq!(verifier.jwks().current().len(), 2, "{status}: the previous set stays");
        assert!(verifier.verify(&b.token(&claims(now()))).await.is_ok());
    }

    // The task stops with the last handle.
    drop(verifier);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let after_drop = server.hits();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(server.hits(), after_drop, "no refresh after the last handle dropped");
}

#[tokio::test]
async fn http_failures_fail_the_first_load() {
    let server = JwksServer::start(String::new()).await;
    let source = JwksSource::Url(server.url.clone());

    server.serve(StatusCode::NOT_FOUND, "{}".to_string());
    let err = Jwks::load(source.clone(), Duration::from_secs(60)).await.expect_err("404");
    assert!(matches!(&err, Error::KeySetUnavailable(reason) if reason.contains("404")), "{err}");
    assert!(!err.is_credential_problem());

    server.serve(StatusCode::OK, format!(r#"{{"keys":[],"pad":"{}"}}"#, "x".repeat(1024 * 1024)));
    let err = Jwks::load(source.clone(), Duration::from_secs(60)).await.expect_err("too large");
    assert!(err.to_string().contains("larger than"), "{err}");

    server.serve(StatusCode::OK, "<html>".to_string());
    let err = Jwks::load(source, Duration::from_secs(60)).await.expect_err("not json");
    assert!(matches!(err, Error::InvalidKeySet(_)), "{err}");

    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = Url::parse(&format!("http://{}/jwks", closed.local_addr().expect("address"))).expect("url");
    drop(closed);
    let err = Jwks::load(JwksSource::Url(url), Duration::from_secs(60)).await.expect_err("refused");
    assert!(matches!(err, Error::KeySetUnavailable(_)), "{err}");
}

#[tokio::test]
async fn a_rotated_key_file_is_picked_up() {
    let (a, b) = (TestKey::rsa_a("file-a"), TestKey::ec("file-b"));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("jwks.json");
    std::fs::write(&path, jwks(&[&a])).expect("write jwks");
    let verifier = verifier(JwksSource::File(path.clone()), Duration::from_secs(3600)).await;
    assert!(verifier.verify(&a.token(&claims(now()))).await.is_ok());

    std::fs::write(&path, jwks(&[&b])).expect("rewrite jwks");
    let verified = verifier.verify(&b.token(&claims(now()))).await.expect("the new key verifies");
    assert_eq!(verified.roles, ["agent", "supervisor"]);
    let err = verifier.verify(&a.token(&claims(now()))).await.expect_err("the old key is gone");
    assert_eq!(err, Error::UnknownKey { kid: Some("file-a".into()) });

    // A broken file later keeps the set that works.
    std::fs::write(&path, "{").expect("break jwks");
    assert!(verifier.jwks().refresh().await.is_err());
    assert!(verifier.verify(&b.token(&claims(now()))).await.is_ok());
}
