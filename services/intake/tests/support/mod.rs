//! A real case service and a real intake service, each on its own 127.0.0.1 port, in the
//! two shapes redress runs in: production (PostgreSQL and Redis) and embedded (SQLite files,
//! no Redis, in-process rate limit and locks). Intake talks to the case service over gRPC.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use redress_kit::Config;
use redress_kit::server::{Component, ServerOptions};
use redress_proto::case::v1::case_service_client::CaseServiceClient;
use redress_proto::case::v1::{Case, ListCasesRequest};
use redress_proto::common::v1::{Channel, Customer};
use redress_proto::intake::v1::intake_service_client::IntakeServiceClient;
use redress_proto::intake::v1::*;
use redress_testkit::{Backend, TestStore};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel as GrpcChannel;
use tonic::{Code, Request, Status};

/// One server: where it listens and how to stop it.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Serves `component` on `listener`.
    pub fn serve(listener: tokio::net::TcpListener, component: Component) -> Self {
        let addr = listener.local_addr().expect("addr");
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let task = tokio::spawn(async move {
            redress_kit::server::serve(listener, vec![component], &ServerOptions::default(), token).await
        });
        Running { addr, shutdown, task }
    }

    /// Stops the server and waits for it.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.task.await;
    }
}

/// Starts the case service on `listener` over the database at `url`.
pub async fn start_case(url: &str, listener: tokio::net::TcpListener) -> Running {
    let mut config = Config::default();
    config.database.url = url.to_string();
    config.database.max_connections = 16;
    let options = redress_case::Options::from_config(&config).expect("case options");
    let component = redress_case::build(options).await.expect("case build").into_component();
    Running::serve(listener, component)
}

/// Binds a fresh port on 127.0.0.1.
pub async fn listener() -> tokio::net::TcpListener {
    redress_kit::server::bind("127.0.0.1:0".parse().expect("addr")).await.expect("bind")
}

/// The case service and intake in front of it.
pub struct Stack {
    /// The case service.
    pub case: Running,
    /// The intake service.
    pub intake: Running,
    /// The configuration intake was started with, to start more replicas.
    pub config: Config,
    /// Whether this stack runs with Redis.
    pub redis: bool,
    /// The case service's database.
    pub case_store: TestStore,
    /// Intake's database.
    pub intake_store: TestStore,
}

impl Stack {
    /// PostgreSQL and Redis (production), or SQLite and no Redis (embedded).
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    /// As [`Stack::start`], with intake's configuration adjusted.
    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        let case_store = TestStore::create(backend).await;
        let case = start_case(&case_store.url, listener().await).await;
        let intake_store = TestStore::create(backend).await;
        let mut config = Config::default();
        config.database.url = intake_store.url.clone();
        config.database.max_connections = 16;
        config.peers.case = format!("http://{}", case.addr);
        config.client.backoff_base = "10ms".into();
        config.client.backoff_max = "200ms".into();
        // Tests submit quickly; the rate-limit test sets its own limit.
        config.intake.rate_limit_per_second = 10_000.0;
        config.intake.rate_limit_burst = 10_000;
        let redis = backend == Backend::Postgres;
        if redis {
            config.redis.url = redress_testkit::redis_url();
            config.redis.key_prefix = redress_testkit::redis_prefix().await;
        }
        adjust(&mut config);
        let intake = start_intake(&config, listener().await).await;
        wait_serving(intake.addr).await;
        Stack { case, intake, config, redis, case_store, intake_store }
    }

    /// A client of intake acting for `tenant`.
    pub async fn intake_client(&self, tenant: &str) -> Intake {
        Intake::connect(self.intake.addr, tenant).await
    }

    /// A client of the case service acting as a supervisor of `tenant`.
    pub async fn case_client(&self, tenant: &str) -> Cases {
        let channel = connect(self.case.addr).await;
        Cases { inner: CaseServiceClient::new(channel), tenant: tenant.into() }
    }

    /// Stops both servers.
    pub async fn stop(self) {
        self.intake.stop().await;
        self.case.stop().await;
    }
}

/// Starts intake with `config` on `listener`.
pub async fn start_intake(config: &Config, listener: tokio::net::TcpListener) -> Running {
    let options = redress_intake::Options::from_config(config).expect("intake options");
    let component = redress_intake::build(options).await.expect("intake build").into_component();
    Running::serve(listener, component)
}

/// A connected channel to `addr`.
pub async fn connect(addr: SocketAddr) -> GrpcChannel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect")
}

