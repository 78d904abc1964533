//! Cases, their timelines, idempotency records and playbooks: the rows read and written. The
//! writes take the transaction the application holds, so that a change, its timeline entry,
//! its event and its request record commit together.

use chrono::{DateTime, Utc};
use prost::Message;
use redress_kit::TenantId;
use redress_kit::db::{Db, Txn};
use redress_kit::time::{from_timestamp, now};
use redress_proto::case::v1::{Case, CaseEvent, Playbook, TimelineEntry};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TryInsertResult};
use uuid::Uuid;

use super::entities::{cases, events, playbooks, requests, timeline_entries};
use super::{Store, fast};
use crate::domain::{Change, case_name};
use crate::error::Error;

/// The first outcome of a request_id: which method used it, on which case, returning what.
pub type SeenRequest = requests::Model;

/// A case as stored.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The case id.
    pub id: Uuid,
    /// The decoded case.
    pub case: Case,
    /// The version the row holds: the one an update must find to win.
    pub version: i64,
}

/// A case being opened: the case, the change that opened it, its event, and the request that
/// asked for it.
#[derive(Debug, Clone, Copy)]
pub struct NewCase<'a> {
    /// The case id.
    pub id: Uuid,
    /// The tenant.
    pub tenant: &'a TenantId,
    /// The client's idempotency key; empty for none.
    pub request_id: &'a str,
    /// The case as opened.
    pub case: &'a Case,
    /// The change that opened it (its first timeline entry).
    pub change: &'a Change,
    /// Its CREATED event.
    pub event: &'a CaseEvent,
    /// When it was opened.
    pub now: DateTime<Utc>,
}

