//! The `[notification]` configuration section, parsed into typed settings.

use std::time::Duration;

use anyhow::{Context as _, anyhow};
use redress_kit::Config;

use crate::domain::{QuietHours, RateLimit, RetryPolicy, WebhookSecret};

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain text, for a local relay or a test server.
    None,
    /// STARTTLS, required: nothing is sent if the server cannot upgrade.
    StartTls,
    /// STARTTLS when the server offers it.
    Opportunistic,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
}

/// Where and how email is sent.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// The server's host name.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// How the connection is secured.
    pub tls: TlsMode,
    /// The user name, if the server wants one.
    pub username: String,
    /// The password.
    pub password: String,
    /// How long one command may take.
    pub timeout: Duration,
    /// The most connections kept open.
    pub pool_size: u32,
}

impl SmtpSettings {
    /// Parses `smtp://[user[:password]@]host[:port][?tls=none|starttls|opportunistic|tls]` or
    /// `smtps://…`; `username` and `password` fill in what the URL leaves out.
    pub fn parse(url: &str, username: &str, password: &str, timeout: Duration, pool_size: u32) -> anyhow::Result<Self> {
        let parsed = url::Url::parse(url).with_context(|| "notification.smtp_url: malformed URL".to_string())?;
        let host =
            parsed.host_str().filter(|h| !h.is_empty()).ok_or_else(|| anyhow!("notification.smtp_url: no host"))?;
        let mut tls = match parsed.scheme() {
            "smtps" => TlsMode::Tls,
            "smtp" => TlsMode::None,
            other => return Err(anyhow!("notification.smtp_url: scheme {other:?} is not smtp or smtps")),
        };
        for (name, value) in parsed.query_pairs() {
            if name == "tls" {
                tls = match value.as_ref() {
                    "none" => TlsMode::None,
                    "starttls" => TlsMode::StartTls,
                    "opportunistic" => TlsMode::Opportunistic,
                    "tls" => TlsMode::Tls,
                    other => return Err(anyhow!("notification.smtp_url: tls={other:?} is not known")),
                };
            }
        }
        let default_port = match tls {
            TlsMode::Tls => 465,
            TlsMode::StartTls | TlsMode::Opportunistic => 587,
            TlsMode::None => 25,
        };
        let decode =
            |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
        let url_user = decode(parsed.username()).unwrap_or_default();
        let url_password = parsed.password().and_then(decode).unwrap_or_default();
        Ok(Self {
            host: host.trim_start_matches('[').trim_end_matches(']').to_string(),
            port: parsed.port().unwrap_or(default_port),
            tls,
            username: if url_user.is_empty() { username.to_string() } else { url_user },
            password: if url_password.is_empty() { password.to_string() } else { url_password },
            timeout,
            pool_size,
        })
    }
}

/// The SMS provider.
#[derive(Debug, Clone)]
pub struct SmsSettings {
    /// The endpoint, `{account}` replaced.
    pub url: String,
    /// The account id (basic-auth user).
    pub account: String,
    /// The token (basic-auth password).
    pub token: String,
    /// The sender.
    pub from: String,
}

/// Everything the notification service is configured with beyond what every service has.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Email; `None` when `notification.smtp_url` is empty.
    pub smtp: Option<SmtpSettings>,
    /// The sender of every email.
    pub email_from: String,
    /// Where replies go, an address read by a person.
    pub reply_to: String,
    /// The organisation's name for the `tenant` variable; empty for the tenant id.
    pub organisation_name: String,
    /// The survey link pattern; empty for a `mailto:` link.
    pub survey_url: String,
    /// SMS; `None` when `notification.sms_url` is empty.
    pub sms: Option<SmsSettings>,
    /// The webhook signing secret; `None` when not configured.
    pub webhook_secret: Option<WebhookSecret>,
    /// Whether `http://` is allowed for webhooks and SMS.
    pub allow_http: bool,
    /// How long one HTTP request may take.
    pub http_timeout: Duration,
    /// The retry schedule.
    pub retry: RetryPolicy,
    /// Workers per process.
    pub workers: u32,
    /// Notifications claimed at once by a worker.
    pub batch_size: u32,
    /// How long a claim lasts.
    pub claim_lease: Duration,
    /// How often idle workers look for work they were not woken for.
    pub poll_interval: Duration,
    /// The per-recipient rate limit; `None` when off.
    pub rate_limit: Option<RateLimit>,
    /// Quiet hours for non-urgent staff alerts; `None` when off.
    pub quiet_hours: Option<QuietHours>,
    /// The time zone of quiet hours for staff without one.
    pub quiet_time_zone: jiff::tz::TimeZone,
    /// The locale when nothing else names one.
    pub default_locale: String,
    /// Whether tenants without rules get the defaults.
    pub default_rules: bool,
    /// How long after resolution the default survey goes.
    pub survey_delay: Duration,
}

/// The address inside `Name <address>`, or the value itself.
pub fn mailbox_address(value: &str) -> &str {
    match (value.rfind('<'), value.rfind('>')) {
        (Some(open), Some(close)) if open < close => value[open + 1..close].trim(),
        _ => value.trim(),
    }
}

