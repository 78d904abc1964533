//! Erasing personal data: every case of the customer anonymised, its timeline and earlier
//! events redacted, a PERSONAL_DATA_ERASED event written and the erasure recorded, all in one
//! transaction; and reading the erasures back.

use chrono::{DateTime, Utc};
use redress_kit::TenantId;
use redress_kit::caller::Caller;
use redress_kit::db::{Txn, begin_write};
use redress_kit::time::{now, timestamp};
use redress_proto::case::v1::{CaseEvent, CaseEventType, Erasure};
use uuid::Uuid;

use super::{App, MAX_ATTEMPTS, actor, event, rules};
use crate::domain::erase::{self, EraseRequest};
use crate::domain::{self, Actor, Command};
use crate::error::Error;
use crate::store::{self, erase::ErasurePage};

impl App {
    /// Erases the personal data of `request.subject` from every matching case of the caller's
    /// tenant, or returns the erasure already made under the same request_id.
    pub async fn erase_customer(&self, caller: &Caller, request: &EraseRequest) -> Result<Erasure, Error> {
        let erasure = self.erase(&caller.tenant, request, &actor(caller)).await?;
        tracing::info!(erasure = %erasure.name, cases = erasure.cases.len(), "personal data erased on request");
        Ok(erasure)
    }

    /// The tenant's erasures, newest first, after the erasure `before` (exclusive).
    pub async fn erasures(&self, tenant: &TenantId, before: Option<Uuid>, limit: u64) -> Result<ErasurePage, Error> {
        self.store.erasures(tenant, before, limit).await
    }

    /// Erases the personal data of `request.subject` from every matching case of `tenant`.
    pub(super) async fn erase(
        &self,
        tenant: &TenantId,
        request: &EraseRequest,
        actor: &Actor,
    ) -> Result<Erasure, Error> {
        let store = &self.store;
        for _ in 0..MAX_ATTEMPTS {
            let _turn = store.turn().await;
            let txn = begin_write(store.db()).await?;
            if let Some(done) = store::erase::find_erasure(&txn, tenant, &request.request_id).await? {
                txn.rollback().await?;
                return Ok(done);
            }
            let now = now();
            let id = Uuid::now_v7();
            let ids = store::erase::matching_cases(&txn, tenant, &request.subject).await?;
            let erasure = erase::record(tenant, id, request, actor, &ids, now);
            let anonymous = erase::anonymous_id(&id);
            let mut raced = false;
            for case in &ids {
                if !erase_case(&txn, tenant, *case, &erasure, &anonymous, actor, now).await? {
                    raced = true;
                    break;
                }
            }
            if raced {
                txn.rollback().await?;
                continue;
            }
            if ids.is_empty() && !erasure.customer_id.is_empty() {
                // No case of theirs, but other services may hold what they sent without one
                // (a survey response): the erasure is announced on its own, keyed by its id.
                let announced = CaseEvent {
                    event_id: Uuid::now_v7().to_string(),
                    tenant: tenant.as_str().to_string(),
                    r#type: CaseEventType::PersonalDataErased as i32,
                    event_time: Some(timestamp(now)),
                    actor: actor.id.clone(),
                    erasure: Some(erasure.clone()),
                    ..CaseEvent::default()
                };
                store::insert_event(&txn, tenant, id, &announced, now).await?;
            }
            if !store::erase::insert_erasure(&txn, tenant, id, &request.request_id, &erasure, now).await? {
                // Another call with the same request_id finished first: return theirs.
                txn.rollback().await?;
                continue;
            }
            txn.commit().await?;
            if !ids.is_empty() || !erasure.customer_id.is_empty() {
                store.log().written();
            }
            return Ok(erasure);
        }
        Err(Error::Contended)
    }
}

/// Anonymises one case inside `txn`: the case, its timeline and its earlier events, then its
/// PERSONAL_DATA_ERASED entry and event. False when another change to the case won the race.
async fn erase_case(
    txn: &Txn,
    tenant: &TenantId,
    id: Uuid,
    erasure: &Erasure,
    anonymous: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let stored = store::load(txn, tenant, id).await?;
    let mut case = stored.case;
    let rules = rules(txn, tenant).await?;
    let command =
        Command::ErasePersonalData { erasure: Box::new(erasure.clone()), anonymous_id: anonymous.to_string() };
    let change = domain::apply(&mut case, command, actor, &rules, now)?;
    if !store::update_case(txn, tenant, id, &case, stored.version).await? {
        return Ok(false);
    }
    store::erase::redact_history(txn, id, anonymous).await?;
    let written = event(tenant, &case, &change, actor, now);
    store::append(txn, tenant, id, &case, &change, &written, now).await?;
    Ok(true)
}
