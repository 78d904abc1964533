//! Firing due clocks: for each claimed member, in one transaction, the clock's row decides
//! which ladder steps are due (none, if the member is stale), each step becomes an escalation
//! keyed (case, clock, cycle, level), and the clock's next deadline is planned.

use std::sync::Arc;

use redress_proto::common::v1::SlaClockKind;
use redress_proto::escalation::v1::{EscalationReason, EscalationTrigger};
use sea_orm::{EntityTrait, TransactionTrait};
use tokio::sync::Notify;

use crate::domain::policy::Step;
use crate::error::Error;
use crate::escalate::{Alert, escalate};
use crate::store::entities::clocks;
use crate::store::{Store, Timing, clock_of, timed_case};
use crate::timers::{Claimed, TimerIndex, TimerKey};
use crate::timing::{Plan, report, save_clock};

/// Fires due clocks.
pub struct Firer {
    store: Arc<Store>,
    index: Arc<dyn TimerIndex>,
    effects: Arc<Notify>,
}

impl Firer {
    /// A firer over `store`, scheduling next deadlines on `index` and waking the effects worker.
    pub fn new(store: Arc<Store>, index: Arc<dyn TimerIndex>, effects: Arc<Notify>) -> Self {
        Self { store, index, effects }
    }

    /// Acts on claimed members; returns those that may be acknowledged (done or stale).
    pub async fn fire(&self, claimed: &[Claimed]) -> Vec<String> {
        let mut done = Vec::with_capacity(claimed.len());
        let mut plan = Plan::default();
        for item in claimed {
            match self.fire_one(item, &mut plan).await {
                Ok(()) => done.push(item.member.clone()),
                Err(e) => tracing::warn!(error = %e, "firing a clock failed; it will be retried"),
            }
        }
        if !plan.schedule.is_empty()
            && let Err(e) = self.index.schedule(&plan.schedule).await
        {
            tracing::warn!(error = format!("{e:#}"), "scheduling the next deadlines failed; they will be retried");
            return Vec::new();
        }
        self.effects.notify_one();
        done
    }

    async fn fire_one(&self, item: &Claimed, plan: &mut Plan) -> Result<(), Error> {
        let Some(key) = TimerKey::decode(&item.member) else { return Ok(()) };
        let _turn = self.store.turn().await;
        let txn = self.store.db.begin().await?;
        let Some(row) = clocks::Entity::find_by_id((key.case_id, i32::from(key.clock))).one(&txn).await? else {
            return Ok(());
        };
        if row.generation as u32 != key.generation {
            return Ok(());
        }
        let Some(case) = timed_case(&txn, key.case_id).await? else { return Ok(()) };
        let timing = Timing::of(case)?;
        let mut clock = clock_of(&row);
        let was_breached = clock.breached();
        let now = jiff::Timestamp::now();
        let steps = clock.take_due(&timing.calendar, &timing.ladder, now);
        if steps.is_empty() && was_breached == clock.breached() {
            // Early or already handled: just plan the next deadline again.
            save_clock(&txn, &timing, &clock, Some(row.generation), plan).await?;
            txn.commit().await?;
            return Ok(());
        }
        for step in &steps {
            escalate(&txn, alert(&timing, &clock, step), now).await?;
        }
        if !was_breached && clock.breached() {
            report(&txn, &timing, &clock, "breached").await?;
        }
        save_clock(&txn, &timing, &clock, Some(row.generation), plan).await?;
        txn.commit().await?;
        Ok(())
    }
}

fn alert<'a>(timing: &'a Timing, clock: &crate::domain::clock::Clock, step: &Step) -> Alert<'a> {
    let name = SlaClockKind::try_from(clock.kind)
        .map(|c| c.as_str_name().trim_start_matches("SLA_CLOCK_KIND_").to_lowercase().replace('_', " "))
        .unwrap_or_default();
    let minutes = |d: std::time::Duration| {
        let m = d.as_secs() / 60;
        if m >= 60 { format!("{}h {:02}m", m / 60, m % 60) } else { format!("{}m {:02}s", m, d.as_secs() % 60) }
    };
    let (reason, text) = match step.trigger {
        EscalationTrigger::Warning => (
            EscalationReason::SlaWarning,
            format!(
                "{name} at {}% of its target {}",
                (clock.warning.as_secs_f64() / clock.target.as_secs_f64().max(1e-9) * 100.0).round(),
                minutes(clock.target)
            ),
        ),
        _ if step.delay.is_zero() => {
            (EscalationReason::SlaBreach, format!("{name} breached: target {} passed", minutes(clock.target)))
        }
        _ => (
            EscalationReason::SlaBreach,
            format!("{name} breached {} ago: target {}", minutes(step.delay), minutes(clock.target)),
        ),
    };
    Alert {
        case: &timing.case,
        clock: clock.kind,
        level: step.level,
        reason,
        reason_text: text,
        roles: step.roles.clone(),
        notify_owner: step.notify_owner,
        creator: String::new(),
        key: format!("{}/{}/{}/{}", timing.case.name, clock.kind, clock.cycle, step.level),
        tasks: false,
    }
}
