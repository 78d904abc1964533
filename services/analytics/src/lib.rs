//! The analytics service: folds case events into a reporting schema, answers typed reports and
//! exports, and serves SQL to BI tools over Arrow Flight SQL.
//!
//! `Options → build() → run(shutdown)`: [`Options::from_config`] reads the configuration,
//! [`build`] connects and migrates the database, and [`Service::run`] serves until shutdown;
//! [`Service::into_component`] mounts it beside the others in `redress up`. The component's
//! background tasks are the case event consumer and the Flight SQL endpoint.

mod api;
pub mod app;
pub mod domain;
pub mod error;
pub mod flight;
pub mod migration;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use redress_kit::consumer::ConsumerOptions;
use redress_kit::db::Db;
use redress_kit::server::Component;
use redress_kit::service::{Built, CommonOptions, with_database_check, with_peer_check};
use redress_kit::{Config, ServiceKind};
use redress_proto::analytics::v1::analytics_service_server;
use tokio_util::sync::CancellationToken;

use crate::flight::{FlightOptions, Limits};
use crate::store::{CONSUMER, Store};

/// How long the consumer's lease lasts without renewal (longer than the event stream's
/// heartbeat, so an idle holder keeps it).
pub const LEASE: Duration = Duration::from_secs(15);

/// How the service is configured.
#[derive(Debug, Clone)]
pub struct Options {
    /// What every service has: listen address, database, peers.
    pub common: CommonOptions,
    /// The Arrow Flight SQL endpoint.
    pub flight: FlightOptions,
}

impl Options {
    /// Reads the options from a validated configuration.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let section = &config.analytics;
        let listen = section.flight_listen.get();
        Ok(Self {
            common: CommonOptions::from_config(config, ServiceKind::Analytics)?,
            flight: FlightOptions {
                listen,
                reader_url: (!section.flight_reader_url.is_empty()).then(|| section.flight_reader_url.clone()),
                limits: Limits { timeout: section.flight_statement_timeout.get(), max_rows: section.flight_max_rows },
            },
        })
    }
}

/// The built service, ready to run, and where its Flight SQL endpoint listens.
pub struct Service {
    built: Built,
    flight_addr: Option<SocketAddr>,
}

redress_kit::service!(AnalyticsService, ServiceKind::Analytics);

/// Connects the database (migrating it when configured), binds the Flight SQL endpoint and
/// assembles the service.
pub async fn build(options: Options) -> anyhow::Result<Service> {
    let db = options.common.database::<migration::Migrator>().await?;
    let store = Store::new(db.clone());
    let max = options.common.server.max_message_bytes;
    let server = analytics_service_server::AnalyticsServiceServer::new(api::AnalyticsApi::new(store.clone()))
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
    let case = options.common.peer(&options.common.peers.case)?;
    let mut consumer = ConsumerOptions::new(CONSUMER, ServiceKind::Analytics, options.common.client.clone());
    consumer.lease = LEASE;
    let component = Component::new(ServiceKind::Analytics, server).task("case event consumer", {
        let (db, case) = (db.clone(), case.clone());
        move |shutdown| redress_kit::consumer::run(db, case, consumer, Arc::new(app::Consumer), shutdown)
    });
    let (component, flight_addr) = with_flight(component, &db, &options).await?;
    let component = with_database_check(component, &db);
    let component = with_peer_check(component, ServiceKind::Case, case);
    Ok(Service { built: Built::new(&options.common, component), flight_addr })
}

/// Adds the Flight SQL endpoint as a background task when it is configured and can listen.
async fn with_flight(
    component: Component,
    db: &Db,
    options: &Options,
) -> anyhow::Result<(Component, Option<SocketAddr>)> {
    let Some(listen) = options.flight.listen else { return Ok((component, None)) };
    let reader = Arc::new(flight::Reader::new(db, &options.common.database_url, &options.flight).await?);
    let Some(listener) = flight::bind(listen).await else { return Ok((component, None)) };
    let addr = listener.local_addr()?;
    let (auth, tls) = (options.common.server.auth.clone(), options.common.server.tls.clone());
    let component = component.task("flight sql", move |shutdown| flight::serve(listener, reader, auth, tls, shutdown));
    Ok((component, Some(addr)))
}

impl Service {
    /// Where the Flight SQL endpoint listens, when it does.
    pub fn flight_addr(&self) -> Option<SocketAddr> {
        self.flight_addr
    }

    /// The service as a component to serve beside others on one server.
    pub fn into_component(self) -> Component {
        self.built.into_component()
    }

    /// Serves on the configured address until `shutdown` is cancelled.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        self.built.run(shutdown).await
    }
}

impl From<Service> for Built {
    fn from(service: Service) -> Self {
        service.built
    }
}

/// Rebuilds the reporting schema from event 0: empties it and rewinds the consumer, which
/// replays the case log into it (see [`app::rebuild`]). For an operator command.
pub async fn rebuild(config: &Config) -> anyhow::Result<()> {
    let db = redress_kit::db::connect(config, ServiceKind::Analytics).await?;
    app::rebuild::rebuild(&Store::new(db.clone()), LEASE).await?;
    db.close().await?;
    Ok(())
}
