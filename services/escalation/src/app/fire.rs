//! Firing due clocks: for each claimed member, in one transaction, the clock's row decides
//! which ladder steps are due (none, if the member is stale), each step becomes an escalation
//! keyed (case, clock, cycle, level), and the clock's next deadline is planned.
//!
//! Who is alerted follows the case's owner and team as the case service has them at the moment
//! of firing, not as the case event stream last told this service: after a restart the stream
//! may still be catching up (an owner assigned meanwhile) while clocks already fall due. When
//! the case service cannot answer in time, the facts last seen are used.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use redress_kit::ServiceKind;
use redress_kit::client::{TracedChannel, as_service, request};
use redress_kit::db::begin_write;
use redress_kit::tenant::TenantId;
use redress_proto::case::v1::GetCaseRequest;
use redress_proto::case::v1::case_service_client::CaseServiceClient;
use tokio::sync::Notify;
use uuid::Uuid;

use super::escalate::{Alert, escalate};
use super::timing::{Plan, Timing, report, save_clock};
use crate::domain::clock::Clock;
use crate::domain::escalation::step_reason;
use crate::domain::policy::Step;
use crate::error::Error;
use crate::store::{Store, TimedCase, cases};
use crate::timers::health::Health;
use crate::timers::{Claimed, TimerIndex, TimerKey};

/// Cases read from the case service at once while firing.
const READS_IN_FLIGHT: usize = 32;

/// Clocks fired at once, each in its own transaction (on SQLite they take turns to write).
const FIRES_IN_FLIGHT: usize = 4;

/// Reads cases' current owner and team from the case service.
#[derive(Clone)]
pub struct CaseReader {
    channel: TracedChannel,
    timeout: Duration,
}

impl CaseReader {
    /// A reader over `channel`, giving up on a case after `timeout`.
    pub fn new(channel: TracedChannel, timeout: Duration) -> Self {
        Self { channel, timeout }
    }

    async fn read(&self, case: &TimedCase) -> Option<Current> {
        let tenant = TenantId::parse(&case.tenant).ok()?;
        let mut client = CaseServiceClient::new(self.channel.clone());
        let req = as_service(
            request(&tenant, GetCaseRequest { name: case.name.clone() }, self.timeout),
            ServiceKind::Escalation,
        );
        let answered = tokio::time::timeout(self.timeout, client.get_case(req)).await.ok()?;
        let found = answered.ok()?.into_inner().case?;
        Some(Current { owner: found.owner, team: found.team })
    }
}

/// A case's owner and team as the case service has them now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    /// The owner's staff id; empty for none.
    pub owner: String,
    /// The owning team.
    pub team: String,
}

/// Fires due clocks.
pub struct Firer {
    store: Arc<Store>,
    index: Arc<dyn TimerIndex>,
    effects: Arc<Notify>,
    health: Arc<Health>,
    cases: Option<CaseReader>,
}

impl Firer {
    /// A firer over `store`, scheduling next deadlines on `index` while `health` says it
    /// answers, waking the effects worker, and reading cases' current owner and team through
    /// `cases` (the facts last seen without one).
    pub fn new(
        store: Arc<Store>,
        index: Arc<dyn TimerIndex>,
        effects: Arc<Notify>,
        health: Arc<Health>,
        cases: Option<CaseReader>,
    ) -> Self {
        Self { store, index, effects, health, cases }
    }

    /// The current owner and team of the claimed members' cases, read concurrently.
    async fn current(&self, claimed: &[Claimed]) -> HashMap<Uuid, Current> {
        let Some(reader) = &self.cases else { return HashMap::new() };
        let ids: BTreeSet<Uuid> =
            claimed.iter().filter_map(|c| TimerKey::decode(&c.member)).map(|k| k.case_id).collect();
        let cases = match self.store.timed_cases_in(ids.into_iter().collect()).await {
            Ok(cases) => cases,
            Err(e) => {
                tracing::warn!(error = %e, "reading timed cases failed; firing on the facts last seen");
                return HashMap::new();
            }
        };
        let reads = cases.into_iter().map(|case| {
            let reader = reader.clone();
            async move {
                let current = reader.read(&case).await;
                (case.case_id, current)
            }
        });
        let read: Vec<(Uuid, Option<Current>)> =
            futures::stream::iter(reads).buffer_unordered(READS_IN_FLIGHT).collect().await;
        let unread = read.iter().filter(|(_, current)| current.is_none()).count();
        if unread > 0 {
            tracing::warn!(
                cases = unread,
                "the case service did not give the current owner and team; firing on the facts last seen"
            );
        }
        read.into_iter().filter_map(|(id, current)| current.map(|c| (id, c))).collect()
    }

