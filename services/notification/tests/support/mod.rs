//! Real services on 127.0.0.1:0 for the tests: the notification service (and the case service
//! it reads events from) over PostgreSQL or SQLite, clients that speak as a tenant, and the
//! SMTP and HTTP servers deliveries go to.

#![allow(dead_code, reason = "each test binary uses a part of this module")]

pub mod sinks;

use std::time::{Duration, Instant};

use redress_kit::Config;
use redress_proto::case::v1::Case;
use redress_proto::common::v1::{Channel, Customer};
use redress_proto::notification::v1::*;
use redress_testkit::{Backend, CaseClient, NotificationClient, Running, Server, TestStore, component};
use tonic::Status;

/// The signing key tests configure for webhooks.
pub const WEBHOOK_KEY: &str = "whsec_test_key";

/// A real case service on a fresh database.
pub struct CaseServer {
    /// The server.
    pub running: Running,
    /// Its database.
    pub store: TestStore,
}

impl CaseServer {
    /// Starts the case service.
    pub async fn start(backend: Backend) -> Self {
        let Server { running, store } =
            Server::start(backend, |_| {}, async |config| component!(redress_case, config)).await;
        Self { running, store }
    }

    /// `http://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        self.running.url()
    }

    /// A client acting as `actor` of `tenant` with `roles`.
    pub async fn client(&self, tenant: &str, actor: &str, roles: &str) -> CaseClient {
        CaseClient::connect(self.running.addr, tenant, actor, roles).await
    }
}

/// A test configuration: a database, fast retries, quiet hours and rate limits off, HTTP
/// allowed, the test signing key, every peer unreachable unless set.
pub fn config(store: &TestStore) -> Config {
    let mut config = store.config();
    let n = &mut config.notification;
    n.allow_http = true;
    n.webhook_signing_key = WEBHOOK_KEY.into();
    n.retry_base_delay = "200ms".into();
    n.retry_max_delay = "1s".into();
    n.retry_max_attempts = 5;
    n.smtp_timeout = "5s".into();
    n.http_timeout = "5s".into();
    n.claim_lease = "10s".into();
    n.poll_interval = "200ms".into();
    n.rate_limit_max = 0;
    n.quiet_hours_start = String::new();
    n.quiet_hours_end = String::new();
    n.reply_to = "Care Team <care@acme.example>".into();
    n.email_from = "Acme Care <noreply@acme.example>".into();
    n.organisation_name = "Acme".into();
    n.survey_url = "https://survey.acme.example/{reference}".into();
    config.peers.case = "http://127.0.0.1:9".into();
    config.peers.escalation = "http://127.0.0.1:9".into();
    config.client.max_retries = 1;
    config.client.timeout = "2s".into();
    config.client.connect_timeout = "1s".into();
    config
}

/// A real notification service.
pub struct NotificationServer {
    /// The server.
    pub running: Running,
    /// Its database (kept alive while it runs).
    pub store: TestStore,
}

impl NotificationServer {
    /// Starts the notification service on a fresh database, with `adjust` applied to the test
    /// configuration.
    pub async fn start(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        let store = TestStore::create(backend).await;
        let mut config = config(&store);
        adjust(&mut config);
        config.validate().expect("a valid configuration");
        Self { running: Running::serve(component!(redress_notification, config)).await, store }
    }

    /// A client acting as `actor` of `tenant` with `roles`.
    pub async fn client(&self, tenant: &str, actor: &str, roles: &str) -> NotificationClient {
        NotificationClient::connect(self.running.addr, tenant, actor, roles).await
    }
}

/// What the tests ask of the notification service.
pub trait Notifications {
    /// Sends `notification` with `request_id`.
    async fn send(&mut self, request_id: &str, notification: Notification) -> Result<Notification, Status>;

    /// Reads a notification.
    async fn get(&mut self, name: &str) -> Notification;

    /// Every notification matching the filter (all pages).
    async fn all(&mut self, case: &str, recipient: &str, status: DeliveryStatus) -> Vec<Notification>;

    /// Waits until the notification reaches `status`, or `timeout`; returns it as last read.
    async fn wait_status(&mut self, name: &str, status: DeliveryStatus, timeout: Duration) -> Notification;
}

impl Notifications for NotificationClient {
    async fn send(&mut self, request_id: &str, notification: Notification) -> Result<Notification, Status> {
        let req = self.req(SendNotificationRequest {
            parent: self.parent(),
            notification: Some(notification),
            request_id: request_id.into(),
        });
        Ok(self.inner.send_notification(req).await?.into_inner().notification.unwrap_or_default())
    }

    async fn get(&mut self, name: &str) -> Notification {
        let req = self.req(GetNotificationRequest { name: name.into() });
        self.inner.get_notification(req).await.expect("get").into_inner().notification.expect("notification")
    }

    async fn all(&mut self, case: &str, recipient: &str, status: DeliveryStatus) -> Vec<Notification> {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let req = self.req(ListNotificationsRequest {
                parent: self.parent(),
                case: case.into(),
                recipient: recipient.into(),
                status: status as i32,
                page_size: 1000,
                page_token: token,
            });
            let page = self.inner.list_notifications(req).await.expect("list").into_inner();
            out.extend(page.notifications);
            if page.next_page_token.is_empty() {
                return out;
            }
            token = page.next_page_token;
        }
    }

    async fn wait_status(&mut self, name: &str, status: DeliveryStatus, timeout: Duration) -> Notification {
        let deadline = Instant::now() + timeout;
        loop {
            let n = self.get(name).await;
            if n.status == status as i32 || Instant::now() > deadline {
                return n;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// An email with a finished body to `to`.
pub fn email(to: &str, subject: &str, text: &str) -> Notification {
    Notification {
        recipient: Some(Recipient { recipient: Some(recipient::Recipient::Address(to.into())) }),
        channel: NotificationChannel::Email as i32,
        content: Some(notification::Content::Body(MessageBody {
            subject: subject.into(),
            text: text.into(),
            html: String::new(),
        })),
        ..Notification::default()
    }
}

/// A complaint from a customer with `display_name`, `email` and `locale`.
pub fn complaint(display_name: &str, email: &str, locale: &str) -> Case {
    Case {
        customer: Some(Customer {
            customer_id: "cust-42".into(),
            display_name: display_name.into(),
            email: email.into(),
            locale: locale.into(),
            ..Customer::default()
        }),
        channel: Channel::Email as i32,
        subject: "Kettle never arrived".into(),
        description: "I ordered a kettle three weeks ago. It never arrived and nobody answers my emails.".into(),
        desired_outcome: "a refund".into(),
        category: "delivery".into(),
        ..Case::default()
    }
}
