//! The layer every gRPC call passes through: load shedding past the concurrency limit, a server
//! span continuing the caller's W3C trace, per-RPC metrics (rate, errors, latency), and one log
//! line per call with method, status and latency, written when the response body ends.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::BoxFuture;
use http_body::{Body, Frame};
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, UpDownCounter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::Code;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::middleware::{Around, Middleware};

/// Builds [`Observe`] services sharing one concurrency limit and one set of instruments.
#[derive(Clone)]
pub struct ObserveLayer {
    shared: Arc<Shared>,
}

struct Shared {
    limit: Arc<Semaphore>,
    duration: Histogram<f64>,
    active: UpDownCounter<i64>,
    shed: Counter<u64>,
}

impl ObserveLayer {
    /// A layer admitting at most `concurrency_limit` calls at once; the rest are shed with
    /// RESOURCE_EXHAUSTED.
    pub fn new(concurrency_limit: usize) -> Self {
        let meter = opentelemetry::global::meter("redress");
        let duration = meter
            .f64_histogram("rpc.server.call.duration")
            .with_unit("s")
            .with_description("Duration of gRPC calls handled, by service, method and status code")
            .with_boundaries(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ])
            .build();
        let active =
            meter.i64_up_down_counter("rpc.server.active_calls").with_description("gRPC calls in flight").build();
        let shed = meter
            .u64_counter("rpc.server.shed_calls")
            .with_description("gRPC calls refused because the concurrency limit was reached")
            .build();
        Self { shared: Arc::new(Shared { limit: Arc::new(Semaphore::new(concurrency_limit)), duration, active, shed }) }
    }
}

crate::layer!(ObserveLayer);

/// A service behind an [`ObserveLayer`]; see the module documentation.
pub type Observe<S> = Around<S, ObserveLayer>;

impl<S, ReqBody, ResBody> Middleware<S, http::Request<ReqBody>> for ObserveLayer
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>> + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = http::Response<ObservedBody<ResBody>>;

    fn call(
        &self,
        mut inner: S,
        request: http::Request<ReqBody>,
    ) -> BoxFuture<'static, Result<Self::Response, S::Error>> {
        let path = request.uri().path().to_string();
        let (service, method) = split_path(&path);
        let quiet = service.starts_with("grpc.health.") || service.starts_with("grpc.reflection.");
        let span = tracing::info_span!(
            "grpc.server",
            otel.name = %path.trim_start_matches('/'),
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.service = %service,
            rpc.method = %method,
            rpc.grpc.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        );
        let _ = span.set_parent(crate::telemetry::extract_context(request.headers()));
        let record = CallRecord {
            shared: self.shared.clone(),
            span: span.clone(),
            service,
            method,
            quiet,
            start: Instant::now(),
            status: None,
            _permit: None,
        };

        let Ok(permit) = self.shared.limit.clone().try_acquire_owned() else {
            self.shared.shed.add(1, &[KeyValue::new("rpc.service", record.service.clone())]);
            let mut record = record;
            record.status = Some(Code::ResourceExhausted);
            let response = http::Response::builder()
                .header(http::header::CONTENT_TYPE, "application/grpc")
                .header("grpc-status", (Code::ResourceExhausted as i32).to_string())
                .header("grpc-message", "server%20overloaded%3B%20retry%20later")
                .body(ObservedBody { inner: None, record: Some(record) })
                .unwrap_or_default();
            return Box::pin(async move { Ok(response) });
        };
        self.shared.active.add(1, &[]);
        let mut record = record;
        record._permit = Some(permit);
        Box::pin(async move {
            let response = tracing::Instrument::instrument(inner.call(request), span).await?;
            let mut record = record;
            if let Some(code) = response.headers().get("grpc-status") {
                record.status = Some(Code::from_bytes(code.as_bytes()));
            }
            Ok(response.map(|inner| ObservedBody { inner: Some(inner), record: Some(record) }))
        })
    }
}

fn split_path(path: &str) -> (String, String) {
    let trimmed = path.trim_start_matches('/');
    match trimmed.split_once('/') {
        Some((service, method)) => (service.to_string(), method.to_string()),
        None => (trimmed.to_string(), String::new()),
    }
}

struct CallRecord {
    shared: Arc<Shared>,
    span: tracing::Span,
    service: String,
    method: String,
    quiet: bool,
    start: Instant,
    status: Option<Code>,
    _permit: Option<OwnedSemaphorePermit>,
}

impl CallRecord {
    /// Writes the metrics and the log line. `ended` is false when the body was dropped before
    /// it finished (the client went away).
    fn finish(mut self, ended: bool) {
        let code = match (self.status, ended) {
            (Some(code), _) => code,
            (None, true) => Code::Ok,
            (None, false) => Code::Cancelled,
        };
        let elapsed = self.start.elapsed();
        let attributes = [
            KeyValue::new("rpc.system", "grpc"),
            KeyValue::new("rpc.service", std::mem::take(&mut self.service)),
            KeyValue::new("rpc.method", std::mem::take(&mut self.method)),
            KeyValue::new("rpc.grpc.status_code", code as i64),
        ];
        self.shared.duration.record(elapsed.as_secs_f64(), &attributes);
        if self._permit.is_some() {
            self.shared.active.add(-1, &[]);
        }
        self.span.record("rpc.grpc.status_code", code as i32);
        if is_server_error(code) {
            self.span.record("otel.status_code", "ERROR");
        }
        let latency_ms = elapsed.as_secs_f64() * 1000.0;
        let method = format!("{}/{}", attributes[1].value, attributes[2].value);
        self.span.in_scope(|| {
            if self.quiet {
                tracing::debug!(%method, code = ?code, latency_ms, "grpc call");
            } else if is_server_error(code) {
                tracing::warn!(%method, code = ?code, latency_ms, "grpc call");
            } else {
                tracing::info!(%method, code = ?code, latency_ms, "grpc call");
            }
        });
    }
}

fn is_server_error(code: Code) -> bool {
    matches!(code, Code::Internal | Code::Unknown | Code::DataLoss | Code::Unavailable | Code::DeadlineExceeded)
}

pin_project_lite::pin_project! {
    /// A response body that reports its call when it ends or is dropped.
    pub struct ObservedBody<B> {
        #[pin]
        inner: Option<B>,
        record: Option<CallRecord>,
    }

    impl<B> PinnedDrop for ObservedBody<B> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(record) = this.project().record.take() {
                record.finish(false);
            }
        }
    }
}

impl<B> Default for ObservedBody<B> {
    fn default() -> Self {
        Self { inner: None, record: None }
    }
}

impl<B> Body for ObservedBody<B>
where
    B: Body,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let Some(inner) = this.inner.as_pin_mut() else {
            if let Some(record) = this.record.take() {
                record.finish(true);
            }
            return Poll::Ready(None);
        };
        let polled = inner.poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(trailers), Some(record)) = (frame.trailers_ref(), this.record.as_mut())
                    && let Some(code) = trailers.get("grpc-status")
                {
                    record.status = Some(Code::from_bytes(code.as_bytes()));
                }
            }
            Poll::Ready(Some(Err(_))) => {
                if let Some(record) = this.record.as_mut() {
                    record.status.get_or_insert(Code::Internal);
                }
            }
            Poll::Ready(None) => {
                if let Some(record) = this.record.take() {
                    record.finish(true);
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.as_ref().map(|b| b.size_hint()).unwrap_or_else(|| http_body::SizeHint::with_exact(0))
    }
}