    /// Acts on claimed members; returns those that may be acknowledged (done or stale).
    pub async fn fire(&self, claimed: &[Claimed]) -> Vec<String> {
        let mut done = Vec::with_capacity(claimed.len());
        let mut plan = Plan::default();
        let current = self.current(claimed).await;
        let mut firings = Vec::with_capacity(claimed.len());
        for item in claimed {
            let now = TimerKey::decode(&item.member).and_then(|k| current.get(&k.case_id)).cloned();
            firings.push(self.fire_owned(item.member.clone(), item.due_ms, now));
        }
        let fired: Vec<(String, Result<(), Error>, Plan)> =
            futures::stream::iter(firings).buffer_unordered(FIRES_IN_FLIGHT).collect().await;
        for (member, result, planned) in fired {
            match result {
                Ok(()) => {
                    done.push(member);
                    plan.merge(planned);
                }
                Err(e) => tracing::warn!(error = %e, "firing a clock failed; it will be retried"),
            }
        }
        // While the index is down the rows are the schedule: workers read them from the
        // database, and the index is rebuilt from them when it answers again.
        if !plan.schedule.is_empty()
            && !self.health.is_down()
            && let Err(e) = self.index.schedule(&plan.schedule).await
        {
            // Taken as the index being down: the guardian rebuilds it from the rows once it
            // answers, and the claims come back through the reaper.
            self.health.mark_down(&e);
            self.effects.notify_one();
            return Vec::new();
        }
        self.effects.notify_one();
        done
    }

    /// Fires one member in a transaction of its own; the deadlines it plans come back with it.
    async fn fire_owned(
        &self,
        member: String,
        due_ms: i64,
        current: Option<Current>,
    ) -> (String, Result<(), Error>, Plan) {
        let mut plan = Plan::default();
        let item = Claimed { member, due_ms };
        let result = self.fire_one(&item, current.as_ref(), &mut plan).await;
        (item.member, result, plan)
    }

    async fn fire_one(&self, item: &Claimed, current: Option<&Current>, plan: &mut Plan) -> Result<(), Error> {
        let Some(key) = TimerKey::decode(&item.member) else { return Ok(()) };
        let _turn = self.store.turn().await;
        let txn = begin_write(self.store.db()).await?;
        let Some(mut clock) = cases::clock(&txn, key.case_id, i32::from(key.clock)).await? else {
            return Ok(());
        };
        if clock.generation as u32 != key.generation {
            return Ok(());
        }
        let Some(mut case) = cases::timed_case(&txn, key.case_id).await? else { return Ok(()) };
        if let Some(current) = current {
            case.owner.clone_from(&current.owner);
            case.team.clone_from(&current.team);
        }
        let timing = Timing::of(case)?;
        let generation = Some(clock.generation);
        let was_breached = clock.breached();
        let now = jiff::Timestamp::now();
        let steps = clock.take_due(&timing.calendar, &timing.ladder, now);
        // Early or already handled when nothing is due: just plan the next deadline again.
        for step in &steps {
            escalate(&txn, alert(&timing, &clock, step), now).await?;
        }
        if !was_breached && clock.breached() {
            report(&txn, &timing, &clock, "breached").await?;
        }
        save_clock(&txn, &timing, &clock, generation, plan).await?;
        txn.commit().await?;
        Ok(())
    }
}

fn alert<'a>(timing: &'a Timing, clock: &Clock, step: &Step) -> Alert<'a> {
    let (reason, reason_text) = step_reason(clock, step);
    Alert {
        case: &timing.case,
        clock: clock.kind,
        level: step.level,
        reason,
        reason_text,
        roles: step.roles.clone(),
        notify_owner: step.notify_owner,
        creator: String::new(),
        key: format!("{}/{}/{}/{}", timing.case.name, clock.kind, clock.cycle, step.level),
        tasks: false,
    }
}
