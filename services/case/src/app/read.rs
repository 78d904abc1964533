//! Reading cases: one by name, or a filtered page, within what the caller may see.

use redress_kit::caller::Caller;
use redress_proto::case::v1::{Case, CaseFilter, CaseOrderBy};
use uuid::Uuid;

use super::App;
use crate::error::Error;
use crate::store::{CasePage, Visible, page};

impl App {
    /// The case `id`, unless the caller's scope hides it.
    pub async fn get(&self, caller: &Caller, id: Uuid) -> Result<Case, Error> {
        match self.visible(caller, id).await? {
            Some(case) => Ok(case),
            None => self.store.get(&caller.tenant, id).await,
        }
    }

    /// At most `limit` cases matching `filter` in `order` after `after`, among those the
    /// caller may see.
    pub async fn list(
        &self,
        caller: &Caller,
        filter: &CaseFilter,
        order: CaseOrderBy,
        after: Option<page::CaseKey>,
        limit: u64,
    ) -> Result<CasePage, Error> {
        let scope = caller.scope.as_ref().map(|scope| Visible { actor: &caller.actor, team: scope.team.as_deref() });
        self.store.list(&caller.tenant, filter, order, after, limit, scope).await
    }
}
