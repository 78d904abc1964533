//! The cases being timed, as their events last described them, and their clocks.

use std::time::Duration;

use jiff::Timestamp;
use redress_proto::escalation::v1::ClockState;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, Iterable, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::entities::{clocks, timed_cases};
use super::{Store, datetime, instant};
use crate::domain::clock::Clock;
use crate::error::Error;

/// A case whose clocks this service keeps.
pub type TimedCase = timed_cases::Model;

/// The timed case with `case_id`, of any tenant.
pub async fn timed_case(db: &impl ConnectionTrait, case_id: Uuid) -> Result<Option<TimedCase>, Error> {
    Ok(timed_cases::Entity::find_by_id(case_id).one(db).await?)
}

/// Records a case seen for the first time.
pub async fn insert_timed_case(db: &impl ConnectionTrait, case: &TimedCase) -> Result<(), Error> {
    let active: timed_cases::ActiveModel = case.clone().into();
    timed_cases::Entity::insert(active).exec_without_returning(db).await?;
    Ok(())
}

/// Keeps what a case event may change: owner, team, status, reopen count and subject.
pub async fn update_timed_case(db: &impl ConnectionTrait, case: &TimedCase) -> Result<(), Error> {
    timed_cases::Entity::update(timed_cases::ActiveModel {
        case_id: Set(case.case_id),
        owner: Set(case.owner.clone()),
        team: Set(case.team.clone()),
        status: Set(case.status),
        reopen_count: Set(case.reopen_count),
        subject: Set(case.subject.clone()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// Records that the case's unhappy customer was escalated in `round`.
pub async fn mark_unhappy_escalated(db: &impl ConnectionTrait, case_id: Uuid, round: i32) -> Result<(), Error> {
    timed_cases::Entity::update(timed_cases::ActiveModel {
        case_id: Set(case_id),
        unhappy_escalated: Set(round),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// The clocks of a case.
pub async fn clocks_of(db: &impl ConnectionTrait, case_id: Uuid) -> Result<Vec<Clock>, Error> {
    let rows = clocks::Entity::find().filter(clocks::Column::CaseId.eq(case_id)).all(db).await?;
    Ok(rows.iter().map(clock_of).collect())
}

/// One clock of a case, by kind.
pub async fn clock(db: &impl ConnectionTrait, case_id: Uuid, kind: i32) -> Result<Option<Clock>, Error> {
    Ok(clocks::Entity::find_by_id((case_id, kind)).one(db).await?.as_ref().map(clock_of))
}

/// Writes a clock of `tenant`'s case `case_id` and when it next fires.
pub async fn save_clock(
    db: &impl ConnectionTrait,
    tenant: &str,
    case_id: Uuid,
    clock: &Clock,
    next_fire: Option<Timestamp>,
) -> Result<(), Error> {
    let rest = clocks::Column::iter().filter(|c| !matches!(c, clocks::Column::CaseId | clocks::Column::Kind));
    clocks::Entity::insert(clock_row(tenant, case_id, clock, next_fire))
        .on_conflict(
            OnConflict::columns([clocks::Column::CaseId, clocks::Column::Kind]).update_columns(rest).to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn from_ms(v: i64) -> Duration {
    Duration::from_millis(v.max(0) as u64)
}

/// A clock from its row.
fn clock_of(row: &clocks::Model) -> Clock {
    Clock {
        kind: row.kind,
        target: from_ms(row.target_ms),
        warning: from_ms(row.warning_ms),
        used: from_ms(row.used_ms),
        since: row.since.map(instant),
        state: ClockState::try_from(row.state).unwrap_or(ClockState::Stopped),
        breached_at: row.breached_at.map(instant),
        met_at: row.met_at.map(instant),
        level: row.level,
        acknowledged: row.acknowledged,
        cycle: row.cycle,
        generation: row.generation,
    }
}

/// The row of a clock, with when it next fires.
fn clock_row(tenant: &str, case_id: Uuid, clock: &Clock, next_fire: Option<Timestamp>) -> clocks::ActiveModel {
    clocks::ActiveModel {
        case_id: Set(case_id),
        kind: Set(clock.kind),
        tenant: Set(tenant.to_string()),
        target_ms: Set(ms(clock.target)),
        warning_ms: Set(ms(clock.warning)),
        used_ms: Set(ms(clock.used)),
        since: Set(clock.since.map(datetime)),
        state: Set(clock.state as i32),
        breached_at: Set(clock.breached_at.map(datetime)),
        met_at: Set(clock.met_at.map(datetime)),
        level: Set(clock.level),
        acknowledged: Set(clock.acknowledged),
        cycle: Set(clock.cycle),
        generation: Set(clock.generation),
        next_fire: Set(next_fire.map(|t| t.as_millisecond())),
    }
}

/// A clock's scheduled deadline: the case, the clock kind, the generation of its deadlines and
/// when it next fires (epoch milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    /// The case.
    pub case_id: Uuid,
    /// The clock kind (`SlaClockKind` number).
    pub kind: i32,
    /// The generation of the clock's deadlines.
    pub generation: i32,
    /// When it fires, in milliseconds since the epoch.
    pub next_fire: i64,
}

impl Store {
    /// The timed case with `case_id`, of any tenant.
    pub async fn timed_case(&self, case_id: Uuid) -> Result<Option<TimedCase>, Error> {
        timed_case(&self.db, case_id).await
    }

    /// The timed cases among `ids`.
    pub async fn timed_cases_in(&self, ids: Vec<Uuid>) -> Result<Vec<TimedCase>, Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(timed_cases::Entity::find().filter(timed_cases::Column::CaseId.is_in(ids)).all(&self.db).await?)
    }

    /// The clocks of a case.
    pub async fn clocks_of(&self, case_id: Uuid) -> Result<Vec<Clock>, Error> {
        clocks_of(&self.db, case_id).await
    }

    /// Up to `limit` clocks with a next deadline, in (case, kind) order after `after`.
    pub async fn deadlines(&self, after: Option<(Uuid, i32)>, limit: u64) -> Result<Vec<Deadline>, Error> {
        let mut query = clocks::Entity::find().filter(clocks::Column::NextFire.is_not_null());
        if let Some((case_id, kind)) = after {
            query = query.filter(
                Condition::any()
                    .add(clocks::Column::CaseId.gt(case_id))
                    .add(Condition::all().add(clocks::Column::CaseId.eq(case_id)).add(clocks::Column::Kind.gt(kind))),
            );
        }
        let rows = query
            .order_by_asc(clocks::Column::CaseId)
            .order_by_asc(clocks::Column::Kind)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                r.next_fire.map(|next_fire| Deadline {
                    case_id: r.case_id,
                    kind: r.kind,
                    generation: r.generation,
                    next_fire,
                })
            })
            .collect())
    }
}