/// Waits until intake reports SERVING: its database, the case service (and Redis) answer.
pub async fn wait_serving(addr: SocketAddr) {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let mut health = HealthClient::new(connect(addr).await);
    for _ in 0..100 {
        let request = HealthCheckRequest { service: "redress.intake.v1.IntakeService".into() };
        if let Ok(answer) = health.check(request).await
            && answer.into_inner().status == ServingStatus::Serving as i32
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("intake at {addr} did not become SERVING within 10 s");
}

/// An intake client for one tenant.
#[derive(Clone)]
pub struct Intake {
    /// The generated client.
    pub inner: IntakeServiceClient<GrpcChannel>,
    /// `x-redress-tenant`.
    pub tenant: String,
}

impl Intake {
    /// Connects to intake at `addr` as `tenant`.
    pub async fn connect(addr: SocketAddr, tenant: &str) -> Self {
        Intake { inner: IntakeServiceClient::new(connect(addr).await), tenant: tenant.into() }
    }

    fn req<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        request.metadata_mut().insert("x-redress-tenant", self.tenant.parse().expect("tenant"));
        request.metadata_mut().insert("x-redress-actor", "crm-connector".parse().expect("actor"));
        request.metadata_mut().insert("x-redress-roles", "integration".parse().expect("roles"));
        request
    }

    /// The tenant's parent name.
    pub fn parent(&self) -> String {
        format!("tenants/{}", self.tenant)
    }

    /// Submits a complaint under `request_id`.
    pub async fn complaint(
        &mut self,
        complaint: Complaint,
        request_id: &str,
    ) -> Result<SubmitComplaintResponse, Status> {
        let request =
            SubmitComplaintRequest { parent: self.parent(), complaint: Some(complaint), request_id: request_id.into() };
        let req = self.req(request);
        self.inner.submit_complaint(req).await.map(|r| r.into_inner())
    }

    /// Submits a survey answer under `request_id`.
    pub async fn survey(
        &mut self,
        response: SurveyResponse,
        request_id: &str,
    ) -> Result<SubmitSurveyResponseResponse, Status> {
        let request = SubmitSurveyResponseRequest {
            parent: self.parent(),
            survey_response: Some(response),
            request_id: request_id.into(),
        };
        let req = self.req(request);
        self.inner.submit_survey_response(req).await.map(|r| r.into_inner())
    }

    /// Submits a review under `request_id`.
    pub async fn review(&mut self, review: Review, request_id: &str) -> Result<SubmitReviewResponse, Status> {
        let request =
            SubmitReviewRequest { parent: self.parent(), review: Some(review), request_id: request_id.into() };
        let req = self.req(request);
        self.inner.submit_review(req).await.map(|r| r.into_inner())
    }
}

/// A case service client acting as a supervising agent of one tenant.
#[derive(Clone)]
pub struct Cases {
    /// The generated client.
    pub inner: CaseServiceClient<GrpcChannel>,
    /// `x-redress-tenant`.
    pub tenant: String,
}

impl Cases {
    /// Wraps a message with this client's identity.
    pub fn req<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        let md = request.metadata_mut();
        md.insert("x-redress-tenant", self.tenant.parse().expect("tenant"));
        md.insert("x-redress-actor", "agent-7".parse().expect("actor"));
        md.insert("x-redress-roles", "agent,supervisor".parse().expect("roles"));
        request
    }

    /// Every case of the tenant.
    pub async fn all(&mut self) -> Vec<Case> {
        let request =
            ListCasesRequest { parent: format!("tenants/{}", self.tenant), page_size: 1000, ..Default::default() };
        let req = self.req(request);
        self.inner.list_cases(req).await.expect("list").into_inner().cases
    }

    /// One case.
    pub async fn get(&mut self, name: &str) -> Case {
        let req = self.req(redress_proto::case::v1::GetCaseRequest { name: name.into() });
        self.inner.get_case(req).await.expect("get").into_inner().case.expect("case")
    }
}

/// A customer with an id, an email and a phone.
pub fn customer(id: &str) -> Customer {
    Customer {
        customer_id: id.into(),
        display_name: "Ana Silva".into(),
        email: "ana@example.com".into(),
        phone: "+447700900123".into(),
        ..Customer::default()
    }
}

/// A complaint from `customer_id` on `channel` in the customer's words.
pub fn complaint(customer_id: &str, channel: Channel, description: &str) -> Complaint {
    Complaint {
        customer: Some(customer(customer_id)),
        channel: channel as i32,
        description: description.into(),
        desired_outcome: "a refund".into(),
        ..Complaint::default()
    }
}

/// A fresh request id.
pub fn request_id() -> String {
    uuid::Uuid::now_v7().to_string()
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
