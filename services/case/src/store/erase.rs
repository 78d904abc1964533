//! Erasing personal data: every case of the customer anonymised, its timeline and earlier
//! events redacted, a PERSONAL_DATA_ERASED event written and the erasure recorded, all in one
//! transaction; and the retention job that does the same for cases closed too long ago.

use std::time::Duration;

use chrono::{DateTime, Utc};
use prost::Message;
use redress_kit::TenantId;
use redress_proto::case::v1::{Case, CaseEvent, CaseEventType, Erasure, ErasureTrigger, TimelineEntry};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction, EntityTrait, QueryFilter,
    Statement, Value,
};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::entities::{cases, events, playbooks, timeline_entries};
use super::{MAX_ATTEMPTS, Store, append, case_name, case_row, decode_case, event, find_case, now, rules_in};
use crate::domain::{self, Actor, Command, erase};
use crate::error::Error;

/// Whose cases an erasure covers.
#[derive(Debug, Clone)]
pub enum Subject {
    /// A customer, by any of their identifiers (empty ones are ignored).
    Customer {
        /// The CRM id.
        customer_id: String,
        /// The email address, matched without regard to case.
        email: String,
        /// The phone number.
        phone: String,
    },
    /// One case (retention).
    Case(Uuid),
}

/// An erasure to carry out.
#[derive(Debug, Clone)]
pub struct EraseRequest {
    /// Whose data.
    pub subject: Subject,
    /// Why.
    pub reason: String,
    /// The idempotency key.
    pub request_id: String,
}

/// The most cases the retention job anonymises per tenant in one pass.
const RETENTION_BATCH: u64 = 200;

fn sql(backend: DatabaseBackend, text: &str, values: Vec<Value>) -> Statement {
    let text = match backend {
        DatabaseBackend::Postgres => text.to_string(),
        _ => text.replace('$', "?"),
    };
    Statement::from_sql_and_values(backend, text, values)
}

