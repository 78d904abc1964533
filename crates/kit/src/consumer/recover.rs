//! What a consumer does when a batch fails: find the event at fault, retry it a bounded number
//! of times, park it if it still fails; and retry parked events when an operator asks.

use std::time::Duration;

use chrono::Utc;
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Gauge};
use redress_proto::case::v1::{CaseEvent, CaseEventType};
use sea_orm::{DatabaseConnection, DbErr};

use super::lease::{advance, cursor};
use super::parked::{self, Parked};
use super::{Consuming, Ended};

/// How long a retry waits for its event from the case log.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// A consumer's instruments: `redress_consumer_events_parked_total{consumer}` and
/// `redress_consumer_parked_events{consumer}`.
pub(super) struct Metrics {
    parked_total: Counter<u64>,
    parked_now: Gauge<u64>,
    attributes: [KeyValue; 1],
}

impl Metrics {
    pub(super) fn new(consumer: &str) -> Self {
        let meter = opentelemetry::global::meter("redress");
        let parked_total = meter
            .u64_counter("redress.consumer.events_parked")
            .with_description("Case events a consumer could not apply and parked, by consumer")
            .build();
        let parked_now = meter
            .u64_gauge("redress.consumer.parked_events")
            .with_description("Case events parked by a consumer and not yet applied by a retry, by consumer")
            .build();
        Self { parked_total, parked_now, attributes: [KeyValue::new("consumer", consumer.to_string())] }
    }

    /// Sets the gauge from the table.
    pub(super) async fn refresh(&self, db: &DatabaseConnection, consumer: &str) -> Result<(), Ended> {
        let n = parked::count(db, consumer).await?;
        self.parked_now.record(u64::try_from(n).unwrap_or(0), &self.attributes);
        Ok(())
    }
}

/// Whether a failure is not the event's fault and passes with time: the database unreachable
/// or busy, a serialization failure, a peer unavailable.
pub(super) fn transient(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        if let Some(db) = cause.downcast_ref::<DbErr>() {
            return crate::error::db_unavailable(db);
        }
        if let Some(status) = cause.downcast_ref::<tonic::Status>() {
            return matches!(
                status.code(),
                tonic::Code::Unavailable
                    | tonic::Code::DeadlineExceeded
                    | tonic::Code::ResourceExhausted
                    | tonic::Code::Aborted
                    | tonic::Code::Cancelled
            );
        }
        false
    })
}

