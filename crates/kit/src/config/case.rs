//! Settings of the case service: the `[case]` section.

use serde::{Deserialize, Serialize};

use super::{ConfigError, DurationSetting, ListenSetting, ensure, listen_on};
use crate::ServiceKind;

/// The `[case]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaseConfig {
    /// Where `redress serve case` listens.
    pub listen: ListenSetting,
    /// This service's database, overriding `database.url`.
    pub database_url: String,
    /// How often the retention job looks for closed cases past their tenant's retention period.
    pub retention_interval: DurationSetting,
}

impl Default for CaseConfig {
    fn default() -> Self {
        Self { listen: listen_on(ServiceKind::Case), database_url: String::new(), retention_interval: "1h".into() }
    }
}

impl CaseConfig {
    /// Checks the section; `prefix` is its key.
    pub fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        let positive = !self.retention_interval.is_zero();
        ensure(positive, format!("{prefix}.retention_interval"), "must be a positive duration")
    }
}
