//! The tenant's playbook: the rules it enforces.

use redress_kit::TenantId;
use redress_kit::time::{now, timestamp};
use redress_proto::case::v1::Playbook;

use super::App;
use crate::domain::{Rules, playbook};
use crate::error::Error;
use crate::store;

impl App {
    /// The tenant's playbook: the defaults until it changes one.
    pub async fn playbook(&self, tenant: &TenantId) -> Result<Playbook, Error> {
        let stored = store::playbook(self.store.db(), tenant).await?;
        Ok(stored.unwrap_or_else(|| Rules::default().to_playbook(tenant.as_str())))
    }

    /// Changes the rules named by `paths` to their values in `given` (checked by
    /// [`playbook::refusal`]), and returns the playbook as stored.
    pub async fn update_playbook(
        &self,
        tenant: &TenantId,
        given: &Playbook,
        paths: &[String],
    ) -> Result<Playbook, Error> {
        let current = self.playbook(tenant).await?;
        let mut playbook = playbook::merge(current, given, paths, tenant.as_str());
        let now = now();
        playbook.update_time = Some(timestamp(now));
        store::save_playbook(self.store.db(), tenant, &playbook, now).await?;
        Ok(playbook)
    }
}
