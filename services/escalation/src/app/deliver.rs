//! Delivers the outbox of effects: each call carries its idempotency key, so a retry after a
//! timeout or a crash never alerts twice or records twice. Transient failures are retried
//! with exponential backoff; a refusal (invalid, not found, failed precondition) is final and
//! logged.

use std::sync::Arc;
use std::time::Duration;

use prost::Message;
use redress_kit::ServiceKind;
use redress_kit::client::{ClientOptions, TracedChannel, as_service, request};
use redress_kit::tenant::TenantId;
use redress_proto::case::v1::case_service_client::CaseServiceClient;
use redress_proto::case::v1::{CreateTaskRequest, RecordEscalationRequest, RecordSlaStatusRequest};
use redress_proto::notification::v1::SendNotificationRequest;
use redress_proto::notification::v1::notification_service_client::NotificationServiceClient;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tonic::{Code, Status};

use crate::store::Store;
use crate::store::effects::Kind;
use crate::store::entities::effects;

/// The most effects in flight at once.
const BATCH: u64 = 64;
/// The longest wait between attempts.
const MAX_DELAY: Duration = Duration::from_secs(60);

/// Delivers effects to the case and notification services.
pub struct Deliverer {
    store: Arc<Store>,
    case: TracedChannel,
    notification: TracedChannel,
    client: ClientOptions,
    wake: Arc<Notify>,
}

impl Deliverer {
    /// A deliverer calling `case` and `notification`, woken through `wake`.
    pub fn new(
        store: Arc<Store>,
        case: TracedChannel,
        notification: TracedChannel,
        client: ClientOptions,
        wake: Arc<Notify>,
    ) -> Self {
        Self { store, case, notification, client, wake }
    }

    /// Delivers until `shutdown`.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) -> anyhow::Result<()> {
        while !shutdown.is_cancelled() {
            let rows = match self.store.claim_effects(BATCH, MAX_DELAY + Duration::from_secs(30)).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming effects failed");
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(Duration::from_millis(500)) => continue,
                    }
                }
            };
            if rows.is_empty() {
                let pause = match self.store.next_effect().await {
                    Ok(Some(at)) => {
                        (at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO).min(Duration::from_secs(5))
                    }
                    _ => Duration::from_secs(5),
                };
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(pause) => {}
                }
                continue;
            }
            futures::future::join_all(rows.into_iter().map(|row| self.deliver(row))).await;
        }
        Ok(())
    }

    async fn deliver(&self, row: effects::Model) {
        let attempts = row.attempts + 1;
        let outcome = self.call(&row).await;
        let recorded = match outcome {
            Ok(()) => self.store.finish_effect(row.id, attempts, "").await,
            Err(status) if permanent(&status) => {
                tracing::warn!(kind = %row.kind, request_id = %row.request_id, code = ?status.code(), error = %status.message(), "effect refused; giving up");
                self.store.finish_effect(row.id, attempts, &format!("{:?}: {}", status.code(), status.message())).await
            }
            Err(status) => {
                let delay = delay(attempts);
                tracing::debug!(kind = %row.kind, attempts, code = ?status.code(), "effect failed; retrying");
                self.store
                    .retry_effect(row.id, attempts, delay, &format!("{:?}: {}", status.code(), status.message()))
                    .await
            }
        };
        if let Err(e) = recorded {
            tracing::warn!(error = %e, "recording an effect's outcome failed; it will be tried again");
        }
    }

    async fn call(&self, row: &effects::Model) -> Result<(), Status> {
        let tenant = TenantId::parse(&row.tenant).map_err(Status::invalid_argument)?;
        let bad = |e: prost::DecodeError| Status::data_loss(format!("stored effect does not decode: {e}"));
        let timeout = self.client.timeout;
        match Kind::parse(&row.kind) {
            Some(Kind::Notify) => {
                let message = SendNotificationRequest::decode(row.payload.as_slice()).map_err(bad)?;
                let mut client = NotificationServiceClient::new(self.notification.clone());
                client
                    .send_notification(as_service(request(&tenant, message, timeout), ServiceKind::Escalation))
                    .await?;
            }
            Some(Kind::Record) => {
                let message = RecordEscalationRequest::decode(row.payload.as_slice()).map_err(bad)?;
                let mut client = CaseServiceClient::new(self.case.clone());
                client
                    .record_escalation(as_service(request(&tenant, message, timeout), ServiceKind::Escalation))
                    .await?;
            }
            Some(Kind::Task) => {
                let message = CreateTaskRequest::decode(row.payload.as_slice()).map_err(bad)?;
                let mut client = CaseServiceClient::new(self.case.clone());
                client.create_task(as_service(request(&tenant, message, timeout), ServiceKind::Escalation)).await?;
            }
            Some(Kind::Sla) => {
                let message = RecordSlaStatusRequest::decode(row.payload.as_slice()).map_err(bad)?;
                let mut client = CaseServiceClient::new(self.case.clone());
                client
                    .record_sla_status(as_service(request(&tenant, message, timeout), ServiceKind::Escalation))
                    .await?;
            }
            None => return Err(Status::data_loss(format!("unknown effect kind {}", row.kind))),
        }
        Ok(())
    }
}

fn permanent(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::InvalidArgument
            | Code::NotFound
            | Code::FailedPrecondition
            | Code::PermissionDenied
            | Code::AlreadyExists
            | Code::DataLoss
    )
}

fn delay(attempts: i32) -> Duration {
    let base = Duration::from_millis(250).saturating_mul(1u32 << attempts.clamp(0, 16) as u32).min(MAX_DELAY);
    let jitter = rand_fraction();
    base.mul_f64(0.5 + jitter / 2.0)
}

fn rand_fraction() -> f64 {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    f64::from(nanos % 1000) / 1000.0
}
