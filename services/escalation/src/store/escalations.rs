//! Escalations that fired: one per idempotency key, ever.

use jiff::Timestamp;
use prost::Message;
use redress_proto::escalation::v1::Escalation;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TryInsertResult,
};
use uuid::Uuid;

use super::entities::{escalations, timed_cases};
use super::{Store, datetime};
use crate::error::Error;

/// A stored escalation with the columns it is found by.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    /// The escalation id.
    pub id: Uuid,
    /// The case id.
    pub case_id: Uuid,
    /// `SlaClockKind` number, 0 for none.
    pub clock: i32,
    /// The escalation.
    pub escalation: Escalation,
}

fn decode(row: &escalations::Model) -> Result<Escalation, Error> {
    Escalation::decode(row.document.as_slice()).map_err(|e| Error::Corrupt(format!("escalation: {e}")))
}

fn fired(row: &escalations::Model) -> Result<Fired, Error> {
    Ok(Fired { id: row.id, case_id: row.case_id, clock: row.clock, escalation: decode(row)? })
}

/// Records `escalation` (id `id`) of `tenant`'s case `case_id` under its idempotency `key`;
/// false when the key was used before and nothing was written.
pub async fn insert(
    db: &impl ConnectionTrait,
    tenant: &str,
    id: Uuid,
    case_id: Uuid,
    key: &str,
    at: Timestamp,
    escalation: &Escalation,
) -> Result<bool, Error> {
    let row = escalations::ActiveModel {
        id: Set(id),
        tenant: Set(tenant.into()),
        case_id: Set(case_id),
        escalation_key: Set(key.into()),
        clock: Set(escalation.clock),
        level: Set(escalation.level),
        acknowledged: Set(escalation.acknowledged),
        escalate_time: Set(datetime(at)),
        document: Set(escalation.encode_to_vec()),
    };
    let unique = [escalations::Column::Tenant, escalations::Column::EscalationKey];
    let inserted =
        escalations::Entity::insert(row).on_conflict_do_nothing_on(unique).exec_without_returning(db).await?;
    Ok(matches!(inserted, TryInsertResult::Inserted(n) if n > 0))
}

/// `tenant`'s escalation with `id`.
pub async fn find(db: &impl ConnectionTrait, tenant: &str, id: Uuid) -> Result<Option<Fired>, Error> {
    let row = escalations::Entity::find_by_id(id).filter(escalations::Column::Tenant.eq(tenant)).one(db).await?;
    row.as_ref().map(fired).transpose()
}

/// Stores an escalation as acknowledged.
pub async fn save_acknowledged(db: &impl ConnectionTrait, id: Uuid, escalation: &Escalation) -> Result<(), Error> {
    escalations::Entity::update(escalations::ActiveModel {
        id: Set(id),
        acknowledged: Set(true),
        document: Set(escalation.encode_to_vec()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// Which of a tenant's escalations a list shows, newest first.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this case's.
    pub case_id: Option<Uuid>,
    /// Only those of cases this caller may see: owned by `actor`, unassigned, or of `team`.
    pub visible_to: Option<Visible>,
    /// Only at this level.
    pub level: Option<i32>,
    /// Only acknowledged (or only not).
    pub acknowledged: Option<bool>,
    /// Only older than this escalation id.
    pub before: Option<Uuid>,
}

/// A scoped caller, as far as the cases it sees.
#[derive(Debug, Clone, Default)]
pub struct Visible {
    /// The caller's staff id.
    pub actor: String,
    /// The caller's team, if scoped to one.
    pub team: Option<String>,
}

impl Store {
    /// `tenant`'s escalation with idempotency `key`.
    pub async fn escalation_by_key(&self, tenant: &str, key: &str) -> Result<Option<Escalation>, Error> {
        let row = escalations::Entity::find()
            .filter(escalations::Column::Tenant.eq(tenant))
            .filter(escalations::Column::EscalationKey.eq(key))
            .one(&self.db)
            .await?;
        row.as_ref().map(decode).transpose()
    }

    /// Up to `limit` of `tenant`'s escalations that pass `filter`, newest first.
    pub async fn escalations(&self, tenant: &str, filter: &Filter, limit: u64) -> Result<Vec<Fired>, Error> {
        let mut query = escalations::Entity::find().filter(escalations::Column::Tenant.eq(tenant));
        if let Some(id) = filter.case_id {
            query = query.filter(escalations::Column::CaseId.eq(id));
        } else if let Some(visible) = &filter.visible_to {
            use timed_cases::Column as T;
            let mut seen = Condition::any()
                .add(T::Owner.eq(visible.actor.as_str()))
                .add(Condition::all().add(T::Owner.eq("")).add(T::Team.eq("")));
            if let Some(team) = visible.team.as_deref().filter(|t| !t.is_empty()) {
                seen = seen.add(T::Team.eq(team));
            }
            let cases = Query::select()
                .column(T::CaseId)
                .from(timed_cases::Entity)
                .and_where(T::Tenant.eq(tenant))
                .cond_where(seen)
                .to_owned();
            query = query.filter(escalations::Column::CaseId.in_subquery(cases));
        }
        if let Some(level) = filter.level {
            query = query.filter(escalations::Column::Level.eq(level));
        }
        if let Some(acknowledged) = filter.acknowledged {
            query = query.filter(escalations::Column::Acknowledged.eq(acknowledged));
        }
        if let Some(before) = filter.before {
            query = query.filter(escalations::Column::Id.lt(before));
        }
        let rows = query.order_by_desc(escalations::Column::Id).limit(limit).all(&self.db).await?;
        rows.iter().map(fired).collect()
    }
}