fn type_name(event: &CaseEvent) -> String {
    CaseEventType::try_from(event.r#type).map_or_else(|_| event.r#type.to_string(), |t| t.as_str_name().to_string())
}

impl Consuming<'_> {
    /// Whether a failure is the event's fault: not transient, the database answers, and the
    /// cursor is still where this session left it (an analytics rebuild rewinds it, which
    /// fails every batch until the session restarts from it). `Err` ends the session.
    async fn event_at_fault(&self, error: anyhow::Error, last: i64) -> Result<anyhow::Error, Ended> {
        if transient(&error) {
            return Err(Ended::Failed(error));
        }
        match cursor(self.db, &self.options.name).await {
            Ok(at) if at == last => Ok(error),
            Ok(at) => Err(Ended::Failed(anyhow::anyhow!("the cursor moved from {last} to {at}; resuming from it"))),
            Err(e) => Err(Ended::Failed(anyhow::Error::new(e).context(format!("after: {error:#}")))),
        }
    }

    /// Applies `events` (after the cursor at `last`) one at a time, each in its own transaction
    /// moving the cursor; parks any that fails `attempts` times. Returns the new cursor.
    pub(super) async fn isolate(&self, events: &[CaseEvent], mut last: i64) -> Result<i64, Ended> {
        let name = &self.options.name;
        for event in events {
            let first_failure = Utc::now();
            let mut attempts = 0u32;
            loop {
                let error = match self.apply(std::slice::from_ref(event), event.sequence).await {
                    Ok(true) => {
                        self.handler.committed(std::slice::from_ref(event)).await;
                        break;
                    }
                    Ok(false) => return Err(Ended::LostLease),
                    Err(e) => self.event_at_fault(e, last).await?,
                };
                attempts += 1;
                if attempts >= self.options.attempts.max(1) {
                    self.park(event, &error, attempts, first_failure, last).await?;
                    break;
                }
                let delay = self.options.retry_delay.saturating_mul(1 << (attempts - 1).min(10));
                tracing::debug!(consumer = %name, sequence = event.sequence, attempts, "event failed; retrying");
                tokio::select! {
                    () = self.shutdown.cancelled() => return Err(Ended::Shutdown),
                    () = tokio::time::sleep(delay) => {}
                }
            }
            last = event.sequence;
        }
        Ok(last)
    }

    /// Records `event` as parked and moves the cursor past it, in one transaction.
    async fn park(
        &self,
        event: &CaseEvent,
        error: &anyhow::Error,
        attempts: u32,
        first_failure: chrono::DateTime<Utc>,
        last: i64,
    ) -> Result<(), Ended> {
        let name = &self.options.name;
        let text = format!("{error:#}");
        let parked = Parked {
            consumer: name.clone(),
            tenant: event.tenant.clone(),
            sequence: event.sequence,
            event_type: type_name(event),
            error: text.clone(),
            attempts: i32::try_from(attempts).unwrap_or(i32::MAX),
            first_failure,
            last_failure: Utc::now(),
            retry_requested: false,
        };
        let expires =
            Utc::now() + chrono::Duration::from_std(self.options.lease).unwrap_or(chrono::Duration::seconds(15));
        let txn = crate::db::begin_write(self.db).await?;
        // The cursor must still be where the failures were seen: park nothing a rewind replays.
        if cursor(&txn, name).await? != last {
            txn.rollback().await?;
            return Err(Ended::Failed(anyhow::anyhow!("the cursor moved while event {} failed", event.sequence)));
        }
        parked::park(&txn, &parked).await?;
        if !advance(&txn, name, self.holder, event.sequence, expires).await? {
            txn.rollback().await?;
            return Err(Ended::LostLease);
        }
        txn.commit().await?;
        self.metrics.parked_total.add(1, &self.metrics.attributes);
        self.metrics.refresh(self.db, name).await?;
        tracing::warn!(
            consumer = %name,
            tenant = %parked::clean(&event.tenant),
            sequence = event.sequence,
            event_type = %parked.event_type,
            attempts,
            error = %parked::clean(&text),
            "event parked: it could not be applied; the consumer moves on (retry it with `redress parked retry`)"
        );
        Ok(())
    }

    /// Retries the parked events an operator asked for: each applied on its own, fetched from
    /// the case log, and removed from the table in the same transaction.
    pub(super) async fn retry_requested(&self) -> Result<(), Ended> {
        let name = &self.options.name;
        let sequences = parked::requested(self.db, name).await?;
        if sequences.is_empty() {
            return Ok(());
        }
        for sequence in sequences {
            let applied = match self.fetch(sequence).await? {
                Some(event) => {
                    let result = async {
                        let txn = crate::db::begin_write(self.db).await?;
                        self.handler.handle(&txn, std::slice::from_ref(&event)).await?;
                        parked::remove(&txn, name, sequence).await?;
                        txn.commit().await?;
                        Ok::<(), anyhow::Error>(())
                    }
                    .await;
                    if result.is_ok() {
                        self.handler.committed(std::slice::from_ref(&event)).await;
                    }
                    result
                }
                None => Err(anyhow::anyhow!("event {sequence} is no longer in the case log")),
            };
            match applied {
                Ok(()) => tracing::info!(consumer = %name, sequence, "parked event applied on retry"),
                Err(e) if transient(&e) => return Err(Ended::Failed(e)),
                Err(e) => {
                    let text = format!("{e:#}");
                    parked::failed_again(self.db, name, sequence, &text, Utc::now()).await?;
                    tracing::warn!(consumer = %name, sequence, error = %parked::clean(&text), "parked event failed again on retry");
                }
            }
        }
        self.metrics.refresh(self.db, name).await
    }

    /// The event at `sequence` from the case log, if it is there for this consumer.
    async fn fetch(&self, sequence: i64) -> Result<Option<CaseEvent>, Ended> {
        let mut stream = self.open(sequence - 1).await?;
        let found = tokio::time::timeout(FETCH_TIMEOUT, async {
            loop {
                match stream.message().await {
                    Ok(Some(batch)) => {
                        if let Some(first) = batch.events.into_iter().next() {
                            return Ok((first.sequence == sequence).then_some(first));
                        }
                    }
                    Ok(None) => return Ok(None),
                    Err(status) => return Err(Ended::Failed(anyhow::anyhow!("fetching event {sequence}: {status}"))),
                }
            }
        })
        .await;
        match found {
            Ok(result) => result,
            // Nothing at or after it within the timeout: not in the log for this consumer.
            Err(_) => Ok(None),
        }
    }
}