async fn find_case(db: &impl ConnectionTrait, tenant: &TenantId, id: Uuid) -> Result<cases::Model, Error> {
    cases::Entity::find_by_id(id)
        .filter(cases::Column::Tenant.eq(tenant.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(case_name(tenant, id)))
}

pub(super) fn decode_case(row: &cases::Model) -> Result<Case, Error> {
    Case::decode(row.document.as_slice()).map_err(|e| Error::Corrupt(format!("case {}: {e}", row.id)))
}

fn loaded(row: &cases::Model) -> Result<Loaded, Error> {
    Ok(Loaded { id: row.id, case: decode_case(row)?, version: row.version })
}

/// The case `id` of `tenant`, or NOT_FOUND.
pub async fn load(db: &impl ConnectionTrait, tenant: &TenantId, id: Uuid) -> Result<Loaded, Error> {
    loaded(&find_case(db, tenant, id).await?)
}

/// The case of `tenant` opened from `channel` with the source's `external_reference`, if any.
pub async fn find_by_external_reference(
    db: &Db,
    tenant: &TenantId,
    channel: i32,
    external_reference: &str,
) -> Result<Option<Loaded>, Error> {
    let row = cases::Entity::find()
        .filter(cases::Column::Tenant.eq(tenant.as_str()))
        .filter(cases::Column::Channel.eq(channel))
        .filter(cases::Column::ExternalReference.eq(external_reference))
        .one(db)
        .await?;
    row.as_ref().map(loaded).transpose()
}

/// The record of `request_id`, if it was used before; never for an empty one.
pub async fn find_request(
    db: &impl ConnectionTrait,
    tenant: &TenantId,
    request_id: &str,
) -> Result<Option<SeenRequest>, Error> {
    if request_id.is_empty() {
        return Ok(None);
    }
    Ok(requests::Entity::find_by_id((tenant.as_str().to_string(), request_id.to_string())).one(db).await?)
}

/// Records a request_id; false if another transaction recorded it first.
pub async fn insert_request(
    db: &impl ConnectionTrait,
    tenant: &TenantId,
    request_id: &str,
    method: &str,
    case_id: Uuid,
    resource: &str,
) -> Result<bool, Error> {
    if request_id.is_empty() {
        return Ok(true);
    }
    let row = requests::ActiveModel {
        tenant: Set(tenant.as_str().to_string()),
        request_id: Set(request_id.to_string()),
        method: Set(method.to_string()),
        case_id: Set(case_id),
        resource: Set(resource.to_string()),
        create_time: Set(now()),
    };
    let result = requests::Entity::insert(row).on_conflict_do_nothing().exec_without_returning(db).await?;
    Ok(matches!(result, TryInsertResult::Inserted(n) if n > 0))
}

/// Writes a new case, its first entry and its event (not its request record).
pub async fn insert_case(txn: &Txn, new: &NewCase<'_>) -> Result<(), Error> {
    cases::Entity::insert(case_row(new.tenant, new.id, new.case, true)).exec_without_returning(txn).await?;
    append(txn, new.tenant, new.id, new.case, new.change, new.event, new.now).await
}

/// Writes a new case with its request record, first entry and event in one statement, on
/// PostgreSQL; false when the request_id was already recorded (nothing is written).
pub async fn insert_case_at_once(db: &Db, new: &NewCase<'_>) -> Result<bool, Error> {
    Ok(fast::insert_case(db, new).await?)
}

/// Replaces the case `id` if its row is still at `version`; false when another change won.
pub async fn update_case(txn: &Txn, tenant: &TenantId, id: Uuid, case: &Case, version: i64) -> Result<bool, Error> {
    let updated = cases::Entity::update_many()
        .set(case_row(tenant, id, case, false))
        .filter(cases::Column::Id.eq(id))
        .filter(cases::Column::Version.eq(version))
        .exec(txn)
        .await?;
    Ok(updated.rows_affected > 0)
}

fn case_row(tenant: &TenantId, id: Uuid, case: &Case, new: bool) -> cases::ActiveModel {
    let time = |t: &Option<prost_types::Timestamp>| t.as_ref().and_then(from_timestamp).unwrap_or_else(now);
    let mut row = cases::ActiveModel {
        id: Set(id),
        tenant: Set(tenant.as_str().to_string()),
        reference: Set(case.reference.clone()),
        status: Set(case.status),
        severity: Set(case.severity),
        channel: Set(case.channel),
        category: Set(case.category.clone()),
        owner: Set(case.owner.clone()),
        team: Set(case.team.clone()),
        customer_id: Set(case.customer.as_ref().map(|c| c.customer_id.clone()).unwrap_or_default()),
        unhappy: Set(case.unhappy),
        external_reference: Set((!case.external_reference.is_empty()).then(|| case.external_reference.clone())),
        version: Set(case.version),
        create_time: Set(time(&case.create_time)),
        update_time: Set(time(&case.update_time)),
        document: Set(case.encode_to_vec()),
    };
    if !new {
        // Identity, tenant, reference, channel and external reference never change.
        row.id = NotSet;
        row.tenant = NotSet;
        row.reference = NotSet;
        row.channel = NotSet;
        row.external_reference = NotSet;
        row.create_time = NotSet;
    }
    row
}

/// Appends the change's timeline entry and event.
pub async fn append(
    txn: &Txn,
    tenant: &TenantId,
    id: Uuid,
    case: &Case,
    change: &Change,
    event: &CaseEvent,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let entry = timeline_entries::ActiveModel {
        case_id: Set(id),
        position: Set(case.version),
        tenant: Set(tenant.as_str().to_string()),
        create_time: Set(now),
        document: Set(change.entry.encode_to_vec()),
    };
    timeline_entries::Entity::insert(entry).exec_without_returning(txn).await?;
    insert_event(txn, tenant, id, event, now).await
}

/// Appends `event` to the log, unnumbered, under the key `case_id` (the case, or for an event
/// of no case the id of what it tells of).
pub async fn insert_event(
    txn: &Txn,
    tenant: &TenantId,
    case_id: Uuid,
    event: &CaseEvent,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let row = events::ActiveModel {
        id: NotSet,
        sequence: Set(None),
        tenant: Set(tenant.as_str().to_string()),
        case_id: Set(case_id),
        event_type: Set(event.r#type),
        event_time: Set(now),
        payload: Set(event.encode_to_vec()),
    };
    events::Entity::insert(row).exec_without_returning(txn).await?;
    Ok(())
}

/// The tenant's stored playbook, if it changed one.
pub async fn playbook(db: &impl ConnectionTrait, tenant: &TenantId) -> Result<Option<Playbook>, Error> {
    let row = playbooks::Entity::find_by_id(tenant.as_str().to_string()).one(db).await?;
    row.map(|row| Playbook::decode(row.document.as_slice()).map_err(|e| Error::Corrupt(format!("playbook: {e}"))))
        .transpose()
}

/// Stores the tenant's playbook, changed at `now`.
pub async fn save_playbook(db: &Db, tenant: &TenantId, playbook: &Playbook, now: DateTime<Utc>) -> Result<(), Error> {
    let row = playbooks::ActiveModel {
        tenant: Set(tenant.as_str().to_string()),
        document: Set(playbook.encode_to_vec()),
        update_time: Set(now),
    };
    playbooks::Entity::insert(row)
        .on_conflict(
            OnConflict::column(playbooks::Column::Tenant)
                .update_columns([playbooks::Column::Document, playbooks::Column::UpdateTime])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

impl Store {
    /// Reads a case of `tenant`.
    pub async fn get(&self, tenant: &TenantId, id: Uuid) -> Result<Case, Error> {
        Ok(load(&self.db, tenant, id).await?.case)
    }

    /// Timeline entries of a case after `after_position`, oldest first; the flag says whether
    /// more follow.
    pub async fn timeline(
        &self,
        tenant: &TenantId,
        id: Uuid,
        after_position: i64,
        limit: u64,
    ) -> Result<(Vec<(i64, TimelineEntry)>, bool), Error> {
        find_case(&self.db, tenant, id).await?;
        let rows = timeline_entries::Entity::find()
            .filter(timeline_entries::Column::CaseId.eq(id))
            .filter(timeline_entries::Column::Tenant.eq(tenant.as_str()))
            .filter(timeline_entries::Column::Position.gt(after_position))
            .order_by_asc(timeline_entries::Column::Position)
            .limit(limit + 1)
            .all(&self.db)
            .await?;
        let more = rows.len() as u64 > limit;
        let entries = rows
            .iter()
            .take(limit as usize)
            .map(|row| {
                TimelineEntry::decode(row.document.as_slice())
                    .map(|entry| (row.position, entry))
                    .map_err(|e| Error::Corrupt(format!("timeline entry {} of case {id}: {e}", row.position)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((entries, more))
    }

    /// One timeline entry by its position.
    pub async fn entry(&self, tenant: &TenantId, id: Uuid, position: i64) -> Result<TimelineEntry, Error> {
        let row = timeline_entries::Entity::find_by_id((id, position))
            .filter(timeline_entries::Column::Tenant.eq(tenant.as_str()))
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::NotFound(format!("{}/timeline/{position}", case_name(tenant, id))))?;
        TimelineEntry::decode(row.document.as_slice()).map_err(|e| Error::Corrupt(format!("timeline entry: {e}")))
    }
}
