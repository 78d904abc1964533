//! The retention job: anonymises the closed cases of every tenant with a retention period that
//! have been unchanged for longer than it.

use std::sync::Arc;
use std::time::Duration;

use redress_kit::TenantId;
use redress_kit::time::{now, period_text};
use tokio_util::sync::CancellationToken;

use super::App;
use crate::domain::erase::{EraseRequest, Subject};
use crate::domain::{Actor, Rules};
use crate::error::Error;

/// The most cases the retention job anonymises per tenant in one pass.
const RETENTION_BATCH: u64 = 200;

impl App {
    /// One pass of the retention job. Returns how many cases it anonymised.
    pub async fn retention_pass(&self) -> Result<usize, Error> {
        let actor = Actor { id: "system:case".into(), supervisor: true, service: true };
        let mut erased = 0;
        for (tenant, playbook) in self.store.playbooks().await? {
            let Some(period) = Rules::from_playbook(&playbook).retention else {
                continue;
            };
            let Ok(tenant) = TenantId::parse(&tenant) else {
                continue;
            };
            let cutoff = now() - chrono::Duration::from_std(period).unwrap_or(chrono::Duration::MAX);
            for id in self.store.closed_before(&tenant, cutoff, RETENTION_BATCH).await? {
                let request = EraseRequest {
                    subject: Subject::Case(id),
                    reason: format!("closed for longer than the retention period ({})", period_text(period)),
                    request_id: format!("retention:{id}"),
                };
                erased += self.erase(&tenant, &request, &actor).await?.cases.len();
            }
        }
        Ok(erased)
    }
}

/// Runs the retention job every `interval` until `shutdown`.
pub async fn run(app: Arc<App>, interval: Duration, shutdown: CancellationToken) -> anyhow::Result<()> {
    loop {
        match app.retention_pass().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(cases = n, "retention: anonymised closed cases past their retention period"),
            Err(e) => tracing::warn!(error = %e, "retention pass failed; retrying at the next interval"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(interval) => {}
        }
    }
}
