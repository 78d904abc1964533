//! Consuming the case event log: what escalation, notification and analytics share.
//!
//! A consumer streams `CaseService.StreamEvents` for every tenant from its cursor, applies each
//! batch in a transaction of its own database, and advances its cursor in that same
//! transaction, so a crash replays and never skips. Among replicas, one holds a lease on the
//! consumer's name and consumes, renewing it on a clock of its own; the others wait to take
//! over when the lease expires (a holder that died) or is released (a holder that shut down).
//! The stream is resumed from the cursor after any failure, with backoff.
//!
//! One bad event never stops a consumer. When a batch fails for a reason that is not transient
//! (the database unreachable, a serialization failure, a busy SQLite file: those are waited
//! out), its events are applied one at a time, each in a transaction of its own that moves the
//! cursor; an event that still fails after [`ConsumerOptions::attempts`] tries is parked
//! ([`parked`]) in the transaction that moves the cursor past it, and the consumer goes on. A
//! parked event is retried when an operator asks (`redress parked retry`).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use redress_proto::case::v1::case_service_client::CaseServiceClient;
use redress_proto::case::v1::{CaseEvent, StreamEventsRequest};
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use tokio_util::sync::CancellationToken;

use crate::ServiceKind;
use crate::client::{ClientOptions, TracedChannel, backoff};
use crate::tenant::TenantId;

mod lease;
pub mod parked;
mod recover;

use lease::advance;
pub use lease::{Migration, cursor, release_lease, rewind, take_lease};
pub use parked::ParkedMigration;
use recover::Metrics;

/// The migrations of every consumer's tables (its cursor and lease, its parked events), in
/// order: what each consuming service's migrator adds to its own.
pub fn migrations() -> Vec<Box<dyn sea_orm_migration::MigrationTrait>> {
    vec![Box::new(Migration), Box::new(ParkedMigration)]
}

/// The tenant id system-wide calls carry; `tenants/-` is what they ask for.
pub const SYSTEM_TENANT: &str = "system";

/// Applies batches of case events.
#[tonic::async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// Applies `events` inside `txn`. The consumer advances its cursor past them in the same
    /// transaction. An error rolls the batch back; the consumer then applies its events one at
    /// a time and parks any that keeps failing. A parked event retried on request is applied
    /// again on its own, after later events: applying must not assume log order across cases.
    async fn handle(&self, txn: &DatabaseTransaction, events: &[CaseEvent]) -> anyhow::Result<()>;

    /// Called after a batch committed, for work that must follow the commit (waking a worker).
    async fn committed(&self, _events: &[CaseEvent]) {}
}

/// How long a consumer's lease lasts without renewal: a replica takes over from one that died
/// within this and a third of it. The holder renews every third of it.
pub const LEASE: Duration = Duration::from_secs(6);

/// How a consumer runs.
#[derive(Debug, Clone)]
pub struct ConsumerOptions {
    /// The consumer's name: one cursor and one lease per name.
    pub name: String,
    /// The service it runs in, for its identity on calls.
    pub service: ServiceKind,
    /// Only these event types (their numbers); empty for all.
    pub event_types: Vec<i32>,
    /// How long a lease lasts without renewal.
    pub lease: Duration,
    /// Backoff between reconnections.
    pub client: ClientOptions,
    /// How many times an event that fails on its own is tried before it is parked.
    pub attempts: u32,
    /// The pause after an event's first failed try; doubled after each further one.
    pub retry_delay: Duration,
}

impl ConsumerOptions {
    /// A consumer named `name` in `service`, of every event type, with the default lease.
    pub fn new(name: impl Into<String>, service: ServiceKind, client: ClientOptions) -> Self {
        Self {
            name: name.into(),
            service,
            event_types: Vec::new(),
            lease: LEASE,
            client,
            attempts: 3,
            retry_delay: Duration::from_millis(200),
        }
    }
}

/// Why one streaming session ended.
enum Ended {
    Shutdown,
    LostLease,
    Failed(anyhow::Error),
}

impl From<sea_orm::DbErr> for Ended {
    fn from(e: sea_orm::DbErr) -> Self {
        Ended::Failed(e.into())
    }
}

/// Runs the consumer until `shutdown`.
pub async fn run(
    db: DatabaseConnection,
    case: TracedChannel,
    options: ConsumerOptions,
    handler: Arc<dyn EventHandler>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let holder = format!("{}-{}", options.name, uuid::Uuid::now_v7());
    let metrics = Metrics::new(&options.name);
    let consuming = Consuming {
        db: &db,
        case: &case,
        options: &options,
        holder: &holder,
        handler: handler.as_ref(),
        shutdown: &shutdown,
        metrics: &metrics,
    };
    let mut failures = 0u32;
    loop {
        if shutdown.is_cancelled() {
            return Ok(());
        }
        match take_lease(&db, &options.name, &holder, Utc::now(), options.lease).await {
            Ok(true) => {}
            Ok(false) => {
                tokio::select! {
                    () = shutdown.cancelled() => return Ok(()),
                    () = tokio::time::sleep(options.lease / 3) => continue,
                }
            }
            Err(e) => {
                tracing::warn!(consumer = %options.name, error = %e, "taking the consumer lease failed");
                failures += 1;
                pause(&options, failures, &shutdown).await;
                continue;
            }
        }
        match consuming.session().await {
            Ended::Shutdown => {
                if let Err(e) = release_lease(&db, &options.name, &holder).await {
                    tracing::warn!(consumer = %options.name, error = %e, "releasing the consumer lease failed");
                }
                return Ok(());
            }
            Ended::LostLease => {
                tracing::warn!(consumer = %options.name, "consumer lease lost; standing by");
                failures = 0;
            }
            Ended::Failed(e) => {
                failures += 1;
                tracing::warn!(consumer = %options.name, error = format!("{e:#}"), failures, "event stream interrupted; resuming from the cursor");
                pause(&options, failures, &shutdown).await;
            }
        }
    }
}

