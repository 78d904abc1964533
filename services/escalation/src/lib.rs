//! The escalation service: SLA policies, business-hours calendars, the staff directory and
//! escalation ladders; SLA clocks whose deadlines live in Redis.
//!
//! `Options → build() → run(shutdown)`: [`Options::from_config`] reads the configuration,
//! [`build`] connects and migrates the database, and [`Service::run`] serves until shutdown;
//! [`Service::into_component`] mounts it beside the others in `redress up`.

mod api;
pub mod app;
pub mod domain;
pub mod error;
pub mod migration;
pub mod store;
pub mod timers;

use std::sync::Arc;
use std::time::Duration;

use redress_kit::consumer::ConsumerOptions;
use redress_kit::server::Component;
use redress_kit::service::{CommonOptions, with_database_check, with_peer_check};
use redress_kit::{Config, ServiceKind};
use redress_proto::escalation::v1::escalation_service_server;
use tokio_util::sync::CancellationToken;

/// How often timer workers look for due clocks in the database while Redis cannot be reached.
const DATABASE_POLL: Duration = Duration::from_millis(100);

/// The longest a firing waits for the case service to give a case's current owner and team.
const CASE_READ_TIMEOUT: Duration = Duration::from_secs(1);

/// How the service is configured.
#[derive(Debug, Clone)]
pub struct Options {
    /// What every service has: listen address, database, peers.
    pub common: CommonOptions,
    /// How timer workers claim and how many run.
    pub workers: usize,
    /// Claiming: batch size, visibility timeout, longest sleep.
    pub worker: timers::worker::WorkerOptions,
}

impl Options {
    /// Reads the options from a validated configuration.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let section = &config.escalation;
        Ok(Self {
            common: CommonOptions::from_config(config, ServiceKind::Escalation)?,
            workers: section.timer_workers,
            worker: timers::worker::WorkerOptions {
                batch: section.claim_batch,
                visibility: section.claim_visibility.get(),
                max_sleep: Duration::from_secs(5),
            },
        })
    }
}

/// The built service, ready to run.
pub type Service = redress_kit::service::Built;

redress_kit::service!(EscalationService, ServiceKind::Escalation);

/// Connects the database (migrating it when configured) and assembles the service.
pub async fn build(options: Options) -> anyhow::Result<Service> {
    let common = &options.common;
    let db = common.database::<migration::Migrator>().await?;
    let store = Arc::new(store::Store::new(db.clone()));
    let lifetime = CancellationToken::new();
    let (index, redis): (Arc<dyn timers::TimerIndex>, _) = match &common.redis_url {
        Some(url) => {
            let connection = redress_kit::redis::connect(url).await?;
            let client = redis::Client::open(url.as_str())?;
            let index =
                timers::redis::RedisIndex::new(client, connection.clone(), &common.redis_key_prefix, lifetime.clone())
                    .await?;
            (index, Some(connection))
        }
        None => {
            tracing::info!("no redis.url: SLA deadlines kept in process (the embedded mode)");
            (Arc::new(timers::memory::MemoryIndex::new()), None)
        }
    };
    let effects = Arc::new(tokio::sync::Notify::new());
    let rebuild = Arc::new(tokio::sync::Notify::new());
    let health = Arc::new(timers::health::Health::new());
    let case = common.peer(&common.peers.case)?;
    let notification = common.peer(&common.peers.notification)?;

    let max = common.server.max_message_bytes;
    let api = api::EscalationApi::new(app::App::new(store.clone(), index.clone(), effects.clone()));
    let server = escalation_service_server::EscalationServiceServer::new(api)
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
    let events =
        Arc::new(app::consumer::Consumer::new(index.clone(), effects.clone(), rebuild.clone(), health.clone()));
    let consumer = ConsumerOptions::new("escalation", ServiceKind::Escalation, common.client.clone());
    let reader = app::fire::CaseReader::new(case.clone(), common.client.timeout.min(CASE_READ_TIMEOUT));
    let firer: Arc<dyn timers::worker::Act> =
        Arc::new(app::fire::Firer::new(store.clone(), index.clone(), effects.clone(), health.clone(), Some(reader)));
    let fallback = timers::worker::Fallback { store: store.clone(), health: health.clone(), poll: DATABASE_POLL };
    let deliverer = Arc::new(app::deliver::Deliverer::new(
        store.clone(),
        case.clone(),
        notification,
        common.client.clone(),
        effects,
    ));
    let mut component = Component::new(ServiceKind::Escalation, server)
        .task("timekeeper", {
            let (db, case) = (db.clone(), case.clone());
            move |shutdown| redress_kit::consumer::run(db, case, consumer, events, shutdown)
        })
        .task("timer index guardian", {
            let (store, index, health) = (store.clone(), index.clone(), health.clone());
            move |shutdown| timers::worker::run_guardian(store, index, health, rebuild, shutdown)
        })
        .task("timer reaper", {
            let (index, visibility) = (index.clone(), options.worker.visibility);
            move |shutdown| timers::worker::run_reaper(index, visibility, shutdown)
        })
        .task("effects", move |shutdown| deliverer.run(shutdown))
        .task("redis subscription", move |shutdown| async move {
            shutdown.cancelled().await;
            lifetime.cancel();
            Ok(())
        });
    for _ in 0..options.workers.max(1) {
        let (index, firer, worker, fallback) =
            (index.clone(), firer.clone(), options.worker.clone(), Some(fallback.clone()));
        component = component
            .task("timer worker", move |shutdown| timers::worker::run_worker(index, firer, worker, fallback, shutdown));
    }
    if let Some(connection) = redis {
        component = component.check("redis", move || {
            let connection = connection.clone();
            async move { redress_kit::redis::ping(&connection).await }
        });
    }
    let component = with_database_check(component, &db);
    let component = with_peer_check(component, ServiceKind::Case, options.common.peer(&options.common.peers.case)?);
    let component =
        with_peer_check(component, ServiceKind::Notification, options.common.peer(&options.common.peers.notification)?);
    Ok(Service::new(&options.common, component))
}
