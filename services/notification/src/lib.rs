//! The notification service: templates, channels (email over SMTP, SMS and webhooks over
//! HTTP, call tasks, in-app), rules for customer communications, and delivery through a
//! durable outbox with retries and a dead-letter state.
//!
//! `Options → build() → run(shutdown)`: [`Options::from_config`] reads the configuration,
//! [`build`] connects and migrates the database and assembles the API, the delivery workers
//! and the rules consumer, and [`Service::run`] serves until shutdown;
//! [`Service::into_component`] mounts it beside the others in `redress up`.

mod api;
pub mod app;
pub mod delivery;
pub mod domain;
pub mod error;
pub mod migration;
pub mod settings;
pub mod store;

/// The rules consumer under the path it had before `app/`: `consume::CONSUMER` names its cursor.
pub use crate::app::consumer as consume;

use std::sync::Arc;

use redress_kit::consumer::ConsumerOptions;
use redress_kit::server::Component;
use redress_kit::service::{CommonOptions, with_database_check};
use redress_kit::{Config, ServiceKind};
use redress_proto::notification::v1::notification_service_server;
use tokio::sync::Notify;

use crate::app::deliver::Deliverer;
use crate::delivery::peers::{CasePeer, StaffDirectory};
pub use crate::settings::Settings;

/// How the service is configured.
#[derive(Debug, Clone)]
pub struct Options {
    /// What every service has: listen address, database, peers.
    pub common: CommonOptions,
    /// The `[notification]` section: channels, retries, workers, limits, locales, rules.
    pub settings: Settings,
}

impl Options {
    /// Reads the options from a validated configuration.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            common: CommonOptions::from_config(config, ServiceKind::Notification)?,
            settings: Settings::from_config(config)?,
        })
    }
}

/// The built service, ready to run.
pub type Service = redress_kit::service::Built;

redress_kit::service!(NotificationService, ServiceKind::Notification);

/// Connects the database (migrating it when configured) and assembles the service: the gRPC
/// API, `notification.workers` delivery workers, and the rules consumer of the case event
/// stream. The service is ready once its database answers; the case service and the staff
/// directory are called only while delivering, and their absence delays notifications (with
/// the error visible on each) rather than refusing new ones.
pub async fn build(options: Options) -> anyhow::Result<Service> {
    let db = options.common.database::<migration::Migrator>().await?;
    let store = Arc::new(store::Store::new(db.clone()));
    let settings = Arc::new(options.settings.clone());
    let wake = Arc::new(Notify::new());
    let client = options.common.client.clone();
    let case = options.common.peer(&options.common.peers.case)?;
    let escalation = options.common.peer(&options.common.peers.escalation)?;
    let deliverer = Arc::new(Deliverer::new(
        store.clone(),
        settings.clone(),
        CasePeer::new(case.clone(), client.clone()),
        StaffDirectory::new(escalation, client.clone()),
        wake.clone(),
    )?);

    let max = options.common.server.max_message_bytes;
    let app = app::App::new(store.clone(), settings.clone(), wake.clone());
    let api = api::NotificationApi::new(app, settings.allow_http);
    let server = notification_service_server::NotificationServiceServer::new(api)
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
    let mut component = Component::new(ServiceKind::Notification, server);
    for index in 0..settings.workers {
        let deliverer = deliverer.clone();
        component =
            component.task(format!("delivery worker {index}"), move |shutdown| deliverer.run_worker(index, shutdown));
    }
    let handler = Arc::new(app::consumer::Consumer::new(settings.clone(), wake));
    let consumer = ConsumerOptions::new(app::consumer::CONSUMER, ServiceKind::Notification, client);
    component = component
        .task("rules consumer", move |shutdown| redress_kit::consumer::run(db, case, consumer, handler, shutdown));
    let component = with_database_check(component, store.db());
    Ok(Service::new(&options.common, component))
}
