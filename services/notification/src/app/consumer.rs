//! Rules at work: the case event stream, consumed with the kit's durable cursor, turned into
//! customer communications. Each batch's notifications are accepted in the same transaction
//! that advances the cursor, and each has the key `rule:{rule}:{event}`, so a replayed event
//! (after a crash, or a lease changing hands) accepts nothing twice.

use std::collections::HashMap;
use std::sync::Arc;

use prost::Message;
use redress_kit::consumer::EventHandler;
use redress_kit::db::Txn;
use redress_kit::time::now;
use redress_proto::case::v1::{CaseEvent, CaseEventType};
use redress_proto::notification::v1::Rule;
use tokio::sync::Notify;

use super::accept::new_row;
use crate::domain::rules::{default_rules, matches, plan};
use crate::settings::Settings;
use crate::store::notifications::{erase_case, insert};
use crate::store::rules::rules_of;

/// The consumer's name: its cursor and lease.
pub const CONSUMER: &str = "notification-rules";

/// Applies tenants' rules (or the defaults) to case events.
pub struct Consumer {
    settings: Arc<Settings>,
    wake: Arc<Notify>,
}

impl Consumer {
    /// A handler that wakes the delivery workers through `wake` after each batch commits.
    pub fn new(settings: Arc<Settings>, wake: Arc<Notify>) -> Self {
        Self { settings, wake }
    }

    /// The rules in force for a tenant: its own, or the defaults when it has none.
    async fn rules(&self, txn: &Txn, tenant: &str) -> anyhow::Result<Vec<Rule>> {
        let own = rules_of(txn, tenant).await?;
        if own.is_empty() && self.settings.default_rules {
            return Ok(default_rules(tenant, self.settings.survey_delay));
        }
        Ok(own)
    }
}

#[tonic::async_trait]
impl EventHandler for Consumer {
    async fn handle(&self, txn: &Txn, events: &[CaseEvent]) -> anyhow::Result<()> {
        let mut rules: HashMap<String, Vec<Rule>> = HashMap::new();
        let mut accepted = 0usize;
        for event in events {
            if event.r#type == CaseEventType::PersonalDataErased as i32 {
                let Some(case) = event.case.as_ref() else { continue };
                let purged = erase_case(txn, &event.tenant, &case.name, Some(case.encode_to_vec()), now()).await?;
                tracing::info!(case = %case.name, notifications = purged, "personal data erased from notifications");
                continue;
            }
            if !rules.contains_key(&event.tenant) {
                let found = self.rules(txn, &event.tenant).await?;
                rules.insert(event.tenant.clone(), found);
            }
            let Some(tenant_rules) = rules.get(&event.tenant) else { continue };
            for rule in tenant_rules.iter().filter(|rule| matches(rule, event)) {
                let Some(planned) = plan(rule, event) else {
                    tracing::debug!(rule = %rule.name, sequence = event.sequence, "rule skipped: recipient unreachable on its channel");
                    continue;
                };
                let row = new_row(
                    &event.tenant,
                    &planned.request_id,
                    &rule.name,
                    planned.notification,
                    Some(planned.case.encode_to_vec()),
                    &self.settings.email_from,
                    now(),
                );
                let (_, created) = insert(txn, row).await?;
                accepted += usize::from(created);
            }
        }
        if accepted > 0 {
            tracing::debug!(events = events.len(), accepted, "rules accepted notifications");
        }
        Ok(())
    }

    async fn committed(&self, _events: &[CaseEvent]) {
        self.wake.notify_waiters();
    }
}
