//! Settings of the case service: the `[case]` section.

use serde::{Deserialize, Serialize};

use super::{ConfigError, Section, listen_on, mask_url};
use crate::ServiceKind;

/// The `[case]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaseConfig {
    /// Where `redress serve case` listens.
    pub listen: String,
    /// This service's database, overriding `database.url`.
    pub database_url: String,
}

impl Default for CaseConfig {
    fn default() -> Self {
        Self { listen: listen_on(ServiceKind::Case), database_url: String::new() }
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

    fn validate(&self, _prefix: &str) -> Result<(), ConfigError> {
        Ok(())
    }
}
