//! The intake service's own settings, read from the `[intake]` section.

use std::time::Duration;

use redress_kit::config::IntakeConfig;

use crate::domain::{ClassifierConfig, RepeatRules, SurveyThresholds};

/// How the intake service behaves.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Submissions per second per tenant.
    pub rate_per_second: f64,
    /// Submissions a tenant may make in a burst.
    pub rate_burst: u32,
    /// When a complaint joins one of the customer's recent cases.
    pub repeat: RepeatRules,
    /// How far back a customer's cases count towards a repeat complainant.
    pub repeat_complainant_window: Duration,
    /// How long a per-customer lock lives without renewal.
    pub lock_ttl: Duration,
    /// How long a submission waits for the customer's lock.
    pub lock_wait: Duration,
    /// The classification rules, with the thresholds configured.
    pub classifier: ClassifierConfig,
}

impl Settings {
    /// Reads the `[intake]` section (already validated).
    pub fn from_config(config: &IntakeConfig) -> anyhow::Result<Self> {
        let repeat_window = config.repeat_contact_window.get();
        let complainant_window = config.repeat_complainant_window.get();
        let mut classifier = ClassifierConfig {
            survey: SurveyThresholds {
                csat_detractor_max: config.csat_detractor_max,
                csat_promoter_min: config.csat_promoter_min,
                nps_detractor_max: config.nps_detractor_max,
                nps_promoter_min: config.nps_promoter_min,
            },
            review_unhappy_max_rating: config.review_unhappy_max_rating,
            ..ClassifierConfig::default()
        };
        classifier.severity.repeat_threshold = config.repeat_complainant_cases;
        classifier.severity.repeat_window_days =
            u32::try_from(complainant_window.as_secs().div_ceil(86_400)).unwrap_or(u32::MAX);
        Ok(Settings {
            rate_per_second: config.rate_limit_per_second,
            rate_burst: config.rate_limit_burst,
            repeat: RepeatRules { window: repeat_window, threshold: config.repeat_contact_similarity },
            repeat_complainant_window: complainant_window,
            lock_ttl: config.customer_lock_ttl.get(),
            lock_wait: config.customer_lock_wait.get(),
            classifier,
        })
    }
}

impl Default for Settings {
    fn default() -> Self {
        // The defaults of the `[intake]` section always parse.
        Settings::from_config(&IntakeConfig::default()).unwrap_or_else(|_| Settings {
            rate_per_second: 50.0,
            rate_burst: 100,
            repeat: RepeatRules::default(),
            repeat_complainant_window: Duration::from_secs(30 * 86_400),
            lock_ttl: Duration::from_secs(15),
            lock_wait: Duration::from_secs(10),
            classifier: ClassifierConfig::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_becomes_settings() {
        let config = IntakeConfig {
            repeat_contact_window: "2h".into(),
            repeat_complainant_window: "7days".into(),
            repeat_complainant_cases: 3,
            nps_detractor_max: 5,
            ..IntakeConfig::default()
        };
        let settings = Settings::from_config(&config).expect("settings");
        assert_eq!(settings.repeat.window, Duration::from_secs(7200));
        assert_eq!(settings.classifier.severity.repeat_threshold, 3);
        assert_eq!(settings.classifier.severity.repeat_window_days, 7);
        assert_eq!(settings.classifier.survey.nps_detractor_max, 5);
        assert_eq!(Settings::default().repeat.window, Duration::from_secs(86_400));
    }
}
