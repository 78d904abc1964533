//! Layered configuration: built-in defaults, then an optional TOML file, then `REDRESS_…`
//! environment variables (`REDRESS_CASE__DATABASE_URL` is `case.database_url`), then flags
//! (`--set key=value`). [`Config::validate`] rejects nonsense at start-up naming the key.

use std::net::SocketAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ServiceKind;

mod analytics;
mod auth;
mod case;
mod escalation;
mod intake;
mod load;
mod notification;
mod setting;

pub use analytics::AnalyticsConfig;
pub use auth::{AuthConfig, AuthMode};
pub use case::CaseConfig;
pub use escalation::EscalationConfig;
pub use intake::IntakeConfig;
pub use load::{Sources, parse_overrides};
pub use notification::NotificationConfig;
pub use setting::{DurationSetting, ListenSetting, OptionalListen, Parse, Setting, parse_listen};

/// Environment variables with this prefix configure redress.
pub const ENV_PREFIX: &str = "REDRESS_";
/// Variables with this prefix belong to the test suite and are not configuration.
pub(crate) const TEST_ENV_PREFIX: &str = "REDRESS_TEST_";

/// A configuration problem, named by its key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {problem}")]
pub struct ConfigError {
    /// The dotted key, for example `case.listen`.
    pub key: String,
    /// What is wrong with it.
    pub problem: String,
}

impl ConfigError {
    /// A problem with `key`.
    pub fn new(key: impl Into<String>, problem: impl Into<String>) -> Self {
        Self { key: key.into(), problem: problem.into() }
    }
}

/// The whole configuration of a redress process.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the embedded mode keeps its SQLite files.
    pub data_dir: String,
    /// Logging.
    pub log: LogConfig,
    /// OpenTelemetry traces and metrics export.
    pub telemetry: TelemetryConfig,
    /// The Prometheus scrape endpoint.
    pub metrics: MetricsConfig,
    /// gRPC server behaviour shared by every service.
    pub grpc: GrpcConfig,
    /// gRPC client behaviour for service-to-service calls.
    pub client: ClientConfig,
    /// How callers prove who they are.
    pub auth: AuthConfig,
    /// TLS on the listeners and to `https://` peers.
    pub tls: TlsConfig,
    /// The database every service uses unless its own section overrides it.
    pub database: DatabaseConfig,
    /// Redis, the index of SLA deadlines and the shared rate limiter.
    pub redis: RedisConfig,
    /// The embedded all-in-one mode (`redress up`).
    pub up: UpConfig,
    /// Where each service finds the others.
    pub peers: PeersConfig,
    /// The intake service.
    pub intake: IntakeConfig,
    /// The case service.
    pub case: CaseConfig,
    /// The escalation service.
    pub escalation: EscalationConfig,
    /// The notification service.
    pub notification: NotificationConfig,
    /// The analytics service.
    pub analytics: AnalyticsConfig,
}

/// Logging settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `human` or `json`.
    pub format: String,
    /// A `tracing` filter directive, for example `info` or `info,redress_case=debug`.
    pub level: String,
}

/// OpenTelemetry export settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// OTLP/gRPC collector endpoint, for example `http://otel-collector:4317`. Empty disables export.
    pub otlp_endpoint: String,
    /// Share of new traces sampled, 0 to 1. Child spans follow their parent's decision.
    pub sampling_ratio: f64,
    /// How often metrics are pushed over OTLP.
    pub metrics_interval: DurationSetting,
}

/// Prometheus scrape endpoint settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Address of the HTTP `/metrics` endpoint. Empty disables it.
    pub listen: OptionalListen,
}

/// gRPC server settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GrpcConfig {
    /// The longest a call may run when the client sets no shorter deadline.
    pub request_timeout: DurationSetting,
    /// Calls in flight per process before new ones are shed with RESOURCE_EXHAUSTED.
    pub concurrency_limit: usize,
    /// The largest message accepted or sent, in bytes.
    pub max_message_bytes: usize,
    /// How long shutdown waits for calls in flight to finish.
    pub shutdown_grace: DurationSetting,
}

