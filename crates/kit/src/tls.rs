//! TLS on every listener when certificates are configured (`tls.cert_file`, `tls.key_file`),
//! with the certificate reloaded from its files while the server runs, and TLS to peers
//! addressed as `https://…` (verified against `tls.ca_file`, or the public roots).
//!
//! The server's certificate is chosen per handshake from a [`ServerTls`] that checks the files'
//! modification times every `tls.reload_interval` and swaps in the new pair once it loads:
//! cert-manager (or any tool) renews the files in place and new connections get the new
//! certificate without a restart. A pair that does not load is logged and the previous one
//! stays.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;

/// How long a client has to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The certificate a server presents, reloaded when its files change.
pub struct ServerTls {
    cert_file: PathBuf,
    key_file: PathBuf,
    reload_interval: Duration,
    current: Arc<RwLock<Arc<CertifiedKey>>>,
    stamp: Mutex<(Option<SystemTime>, Option<SystemTime>)>,
    config: Arc<rustls::ServerConfig>,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls").field("cert_file", &self.cert_file).field("key_file", &self.key_file).finish()
    }
}

/// The resolver rustls asks for the certificate of each handshake: the current pair.
#[derive(Debug)]
struct Resolver(Arc<RwLock<Arc<CertifiedKey>>>);

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.read().unwrap_or_else(|e| e.into_inner()).clone())
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Loads a certificate chain and its private key from PEM files.
fn load_pair(cert_file: &Path, key_file: &Path) -> anyhow::Result<CertifiedKey> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_file)
        .with_context(|| format!("reading {}", cert_file.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("{} is not a PEM certificate chain", cert_file.display()))?;
    if chain.is_empty() {
        anyhow::bail!("{} holds no certificate", cert_file.display());
    }
    let key = PrivateKeyDer::from_pem_file(key_file)
        .with_context(|| format!("{} is not a PEM private key", key_file.display()))?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| anyhow::anyhow!("{}: {e}", key_file.display()))?;
    let pair = CertifiedKey::new(chain, signing);
    pair.keys_match()
        .map_err(|e| anyhow::anyhow!("{} does not match {}: {e}", key_file.display(), cert_file.display()))?;
    Ok(pair)
}

impl ServerTls {
    /// Loads the pair (refusing to start without one that works) and prepares the server
    /// configuration: TLS 1.2 and 1.3, HTTP/2 by ALPN.
    pub fn load(cert_file: &Path, key_file: &Path, reload_interval: Duration) -> anyhow::Result<Arc<Self>> {
        let pair = load_pair(cert_file, key_file).context("tls")?;
        let current = Arc::new(RwLock::new(Arc::new(pair)));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("tls: protocol versions")?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Resolver(current.clone())));
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(Arc::new(ServerTls {
            cert_file: cert_file.to_path_buf(),
            key_file: key_file.to_path_buf(),
            reload_interval,
            current,
            stamp: Mutex::new((modified(cert_file), modified(key_file))),
            config: Arc::new(config),
        }))
    }

    /// Loads the pair again if either file changed since the last load; true when the new
    /// pair is in use. A pair that does not load is logged and the current one stays.
    pub fn reload_if_changed(&self) -> bool {
        let now = (modified(&self.cert_file), modified(&self.key_file));
        let mut stamp = self.stamp.lock().unwrap_or_else(|e| e.into_inner());
        if *stamp == now {
            return false;
        }
        match load_pair(&self.cert_file, &self.key_file) {
            Ok(pair) => {
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(pair);
                *stamp = now;
                tracing::info!(cert_file = %self.cert_file.display(), "tls certificate reloaded");
                true
            }
            Err(e) => {
                // Files renewed one after the other: try again next time.
                tracing::warn!(error = format!("{e:#}"), "tls certificate not reloaded; the previous one stays");
                false
            }
        }
    }

    /// Accepts TLS connections on `listener` until `shutdown`, handshakes running
    /// concurrently so that a slow client holds up no one; also watches the files.
    pub fn incoming(
        self: &Arc<Self>,
        listener: TcpListener,
        shutdown: CancellationToken,
    ) -> ReceiverStream<std::io::Result<TlsStream<TcpStream>>> {
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let acceptor = TlsAcceptor::from(self.config.clone());
        let watched = self.clone();
        let watch_token = shutdown.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = watch_token.cancelled() => break,
                    () = tokio::time::sleep(watched.reload_interval) => { watched.reload_if_changed(); }
                }
            }
        });
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = shutdown.cancelled() => break,
                    accepted = listener.accept() => accepted,
                };
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send(Ok(tls)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(error = %e, "tls handshake failed"),
                        Err(_) => tracing::debug!("tls handshake timed out"),
                    }
                });
            }
        });
        ReceiverStream::new(rx)
    }
}

/// The TLS settings of calls to `https://` peers: `ca_file` (PEM) to verify them, or the
/// public web roots when it is empty.
pub fn client_config(ca_file: &str) -> anyhow::Result<tonic::transport::ClientTlsConfig> {
    let config = tonic::transport::ClientTlsConfig::new();
    if ca_file.is_empty() {
        return Ok(config.with_webpki_roots());
    }
    let pem = std::fs::read(ca_file).with_context(|| format!("tls.ca_file: reading {ca_file}"))?;
    Ok(config.ca_certificate(tonic::transport::Certificate::from_pem(pem)))
}
