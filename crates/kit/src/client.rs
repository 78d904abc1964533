//! gRPC clients for calls between services: lazy connections, a deadline on every attempt,
//! W3C trace-context injected into every call, and retries with exponential backoff and full
//! jitter, for idempotent calls only.

use std::time::Duration;

use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Status};

use tonic::metadata::{Ascii, MetadataValue};

use crate::config::{AuthMode, Config};
use crate::tenant::{TENANT_HEADER, TenantId};

/// Client behaviour, from the `client` configuration section.
#[derive(Clone)]
pub struct ClientOptions {
    /// Deadline of each attempt.
    pub timeout: Duration,
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// Retries after the first attempt, for idempotent calls.
    pub max_retries: u32,
    /// The first retry delay; doubled each time.
    pub backoff_base: Duration,
    /// The longest retry delay.
    pub backoff_max: Duration,
    /// The service token every call presents (`authorization: Bearer …`) in `tokens` mode.
    pub service_token: Option<MetadataValue<Ascii>>,
    /// How `https://` peers are verified.
    pub tls: Option<tonic::transport::ClientTlsConfig>,
    /// The largest message a client decodes: `grpc.max_message_bytes`, the same limit the
    /// servers encode to, so both ends of a stream agree.
    pub max_message_bytes: usize,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_retries", &self.max_retries)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_max", &self.backoff_max)
            .field("service_token", &self.service_token.as_ref().map(|_| "****"))
            .field("tls", &self.tls.is_some())
            .field("max_message_bytes", &self.max_message_bytes)
            .finish()
    }
}

impl ClientOptions {
    /// Reads the `client` section.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            timeout: config.client.timeout.get(),
            connect_timeout: config.client.connect_timeout.get(),
            max_retries: config.client.max_retries,
            backoff_base: config.client.backoff_base.get(),
            backoff_max: config.client.backoff_max.get(),
            service_token: match config.auth.mode() {
                AuthMode::Tokens => Some(
                    format!("Bearer {}", config.auth.service_token)
                        .parse()
                        .map_err(|_| anyhow::anyhow!("auth.service_token: must be printable ASCII"))?,
                ),
                _ => None,
            },
            tls: Some(crate::tls::client_config(&config.tls.ca_file)?),
            max_message_bytes: config.grpc.max_message_bytes,
        })
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            max_retries: 4,
            backoff_base: Duration::from_millis(50),
            backoff_max: Duration::from_secs(2),
            service_token: None,
            tls: None,
            max_message_bytes: 4 * 1024 * 1024,
        }
    }
}

/// Injects the current trace context, and the service token when there is one, into every
/// outbound call.
#[derive(Clone, Default)]
pub struct TraceInterceptor {
    service_token: Option<MetadataValue<Ascii>>,
}

impl tonic::service::Interceptor for TraceInterceptor {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        crate::telemetry::inject_current(request.metadata_mut());
        if let Some(token) = &self.service_token {
            request.metadata_mut().insert("authorization", token.clone());
        }
        Ok(request)
    }
}

/// A channel whose calls carry the caller's trace context.
pub type TracedChannel = InterceptedService<Channel, TraceInterceptor>;

/// A lazily connected, traced channel to `url` (`http://host:port`).
pub fn connect(url: &str, options: &ClientOptions) -> anyhow::Result<TracedChannel> {
    let endpoint = Endpoint::from_shared(url.to_string())
        .map_err(|e| anyhow::anyhow!("peer address {url:?}: {e}"))?
        .connect_timeout(options.connect_timeout)
        .timeout(options.timeout)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_while_idle(true);
    let endpoint = if url.starts_with("https://") {
        let tls = options.tls.clone().unwrap_or_else(|| tonic::transport::ClientTlsConfig::new().with_webpki_roots());
        endpoint.tls_config(tls).map_err(|e| anyhow::anyhow!("peer address {url:?}: tls: {e}"))?
    } else {
        endpoint
    };
    let interceptor = TraceInterceptor { service_token: options.service_token.clone() };
    Ok(InterceptedService::new(endpoint.connect_lazy(), interceptor))
}

/// A request for `tenant` with a deadline.
pub fn request<T>(tenant: &TenantId, message: T, timeout: Duration) -> Request<T> {
    let mut request = Request::new(message);
    if let Ok(value) = tenant.as_str().parse() {
        request.metadata_mut().insert(TENANT_HEADER, value);
    }
    request.set_timeout(timeout);
    request
}

