//! SLA policies, calendars and the staff directory.

use prost::Message;
use redress_kit::time::{now, timestamp};
use redress_proto::common::v1::StaffRole;
use redress_proto::escalation::v1::{Calendar, SlaPolicy, StaffMember};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, Iterable, QueryFilter, QueryOrder, QuerySelect, SqlErr};
use uuid::Uuid;

use super::Store;
use super::entities::{Requested, calendars, sla_policies, staff};
use crate::error::Error;

fn decode<T: Message + Default>(bytes: &[u8], what: &str) -> Result<T, Error> {
    T::decode(bytes).map_err(|e| Error::Corrupt(format!("{what}: {e}")))
}

/// A document that gets its resource name and times when it is created.
trait Stamped: Message + Default {
    /// Sets the name and the creation and update times.
    fn stamp(&mut self, name: String, at: prost_types::Timestamp);
}

macro_rules! stamped {
    ($($message:ty),*) => {$(
        impl Stamped for $message {
            fn stamp(&mut self, name: String, at: prost_types::Timestamp) {
                (self.name, self.create_time, self.update_time) = (name, Some(at), Some(at));
            }
        }
    )*};
}

stamped!(SlaPolicy, Calendar);

impl Store {
    /// The document `tenant` created with `request_id` in `E`, if any.
    async fn by_request<E: Requested, T: Message + Default>(
        &self,
        tenant: &str,
        request_id: &str,
        what: &str,
    ) -> Result<Option<T>, Error> {
        let row = E::find().filter(E::TENANT.eq(tenant)).filter(E::REQUEST.eq(request_id)).one(&self.db).await?;
        row.map(|r| decode(E::document(&r), what)).transpose()
    }

    /// Creates `value` in `E` as `tenant`'s `collection`, once per `request_id`: a retry, or a
    /// concurrent create that got there first, returns the first. `extra` sets the table's
    /// own columns.
    async fn create<E: Requested, T: Stamped>(
        &self,
        (tenant, request_id): (&str, &str),
        (collection, what): (&str, &str),
        mut value: T,
        extra: impl FnOnce(&T, &mut E::ActiveModel),
    ) -> Result<T, Error>
    where
        E::ActiveModel: Send,
    {
        if let Some(existing) = self.by_request::<E, T>(tenant, request_id, what).await? {
            return Ok(existing);
        }
        let (id, at) = (Uuid::now_v7().to_string(), now());
        value.stamp(format!("tenants/{tenant}/{collection}/{id}"), timestamp(at));
        let mut row = E::row(tenant, &id, request_id, value.encode_to_vec(), at);
        extra(&value, &mut row);
        let _turn = self.turn().await;
        match E::insert(row).exec_without_returning(&self.db).await {
            Ok(_) => Ok(value),
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => self
                .by_request::<E, T>(tenant, request_id, what)
                .await?
                .ok_or_else(|| Error::Corrupt(format!("{what} request vanished"))),
            Err(e) => Err(e.into()),
        }
    }

    /// Creates a policy; a retry with the same request_id returns the first.
    pub async fn create_policy(&self, tenant: &str, request_id: &str, policy: SlaPolicy) -> Result<SlaPolicy, Error> {
        let keys = (tenant, request_id);
        self.create::<sla_policies::Entity, _>(keys, ("slaPolicies", "policy"), policy, |policy, row| {
            row.priority = Set(policy.priority);
        })
        .await
    }

