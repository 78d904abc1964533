//! Settings of the case service: the `[case]` section.

use serde::{Deserialize, Serialize};

use super::{ConfigError, Section, listen_on, mask_url, parse_duration};
use crate::ServiceKind;

/// The `[case]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaseConfig {
    /// Where `redress serve case` listens.
    pub listen: String,
    /// This service's database, overriding `database.url`.
    pub database_url: String,
    /// How often the retention job looks for closed cases past their tenant's retention period.
    pub retention_interval: String,
}

impl Default for CaseConfig {
    fn default() -> Self {
        Self { listen: listen_on(ServiceKind::Case), database_url: String::new(), retention_interval: "1h".into() }
    }
}

impl CaseConfig {
    /// Replaces secrets with `****` for printing.
    pub fn mask(&mut self) {
        self.database_url = mask_url(&self.database_url);
    }
}

impl Section for CaseConfig {
    fn listen(&self) -> &str {
        &self.listen
    }

    fn database_url(&self) -> &str {
        &self.database_url
    }

    fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        let key = format!("{prefix}.retention_interval");
        if parse_duration(&key, &self.retention_interval)?.is_zero() {
            return Err(ConfigError::new(key, "must be a positive duration"));
        }
        Ok(())
    }
}
