//! `redress`: one binary for every service.
//!
//! - `redress up` runs all five services in one process on one port, embedded: SQLite files
//!   under the data directory and the in-process timer index. Nothing to install.
//! - `redress serve <service>...` runs any subset, each on its configured address, against the
//!   configured PostgreSQL and Redis; on Kubernetes each Deployment runs one.
//! - `redress migrate [<service>...]` applies database migrations.
//! - `redress config` prints the effective configuration with secrets masked.
//! - `redress apikey create|list|revoke` manages the API keys of machine clients.
//! - `redress status` shows each event consumer's cursor, lease and parked events;
//!   `redress parked list|retry` lists parked events and asks for their retry.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use redress_kit::auth::{Authenticator, Shape};
use redress_kit::config::{AuthMode, ConfigError, Sources, parse_overrides};
use redress_kit::server::{Component, ServerOptions};
use redress_kit::service::{Peers, Service};
use redress_kit::{Config, ServiceKind};
use tokio_util::sync::CancellationToken;

mod status;

/// Complaint resolution for contact centres: intake, case, escalation, notification, analytics.
#[derive(Debug, Parser)]
#[command(name = "redress", version, about)]
struct Cli {
    /// A TOML configuration file; environment variables and flags override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Sets a configuration key, for example `--set case.listen=0.0.0.0:50053`. Repeatable.
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Where the embedded mode keeps its SQLite files (`data_dir`).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<String>,
    /// `human` or `json` logs (`log.format`).
    #[arg(long, global = true, value_name = "FORMAT")]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the named services, each on its configured address.
    Serve {
        /// Services to run: intake, case, escalation, notification, analytics.
        #[arg(required = true, value_name = "SERVICE")]
        services: Vec<String>,
    },
    /// Runs all five services in one process on one port, embedded (SQLite, in-process timers).
    Up {
        /// The address to listen on (`up.listen`).
        #[arg(long, value_name = "HOST:PORT")]
        listen: Option<String>,
    },
    /// Applies database migrations of the named services, or of all of them.
    Migrate {
        /// Services to migrate; all when none are named.
        #[arg(value_name = "SERVICE")]
        services: Vec<String>,
    },
    /// Prints the effective configuration, secrets masked.
    Config,
    /// Manages API keys for machine clients (integrations, BI tools).
    Apikey {
        #[command(subcommand)]
        action: ApikeyAction,
    },
    /// Shows each event consumer's cursor, lease holder and parked events, per service.
    Status {
        /// Prints JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Lists parked events (events a consumer could not apply) or asks for their retry.
    Parked {
        #[command(subcommand)]
        action: ParkedAction,
    },
}

#[derive(Debug, Subcommand)]
enum ParkedAction {
    /// Lists parked events, of one consumer or all.
    List {
        /// Only this consumer's events (analytics, escalation, ...).
        consumer: Option<String>,
        /// Prints JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Asks a consumer to apply its parked events again (after a fix); those that apply are
    /// removed.
    Retry {
        /// The consumer whose events to retry.
        consumer: String,
        /// Only the event at this sequence; all of the consumer's when omitted.
        #[arg(long)]
        sequence: Option<i64>,
    },
}

#[derive(Debug, Subcommand)]
enum ApikeyAction {
    /// Creates a key for a tenant and prints it once; only its hash is stored.
    Create {
        /// The tenant the key acts for.
        #[arg(long)]
        tenant: String,
        /// Comma-separated roles: agent, supervisor, admin, integration, bi_reader.
        #[arg(long)]
        roles: String,
        /// What the key is for, for example `crm-connector`.
        #[arg(long)]
        name: String,
    },
    /// Lists keys (never their secrets), of one tenant or all.
    List {
        /// Only this tenant's keys.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Revokes a key by its id; processes stop accepting it within `auth.api_key_refresh`.
    Revoke {
        /// The key's id (`rdk_<id>_…`), as `list` shows it.
        id: String,
    },
}

/// Why the process stops early: bad input (exit 2) or a failure while running (exit 1).
enum Failure {
    Usage(String),
    Runtime(anyhow::Error),
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::Usage(format!("invalid configuration: {e}"))
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast::<ConfigError>() {
            Ok(config) => config.into(),
            Err(e) => Failure::Runtime(e),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("redress: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(error)) => {
            eprintln!("redress: {}", format!("{error:#}").replace('\n', " "));
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    let mut overrides = parse_overrides(&cli.set)?;
    if let Some(dir) = &cli.data_dir {
        overrides.push(("data_dir".into(), dir.clone()));
    }
    if let Some(format) = &cli.log_format {
        overrides.push(("log.format".into(), format.clone()));
    }
    if let Command::Up { listen: Some(listen) } = &cli.command {
        overrides.push(("up.listen".into(), listen.clone()));
    }
    let mut sources = Sources::from_process(cli.config.clone(), overrides);
    sources.embedded = matches!(cli.command, Command::Up { .. });
    let config = Config::load(&sources)?;

    let (services, process_name) = match &cli.command {
        Command::Config => {
            print!("{}", config.to_masked_toml());
            return Ok(());
        }
        Command::Serve { services } => {
            let kinds = parse_services(services)?;
            let name = match kinds.as_slice() {
                [one] => format!("redress-{one}"),
                _ => "redress".to_string(),
            };
            (kinds, name)
        }
        Command::Up { .. } => (ServiceKind::ALL.to_vec(), "redress".to_string()),
        Command::Migrate { services } if services.is_empty() => (ServiceKind::ALL.to_vec(), "redress".into()),
        Command::Migrate { services } => (parse_services(services)?, "redress".into()),
        Command::Apikey { action } => return apikey(&config, action),
        Command::Status { json } => return status::status(&config, *json),
        Command::Parked { action: ParkedAction::List { consumer, json } } => {
            return status::list(&config, consumer.as_deref(), *json);
        }
        Command::Parked { action: ParkedAction::Retry { consumer, sequence } } => {
            return status::retry(&config, consumer, *sequence);
        }
    };
    if let Command::Serve { .. } = &cli.command
        && services.contains(&ServiceKind::Escalation)
        && config.redis.url.is_empty()
    {
        return Err(ConfigError {
            key: "redis.url".into(),
            problem: "required by the escalation service outside `redress up`".into(),
        }
        .into());
    }

    if let Command::Serve { .. } = &cli.command
        && config.auth.mode() == AuthMode::Unset
    {
        return Err(ConfigError {
            key: "auth.mode".into(),
            problem: "required outside `redress up`: tokens (OIDC bearer tokens and API keys), or off to trust \
                      x-redress-* headers set by a gateway that authenticates callers"
                .into(),
        }
        .into());
    }

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(async move {
        let telemetry = redress_kit::telemetry::init(&config, &process_name)?;
        let result = match cli.command {
            Command::Migrate { .. } => migrate(&config, &services).await,
            Command::Serve { .. } => serve(&config, &services, &telemetry).await,
            Command::Up { .. } => up(&config, &telemetry).await,
            Command::Config | Command::Apikey { .. } | Command::Status { .. } | Command::Parked { .. } => Ok(()),
        };
        telemetry.shutdown();
        result.map_err(Failure::from)
    })
}

/// `redress apikey …`: talks to the key store only; prints for a person or a script.
fn apikey(config: &Config, action: &ApikeyAction) -> Result<(), Failure> {
    use redress_kit::TenantId;
    use redress_kit::auth::KeyStore;
    use redress_kit::caller::Role;
    let tenant_of = |t: &str| TenantId::parse(t).map_err(|e| Failure::Usage(format!("--tenant: {e}")));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(async {
        let store = KeyStore::open(&redress_kit::auth::keys::database_url(config)).await?;
        match action {
            ApikeyAction::Create { tenant, roles, name } => {
                let tenant = tenant_of(tenant)?;
                let mut parsed = Vec::new();
                for role in roles.split(',').map(str::trim).filter(|r| !r.is_empty()) {
                    match Role::parse(role) {
                        Some(Role::System) | None => {
                            return Err(Failure::Usage(format!(
                                "--roles: {role:?} is not one of agent, supervisor, admin, integration, bi_reader"
                            )));
                        }
                        Some(r) if !parsed.contains(&r) => parsed.push(r),
                        Some(_) => {}
                    }
                }
                if parsed.is_empty() {
                    return Err(Failure::Usage("--roles: at least one role".into()));
                }
                let name = name.trim();
                if name.is_empty() || name.len() > 100 || name.contains(',') || name.chars().any(char::is_control) {
                    return Err(Failure::Usage("--name: 1 to 100 printable characters, no commas".into()));
                }
                let (key, info) = store.create(name, &tenant, &parsed).await?;
                eprintln!("api key {} for tenant {} created; it is shown only now:", info.id, info.tenant);
                println!("{key}");
            }
            ApikeyAction::List { tenant } => {
                let tenant = tenant.as_deref().map(tenant_of).transpose()?;
                println!("{:<18} {:<20} {:<24} {:<30} {:<25} revoked", "id", "tenant", "name", "roles", "created");
                for key in store.list(tenant.as_ref()).await? {
                    let roles: Vec<&str> = key.roles.iter().map(|r| r.name()).collect();
                    let revoked = key.revoke_time.map(|t| t.to_rfc3339()).unwrap_or_else(|| "-".into());
                    println!(
                        "{:<18} {:<20} {:<24} {:<30} {:<25} {revoked}",
                        key.id,
                        key.tenant.as_str(),
                        key.name,
                        roles.join(","),
                        key.create_time.format("%Y-%m-%dT%H:%M:%SZ")
                    );
                }
            }
            ApikeyAction::Revoke { id } => {
                if !store.revoke(id).await? {
                    return Err(Failure::Usage(format!("no key {id:?} that is not already revoked")));
                }
                eprintln!("api key {id} revoked");
            }
        }
        Ok(())
    })
}

fn parse_services(names: &[String]) -> Result<Vec<ServiceKind>, Failure> {
    let mut kinds = Vec::new();
    for name in names {
        let kind = ServiceKind::parse(name).map_err(Failure::Usage)?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

async fn migrate(config: &Config, services: &[ServiceKind]) -> anyhow::Result<()> {
    // The API key table, which every service reads in tokens mode.
    redress_kit::auth::KeyStore::open(&redress_kit::auth::keys::database_url(config)).await?;
    for kind in services {
        match kind {
            ServiceKind::Intake => redress_intake::IntakeService::migrate(config).await?,
            ServiceKind::Case => redress_case::CaseService::migrate(config).await?,
            ServiceKind::Escalation => redress_escalation::EscalationService::migrate(config).await?,
            ServiceKind::Notification => redress_notification::NotificationService::migrate(config).await?,
            ServiceKind::Analytics => redress_analytics::AnalyticsService::migrate(config).await?,
        }
    }
    Ok(())
}

/// Builds one service as a component, with the process's peers (in `redress up`) and server
/// options (its authentication).
async fn component(
    config: &Config,
    kind: ServiceKind,
    peers: Option<&Peers>,
    server: &ServerOptions,
) -> anyhow::Result<Component> {
    match kind {
        ServiceKind::Intake => redress_intake::IntakeService::component(config, peers, server).await,
        ServiceKind::Case => redress_case::CaseService::component(config, peers, server).await,
        ServiceKind::Escalation => redress_escalation::EscalationService::component(config, peers, server).await,
        ServiceKind::Notification => redress_notification::NotificationService::component(config, peers, server).await,
        ServiceKind::Analytics => redress_analytics::AnalyticsService::component(config, peers, server).await,
    }
}

async fn start_metrics(
    config: &Config,
    telemetry: &redress_kit::telemetry::Telemetry,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    if let Some(addr) = config.metrics.listen.get() {
        telemetry.serve_metrics(addr, shutdown.clone()).await?;
    }
    Ok(())
}

/// Runs the services; those configured on the same address share one server.
async fn serve(
    config: &Config,
    services: &[ServiceKind],
    telemetry: &redress_kit::telemetry::Telemetry,
) -> anyhow::Result<()> {
    let shutdown = redress_kit::shutdown::on_signal();
    start_metrics(config, telemetry, &shutdown).await?;
    let mut options = ServerOptions::from_config(config)?;
    options.auth = Authenticator::start(config, Shape::Served, shutdown.clone()).await?;
    let mut by_address: BTreeMap<SocketAddr, Vec<Component>> = BTreeMap::new();
    for kind in services {
        let addr = config.service(*kind).listen();
        by_address.entry(addr).or_default().push(component(config, *kind, None, &options).await?);
    }
    let mut servers = tokio::task::JoinSet::new();
    for (addr, components) in by_address {
        let listener = redress_kit::server::bind(addr).await?;
        let (options, shutdown) = (options.clone(), shutdown.clone());
        servers.spawn(async move { redress_kit::server::serve(listener, components, &options, shutdown).await });
    }
    let mut result = Ok(());
    while let Some(joined) = servers.join_next().await {
        let outcome = joined.context("server task").and_then(|r| r);
        if let Err(e) = outcome {
            shutdown.cancel();
            result = Err(e);
        }
    }
    result
}

/// Runs all five services on one address, embedded.
async fn up(config: &Config, telemetry: &redress_kit::telemetry::Telemetry) -> anyhow::Result<()> {
    let shutdown = redress_kit::shutdown::on_signal();
    start_metrics(config, telemetry, &shutdown).await?;
    let listen = config.up.listen.get();
    let listener = redress_kit::server::bind(listen).await?;
    let bound = listener.local_addr()?;
    let reachable = if bound.ip().is_unspecified() {
        SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), bound.port())
    } else {
        bound
    };
    let peers = Peers::all_at(&format!("http://{reachable}"));
    let mut options = ServerOptions::from_config(config)?;
    options.auth = Authenticator::start(config, Shape::Embedded, shutdown.clone()).await?;
    let mut components = Vec::new();
    for kind in ServiceKind::ALL {
        components.push(component(config, kind, Some(&peers), &options).await?);
    }
    tracing::info!(addr = %bound, data_dir = %config.data_dir, "redress up: all five services, embedded");
    redress_kit::server::serve(listener, components, &options, shutdown).await
}