async fn pause(options: &ConsumerOptions, failures: u32, shutdown: &CancellationToken) {
    let delay = backoff(&options.client, failures.saturating_sub(1)).max(Duration::from_millis(20));
    tokio::select! {
        () = shutdown.cancelled() => {}
        () = tokio::time::sleep(delay) => {}
    }
}

/// A consumer at work: what a session needs, borrowed from [`run`].
struct Consuming<'a> {
    db: &'a DatabaseConnection,
    case: &'a TracedChannel,
    options: &'a ConsumerOptions,
    holder: &'a str,
    handler: &'a dyn EventHandler,
    shutdown: &'a CancellationToken,
    metrics: &'a Metrics,
}

impl Consuming<'_> {
    /// Opens `StreamEvents` after `after`, of the consumer's event types.
    async fn open(&self, after: i64) -> Result<tonic::Streaming<redress_proto::case::v1::StreamEventsResponse>, Ended> {
        let tenant = TenantId::parse(SYSTEM_TENANT).map_err(|e| Ended::Failed(anyhow::anyhow!(e)))?;
        let request = StreamEventsRequest {
            parent: "tenants/-".into(),
            after_sequence: after,
            event_types: self.options.event_types.clone(),
        };
        let mut request = crate::client::as_service(tonic::Request::new(request), self.options.service);
        if let Ok(value) = tenant.as_str().parse() {
            request.metadata_mut().insert(crate::tenant::TENANT_HEADER, value);
        }
        // The case service sizes every message to fit this (the same `grpc.max_message_bytes`).
        let mut client =
            CaseServiceClient::new(self.case.clone()).max_decoding_message_size(self.options.client.max_message_bytes);
        let opened = tokio::select! {
            () = self.shutdown.cancelled() => return Err(Ended::Shutdown),
            opened = client.stream_events(request) => opened,
        };
        match opened {
            Ok(response) => Ok(response.into_inner()),
            Err(status) => Err(Ended::Failed(anyhow::anyhow!("opening the event stream: {status}"))),
        }
    }

    /// Renews the lease; retries the parked events an operator asked for.
    async fn renew(&self) -> Result<(), Ended> {
        match take_lease(self.db, &self.options.name, self.holder, Utc::now(), self.options.lease).await {
            Ok(true) => self.retry_requested().await,
            Ok(false) => Err(Ended::LostLease),
            Err(e) => Err(e.into()),
        }
    }

    /// Streams from the cursor and applies batches until something ends the session.
    async fn session(&self) -> Ended {
        let from = match cursor(self.db, &self.options.name).await {
            Ok(sequence) => sequence,
            Err(e) => return e.into(),
        };
        if let Err(ended) = self.metrics.refresh(self.db, &self.options.name).await {
            return ended;
        }
        let mut stream = match self.open(from).await {
            Ok(stream) => stream,
            Err(ended) => return ended,
        };
        tracing::info!(consumer = %self.options.name, after = from, "consuming case events");
        let mut last = from;
        let mut renew = tokio::time::interval(self.options.lease / 3);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        renew.reset();
        loop {
            let message = tokio::select! {
                () = self.shutdown.cancelled() => return Ended::Shutdown,
                _ = renew.tick() => {
                    match self.renew().await {
                        Ok(()) => continue,
                        Err(ended) => return ended,
                    }
                }
                message = stream.message() => message,
            };
            let batch = match message {
                Ok(Some(batch)) => batch,
                Ok(None) => return Ended::Failed(anyhow::anyhow!("the event stream ended")),
                Err(status) => return Ended::Failed(anyhow::anyhow!("event stream: {status}")),
            };
            // Skip anything at or below the cursor (a replay after a reconnection).
            let events: Vec<CaseEvent> = batch.events.into_iter().filter(|e| e.sequence > last).collect();
            if events.is_empty() {
                match take_lease(self.db, &self.options.name, self.holder, Utc::now(), self.options.lease).await {
                    Ok(true) => continue,
                    Ok(false) => return Ended::LostLease,
                    Err(e) => return e.into(),
                }
            }
            let next = events.last().map_or(last, |e| e.sequence);
            match self.apply(&events, next).await {
                Ok(true) => {
                    last = next;
                    self.handler.committed(&events).await;
                }
                Ok(false) => return Ended::LostLease,
                Err(e) if recover::transient(&e) => {
                    return Ended::Failed(e.context(format!("applying events after {last}")));
                }
                Err(e) => {
                    tracing::info!(
                        consumer = %self.options.name,
                        after = last,
                        events = events.len(),
                        error = format!("{e:#}"),
                        "a batch failed; applying its events one at a time"
                    );
                    match self.isolate(&events, last).await {
                        Ok(applied) => last = applied,
                        Err(ended) => return ended,
                    }
                }
            }
        }
    }

    /// Applies `events` and advances the cursor to `next` in one transaction; false when the
    /// lease was lost (nothing applied).
    async fn apply(&self, events: &[CaseEvent], next: i64) -> anyhow::Result<bool> {
        let expires =
            Utc::now() + chrono::Duration::from_std(self.options.lease).unwrap_or(chrono::Duration::seconds(15));
        // On SQLite, take the write lock at once so a concurrent writer makes this wait rather
        // than fail; PostgreSQL ignores the mode.
        let txn = crate::db::begin_write(self.db).await?;
        self.handler.handle(&txn, events).await?;
        if !advance(&txn, &self.options.name, self.holder, next, expires).await? {
            txn.rollback().await?;
            return Ok(false);
        }
        txn.commit().await?;
        Ok(true)
    }
}
