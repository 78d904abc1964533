//! The outbox of calls owed to other services: alerts to send, escalations, tasks and SLA states
//! to record on cases. An effect is written in the same transaction as the decision that owes
//! it, delivered with its idempotency key, and retried until it is accepted, so a crash
//! between deciding and calling loses nothing and a retry duplicates nothing.

use std::time::Duration;

use prost::Message;
use redress_kit::db::{begin_write, statement};
use redress_kit::time::now;
use redress_proto::notification::v1::{SendNotificationRequest, notification};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::entities::effects;
use super::{Store, postgres};
use crate::error::Error;

/// A call owed, as stored.
pub type Effect = effects::Model;

/// What an effect calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// NotificationService.SendNotification.
    Notify,
    /// CaseService.RecordEscalation.
    Record,
    /// CaseService.CreateTask.
    Task,
    /// CaseService.RecordSlaStatus.
    Sla,
}

impl Kind {
    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Notify => "notify",
            Kind::Record => "record",
            Kind::Task => "task",
            Kind::Sla => "sla",
        }
    }

    /// The kind of a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "notify" => Kind::Notify,
            "record" => Kind::Record,
            "task" => Kind::Task,
            "sla" => Kind::Sla,
            _ => return None,
        })
    }
}

/// Owes a call; a second effect with the same kind and request_id is ignored.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    tenant: &str,
    kind: Kind,
    request_id: &str,
    payload: Vec<u8>,
) -> Result<(), Error> {
    let row = effects::ActiveModel {
        id: NotSet,
        tenant: Set(tenant.into()),
        kind: Set(kind.name().into()),
        request_id: Set(request_id.into()),
        payload: Set(payload),
        attempts: Set(0),
        next_attempt: Set(now()),
        last_error: Set(String::new()),
        done: Set(false),
    };
    effects::Entity::insert(row).on_conflict_do_nothing().exec_without_returning(db).await?;
    Ok(())
}

impl Store {
    /// Takes up to `limit` due effects, hiding them from other workers for `lease`.
    pub async fn claim_effects(&self, limit: u64, lease: Duration) -> Result<Vec<Effect>, Error> {
        let _turn = self.turn().await;
        let txn = begin_write(&self.db).await?;
        let at = now();
        let mut query = effects::Entity::find()
            .filter(effects::Column::Done.eq(false))
            .filter(effects::Column::NextAttempt.lte(at))
            .order_by_asc(effects::Column::NextAttempt)
            .limit(limit);
        if postgres(&txn) {
            query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let rows = query.all(&txn).await?;
        if !rows.is_empty() {
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            effects::Entity::update_many()
                .col_expr(effects::Column::NextAttempt, later(lease).into())
                .filter(effects::Column::Id.is_in(ids))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(rows)
    }

    /// Records attempt number `attempts` of effect `id`: delivered, or given up on with
    /// `error`, when `retry_after` is `None`; otherwise failed with `error`, to be tried again
    /// after `retry_after`.
    pub async fn record_attempt(
        &self,
        id: i64,
        attempts: i32,
        retry_after: Option<Duration>,
        error: &str,
    ) -> Result<(), Error> {
        let _turn = self.turn().await;
        let mut update = effects::Entity::update_many()
            .col_expr(effects::Column::Attempts, attempts.into())
            .col_expr(effects::Column::LastError, error.into());
        update = match retry_after {
            Some(delay) => update.col_expr(effects::Column::NextAttempt, later(delay).into()),
            None => update.col_expr(effects::Column::Done, true.into()),
        };
        update.filter(effects::Column::Id.eq(id)).exec(&self.db).await?;
        Ok(())
    }

    /// When the next pending effect is due, if any.
    pub async fn next_effect(&self) -> Result<Option<chrono::DateTime<chrono::Utc>>, Error> {
        let row = effects::Entity::find()
            .filter(effects::Column::Done.eq(false))
            .order_by_asc(effects::Column::NextAttempt)
            .one(&self.db)
            .await?;
        Ok(row.map(|r| r.next_attempt))
    }
}

/// Removes the customer's words from the alerts owed or sent about `case_name` of `tenant`,
/// whose customer's personal data was erased (see `redress_kit::personal`). The other effects
/// carry no personal data. Returns how many were rewritten.
pub async fn erase_case(db: &impl ConnectionTrait, tenant: &str, case_name: &str) -> Result<usize, Error> {
    // Only rows whose payload names the case can be about it.
    let names = if postgres(db) { "position($3::bytea in payload) > 0" } else { "instr(payload, $3) > 0" };
    let text = format!("SELECT * FROM effects WHERE tenant = $1 AND kind = $2 AND {names}");
    let values = [tenant.into(), Kind::Notify.name().into(), case_name.as_bytes().to_vec().into()];
    let rows =
        effects::Entity::find().from_raw_sql(statement(db.get_database_backend(), &text, values)).all(db).await?;
    let mut rewritten = 0;
    for row in rows {
        let Ok(mut request) = SendNotificationRequest::decode(row.payload.as_slice()) else { continue };
        let Some(n) = request.notification.as_mut().filter(|n| n.case == case_name) else { continue };
        if let Some(notification::Content::Template(template)) = n.content.as_mut()
            && let Some(variables) = template.variables.as_mut()
        {
            redress_kit::personal::redact_variables(variables);
        }
        effects::Entity::update(effects::ActiveModel {
            id: Set(row.id),
            payload: Set(request.encode_to_vec()),
            ..Default::default()
        })
        .exec(db)
        .await?;
        rewritten += 1;
    }
    Ok(rewritten)
}

/// The time `delay` from now, as the database keeps it.
fn later(delay: Duration) -> chrono::DateTime<chrono::Utc> {
    now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::seconds(30))
}
