//! Servers in the test process: a component served on 127.0.0.1:0, and a service over a
//! fresh database of its own (the case service, which most services' tests start as a peer).

use std::net::SocketAddr;
use std::ops::Deref;
use std::time::Duration;

use redress_kit::Config;
use redress_kit::server::{Component, ServerOptions};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

use crate::{Backend, TestStore};

/// Builds a service's component from a configuration, as `redress serve` does:
/// `component!(redress_case, config)` in an async context. The service crate is named by the
/// caller, so the testkit does not depend on any service.
#[macro_export]
macro_rules! component {
    ($service:ident, $config:expr) => {{
        let options = $service::Options::from_config(&$config).expect(concat!(stringify!($service), " options"));
        $service::build(options).await.expect(concat!("building ", stringify!($service))).into_component()
    }};
}

/// A port of 127.0.0.1 chosen by the system, bound.
pub async fn listener() -> TcpListener {
    redress_kit::server::bind("127.0.0.1:0".parse().expect("addr")).await.expect("bind")
}

/// A channel to a server that listens at `addr`.
pub async fn connect(addr: SocketAddr) -> Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect")
}

/// A channel to `addr`, waiting up to 20 s for something to listen there.
pub async fn connect_when_listening(addr: SocketAddr) -> Channel {
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{addr}")).expect("endpoint");
    for _ in 0..400 {
        if let Ok(channel) = endpoint.connect().await {
            return channel;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing listens on {addr}");
}

/// A component served in the test process until stopped.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Serves `component` on a free port of 127.0.0.1.
    pub async fn serve(component: Component) -> Self {
        Self::serve_on(listener().await, component)
    }

    /// Serves `component` on `listener`.
    pub fn serve_on(listener: TcpListener, component: Component) -> Self {
        let addr = listener.local_addr().expect("addr");
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let task = tokio::spawn(async move {
            redress_kit::server::serve(listener, vec![component], &ServerOptions::default(), token).await
        });
        Self { addr, shutdown, task }
    }

    /// `http://{addr}`, as a peer is configured.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A channel to it.
    pub async fn channel(&self) -> Channel {
        connect(self.addr).await
    }

    /// Stops the server and waits for it to drain.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.task.await;
    }

    /// Stops the server, waits for it, and checks that it served without error.
    pub async fn stop_cleanly(self) {
        self.shutdown.cancel();
        self.task.await.expect("join").expect("served");
    }
}

/// A service served in the test process over a fresh database of its own.
pub struct Server {
    /// The server.
    pub running: Running,
    /// Its database.
    pub store: TestStore,
}

impl Server {
    /// Starts a service on a fresh database of `backend`: the default configuration for that
    /// database, changed by `configure`, is given to `build`, usually
    /// `async |config| component!(redress_case, config)`.
    pub async fn start(
        backend: Backend,
        configure: impl FnOnce(&mut Config),
        build: impl AsyncFnOnce(Config) -> Component,
    ) -> Self {
        let store = TestStore::create(backend).await;
        let mut config = store.config();
        configure(&mut config);
        let component = build(config).await;
        Self { running: Running::serve(component).await, store }
    }

    /// Stops the server and waits for it; the database goes when the value is dropped.
    pub async fn stop(self) {
        self.running.stop().await;
    }
}

impl Deref for Server {
    type Target = Running;

    fn deref(&self) -> &Running {
        &self.running
    }
}