/// Marks a request as made by a redress service acting on its own behalf
/// (`x-redress-actor: system:<service>`, `x-redress-roles: system`).
pub fn as_service<T>(mut request: Request<T>, service: crate::ServiceKind) -> Request<T> {
    if let Ok(actor) = format!("system:{service}").parse() {
        request.metadata_mut().insert(crate::caller::ACTOR_HEADER, actor);
    }
    if let Ok(roles) = "system".parse() {
        request.metadata_mut().insert(crate::caller::ROLES_HEADER, roles);
    }
    request
}

/// Whether a failed call may be retried: the server was unreachable, overloaded or too slow.
pub fn retryable(status: &Status) -> bool {
    matches!(status.code(), Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted)
        || (status.code() == Code::Unknown && status.message().contains("transport"))
}

/// Runs an idempotent call, retrying retryable failures with exponential backoff and full
/// jitter. Only for calls that are safe to repeat: reads, and writes carrying a request_id.
pub async fn with_retries<T, F, Fut>(options: &ClientOptions, what: &str, mut call: F) -> Result<T, Status>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    let mut attempt = 0u32;
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(status) if attempt < options.max_retries && retryable(&status) => {
                let delay = backoff(options, attempt);
                tracing::debug!(call = what, attempt, code = ?status.code(), delay_ms = delay.as_millis() as u64, "retrying call");
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            Err(status) => return Err(status),
        }
    }
}

/// The delay before retry `attempt` (from 0): uniform in [0, min(max, base × 2^attempt)].
pub fn backoff(options: &ClientOptions, attempt: u32) -> Duration {
    crate::backoff::Backoff::new(options.backoff_base, options.backoff_max).delay(attempt)
}

/// Asks a peer's `grpc.health.v1` whether `service` is SERVING, for readiness checks.
pub async fn peer_serving(channel: TracedChannel, service: &str) -> Result<(), String> {
    let mut client = tonic_health::pb::health_client::HealthClient::new(channel);
    let mut request = Request::new(tonic_health::pb::HealthCheckRequest { service: service.to_string() });
    request.set_timeout(Duration::from_secs(2));
    match client.check(request).await {
        Ok(response) => {
            let status = response.into_inner().status;
            if status == tonic_health::pb::health_check_response::ServingStatus::Serving as i32 {
                Ok(())
            } else {
                Err(format!("{service} is not serving yet"))
            }
        }
        Err(status) => Err(format!("{service} unreachable: {}", status.message())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let options = ClientOptions {
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_millis(350),
            ..ClientOptions::default()
        };
        for _ in 0..200 {
            assert!(backoff(&options, 0) <= Duration::from_millis(100));
            assert!(backoff(&options, 1) <= Duration::from_millis(200));
            assert!(backoff(&options, 10) <= Duration::from_millis(350));
        }
    }

    /// Calls `with_retries` with an operation answering `answer(attempt)`; returns the
    /// outcome and how many attempts were made.
    async fn attempts(options: &ClientOptions, answer: fn(u32) -> Result<(), Status>) -> (Result<(), Status>, u32) {
        let mut calls = 0;
        let result = with_retries(options, "test", || {
            calls += 1;
            let outcome = answer(calls);
            async move { outcome }
        })
        .await;
        (result, calls)
    }

    #[tokio::test]
    async fn retries_only_what_is_retryable() {
        let options = ClientOptions { backoff_base: Duration::from_millis(1), ..ClientOptions::default() };
        let (result, calls) =
            attempts(&options, |attempt| if attempt < 3 { Err(Status::unavailable("down")) } else { Ok(()) }).await;
        assert!(result.is_ok());
        assert_eq!(calls, 3);

        let (result, calls) = attempts(&options, |_| Err(Status::invalid_argument("bad"))).await;
        assert_eq!(result.unwrap_err().code(), Code::InvalidArgument);
        assert_eq!(calls, 1, "invalid arguments are never retried");

        let (result, calls) = attempts(&options, |_| Err(Status::unavailable("down"))).await;
        assert_eq!(result.unwrap_err().code(), Code::Unavailable);
        assert_eq!(calls, 1 + options.max_retries);
    }
}
