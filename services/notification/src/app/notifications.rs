//! GetNotification and ListNotifications: a tenant's notifications with their delivery
//! status, as far as the caller may see them.

use prost::Message;
use redress_kit::caller::Caller;
use redress_proto::case::v1::Case;
use uuid::Uuid;

use super::{App, page};
use crate::error::Error;
use crate::store::notifications::{Filter, Row};

impl App {
    /// GetNotification: the notification `id` of the caller's tenant, if the caller may see it.
    pub async fn get_notification(&self, caller: &Caller, id: Uuid) -> Result<Option<Row>, Error> {
        let row = self.store.notification(caller.tenant.as_str(), id).await?;
        Ok(row.filter(|row| seen_by(caller, row)))
    }

    /// ListNotifications: up to `limit` notifications matching `filter`, newest first, older
    /// than `before`, and the position to go on from when more follow. A scoped caller's page
    /// keeps only what they may see, so it may come out short.
    pub async fn list_notifications(
        &self,
        caller: &Caller,
        filter: &Filter,
        before: Option<Uuid>,
        limit: u64,
    ) -> Result<(Vec<Row>, Option<Uuid>), Error> {
        let rows = self.store.notifications(caller.tenant.as_str(), filter, before, limit + 1).await?;
        let (rows, more) = page(rows, limit);
        let next = rows.last().filter(|_| more).map(|last| last.id);
        Ok((rows.into_iter().filter(|row| seen_by(caller, row)).collect(), next))
    }
}

/// Whether a scoped caller (an agent) may see a notification: one addressed to them, or one
/// about a case of theirs, of their team or unassigned, as the case stood when the notification
/// was made. A notification about no case, or sent through the API with no snapshot of its
/// case, is theirs only if it is addressed to them.
fn seen_by(caller: &Caller, row: &Row) -> bool {
    if caller.scope.is_none() || row.recipient == caller.actor {
        return true;
    }
    let snapshot = row.case_snapshot.as_deref().and_then(|bytes| Case::decode(bytes).ok());
    snapshot.is_some_and(|case| caller.sees_case(&case.owner, &case.team))
}
