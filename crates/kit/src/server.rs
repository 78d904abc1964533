//! The gRPC server bootstrap shared by every service.
//!
//! A server carries one or more [`Component`]s (one per service; all five in `redress up`),
//! plus `grpc.health.v1` and reflection. Each service's health starts NOT_SERVING and turns
//! SERVING only once its readiness checks pass; it is re-checked while running. Shutdown is a
//! token: health turns NOT_SERVING, the listener closes, calls in flight drain for up to the
//! grace period, and the components' background tasks stop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures::future::BoxFuture;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::service::RoutesBuilder;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::ServiceKind;
use crate::auth::{AuthLayer, Authenticator};
use crate::config::Config;
use crate::input::InputLayer;
use crate::observe::ObserveLayer;
use crate::tls::ServerTls;

/// A readiness check: `Ok` when the dependency answers, otherwise why not.
pub type Check = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// A background task of a component, run until the token is cancelled.
pub type Task = Box<dyn FnOnce(CancellationToken) -> BoxFuture<'static, anyhow::Result<()>> + Send>;

/// Adds a component's gRPC service to the routes of a server.
pub type Mount = Box<dyn FnOnce(&mut RoutesBuilder) + Send>;

/// One service ready to be served: its gRPC service, what it depends on, and its background work.
pub struct Component {
    /// Which service.
    pub kind: ServiceKind,
    /// Adds its gRPC service to a server's routes.
    pub mount: Mount,
    /// Named readiness checks; the service is SERVING only while all pass.
    pub checks: Vec<(String, Check)>,
    /// Named background tasks (event consumers, timer workers).
    pub tasks: Vec<(String, Task)>,
}

impl Component {
    /// A component serving the generated gRPC server `service`, with no checks or tasks yet.
    pub fn new<S>(kind: ServiceKind, service: S) -> Self
    where
        S: tower::Service<http::Request<tonic::body::Body>, Error = std::convert::Infallible>
            + tonic::server::NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: axum::response::IntoResponse,
        S::Future: Send + 'static,
    {
        let mount: Mount = Box::new(move |routes: &mut RoutesBuilder| {
            routes.add_service(service);
        });
        Self { kind, mount, checks: Vec::new(), tasks: Vec::new() }
    }

    /// Adds a readiness check.
    pub fn check<F, Fut>(mut self, what: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.checks.push((what.into(), Arc::new(move || Box::pin(check()))));
        self
    }

    /// Adds a background task.
    pub fn task<F, Fut>(mut self, what: impl Into<String>, task: F) -> Self
    where
        F: FnOnce(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.tasks.push((what.into(), Box::new(move |token| Box::pin(task(token)))));
        self
    }
}

/// Server behaviour, from the `grpc` configuration section.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The longest a call may run when the client sets no shorter deadline.
    pub request_timeout: Duration,
    /// Calls in flight before new ones are shed.
    pub concurrency_limit: usize,
    /// The largest message accepted or sent.
    pub max_message_bytes: usize,
    /// How long shutdown waits for calls in flight.
    pub shutdown_grace: Duration,
    /// Who may call: identifies every caller and checks the role table. Trusts the
    /// `x-redress-*` headers until the process sets it from `[auth]`.
    pub auth: Arc<Authenticator>,
    /// The certificate every listener presents; none: plaintext.
    pub tls: Option<Arc<ServerTls>>,
}

impl ServerOptions {
    /// Reads the `grpc` section; `auth` trusts headers until the process sets it.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            request_timeout: config.grpc.request_timeout.get(),
            concurrency_limit: config.grpc.concurrency_limit,
            max_message_bytes: config.grpc.max_message_bytes,
            shutdown_grace: config.grpc.shutdown_grace.get(),
            auth: Arc::new(Authenticator::trusting_headers()),
            tls: server_tls(config)?,
        })
    }
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            concurrency_limit: 1024,
            max_message_bytes: 4 * 1024 * 1024,
            shutdown_grace: Duration::from_secs(4),
            auth: Arc::new(Authenticator::trusting_headers()),
            tls: None,
        }
    }
}

