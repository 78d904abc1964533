//! The application: one file per use case. Each owns its transaction, reads what it needs
//! through the store, asks the domain what changes, and writes the change, its timeline entry,
//! its event and its request record in that one transaction.
//!
//! - [`create`]: opening a case, idempotent on the request_id and the source's reference.
//! - [`change`]: applying a command to a case with optimistic concurrency (every RPC that
//!   changes a case, tasks and offers included), with [`timeline`] returning the entry made.
//! - [`read`]: getting and listing cases within the caller's scope.
//! - [`playbook`]: the tenant's rules.
//! - [`erase`] and [`retention`]: erasing personal data on request and after the retention period.
//! - [`events`] and [`sequencer`]: streaming the event log, and numbering it.

pub mod change;
pub mod create;
pub mod erase;
pub mod events;
pub mod playbook;
pub mod read;
pub mod retention;
pub mod sequencer;
pub mod timeline;

pub use change::Intent;

use chrono::{DateTime, Utc};
use redress_kit::TenantId;
use redress_kit::caller::{Caller, Role};
use redress_kit::db::Txn;
use redress_kit::time::timestamp;
use redress_proto::case::v1::{Case, CaseEvent};
use uuid::Uuid;

use crate::domain::{Actor, Change, Rules};
use crate::error::Error;
use crate::store::{self, Store, log};

/// How many times a change is retried when another change to the same case wins the race.
const MAX_ATTEMPTS: usize = 16;

/// The case service's use cases over its store.
pub struct App {
    store: Store,
}

impl App {
    /// The application over `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// The store, for the tasks that follow the database itself (the event listener).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The case, unless the caller's scope hides it (then NOT_FOUND, as if it did not exist);
    /// `None` when the caller has no scope and the case was not read.
    async fn visible(&self, caller: &Caller, id: Uuid) -> Result<Option<Case>, Error> {
        if caller.scope.is_none() {
            return Ok(None);
        }
        let case = self.store.get(&caller.tenant, id).await?;
        if !caller.sees_case(&case.owner, &case.team) {
            return Err(Error::NotFound(case.name));
        }
        Ok(Some(case))
    }

    /// Refuses an event too large to stream, so that every event fits in one message.
    fn check_size(&self, event: &CaseEvent) -> Result<(), Error> {
        let bytes = log::streamed_len(event);
        let limit = self.store.event_limit();
        if bytes > limit {
            return Err(Error::EventTooLarge { bytes, limit });
        }
        Ok(())
    }
}

/// Who acts, as the rules see the caller.
fn actor(caller: &Caller) -> Actor {
    Actor {
        id: caller.actor.clone(),
        supervisor: caller.is_supervisor(),
        service: caller.is_system() || caller.has(Role::Integration),
    }
}

/// The rules of `tenant`'s playbook, read inside `txn`.
async fn rules(txn: &Txn, tenant: &TenantId) -> Result<Rules, Error> {
    Ok(store::playbook(txn, tenant).await?.map(|playbook| Rules::from_playbook(&playbook)).unwrap_or_default())
}

/// The event a change writes (its sequence is given later, by the sequencer).
fn event(tenant: &TenantId, case: &Case, change: &Change, actor: &Actor, now: DateTime<Utc>) -> CaseEvent {
    CaseEvent {
        sequence: 0,
        event_id: Uuid::now_v7().to_string(),
        tenant: tenant.as_str().to_string(),
        r#type: change.event_type as i32,
        event_time: Some(timestamp(now)),
        actor: actor.id.clone(),
        case: Some(case.clone()),
        previous_status: change.previous_status as i32,
        timeline_entry: Some(change.entry.clone()),
        task: change.task.clone(),
        offer: change.offer.clone(),
        escalation: change.escalation.clone(),
        erasure: change.erasure.clone(),
    }
}
