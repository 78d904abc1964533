//! Case events → SLA clocks. The consumer reads the case event stream and, in the same
//! transaction as its cursor, starts clocks when a case opens (under the first matching policy,
//! from the case's creation time) and moves them as [`crate::domain::transitions`] says. An
//! unhappy customer is escalated at once. Timers for the new deadlines go into the index after
//! the commit.

use std::sync::{Arc, Mutex};

use prost::Message;
use redress_kit::consumer::EventHandler;
use redress_kit::db::Txn;
use redress_proto::case::v1::{Case, CaseEvent, CaseEventType};
use redress_proto::escalation::v1::EscalationReason;
use tokio::sync::Notify;
use uuid::Uuid;

use super::escalate::{Alert, escalate};
use super::timing::{Plan, Timing, report, save_clock};
use crate::domain::escalation::{unhappy_round, unhappy_trigger};
use crate::domain::policy::{self, CaseFacts, UNHAPPY_LEVEL};
use crate::domain::time::from_proto_time;
use crate::domain::transitions::{self, Change};
use crate::error::Error;
use crate::store::{TimedCase, cases, directory, effects};
use crate::timers::TimerIndex;
use crate::timers::health::Health;

/// Keeps SLA clocks from case events.
pub struct Consumer {
    index: Arc<dyn TimerIndex>,
    effects: Arc<Notify>,
    rebuild: Arc<Notify>,
    health: Arc<Health>,
    plan: Mutex<Plan>,
}

impl Consumer {
    /// A consumer scheduling on `index` while `health` says it answers, waking the effects
    /// worker, and asking for a rebuild of the index when scheduling fails.
    pub fn new(index: Arc<dyn TimerIndex>, effects: Arc<Notify>, rebuild: Arc<Notify>, health: Arc<Health>) -> Self {
        Self { index, effects, rebuild, health, plan: Mutex::new(Plan::default()) }
    }

    async fn apply(&self, txn: &Txn, event: &CaseEvent, plan: &mut Plan) -> Result<(), Error> {
        let Some(case) = event.case.as_ref() else { return Ok(()) };
        let Some(id) = case.name.rsplit('/').next().and_then(|id| Uuid::parse_str(id).ok()) else { return Ok(()) };
        let at = event.event_time.as_ref().and_then(from_proto_time).unwrap_or_else(jiff::Timestamp::now);
        let Some(change) = Change::of(event, at) else { return Ok(()) };
        if change.kind == CaseEventType::PersonalDataErased {
            // The stored subject follows the anonymised snapshot below; the alerts owed or sent
            // lose the customer's words here.
            let alerts = effects::erase_case(txn, &event.tenant, &case.name).await?;
            tracing::info!(case = %case.name, alerts, "personal data erased from escalation alerts");
        }
        let existing = cases::timed_case(txn, id).await?;
        let first_sight = existing.is_none();
        let row = match existing {
            Some(mut row) => {
                row.owner.clone_from(&case.owner);
                row.team.clone_from(&case.team);
                row.status = case.status;
                row.reopen_count = case.reopen_count;
                row.subject.clone_from(&case.subject);
                row
            }
            None => open(txn, &event.tenant, id, case).await?,
        };
        cases::update_timed_case(txn, &row).await?;
        let timing = Timing::of(row)?;

        let mut clocks = cases::clocks_of(txn, id).await?;
        let mut previous: Vec<Option<i32>> = clocks.iter().map(|c| Some(c.generation)).collect();
        if first_sight && let Some(policy) = &timing.policy {
            let start = case.create_time.as_ref().and_then(from_proto_time).unwrap_or(at);
            let started = transitions::start_clocks(policy, start);
            previous.extend(started.iter().map(|_| None));
            clocks.extend(started);
        }
        for (clock, previous) in clocks.iter_mut().zip(previous) {
            if transitions::apply(clock, &timing.calendar, &change) {
                report(txn, &timing, clock, "met").await?;
            }
            save_clock(txn, &timing, clock, previous, plan).await?;
        }
        unhappy(txn, &timing, case, at).await
    }
}

/// Records a case seen for the first time, with the policy and calendar its clocks use.
async fn open(txn: &Txn, tenant: &str, id: Uuid, case: &Case) -> Result<TimedCase, Error> {
    let facts = CaseFacts {
        category: case.category.clone(),
        severity: case.severity,
        channel: case.channel,
        tier: case.customer.as_ref().map(|c| c.tier).unwrap_or_default(),
        unhappy: case.unhappy,
    };
    let policies = directory::policies(txn, tenant).await?;
    let chosen = policy::choose(&policies, &facts).cloned();
    let calendar_document = match chosen.as_ref().map(|p| p.calendar.as_str()).filter(|c| !c.is_empty()) {
        Some(name) => {
            let id = name.rsplit('/').next().unwrap_or_default();
            match directory::calendar(txn, tenant, id).await {
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
    let row = TimedCase {
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
    cases::insert_timed_case(txn, &row).await?;
    Ok(row)
}

/// Escalates an unhappy customer at once, once per opening of the case.
async fn unhappy(txn: &Txn, timing: &Timing, case: &Case, at: jiff::Timestamp) -> Result<(), Error> {
    let Some(why) = unhappy_trigger(case, timing.case.unhappy_escalated) else { return Ok(()) };
    let round = unhappy_round(case);
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
    cases::mark_unhappy_escalated(txn, timing.case.case_id, round).await
}

#[tonic::async_trait]
impl EventHandler for Consumer {
    async fn handle(&self, txn: &Txn, events: &[CaseEvent]) -> anyhow::Result<()> {
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