/// The listeners' certificate from the `tls` section, if one is configured.
fn server_tls(config: &Config) -> anyhow::Result<Option<Arc<ServerTls>>> {
    let tls = &config.tls;
    if tls.cert_file.is_empty() {
        return Ok(None);
    }
    Ok(Some(ServerTls::load(tls.cert_file.as_ref(), tls.key_file.as_ref(), tls.reload_interval.get())?))
}

/// Binds `addr` for a server; port 0 picks a free port.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))
}

/// Serves `components` on `listener` until `shutdown` is cancelled, then drains.
pub async fn serve(
    listener: TcpListener,
    components: Vec<Component>,
    options: &ServerOptions,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let (reporter, health) = tonic_health::server::health_reporter();
    let kinds: Vec<ServiceKind> = components.iter().map(|c| c.kind).collect();
    reporter.set_service_status("", ServingStatus::NotServing).await;
    for kind in &kinds {
        reporter.set_service_status(kind.grpc_name(), ServingStatus::NotServing).await;
    }

    let mut reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(redress_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .with_service_name("grpc.health.v1.Health");
    let mut reflection_alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(redress_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .with_service_name("grpc.health.v1.Health");
    for kind in &kinds {
        reflection = reflection.with_service_name(kind.grpc_name());
        reflection_alpha = reflection_alpha.with_service_name(kind.grpc_name());
    }

    let mut routes = RoutesBuilder::default();
    routes
        .add_service(health)
        .add_service(reflection.build_v1().context("reflection")?)
        .add_service(reflection_alpha.build_v1alpha().context("reflection")?);
    let mut checks = Vec::new();
    let mut tasks = Vec::new();
    let tasks_token = shutdown.child_token();
    for component in components {
        (component.mount)(&mut routes);
        checks.push((component.kind, component.checks));
        for (what, task) in component.tasks {
            let token = tasks_token.clone();
            let kind = component.kind;
            tasks.push(tokio::spawn(async move {
                if let Err(e) = task(token).await {
                    tracing::error!(service = %kind, task = %what, error = format!("{e:#}"), "background task failed");
                }
            }));
        }
    }
    let services: Vec<&str> = checks.iter().map(|(k, _)| k.key()).collect();
    tracing::info!(%addr, services = %services.join(","), "grpc server listening");

    let readiness = tokio::spawn(watch_readiness(addr, reporter.clone(), checks, shutdown.clone()));

    let drain_started = {
        let shutdown = shutdown.clone();
        let reporter = reporter.clone();
        async move {
            shutdown.cancelled().await;
            reporter.set_service_status("", ServingStatus::NotServing).await;
            tracing::info!("shutting down: draining calls in flight");
        }
    };
    let router = tonic::transport::Server::builder()
        .timeout(options.request_timeout)
        .tcp_nodelay(true)
        .layer(ObserveLayer::new(options.concurrency_limit))
        .layer(AuthLayer::new(options.auth.clone()))
        .layer(InputLayer::new(options.max_message_bytes).context("the input check")?)
        .add_routes(routes.routes());
    let server: BoxFuture<'static, Result<(), tonic::transport::Error>> = match &options.tls {
        Some(tls) => {
            tracing::info!(%addr, "grpc server speaks tls");
            Box::pin(router.serve_with_incoming_shutdown(tls.incoming(listener, shutdown.clone()), drain_started))
        }
        None => {
            let incoming = tonic::transport::server::TcpIncoming::from(listener)
                .with_nodelay(Some(true))
                .with_keepalive(Some(Duration::from_secs(60)));
            Box::pin(router.serve_with_incoming_shutdown(incoming, drain_started))
        }
    };

    let grace = options.shutdown_grace;
    let deadline = async {
        shutdown.cancelled().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = server => result.context("grpc server")?,
        () = deadline => tracing::warn!(grace = ?grace, "calls still in flight after the grace period; stopping anyway"),
    }
    tasks_token.cancel();
    let _ = readiness.await;
    for task in tasks {
        if tokio::time::timeout(grace, task).await.is_err() {
            tracing::warn!("a background task did not stop within the grace period");
        }
    }
    tracing::info!(%addr, "grpc server stopped");
    Ok(())
}

/// Whether each gRPC server of this process has every service SERVING, by address.
static READY: std::sync::Mutex<Vec<(SocketAddr, bool)>> = std::sync::Mutex::new(Vec::new());

fn set_ready(addr: SocketAddr, ready: bool) {
    let mut servers = READY.lock().unwrap_or_else(|e| e.into_inner());
    match servers.iter_mut().find(|(a, _)| *a == addr) {
        Some(entry) => entry.1 = ready,
        None => servers.push((addr, ready)),
    }
}

/// Whether this process serves: it has a gRPC server and every service on each of them is
/// SERVING. What `GET /readyz` on the metrics port answers, for probes that cannot speak gRPC
/// over TLS.
pub fn serving() -> bool {
    let servers = READY.lock().unwrap_or_else(|e| e.into_inner());
    !servers.is_empty() && servers.iter().all(|(_, ready)| *ready)
}

/// Runs the readiness checks: quickly until a service is ready, then every few seconds, and
/// flips its health status as they pass or fail. Everything turns NOT_SERVING on shutdown.
async fn watch_readiness(
    addr: SocketAddr,
    reporter: HealthReporter,
    checks: Vec<(ServiceKind, Vec<(String, Check)>)>,
    shutdown: CancellationToken,
) {
    set_ready(addr, false);
    let mut ready = vec![false; checks.len()];
    let mut reasons: Vec<Option<String>> = vec![None; checks.len()];
    let mut overall = false;
    loop {
        for (i, (kind, service_checks)) in checks.iter().enumerate() {
            let mut failure = None;
            for (what, check) in service_checks {
                let outcome = tokio::time::timeout(Duration::from_secs(3), check()).await;
                match outcome {
                    Ok(Ok(())) => {}
                    Ok(Err(why)) => failure = Some(format!("{what}: {why}")),
                    Err(_) => failure = Some(format!("{what}: no answer within 3s")),
                }
                if failure.is_some() {
                    break;
                }
            }
            let now_ready = failure.is_none();
            if now_ready != ready[i] {
                let status = if now_ready { ServingStatus::Serving } else { ServingStatus::NotServing };
                reporter.set_service_status(kind.grpc_name(), status).await;
                match &failure {
                    None => tracing::info!(service = %kind, "service ready"),
                    Some(why) => tracing::warn!(service = %kind, reason = %why, "service not ready"),
                }
                ready[i] = now_ready;
            } else if let Some(why) = &failure {
                // Say once why a service is not ready (yet), and again when the reason changes.
                if reasons[i].as_ref() != Some(why) {
                    tracing::info!(service = %kind, reason = %why, "service not ready yet");
                } else {
                    tracing::debug!(service = %kind, reason = %why, "service still not ready");
                }
            }
            reasons[i] = failure;
        }
        let all = ready.iter().all(|r| *r);
        if all != overall {
            let status = if all { ServingStatus::Serving } else { ServingStatus::NotServing };
            reporter.set_service_status("", status).await;
            set_ready(addr, all);
            overall = all;
        }
        let pause = if all { Duration::from_secs(5) } else { Duration::from_millis(200) };
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(pause) => {}
        }
    }
    set_ready(addr, false);
    reporter.set_service_status("", ServingStatus::NotServing).await;
    for (kind, _) in &checks {
        reporter.set_service_status(kind.grpc_name(), ServingStatus::NotServing).await;
    }
}
