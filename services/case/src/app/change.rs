//! Applying a command to a case: read it, let the rules decide, write it back if no other
//! change won the race, and append its timeline entry, its event and its request record, all
//! in one transaction. A request_id seen before replays its first outcome.

use redress_kit::TenantId;
use redress_kit::caller::Caller;
use redress_kit::db::begin_write;
use redress_kit::time::now;
use redress_proto::case::v1::{Case, Task};
use uuid::Uuid;

use super::{App, MAX_ATTEMPTS, actor, event, rules};
use crate::domain::{self, Actor, Change, Command};
use crate::error::Error;
use crate::store::{self, SeenRequest};

/// The result of a change, or of replaying a request seen before.
#[derive(Debug, Clone)]
pub struct Mutated {
    /// The case after the change (now, on a replay).
    pub case: Case,
    /// What changed; `None` when the request_id was seen before.
    pub change: Option<Change>,
    /// The resource the method returns: the case, a task or a timeline entry.
    pub resource: String,
}

impl Mutated {
    /// The task a task command (create, complete or waive) made or touched, as it is now.
    pub fn task(self) -> Result<Task, Error> {
        self.case.tasks.into_iter().find(|t| t.name == self.resource).ok_or(Error::NotFound(self.resource))
    }
}

/// What a change is for: the method, its idempotency key and the version the client read.
#[derive(Debug, Clone, Copy)]
pub struct Intent<'a> {
    /// The RPC making the change, recorded with its request_id.
    pub method: &'static str,
    /// The client's idempotency key; empty for none.
    pub request_id: &'a str,
    /// The version the client read; 0 to skip the check.
    pub expected_version: i64,
}

impl App {
    /// Applies `command` to the case `id` for `caller`, with optimistic concurrency and
    /// idempotency on the request_id. An expected version of 0 retries races itself;
    /// otherwise a race is ABORTED.
    pub async fn change(
        &self,
        caller: &Caller,
        id: Uuid,
        intent: Intent<'_>,
        command: Command,
    ) -> Result<Mutated, Error> {
        self.visible(caller, id).await?;
        self.mutate(&caller.tenant, id, intent, &actor(caller), command).await
    }

    async fn mutate(
        &self,
        tenant: &TenantId,
        id: Uuid,
        intent: Intent<'_>,
        actor: &Actor,
        command: Command,
    ) -> Result<Mutated, Error> {
        let Intent { method, request_id, expected_version } = intent;
        let store = &self.store;
        for _ in 0..MAX_ATTEMPTS {
            let _turn = store.turn().await;
            let txn = begin_write(store.db()).await?;
            if let Some(seen) = store::find_request(&txn, tenant, request_id).await? {
                txn.rollback().await?;
                return self.replay(tenant, id, &seen, method).await;
            }
            let stored = store::load(&txn, tenant, id).await?;
            if expected_version != 0 && stored.version != expected_version {
                txn.rollback().await?;
                return Err(Error::VersionMismatch { expected: expected_version, current: stored.version });
            }
            let mut case = stored.case;
            let rules = rules(&txn, tenant).await?;
            let now = now();
            let change = match domain::apply(&mut case, command.clone(), actor, &rules, now) {
                Ok(change) => change,
                Err(e) => {
                    txn.rollback().await?;
                    return Err(e.into());
                }
            };
            let event = event(tenant, &case, &change, actor, now);
            if let Err(e) = self.check_size(&event) {
                txn.rollback().await?;
                return Err(e);
            }
            if !store::update_case(&txn, tenant, id, &case, stored.version).await? {
                txn.rollback().await?;
                if expected_version != 0 {
                    let current = store::load(store.db(), tenant, id).await?.version;
                    return Err(Error::VersionMismatch { expected: expected_version, current });
                }
                continue;
            }
            store::append(&txn, tenant, id, &case, &change, &event, now).await?;
            let resource = change.resource(&case.name);
            if !store::insert_request(&txn, tenant, request_id, method, id, &resource).await? {
                txn.rollback().await?;
                continue;
            }
            txn.commit().await?;
            store.log().written();
            return Ok(Mutated { case, change: Some(change), resource });
        }
        Err(Error::Contended)
    }

    async fn replay(&self, tenant: &TenantId, id: Uuid, seen: &SeenRequest, method: &str) -> Result<Mutated, Error> {
        if seen.case_id != id {
            return Err(Error::RequestIdReused { request_id: seen.request_id.clone(), method: seen.method.clone() });
        }
        let case = self.replayed_case(tenant, seen, method).await?;
        Ok(Mutated { case, change: None, resource: seen.resource.clone() })
    }

    /// The case a request seen before touched, as it is now, if the request was for `method`.
    pub(super) async fn replayed_case(
        &self,
        tenant: &TenantId,
        seen: &SeenRequest,
        method: &str,
    ) -> Result<Case, Error> {
        if seen.method != method {
            return Err(Error::RequestIdReused { request_id: seen.request_id.clone(), method: seen.method.clone() });
        }
        self.store.get(tenant, seen.case_id).await
    }
}