    /// A policy by id.
    pub async fn policy(&self, tenant: &str, id: &str) -> Result<SlaPolicy, Error> {
        let row = sla_policies::Entity::find_by_id((tenant.to_string(), id.to_string()))
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::NotFound(format!("tenants/{tenant}/slaPolicies/{id}")))?;
        decode(&row.document, "policy")
    }

    /// Every policy of a tenant, in priority order.
    pub async fn policies(&self, tenant: &str) -> Result<Vec<SlaPolicy>, Error> {
        policies(&self.db, tenant).await
    }

    /// Replaces a stored policy.
    pub async fn save_policy(&self, tenant: &str, id: &str, mut policy: SlaPolicy) -> Result<SlaPolicy, Error> {
        let at = now();
        policy.update_time = Some(timestamp(at));
        let _turn = self.turn().await;
        let result = sla_policies::Entity::update_many()
            .col_expr(sla_policies::Column::Priority, policy.priority.into())
            .col_expr(sla_policies::Column::Document, policy.encode_to_vec().into())
            .col_expr(sla_policies::Column::UpdateTime, at.into())
            .filter(sla_policies::Column::Tenant.eq(tenant))
            .filter(sla_policies::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        if result.rows_affected == 0 {
            return Err(Error::NotFound(format!("tenants/{tenant}/slaPolicies/{id}")));
        }
        Ok(policy)
    }

    /// Deletes a policy.
    pub async fn delete_policy(&self, tenant: &str, id: &str) -> Result<(), Error> {
        let _turn = self.turn().await;
        let result = sla_policies::Entity::delete_by_id((tenant.to_string(), id.to_string())).exec(&self.db).await?;
        if result.rows_affected == 0 {
            return Err(Error::NotFound(format!("tenants/{tenant}/slaPolicies/{id}")));
        }
        Ok(())
    }

    /// Creates a calendar; a retry with the same request_id returns the first.
    pub async fn create_calendar(&self, tenant: &str, request_id: &str, calendar: Calendar) -> Result<Calendar, Error> {
        let keys = (tenant, request_id);
        self.create::<calendars::Entity, _>(keys, ("calendars", "calendar"), calendar, |_, _| {}).await
    }

    /// A calendar by id.
    pub async fn calendar(&self, tenant: &str, id: &str) -> Result<Calendar, Error> {
        calendar(&self.db, tenant, id).await
    }

    /// A page of calendars after `after` (an id).
    pub async fn calendars(&self, tenant: &str, after: &str, limit: u64) -> Result<Vec<(String, Calendar)>, Error> {
        let rows = calendars::Entity::find()
            .filter(calendars::Column::Tenant.eq(tenant))
            .filter(calendars::Column::Id.gt(after))
            .order_by_asc(calendars::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        rows.iter().map(|r| Ok((r.id.clone(), decode(&r.document, "calendar")?))).collect()
    }

    /// Creates or replaces a member of staff; true when created.
    pub async fn upsert_staff(
        &self,
        tenant: &str,
        id: &str,
        mut member: StaffMember,
    ) -> Result<(StaffMember, bool), Error> {
        let existing = staff::Entity::find_by_id((tenant.to_string(), id.to_string())).one(&self.db).await?;
        let at = timestamp(now());
        member.create_time = match &existing {
            Some(row) => decode::<StaffMember>(&row.document, "staff")?.create_time,
            None => Some(at),
        };
        member.update_time = Some(at);
        let row = staff::ActiveModel {
            tenant: Set(tenant.into()),
            id: Set(id.into()),
            role: Set(member.role),
            team: Set(member.team.clone()),
            region: Set(member.region.clone()),
            active: Set(member.active),
            document: Set(member.encode_to_vec()),
        };
        let _turn = self.turn().await;
        staff::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([staff::Column::Tenant, staff::Column::Id])
                    .update_columns(
                        staff::Column::iter().filter(|c| !matches!(c, staff::Column::Tenant | staff::Column::Id)),
                    )
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        Ok((member, existing.is_none()))
    }

    /// A page of the directory after `after` (an id), filtered.
    pub async fn staff(
        &self,
        tenant: &str,
        role: i32,
        team: &str,
        region: &str,
        after: &str,
        limit: u64,
    ) -> Result<Vec<(String, StaffMember)>, Error> {
        let mut query =
            staff::Entity::find().filter(staff::Column::Tenant.eq(tenant)).filter(staff::Column::Id.gt(after));
        if role != 0 {
            query = query.filter(staff::Column::Role.eq(role));
        }
        if !team.is_empty() {
            query = query.filter(staff::Column::Team.eq(team));
        }
        if !region.is_empty() {
            query = query.filter(staff::Column::Region.eq(region));
        }
        let rows = query.order_by_asc(staff::Column::Id).limit(limit).all(&self.db).await?;
        rows.iter().map(|r| Ok((r.id.clone(), decode(&r.document, "staff")?))).collect()
    }
}

/// Every policy of a tenant, in priority order.
pub async fn policies(db: &impl ConnectionTrait, tenant: &str) -> Result<Vec<SlaPolicy>, Error> {
    let rows = sla_policies::Entity::find()
        .filter(sla_policies::Column::Tenant.eq(tenant))
        .order_by_asc(sla_policies::Column::Priority)
        .order_by_asc(sla_policies::Column::Id)
        .all(db)
        .await?;
    rows.iter().map(|r| decode(&r.document, "policy")).collect()
}

/// A calendar by id.
pub async fn calendar(db: &impl ConnectionTrait, tenant: &str, id: &str) -> Result<Calendar, Error> {
    let row = calendars::Entity::find_by_id((tenant.to_string(), id.to_string()))
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("tenants/{tenant}/calendars/{id}")))?;
    decode(&row.document, "calendar")
}

