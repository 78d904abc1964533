//! Settings of the intake service: the `[intake]` section.

use serde::{Deserialize, Serialize};

use super::{ConfigError, DurationSetting, ListenSetting, ensure, listen_on};
use crate::ServiceKind;

/// The `[intake]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntakeConfig {
    /// Where `redress serve intake` listens.
    pub listen: ListenSetting,
    /// This service's database, overriding `database.url`.
    pub database_url: String,
    /// Submissions per second each tenant may make, shared by every replica (through Redis
    /// when `redis.url` is set, otherwise per process).
    pub rate_limit_per_second: f64,
    /// How many submissions a tenant may make in a burst after a quiet spell.
    pub rate_limit_burst: u32,
    /// How long after a case opens a near-identical complaint from the same customer joins
    /// it as a repeat contact instead of opening another case.
    pub repeat_contact_window: DurationSetting,
    /// How alike two complaints must be (0 to 1, cosine of words and word pairs) to count
    /// as a repeat contact.
    pub repeat_contact_similarity: f64,
    /// How far back the customer's earlier cases count towards a repeat complainant.
    pub repeat_complainant_window: DurationSetting,
    /// How many earlier cases in that window make a repeat complainant, which raises severity.
    pub repeat_complainant_cases: u32,
    /// CSAT scores (1 to 5) at or below this are detractors.
    pub csat_detractor_max: i32,
    /// CSAT scores at or above this are promoters.
    pub csat_promoter_min: i32,
    /// NPS scores (0 to 10) at or below this are detractors.
    pub nps_detractor_max: i32,
    /// NPS scores at or above this are promoters.
    pub nps_promoter_min: i32,
    /// Reviews rated at most this (of 5) open a public, unhappy case.
    pub review_unhappy_max_rating: i32,
    /// How long a per-customer lock lives without renewal; renewed while held.
    pub customer_lock_ttl: DurationSetting,
    /// How long a submission waits for another submission of the same customer before
    /// answering UNAVAILABLE.
    pub customer_lock_wait: DurationSetting,
}

impl Default for IntakeConfig {
    fn default() -> Self {
        Self {
            listen: listen_on(ServiceKind::Intake),
            database_url: String::new(),
            rate_limit_per_second: 50.0,
            rate_limit_burst: 100,
            repeat_contact_window: "24h".into(),
            repeat_contact_similarity: 0.8,
            repeat_complainant_window: "30days".into(),
            repeat_complainant_cases: 2,
            csat_detractor_max: 2,
            csat_promoter_min: 4,
            nps_detractor_max: 6,
            nps_promoter_min: 9,
            review_unhappy_max_rating: 2,
            customer_lock_ttl: "15s".into(),
            customer_lock_wait: "10s".into(),
        }
    }
}

/// Checks a survey scale's thresholds, naming the key that is out of place: the promoter
/// minimum when it alone is off the scale, else the detractor maximum.
fn scale(keys: [String; 2], low: i32, high: i32, detractor_max: i32, promoter_min: i32) -> Result<(), ConfigError> {
    if low <= detractor_max && detractor_max < promoter_min && promoter_min <= high {
        return Ok(());
    }
    let [detractor_key, promoter_key] = keys;
    let promoter_alone = (low..high).contains(&detractor_max) && !(low..=high).contains(&promoter_min);
    Err(ConfigError::new(
        if promoter_alone { promoter_key } else { detractor_key },
        format!("must satisfy {low} ≤ detractor max ({detractor_max}) < promoter min ({promoter_min}) ≤ {high}"),
    ))
}

impl IntakeConfig {
    /// Checks the section; `prefix` is its key.
    pub fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        let key = |name: &str| format!("{prefix}.{name}");
        let rate = self.rate_limit_per_second;
        ensure(rate.is_finite() && rate > 0.0, key("rate_limit_per_second"), "must be a positive number")?;
        ensure(self.rate_limit_burst > 0, key("rate_limit_burst"), "must be at least 1")?;
        for (name, value) in [
            ("repeat_contact_window", &self.repeat_contact_window),
            ("repeat_complainant_window", &self.repeat_complainant_window),
            ("customer_lock_ttl", &self.customer_lock_ttl),
        ] {
            ensure(value.as_secs() >= 1, key(name), "must be at least 1s")?;
        }
        let similarity = self.repeat_contact_similarity;
        ensure(
            similarity > 0.0 && similarity <= 1.0,
            key("repeat_contact_similarity"),
            "must be above 0 and at most 1",
        )?;
        ensure(self.repeat_complainant_cases > 0, key("repeat_complainant_cases"), "must be at least 1")?;
        let csat = [key("csat_detractor_max"), key("csat_promoter_min")];
        scale(csat, 1, 5, self.csat_detractor_max, self.csat_promoter_min)?;
        let nps = [key("nps_detractor_max"), key("nps_promoter_min")];
        scale(nps, 0, 10, self.nps_detractor_max, self.nps_promoter_min)?;
        ensure((1..=5).contains(&self.review_unhappy_max_rating), key("review_unhappy_max_rating"), "must be 1 to 5")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_and_nonsense_is_named() {
        assert!(IntakeConfig::default().validate("intake").is_ok());
        let bad = [
            (IntakeConfig { rate_limit_per_second: 0.0, ..Default::default() }, "intake.rate_limit_per_second"),
            (IntakeConfig { rate_limit_burst: 0, ..Default::default() }, "intake.rate_limit_burst"),
            (IntakeConfig { repeat_contact_similarity: 1.5, ..Default::default() }, "intake.repeat_contact_similarity"),
            (IntakeConfig { csat_detractor_max: 4, ..Default::default() }, "intake.csat_detractor_max"),
            (IntakeConfig { nps_promoter_min: 11, ..Default::default() }, "intake.nps_promoter_min"),
            (IntakeConfig { csat_promoter_min: 0, ..Default::default() }, "intake.csat_promoter_min"),
            (IntakeConfig { nps_detractor_max: -1, ..Default::default() }, "intake.nps_detractor_max"),
            (IntakeConfig { review_unhappy_max_rating: 0, ..Default::default() }, "intake.review_unhappy_max_rating"),
            (IntakeConfig { customer_lock_ttl: "10ms".into(), ..Default::default() }, "intake.customer_lock_ttl"),
        ];
        for (config, key) in bad {
            assert_eq!(config.validate("intake").map_err(|e| e.key), Err(key.to_string()));
        }
    }
}
