//! Reading a JWKS document from a file or over HTTP(S).
//!
//! HTTP uses hyper's pooled HTTP/1 client with rustls and the Mozilla (webpki) roots. Every
//! fetch has a 10 s deadline, the body is read up to 1 MiB, the status must be 2xx, and
//! redirects are not followed. Plain `http://` is accepted (for tests and in-cluster
//! issuers) but logged, since the keys decide who may call.

use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use http::{Request, header};
use http_body_util::{BodyExt, Empty, LengthLimitError, Limited};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tracing::warn;
use url::Url;

use crate::Error;

/// The longest a fetch may take, connecting included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest JWKS document read.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// Where a key set comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// A JWKS file, re-read on every refresh.
    File(PathBuf),
    /// A JWKS URL (`https://`, or `http://`), fetched on every refresh.
    Url(Url),
}

impl fmt::Display for JwksSource {
    /// The path, or the URL without any password, for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwksSource::File(path) => write!(f, "{}", path.display()),
            JwksSource::Url(url) => {
                let mut shown = url.clone();
                let _ = shown.set_password(None);
                write!(f, "{shown}")
            }
        }
    }
}

/// Reads documents from one source.
pub(crate) struct Fetcher {
    source: JwksSource,
    client: Option<Client<HttpsConnector<HttpConnector>, Empty<Bytes>>>,
}

impl Fetcher {
    /// A fetcher for `source`, refusing URLs that are neither `https` nor `http`.
    pub(crate) fn new(source: JwksSource) -> Result<Self, Error> {
        let client = match &source {
            JwksSource::File(_) => None,
            JwksSource::Url(url) => {
                match url.scheme() {
                    "https" => {}
                    "http" => {
                        if !is_loopback(url) {
                            warn!(source = %source, "jwks fetched over plain http; use https outside tests");
                        }
                    }
                    other => {
                        return Err(Error::InvalidSetting {
                            name: "jwks_url",
                            reason: format!("{other}:// is not supported; use https://"),
                        });
                    }
                }
                Some(http_client()?)
            }
        };
        Ok(Self { source, client })
    }

    pub(crate) fn source(&self) -> &JwksSource {
        &self.source
    }

    /// The document, as bytes.
    pub(crate) async fn fetch(&self) -> Result<Vec<u8>, Error> {
        match (&self.source, &self.client) {
            (JwksSource::File(path), _) => read_file(path.clone()).await,
            (JwksSource::Url(url), Some(client)) => get(client, url).await,
            (JwksSource::Url(_), None) => Err(Error::KeySetUnavailable("no http client".to_string())),
        }
    }
}

fn http_client() -> Result<Client<HttpsConnector<HttpConnector>, Empty<Bytes>>, Error> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(FETCH_TIMEOUT));
    let tls = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
        .map_err(|e| Error::KeySetUnavailable(format!("tls setup failed: {e}")))?;
    let connector = tls.https_or_http().enable_http1().wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(connector))
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

async fn get(client: &Client<HttpsConnector<HttpConnector>, Empty<Bytes>>, url: &Url) -> Result<Vec<u8>, Error> {
    let request = Request::get(url.as_str())
        .header(header::ACCEPT, "application/jwk-set+json, application/json")
        .header(header::USER_AGENT, "redress-auth")
        .body(Empty::new())
        .map_err(|e| Error::KeySetUnavailable(format!("bad jwks url: {e}")))?;
    let exchange = async {
        let response = client.request(request).await.map_err(|e| unavailable("request failed", &e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(Error::KeySetUnavailable(format!("jwks endpoint answered {status}")));
        }
        let body = Limited::new(response.into_body(), MAX_DOCUMENT_BYTES).collect().await.map_err(|e| {
            if e.downcast_ref::<LengthLimitError>().is_some() {
                Error::KeySetUnavailable(format!("jwks document larger than {MAX_DOCUMENT_BYTES} bytes"))
            } else {
                unavailable("reading the body failed", e.as_ref())
            }
        })?;
        Ok(body.to_bytes().to_vec())
    };
    tokio::time::timeout(FETCH_TIMEOUT, exchange)
        .await
        .map_err(|_| Error::KeySetUnavailable(format!("jwks endpoint did not answer within {FETCH_TIMEOUT:?}")))?
}

async fn read_file(path: PathBuf) -> Result<Vec<u8>, Error> {
    let shown = path.display().to_string();
    let read = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path)?;
        let mut bytes = Vec::new();
        file.take(MAX_DOCUMENT_BYTES as u64 + 1).read_to_end(&mut bytes)?;
        Ok::<_, std::io::Error>(bytes)
    })
    .await
    .map_err(|e| Error::KeySetUnavailable(format!("reading {shown} failed: {e}")))?;
    let bytes = read.map_err(|e| unavailable(&format!("reading {shown} failed"), &e))?;
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(Error::KeySetUnavailable(format!("{shown} is larger than {MAX_DOCUMENT_BYTES} bytes")));
    }
    Ok(bytes)
}

/// A [`Error::KeySetUnavailable`] with the error's causes on one line.
fn unavailable(what: &str, error: &(dyn std::error::Error + 'static)) -> Error {
    let mut text = format!("{what}: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::KeySetUnavailable(text)
}
