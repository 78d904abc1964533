//! Persistence of cases: each change, its timeline entry, its event and its idempotency record
//! in one transaction, with optimistic concurrency on the case's version.

pub mod entities;
pub mod erase;
mod fast;
mod list;
pub mod log;
pub mod page;

pub use list::{CasePage, Visible};

use std::sync::Arc;

use chrono::{DateTime, Utc};
use prost::Message;
use redress_kit::TenantId;
use redress_proto::case::v1::{Case, CaseEvent, Playbook, TimelineEntry};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TryInsertResult,
};
use tokio::sync::{Mutex, MutexGuard};
use uuid::Uuid;

use self::log::Log;
use crate::domain::{self, Actor, Change, Command, Rules};
use crate::error::Error;
use entities::{cases, events, playbooks, requests, timeline_entries};

/// How many times a change is retried when another change to the same case wins the race.
const MAX_ATTEMPTS: usize = 16;

/// The result of a change, or of replaying a request seen before.
#[derive(Debug, Clone)]
pub struct Mutated {
    /// The case after the change (now, on a replay).
    pub case: Case,
    /// What changed; `None` when the request_id was seen before.
    pub change: Option<Change>,
    /// The resource the method returns: the case, a task or a timeline entry.
    pub resource: String,
}

/// What a change is for: the method, its idempotency key and the version the client read.
#[derive(Debug, Clone, Copy)]
pub struct Intent<'a> {
    /// The RPC making the change.
    pub method: &'static str,
    /// The client's idempotency key; empty for none.
    pub request_id: &'a str,
    /// The version the client read; 0 to skip the check.
    pub expected_version: i64,
}

/// The case service's store.
pub struct Store {
    db: DatabaseConnection,
    /// SQLite allows one writer: changes take turns within the process instead of failing busy.
    serial: Option<Mutex<()>>,
    log: Arc<Log>,
    /// The largest event a change may record, in streamed bytes ([`log::event_limit`]).
    event_limit: usize,
}

/// The current time, to the microsecond both databases keep.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// The case's resource name.
pub fn case_name(tenant: &TenantId, id: Uuid) -> String {
    format!("tenants/{tenant}/cases/{id}")
}

impl Store {
    /// A store over a migrated database, recording no event over `event_limit` streamed bytes.
    pub async fn new(db: DatabaseConnection, event_limit: usize) -> Result<Self, Error> {
        let head = log::read_head(&db).await?;
        let serial = (db.get_database_backend() == DatabaseBackend::Sqlite).then(|| Mutex::new(()));
        Ok(Self { db, serial, log: Log::new(head), event_limit })
    }

    /// The largest event, in streamed bytes: what one `StreamEvents` message carries.
    pub fn event_limit(&self) -> usize {
        self.event_limit
    }

    /// Refuses an event too large to stream, so that every event fits in one message.
    fn check_size(&self, event: &CaseEvent) -> Result<(), Error> {
        let bytes = log::streamed_len(event);
        if bytes > self.event_limit {
            return Err(Error::EventTooLarge { bytes, limit: self.event_limit });
        }
        Ok(())
    }

    /// The database.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The event log's in-process signals.
    pub fn log(&self) -> &Arc<Log> {
        &self.log
    }

