//! Settings of the notification service: the `[notification]` section.
//!
//! Channels (SMTP, the SMS provider, webhooks), the retry schedule, the delivery workers,
//! per-recipient rate limits, quiet hours for staff alerts, locales and the default rules.
//! Passwords, tokens and secrets are masked when the configuration is printed.

use serde::{Deserialize, Serialize};

use super::{ConfigError, DurationSetting, ListenSetting, check_url, ensure, listen_on, mask_url};
use crate::ServiceKind;

/// The `[notification]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationConfig {
    /// Where `redress serve notification` listens.
    pub listen: ListenSetting,
    /// This service's database, overriding `database.url`.
    pub database_url: String,

    /// The SMTP server: `smtp://host:25` (plain), `smtp://host:587?tls=starttls` (STARTTLS
    /// required), `smtp://host:587?tls=opportunistic`, or `smtps://host:465` (TLS from the
    /// start). Credentials may be given in the URL. Empty: email is not configured and email
    /// notifications are dead-lettered saying so.
    pub smtp_url: String,
    /// The SMTP user name, when not in the URL.
    pub smtp_username: String,
    /// The SMTP password, when not in the URL. Masked when printed.
    pub smtp_password: String,
    /// How long one SMTP command may take.
    pub smtp_timeout: DurationSetting,
    /// The most SMTP connections kept open.
    pub smtp_pool_size: u32,
    /// The sender of every email, `Name <address>` or `address`.
    pub email_from: String,
    /// Where replies go: an address read by a person. Empty: the sender's address.
    pub reply_to: String,
    /// The name customers know the organisation by (the `tenant` template variable). Empty:
    /// the tenant id.
    pub organisation_name: String,
    /// The satisfaction-survey link, with `{reference}` and `{case}` replaced by the case's
    /// reference and id. Empty: a `mailto:` link to `reply_to` quoting the reference.
    pub survey_url: String,

    /// The SMS provider's endpoint, Twilio-style (a form POST with `To`, `From` and `Body`),
    /// with `{account}` replaced by `sms_account`. Empty: SMS is not configured.
    pub sms_url: String,
    /// The account id, the user name of the provider's basic authentication.
    pub sms_account: String,
    /// The auth token, the password of the provider's basic authentication. Masked when printed.
    pub sms_token: String,
    /// The sender number (E.164) or sender id.
    pub sms_from: String,

    /// The key webhooks are signed with (HMAC-SHA256), shared with the receivers. Masked when
    /// printed. Empty: webhook notifications are dead-lettered saying so.
    pub webhook_signing_key: String,
    /// Allow webhooks and the SMS provider over plain `http://`. For tests only.
    pub allow_http: bool,
    /// How long one webhook or SMS request may take.
    pub http_timeout: DurationSetting,

    /// The ceiling of the first retry's delay; it doubles with each attempt (full jitter).
    pub retry_base_delay: DurationSetting,
    /// The highest ceiling a retry delay may have.
    pub retry_max_delay: DurationSetting,
    /// Attempts in all, the first included, before a notification is dead-lettered.
    pub retry_max_attempts: u32,

    /// Delivery workers in each process.
    pub workers: u32,
    /// The most notifications a worker claims and delivers at once.
    pub batch_size: u32,
    /// How long a claim lasts: a crashed worker's notifications are delivered by another
    /// after this long. Longer than `smtp_timeout` and `http_timeout`.
    pub claim_lease: DurationSetting,
    /// How often idle workers look for due notifications they were not woken for (another
    /// replica's, expired claims). New notifications wake the workers at once.
    pub poll_interval: DurationSetting,

    /// The most notifications one recipient gets per `rate_limit_window`; urgent ones are not
    /// counted against it. 0 turns rate limiting off.
    pub rate_limit_max: u32,
    /// The window of the per-recipient rate limit.
    pub rate_limit_window: DurationSetting,
    /// When quiet hours start for non-urgent staff alerts, `HH:MM`. Empty (with
    /// `quiet_hours_end`) turns quiet hours off.
    pub quiet_hours_start: String,
    /// When quiet hours end, `HH:MM`.
    pub quiet_hours_end: String,
    /// The IANA time zone of quiet hours for staff without one in the directory.
    pub quiet_hours_time_zone: String,

    /// The locale used when neither the request nor the recipient names one.
    pub default_locale: String,
    /// Whether tenants without rules of their own get the default rules.
    pub default_rules: bool,
    /// How long after resolution the default rules send the satisfaction survey.
    pub survey_delay: DurationSetting,
}

