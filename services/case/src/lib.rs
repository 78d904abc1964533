//! The case service: the system of record for every complaint, its state machine, owner,
//! tasks, offers and timeline, and the ordered event log the other services consume.
//!
//! `Options → build() → run(shutdown)`: [`Options::from_config`] reads the configuration,
//! [`build`] connects and migrates the database, and [`Service::run`] serves until shutdown;
//! [`Service::into_component`] mounts it beside the others in `redress up`.

mod api;
mod app;
pub mod domain;
pub mod error;
pub mod migration;
pub mod store;

use std::sync::Arc;

use redress_kit::server::Component;
use redress_kit::service::{CommonOptions, with_database_check};
use redress_kit::{Config, ServiceKind};
use redress_proto::case::v1::case_service_server;
use tokio_util::sync::CancellationToken;

/// How the service is configured.
#[derive(Debug, Clone)]
pub struct Options {
    /// What every service has: listen address, database, peers.
    pub common: CommonOptions,
    /// How often the retention job runs.
    pub retention_interval: std::time::Duration,
}

impl Options {
    /// Reads the options from a validated configuration.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let retention_interval = config.case.retention_interval.get();
        Ok(Self { common: CommonOptions::from_config(config, ServiceKind::Case)?, retention_interval })
    }
}

/// The built service, ready to run.
pub type Service = redress_kit::service::Built;

redress_kit::service!(CaseService, ServiceKind::Case);

/// Connects the database (migrating it when configured) and assembles the service.
pub async fn build(options: Options) -> anyhow::Result<Service> {
    let db = options.common.database::<migration::Migrator>().await?;
    let max = options.common.server.max_message_bytes;
    let app = Arc::new(app::App::new(store::Store::new(db.clone(), store::log::event_limit(max)).await?));
    let streams = CancellationToken::new();
    let server = case_service_server::CaseServiceServer::new(api::CaseApi::new(app.clone(), streams.clone()))
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
    let mut component = Component::new(ServiceKind::Case, server)
        .task("event sequencer", {
            let app = app.clone();
            move |shutdown| app::sequencer::run(app, shutdown)
        })
        .task("retention", {
            let (app, interval) = (app.clone(), options.retention_interval);
            move |shutdown| app::retention::run(app, interval, shutdown)
        })
        .task("event streams", move |shutdown| async move {
            shutdown.cancelled().await;
            streams.cancel();
            Ok(())
        });
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        let (db, log) = (db.clone(), app.store().log().clone());
        component = component.task("event listener", move |shutdown| store::log::run_listener(db, log, shutdown));
    }
    let component = with_database_check(component, &db);
    Ok(Service::new(&options.common, component))
}
