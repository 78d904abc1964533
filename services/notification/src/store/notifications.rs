//! Notifications and their outbox: accepting one per idempotency key, claiming due ones safely
//! across replicas, recording each attempt's outcome, and the per-recipient rate-limit ledger.

use chrono::{DateTime, Utc};
use redress_kit::db::{begin_write, statement};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, FromQueryResult, Value};
use uuid::Uuid;

use super::{Store, insert_once};
use crate::domain::RateLimit;
use crate::error::Error;

/// Every column of a notification row.
const COLUMNS: &str = "id, tenant, request_id, source, channel, priority, status, case_name, recipient, \
    destination, message_id, attempts, last_error, next_attempt_time, lease_owner, lease_expires, rate_time, \
    create_time, update_time, deliver_time, request, case_snapshot, prepared";

/// A notification as stored.
#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub struct Row {
    /// Its id (UUIDv7).
    pub id: Uuid,
    /// Its tenant.
    pub tenant: String,
    /// The idempotency key it was accepted with.
    pub request_id: String,
    /// Who asked for it: `api` or the rule's name.
    pub source: String,
    /// `NotificationChannel` as its number.
    pub channel: i32,
    /// `Priority` as its number.
    pub priority: i32,
    /// `DeliveryStatus` as its number.
    pub status: i32,
    /// The case it is about, or empty.
    pub case_name: String,
    /// The recipient as named: a staff member's name or an address.
    pub recipient: String,
    /// The resolved destination: an email address, phone number, URL or case; empty until known.
    pub destination: String,
    /// The email Message-ID, the same on every attempt; empty for other channels.
    pub message_id: String,
    /// Attempts made.
    pub attempts: i32,
    /// The last attempt's error, or empty.
    pub last_error: String,
    /// When it is due.
    pub next_attempt_time: DateTime<Utc>,
    /// The worker holding a claim on it.
    pub lease_owner: Option<String>,
    /// When that claim lapses.
    pub lease_expires: Option<DateTime<Utc>>,
    /// When it last counted against its recipient's rate limit.
    pub rate_time: Option<DateTime<Utc>>,
    /// When it was accepted.
    pub create_time: DateTime<Utc>,
    /// When it last changed.
    pub update_time: DateTime<Utc>,
    /// When it was delivered.
    pub deliver_time: Option<DateTime<Utc>>,
    /// The encoded `redress.notification.v1.Notification` as accepted.
    pub request: Vec<u8>,
    /// The encoded case as it was at the event, for rule notifications.
    pub case_snapshot: Option<Vec<u8>>,
    /// The prepared message (JSON), once rendered.
    pub prepared: Option<String>,
}

/// Filters of ListNotifications.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only about this case.
    pub case_name: String,
    /// Only to this recipient (as named) or destination.
    pub recipient: String,
    /// Only in this status; 0 for any.
    pub status: i32,
}

/// How an attempt ended, to record.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Delivered.
    Delivered,
    /// Failed; try again at this time.
    Retry {
        /// When.
        at: DateTime<Utc>,
        /// Why it failed.
        error: String,
    },
    /// Failed for good.
    DeadLetter {
        /// Why.
        error: String,
    },
    /// Not attempted: held until this time (quiet hours, the rate limit).
    Held {
        /// Until when.
        until: DateTime<Utc>,
    },
}

/// Accepts a notification, a new `row`, unless its `(tenant, request_id)` was seen: returns the
/// row stored and whether this call created it. Runs on the pool or inside a consumer's
/// transaction.
pub async fn insert(conn: &impl ConnectionTrait, row: Row) -> Result<(Row, bool), Error> {
    let backend = conn.get_database_backend();
    let values: Vec<Value> = vec![
        row.id.into(),
        row.tenant.clone().into(),
        row.request_id.clone().into(),
        row.source.into(),
        row.channel.into(),
        row.priority.into(),
        row.status.into(),
        row.case_name.into(),
        row.recipient.into(),
        row.destination.into(),
        row.message_id.into(),
        row.attempts.into(),
        row.last_error.into(),
        row.next_attempt_time.into(),
        row.create_time.into(),
        row.update_time.into(),
        row.request.into(),
        row.case_snapshot.into(),
    ];
    let insert = format!(
        "INSERT INTO notifications (id, tenant, request_id, source, channel, priority, status, case_name, recipient, \
         destination, message_id, attempts, last_error, next_attempt_time, create_time, update_time, request, \
         case_snapshot) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
         ON CONFLICT (tenant, request_id) DO NOTHING RETURNING {COLUMNS}"
    );
    let existing = format!("SELECT {COLUMNS} FROM notifications WHERE tenant = $1 AND request_id = $2");
    let existing = statement(backend, &existing, [row.tenant.into(), row.request_id.into()]);
    insert_once(conn, statement(backend, &insert, values), existing)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the notification of this request_id".into()).into())
}