/// gRPC client settings for calls between services.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientConfig {
    /// Deadline of each attempt.
    pub timeout: DurationSetting,
    /// How long to wait for a connection.
    pub connect_timeout: DurationSetting,
    /// Retries of idempotent calls after the first attempt.
    pub max_retries: u32,
    /// The first retry delay; doubled each time, with full jitter.
    pub backoff_base: DurationSetting,
    /// The longest retry delay.
    pub backoff_max: DurationSetting,
}

/// TLS settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// The server certificate chain (PEM) every listener presents; empty: plaintext.
    pub cert_file: String,
    /// Its private key (PEM).
    pub key_file: String,
    /// How often the two files are checked for a renewed certificate.
    pub reload_interval: DurationSetting,
    /// The CA bundle (PEM) that `https://` peers are verified against; empty: the public roots.
    pub ca_file: String,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            cert_file: String::new(),
            key_file: String::new(),
            reload_interval: "10s".into(),
            ca_file: String::new(),
        }
    }
}

/// Database settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `postgres://…` or `sqlite://…`. Empty means a SQLite file per service under `data_dir`.
    pub url: String,
    /// Pool size per service.
    pub max_connections: u32,
    /// How long to wait for a connection from the pool.
    pub acquire_timeout: DurationSetting,
    /// Run pending migrations when a service starts.
    pub migrate_on_start: bool,
}

/// Redis settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisConfig {
    /// `redis://…` or `rediss://…`. Empty is allowed only in `redress up`, which keeps timers in process.
    pub url: String,
    /// Prefix of every key redress writes, so several installations can share one Redis.
    pub key_prefix: String,
}

/// The embedded all-in-one mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpConfig {
    /// The one address all five services answer on.
    pub listen: ListenSetting,
}

/// Peer addresses for service-to-service calls.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PeersConfig {
    /// The case service, for example `http://redress-case:50052`.
    pub case: String,
    /// The escalation service.
    pub escalation: String,
    /// The notification service.
    pub notification: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: "./data".into(),
            log: LogConfig::default(),
            telemetry: TelemetryConfig::default(),
            metrics: MetricsConfig::default(),
            grpc: GrpcConfig::default(),
            client: ClientConfig::default(),
            auth: AuthConfig::default(),
            tls: TlsConfig::default(),
            database: DatabaseConfig::default(),
            redis: RedisConfig::default(),
            up: UpConfig::default(),
            peers: PeersConfig::default(),
            intake: IntakeConfig::default(),
            case: CaseConfig::default(),
            escalation: EscalationConfig::default(),
            notification: NotificationConfig::default(),
            analytics: AnalyticsConfig::default(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: "human".into(), level: "info".into() }
    }
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self { otlp_endpoint: String::new(), sampling_ratio: 1.0, metrics_interval: "30s".into() }
    }
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self { listen: "0.0.0.0:9464".into() }
    }
}

impl Default for GrpcConfig {
    fn default() -> Self {
        Self {
            request_timeout: "30s".into(),
            concurrency_limit: 1024,
            max_message_bytes: 4 * 1024 * 1024,
            shutdown_grace: "4s".into(),
        }
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            timeout: "10s".into(),
            connect_timeout: "3s".into(),
            max_retries: 4,
            backoff_base: "50ms".into(),
            backoff_max: "2s".into(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self { url: String::new(), max_connections: 16, acquire_timeout: "5s".into(), migrate_on_start: true }
    }
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self { url: String::new(), key_prefix: "redress".into() }
    }
}

impl Default for UpConfig {
    fn default() -> Self {
        Self { listen: "127.0.0.1:50051".into() }
    }
}