impl Settings {
    /// Reads the `[notification]` section of a validated configuration.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let c = &config.notification;
        let smtp_timeout = c.smtp_timeout.get();
        let smtp = if c.smtp_url.is_empty() {
            None
        } else {
            Some(SmtpSettings::parse(&c.smtp_url, &c.smtp_username, &c.smtp_password, smtp_timeout, c.smtp_pool_size)?)
        };
        let sms = (!c.sms_url.is_empty()).then(|| SmsSettings {
            url: c.sms_url.replace("{account}", &c.sms_account),
            account: c.sms_account.clone(),
            token: c.sms_token.clone(),
            from: c.sms_from.clone(),
        });
        let webhook_secret = if c.webhook_signing_key.is_empty() {
            None
        } else {
            Some(
                WebhookSecret::new(c.webhook_signing_key.as_bytes())
                    .map_err(|e| anyhow!("notification.webhook_signing_key: {e}"))?,
            )
        };
        let reply_to = if c.reply_to.is_empty() { &c.email_from } else { &c.reply_to };
        let retry = RetryPolicy {
            base_delay: c.retry_base_delay.get(),
            max_delay: c.retry_max_delay.get(),
            max_attempts: c.retry_max_attempts,
        };
        retry.validate().map_err(|e| anyhow!("notification.retry_{e}"))?;
        let rate_limit = (c.rate_limit_max > 0).then_some(()).map(|()| -> anyhow::Result<RateLimit> {
            Ok(RateLimit { max: c.rate_limit_max, window: c.rate_limit_window.get() })
        });
        let quiet_hours =
            c.quiet_hours_minutes()?.map(|(start_minute, end_minute)| QuietHours { start_minute, end_minute });
        let quiet_time_zone = jiff::tz::TimeZone::get(c.quiet_hours_time_zone.trim()).map_err(|e| {
            anyhow!("notification.quiet_hours_time_zone: {:?} is not an IANA time zone: {e}", c.quiet_hours_time_zone)
        })?;
        let default_locale = crate::domain::Locale::parse(&c.default_locale)
            .map_err(|e| anyhow!("notification.default_locale: {e}"))?
            .to_string();
        Ok(Self {
            smtp,
            email_from: c.email_from.clone(),
            reply_to: mailbox_address(reply_to).to_string(),
            organisation_name: c.organisation_name.clone(),
            survey_url: c.survey_url.clone(),
            sms,
            webhook_secret,
            allow_http: c.allow_http,
            http_timeout: c.http_timeout.get(),
            retry,
            workers: c.workers,
            batch_size: c.batch_size,
            claim_lease: c.claim_lease.get(),
            poll_interval: c.poll_interval.get(),
            rate_limit: rate_limit.transpose()?,
            quiet_hours,
            quiet_time_zone,
            default_locale,
            default_rules: c.default_rules,
            survey_delay: c.survey_delay.get(),
        })
    }

    /// The survey link for a case.
    pub fn survey_link(&self, reference: &str, case_id: &str) -> String {
        if self.survey_url.is_empty() {
            let subject: String =
                url::form_urlencoded::byte_serialize(format!("Feedback on {reference}").as_bytes()).collect();
            format!("mailto:{}?subject={}", self.reply_to, subject.replace('+', "%20"))
        } else {
            let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            self.survey_url.replace("{reference}", &encode(reference)).replace("{case}", &encode(case_id))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_say_host_port_tls_and_credentials() {
        let t = Duration::from_secs(5);
        let plain = SmtpSettings::parse("smtp://127.0.0.1:2525", "", "", t, 4).expect("parses");
        assert_eq!((plain.host.as_str(), plain.port, plain.tls), ("127.0.0.1", 2525, TlsMode::None));
        let submission =
            SmtpSettings::parse("smtp://mailer:p%40ss@mail.example.com?tls=starttls", "", "", t, 4).expect("parses");
        assert_eq!((submission.port, submission.tls), (587, TlsMode::StartTls));
        assert_eq!((submission.username.as_str(), submission.password.as_str()), ("mailer", "p@ss"));
        let smtps = SmtpSettings::parse("smtps://mail.example.com", "u", "p", t, 4).expect("parses");
        assert_eq!((smtps.port, smtps.tls, smtps.username.as_str()), (465, TlsMode::Tls, "u"));
        assert!(SmtpSettings::parse("smtp://mail?tls=sometimes", "", "", t, 4).is_err());
    }

    #[test]
    fn the_defaults_parse_and_survey_links_are_built() {
        let mut config = Config::default();
        let settings = Settings::from_config(&config).expect("defaults");
        assert!(settings.smtp.is_none() && settings.sms.is_none() && settings.webhook_secret.is_none());
        assert_eq!(settings.reply_to, "care@localhost.localdomain");
        assert_eq!(
            settings.survey_link("RD-1", "c1"),
            "mailto:care@localhost.localdomain?subject=Feedback%20on%20RD-1"
        );
        config.notification.survey_url = "https://survey.example.com/s?ref={reference}".into();
        config.notification.rate_limit_max = 0;
        config.notification.quiet_hours_start = String::new();
        config.notification.quiet_hours_end = String::new();
        let settings = Settings::from_config(&config).expect("parses");
        assert_eq!(settings.survey_link("RD 1", "c1"), "https://survey.example.com/s?ref=RD+1");
        assert!(settings.rate_limit.is_none() && settings.quiet_hours.is_none());
    }
}
