//! Settings of the analytics service: the `[analytics]` section.

use serde::{Deserialize, Serialize};

use super::{ConfigError, DurationSetting, ListenSetting, OptionalListen, check_url, ensure, listen_on, mask_url};
use crate::ServiceKind;

/// The port the Arrow Flight SQL endpoint listens on by default.
pub const FLIGHT_PORT: u16 = 50057;

/// The `[analytics]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalyticsConfig {
    /// Where `redress serve analytics` listens.
    pub listen: ListenSetting,
    /// This service's database, overriding `database.url`.
    pub database_url: String,
    /// Where the Arrow Flight SQL endpoint for BI tools listens, in `redress up` and in
    /// `redress serve analytics` alike. Empty disables it.
    pub flight_listen: OptionalListen,
    /// On PostgreSQL, the URL Flight SQL queries connect with: a login of the read-only role.
    /// Empty means the analytics database URL with the user `redress_analytics_reader` and no password.
    pub flight_reader_url: String,
    /// The longest a Flight SQL query may run.
    pub flight_statement_timeout: DurationSetting,
    /// The most rows one Flight SQL query may return; a larger result ends with RESOURCE_EXHAUSTED.
    pub flight_max_rows: u64,
}

impl Default for AnalyticsConfig {
    fn default() -> Self {
        Self {
            listen: listen_on(ServiceKind::Analytics),
            database_url: String::new(),
            flight_listen: format!("0.0.0.0:{FLIGHT_PORT}").into(),
            flight_reader_url: String::new(),
            flight_statement_timeout: "30s".into(),
            flight_max_rows: 1_000_000,
        }
    }
}

impl AnalyticsConfig {
    /// Replaces secrets with `****` for printing (the database URL is masked with the others').
    pub fn mask(&mut self) {
        self.flight_reader_url = mask_url(&self.flight_reader_url);
    }

    /// Checks the section; `prefix` is its key.
    pub fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        if !self.flight_reader_url.is_empty() {
            let key = format!("{prefix}.flight_reader_url");
            let url = check_url(&key, &self.flight_reader_url, &["postgres", "postgresql"])?;
            if url.host_str().unwrap_or_default().is_empty() {
                return Err(ConfigError::new(key, "PostgreSQL URL has no host"));
            }
        }
        let timeout = format!("{prefix}.flight_statement_timeout");
        ensure(!self.flight_statement_timeout.is_zero(), timeout, "must be longer than zero")?;
        ensure(self.flight_max_rows > 0, format!("{prefix}.flight_max_rows"), "must be at least 1")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flight_settings_are_checked() {
        let ok = AnalyticsConfig::default();
        assert!(ok.validate("analytics").is_ok());
        assert!(ok.flight_listen.text().ends_with(":50057"));
        let bad = |f: fn(&mut AnalyticsConfig)| {
            let mut c = AnalyticsConfig::default();
            f(&mut c);
            c.validate("analytics").unwrap_err().key
        };
        assert_eq!(bad(|c| c.flight_reader_url = "mysql://x/y".into()), "analytics.flight_reader_url");
        assert_eq!(bad(|c| c.flight_statement_timeout = "0s".into()), "analytics.flight_statement_timeout");
        assert_eq!(bad(|c| c.flight_max_rows = 0), "analytics.flight_max_rows");
        let mut masked = AnalyticsConfig { flight_reader_url: "postgres://r:secret@db/x".into(), ..ok };
        masked.mask();
        assert!(!masked.flight_reader_url.contains("secret"));
    }
}
