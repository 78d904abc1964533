//! Settings of the escalation service: the `[escalation]` section.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ConfigError, DurationSetting, ListenSetting, ensure, listen_on};
use crate::ServiceKind;

/// The `[escalation]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EscalationConfig {
    /// Where `redress serve escalation` listens.
    pub listen: ListenSetting,
    /// This service's database, overriding `database.url`.
    pub database_url: String,
    /// Timer workers per process.
    pub timer_workers: usize,
    /// The most due timers a worker claims at once.
    pub claim_batch: usize,
    /// How long a claimed timer stays hidden before the reaper returns it to the due set.
    pub claim_visibility: DurationSetting,
}

impl Default for EscalationConfig {
    fn default() -> Self {
        Self {
            listen: listen_on(ServiceKind::Escalation),
            database_url: String::new(),
            timer_workers: 2,
            claim_batch: 256,
            claim_visibility: "30s".into(),
        }
    }
}

impl EscalationConfig {
    /// Checks the section; `prefix` is its key.
    pub fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        let key = |name: &str| format!("{prefix}.{name}");
        ensure((1..=64).contains(&self.timer_workers), key("timer_workers"), "must be 1 to 64")?;
        ensure((1..=10_000).contains(&self.claim_batch), key("claim_batch"), "must be 1 to 10000")?;
        ensure(*self.claim_visibility >= Duration::from_secs(1), key("claim_visibility"), "must be at least 1s")
    }
}
