//! Case events → SLA clocks. The timekeeper consumes the case event stream and, in the same
//! transaction as its cursor, starts clocks when a case opens (under the first matching policy,
//! from the case's creation time), meets first response on acknowledgement, resets next update
//! on every customer-facing update, pauses while the case awaits the customer, meets resolution
//! on RESOLVED, stops everything on CLOSED and restarts on REOPENED. An unhappy customer is
//! escalated at once. Timers for the new deadlines go into the index after the commit.

use std::sync::{Arc, Mutex};

use prost::Message;
use redress_kit::consumer::EventHandler;
use redress_proto::case::v1::{
    Case, CaseEvent, CaseEventType, CaseStatus, RecordSlaStatusRequest, SlaStatus, TimelineEntryKind, Visibility,
};
use redress_proto::common::v1::{Channel, Severity, SlaClockKind};
use redress_proto::escalation::v1::{ClockState, EscalationReason};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DatabaseTransaction, EntityTrait};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::domain::clock::Clock;
use crate::domain::policy::{self, CaseFacts, UNHAPPY_LEVEL};
use crate::error::Error;
use crate::escalate::{Alert, escalate};
use crate::store::effects::{Kind, enqueue};
use crate::store::entities::{clocks, timed_cases};
use crate::store::{
    Store, Timing, clock_of, clock_row, clocks_of, from_proto_time, proto_duration, proto_time, timed_case,
};
use crate::timers::health::Health;
use crate::timers::{TimerIndex, TimerKey};

/// Timers to add to and remove from the index once a transaction commits.
#[derive(Debug, Default)]
pub struct Plan {
    /// Members and when they fire.
    pub schedule: Vec<(String, i64)>,
    /// Members no longer wanted.
    pub cancel: Vec<String>,
}

impl Plan {
    fn merge(&mut self, other: Plan) {
        self.schedule.extend(other.schedule);
        self.cancel.extend(other.cancel);
    }
}

