//! Delivers the outbox of effects: each call carries its idempotency key, so a retry after a
//! timeout or a crash never alerts twice or records twice. Transient failures are retried
//! with exponential backoff; a refusal (invalid, not found, failed precondition) is final and
//! logged.

use std::sync::Arc;
use std::time::Duration;

use prost::Message;
use redress_kit::ServiceKind;
use redress_kit::backoff::Backoff;
use redress_kit::client::{ClientOptions, TracedChannel, as_service, request};
use redress_kit::tenant::TenantId;
use redress_proto::case::v1::case_service_client::CaseServiceClient;
use redress_proto::case::v1::{CreateTaskRequest, RecordEscalationRequest, RecordSlaStatusRequest};
use redress_proto::notification::v1::SendNotificationRequest;
use redress_proto::notification::v1::notification_service_client::NotificationServiceClient;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tonic::{Code, Request, Status};

use crate::store::effects::Kind;
use crate::store::{Effect, Store};

/// The most effects in flight at once.
const BATCH: u64 = 64;
/// The longest wait between attempts.
const MAX_DELAY: Duration = Duration::from_secs(60);
/// The wait between attempts: from 250 ms, doubling, up to [`MAX_DELAY`], fully jittered.
const BACKOFF: Backoff = Backoff::new(Duration::from_millis(250), MAX_DELAY);

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

    async fn deliver(&self, row: Effect) {
        let attempts = row.attempts + 1;
        let outcome = self.call(&row).await;
        let recorded = match outcome {
            Ok(()) => self.store.record_attempt(row.id, attempts, None, "").await,
            Err(status) => {
                let error = format!("{:?}: {}", status.code(), status.message());
                let retry_after = if permanent(&status) {
                    tracing::warn!(kind = %row.kind, request_id = %row.request_id, code = ?status.code(), error = %status.message(), "effect refused; giving up");
                    None
                } else {
                    tracing::debug!(kind = %row.kind, attempts, code = ?status.code(), "effect failed; retrying");
                    Some(BACKOFF.delay(attempts.max(0) as u32))
                };
                self.store.record_attempt(row.id, attempts, retry_after, &error).await
            }
        };
        if let Err(e) = recorded {
            tracing::warn!(error = %e, "recording an effect's outcome failed; it will be tried again");
        }
    }

    async fn call(&self, row: &Effect) -> Result<(), Status> {
        let tenant = TenantId::parse(&row.tenant).map_err(Status::invalid_argument)?;
        let mut case = CaseServiceClient::new(self.case.clone());
        match Kind::parse(&row.kind) {
            Some(Kind::Notify) => {
                let mut client = NotificationServiceClient::new(self.notification.clone());
                client.send_notification(self.decoded::<SendNotificationRequest>(&tenant, row)?).await?;
            }
            Some(Kind::Record) => {
                case.record_escalation(self.decoded::<RecordEscalationRequest>(&tenant, row)?).await?;
            }
            Some(Kind::Task) => {
                case.create_task(self.decoded::<CreateTaskRequest>(&tenant, row)?).await?;
            }
            Some(Kind::Sla) => {
                case.record_sla_status(self.decoded::<RecordSlaStatusRequest>(&tenant, row)?).await?;
            }
            None => return Err(Status::data_loss(format!("unknown effect kind {}", row.kind))),
        }
        Ok(())
    }
}

impl Deliverer {
    /// The stored request of `row`, as a call of `tenant`'s.
    fn decoded<T: Message + Default>(&self, tenant: &TenantId, row: &Effect) -> Result<Request<T>, Status> {
        let message = T::decode(row.payload.as_slice())
            .map_err(|e| Status::data_loss(format!("stored effect does not decode: {e}")))?;
        Ok(as_service(request(tenant, message, self.client.timeout), ServiceKind::Escalation))
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
