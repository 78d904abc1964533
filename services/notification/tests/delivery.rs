//! Delivery against real servers, on PostgreSQL and SQLite: opening a case (on a real case
//! service) emails the customer the acknowledgement with the apology, the case reference, the
//! customer's name HTML-escaped and a Message-ID, in their language or the fallback; webhooks
//! arrive signed and verify, and a tampered one does not; SMS reach the provider as a form;
//! a permanent failure is dead-lettered with its error; the same request_id never sends twice.

mod support;

use std::time::Duration;

use redress_notification::domain::signing::{SIGNATURE_HEADER, TIMESTAMP_HEADER};
use redress_notification::domain::{SignatureError, WebhookSecret, verify};
use redress_proto::notification::v1::*;
use redress_testkit::{Backend, on_both_backends};
use support::sinks::{HttpSink, SmtpBehaviour, SmtpSink};
use support::{CaseServer, NotificationServer, Notifications, WEBHOOK_KEY, complaint, email};

on_both_backends!(
    opening_a_case_emails_the_acknowledgement,
    webhooks_are_signed_and_sms_reach_the_provider,
    permanent_failures_are_dead_lettered_and_retries_never_send_twice,
);

const WAIT: Duration = Duration::from_secs(20);

async fn opening_a_case_emails_the_acknowledgement(backend: Backend) {
    let smtp = SmtpSink::start(SmtpBehaviour::default()).await;
    let cases = CaseServer::start(backend).await;
    let (smtp_url, case_url) = (smtp.url(), cases.url());
    let server = NotificationServer::start(backend, |c| {
        c.notification.smtp_url = smtp_url;
        c.peers.case = case_url;
    })
    .await;
    let mut agent = cases.client("acme", "agent-7", "agent").await;
    let mut notifications = server.client("acme", "agent-7", "agent").await;

    let english = agent.create(complaint("Ana <b>Silva</b> & Co", "ana@example.com", "en-GB")).await;
    let french = agent.create(complaint("Éloïse", "eloise@example.fr", "fr-CA")).await;
    let german = agent.create(complaint("Jonas", "jonas@example.de", "de-DE")).await;
    let mails = smtp.wait_for(3, WAIT).await;
    assert_eq!(mails.len(), 3, "one acknowledgement per opened case");
    let to = |address: &str| mails.iter().find(|m| m.to == [address]).unwrap_or_else(|| panic!("a mail to {address}"));

    // English: the apology, the reference, a way back to a person, the name escaped in HTML.
    let mail = to("ana@example.com");
    let subject = mail.header("Subject").expect("subject");
    assert_eq!(subject, format!("We are sorry: your complaint {} is with us", english.reference));
    let text = mail.part("text/plain").expect("a text part");
    assert!(text.contains("We are sorry that we let you down"), "{text}");
    assert!(text.starts_with("Dear Ana <b>Silva</b> & Co,"), "plain text is not escaped: {text}");
    assert!(text.contains(&english.reference) && text.contains("care@acme.example"), "{text}");
    let html = mail.part("text/html").expect("an HTML part");
    assert!(html.contains("Dear Ana &lt;b&gt;Silva&lt;&#x2f;b&gt; &amp; Co,"), "{html}");
    assert!(!html.contains("<b>Silva"), "the customer's markup never reaches the HTML: {html}");
    assert!(mail.header("Reply-To").expect("reply-to").contains("care@acme.example"));
    assert_eq!(mail.header("X-Redress-Case").as_deref(), Some(english.reference.as_str()));

    // The Message-ID in the mail is the notification's, visible through the API.
    let listed = notifications.all(&english.name, "", DeliveryStatus::Unspecified).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let ack = &listed[0];
    assert_eq!(ack.status, DeliveryStatus::Delivered as i32);
    assert_eq!(ack.attempts, 1);
    assert_eq!(ack.destination, "ana@example.com");
    assert!(ack.message_id.starts_with('<') && ack.message_id.ends_with("@acme.example>"), "{}", ack.message_id);
    assert_eq!(mail.header("Message-ID").as_deref(), Some(ack.message_id.as_str()));
    assert_eq!(ack.rendered_subject, subject);
    assert!(ack.deliver_time.is_some() && ack.next_attempt_time.is_none());
    let by_recipient = notifications.all("", "ana@example.com", DeliveryStatus::Delivered).await;
    assert_eq!(by_recipient.len(), 1);

    // fr-CA has no template of its own: it falls back to French; German falls back to English.
    let mail = to("eloise@example.fr");
    let subject = mail.header("Subject").expect("subject");
    assert!(subject.starts_with("Toutes nos excuses") && subject.contains(&french.reference), "{subject}");
    assert!(mail.part("text/plain").expect("text").contains("désolés"));
    let mail = to("jonas@example.de");
    assert!(mail.header("Subject").expect("subject").starts_with("We are sorry"), "de-DE falls back to English");
    assert!(mail.part("text/plain").expect("text").contains(&german.reference));

    server.running.stop().await;
    cases.running.stop().await;
}

