//! Webhooks and SMS over HTTP: hyper's pooled HTTP/1 client with rustls (HTTPS only unless
//! `notification.allow_http`), a timeout on every request, redirects never followed.
//!
//! A webhook is a JSON POST signed with HMAC-SHA256 (`x-redress-timestamp`,
//! `x-redress-signature`; see `domain::signing`), signed afresh on every attempt, with the same
//! body and `idempotency-key` every time. An SMS is a Twilio-style form POST (`To`, `From`,
//! `Body`) with basic authentication.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::AttemptError;
use crate::domain::{DeliveryFailure, WebhookSecret, sign};
use crate::settings::SmsSettings;

/// The header carrying a delivery's idempotency key: the notification id, the same on every attempt.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// The header naming the notification.
pub const NOTIFICATION_HEADER: &str = "x-redress-notification";
/// The most of a response body read (and then dropped), so connections can be reused.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Posts webhooks and SMS.
pub struct HttpChannel {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
    allow_http: bool,
    secret: Option<WebhookSecret>,
    sms: Option<SmsSettings>,
}

impl HttpChannel {
    /// A client with `timeout` per request.
    pub fn new(
        timeout: Duration,
        allow_http: bool,
        secret: Option<WebhookSecret>,
        sms: Option<SmsSettings>,
    ) -> anyhow::Result<Self> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        http.set_nodelay(true);
        let tls = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())?;
        let tls = if allow_http { tls.https_or_http() } else { tls.https_only() };
        let connector = tls.enable_http1().wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(32)
            .build(connector);
        Ok(Self { client, timeout, allow_http, secret, sms })
    }

    /// Signs and posts `body` (JSON) to `url`.
    pub async fn webhook(&self, url: &str, body: Vec<u8>, notification: &str, id: &str) -> Result<(), AttemptError> {
        let Some(secret) = &self.secret else {
            return Err(AttemptError::permanent("webhooks are not configured: set notification.webhook_signing_key"));
        };
        let signed = sign(secret, chrono::Utc::now().timestamp(), &body);
        let mut request = self.request(url)?.header(header::CONTENT_TYPE, "application/json");
        for (name, value) in signed.pairs() {
            request = request.header(name, value);
        }
        request = request.header(NOTIFICATION_HEADER, notification).header(IDEMPOTENCY_HEADER, id);
        self.send(request, body, "webhook").await
    }

    /// Sends `text` to the phone number `to` through the SMS provider.
    pub async fn sms(&self, to: &str, text: &str, id: &str) -> Result<(), AttemptError> {
        let Some(sms) = &self.sms else {
            return Err(AttemptError::permanent("SMS is not configured: set notification.sms_url"));
        };
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("To", to)
            .append_pair("From", &sms.from)
            .append_pair("Body", text)
            .finish();
        let auth = STANDARD.encode(format!("{}:{}", sms.account, sms.token));
        let request = self
            .request(&sms.url)?
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::AUTHORIZATION, format!("Basic {auth}"))
            .header(IDEMPOTENCY_HEADER, id);
        self.send(request, form.into_bytes(), "sms provider").await
    }

    fn request(&self, url: &str) -> Result<http::request::Builder, AttemptError> {
        let parsed = url::Url::parse(url)
            .map_err(|_| AttemptError::new(DeliveryFailure::InvalidDestination, "the URL is not valid"))?;
        match parsed.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            other => {
                return Err(AttemptError::new(
                    DeliveryFailure::InvalidDestination,
                    format!("{other}:// is not allowed; use https://"),
                ));
            }
        }
        Ok(Request::builder().method(Method::POST).uri(url).header(header::USER_AGENT, "redress-notification"))
    }

    async fn send(&self, request: http::request::Builder, body: Vec<u8>, what: &str) -> Result<(), AttemptError> {
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| AttemptError::new(DeliveryFailure::InvalidDestination, format!("{what}: {e}")))?;
        let exchange = async {
            let response = self.client.request(request).await?;
            let status = response.status();
            let retry_after =
                response.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(retry_after);
            // Read what little the receiver says so the connection can be reused; its content is not kept.
            let _ = Limited::new(response.into_body(), MAX_RESPONSE_BYTES).collect().await;
            Ok::<_, hyper_util::client::legacy::Error>((status, retry_after))
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Err(_) => Err(AttemptError::new(
                DeliveryFailure::Timeout,
                format!("{what} did not answer within {:?}", self.timeout),
            )),
            Ok(Err(e)) if e.is_connect() => {
                Err(AttemptError::new(DeliveryFailure::Connection, format!("{what} unreachable: {}", chain(&e))))
            }
            Ok(Err(e)) => Err(AttemptError::new(DeliveryFailure::Connection, format!("{what}: {}", chain(&e)))),
            Ok(Ok((status, _))) if status.is_success() => Ok(()),
            Ok(Ok((status, retry_after))) => Err(AttemptError::new(
                DeliveryFailure::Http { status: status.as_u16(), retry_after },
                format!("{what} answered {}", describe(status)),
            )),
        }
    }
}

/// An error with its causes, on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn describe(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// A `Retry-After` value: seconds, or an HTTP date.
fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).to_std().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        assert_eq!(retry_after("30"), Some(Duration::from_secs(30)));
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None, "in the past");
        let later = (chrono::Utc::now() + chrono::Duration::seconds(120)).to_rfc2822();
        assert!(retry_after(&later).is_some_and(|d| d > Duration::from_secs(100)));
        assert_eq!(retry_after("soon"), None);
    }

    #[tokio::test]
    async fn plain_http_is_refused_unless_allowed() {
        let channel = HttpChannel::new(Duration::from_secs(1), false, None, None).expect("client");
        let err = channel.request("http://127.0.0.1:9/hook").expect_err("refused");
        assert_eq!(err.failure, DeliveryFailure::InvalidDestination);
        let err = channel.webhook("https://127.0.0.1:9/hook", b"{}".to_vec(), "n", "i").await.expect_err("no secret");
        assert!(err.message.contains("notification.webhook_signing_key"), "{}", err.message);
    }
}
