//! Escalations as people see them: listing them, escalating a case by hand and acknowledging
//! an escalation, which stops its clock's ladder for the cycle.

use redress_kit::ApiError;
use redress_kit::caller::Caller;
use redress_kit::db::begin_write;
use redress_proto::common::v1::StaffRole;
use redress_proto::escalation::v1::{Escalation, EscalationReason};
use uuid::Uuid;

use super::escalate::{Alert, escalate};
use super::timing::{Plan, Timing, save_clock};
use super::{App, seen_by};
use crate::domain::escalation::{default_manual_roles, manual_level};
use crate::domain::time::proto_time;
use crate::error::Error;
use crate::store::cases;
use crate::store::escalations::{self as stored, Filter, Fired, Visible};

/// Which escalations a list shows.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// Only this case's (its resource name, and id).
    pub case: Option<(String, Uuid)>,
    /// Only at this level.
    pub level: Option<i32>,
    /// Only acknowledged (or only not).
    pub acknowledged: Option<bool>,
    /// Only older than this escalation id.
    pub before: Option<Uuid>,
}

impl App {
    /// Up to `limit` escalations the caller may see, newest first, with their ids.
    pub async fn escalations(&self, caller: &Caller, listing: Listing, limit: u64) -> Result<Vec<Fired>, Error> {
        let mut filter = Filter {
            level: listing.level,
            acknowledged: listing.acknowledged,
            before: listing.before,
            ..Filter::default()
        };
        if let Some((name, id)) = &listing.case {
            if caller.scope.is_some() {
                self.seen_case(caller, *id, name).await?;
            }
            filter.case_id = Some(*id);
        } else if let Some(scope) = &caller.scope {
            filter.visible_to = Some(Visible { actor: caller.actor.clone(), team: scope.team.clone() });
        }
        self.store.escalations(caller.tenant.as_str(), &filter, limit).await
    }

    /// Escalates case `id` (named `name`) by hand to `roles` (a team lead and a manager when
    /// none), once per `request_id`: a retry returns the first escalation.
    pub async fn escalate_case(
        &self,
        caller: &Caller,
        (name, id): (&str, Uuid),
        request_id: &str,
        reason: &str,
        mut roles: Vec<StaffRole>,
    ) -> Result<Escalation, Error> {
        if roles.is_empty() {
            roles = default_manual_roles();
        }
        let level = manual_level(&roles);
        let case = self.seen_case(caller, id, name).await?;
        let key = format!("{}/manual/{request_id}", case.name);
        let _turn = self.store.turn().await;
        let txn = begin_write(self.store.db()).await?;
        let alert = Alert {
            case: &case,
            clock: 0,
            level,
            reason: EscalationReason::Manual,
            reason_text: reason.to_string(),
            roles,
            notify_owner: true,
            creator: caller.actor.clone(),
            key: key.clone(),
            tasks: false,
        };
        let fired = escalate(&txn, alert, jiff::Timestamp::now()).await?;
        txn.commit().await?;
        self.effects.notify_one();
        match fired {
            Some(escalation) => Ok(escalation),
            None => self
                .store
                .escalation_by_key(caller.tenant.as_str(), &key)
                .await?
                .ok_or_else(|| Error::Corrupt("escalation vanished".into())),
        }
    }

    /// Acknowledges escalation `id` (named `name`) with `note`; no further level of its clock's
    /// cycle fires. Acknowledging twice changes nothing.
    pub async fn acknowledge(
        &self,
        caller: &Caller,
        (name, id): (&str, Uuid),
        note: String,
    ) -> Result<Escalation, Error> {
        let turn = self.store.turn().await;
        let txn = begin_write(self.store.db()).await?;
        let not_found = || Error::from(ApiError::NotFound(name.to_string()));
        let fired = stored::find(&txn, caller.tenant.as_str(), id).await?.ok_or_else(not_found)?;
        if caller.scope.is_some() && !cases::timed_case(&txn, fired.case_id).await?.is_some_and(|c| seen_by(caller, &c))
        {
            return Err(not_found());
        }
        let mut escalation = fired.escalation;
        let mut plan = Plan::default();
        if !escalation.acknowledged {
            escalation.acknowledged = true;
            escalation.acknowledger = caller.actor.clone();
            escalation.acknowledge_time = Some(proto_time(jiff::Timestamp::now()));
            escalation.acknowledgement_note = note;
            stored::save_acknowledged(&txn, id, &escalation).await?;
            if fired.clock != 0
                && let Some(mut clock) = cases::clock(&txn, fired.case_id, fired.clock).await?
                && let Some(case) = cases::timed_case(&txn, fired.case_id).await?
            {
                let timing = Timing::of(case)?;
                let previous = clock.generation;
                clock.acknowledge();
                save_clock(&txn, &timing, &clock, Some(previous), &mut plan).await?;
            }
        }
        txn.commit().await?;
        drop(turn);
        if let Err(e) = self.index.cancel(&plan.cancel).await {
            tracing::debug!(error = %e, "cancelling an acknowledged clock's timer failed; it will fire as stale");
        }
        Ok(escalation)
    }
}