async fn webhooks_are_signed_and_sms_reach_the_provider(backend: Backend) {
    let hooks = HttpSink::start(vec![503, 200]).await;
    let sms = HttpSink::start(vec![201]).await;
    let sms_url = sms.url("/2010-04-01/Accounts/{account}/Messages.json");
    let server = NotificationServer::start(backend, |c| {
        c.notification.sms_url = sms_url;
        c.notification.sms_account = "AC123".into();
        c.notification.sms_token = "tok".into();
        c.notification.sms_from = "+15005550006".into();
    })
    .await;
    let mut client = server.client("acme", "system:escalation", "system").await;

    let hook = Notification {
        recipient: Some(Recipient { recipient: Some(recipient::Recipient::Address(hooks.url("/hooks/redress"))) }),
        channel: NotificationChannel::Webhook as i32,
        content: Some(notification::Content::Body(MessageBody {
            subject: "Case escalated".into(),
            text: "RD-1 breached its first response".into(),
            html: String::new(),
        })),
        priority: Priority::High as i32,
        ..Notification::default()
    };
    let sent = client.send("hook-1", hook).await.expect("send");
    let done = client.wait_status(&sent.name, DeliveryStatus::Delivered, WAIT).await;
    assert_eq!(done.status, DeliveryStatus::Delivered as i32, "{done:?}");
    assert_eq!(done.attempts, 2, "503 first, then delivered");
    assert!(done.last_error.contains("503"), "{}", done.last_error);

    let hits = hooks.hits();
    assert_eq!(hits.len(), 2);
    let secret = WebhookSecret::new(WEBHOOK_KEY.as_bytes()).expect("secret");
    let now = chrono::Utc::now().timestamp();
    for hit in &hits {
        assert_eq!((hit.method.as_str(), hit.path.as_str()), ("POST", "/hooks/redress"));
        let (timestamp, signature) = (&hit.headers[TIMESTAMP_HEADER], &hit.headers[SIGNATURE_HEADER]);
        assert_eq!(verify(&secret, timestamp, signature, &hit.body, now, Duration::from_secs(300)), Ok(()));
        assert_eq!(hit.headers["idempotency-key"], sent.name.rsplit('/').next().expect("id"));
    }
    assert_eq!(hits[0].body, hits[1].body, "every attempt carries the same body");
    let body: serde_json::Value = serde_json::from_slice(&hits[1].body).expect("JSON");
    assert_eq!(body["notification"], sent.name.as_str());
    assert_eq!(body["text"], "RD-1 breached its first response");
    assert_eq!(body["priority"], "PRIORITY_HIGH");

    // Tampering with the body, the timestamp or the key is refused; so is a replay much later.
    let hit = &hits[1];
    let (timestamp, signature) = (&hit.headers[TIMESTAMP_HEADER], &hit.headers[SIGNATURE_HEADER]);
    let mut tampered = hit.body.clone();
    let at = tampered.iter().position(|b| *b == b'R').expect("a byte to change");
    tampered[at] = b'X';
    let tolerance = Duration::from_secs(300);
    assert_eq!(verify(&secret, timestamp, signature, &tampered, now, tolerance), Err(SignatureError::Mismatch));
    let later = (timestamp.parse::<i64>().expect("seconds") + 1).to_string();
    assert_eq!(verify(&secret, &later, signature, &hit.body, now, tolerance), Err(SignatureError::Mismatch));
    let other = WebhookSecret::new(b"another key").expect("secret");
    assert_eq!(verify(&other, timestamp, signature, &hit.body, now, tolerance), Err(SignatureError::Mismatch));
    assert!(matches!(
        verify(&secret, timestamp, signature, &hit.body, now + 3600, tolerance),
        Err(SignatureError::Stale { .. })
    ));

    // SMS: a Twilio-style form POST with basic authentication.
    let text = Notification {
        recipient: Some(Recipient { recipient: Some(recipient::Recipient::Address("+447700900123".into())) }),
        channel: NotificationChannel::Sms as i32,
        content: Some(notification::Content::Body(MessageBody {
            text: "Your case RD-1 is resolved".into(),
            ..Default::default()
        })),
        ..Notification::default()
    };
    let sent = client.send("sms-1", text).await.expect("send");
    let done = client.wait_status(&sent.name, DeliveryStatus::Delivered, WAIT).await;
    assert_eq!(done.status, DeliveryStatus::Delivered as i32, "{done:?}");
    let hit = sms.hits().pop().expect("the provider was called");
    assert_eq!(hit.path, "/2010-04-01/Accounts/AC123/Messages.json");
    assert_eq!(hit.headers["content-type"], "application/x-www-form-urlencoded");
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode("AC123:tok");
    assert_eq!(hit.headers["authorization"], format!("Basic {auth}"));
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&hit.body).into_owned().collect();
    let field = |k: &str| form.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    assert_eq!(field("To"), Some("+447700900123"));
    assert_eq!(field("From"), Some("+15005550006"));
    assert_eq!(field("Body"), Some("Your case RD-1 is resolved"));

    server.running.stop().await;
}