impl Store {
    /// Accepts a notification from the API, as [`insert`] does, in this process's turn to write.
    pub async fn accept(&self, row: Row) -> Result<(Row, bool), Error> {
        let _turn = self.turn.take().await;
        insert(self.db(), row).await
    }

    /// A notification of `tenant`.
    pub async fn notification(&self, tenant: &str, id: Uuid) -> Result<Option<Row>, Error> {
        let text = format!("SELECT {COLUMNS} FROM notifications WHERE tenant = $1 AND id = $2");
        let statement = statement(self.backend(), &text, [tenant.into(), id.into()]);
        Ok(Row::find_by_statement(statement).one(self.db()).await?)
    }

    /// Up to `limit` notifications of `tenant` matching `filter`, newest first, older than `before`.
    pub async fn notifications(
        &self,
        tenant: &str,
        filter: &Filter,
        before: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<Row>, Error> {
        let mut values: Vec<Value> = vec![tenant.into()];
        let mut text = format!("SELECT {COLUMNS} FROM notifications WHERE tenant = $1");
        if !filter.case_name.is_empty() {
            values.push(filter.case_name.clone().into());
            text.push_str(&format!(" AND case_name = ${}", values.len()));
        }
        if !filter.recipient.is_empty() {
            values.push(filter.recipient.clone().into());
            let n = values.len();
            text.push_str(&format!(" AND (recipient = ${n} OR destination = ${n})"));
        }
        if filter.status != 0 {
            values.push(filter.status.into());
            text.push_str(&format!(" AND status = ${}", values.len()));
        }
        if let Some(before) = before {
            values.push(before.into());
            text.push_str(&format!(" AND id < ${}", values.len()));
        }
        text.push_str(&format!(" ORDER BY id DESC LIMIT {limit}"));
        Ok(Row::find_by_statement(statement(self.backend(), &text, values)).all(self.db()).await?)
    }

    /// Claims up to `limit` due notifications for `owner` until `lease_until`: pending or
    /// retrying, due by `now`, and not claimed by a live worker. Urgent and high priority go
    /// first. On PostgreSQL concurrent claimers skip each other's rows (`FOR UPDATE SKIP
    /// LOCKED`); a crashed worker's claims lapse at their lease and are claimed again.
    pub async fn claim(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Row>, Error> {
        let lock = if self.backend() == DatabaseBackend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let text = format!(
            "UPDATE notifications SET lease_owner = $1, lease_expires = $2 WHERE id IN (\
             SELECT id FROM notifications WHERE status IN (1, 2) AND next_attempt_time <= $3 \
             AND (lease_expires IS NULL OR lease_expires <= $3) \
             ORDER BY priority DESC, next_attempt_time LIMIT {limit}{lock}) RETURNING {COLUMNS}"
        );
        let values: Vec<Value> = vec![owner.into(), lease_until.into(), now.into()];
        let _turn = self.turn.take().await;
        Ok(Row::find_by_statement(statement(self.backend(), &text, values)).all(self.db()).await?)
    }

    /// When the next unclaimed notification falls due, if any is waiting.
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>, Error> {
        #[derive(FromQueryResult)]
        struct Due {
            due: Option<DateTime<Utc>>,
        }
        let text =
            "SELECT MIN(next_attempt_time) AS due FROM notifications WHERE status IN (1, 2) AND lease_owner IS NULL";
        let due = Due::find_by_statement(statement(self.backend(), text, Vec::new())).one(self.db()).await?;
        Ok(due.and_then(|d| d.due))
    }

    /// Records the outcome of an attempt by `owner`, with what was prepared for it. A delivery
    /// is recorded whoever holds the claim, since it happened; anything else only while the
    /// claim is still `owner`'s and the notification not delivered.
    pub async fn record(
        &self,
        id: Uuid,
        owner: &str,
        outcome: &Outcome,
        destination: &str,
        prepared: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, Error> {
        let prepared: Value = prepared.map(str::to_string).into();
        let (text, values): (&str, Vec<Value>) = match outcome {
            Outcome::Delivered => (
                "UPDATE notifications SET status = 3, attempts = attempts + 1, deliver_time = COALESCE(deliver_time, $2), \
                 next_attempt_time = $2, update_time = $2, lease_owner = NULL, lease_expires = NULL, \
                 destination = CASE WHEN destination = '[erased]' THEN destination ELSE $3 END, \
                 prepared = CASE WHEN destination = '[erased]' THEN NULL ELSE COALESCE($4, prepared) END WHERE id = $1",
                vec![id.into(), now.into(), destination.into(), prepared],
            ),
            Outcome::Retry { at, error } => (
                "UPDATE notifications SET status = 2, attempts = attempts + 1, last_error = $6, next_attempt_time = $7, \
                 update_time = $2, lease_owner = NULL, lease_expires = NULL, destination = $3, \
                 prepared = COALESCE($4, prepared) WHERE id = $1 AND lease_owner = $5 AND status IN (1, 2)",
                vec![
                    id.into(),
                    now.into(),
                    destination.into(),
                    prepared,
                    owner.into(),
                    error.clone().into(),
                    (*at).into(),
                ],
            ),
            Outcome::DeadLetter { error } => (
                "UPDATE notifications SET status = 4, attempts = attempts + 1, last_error = $6, next_attempt_time = $2, \
                 update_time = $2, lease_owner = NULL, lease_expires = NULL, destination = $3, \
                 prepared = COALESCE($4, prepared) WHERE id = $1 AND lease_owner = $5 AND status IN (1, 2)",
                vec![id.into(), now.into(), destination.into(), prepared, owner.into(), error.clone().into()],
            ),
            Outcome::Held { until } => (
                "UPDATE notifications SET next_attempt_time = $6, update_time = $2, lease_owner = NULL, \
                 lease_expires = NULL, destination = CASE WHEN destination = '[erased]' THEN destination ELSE $3 END, \
                 prepared = CASE WHEN destination = '[erased]' THEN NULL ELSE COALESCE($4, prepared) END \
                 WHERE id = $1 AND lease_owner = $5 AND status IN (1, 2)",
                vec![id.into(), now.into(), destination.into(), prepared, owner.into(), (*until).into()],
            ),
        };
        let _turn = self.turn.take().await;
        let result = self.db().execute_raw(statement(self.backend(), text, values)).await?;
        Ok(result.rows_affected() == 1)
    }

    /// Counts notification `id` against its recipient's rate limit if there is room: `None` when
    /// it may go now, otherwise when it may. Exact across replicas: on PostgreSQL a
    /// transaction-scoped advisory lock per recipient serialises the count and the mark.
    pub async fn reserve_rate(
        &self,
        tenant: &str,
        destination: &str,
        id: Uuid,
        limit: RateLimit,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, Error> {
        #[derive(FromQueryResult)]
        struct Window {
            sent: i64,
            oldest: Option<DateTime<Utc>>,
        }
        let backend = self.backend();
        let _turn = self.turn.take().await;
        let txn = begin_write(self.db()).await?;
        if backend == DatabaseBackend::Postgres {
            txn.execute_raw(statement(
                backend,
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 7))",
                vec![format!("{tenant}/{destination}").into()],
            ))
            .await?;
        }
        let window = Window::find_by_statement(statement(
            backend,
            "SELECT COUNT(*) AS sent, MIN(rate_time) AS oldest FROM notifications \
             WHERE tenant = $1 AND destination = $2 AND rate_time > $3 AND id <> $4",
            vec![tenant.into(), destination.into(), limit.window_start(now).into(), id.into()],
        ))
        .one(&txn)
        .await?;
        let (sent, oldest) = window.map_or((0, None), |w| (w.sent, w.oldest));
        if let Some(until) = limit.wait_until(u64::try_from(sent).unwrap_or(0), oldest, now) {
            txn.rollback().await?;
            return Ok(Some(until));
        }
        txn.execute_raw(statement(
            backend,
            "UPDATE notifications SET rate_time = $2 WHERE id = $1",
            vec![id.into(), now.into()],
        ))
        .await?;
        txn.commit().await?;
        Ok(None)
    }
}

/// What erased personal data reads as.
pub const ERASED: &str = redress_kit::personal::ERASED;

/// Why a notification to an erased customer was never sent.
pub const NOT_SENT_ERASED: &str = "not sent: the customer's personal data was erased";

/// Purges the personal data of every notification about `case_name` of `tenant`, whose customer's
/// data was erased: the customer's address and contact details, the message's words and
/// variables, the rendered message and the case snapshot (replaced by `snapshot`, the anonymised
/// case). Messages to the customer not yet sent never will be; staff alerts still go, without
/// the customer's words. Returns how many notifications were purged.
pub async fn erase_case(
    conn: &impl ConnectionTrait,
    tenant: &str,
    case_name: &str,
    snapshot: Option<Vec<u8>>,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    use prost::Message;
    use redress_proto::notification::v1::{Notification, notification, recipient};

    let backend = conn.get_database_backend();
    let text = format!("SELECT {COLUMNS} FROM notifications WHERE tenant = $1 AND case_name = $2");
    let rows =
        Row::find_by_statement(statement(backend, &text, vec![tenant.into(), case_name.into()])).all(conn).await?;
    for row in &rows {
        let mut request = Notification::decode(row.request.as_slice()).unwrap_or_default();
        // Messages to the customer carry their contact details; alerts to staff (a staff member
        // or an address) carry the customer's words only in their variables.
        let customer_facing = matches!(
            request.recipient.as_ref().and_then(|r| r.recipient.as_ref()),
            Some(recipient::Recipient::Customer(_))
        );
        if let Some(recipient::Recipient::Customer(customer)) =
            request.recipient.as_mut().and_then(|r| r.recipient.as_mut())
        {
            customer.customer_id.clear();
            customer.display_name.clear();
            customer.email.clear();
            customer.phone.clear();
        }
        match request.content.as_mut() {
            Some(notification::Content::Template(template)) => {
                if let Some(variables) = template.variables.as_mut() {
                    redress_kit::personal::redact_variables(variables);
                }
            }
            Some(notification::Content::Body(body)) if customer_facing => {
                for text in [&mut body.subject, &mut body.text, &mut body.html] {
                    if !text.is_empty() {
                        *text = ERASED.to_string();
                    }
                }
            }
            _ => {}
        }
        let (recipient, destination) = if customer_facing {
            (ERASED.to_string(), ERASED.to_string())
        } else {
            (row.recipient.clone(), row.destination.clone())
        };
        let cancel = customer_facing;
        let text = "UPDATE notifications SET request = $2, case_snapshot = $3, prepared = NULL, recipient = $4, \
             destination = $5, update_time = $6, \
             last_error = CASE WHEN $7 AND status IN (1, 2) THEN $8 ELSE last_error END, \
             lease_owner = CASE WHEN $7 AND status IN (1, 2) THEN NULL ELSE lease_owner END, \
             lease_expires = CASE WHEN $7 AND status IN (1, 2) THEN NULL ELSE lease_expires END, \
             status = CASE WHEN $7 AND status IN (1, 2) THEN 4 ELSE status END \
             WHERE id = $1";
        let values: Vec<Value> = vec![
            row.id.into(),
            request.encode_to_vec().into(),
            snapshot.clone().into(),
            recipient.into(),
            destination.into(),
            now.into(),
            cancel.into(),
            NOT_SENT_ERASED.into(),
        ];
        conn.execute_raw(statement(backend, text, values)).await?;
    }
    Ok(rows.len())
}
