//! Logs, traces and metrics.
//!
//! Logs go to stderr through `tracing`, human or JSON. Spans become OpenTelemetry traces,
//! exported over OTLP when an endpoint is configured; W3C trace-context is extracted from
//! every inbound call and injected into every outbound one, so one complaint is one trace
//! across services. Metrics are OpenTelemetry instruments, scraped by Prometheus on
//! `/metrics` and pushed over OTLP when an endpoint is configured. [`Telemetry::shutdown`]
//! flushes traces, then metrics.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::Context as _;
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{Context, global};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::Config;

/// The attribute namespace of redress's own span attributes, for example `redress.case.id`.
pub const ATTRIBUTE_NAMESPACE: &str = "redress";

/// The telemetry pipeline of a process. Keep it alive; call [`Telemetry::shutdown`] last.
pub struct Telemetry {
    tracer_provider: SdkTracerProvider,
    meter_provider: SdkMeterProvider,
    registry: prometheus::Registry,
}

static INSTALLED: OnceLock<()> = OnceLock::new();

/// Installs logging, tracing and metrics for a process named `service_name`
/// (`redress` for the embedded mode, `redress-case` and so on for one service).
pub fn init(config: &Config, service_name: &str) -> anyhow::Result<Telemetry> {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let resource = Resource::builder().with_service_name(service_name.to_string()).build();

    let sampler = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(config.telemetry.sampling_ratio)));
    let mut tracer_builder = SdkTracerProvider::builder().with_sampler(sampler).with_resource(resource.clone());
    let registry = prometheus::Registry::new();
    let prometheus_reader =
        opentelemetry_prometheus::exporter().with_registry(registry.clone()).build().context("prometheus exporter")?;
    let mut meter_builder = SdkMeterProvider::builder().with_resource(resource).with_reader(prometheus_reader);

    let endpoint = &config.telemetry.otlp_endpoint;
    if !endpoint.is_empty() {
        let spans = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()
            .context("OTLP span exporter")?;
        tracer_builder = tracer_builder.with_batch_exporter(spans);
        let metrics = opentelemetry_otlp::MetricExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()
            .context("OTLP metric exporter")?;
        let interval = config.telemetry.metrics_interval.get();
        let reader = opentelemetry_sdk::metrics::PeriodicReader::builder(metrics).with_interval(interval).build();
        meter_builder = meter_builder.with_reader(reader);
    }
    let tracer_provider = tracer_builder.build();
    let meter_provider = meter_builder.build();
    global::set_tracer_provider(tracer_provider.clone());
    global::set_meter_provider(meter_provider.clone());

    if INSTALLED.set(()).is_ok() {
        // The log level filters log output only: spans are always recorded for tracing, so a
        // quiet log level never breaks trace propagation.
        let filter = EnvFilter::try_new(&config.log.level).context("log.level")?;
        let otel = tracing_opentelemetry::layer()
            .with_tracer(tracer_provider.tracer("redress"))
            .with_filter(tracing_subscriber::filter::LevelFilter::INFO);
        let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
        let fmt = if config.log.format == "json" {
            fmt.json().flatten_event(true).with_filter(filter).boxed()
        } else {
            fmt.with_filter(filter).boxed()
        };
        tracing_subscriber::registry().with(otel).with(fmt).try_init().context("installing the log subscriber")?;
    }
    Ok(Telemetry { tracer_provider, meter_provider, registry })
}

impl Telemetry {
    /// The Prometheus registry the metrics are gathered into.
    pub fn registry(&self) -> &prometheus::Registry {
        &self.registry
    }

    /// The metrics in the Prometheus text format, as `GET /metrics` serves them.
    pub fn metrics_text(&self) -> String {
        let mut body = Vec::new();
        let encoder = prometheus::TextEncoder::new();
        if let Err(e) = prometheus::Encoder::encode(&encoder, &self.registry.gather(), &mut body) {
            tracing::warn!(error = %e, "encoding metrics failed");
        }
        String::from_utf8_lossy(&body).into_owned()
    }

    /// Serves `GET /metrics` in the Prometheus text format, and `GET /readyz` (200 while every
    /// service of the process is SERVING, else 503) and `GET /livez` (200), until `shutdown`
    /// fires. Returns the bound address.
    pub async fn serve_metrics(&self, listen: SocketAddr, shutdown: CancellationToken) -> anyhow::Result<SocketAddr> {
        let registry = self.registry.clone();
        let app = axum::Router::new()
            .route(
                "/metrics",
                axum::routing::get(move || {
                    let registry = registry.clone();
                    async move { render_metrics(&registry) }
                }),
            )
            .route(
                "/readyz",
                axum::routing::get(|| async {
                    if crate::server::serving() {
                        (axum::http::StatusCode::OK, "ready\n")
                    } else {
                        (axum::http::StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
                    }
                }),
            )
            .route("/livez", axum::routing::get(|| async { "alive\n" }));
        let listener =
            tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding metrics.listen {listen}"))?;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, "metrics endpoint listening");
        tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async move { shutdown.cancelled().await });
            if let Err(e) = server.await {
                tracing::warn!(error = %e, "metrics endpoint stopped");
            }
        });
        Ok(addr)
    }

    /// Flushes and stops exporting: traces first, then metrics.
    pub fn shutdown(self) {
        if let Err(e) = self.tracer_provider.force_flush() {
            eprintln!("flushing traces failed: {e}");
        }
        let _ = self.tracer_provider.shutdown_with_timeout(Duration::from_secs(3));
        let _ = self.meter_provider.shutdown_with_timeout(Duration::from_secs(3));
    }
}

fn render_metrics(registry: &prometheus::Registry) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut body = Vec::new();
    let encoder = prometheus::TextEncoder::new();
    if let Err(e) = prometheus::Encoder::encode(&encoder, &registry.gather(), &mut body) {
        tracing::warn!(error = %e, "encoding metrics failed");
        return http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    ([(http::header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], body).into_response()
}

/// Reads W3C trace-context from HTTP headers (gRPC metadata).
pub struct HeaderExtractor<'a>(pub &'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// Writes W3C trace-context into gRPC metadata.
pub struct MetadataInjector<'a>(pub &'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(key, value);
        }
    }
}

/// The trace context carried by inbound headers.
pub fn extract_context(headers: &http::HeaderMap) -> Context {
    global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)))
}

/// Injects the current span's trace context into outbound metadata.
pub fn inject_current(metadata: &mut tonic::metadata::MetadataMap) {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let cx = tracing::Span::current().context();
    global::get_text_map_propagator(|p| p.inject_context(&cx, &mut MetadataInjector(metadata)));
}
