//! Real services on 127.0.0.1:0 for the tests: the notification service (and the case service
//! it reads events from) over PostgreSQL or SQLite, clients that speak as a tenant, and the
//! SMTP and HTTP servers deliveries go to.

#![allow(dead_code)]

pub mod sinks;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use redress_kit::Config;
use redress_kit::server::{Component, ServerOptions};
use redress_proto::case::v1::case_service_client::CaseServiceClient;
use redress_proto::case::v1::{Case, CreateCaseRequest};
use redress_proto::common::v1::{Channel, Customer};
use redress_proto::notification::v1::notification_service_client::NotificationServiceClient;
use redress_proto::notification::v1::*;
use redress_testkit::{Backend, TestStore};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel as GrpcChannel;
use tonic::{Code, Request, Status};

/// The signing key tests configure for webhooks.
pub const WEBHOOK_KEY: &str = "whsec_test_key";

/// A running server with one component.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    async fn serve(component: Component) -> Self {
        let listener = redress_kit::server::bind("127.0.0.1:0".parse().expect("addr")).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let task = tokio::spawn(async move {
            redress_kit::server::serve(listener, vec![component], &ServerOptions::default(), token).await
        });
        Self { addr, shutdown, task }
    }

    /// Stops the server and waits for it.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.task.await;
    }

    async fn channel(&self) -> GrpcChannel {
        tonic::transport::Endpoint::from_shared(format!("http://{}", self.addr))
            .expect("endpoint")
            .connect()
            .await
            .expect("connect")
    }
}

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
        let store = TestStore::create(backend).await;
        let mut config = Config::default();
        config.database.url = store.url.clone();
        let options = redress_case::Options::from_config(&config).expect("case options");
        let component = redress_case::build(options).await.expect("build case").into_component();
        Self { running: Running::serve(component).await, store }
    }

    /// `http://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("http://{}", self.running.addr)
    }

    /// A client acting as `actor` of `tenant` with `roles`.
    pub async fn client(&self, tenant: &str, actor: &str, roles: &str) -> Caller<CaseServiceClient<GrpcChannel>> {
        Caller::new(CaseServiceClient::new(self.running.channel().await), tenant, actor, roles)
    }
}

/// A test configuration: a database, fast retries, quiet hours and rate limits off, HTTP
/// allowed, the test signing key, every peer unreachable unless set.
pub fn config(store: &TestStore) -> Config {
    let mut config = Config::default();
    config.database.url = store.url.clone();
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
        let options = redress_notification::Options::from_config(&config).expect("notification options");
        let component = redress_notification::build(options).await.expect("build notification").into_component();
        Self { running: Running::serve(component).await, store }
    }

    /// A client acting as `actor` of `tenant` with `roles`.
    pub async fn client(&self, tenant: &str, actor: &str, roles: &str) -> Client {
        Caller::new(NotificationServiceClient::new(self.running.channel().await), tenant, actor, roles)
    }
}

/// A generated client with an identity.
#[derive(Clone)]
pub struct Caller<C> {
    /// The generated client.
    pub inner: C,
    /// `x-redress-tenant`.
    pub tenant: String,
    /// `x-redress-actor`.
    pub actor: String,
    /// `x-redress-roles`.
    pub roles: String,
}

/// A notification service client with an identity.
pub type Client = Caller<NotificationServiceClient<GrpcChannel>>;

impl<C> Caller<C> {
    fn new(inner: C, tenant: &str, actor: &str, roles: &str) -> Self {
        Self { inner, tenant: tenant.into(), actor: actor.into(), roles: roles.into() }
    }

    /// Wraps a message with this client's identity.
    pub fn req<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        let md = request.metadata_mut();
        md.insert("x-redress-tenant", self.tenant.parse().expect("tenant"));
        md.insert("x-redress-actor", self.actor.parse().expect("actor"));
        if !self.roles.is_empty() {
            md.insert("x-redress-roles", self.roles.parse().expect("roles"));
        }
        request
    }

    /// The tenant's parent name.
    pub fn parent(&self) -> String {
        format!("tenants/{}", self.tenant)
    }
}

impl Caller<CaseServiceClient<GrpcChannel>> {
    /// Opens a case with a fresh request_id.
    pub async fn open(&mut self, case: Case) -> Case {
        let request =
            CreateCaseRequest { parent: self.parent(), case: Some(case), request_id: uuid::Uuid::now_v7().to_string() };
        let req = self.req(request);
        self.inner.create_case(req).await.expect("create case").into_inner().case.expect("case")
    }
}

impl Client {
    /// Sends `notification` with `request_id`.
    pub async fn send(&mut self, request_id: &str, notification: Notification) -> Result<Notification, Status> {
        let req = self.req(SendNotificationRequest {
            parent: self.parent(),
            notification: Some(notification),
            request_id: request_id.into(),
        });
        Ok(self.inner.send_notification(req).await?.into_inner().notification.unwrap_or_default())
    }

    /// Reads a notification.
    pub async fn get(&mut self, name: &str) -> Notification {
        let req = self.req(GetNotificationRequest { name: name.into() });
        self.inner.get_notification(req).await.expect("get").into_inner().notification.expect("notification")
    }

    /// Every notification matching the filter (all pages).
    pub async fn all(&mut self, case: &str, recipient: &str, status: DeliveryStatus) -> Vec<Notification> {
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

    /// Waits until the notification reaches `status`, or `timeout`; returns it as last read.
    pub async fn wait_status(&mut self, name: &str, status: DeliveryStatus, timeout: Duration) -> Notification {
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

/// Asserts INVALID_ARGUMENT with a field violation naming `field`.
pub fn assert_invalid(status: &Status, field: &str) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    use tonic_types::StatusExt;
    let details = status.get_error_details();
    let fields: Vec<String> =
        details.bad_request().map(|b| b.field_violations.iter().map(|f| f.field.clone()).collect()).unwrap_or_default();
    assert!(
        fields.iter().any(|f| f == field),
        "expected a violation on {field:?}, got {fields:?}: {}",
        status.message()
    );
}
