//! Settings of the escalation service: the `[escalation]` section.

use serde::{Deserialize, Serialize};

use super::{ConfigError, Section, listen_on, mask_url};
use crate::ServiceKind;

/// The `[escalation]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EscalationConfig {
    /// Where `redress serve escalation` listens.
    pub listen: String,
    /// This service's database, overriding `database.url`.
    pub database_url: String,
    /// Timer workers per process.
    pub timer_workers: usize,
    /// The most due timers a worker claims at once.
    pub claim_batch: usize,
    /// How long a claimed timer stays hidden before the reaper returns it to the due set.
    pub claim_visibility: String,
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
    /// Replaces secrets with `****` for printing.
    pub fn mask(&mut self) {
        self.database_url = mask_url(&self.database_url);
    }
}

impl Section for EscalationConfig {
    fn listen(&self) -> &str {
        &self.listen
    }

    fn database_url(&self) -> &str {
        &self.database_url
    }

    fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        if !(1..=64).contains(&self.timer_workers) {
            return Err(ConfigError::new(format!("{prefix}.timer_workers"), "must be 1 to 64"));
        }
        if !(1..=10_000).contains(&self.claim_batch) {
            return Err(ConfigError::new(format!("{prefix}.claim_batch"), "must be 1 to 10000"));
        }
        let visibility = super::parse_duration(&format!("{prefix}.claim_visibility"), &self.claim_visibility)?;
        if visibility < std::time::Duration::from_secs(1) {
            return Err(ConfigError::new(format!("{prefix}.claim_visibility"), "must be at least 1s"));
        }
        Ok(())
    }
}
