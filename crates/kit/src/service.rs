//! What every service's `Options → build() → run(shutdown)` shares: where it listens, its
//! database (connected and migrated), its peers, Redis, running it on its own server, and the
//! [`Service`] trait through which `redress serve`, `up` and `migrate` drive each service.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use tokio_util::sync::CancellationToken;

use crate::ServiceKind;
use crate::client::{ClientOptions, TracedChannel};
use crate::config::Config;
use crate::server::{Component, ServerOptions};

/// Peer addresses, `http://host:port`.
#[derive(Debug, Clone)]
pub struct Peers {
    /// The case service.
    pub case: String,
    /// The escalation service.
    pub escalation: String,
    /// The notification service.
    pub notification: String,
}

impl Peers {
    /// Every peer at one address, as in `redress up`.
    pub fn all_at(url: &str) -> Self {
        Self { case: url.to_string(), escalation: url.to_string(), notification: url.to_string() }
    }
}

/// The options every service has.
#[derive(Debug, Clone)]
pub struct CommonOptions {
    /// Which service.
    pub kind: ServiceKind,
    /// Where it listens when run on its own.
    pub listen: SocketAddr,
    /// Its database URL.
    pub database_url: String,
    /// Pool size.
    pub max_connections: u32,
    /// How long to wait for a pooled connection.
    pub acquire_timeout: Duration,
    /// Whether to migrate at start-up.
    pub migrate_on_start: bool,
    /// Redis URL, if configured.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key.
    pub redis_key_prefix: String,
    /// Server behaviour.
    pub server: ServerOptions,
    /// Client behaviour for calls to peers.
    pub client: ClientOptions,
    /// Where the peers are.
    pub peers: Peers,
}

impl CommonOptions {
    /// Reads the options of `kind` from a validated configuration.
    pub fn from_config(config: &Config, kind: ServiceKind) -> anyhow::Result<Self> {
        Ok(Self {
            kind,
            listen: config.service(kind).listen(),
            database_url: config.database_url(kind),
            max_connections: config.database.max_connections,
            acquire_timeout: config.database.acquire_timeout.get(),
            migrate_on_start: config.database.migrate_on_start,
            redis_url: (!config.redis.url.is_empty()).then(|| config.redis.url.clone()),
            redis_key_prefix: config.redis.key_prefix.clone(),
            server: ServerOptions::from_config(config)?,
            client: ClientOptions::from_config(config)?,
            peers: Peers {
                case: config.peers.case.clone(),
                escalation: config.peers.escalation.clone(),
                notification: config.peers.notification.clone(),
            },
        })
    }

    /// Connects to the service's database, migrating it first when configured to.
    pub async fn database<M: MigratorTrait>(&self) -> anyhow::Result<DatabaseConnection> {
        let db =
            crate::db::connect_url(&self.database_url, self.kind, self.max_connections, self.acquire_timeout).await?;
        if self.migrate_on_start {
            crate::db::migrate::<M>(&db, self.kind, &self.database_url).await?;
        }
        Ok(db)
    }

    /// A lazily connected channel to a peer.
    pub fn peer(&self, url: &str) -> anyhow::Result<TracedChannel> {
        crate::client::connect(url, &self.client)
    }
}

/// Adds the readiness checks every service with a database has.
pub fn with_database_check(component: Component, db: &DatabaseConnection) -> Component {
    let db = db.clone();
    component.check("database", move || {
        let db = db.clone();
        async move { crate::db::ping(&db).await }
    })
}

/// Adds a readiness check that a peer service is SERVING.
pub fn with_peer_check(component: Component, peer: ServiceKind, channel: TracedChannel) -> Component {
    component.check(format!("peer {peer}"), move || {
        let channel = channel.clone();
        async move { crate::client::peer_serving(channel, peer.grpc_name()).await }
    })
}

/// Runs one component on its own listener until `shutdown`.
pub async fn run_alone(
    component: Component,
    listen: SocketAddr,
    server: &ServerOptions,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let listener = crate::server::bind(listen).await?;
    crate::server::serve(listener, vec![component], server, shutdown).await
}