impl Default for NotificationConfig {
    fn default() -> Self {
        Self {
            listen: listen_on(ServiceKind::Notification),
            database_url: String::new(),
            smtp_url: String::new(),
            smtp_username: String::new(),
            smtp_password: String::new(),
            smtp_timeout: "30s".into(),
            smtp_pool_size: 16,
            email_from: "Customer Care <care@localhost.localdomain>".into(),
            reply_to: String::new(),
            organisation_name: String::new(),
            survey_url: String::new(),
            sms_url: String::new(),
            sms_account: String::new(),
            sms_token: String::new(),
            sms_from: String::new(),
            webhook_signing_key: String::new(),
            allow_http: false,
            http_timeout: "10s".into(),
            retry_base_delay: "1s".into(),
            retry_max_delay: "10m".into(),
            retry_max_attempts: 12,
            workers: 4,
            batch_size: 32,
            claim_lease: "2m".into(),
            poll_interval: "1s".into(),
            rate_limit_max: 20,
            rate_limit_window: "1h".into(),
            quiet_hours_start: "22:00".into(),
            quiet_hours_end: "07:00".into(),
            quiet_hours_time_zone: "UTC".into(),
            default_locale: "en".into(),
            default_rules: true,
            survey_delay: "3d".into(),
        }
    }
}

/// Replaces a non-empty secret with `****`.
fn mask_secret(value: &mut String) {
    if !value.is_empty() {
        *value = "****".into();
    }
}

impl NotificationConfig {
    /// Replaces secrets with `****` for printing (the database URL is masked with the others').
    pub fn mask(&mut self) {
        self.smtp_url = mask_url(&self.smtp_url);
        mask_secret(&mut self.smtp_password);
        mask_secret(&mut self.sms_token);
        mask_secret(&mut self.webhook_signing_key);
    }
}

impl NotificationConfig {
    /// Quiet hours as minutes after local midnight (start, end); `None` when turned off.
    pub fn quiet_hours_minutes(&self) -> Result<Option<(u32, u32)>, ConfigError> {
        if self.quiet_hours_start.is_empty() && self.quiet_hours_end.is_empty() {
            return Ok(None);
        }
        let start = parse_time_of_day("notification.quiet_hours_start", &self.quiet_hours_start)?;
        let end = parse_time_of_day("notification.quiet_hours_end", &self.quiet_hours_end)?;
        Ok(Some((start, end)))
    }
}

/// Parses `HH:MM` into minutes after midnight.
fn parse_time_of_day(key: &str, value: &str) -> Result<u32, ConfigError> {
    let bad = || ConfigError::new(key, format!("{value:?} is not a time of day such as 22:00"));
    let (hours, minutes) = value.trim().split_once(':').ok_or_else(bad)?;
    let hours: u32 = hours.parse().map_err(|_| bad())?;
    let minutes: u32 = minutes.parse().map_err(|_| bad())?;
    if hours > 23 || minutes > 59 {
        return Err(bad());
    }
    Ok(hours * 60 + minutes)
}

/// The address inside `Name <address>`, or the value itself.
fn mailbox_address(value: &str) -> &str {
    match (value.rfind('<'), value.rfind('>')) {
        (Some(open), Some(close)) if open < close => value[open + 1..close].trim(),
        _ => value.trim(),
    }
}

/// A mailbox (`Name <address>` or `address`) with one `@`, something either side, no spaces.
fn check_mailbox(key: &str, value: &str) -> Result<(), ConfigError> {
    let address = mailbox_address(value);
    let valid = match address.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !address.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if valid { Ok(()) } else { Err(ConfigError::new(key, format!("{value:?} is not an email address"))) }
}