impl Default for PeersConfig {
    fn default() -> Self {
        Self {
            case: format!("http://127.0.0.1:{}", ServiceKind::Case.default_port()),
            escalation: format!("http://127.0.0.1:{}", ServiceKind::Escalation.default_port()),
            notification: format!("http://127.0.0.1:{}", ServiceKind::Notification.default_port()),
        }
    }
}

/// What every service's section has: where `redress serve` listens for the service, and its
/// own database URL (overriding `database.url`; empty for none).
pub trait Section {
    /// Where `redress serve` listens for the service.
    fn listen(&self) -> SocketAddr;
    /// The service's own database URL, overriding `database.url`; empty for none.
    fn database_url(&self) -> &str;
    /// The same, to mask it for printing.
    fn database_url_mut(&mut self) -> &mut String;
}

/// Implements [`Section`] for the sections, which all name the two fields alike.
macro_rules! sections {
    ($($section:ty),*) => {$(
        impl Section for $section {
            fn listen(&self) -> SocketAddr {
                self.listen.get()
            }
            fn database_url(&self) -> &str {
                &self.database_url
            }
            fn database_url_mut(&mut self) -> &mut String {
                &mut self.database_url
            }
        }
    )*};
}

sections!(IntakeConfig, CaseConfig, EscalationConfig, NotificationConfig, AnalyticsConfig);

/// The default listen address of a service.
fn listen_on(kind: ServiceKind) -> ListenSetting {
    format!("0.0.0.0:{}", kind.default_port()).into()
}

/// Fails naming `key` unless `ok`.
fn ensure(ok: bool, key: impl Into<String>, problem: &str) -> Result<(), ConfigError> {
    if ok { Ok(()) } else { Err(ConfigError::new(key, problem)) }
}

impl Config {
    /// The built-in defaults of `redress up`: every listener on loopback.
    pub fn embedded() -> Self {
        let mut config = Config::default();
        config.metrics.listen = "127.0.0.1:9464".into();
        config.analytics.flight_listen = format!("127.0.0.1:{}", analytics::FLIGHT_PORT).into();
        config
    }