    async fn turn(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.serial {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
    }

    /// Opens a case, or returns the one already opened with the same request_id or with the
    /// same channel and external reference. The flag says whether this call created it.
    pub async fn create(
        &self,
        tenant: &TenantId,
        request_id: &str,
        case: Case,
        actor: &Actor,
    ) -> Result<(Case, bool), Error> {
        for attempt in 0..MAX_ATTEMPTS {
            if attempt > 0
                && let Some(seen) = find_request(&self.db, tenant, request_id).await?
            {
                return Ok((self.replayed_case(tenant, &seen, "CreateCase").await?, false));
            }
            if !case.external_reference.is_empty() {
                let existing = cases::Entity::find()
                    .filter(cases::Column::Tenant.eq(tenant.as_str()))
                    .filter(cases::Column::Channel.eq(case.channel))
                    .filter(cases::Column::ExternalReference.eq(case.external_reference.as_str()))
                    .one(&self.db)
                    .await?;
                if let Some(row) = existing {
                    let _turn = self.turn().await;
                    let name = case_name(tenant, row.id);
                    if !insert_request(&self.db, tenant, request_id, "CreateCase", row.id, &name).await? {
                        continue;
                    }
                    return Ok((decode_case(&row)?, false));
                }
            }
            let now = now();
            let id = Uuid::now_v7();
            let mut fresh = case.clone();
            let change = domain::open(&mut fresh, case_name(tenant, id), domain::reference::for_id(id), actor, now);
            let event = event(tenant, &fresh, &change, actor, now);
            self.check_size(&event)?;
            let written = match self.db.get_database_backend() {
                DatabaseBackend::Postgres => {
                    fast::insert_case(&self.db, tenant, request_id, id, &fresh, &change, &event, now).await
                }
                _ => self.insert_case_in_transaction(tenant, request_id, id, &fresh, &change, &event, now).await,
            };
            match written {
                Ok(true) => {
                    self.log.written();
                    return Ok((fresh, true));
                }
                // The request_id was recorded by another call: replay it on the next turn.
                Ok(false) => continue,
                // Another call opened the same external reference first: return theirs next turn.
                Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Contended)
    }

    /// Writes a new case, its first entry, its event and its request in one transaction.
    /// False when the request_id was already recorded.
    #[allow(clippy::too_many_arguments)]
    async fn insert_case_in_transaction(
        &self,
        tenant: &TenantId,
        request_id: &str,
        id: Uuid,
        case: &Case,
        change: &Change,
        event: &CaseEvent,
        now: DateTime<Utc>,
    ) -> Result<bool, sea_orm::DbErr> {
        let _turn = self.turn().await;
        let txn = redress_kit::db::begin_write(&self.db).await?;
        let recorded = insert_request(&txn, tenant, request_id, "CreateCase", id, &case.name).await.map_err(db_err)?;
        if !recorded {
            txn.rollback().await?;
            return Ok(false);
        }
        cases::Entity::insert(case_row(tenant, id, case, true)).exec_without_returning(&txn).await?;
        append(&txn, tenant, id, case, change, event, now).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Reads a case of `tenant`.
    pub async fn get(&self, tenant: &TenantId, id: Uuid) -> Result<Case, Error> {
        let row = find_case(&self.db, tenant, id).await?;
        decode_case(&row)
    }

    /// Applies `command` to a case of `tenant`, with optimistic concurrency and idempotency on
    /// `request_id`. `expected_version` 0 retries races itself; otherwise a race is ABORTED.
    pub async fn mutate(
        &self,
        tenant: &TenantId,
        id: Uuid,
        intent: Intent<'_>,
        actor: &Actor,
        command: Command,
    ) -> Result<Mutated, Error> {
        let Intent { method, request_id, expected_version } = intent;
        for _ in 0..MAX_ATTEMPTS {
            let _turn = self.turn().await;
            let txn = redress_kit::db::begin_write(&self.db).await?;
            if let Some(seen) = find_request(&txn, tenant, request_id).await? {
                txn.rollback().await?;
                return self.replay(tenant, id, &seen, method).await;
            }
            let row = find_case(&txn, tenant, id).await?;
            if expected_version != 0 && row.version != expected_version {
                txn.rollback().await?;
                return Err(Error::VersionMismatch { expected: expected_version, current: row.version });
            }
            let mut case = decode_case(&row)?;
            let rules = rules_in(&txn, tenant).await?;
            let now = now();
            let change = match domain::apply(&mut case, command.clone(), actor, &rules, now) {
                Ok(change) => change,
                Err(e) => {
                    txn.rollback().await?;
                    return Err(e.into());
                }
            };
            let event = event(tenant, &case, &change, actor, now);
            if let Err(e) = self.check_size(&event) {
                txn.rollback().await?;
                return Err(e);
            }
            let updated = cases::Entity::update_many()
                .set(case_row(tenant, id, &case, false))
                .filter(cases::Column::Id.eq(id))
                .filter(cases::Column::Version.eq(row.version))
                .exec(&txn)
                .await?;
            if updated.rows_affected == 0 {
                txn.rollback().await?;
                if expected_version != 0 {
                    let current = find_case(&self.db, tenant, id).await?.version;
                    return Err(Error::VersionMismatch { expected: expected_version, current });
                }
                continue;
            }
            append(&txn, tenant, id, &case, &change, &event, now).await?;
            let resource = match (&change.task, method) {
                (Some(task), _) => task.name.clone(),
                (None, "AddTimelineEntry") => change.entry.name.clone(),
                _ => case.name.clone(),
            };
            if !insert_request(&txn, tenant, request_id, method, id, &resource).await? {
                txn.rollback().await?;
                continue;
            }
            txn.commit().await?;
            self.log.written();
            return Ok(Mutated { case, change: Some(change), resource });
        }
        Err(Error::Contended)
    }

    async fn replay(
        &self,
        tenant: &TenantId,
        id: Uuid,
        seen: &requests::Model,
        method: &str,
    ) -> Result<Mutated, Error> {
        if seen.case_id != id {
            return Err(Error::RequestIdReused { request_id: seen.request_id.clone(), method: seen.method.clone() });
        }
        let case = self.replayed_case(tenant, seen, method).await?;
        Ok(Mutated { case, change: None, resource: seen.resource.clone() })
    }

    async fn replayed_case(&self, tenant: &TenantId, seen: &requests::Model, method: &str) -> Result<Case, Error> {
        if seen.method != method {
            return Err(Error::RequestIdReused { request_id: seen.request_id.clone(), method: seen.method.clone() });
        }
        self.get(tenant, seen.case_id).await
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

    /// The tenant's rules and when they last changed.
    pub async fn playbook(&self, tenant: &TenantId) -> Result<Playbook, Error> {
        let row = playbooks::Entity::find_by_id(tenant.as_str().to_string()).one(&self.db).await?;
        Ok(match row {
            Some(row) => {
                Playbook::decode(row.document.as_slice()).map_err(|e| Error::Corrupt(format!("playbook: {e}")))?
            }
            None => Rules::default().to_playbook(tenant.as_str()),
        })
    }

    /// Stores the tenant's playbook.
    pub async fn save_playbook(&self, tenant: &TenantId, mut playbook: Playbook) -> Result<Playbook, Error> {
        let now = now();
        playbook.name = format!("tenants/{tenant}/playbook");
        playbook.update_time = Some(domain::commands::timestamp(now));
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
            .exec_without_returning(&self.db)
            .await?;
        Ok(playbook)
    }

    /// Numbers committed events (one pass); SQLite's single writer takes its turn.
    pub async fn sequence(&self) -> Result<u64, sea_orm::DbErr> {
        let _turn = self.turn().await;
        log::sequence_pass(&self.db, &self.log).await
    }

    /// Events after `after` and up to `upto` for one tenant or all, of some types or all: at
    /// most `limit`, and about one `StreamEvents` message's worth of bytes.
    pub async fn events(
        &self,
        after: i64,
        upto: i64,
        tenant: Option<&str>,
        types: &[i32],
        limit: u64,
    ) -> Result<log::Page, Error> {
        Ok(log::read(&self.db, after, upto, tenant, types, limit, self.event_limit).await?)
    }
}

async fn rules_in(txn: &DatabaseTransaction, tenant: &TenantId) -> Result<Rules, Error> {
    let row = playbooks::Entity::find_by_id(tenant.as_str().to_string()).one(txn).await?;
    match row {
        Some(row) => {
            let playbook =
                Playbook::decode(row.document.as_slice()).map_err(|e| Error::Corrupt(format!("playbook: {e}")))?;
            Ok(Rules::from_playbook(&playbook))
        }
        None => Ok(Rules::default()),
    }
}

async fn find_case(db: &impl sea_orm::ConnectionTrait, tenant: &TenantId, id: Uuid) -> Result<cases::Model, Error> {
    cases::Entity::find_by_id(id)
        .filter(cases::Column::Tenant.eq(tenant.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(case_name(tenant, id)))
}

fn decode_case(row: &cases::Model) -> Result<Case, Error> {
    Case::decode(row.document.as_slice()).map_err(|e| Error::Corrupt(format!("case {}: {e}", row.id)))
}

async fn find_request(
    txn: &impl sea_orm::ConnectionTrait,
    tenant: &TenantId,
    request_id: &str,
) -> Result<Option<requests::Model>, Error> {
    if request_id.is_empty() {
        return Ok(None);
    }
    Ok(requests::Entity::find_by_id((tenant.as_str().to_string(), request_id.to_string())).one(txn).await?)
}

/// Records a request_id; false if another transaction recorded it first.
async fn insert_request(
    txn: &impl sea_orm::ConnectionTrait,
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
    let result = requests::Entity::insert(row).on_conflict_do_nothing().exec_without_returning(txn).await?;
    Ok(matches!(result, TryInsertResult::Inserted(n) if n > 0))
}

fn case_row(tenant: &TenantId, id: Uuid, case: &Case, new: bool) -> cases::ActiveModel {
    let time =
        |t: &Option<prost_types::Timestamp>| t.as_ref().and_then(domain::commands::from_timestamp).unwrap_or_else(now);
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
        row.id = sea_orm::ActiveValue::NotSet;
        row.tenant = sea_orm::ActiveValue::NotSet;
        row.reference = sea_orm::ActiveValue::NotSet;
        row.channel = sea_orm::ActiveValue::NotSet;
        row.external_reference = sea_orm::ActiveValue::NotSet;
        row.create_time = sea_orm::ActiveValue::NotSet;
    }
    row
}

/// The event a change writes (its sequence is given later, by the sequencer).
pub(crate) fn event(tenant: &TenantId, case: &Case, change: &Change, actor: &Actor, now: DateTime<Utc>) -> CaseEvent {
    CaseEvent {
        sequence: 0,
        event_id: Uuid::now_v7().to_string(),
        tenant: tenant.as_str().to_string(),
        r#type: change.event_type as i32,
        event_time: Some(domain::commands::timestamp(now)),
        actor: actor.id.clone(),
        case: Some(case.clone()),
        previous_status: change.previous_status as i32,
        timeline_entry: Some(change.entry.clone()),
        task: change.task.clone(),
        offer: change.offer.clone(),
        escalation: change.escalation.clone(),
        erasure: change.erasure.clone(),
    }
}

fn db_err(error: Error) -> sea_orm::DbErr {
    match error {
        Error::Database(e) => e,
        other => sea_orm::DbErr::Custom(other.to_string()),
    }
}

/// Appends the change's timeline entry and event.
async fn append(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    id: Uuid,
    case: &Case,
    change: &Change,
    event: &CaseEvent,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let entry = timeline_entries::ActiveModel {
        case_id: Set(id),
        position: Set(case.version),
        tenant: Set(tenant.as_str().to_string()),
        create_time: Set(now),
        document: Set(change.entry.encode_to_vec()),
    };
    timeline_entries::Entity::insert(entry).exec_without_returning(txn).await?;
    let row = events::ActiveModel {
        id: sea_orm::ActiveValue::NotSet,
        sequence: Set(None),
        tenant: Set(tenant.as_str().to_string()),
        case_id: Set(id),
        event_type: Set(change.event_type as i32),
        event_time: Set(now),
        payload: Set(event.encode_to_vec()),
    };
    events::Entity::insert(row).exec_without_returning(txn).await?;
    Ok(())
}