/// Writes a clock and plans its timer; `previous` is its generation before the change.
pub async fn save_clock(
    db: &impl ConnectionTrait,
    timing: &Timing,
    clock: &Clock,
    previous: Option<i32>,
    plan: &mut Plan,
) -> Result<(), Error> {
    let next = clock.next_fire(&timing.calendar, &timing.ladder);
    let row = clock_row(&timing.case.tenant, timing.case.case_id, clock, next);
    clocks::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([clocks::Column::CaseId, clocks::Column::Kind])
                .update_columns([
                    clocks::Column::TargetMs,
                    clocks::Column::WarningMs,
                    clocks::Column::UsedMs,
                    clocks::Column::Since,
                    clocks::Column::State,
                    clocks::Column::BreachedAt,
                    clocks::Column::MetAt,
                    clocks::Column::Level,
                    clocks::Column::Acknowledged,
                    clocks::Column::Cycle,
                    clocks::Column::Generation,
                    clocks::Column::NextFire,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let key = |generation: i32| TimerKey {
        case_id: timing.case.case_id,
        clock: clock.kind as u8,
        generation: generation as u32,
    };
    if let Some(old) = previous.filter(|g| *g != clock.generation) {
        plan.cancel.push(key(old).encode());
    }
    if let Some(next) = next {
        plan.schedule.push((key(clock.generation).encode(), next.as_millisecond()));
    }
    Ok(())
}

/// Owes the case a report of `clock`'s state.
pub async fn report(db: &impl ConnectionTrait, timing: &Timing, clock: &Clock, what: &str) -> Result<(), Error> {
    let calendar = &timing.calendar;
    let at = clock.met_at.or(clock.breached_at).unwrap_or_else(jiff::Timestamp::now);
    let status = SlaStatus {
        clock: clock.kind,
        sla_policy: timing.case.policy.clone(),
        target: Some(proto_duration(clock.target)),
        business_time_used: Some(proto_duration(clock.used_at(calendar, at))),
        due_time: clock.due(calendar).map(proto_time),
        met: clock.state == ClockState::Met,
        breached: clock.breached(),
        met_time: clock.met_at.map(proto_time),
        breach_time: clock.breached_at.map(proto_time),
        paused: clock.state == ClockState::Paused,
    };
    let request_id = format!("{}/{}/{}/{what}", timing.case.name, clock.kind, clock.cycle);
    let request =
        RecordSlaStatusRequest { name: timing.case.name.clone(), status: Some(status), request_id: request_id.clone() };
    enqueue(db, &timing.case.tenant, Kind::Sla, &request_id, request.encode_to_vec()).await
}

/// The clock kinds and their policy targets.
const CLOCKS: [SlaClockKind; 3] = [SlaClockKind::FirstResponse, SlaClockKind::NextUpdate, SlaClockKind::Resolution];

/// Keeps SLA clocks from case events.
pub struct Timekeeper {
    store: Arc<Store>,
    index: Arc<dyn TimerIndex>,
    effects: Arc<Notify>,
    rebuild: Arc<Notify>,
    health: Arc<Health>,
    plan: Mutex<Plan>,
}

impl Timekeeper {
    /// A timekeeper writing through `store`, scheduling on `index` while `health` says it
    /// answers, waking the effects worker, and asking for a rebuild of the index when
    /// scheduling fails.
    pub fn new(
        store: Arc<Store>,
        index: Arc<dyn TimerIndex>,
        effects: Arc<Notify>,
        rebuild: Arc<Notify>,
        health: Arc<Health>,
    ) -> Self {
        Self { store, index, effects, rebuild, health, plan: Mutex::new(Plan::default()) }
    }

    async fn apply(&self, txn: &DatabaseTransaction, event: &CaseEvent, plan: &mut Plan) -> Result<(), Error> {
        let Some(case) = event.case.as_ref() else { return Ok(()) };
        let Some(id) = case.name.rsplit('/').next().and_then(|id| Uuid::parse_str(id).ok()) else { return Ok(()) };
        let at = event.event_time.as_ref().and_then(from_proto_time).unwrap_or_else(jiff::Timestamp::now);
        let kind = CaseEventType::try_from(event.r#type).unwrap_or(CaseEventType::Unspecified);
        if matches!(kind, CaseEventType::EscalationRecorded | CaseEventType::SlaStatusRecorded) {
            return Ok(());
        }
        if kind == CaseEventType::PersonalDataErased {
            // The stored subject follows the anonymised snapshot below; the alerts owed or sent
            // lose the customer's words here.
            let alerts = crate::store::effects::erase_case(txn, &event.tenant, &case.name).await?;
            tracing::info!(case = %case.name, alerts, "personal data erased from escalation alerts");
        }
        let existing = timed_case(txn, id).await?;
        let first_sight = existing.is_none();
        let row = match existing {
            Some(mut row) => {
                row.owner = case.owner.clone();
                row.team = case.team.clone();
                row.status = case.status;
                row.reopen_count = case.reopen_count;
                row.subject = case.subject.clone();
                row
            }
            None => self.open(txn, &event.tenant, id, case).await?,
        };
        timed_cases::Entity::update(timed_cases::ActiveModel {
            case_id: Set(row.case_id),
            owner: Set(row.owner.clone()),
            team: Set(row.team.clone()),
            status: Set(row.status),
            reopen_count: Set(row.reopen_count),
            subject: Set(row.subject.clone()),
            ..Default::default()
        })
        .exec(txn)
        .await?;
        let timing = Timing::of(row)?;

        let mut clocks: Vec<(Clock, Option<i32>)> =
            clocks_of(txn, id).await?.iter().map(|r| (clock_of(r), Some(r.generation))).collect();
        if first_sight && let Some(policy) = &timing.policy {
            let start = case.create_time.as_ref().and_then(from_proto_time).unwrap_or(at);
            for kind in CLOCKS {
                if let Some(target) = policy::target(policy, kind as i32) {
                    clocks.push((Clock::start(kind as i32, target, policy::warning_percent(policy), start), None));
                }
            }
        }
        let mut met = Vec::new();
        let previous = CaseStatus::try_from(event.previous_status).unwrap_or(CaseStatus::Unspecified);
        let status = case.status();
        let ack_time =
            case.acknowledgement.as_ref().and_then(|a| a.acknowledge_time.as_ref()).and_then(from_proto_time);
        for (clock, _) in clocks.iter_mut() {
            let calendar = &timing.calendar;
            let kind = SlaClockKind::try_from(clock.kind).unwrap_or(SlaClockKind::Unspecified);
            if kind == SlaClockKind::FirstResponse
                && let Some(ack) = ack_time
                && clock.meet(calendar, ack)
            {
                met.push(clock.kind);
            }
            if status == CaseStatus::AwaitingCustomer && previous != CaseStatus::AwaitingCustomer {
                clock.pause(calendar, at);
            }
            if previous == CaseStatus::AwaitingCustomer && status != CaseStatus::AwaitingCustomer {
                clock.resume(at);
            }
            match kind {
                SlaClockKind::Resolution if kind_is(event, CaseEventType::Resolved) && clock.meet(calendar, at) => {
                    met.push(clock.kind);
                }
                SlaClockKind::NextUpdate if kind_is(event, CaseEventType::Resolved) => {
                    clock.stop(calendar, at);
                }
                SlaClockKind::NextUpdate if updates_customer(event) && status != CaseStatus::AwaitingCustomer => {
                    // The customer heard from us: this cycle is met, the next starts now.
                    if clock.meet(calendar, at) {
                        met.push(clock.kind);
                    }
                    clock.restart(at);
                }
                _ => {}
            }
            if kind_is(event, CaseEventType::Closed) {
                clock.stop(calendar, at);
            }
            if kind_is(event, CaseEventType::Reopened)
                && matches!(kind, SlaClockKind::Resolution | SlaClockKind::NextUpdate)
            {
                clock.restart(at);
            }
        }
        for (clock, previous_generation) in &clocks {
            if met.contains(&clock.kind) {
                report(txn, &timing, clock, "met").await?;
            }
            save_clock(txn, &timing, clock, *previous_generation, plan).await?;
        }
        self.unhappy(txn, &timing, case, at).await?;
        Ok(())
    }

    /// Records a case seen for the first time, with the policy and calendar its clocks use.
    async fn open(
        &self,
        txn: &DatabaseTransaction,
        tenant: &str,
        id: Uuid,
        case: &Case,
    ) -> Result<timed_cases::Model, Error> {
        let facts = CaseFacts {
            category: case.category.clone(),
            severity: case.severity,
            channel: case.channel,
            tier: case.customer.as_ref().map(|c| c.tier).unwrap_or_default(),
            unhappy: case.unhappy,
        };
        let policies = self.store.policies(txn, tenant).await?;
        let chosen = policy::choose(&policies, &facts).cloned();
        let calendar_document = match chosen.as_ref().map(|p| p.calendar.as_str()).filter(|c| !c.is_empty()) {
            Some(name) => {
                let id = name.rsplit('/').next().unwrap_or_default();
                match self.store.calendar(txn, tenant, id).await {
                    Ok(calendar) => calendar.encode_to_vec(),
                    Err(Error::NotFound(_)) => {
                        tracing::warn!(calendar = %name, "policy names a calendar that no longer exists; timing 24x7");
                        Vec::new()
                    }
                    Err(e) => return Err(e),
                }
            }
            None => Vec::new(),
        };
        let row = timed_cases::Model {
            case_id: id,
            tenant: tenant.to_string(),
            name: case.name.clone(),
            reference: case.reference.clone(),
            subject: case.subject.clone(),
            owner: case.owner.clone(),
            team: case.team.clone(),
            status: case.status,
            reopen_count: case.reopen_count,
            unhappy_escalated: 0,
            policy: chosen.as_ref().map(|p| p.name.clone()).unwrap_or_default(),
            policy_document: chosen.as_ref().map(|p| p.encode_to_vec()).unwrap_or_default(),
            calendar_document,
        };
        let active: timed_cases::ActiveModel = row.clone().into();
        timed_cases::Entity::insert(active).exec_without_returning(txn).await?;
        Ok(row)
    }

    /// Escalates an unhappy customer at once, once per reopening.
    async fn unhappy(
        &self,
        txn: &DatabaseTransaction,
        timing: &Timing,
        case: &Case,
        at: jiff::Timestamp,
    ) -> Result<(), Error> {
        let open = !matches!(case.status(), CaseStatus::Resolved | CaseStatus::Closed);
        let public = matches!(case.channel(), Channel::Social | Channel::ReviewSite);
        let critical = case.severity() == Severity::Critical;
        let round = case.reopen_count + 1;
        if !open || !(case.unhappy || public || critical) || timing.case.unhappy_escalated >= round {
            return Ok(());
        }
        let why = if case.unhappy && !case.unhappy_reason.is_empty() {
            format!("unhappy customer: {}", case.unhappy_reason)
        } else if case.unhappy {
            "unhappy customer".to_string()
        } else if critical {
            "critical case".to_string()
        } else {
            "public complaint".to_string()
        };
        let alert = Alert {
            case: &timing.case,
            clock: 0,
            level: UNHAPPY_LEVEL,
            reason: EscalationReason::UnhappyCustomer,
            reason_text: why,
            roles: policy::unhappy_roles(timing.policy.as_ref()),
            notify_owner: true,
            creator: String::new(),
            key: format!("{}/unhappy/{round}", timing.case.name),
            tasks: true,
        };
        escalate(txn, alert, at).await?;
        timed_cases::Entity::update(timed_cases::ActiveModel {
            case_id: Set(timing.case.case_id),
            unhappy_escalated: Set(round),
            ..Default::default()
        })
        .exec(txn)
        .await?;
        Ok(())
    }
}

fn kind_is(event: &CaseEvent, kind: CaseEventType) -> bool {
    event.r#type == kind as i32
}

/// Whether the change told the customer something (a staff message to them, not theirs).
fn updates_customer(event: &CaseEvent) -> bool {
    event.timeline_entry.as_ref().is_some_and(|entry| {
        entry.visibility() == Visibility::CustomerFacing
            && !matches!(
                entry.kind(),
                TimelineEntryKind::CustomerMessage
                    | TimelineEntryKind::CustomerResponse
                    | TimelineEntryKind::Satisfaction
                    | TimelineEntryKind::RepeatContact
            )
    })
}

#[tonic::async_trait]
impl EventHandler for Timekeeper {
    async fn handle(&self, txn: &DatabaseTransaction, events: &[CaseEvent]) -> anyhow::Result<()> {
        let mut plan = Plan::default();
        for event in events {
            self.apply(txn, event, &mut plan).await.map_err(|e| anyhow::anyhow!("event {}: {e}", event.sequence))?;
        }
        let mut pending = self.plan.lock().unwrap_or_else(|p| p.into_inner());
        *pending = Plan::default();
        pending.merge(plan);
        Ok(())
    }

    async fn committed(&self, _events: &[CaseEvent]) {
        let plan = std::mem::take(&mut *self.plan.lock().unwrap_or_else(|p| p.into_inner()));
        if self.health.is_down() {
            // The rows are the schedule until the index answers again and is rebuilt from them.
            self.effects.notify_one();
            return;
        }
        let scheduled = async {
            self.index.cancel(&plan.cancel).await?;
            self.index.schedule(&plan.schedule).await
        };
        if let Err(e) = scheduled.await {
            tracing::warn!(error = format!("{e:#}"), "scheduling timers failed; the index will be rebuilt");
            self.rebuild.notify_one();
        }
        self.effects.notify_one();
    }
}