    /// Checks every value; the first problem is returned with its key. Durations and listen
    /// addresses were parsed while loading; this checks what parsing cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self.log.format.as_str() {
            "human" | "json" => {}
            other => return Err(ConfigError::new("log.format", format!("must be human or json, not {other:?}"))),
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return Err(ConfigError::new("log.level", e.to_string()));
        }
        if !self.telemetry.otlp_endpoint.is_empty() {
            check_url("telemetry.otlp_endpoint", &self.telemetry.otlp_endpoint, &["http", "https"])?;
        }
        ensure(
            (0.0..=1.0).contains(&self.telemetry.sampling_ratio),
            "telemetry.sampling_ratio",
            "must be between 0 and 1",
        )?;
        ensure(self.grpc.concurrency_limit > 0, "grpc.concurrency_limit", "must be at least 1")?;
        ensure(self.grpc.max_message_bytes >= 1024, "grpc.max_message_bytes", "must be at least 1024")?;
        self.auth.validate()?;
        ensure(
            self.tls.cert_file.is_empty() == self.tls.key_file.is_empty(),
            "tls.key_file",
            "give both tls.cert_file and tls.key_file, or neither",
        )?;
        ensure(self.database.max_connections > 0, "database.max_connections", "must be at least 1")?;
        if !self.database.url.is_empty() {
            check_database_url("database.url", &self.database.url)?;
        }
        if !self.redis.url.is_empty() {
            check_url("redis.url", &self.redis.url, &["redis", "rediss"])?;
        }
        ensure(
            !(self.redis.key_prefix.is_empty() || self.redis.key_prefix.contains(['{', '}', ' '])),
            "redis.key_prefix",
            "must be non-empty without braces or spaces",
        )?;
        check_url("peers.case", &self.peers.case, &["http", "https"])?;
        check_url("peers.escalation", &self.peers.escalation, &["http", "https"])?;
        check_url("peers.notification", &self.peers.notification, &["http", "https"])?;
        for kind in ServiceKind::ALL {
            let own = self.service(kind).database_url();
            if !own.is_empty() {
                check_database_url(&format!("{}.database_url", kind.key()), own)?;
            }
        }
        self.intake.validate("intake")?;
        self.case.validate("case")?;
        self.escalation.validate("escalation")?;
        self.notification.validate("notification")?;
        self.analytics.validate("analytics")
    }

    /// The section of one service.
    pub fn service(&self, kind: ServiceKind) -> &dyn Section {
        match kind {
            ServiceKind::Intake => &self.intake,
            ServiceKind::Case => &self.case,
            ServiceKind::Escalation => &self.escalation,
            ServiceKind::Notification => &self.notification,
            ServiceKind::Analytics => &self.analytics,
        }
    }

    fn service_mut(&mut self, kind: ServiceKind) -> &mut dyn Section {
        match kind {
            ServiceKind::Intake => &mut self.intake,
            ServiceKind::Case => &mut self.case,
            ServiceKind::Escalation => &mut self.escalation,
            ServiceKind::Notification => &mut self.notification,
            ServiceKind::Analytics => &mut self.analytics,
        }
    }

    /// The database URL a service uses: its own, the shared one, or a SQLite file under `data_dir`.
    pub fn database_url(&self, kind: ServiceKind) -> String {
        let own = self.service(kind).database_url();
        if !own.is_empty() {
            return own.to_string();
        }
        if !self.database.url.is_empty() {
            return self.database.url.clone();
        }
        let path = Path::new(&self.data_dir).join(format!("{}.db", kind.key()));
        format!("sqlite://{}?mode=rwc", path.display())
    }

    /// The configuration with passwords in URLs replaced by `****`, as TOML.
    pub fn to_masked_toml(&self) -> String {
        let mut masked = self.clone();
        masked.database.url = mask_url(&masked.database.url);
        masked.redis.url = mask_url(&masked.redis.url);
        masked.telemetry.otlp_endpoint = mask_url(&masked.telemetry.otlp_endpoint);
        masked.auth.mask();
        for kind in ServiceKind::ALL {
            let url = masked.service_mut(kind).database_url_mut();
            *url = mask_url(url);
        }
        masked.notification.mask();
        masked.analytics.mask();
        toml::to_string_pretty(&masked).unwrap_or_else(|e| format!("# cannot print configuration: {e}\n"))
    }
}

/// Checks a URL and its scheme.
pub fn check_url(key: &str, value: &str, schemes: &[&str]) -> Result<url::Url, ConfigError> {
    let url = url::Url::parse(value).map_err(|e| ConfigError::new(key, format!("malformed URL {value:?}: {e}")))?;
    if !schemes.contains(&url.scheme()) {
        return Err(ConfigError::new(
            key,
            format!("URL scheme {:?} is not one of {}", url.scheme(), schemes.join(", ")),
        ));
    }
    if let Some(port) = url.port()
        && port == 0
    {
        return Err(ConfigError::new(key, "port 0 is not a destination"));
    }
    Ok(url)
}

fn check_database_url(key: &str, value: &str) -> Result<(), ConfigError> {
    let url = check_url(key, value, &["postgres", "postgresql", "sqlite"])?;
    if url.scheme() != "sqlite" && url.host_str().unwrap_or_default().is_empty() {
        return Err(ConfigError::new(key, "PostgreSQL URL has no host"));
    }
    Ok(())
}

