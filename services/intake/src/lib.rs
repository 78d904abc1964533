//! The intake service: the edge contact-centre systems call. It normalises, validates and
//! classifies complaints, survey responses and reviews from every channel and hands cases to
//! the case service over gRPC.
//!
//! `Options → build() → run(shutdown)`: [`Options::from_config`] reads the configuration,
//! [`build`] connects and migrates the database, connects Redis when configured and creates
//! the lazy client of the case service, and [`Service::run`] serves until shutdown;
//! [`Service::into_component`] mounts it beside the others in `redress up`.
//!
//! - [`api`](crate::api): the thin gRPC layer (decoding, validation, errors).
//! - [`app`]: what a request comes to: submissions carried out in the case service exactly
//!   once, each tenant's classification settings, and the erasures consumer.
//! - [`domain`]: the pure rules (normalisation, validation, classification, repeat contacts).
//! - [`store`]: intake's own records (submissions for idempotency, survey responses,
//!   classification settings), and the per-tenant rate limit and per-customer locks, in
//!   Redis or in process.

mod api;
pub mod app;
pub mod domain;
pub mod error;
pub mod migration;
pub mod settings;
pub mod store;

use std::sync::Arc;

use anyhow::Context as _;
use redress_kit::consumer::ConsumerOptions;
use redress_kit::server::Component;
use redress_kit::service::{CommonOptions, with_database_check, with_peer_check};
use redress_kit::{Config, ServiceKind};
use redress_proto::intake::v1::intake_service_server;

pub use settings::Settings;
use store::limit::RateLimiter;
use store::lock::CustomerLocks;

/// How the service is configured.
#[derive(Debug, Clone)]
pub struct Options {
    /// What every service has: listen address, database, peers, Redis.
    pub common: CommonOptions,
    /// Intake's own settings: rate limit, repeat contacts, thresholds, locks.
    pub settings: Settings,
}

impl Options {
    /// Reads the options from a validated configuration.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            common: CommonOptions::from_config(config, ServiceKind::Intake)?,
            settings: Settings::from_config(&config.intake)?,
        })
    }
}

/// The built service, ready to run.
pub type Service = redress_kit::service::Built;

redress_kit::service!(IntakeService, ServiceKind::Intake);

/// Connects the database (migrating it when configured) and Redis (when configured), and
/// assembles the service.
pub async fn build(options: Options) -> anyhow::Result<Service> {
    let common = &options.common;
    let settings = &options.settings;
    let db = common.database::<migration::Migrator>().await?;
    let channel = common.peer(&common.peers.case)?;
    let rules = app::rules::Rules::new(settings.classifier.clone(), settings.repeat_complainant_window)
        .context("intake classification settings")?;
    let redis = match &common.redis_url {
        Some(url) => Some(redress_kit::redis::connect(url).await?),
        None => None,
    };
    let (limiter, locks) = match &redis {
        Some(connection) => (
            RateLimiter::redis(
                connection.clone(),
                &common.redis_key_prefix,
                settings.rate_per_second,
                settings.rate_burst,
            ),
            CustomerLocks::redis(connection.clone(), &common.redis_key_prefix, settings.lock_ttl, settings.lock_wait),
        ),
        None => (
            RateLimiter::local(settings.rate_per_second, settings.rate_burst),
            CustomerLocks::local(settings.lock_wait),
        ),
    };
    let intake = Arc::new(app::Intake {
        rules,
        peer: app::peer::CasePeer::new(channel.clone(), common.client.clone()),
        store: store::Store::new(db.clone()),
        limiter,
        locks,
        settings: settings.clone(),
    });
    let max = common.server.max_message_bytes;
    let server = intake_service_server::IntakeServiceServer::new(api::IntakeApi::new(intake))
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
    let mut component = Component::new(ServiceKind::Intake, server);
    component = with_database_check(component, &db);
    let mut consumer = ConsumerOptions::new(app::consumer::CONSUMER, ServiceKind::Intake, common.client.clone());
    consumer.event_types = vec![redress_proto::case::v1::CaseEventType::PersonalDataErased as i32];
    let (erasures, case) = (Arc::new(app::consumer::Consumer), channel.clone());
    component = component
        .task("erasures consumer", move |shutdown| redress_kit::consumer::run(db, case, consumer, erasures, shutdown));
    component = with_peer_check(component, ServiceKind::Case, channel);
    if let Some(connection) = redis {
        component = component.check("redis", move || {
            let connection = connection.clone();
            async move { redress_kit::redis::ping(&connection).await }
        });
    }
    Ok(Service::new(&options.common, component))
}
