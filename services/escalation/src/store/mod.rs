//! Persistence of the escalation service: directory data, the cases being timed, their clocks
//! (the truth of every deadline), escalations, and the outbox of calls owed to other services.

pub mod directory;
pub mod due;
pub mod effects;
pub mod entities;

use std::time::Duration;

use chrono::{DateTime, Utc};
use jiff::Timestamp;
use prost::Message;
use redress_proto::escalation::v1::{Calendar as CalendarProto, ClockState, SlaPolicy};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter};
use tokio::sync::{Mutex, MutexGuard};
use uuid::Uuid;

use crate::domain::Calendar;
use crate::domain::clock::Clock;
use crate::domain::policy::{self, Step};
use crate::error::Error;
use entities::{clocks, timed_cases};

/// The escalation service's store.
pub struct Store {
    /// The database.
    pub db: DatabaseConnection,
    /// SQLite allows one writer: writes take turns within the process instead of failing busy.
    serial: Option<Mutex<()>>,
}

impl Store {
    /// A store over a migrated database.
    pub fn new(db: DatabaseConnection) -> Self {
        let serial = (db.get_database_backend() == DatabaseBackend::Sqlite).then(|| Mutex::new(()));
        Self { db, serial }
    }

    /// Waits for this process's turn to write, on SQLite.
    pub async fn turn(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.serial {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
    }
}

/// The current time, to the microsecond both databases keep.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// A database time as a domain instant.
pub fn instant(at: DateTime<Utc>) -> Timestamp {
    Timestamp::from_microsecond(at.timestamp_micros()).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A domain instant as a database time.
pub fn datetime(at: Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.as_microsecond()).unwrap_or_default()
}

/// A proto time as a domain instant.
pub fn from_proto_time(at: &prost_types::Timestamp) -> Option<Timestamp> {
    Timestamp::new(at.seconds, at.nanos).ok()
}

/// A domain instant as a proto time.
pub fn proto_time(at: Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: at.as_second(), nanos: at.subsec_nanosecond() }
}

/// A duration as a proto duration.
pub fn proto_duration(d: Duration) -> prost_types::Duration {
    prost_types::Duration { seconds: d.as_secs() as i64, nanos: d.subsec_nanos() as i32 }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn from_ms(v: i64) -> Duration {
    Duration::from_millis(v.max(0) as u64)
}

/// A clock from its row.
pub fn clock_of(row: &clocks::Model) -> Clock {
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
pub fn clock_row(tenant: &str, case_id: Uuid, clock: &Clock, next_fire: Option<Timestamp>) -> clocks::ActiveModel {
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

/// Everything needed to act on a timed case's clocks.
pub struct Timing {
    /// The case as last seen.
    pub case: timed_cases::Model,
    /// The calendar its clocks run in.
    pub calendar: Calendar,
    /// The policy its clocks started under, if any.
    pub policy: Option<SlaPolicy>,
    /// The policy's ladder.
    pub ladder: Vec<Step>,
}

impl Timing {
    /// The timing of a case row.
    pub fn of(case: timed_cases::Model) -> Result<Self, Error> {
        let calendar = if case.calendar_document.is_empty() {
            Calendar::always_open()
        } else {
            let proto = CalendarProto::decode(case.calendar_document.as_slice())
                .map_err(|e| Error::Corrupt(format!("calendar of case {}: {e}", case.case_id)))?;
            Calendar::from_proto("calendar", &proto)
                .map_err(|e| Error::Corrupt(format!("calendar of case {}: {e}", case.case_id)))?
        };
        let policy = if case.policy_document.is_empty() {
            None
        } else {
            Some(
                SlaPolicy::decode(case.policy_document.as_slice())
                    .map_err(|e| Error::Corrupt(format!("policy of case {}: {e}", case.case_id)))?,
            )
        };
        let ladder = policy.as_ref().map(policy::ladder).unwrap_or_default();
        Ok(Self { case, calendar, policy, ladder })
    }
}

/// The timed case with `case_id`, of any tenant.
pub async fn timed_case(db: &impl ConnectionTrait, case_id: Uuid) -> Result<Option<timed_cases::Model>, Error> {
    Ok(timed_cases::Entity::find_by_id(case_id).one(db).await?)
}

/// The clocks of a case.
pub async fn clocks_of(db: &impl ConnectionTrait, case_id: Uuid) -> Result<Vec<clocks::Model>, Error> {
    Ok(clocks::Entity::find().filter(clocks::Column::CaseId.eq(case_id)).all(db).await?)
}

/// The timed cases among `ids`.
pub async fn timed_cases_in(db: &impl ConnectionTrait, ids: Vec<Uuid>) -> Result<Vec<timed_cases::Model>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(timed_cases::Entity::find().filter(timed_cases::Column::CaseId.is_in(ids)).all(db).await?)
}
