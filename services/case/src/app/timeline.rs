//! The timeline: entries added by clients, and reading it a page at a time.

use redress_kit::caller::Caller;
use redress_proto::case::v1::{Case, TimelineEntry};
use uuid::Uuid;

use super::{App, Intent};
use crate::domain::Command;
use crate::error::Error;

impl App {
    /// Appends `entry` to the case `id`, and returns the entry as recorded (the first one
    /// recorded, on a replay) and the case.
    pub async fn add_entry(
        &self,
        caller: &Caller,
        id: Uuid,
        intent: Intent<'_>,
        entry: TimelineEntry,
    ) -> Result<(TimelineEntry, Case), Error> {
        let done = self.change(caller, id, intent, Command::AddEntry { entry }).await?;
        let entry = match done.change {
            Some(change) => change.entry,
            None => {
                let position = done.resource.rsplit('/').next().and_then(|p| p.parse().ok()).unwrap_or_default();
                self.store.entry(&caller.tenant, id, position).await?
            }
        };
        Ok((entry, done.case))
    }

    /// Timeline entries of the case `id` after `after_position`, oldest first, with their
    /// positions; the flag says whether more follow.
    pub async fn timeline(
        &self,
        caller: &Caller,
        id: Uuid,
        after_position: i64,
        limit: u64,
    ) -> Result<(Vec<(i64, TimelineEntry)>, bool), Error> {
        self.visible(caller, id).await?;
        self.store.timeline(&caller.tenant, id, after_position, limit).await
    }
}