/// The hex SHA-256 of the tenant and a customer's identifiers, one per line.
pub fn subject_digest(tenant: &TenantId, customer_id: &str, email: &str, phone: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [tenant.as_str(), customer_id, &email.to_lowercase(), phone] {
        hasher.update(part.as_bytes());
        hasher.update(b"\n");
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The erasure's resource name.
pub fn erasure_name(tenant: &TenantId, id: Uuid) -> String {
    format!("tenants/{tenant}/erasures/{id}")
}

impl Store {
    /// Erases the personal data of `request.subject` from every matching case of `tenant`, or
    /// returns the erasure already made under the same request_id.
    pub async fn erase(&self, tenant: &TenantId, request: &EraseRequest, actor: &Actor) -> Result<Erasure, Error> {
        for _ in 0..MAX_ATTEMPTS {
            let _turn = self.turn().await;
            let txn = redress_kit::db::begin_write(&self.db).await?;
            if let Some(done) = find_erasure(&txn, tenant, &request.request_id).await? {
                txn.rollback().await?;
                return Ok(done);
            }
            let now = now();
            let id = Uuid::now_v7();
            let ids = matching_cases(&txn, tenant, &request.subject).await?;
            let (trigger, customer_id, digest) = match &request.subject {
                Subject::Customer { customer_id, email, phone } => {
                    (ErasureTrigger::Request, customer_id.clone(), subject_digest(tenant, customer_id, email, phone))
                }
                Subject::Case(_) => (ErasureTrigger::Retention, String::new(), String::new()),
            };
            let erasure = Erasure {
                name: erasure_name(tenant, id),
                trigger: trigger as i32,
                customer_id,
                subject_digest: digest,
                reason: request.reason.clone(),
                requester: actor.id.clone(),
                cases: ids.iter().map(|case| case_name(tenant, *case)).collect(),
                erase_time: Some(domain::commands::timestamp(now)),
            };
            let anonymous = erase::anonymous_id(&id);
            let mut raced = false;
            for case in &ids {
                if !erase_case(&txn, tenant, *case, &erasure, &anonymous, actor, now).await? {
                    raced = true;
                    break;
                }
            }
            if raced {
                txn.rollback().await?;
                continue;
            }
            if ids.is_empty() && !erasure.customer_id.is_empty() {
                // No case of theirs, but other services may hold what they sent without one
                // (a survey response): the erasure is announced on its own.
                announce(&txn, tenant, id, &erasure, actor, now).await?;
            }
            let inserted = txn
                .execute_raw(sql(
                    txn.get_database_backend(),
                    "INSERT INTO erasures (id, tenant, request_id, erase_time, document) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (tenant, request_id) DO NOTHING",
                    vec![
                        id.into(),
                        tenant.as_str().into(),
                        request.request_id.as_str().into(),
                        now.into(),
                        erasure.encode_to_vec().into(),
                    ],
                ))
                .await?;
            if inserted.rows_affected() == 0 {
                // Another call with the same request_id finished first: return theirs.
                txn.rollback().await?;
                continue;
            }
            txn.commit().await?;
            if !ids.is_empty() || !erasure.customer_id.is_empty() {
                self.log.written();
            }
            return Ok(erasure);
        }
        Err(Error::Contended)
    }

    /// The tenant's erasures, newest first, after the erasure `before` (exclusive).
    pub async fn erasures(
        &self,
        tenant: &TenantId,
        before: Option<Uuid>,
        limit: u64,
    ) -> Result<(Vec<Erasure>, Option<Uuid>), Error> {
        let backend = self.db.get_database_backend();
        let (text, mut values): (&str, Vec<Value>) = match before {
            Some(before) => (
                "SELECT id, document FROM erasures WHERE tenant = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
                vec![tenant.as_str().into(), before.into()],
            ),
            None => (
                "SELECT id, document FROM erasures WHERE tenant = $1 ORDER BY id DESC LIMIT $2",
                vec![tenant.as_str().into()],
            ),
        };
        values.push(((limit + 1) as i64).into());
        let rows = self.db.query_all_raw(sql(backend, text, values)).await?;
        let mut found = Vec::with_capacity(rows.len());
        let mut last = None;
        for row in rows.iter().take(limit as usize) {
            let id: Uuid = row.try_get("", "id")?;
            let document: Vec<u8> = row.try_get("", "document")?;
            found.push(Erasure::decode(document.as_slice()).map_err(|e| Error::Corrupt(format!("erasure {id}: {e}")))?);
            last = Some(id);
        }
        let more = rows.len() as u64 > limit;
        Ok((found, if more { last } else { None }))
    }

    /// One pass of the retention job: anonymises the closed cases of every tenant with a
    /// retention period that have been unchanged for longer than it. Returns how many.
    pub async fn retention_pass(&self) -> Result<usize, Error> {
        let actor = Actor { id: "system:case".into(), supervisor: true, service: true };
        let mut erased = 0;
        for row in playbooks::Entity::find().all(&self.db).await? {
            let Ok(playbook) = redress_proto::case::v1::Playbook::decode(row.document.as_slice()) else {
                continue;
            };
            let Some(period) = domain::Rules::from_playbook(&playbook).retention else {
                continue;
            };
            let Ok(tenant) = TenantId::parse(&row.tenant) else {
                continue;
            };
            let cutoff = now() - chrono::Duration::from_std(period).unwrap_or(chrono::Duration::MAX);
            let backend = self.db.get_database_backend();
            let due = self
                .db
                .query_all_raw(sql(
                    backend,
                    "SELECT id FROM cases WHERE tenant = $1 AND status = $2 AND NOT erased AND update_time < $3 \
                     ORDER BY update_time LIMIT $4",
                    vec![
                        tenant.as_str().into(),
                        (redress_proto::case::v1::CaseStatus::Closed as i32).into(),
                        cutoff.into(),
                        (RETENTION_BATCH as i64).into(),
                    ],
                ))
                .await?;
            for row in due {
                let id: Uuid = row.try_get("", "id")?;
                let request = EraseRequest {
                    subject: Subject::Case(id),
                    reason: format!("closed for longer than the retention period ({})", humanise(period)),
                    request_id: format!("retention:{id}"),
                };
                let erasure = self.erase(&tenant, &request, &actor).await?;
                erased += erasure.cases.len();
            }
        }
        Ok(erased)
    }
}

fn humanise(period: Duration) -> String {
    let hours = period.as_secs() / 3600;
    if hours.is_multiple_of(24) { format!("{} days", hours / 24) } else { format!("{hours} hours") }
}

/// Runs the retention job every `interval` until `shutdown`.
pub async fn run_retention(
    store: std::sync::Arc<Store>,
    interval: Duration,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    loop {
        match store.retention_pass().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(cases = n, "retention: anonymised closed cases past their retention period"),
            Err(e) => tracing::warn!(error = %e, "retention pass failed; retrying at the next interval"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

async fn find_erasure(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    request_id: &str,
) -> Result<Option<Erasure>, Error> {
    let row = txn
        .query_one_raw(sql(
            txn.get_database_backend(),
            "SELECT document FROM erasures WHERE tenant = $1 AND request_id = $2",
            vec![tenant.as_str().into(), request_id.into()],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let document: Vec<u8> = row.try_get("", "document")?;
    Ok(Some(Erasure::decode(document.as_slice()).map_err(|e| Error::Corrupt(format!("erasure: {e}")))?))
}

/// Writes a PERSONAL_DATA_ERASED event with no case, keyed by the erasure's id, for an erasure
/// that found no case of the customer.
async fn announce(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    id: Uuid,
    erasure: &Erasure,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let event = CaseEvent {
        event_id: Uuid::now_v7().to_string(),
        tenant: tenant.as_str().to_string(),
        r#type: CaseEventType::PersonalDataErased as i32,
        event_time: Some(domain::commands::timestamp(now)),
        actor: actor.id.clone(),
        erasure: Some(erasure.clone()),
        ..CaseEvent::default()
    };
    let row = events::ActiveModel {
        id: sea_orm::ActiveValue::NotSet,
        sequence: Set(None),
        tenant: Set(tenant.as_str().to_string()),
        case_id: Set(id),
        event_type: Set(event.r#type),
        event_time: Set(now),
        payload: Set(event.encode_to_vec()),
    };
    events::Entity::insert(row).exec_without_returning(txn).await?;
    Ok(())
}

/// The not yet erased cases of `subject`.
async fn matching_cases(txn: &DatabaseTransaction, tenant: &TenantId, subject: &Subject) -> Result<Vec<Uuid>, Error> {
    let backend = txn.get_database_backend();
    let (customer_id, email, phone) = match subject {
        Subject::Case(id) => {
            let row = txn
                .query_one_raw(sql(
                    backend,
                    "SELECT id FROM cases WHERE tenant = $1 AND id = $2 AND NOT erased",
                    vec![tenant.as_str().into(), (*id).into()],
                ))
                .await?;
            return Ok(row.map(|_| *id).into_iter().collect());
        }
        Subject::Customer { customer_id, email, phone } => (customer_id, email.to_lowercase(), phone),
    };
    let mut ids = Vec::new();
    if !customer_id.is_empty() {
        let rows = txn
            .query_all_raw(sql(
                backend,
                "SELECT id FROM cases WHERE tenant = $1 AND customer_id = $2 AND NOT erased ORDER BY id",
                vec![tenant.as_str().into(), customer_id.as_str().into()],
            ))
            .await?;
        for row in rows {
            ids.push(row.try_get::<Uuid>("", "id")?);
        }
    }
    if !email.is_empty() || !phone.is_empty() {
        // Contact details live only in the case documents: read the tenant's cases a page at a time.
        let mut after = Uuid::nil();
        loop {
            let rows = txn
                .query_all_raw(sql(
                    backend,
                    "SELECT id, document FROM cases WHERE tenant = $1 AND NOT erased AND id > $2 ORDER BY id LIMIT 500",
                    vec![tenant.as_str().into(), after.into()],
                ))
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("", "id")?;
            for row in &rows {
                let document: Vec<u8> = row.try_get("", "document")?;
                let Ok(case) = Case::decode(document.as_slice()) else { continue };
                let Some(customer) = case.customer.as_ref() else { continue };
                let by_email = !email.is_empty() && customer.email.to_lowercase() == email;
                let by_phone = !phone.is_empty() && customer.phone == *phone;
                let id: Uuid = row.try_get("", "id")?;
                if (by_email || by_phone) && !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
    }
    Ok(ids)
}

/// Anonymises one case inside `txn`: the case, its timeline and its earlier events, then its
/// PERSONAL_DATA_ERASED entry and event. False when another change to the case won the race.
async fn erase_case(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    id: Uuid,
    erasure: &Erasure,
    anonymous: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let row = find_case(txn, tenant, id).await?;
    let mut case = decode_case(&row)?;
    let rules = rules_in(txn, tenant).await?;
    let command =
        Command::ErasePersonalData { erasure: Box::new(erasure.clone()), anonymous_id: anonymous.to_string() };
    let change = domain::apply(&mut case, command, actor, &rules, now)?;
    let updated = cases::Entity::update_many()
        .set(case_row(tenant, id, &case, false))
        .filter(cases::Column::Id.eq(id))
        .filter(cases::Column::Version.eq(row.version))
        .exec(txn)
        .await?;
    if updated.rows_affected == 0 {
        return Ok(false);
    }
    let backend = txn.get_database_backend();
    txn.execute_raw(sql(
        backend,
        "UPDATE cases SET erased = TRUE, external_reference = NULL WHERE id = $1",
        vec![id.into()],
    ))
    .await?;
    for entry in timeline_entries::Entity::find().filter(timeline_entries::Column::CaseId.eq(id)).all(txn).await? {
        let Ok(mut decoded) = TimelineEntry::decode(entry.document.as_slice()) else { continue };
        erase::redact_entry(&mut decoded);
        let redacted = timeline_entries::ActiveModel {
            case_id: Set(entry.case_id),
            position: Set(entry.position),
            document: Set(decoded.encode_to_vec()),
            ..Default::default()
        };
        timeline_entries::Entity::update(redacted).exec(txn).await?;
    }
    for stored in events::Entity::find().filter(events::Column::CaseId.eq(id)).all(txn).await? {
        let Ok(mut decoded) = CaseEvent::decode(stored.payload.as_slice()) else { continue };
        erase::redact_event(&mut decoded, anonymous);
        events::Entity::update_many()
            .col_expr(events::Column::Payload, sea_orm::sea_query::Expr::value(decoded.encode_to_vec()))
            .filter(events::Column::Id.eq(stored.id))
            .exec(txn)
            .await?;
    }
    let written = event(tenant, &case, &change, actor, now);
    append(txn, tenant, id, &case, &change, &written, now).await?;
    Ok(true)
}
