//! The outbox workers: they claim due notifications, prepare them (resolve, render), hold
//! them for quiet hours or the rate limit, deliver them on their channel and record the
//! outcome: delivered, retrying at a jittered time, or dead-lettered with the last error.
//!
//! Workers sleep until the next notification falls due, or `poll_interval` at most, and are
//! woken at once when one is accepted. A claim is a lease: if a worker dies, its claims lapse
//! and another worker delivers them (at least once; see docs/notification.md for what that
//! means per channel).

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use prost::Message;
use redress_kit::TenantId;
use redress_kit::time::now;
use redress_proto::case::v1::{Task, TaskKind};
use redress_proto::notification::v1::{Notification, NotificationChannel, Priority};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::delivery::peers::{CasePeer, StaffDirectory};
use crate::delivery::{AttemptError, EmailChannel, HttpChannel, Prepared, webhook_body};
use crate::domain::{DeadLetterReason, RetryDecision};
use crate::settings::Settings;
use crate::store::Store;
use crate::store::notifications::{Outcome, Row};

/// Everything a worker needs.
pub struct Deliverer {
    pub(super) store: Arc<Store>,
    pub(super) settings: Arc<Settings>,
    email: Option<EmailChannel>,
    http: HttpChannel,
    pub(super) case: CasePeer,
    pub(super) directory: StaffDirectory,
    wake: Arc<Notify>,
    instance: String,
}

impl Deliverer {
    /// Assembles the channels from the settings.
    pub fn new(
        store: Arc<Store>,
        settings: Arc<Settings>,
        case: CasePeer,
        directory: StaffDirectory,
        wake: Arc<Notify>,
    ) -> anyhow::Result<Self> {
        let email = match &settings.smtp {
            Some(smtp) => Some(EmailChannel::new(smtp, &settings.email_from, &settings.reply_to)?),
            None => None,
        };
        let http = HttpChannel::new(
            settings.http_timeout,
            settings.allow_http,
            settings.webhook_secret.clone(),
            settings.sms.clone(),
        )?;
        let instance = Uuid::now_v7().simple().to_string();
        Ok(Self { store, settings, email, http, case, directory, wake, instance })
    }

