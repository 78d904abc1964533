//! Email over SMTP with lettre: pooled connections, STARTTLS or TLS as configured, and a
//! Message-ID fixed when the notification was accepted, so every attempt of one notification
//! carries the same one and receivers can drop duplicates.

use anyhow::Context as _;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::{self, PoolConfig};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::AttemptError;
use super::Prepared;
use crate::domain::DeliveryFailure;
use crate::settings::{SmtpSettings, TlsMode, mailbox_address};

/// The header naming the notification an email delivers.
pub const NOTIFICATION_HEADER: &str = "X-Redress-Notification";
/// The header carrying the case reference.
pub const CASE_HEADER: &str = "X-Redress-Case";

/// Sends email through one SMTP server.
pub struct EmailChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    reply_to: Mailbox,
}

/// The domain of a Message-ID for mail from `from`: the sender's domain.
pub fn message_id_domain(from: &str) -> String {
    mailbox_address(from).rsplit_once('@').map_or("redress.invalid", |(_, domain)| domain).to_ascii_lowercase()
}

/// The Message-ID of a notification: `<{id}@{domain}>`.
pub fn message_id(id: uuid::Uuid, from: &str) -> String {
    format!("<{}@{}>", id.simple(), message_id_domain(from))
}

impl EmailChannel {
    /// A channel to the server in `smtp`, sending from `from` with replies to `reply_to`.
    pub fn new(smtp: &SmtpSettings, from: &str, reply_to: &str) -> anyhow::Result<Self> {
        let from: Mailbox = from.parse().context("notification.email_from is not a mailbox")?;
        let reply_to: Mailbox = reply_to.parse().context("notification.reply_to is not a mailbox")?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str()).port(smtp.port);
        let tls = |host: &str| TlsParameters::new(host.to_string()).context("notification.smtp_url: TLS parameters");
        builder = match smtp.tls {
            TlsMode::None => builder.tls(Tls::None),
            TlsMode::StartTls => builder.tls(Tls::Required(tls(&smtp.host)?)),
            TlsMode::Opportunistic => builder.tls(Tls::Opportunistic(tls(&smtp.host)?)),
            TlsMode::Tls => builder.tls(Tls::Wrapper(tls(&smtp.host)?)),
        };
        if !smtp.username.is_empty() {
            builder = builder.credentials(Credentials::new(smtp.username.clone(), smtp.password.clone()));
        }
        let transport = builder
            .timeout(Some(smtp.timeout))
            .hello_name(ClientId::Domain(message_id_domain(from.email.as_ref())))
            .pool_config(PoolConfig::new().max_size(smtp.pool_size))
            .build();
        Ok(Self { transport, from, reply_to })
    }

    /// Sends one email; the error says whether it is worth trying again.
    pub async fn send(&self, prepared: &Prepared, message_id: &str, notification: &str) -> Result<(), AttemptError> {
        let message = self.message(prepared, message_id, notification)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(error) => Err(sort(&error)),
        }
    }

    fn message(&self, prepared: &Prepared, message_id: &str, notification: &str) -> Result<Message, AttemptError> {
        let address = prepared
            .destination
            .parse()
            .map_err(|_| AttemptError::new(DeliveryFailure::InvalidDestination, "the email address is not valid"))?;
        let name = prepared.display_name.trim();
        let to = Mailbox::new((!name.is_empty()).then(|| name.to_string()), address);
        let builder = Message::builder()
            .from(self.from.clone())
            .reply_to(self.reply_to.clone())
            .to(to)
            .subject(prepared.subject.clone())
            .message_id(Some(message_id.to_string()))
            .date_now();
        let mut message = match &prepared.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(prepared.text.clone(), html.clone())),
            None => builder.singlepart(SinglePart::plain(prepared.text.clone())),
        }
        .map_err(|e| {
            AttemptError::new(DeliveryFailure::InvalidDestination, format!("the email cannot be built: {e}"))
        })?;
        let headers = message.headers_mut();
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str(NOTIFICATION_HEADER),
            notification.to_string(),
        ));
        if !prepared.case_reference.is_empty() {
            headers.insert_raw(HeaderValue::new(
                HeaderName::new_from_ascii_str(CASE_HEADER),
                prepared.case_reference.clone(),
            ));
        }
        Ok(message)
    }
}

/// Sorts an SMTP error: the server's 4xx is transient and 5xx permanent; timeouts and lost
/// connections are transient.
fn sort(error: &smtp::Error) -> AttemptError {
    let detail = one_line(&error.to_string());
    if let Some(code) = error.status() {
        let code = u16::from(code);
        return AttemptError::new(DeliveryFailure::Smtp { code }, format!("smtp {code}: {detail}"));
    }
    if error.is_timeout() {
        return AttemptError::new(DeliveryFailure::Timeout, format!("smtp timed out: {detail}"));
    }
    AttemptError::new(DeliveryFailure::Connection, format!("smtp connection failed: {detail}"))
}

/// An error text on one line, bounded.
fn one_line(text: &str) -> String {
    let mut line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if line.len() > 500 {
        let cut = (0..=500).rev().find(|i| line.is_char_boundary(*i)).unwrap_or(0);
        line.truncate(cut);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_stable_and_use_the_sender_domain() {
        let id = uuid::Uuid::now_v7();
        let first = message_id(id, "Customer Care <care@Acme.example>");
        assert_eq!(first, message_id(id, "Customer Care <care@Acme.example>"));
        assert!(first.starts_with('<') && first.ends_with("@acme.example>"), "{first}");
        assert_eq!(message_id_domain("nobody"), "redress.invalid");
    }
}