/// One member of staff by id, if active.
pub async fn member(db: &impl ConnectionTrait, tenant: &str, id: &str) -> Result<Option<StaffMember>, Error> {
    let row = staff::Entity::find_by_id((tenant.to_string(), id.to_string())).one(db).await?;
    match row {
        Some(row) if row.active => Ok(Some(decode(&row.document, "staff")?)),
        _ => Ok(None),
    }
}

/// The active staff with `role` for a case of `team` whose owner works in `region`.
///
/// Team leads and managers are looked for in the case's team first, then anywhere in the
/// tenant; regional directors in the owner's region first, then anywhere; customer care and
/// senior leaders anywhere.
pub async fn with_role(
    db: &impl ConnectionTrait,
    tenant: &str,
    role: StaffRole,
    team: &str,
    region: &str,
) -> Result<Vec<StaffMember>, Error> {
    let base = || {
        staff::Entity::find()
            .filter(staff::Column::Tenant.eq(tenant))
            .filter(staff::Column::Role.eq(role as i32))
            .filter(staff::Column::Active.eq(true))
            .order_by_asc(staff::Column::Id)
    };
    let narrowed = match role {
        StaffRole::TeamLead | StaffRole::Manager | StaffRole::Agent if !team.is_empty() => {
            Some(base().filter(staff::Column::Team.eq(team)).all(db).await?)
        }
        StaffRole::RegionalDirector if !region.is_empty() => {
            Some(base().filter(staff::Column::Region.eq(region)).all(db).await?)
        }
        _ => None,
    };
    let rows = match narrowed {
        Some(rows) if !rows.is_empty() => rows,
        _ => base().limit(20).all(db).await?,
    };
    rows.iter().map(|r| decode(&r.document, "staff")).collect()
}

/// The active staff with `role` in `team` only; none when the team is empty.
pub async fn in_team(
    db: &impl ConnectionTrait,
    tenant: &str,
    role: StaffRole,
    team: &str,
) -> Result<Vec<StaffMember>, Error> {
    if team.is_empty() {
        return Ok(Vec::new());
    }
    let rows = staff::Entity::find()
        .filter(staff::Column::Tenant.eq(tenant))
        .filter(staff::Column::Role.eq(role as i32))
        .filter(staff::Column::Team.eq(team))
        .filter(staff::Column::Active.eq(true))
        .order_by_asc(staff::Column::Id)
        .limit(20)
        .all(db)
        .await?;
    rows.iter().map(|r| decode(&r.document, "staff")).collect()
}