/// Connects `kind` to its database and applies its migrations, for `redress migrate`.
pub async fn migrate<M: MigratorTrait>(config: &Config, kind: ServiceKind) -> anyhow::Result<()> {
    let db = crate::db::connect(config, kind).await?;
    crate::db::migrate::<M>(&db, kind, &config.database_url(kind)).await?;
    db.close().await?;
    Ok(())
}

/// A service built and ready to run: its component, and where it listens when run alone.
pub struct Built {
    component: Component,
    listen: SocketAddr,
    server: ServerOptions,
}

impl Built {
    /// The built `component` of a service with these options.
    pub fn new(common: &CommonOptions, component: Component) -> Self {
        Self { component, listen: common.listen, server: common.server.clone() }
    }

    /// The service as a component to serve beside others on one server.
    pub fn into_component(self) -> Component {
        self.component
    }

    /// Serves on the configured address until `shutdown` is cancelled.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        run_alone(self.component, self.listen, &self.server, shutdown).await
    }
}

/// One service as `redress serve`, `up` and `migrate` drive it. Each service declares it with
/// [`service!`](crate::service!); the rest is shared.
pub trait Service {
    /// Which service.
    const KIND: ServiceKind;
    /// Its options, read from the configuration.
    type Options: Send;
    /// Its migrations.
    type Migrator: MigratorTrait;

    /// Reads the options from a validated configuration.
    fn from_config(config: &Config) -> anyhow::Result<Self::Options>;

    /// What every service has, to point it at the process's peers and server options.
    fn common(options: &mut Self::Options) -> &mut CommonOptions;

    /// Connects what the service needs and assembles it.
    fn build(options: Self::Options) -> impl Future<Output = anyhow::Result<Built>> + Send;

    /// Builds the service as a component of a process's server: with the process's peers (in
    /// `redress up`) and server options (its authentication).
    fn component(
        config: &Config,
        peers: Option<&Peers>,
        server: &ServerOptions,
    ) -> impl Future<Output = anyhow::Result<Component>> + Send {
        let options = Self::from_config(config).map(|mut options| {
            let common = Self::common(&mut options);
            if let Some(peers) = peers {
                common.peers = peers.clone();
            }
            common.server = server.clone();
            options
        });
        async move { Ok(Self::build(options?).await?.into_component()) }
    }

    /// Builds the service from `config` and serves it on its own address until `shutdown`.
    fn run(config: &Config, shutdown: CancellationToken) -> impl Future<Output = anyhow::Result<()>> + Send {
        let options = Self::from_config(config);
        async move { Self::build(options?).await?.run(shutdown).await }
    }

    /// Connects to the service's database and applies its migrations, for `redress migrate`.
    fn migrate(config: &Config) -> impl Future<Output = anyhow::Result<()>> + Send {
        migrate::<Self::Migrator>(config, Self::KIND)
    }
}

/// Declares a service's [`Service`] marker: `service!(Case, ServiceKind::Case)` in a service's
/// `lib.rs`, beside its `Options` (with `from_config` and a `common` field), its
/// `migration::Migrator` and its `build(options)`, whose result converts into [`Built`].
#[macro_export]
macro_rules! service {
    ($name:ident, $kind:expr) => {
        /// This service as `redress serve`, `up` and `migrate` drive it.
        pub struct $name;

        impl $crate::service::Service for $name {
            const KIND: $crate::ServiceKind = $kind;
            type Options = Options;
            type Migrator = migration::Migrator;

            fn from_config(config: &$crate::Config) -> ::anyhow::Result<Options> {
                Options::from_config(config)
            }

            fn common(options: &mut Options) -> &mut $crate::service::CommonOptions {
                &mut options.common
            }

            fn build(
                options: Options,
            ) -> impl ::std::future::Future<Output = ::anyhow::Result<$crate::service::Built>> + Send {
                async move { build(options).await.map(::std::convert::Into::into) }
            }
        }
    };
}