    /// Runs worker `index` until `shutdown`; what it claimed before is finished first.
    pub async fn run_worker(self: Arc<Self>, index: u32, shutdown: CancellationToken) -> anyhow::Result<()> {
        let owner = format!("{}-{index}", self.instance);
        let lease = chrono::Duration::from_std(self.settings.claim_lease).unwrap_or(chrono::Duration::minutes(2));
        let mut failures = 0u32;
        loop {
            if shutdown.is_cancelled() {
                return Ok(());
            }
            let woken = self.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let started = now();
            match self.store.claim(&owner, started, started + lease, self.settings.batch_size).await {
                Ok(rows) if !rows.is_empty() => {
                    failures = 0;
                    join_all(rows.into_iter().map(|row| self.attempt(&owner, row))).await;
                    continue;
                }
                Ok(_) => failures = 0,
                Err(e) => {
                    failures += 1;
                    tracing::warn!(worker = index, error = %e, failures, "claiming notifications failed");
                }
            }
            let mut pause = self.settings.poll_interval;
            if failures == 0
                && let Ok(Some(due)) = self.store.next_due().await
            {
                pause = pause.min((due - now()).to_std().unwrap_or(Duration::ZERO));
            } else if failures > 0 {
                pause = pause.max(Duration::from_millis(100 * u64::from(failures.min(50))));
            }
            if pause.is_zero() {
                pause = Duration::from_millis(5);
            }
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                () = &mut woken => {}
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// One attempt at one claimed notification, its outcome recorded. Never panics on data.
    async fn attempt(&self, owner: &str, row: Row) {
        let id = row.id;
        let limit = self.settings.claim_lease.mul_f64(0.8);
        let (outcome, destination, prepared) = match tokio::time::timeout(limit, self.deliver(&row)).await {
            Ok(done) => done,
            Err(_) => {
                let error = AttemptError::transient(format!("the attempt took longer than {limit:?}"));
                (self.after_failure(&row, &error), row.destination.clone(), None)
            }
        };
        let stored = prepared.as_ref().and_then(|p| serde_json::to_string(p).ok());
        match &outcome {
            Outcome::Delivered => tracing::debug!(notification = %id, attempt = row.attempts + 1, "delivered"),
            Outcome::Retry { error, .. } => {
                tracing::info!(notification = %id, attempt = row.attempts + 1, error = %error, "delivery failed; retrying")
            }
            Outcome::DeadLetter { error } => {
                tracing::warn!(notification = %id, attempt = row.attempts + 1, error = %error, "delivery failed; dead-lettered")
            }
            Outcome::Held { until } => tracing::debug!(notification = %id, until = %until, "held"),
        }
        if let Err(e) = self.store.record(id, owner, &outcome, &destination, stored.as_deref(), now()).await {
            tracing::warn!(notification = %id, error = %e, "recording a delivery outcome failed; the claim will lapse");
        }
    }

    /// Prepares (or reuses what was prepared), applies quiet hours and the rate limit, and
    /// delivers. Returns the outcome, the destination and what was prepared.
    async fn deliver(&self, row: &Row) -> (Outcome, String, Option<Prepared>) {
        let fail = |error: AttemptError, prepared: Option<Prepared>| {
            let destination = prepared.as_ref().map_or_else(|| row.destination.clone(), |p| p.destination.clone());
            (self.after_failure(row, &error), destination, prepared)
        };
        let Ok(tenant) = TenantId::parse(&row.tenant) else {
            return fail(AttemptError::permanent("the stored tenant is not valid"), None);
        };
        let notification = match Notification::decode(row.request.as_slice()) {
            Ok(n) => n,
            Err(e) => {
                return fail(AttemptError::permanent(format!("the stored notification does not decode: {e}")), None);
            }
        };
        let prepared = match row.prepared.as_deref().and_then(|p| serde_json::from_str::<Prepared>(p).ok()) {
            Some(prepared) => prepared,
            None => match self.prepare(&tenant, row, &notification).await {
                Ok(prepared) => prepared,
                Err(error) => return fail(error, None),
            },
        };
        let channel = NotificationChannel::try_from(row.channel).unwrap_or(NotificationChannel::Unspecified);
        let now = now();
        if row.priority != Priority::Urgent as i32 {
            if let Some(until) = self.held_for_quiet_hours(&prepared, now) {
                return (Outcome::Held { until }, prepared.destination.clone(), Some(prepared));
            }
            if let Some(limit) = self.settings.rate_limit
                && matches!(
                    channel,
                    NotificationChannel::Email | NotificationChannel::Sms | NotificationChannel::Webhook
                )
            {
                match self.store.reserve_rate(&row.tenant, &prepared.destination, row.id, limit, now).await {
                    Ok(None) => {}
                    Ok(Some(until)) => return (Outcome::Held { until }, prepared.destination.clone(), Some(prepared)),
                    Err(e) => {
                        return fail(AttemptError::transient(format!("checking the rate limit: {e}")), Some(prepared));
                    }
                }
            }
        }
        let name = format!("tenants/{}/notifications/{}", row.tenant, row.id);
        let id = row.id.to_string();
        let sent = match channel {
            NotificationChannel::Email => match &self.email {
                Some(email) => email.send(&prepared, &row.message_id, &name).await.map(|()| None),
                None => Err(AttemptError::permanent("email is not configured: set notification.smtp_url")),
            },
            NotificationChannel::Sms => self.http.sms(&prepared.destination, &prepared.text, &id).await.map(|()| None),
            NotificationChannel::Webhook => {
                let body = webhook_body(row, &notification, &prepared);
                self.http.webhook(&prepared.destination, body, &name, &id).await.map(|()| None)
            }
            NotificationChannel::CallTask => self.call_task(&tenant, row, &notification, &prepared).await.map(Some),
            NotificationChannel::InApp => Ok(None),
            NotificationChannel::Unspecified => Err(AttemptError::permanent("the notification has no channel")),
        };
        match sent {
            Ok(task) => (Outcome::Delivered, task.unwrap_or_else(|| prepared.destination.clone()), Some(prepared)),
            Err(error) => fail(error, Some(prepared)),
        }
    }

    /// When quiet hours hold a non-urgent staff alert, until when.
    fn held_for_quiet_hours(
        &self,
        prepared: &Prepared,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        let quiet = self.settings.quiet_hours?;
        if !prepared.staff_alert {
            return None;
        }
        let zone = jiff::tz::TimeZone::get(prepared.time_zone.trim())
            .unwrap_or_else(|_| self.settings.quiet_time_zone.clone());
        quiet.held_until(now, &zone)
    }

    /// The outcome of a failed attempt: a retry at a jittered time, or the dead-letter.
    fn after_failure(&self, row: &Row, error: &AttemptError) -> Outcome {
        let attempts = u32::try_from(row.attempts).unwrap_or(0).saturating_add(1);
        match self.settings.retry.decide(attempts, &error.failure, rand::random::<f64>) {
            RetryDecision::Retry { delay } => Outcome::Retry {
                at: now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::seconds(1)),
                error: error.message.clone(),
            },
            RetryDecision::DeadLetter { reason } => {
                let why = match reason {
                    DeadLetterReason::Permanent => "permanent failure",
                    DeadLetterReason::AttemptsExhausted => "attempts exhausted",
                };
                Outcome::DeadLetter { error: format!("{} ({why} after {attempts} attempts)", error.message) }
            }
        }
    }

    /// A "call the recipient" task on the case, for its owner; the notification id as the
    /// request_id makes every retry create nothing more. Returns the task's name.
    async fn call_task(
        &self,
        tenant: &TenantId,
        row: &Row,
        notification: &Notification,
        prepared: &Prepared,
    ) -> Result<String, AttemptError> {
        if notification.case.is_empty() {
            return Err(AttemptError::permanent("a call task needs the case it is about"));
        }
        let title: String = if prepared.subject.trim().is_empty() {
            format!(
                "Call {}",
                if prepared.display_name.is_empty() { &prepared.destination } else { &prepared.display_name }
            )
        } else {
            prepared.subject.clone()
        };
        let mut description = prepared.text.clone();
        if prepared.destination != notification.case {
            description = format!("Call {}.\n\n{description}", prepared.destination);
        }
        let task = Task {
            kind: TaskKind::CallCustomer as i32,
            title: title.chars().filter(|c| !c.is_control()).take(200).collect(),
            description,
            assignee: prepared.owner.clone(),
            team: prepared.team.clone(),
            ..Task::default()
        };
        let created =
            self.case.create_task(tenant, &notification.case, task, &format!("notification:{}", row.id)).await?;
        Ok(created.name)
    }
}