impl NotificationConfig {
    /// Checks the section; `prefix` is its key.
    pub fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        let key = |name: &str| format!("{prefix}.{name}");
        if !self.smtp_url.is_empty() {
            let url = check_url(&key("smtp_url"), &self.smtp_url, &["smtp", "smtps"])?;
            if url.host_str().unwrap_or_default().is_empty() {
                return Err(ConfigError::new(key("smtp_url"), "has no host"));
            }
            for (name, value) in url.query_pairs() {
                match (name.as_ref(), value.as_ref()) {
                    ("tls", "none" | "starttls" | "opportunistic" | "tls") if url.scheme() == "smtp" => {}
                    ("tls", other) => {
                        return Err(ConfigError::new(
                            key("smtp_url"),
                            format!("tls={other:?}: use none, starttls, opportunistic or tls (smtp:// only)"),
                        ));
                    }
                    (other, _) => {
                        return Err(ConfigError::new(key("smtp_url"), format!("unknown parameter {other:?}")));
                    }
                }
            }
        }
        ensure(self.smtp_pool_size > 0, key("smtp_pool_size"), "must be at least 1")?;
        check_mailbox(&key("email_from"), &self.email_from)?;
        if !self.reply_to.is_empty() {
            check_mailbox(&key("reply_to"), &self.reply_to)?;
        }
        if !self.survey_url.is_empty() {
            check_url(&key("survey_url"), &self.survey_url.replace(['{', '}'], ""), &["http", "https"])?;
        }
        if !self.sms_url.is_empty() {
            let schemes: &[&str] = if self.allow_http { &["http", "https"] } else { &["https"] };
            check_url(&key("sms_url"), &self.sms_url.replace(['{', '}'], ""), schemes)?;
            if self.sms_from.is_empty() {
                return Err(ConfigError::new(key("sms_from"), "required when sms_url is set"));
            }
        }
        let (base, max) = (self.retry_base_delay.get(), self.retry_max_delay.get());
        ensure(!base.is_zero(), key("retry_base_delay"), "must be more than zero")?;
        ensure(max >= base, key("retry_max_delay"), "must be at least retry_base_delay")?;
        ensure(self.retry_max_attempts > 0, key("retry_max_attempts"), "must be at least 1")?;
        ensure(self.workers > 0, key("workers"), "must be at least 1")?;
        ensure((1..=1000).contains(&self.batch_size), key("batch_size"), "must be 1 to 1000")?;
        let longest_call = self.smtp_timeout.max(*self.http_timeout);
        ensure(
            *self.claim_lease > longest_call,
            key("claim_lease"),
            "must be longer than smtp_timeout and http_timeout",
        )?;
        ensure(!self.poll_interval.is_zero(), key("poll_interval"), "must be more than zero")?;
        ensure(!self.rate_limit_window.is_zero(), key("rate_limit_window"), "must be more than zero")?;
        match (self.quiet_hours_start.is_empty(), self.quiet_hours_end.is_empty()) {
            (true, true) => {}
            (false, false) => {
                let start = parse_time_of_day(&key("quiet_hours_start"), &self.quiet_hours_start)?;
                let end = parse_time_of_day(&key("quiet_hours_end"), &self.quiet_hours_end)?;
                if start == end {
                    return Err(ConfigError::new(key("quiet_hours_end"), "must differ from quiet_hours_start"));
                }
            }
            (true, false) => return Err(ConfigError::new(key("quiet_hours_start"), "set both or neither")),
            (false, true) => return Err(ConfigError::new(key("quiet_hours_end"), "set both or neither")),
        }
        if self.quiet_hours_time_zone.trim().is_empty() {
            return Err(ConfigError::new(key("quiet_hours_time_zone"), "required, for example UTC or Europe/Paris"));
        }
        let locale = self.default_locale.trim();
        let locale_ok = !locale.is_empty()
            && locale.len() <= 35
            && locale.split(['-', '_']).all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric()));
        if !locale_ok {
            return Err(ConfigError::new(
                key("default_locale"),
                format!("{locale:?} is not a locale such as en or fr-CA"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_secrets_are_masked() {
        let mut config = NotificationConfig::default();
        assert_eq!(config.validate("notification"), Ok(()));
        config.smtp_url = "smtp://mailer:hunter2@mail.example.com:587?tls=starttls".into();
        config.smtp_password = "hunter3".into();
        config.sms_token = "tok".into();
        config.webhook_signing_key = "whsec".into();
        assert_eq!(config.validate("notification"), Ok(()));
        config.mask();
        let printed = format!("{config:?}");
        for secret in ["hunter2", "hunter3", "tok\"", "whsec"] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert!(config.smtp_url.contains("mailer:****@mail.example.com"), "{}", config.smtp_url);
    }

    #[test]
    fn nonsense_is_named_by_its_key() {
        type Change = fn(&mut NotificationConfig);
        let cases: [(Change, &str); 12] = [
            (|c| c.smtp_url = "http://mail".into(), "notification.smtp_url"),
            (|c| c.smtp_url = "smtp://mail?tls=maybe".into(), "notification.smtp_url"),
            (|c| c.smtp_url = "smtps://mail?tls=starttls".into(), "notification.smtp_url"),
            (|c| c.email_from = "nobody".into(), "notification.email_from"),
            (|c| c.retry_max_attempts = 0, "notification.retry_max_attempts"),
            (|c| c.retry_max_delay = "1ms".into(), "notification.retry_max_delay"),
            (|c| c.claim_lease = "5s".into(), "notification.claim_lease"),
            (|c| c.quiet_hours_start = "25:00".into(), "notification.quiet_hours_start"),
            (|c| c.quiet_hours_end = String::new(), "notification.quiet_hours_end"),
            (|c| c.sms_url = "http://sms.example.com".into(), "notification.sms_url"),
            (|c| c.default_locale = "fr CA".into(), "notification.default_locale"),
            (|c| c.workers = 0, "notification.workers"),
        ];
        for (change, key) in cases {
            let mut config = NotificationConfig::default();
            change(&mut config);
            let err = config.validate("notification").expect_err(key);
            assert_eq!(err.key, key, "{err}");
        }
        assert_eq!(parse_time_of_day("k", "07:30"), Ok(450));
    }
}