async fn permanent_failures_are_dead_lettered_and_retries_never_send_twice(backend: Backend) {
    let smtp = SmtpSink::start(SmtpBehaviour { refuse: Some("bounce".into()), ..SmtpBehaviour::default() }).await;
    let gone = HttpSink::start(vec![410]).await;
    let smtp_url = smtp.url();
    let server = NotificationServer::start(backend, |c| c.notification.smtp_url = smtp_url).await;
    let mut client = server.client("acme", "agent-7", "agent").await;

    // A 550 from the SMTP server is permanent: dead-lettered at the first attempt, error visible.
    let sent = client.send("bounce-1", email("bounce@example.com", "Hello", "Hi")).await.expect("send");
    let dead = client.wait_status(&sent.name, DeliveryStatus::DeadLetter, WAIT).await;
    assert_eq!(dead.status, DeliveryStatus::DeadLetter as i32, "{dead:?}");
    assert_eq!(dead.attempts, 1);
    assert!(dead.last_error.contains("550") && dead.last_error.contains("permanent failure"), "{}", dead.last_error);
    assert_eq!(client.all("", "", DeliveryStatus::DeadLetter).await.len(), 1);

    // A 410 from a webhook receiver is permanent too.
    let hook = Notification {
        recipient: Some(Recipient { recipient: Some(recipient::Recipient::Address(gone.url("/gone"))) }),
        channel: NotificationChannel::Webhook as i32,
        content: Some(notification::Content::Body(MessageBody { text: "x".into(), ..Default::default() })),
        ..Notification::default()
    };
    let sent = client.send("gone-1", hook).await.expect("send");
    let dead = client.wait_status(&sent.name, DeliveryStatus::DeadLetter, WAIT).await;
    assert!(dead.last_error.contains("410"), "{}", dead.last_error);

    // Twenty concurrent sends with one request_id: one notification, one email.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let mut client = client.clone();
        tasks.push(tokio::spawn(
            async move { client.send("once", email("ana@example.com", "Once", "only once")).await },
        ));
    }
    let mut names = std::collections::HashSet::new();
    for task in tasks {
        names.insert(task.await.expect("join").expect("send").name);
    }
    assert_eq!(names.len(), 1, "one notification for one request_id");
    let name = names.into_iter().next().expect("a name");
    let done = client.wait_status(&name, DeliveryStatus::Delivered, WAIT).await;
    assert_eq!(done.status, DeliveryStatus::Delivered as i32);
    // A retry after delivery returns the delivered notification and sends nothing.
    let again = client.send("once", email("ana@example.com", "Once", "only once")).await.expect("send");
    assert_eq!((again.name.as_str(), again.status), (name.as_str(), DeliveryStatus::Delivered as i32));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mails: Vec<_> = smtp.mails().into_iter().filter(|m| m.to == ["ana@example.com"]).collect();
    assert_eq!(mails.len(), 1, "sent once");
    assert_eq!(mails[0].header("Message-ID").as_deref(), Some(done.message_id.as_str()));

    server.running.stop().await;
}
