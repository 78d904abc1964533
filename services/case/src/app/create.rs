//! Opening a case: once per request_id, and once per source reference (channel and external
//! reference), whichever call comes first; the others get the case that call opened.

use redress_kit::caller::Caller;
use redress_kit::db::begin_write;
use redress_kit::time::now;
use redress_proto::case::v1::Case;
use uuid::Uuid;

use super::{App, MAX_ATTEMPTS, actor, event};
use crate::domain::{self, case_name, reference};
use crate::error::Error;
use crate::store::{self, NewCase};

/// The method recorded with a request_id that opened a case.
const CREATE: &str = "CreateCase";

impl App {
    /// Opens a case for `caller`, or returns the one already opened with the same request_id or
    /// with the same channel and external reference. The flag says whether this call opened it.
    pub async fn create(&self, caller: &Caller, request_id: &str, case: Case) -> Result<(Case, bool), Error> {
        let (tenant, actor) = (&caller.tenant, actor(caller));
        let store = &self.store;
        for attempt in 0..MAX_ATTEMPTS {
            if attempt > 0
                && let Some(seen) = store::find_request(store.db(), tenant, request_id).await?
            {
                return Ok((self.replayed_case(tenant, &seen, CREATE).await?, false));
            }
            if !case.external_reference.is_empty()
                && let Some(existing) =
                    store::find_by_external_reference(store.db(), tenant, case.channel, &case.external_reference)
                        .await?
            {
                let _turn = store.turn().await;
                let name = case_name(tenant, existing.id);
                if !store::insert_request(store.db(), tenant, request_id, CREATE, existing.id, &name).await? {
                    continue;
                }
                return Ok((existing.case, false));
            }
            let now = now();
            let id = Uuid::now_v7();
            let mut fresh = case.clone();
            let change = domain::open(&mut fresh, case_name(tenant, id), reference::for_id(id), &actor, now);
            let event = event(tenant, &fresh, &change, &actor, now);
            self.check_size(&event)?;
            let new = NewCase { tenant, request_id, id, case: &fresh, change: &change, event: &event, now };
            let written = if store.is_postgres() {
                store::insert_case_at_once(store.db(), &new).await
            } else {
                self.insert_in_transaction(&new).await
            };
            match written {
                Ok(true) => {
                    store.log().written();
                    return Ok((fresh, true));
                }
                // The request_id was recorded by another call: replay it on the next turn.
                Ok(false) => continue,
                // Another call opened the same external reference first: return theirs next turn.
                Err(e) if e.is_unique_violation() => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::Contended)
    }

    /// Writes a new case, its first entry, its event and its request in one transaction.
    /// False when the request_id was already recorded.
    async fn insert_in_transaction(&self, new: &NewCase<'_>) -> Result<bool, Error> {
        let _turn = self.store.turn().await;
        let txn = begin_write(self.store.db()).await?;
        if !store::insert_request(&txn, new.tenant, new.request_id, CREATE, new.id, &new.case.name).await? {
            txn.rollback().await?;
            return Ok(false);
        }
        store::insert_case(&txn, new).await?;
        txn.commit().await?;
        Ok(true)
    }
}