/// Replaces the password of a URL with `****`.
pub fn mask_url(value: &str) -> String {
    match url::Url::parse(value) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("****"));
            url.to_string()
        }
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(env: &[(&str, &str)], overrides: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::load(&Sources {
            file: None,
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            overrides: overrides.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            embedded: false,
        })
    }

    #[test]
    fn the_embedded_mode_listens_on_loopback_unless_told_otherwise() {
        let sources = |overrides: &[(&str, &str)]| Sources {
            overrides: overrides.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            embedded: true,
            ..Sources::default()
        };
        let c = Config::load(&sources(&[])).unwrap();
        for (key, listen) in [
            ("up", c.up.listen.text()),
            ("metrics", c.metrics.listen.text()),
            ("flight", c.analytics.flight_listen.text()),
        ] {
            assert!(parse_listen(key, listen).unwrap().ip().is_loopback(), "{key}: {listen}");
        }
        let c = Config::load(&sources(&[("metrics.listen", "0.0.0.0:9464")])).unwrap();
        assert_eq!(c.metrics.listen, "0.0.0.0:9464", "an explicit address wins");
        assert_eq!(load(&[], &[]).unwrap().metrics.listen, "0.0.0.0:9464", "served processes keep their defaults");
    }

    #[test]
    fn layers_apply_in_order() {
        let c = load(&[], &[]).unwrap();
        assert_eq!(c.case.listen, "0.0.0.0:50053");
        assert_eq!(c.database_url(ServiceKind::Case), "sqlite://./data/case.db?mode=rwc");

        let c = load(
            &[("REDRESS_CASE__DATABASE_URL", "postgres://u:secret@db:5432/redress"), ("REDRESS_DATA_DIR", "/var/x")],
            &[("log.format", "json")],
        )
        .unwrap();
        assert_eq!(c.database_url(ServiceKind::Case), "postgres://u:secret@db:5432/redress");
        assert_eq!(c.database_url(ServiceKind::Intake), "sqlite:///var/x/intake.db?mode=rwc");
        assert_eq!(c.log.format, "json");
        assert!(c.to_masked_toml().contains("postgres://u:****@db:5432/redress"));
        assert!(!c.to_masked_toml().contains("secret"));

        let c = load(&[("REDRESS_GRPC__CONCURRENCY_LIMIT", "7")], &[("grpc.concurrency_limit", "9")]).unwrap();
        assert_eq!(c.grpc.concurrency_limit, 9, "flags win over the environment");
    }

    #[test]
    fn test_suite_variables_are_not_configuration() {
        let c = load(&[("REDRESS_TEST_DATABASE_URL", "postgres://x@y/z")], &[]).unwrap();
        assert!(c.database.url.is_empty());
    }

    #[test]
    fn nonsense_is_named_by_its_key() {
        type Pairs = &'static [(&'static str, &'static str)];
        let cases: &[(Pairs, Pairs, &str)] = &[
            (&[("REDRESS_CASE__LISTEN", "0.0.0.0:70000")], &[], "case.listen"),
            (&[("REDRESS_DATABASE__URL", "not a url")], &[], "database.url"),
            (&[("REDRESS_DATABASE__URL", "mysql://db/x")], &[], "database.url"),
            (&[("REDRESS_BOGUS", "1")], &[], "bogus"),
            (&[("REDRESS_CASE__COLOUR", "1")], &[], "case.colour"),
            (&[], &[("log.format", "xml")], "log.format"),
            (&[], &[("grpc.request_timeout", "soon")], "grpc.request_timeout"),
            (&[], &[("intake.repeat_contact_window", "soon")], "intake.repeat_contact_window"),
            (&[], &[("analytics.flight_listen", "nowhere")], "analytics.flight_listen"),
            (&[], &[("analytics.flight_statement_timeout", "soon")], "analytics.flight_statement_timeout"),
            (&[], &[("grpc.concurrency_limit", "many")], "grpc.concurrency_limit"),
            (&[], &[("peers.case", "case:50052")], "peers.case"),
        ];
        for (env, overrides, key) in cases {
            let err = load(env, overrides).expect_err(key);
            assert_eq!(err.key, *key, "{err}");
            assert!(!err.to_string().contains('\n'), "one line: {err}");
        }
    }
}
