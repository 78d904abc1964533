//! The SQL of erasing personal data: the cases of a subject, the redaction of a case's stored
//! timeline and events, the erasure records, and the cases the retention job finds due.

use chrono::{DateTime, Utc};
use prost::Message;
use redress_kit::TenantId;
use redress_kit::db::{Txn, statement};
use redress_proto::case::v1::{Case, CaseEvent, CaseStatus, Erasure, Playbook, TimelineEntry};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Value};
use uuid::Uuid;

use super::Store;
use super::entities::{events, playbooks, timeline_entries};
use crate::domain::erase::{self, Subject};
use crate::error::Error;

/// A page of erasures, and the last one's id when more may follow.
pub type ErasurePage = (Vec<Erasure>, Option<Uuid>);

/// The erasure already made under `request_id`, if any.
pub async fn find_erasure(txn: &Txn, tenant: &TenantId, request_id: &str) -> Result<Option<Erasure>, Error> {
    let row = txn
        .query_one_raw(statement(
            txn.get_database_backend(),
            "SELECT document FROM erasures WHERE tenant = $1 AND request_id = $2",
            vec![tenant.as_str().into(), request_id.into()],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let document: Vec<u8> = row.try_get("", "document")?;
    Ok(Some(Erasure::decode(document.as_slice()).map_err(|e| Error::Corrupt(format!("erasure: {e}")))?))
}

/// Records the erasure `id`; false when another call with the same request_id recorded one first.
pub async fn insert_erasure(
    txn: &Txn,
    tenant: &TenantId,
    id: Uuid,
    request_id: &str,
    erasure: &Erasure,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let inserted = txn
        .execute_raw(statement(
            txn.get_database_backend(),
            "INSERT INTO erasures (id, tenant, request_id, erase_time, document) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant, request_id) DO NOTHING",
            vec![id.into(), tenant.as_str().into(), request_id.into(), now.into(), erasure.encode_to_vec().into()],
        ))
        .await?;
    Ok(inserted.rows_affected() > 0)
}

/// The not yet erased cases of `subject`.
pub async fn matching_cases(txn: &Txn, tenant: &TenantId, subject: &Subject) -> Result<Vec<Uuid>, Error> {
    let backend = txn.get_database_backend();
    let (customer_id, email, phone) = match subject {
        Subject::Case(id) => {
            let row = txn
                .query_one_raw(statement(
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
            .query_all_raw(statement(
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
                .query_all_raw(statement(
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

/// Marks the case `id` erased (dropping its external reference) and redacts its stored
/// timeline entries and events, giving its customer the id `anonymous`.
pub async fn redact_history(txn: &Txn, id: Uuid, anonymous: &str) -> Result<(), Error> {
    txn.execute_raw(statement(
        txn.get_database_backend(),
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
    Ok(())
}

impl Store {
    /// The tenant's erasures, newest first, after the erasure `before` (exclusive).
    pub async fn erasures(&self, tenant: &TenantId, before: Option<Uuid>, limit: u64) -> Result<ErasurePage, Error> {
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
        let rows = self.db.query_all_raw(statement(self.db.get_database_backend(), text, values)).await?;
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

    /// Every stored playbook that decodes, with its tenant as stored.
    pub async fn playbooks(&self) -> Result<Vec<(String, Playbook)>, Error> {
        let rows = playbooks::Entity::find().all(&self.db).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| Playbook::decode(row.document.as_slice()).ok().map(|playbook| (row.tenant, playbook)))
            .collect())
    }

    /// At most `limit` closed, not yet erased cases of `tenant` unchanged since before
    /// `cutoff`, least recently changed first.
    pub async fn closed_before(
        &self,
        tenant: &TenantId,
        cutoff: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<Uuid>, Error> {
        let rows = self
            .db
            .query_all_raw(statement(
                self.db.get_database_backend(),
                "SELECT id FROM cases WHERE tenant = $1 AND status = $2 AND NOT erased AND update_time < $3 \
                 ORDER BY update_time LIMIT $4",
                vec![tenant.as_str().into(), (CaseStatus::Closed as i32).into(), cutoff.into(), (limit as i64).into()],
            ))
            .await?;
        rows.iter().map(|row| Ok(row.try_get::<Uuid>("", "id")?)).collect()
    }
}
